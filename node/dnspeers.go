package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/chaind/chaind/p2p"
)

// Bounds of DNS peer discovery (Config.PeerDNS).
const (
	// MaxDNSPeers bounds the addresses taken from one name's answer.
	MaxDNSPeers = 64
	// dnsDialConcurrency bounds the API look-ups and dials of one round.
	dnsDialConcurrency = 8
)

// dnsPeers keeps the nodes behind DNS names connected: every address a
// name resolves to is another node's API (a Compose service's name, a
// Swarm service's tasks.<service>, a Kubernetes headless Service). It
// remembers which peer id each API URL turned out to have, for the
// addresses of the latest answers only.
type dnsPeers struct {
	names  []string // host:port
	lookup func(ctx context.Context, host string) ([]string, error)
	local  func() map[string]bool // this machine's own IPs

	mu    sync.Mutex
	known map[string]p2p.PeerID // API URL -> peer id
}

// checkPeerDNS validates a Config.PeerDNS entry: "name:port".
func checkPeerDNS(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil || host == "" || port == "" {
		return fmt.Errorf("peer DNS name %q: want name:port (the port of the nodes' API), e.g. tasks.chaind:3001", s)
	}
	return nil
}

func newDNSPeers(names []string) *dnsPeers {
	return &dnsPeers{
		names:  names,
		lookup: net.DefaultResolver.LookupHost,
		local:  localIPs,
		known:  make(map[string]p2p.PeerID),
	}
}

// localIPs returns the IP addresses of this machine's interfaces.
func localIPs() map[string]bool {
	out := map[string]bool{}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return out
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			out[ipn.IP.String()] = true
		}
	}
	return out
}

// urls resolves every name and returns the API URLs of the other nodes.
func (d *dnsPeers) urls(ctx context.Context, log func(msg string, args ...any)) []string {
	local := d.local()
	var out []string
	for _, name := range d.names {
		host, port, _ := net.SplitHostPort(name) // checked by checkPeerDNS
		ips, err := d.lookup(ctx, host)
		if err != nil {
			log("peer DNS name does not resolve (yet)", "name", host, "err", err)
			continue
		}
		if len(ips) > MaxDNSPeers {
			ips = ips[:MaxDNSPeers]
		}
		for _, ip := range ips {
			if local[strings.TrimSuffix(ip, ".")] {
				continue
			}
			out = append(out, "http://"+net.JoinHostPort(ip, port))
		}
	}
	return out
}

// dnsRound dials every node behind the names that is not connected yet and
// forgets the addresses no longer in the answers.
func (n *Node) dnsRound(ctx context.Context, connected map[p2p.PeerID]bool) {
	d := n.dns
	urls := d.urls(ctx, n.log.Debug)
	d.mu.Lock()
	fresh := make(map[string]p2p.PeerID, len(urls))
	var todo []string
	for _, u := range urls {
		id := d.known[u]
		fresh[u] = id
		if id == "" || !connected[id] && id != n.Net.Self() {
			todo = append(todo, u)
		}
	}
	d.known = fresh
	d.mu.Unlock()

	sem := make(chan struct{}, dnsDialConcurrency)
	var wg sync.WaitGroup
	for _, u := range todo {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			dctx, cancel := context.WithTimeout(ctx, PeerDialTimeout)
			defer cancel()
			id, err := n.dialAPI(dctx, u)
			if errors.Is(err, p2p.ErrSelf) {
				id, err = n.Net.Self(), nil // our own address, seen from outside: skip it from now on
			}
			if err != nil {
				if ctx.Err() == nil {
					n.log.Debug("peer from DNS not reachable yet", "peer", u, "err", err)
				}
				return
			}
			d.mu.Lock()
			if _, ok := d.known[u]; ok {
				d.known[u] = id
			}
			d.mu.Unlock()
		}()
	}
	wg.Wait()
}

// dialAPI asks the API at u for its peer addresses and hands them to the
// network to keep connected.
func (n *Node) dialAPI(ctx context.Context, u string) (p2p.PeerID, error) {
	addrs, err := n.resolver.resolve(ctx, u)
	if err != nil {
		return "", err
	}
	id, err := n.keep(ctx, addrs)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", u, err)
	}
	return id, nil
}

// keepDNSPeers runs dnsRound now and every DNSPeerInterval until ctx
// ends, so nodes that join behind the names later are found too.
func (n *Node) keepDNSPeers(ctx context.Context) {
	t := time.NewTicker(DNSPeerInterval)
	defer t.Stop()
	for {
		connected := make(map[p2p.PeerID]bool)
		for _, pi := range n.Net.Peers() {
			connected[pi.ID] = true
		}
		n.dnsRound(ctx, connected)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
