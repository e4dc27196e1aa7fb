package libp2p

import (
	"os"
	"testing"
	"time"
)

// TestMDNSFindsPeer needs multicast on a real interface, which sends mDNS
// packets onto the local network; it runs only with CHAIND_LAN_TESTS=1.
func TestMDNSFindsPeer(t *testing.T) {
	if os.Getenv("CHAIND_LAN_TESTS") != "1" {
		t.Skip("sends multicast on the LAN; set CHAIND_LAN_TESTS=1 to run")
	}
	cfg := testConfig(testNet)
	cfg.MDNS = true
	cfg.Listen = "0.0.0.0:0"
	a := startHost(t, cfg, nil)
	b := startHost(t, cfg, nil)
	waitFor(t, 15*time.Second, "peer found by mDNS", func() bool { return hasPeer(a, b.Self()) && hasPeer(b, a.Self()) })
}

func TestMDNSServiceNameIsPerNetwork(t *testing.T) {
	a, b := mdnsServiceName("aaaa"), mdnsServiceName("bbbb")
	if a == b {
		t.Fatal("two networks share an mDNS service name")
	}
	long := mdnsServiceName(string(make([]byte, MaxNetworkIDLength)))
	if len(long) > 63 {
		t.Fatalf("service name %q longer than a DNS label", long)
	}
}
