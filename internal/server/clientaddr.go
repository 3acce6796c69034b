package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr returns the address a request comes from: the peer of its connection
// (RemoteAddr), or, when that peer is in trusted (reverse proxies the operator named),
// the address X-Forwarded-For gives for the client. The header is read from the right,
// the end the nearest proxy appended to, skipping the addresses of trusted proxies: the
// first untrusted one is the client; entries to its left were written by the client
// itself and prove nothing. An entry that is not an address ends the walk at the proxy
// that passed it on; a header naming only trusted proxies gives the left-most. Without
// trusted proxies the header is never read. IPv4-mapped IPv6 addresses are unmapped; the
// result is the zero Addr when RemoteAddr is not an address (a test's custom listener).
func clientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseHostAddr(r.RemoteAddr)
	if !peer.IsValid() || !inPrefixes(peer, trusted) {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseHostAddr(strings.TrimSpace(hops[i]))
		if !a.IsValid() {
			return client
		}
		client = a
		if !inPrefixes(a, trusted) {
			return a
		}
	}
	return client
}

// parseHostAddr parses "addr", "addr:port" or "[addr]:port", without a zone.
func parseHostAddr(s string) netip.Addr {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}
	}
	return a.WithZone("").Unmap()
}

func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientKey is the limiter key of a client address: the address for IPv4, its /64 for
// IPv6 (one host commonly has a whole /64 to pick addresses from), "unknown" without one.
func clientKey(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is6():
		p, _ := a.Prefix(64)
		return p.String()
	default:
		return a.String()
	}
}
