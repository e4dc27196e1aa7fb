package node

import (
	"slices"
	"testing"
)

func TestPreferHost(t *testing.T) {
	addrs := []string{
		"/ip4/127.0.0.1/tcp/6001/p2p/QmX",
		"/ip4/172.18.0.2/tcp/6001/p2p/QmX",
	}
	got := preferHost(addrs, "172.18.0.2")
	if got[0] != addrs[1] || len(got) != 2 {
		t.Fatalf("an address on the URL's host goes first: %v", got)
	}
	// A node that only knows its loopback address, reached through another IP:
	// its port on the URL's host is tried first.
	got = preferHost(addrs[:1], "10.0.0.7")
	want := []string{"/ip4/10.0.0.7/tcp/6001/p2p/QmX", addrs[0]}
	if !slices.Equal(got, want) {
		t.Fatalf("preferHost = %v, want %v", got, want)
	}
	if !isHTTPURL("http://node1:3001") || isHTTPURL("/ip4/1.2.3.4/tcp/1/p2p/QmX") {
		t.Fatal("isHTTPURL")
	}
}
