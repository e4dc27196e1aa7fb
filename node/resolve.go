package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chaind/chaind/apitypes"
)

// Bounds of resolving a peer given as the URL of its API.
const (
	// ResolveTimeout bounds one request to a peer's API.
	ResolveTimeout = 10 * time.Second
	// ResolveAttempts bounds the tries to resolve a configured peer URL at
	// start before the node gives up on it (and says so in the log).
	ResolveAttempts = 6
	// ResolveBackoff is the wait after the first failed try; it doubles
	// after each further one (1+2+4+8+16 s in all by default).
	ResolveBackoff = time.Second
	// maxNodeInfoSize bounds a peer API's /api/v1/node answer.
	maxNodeInfoSize = 64 << 10
	// nodeInfoPath is where a node's API tells its peer id and addresses.
	nodeInfoPath = "/api/v1/node"
)

// errRedirect refuses the redirects of a peer's API.
var errRedirect = errors.New("redirects are not followed")

// resolver asks other nodes' APIs for their peer-to-peer addresses. It
// follows no redirect, sends no credentials or cookies, and its errors say
// what went wrong without repeating anything the target answered (no
// body, no header, no decoder message quoting it), since the answer may
// come from anything at that URL.
type resolver struct {
	client   *http.Client
	attempts int
	backoff  time.Duration
}

func newResolver() *resolver {
	return &resolver{
		client: &http.Client{
			Timeout:       ResolveTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return errRedirect },
		},
		attempts: ResolveAttempts,
		backoff:  ResolveBackoff,
	}
}

// checkPeerURL accepts an http(s) URL with a host and without credentials.
func checkPeerURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("peer URL %q is not a valid http(s) URL", raw)
	}
	if u.User != nil {
		return nil, errors.New("peer URL must not carry credentials (user:password@)")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("peer URL must not have a query or fragment")
	}
	return u, nil
}

// resolve asks the API at apiURL once for the node's peer-to-peer
// addresses. Addresses on the host the URL names come first, and when the
// node only reports wildcard or loopback addresses, the URL's host is put
// in their place (so "--peer http://node1:3001" works across containers).
func (r *resolver) resolve(ctx context.Context, apiURL string) ([]string, error) {
	u, err := checkPeerURL(apiURL)
	if err != nil {
		return nil, err
	}
	where := u.Scheme + "://" + u.Host
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(u.String(), "/")+nodeInfoPath, nil)
	if err != nil {
		return nil, fmt.Errorf("ask %s for its peer addresses: %w", where, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) && errors.Is(ue.Err, errRedirect) {
			return nil, fmt.Errorf("ask %s for its peer addresses: it redirects elsewhere, and %w", where, errRedirect)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("ask %s for its peer addresses: %w", where, ctx.Err())
		}
		return nil, fmt.Errorf("ask %s for its peer addresses: unreachable: %w", where, cause(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("ask %s for its peer addresses: HTTP status %d, not a chaind node API?", where, resp.StatusCode)
	}
	var info apitypes.NodeInfo // the shape the API writes
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxNodeInfoSize)).Decode(&info); err != nil {
		return nil, fmt.Errorf("ask %s for its peer addresses: the answer is not a chaind node description", where)
	}
	if info.PeerID == "" || len(info.ListenAddresses) == 0 {
		return nil, fmt.Errorf("the node at %s has no peer-to-peer addresses (networking off there?)", where)
	}
	return preferHost(info.ListenAddresses, u.Hostname()), nil
}

// cause strips the *url.Error wrapper (which repeats the URL) from a
// transport error.
func cause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// resolveRetry resolves apiURL, trying up to r.attempts times with a
// doubling backoff, and returns the last error when every try failed. A
// malformed URL is not tried at all. onFail, when set, is told of each failed try but the last.
func (r *resolver) resolveRetry(ctx context.Context, apiURL string, onFail func(error)) ([]string, error) {
	if _, err := checkPeerURL(apiURL); err != nil {
		return nil, err
	}
	wait := r.backoff
	var err error
	for try := 1; try <= r.attempts; try++ {
		var addrs []string
		if addrs, err = r.resolve(ctx, apiURL); err == nil {
			return addrs, nil
		}
		if try == r.attempts {
			break
		}
		if onFail != nil {
			onFail(err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (gave up: %v)", err, ctx.Err())
		case <-t.C:
		}
		wait *= 2
	}
	return nil, fmt.Errorf("%w (gave up after %d tries)", err, r.attempts)
}

// preferHost orders multiaddrs so those on host come first, and adds
// host-substituted copies of /ip4 addresses when none is on host.
func preferHost(addrs []string, host string) []string {
	ips := []string{host}
	if net.ParseIP(host) == nil {
		if resolved, err := net.LookupHost(host); err == nil {
			ips = resolved
		}
	}
	var on, other []string
	for _, a := range addrs {
		matched := false
		for _, ip := range ips {
			if strings.HasPrefix(a, "/ip4/"+ip+"/") || strings.HasPrefix(a, "/ip6/"+ip+"/") {
				matched = true
			}
		}
		if matched {
			on = append(on, a)
		} else {
			other = append(other, a)
		}
	}
	if len(on) == 0 {
		for _, a := range other {
			parts := strings.SplitN(a, "/", 4) // "", "ip4", addr, rest
			if len(parts) == 4 && parts[1] == "ip4" && net.ParseIP(ips[0]) != nil && net.ParseIP(ips[0]).To4() != nil {
				on = append(on, "/ip4/"+ips[0]+"/"+parts[3])
				break
			}
		}
	}
	return append(on, other...)
}
