package api

import (
	"net"
	"net/http"
	"strings"
)

// AnyHost in Config.Hosts turns the Host header check off.
const AnyHost = "*"

// defaultHosts are the names every Server answers to, whatever it binds.
var defaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// hostCheck decides which Host headers a Server answers, so that a web
// page whose own name was rebound to the node's address (DNS rebinding)
// cannot talk to it: such a page's requests carry the page's name, which
// is not one the node is served as. The rule is geth's --http.vhosts:
//
//   - an IP literal is always accepted (a rebinding attack needs a name);
//   - a name is accepted when it is localhost, the host of the bind
//     address, or one of Config.Hosts; "*" accepts every name;
//   - a request without a Host (HTTP/1.0, not a browser) is accepted.
type hostCheck struct {
	any   bool
	names map[string]struct{}
}

// newHostCheck builds the check for a server bound to addr and also
// served as the names in extra.
func newHostCheck(addr string, extra []string) *hostCheck {
	hc := &hostCheck{names: make(map[string]struct{})}
	add := func(name string) {
		name = strings.ToLower(strings.TrimSuffix(strings.Trim(strings.TrimSpace(name), "[]"), "."))
		if name == "" {
			return
		}
		if name == AnyHost {
			hc.any = true
			return
		}
		hc.names[name] = struct{}{}
	}
	for _, h := range defaultHosts {
		add(h)
	}
	if host, _, err := net.SplitHostPort(addr); err == nil {
		add(host)
	}
	for _, h := range extra {
		add(h)
	}
	return hc
}

// allowed reports whether a request with Host header host may be served.
func (hc *hostCheck) allowed(host string) bool {
	if hc.any || host == "" {
		return true
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.ToLower(strings.TrimSuffix(strings.Trim(name, "[]"), "."))
	if net.ParseIP(name) != nil {
		return true
	}
	_, ok := hc.names[name]
	return ok
}

// refuseHost answers a request whose Host header names the node as
// something it is not served as.
func refuseHost(w http.ResponseWriter, host string) {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	writeError(w, &Error{Status: http.StatusForbidden, Msg: "host " + quoteHost(host) +
		" is not a name this node is served as (DNS rebinding protection); if it is one, start the node with --http-vhosts " + quoteHost(name)})
}

// quoteHost quotes host for an error message, bounded so a long header
// does not make a long answer.
func quoteHost(host string) string {
	const maxShown = 100
	if len(host) > maxShown {
		host = host[:maxShown] + "..."
	}
	return `"` + strings.ToValidUTF8(host, "?") + `"`
}
