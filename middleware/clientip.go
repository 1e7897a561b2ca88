package middleware

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the address of the client that sent r.
//
// It is the TCP peer (r.RemoteAddr) unless the peer is inside one of the
// trusted proxy prefixes. Only then are X-Forwarded-For and X-Real-IP read:
// the X-Forwarded-For hops (all such headers, in order) are walked from
// right to left, skipping addresses inside trusted prefixes; the first
// untrusted one is the client, and when every hop is trusted the left-most
// one is. A malformed hop stops the walk: the last well-formed hop seen (the
// peer, when the right-most hop is malformed) is returned, never a
// malformed value. Without X-Forwarded-For (or with only empty ones) a
// valid X-Real-IP is used.
//
// The result is unmapped (an IPv4-mapped IPv6 address is reported as IPv4)
// and carries no zone. It is the invalid netip.Addr when r.RemoteAddr holds
// no address (for example a Unix socket peer).
func ClientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parsePeer(r.RemoteAddr)
	if !peer.IsValid() || !contains(trusted, peer) {
		return peer
	}
	if xff := r.Header.Values("X-Forwarded-For"); hasHop(xff) {
		if ip, ok := walkForwarded(xff, trusted); ok {
			return ip
		}
		return peer // the right-most hop is malformed: the proxy itself is the last good hop
	}
	if v := strings.TrimSpace(header(r.Header, realIPKey)); v != "" {
		if ip, ok := parseHop(v); ok {
			return ip
		}
	}
	return peer
}

// hasHop reports whether the X-Forwarded-For values name any hop at all.
func hasHop(values []string) bool {
	for _, v := range values {
		if strings.Trim(v, ", \t") != "" {
			return true
		}
	}
	return false
}

// walkForwarded walks the hops of the X-Forwarded-For values right to left.
// ok is false when the headers hold no hop at all, or when the right-most
// hop is already malformed (there is no good hop to fall back on).
func walkForwarded(values []string, trusted []netip.Prefix) (netip.Addr, bool) {
	var last netip.Addr
	for i := len(values) - 1; i >= 0; i-- {
		v := values[i]
		for v != "" {
			var hop string
			if j := strings.LastIndexByte(v, ','); j >= 0 {
				hop, v = v[j+1:], v[:j]
			} else {
				hop, v = v, ""
			}
			hop = strings.TrimSpace(hop)
			if hop == "" {
				continue // "a,,b": an empty element names no hop
			}
			ip, ok := parseHop(hop)
			if !ok {
				return last, last.IsValid()
			}
			if !contains(trusted, ip) {
				return ip, true
			}
			last = ip
		}
	}
	return last, last.IsValid()
}

// parsePeer parses r.RemoteAddr ("ip:port", "[ip6]:port" or a bare address).
func parsePeer(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normalize(ap.Addr())
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return normalize(a)
	}
	return netip.Addr{}
}

// parseHop parses one forwarded hop: a bare address, or an address with a
// port as some proxies write it ("1.2.3.4:5678", "[2001:db8::1]:5678").
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return normalize(a), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normalize(ap.Addr()), true
	}
	return netip.Addr{}, false
}

func normalize(a netip.Addr) netip.Addr { return a.Unmap().WithZone("") }

func contains(prefixes []netip.Prefix, ip netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies parses a list of trusted proxy networks separated by
// commas (and/or white space): CIDR prefixes ("10.0.0.0/8", "fd00::/8") or
// bare addresses ("127.0.0.1", "::1"), which trust that one address. An
// IPv4-mapped IPv6 prefix is turned into its IPv4 form, so it matches the
// unmapped addresses ClientIP compares. The empty string gives no prefixes.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
		var p netip.Prefix
		if strings.Contains(f, "/") {
			var err error
			if p, err = netip.ParsePrefix(f); err != nil {
				return nil, fmt.Errorf("middleware: trusted proxy %q: %w", f, err)
			}
		} else {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("middleware: trusted proxy %q: %w", f, err)
			}
			if a.Zone() != "" {
				return nil, fmt.Errorf("middleware: trusted proxy %q: zones are not supported", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, unmapPrefix(p).Masked())
	}
	return out, nil
}

// unmapPrefix turns ::ffff:a.b.c.d/n (n >= 96) into a.b.c.d/(n-96).
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// realIPKey is X-Real-IP in its canonical form: Header.Get("X-Real-IP")
// would canonicalise (and allocate) on every call.
var realIPKey = http.CanonicalHeaderKey("X-Real-IP")
