// Package forwarded is the one place in bulwark that reads the proxy headers Forwarded
// (RFC 7239), X-Forwarded-For and X-Forwarded-Proto, so that HTTPS enforcement, rate limiting
// and logs all agree on who the client is and whether it spoke TLS.
//
// # Trust model
//
// A proxy header is believed only as far as it was written by a proxy the operator trusts
// (ASVS5 4.1.3, RFC 9700 §4.13, RFC 7239 §8.1). The walk starts at the TCP peer
// ([http.Request.RemoteAddr]): if the peer is not in a trusted prefix, the headers are ignored
// and the peer is the client. Otherwise the header list is read from the right (the entry the
// peer appended) to the left, skipping entries whose address is itself a trusted proxy; the
// first untrusted address is the client. Entries further left were written by the client and
// are never used.
//
// A [Resolver] reads exactly one header family, chosen at construction: X-Forwarded-For and
// X-Forwarded-Proto (the default, what most proxies write), or Forwarded. The other family is
// ignored entirely, because a proxy that appends to one family passes the other through from
// the client untouched.
//
// # Malformed input
//
// The walk stops at the first entry it cannot read as an address: garbage, the RFC 7239
// "unknown" identifier, obfuscated identifiers ("_hidden"), empty entries, quoted-strings that
// use backslash escapes, bare IPv6 in a Forwarded "for" value (RFC 7239 §6 asks for brackets).
// It then returns the last address it could vouch for: the peer, or the last trusted hop it
// walked through. So an unreadable entry can never make an address from an untrusted position
// the client. The same happens when the walk passes [MaxHops] trusted entries or the header has
// more than [MaxEntries] entries or lines: the header is treated as absurd and the peer is the
// client. Several header lines are one list, in order (RFC 9110 §5.3). IPv6 zones are dropped
// and IPv4-mapped IPv6 addresses are unmapped, so one client has one address.
//
// The common paths (no trusted proxies; one trusted hop) make no allocations.
package forwarded

import (
	"errors"
	"net/http"
	"net/netip"
	"strings"
)

const (
	// MaxHops is the most trusted entries the walk passes before it gives up and treats the
	// header as absurd.
	MaxHops = 64
	// MaxEntries is the most header lines, or comma-separated entries in one line, the
	// resolver reads; a header with more is treated as absurd.
	MaxEntries = 1000
	// maxEntryLen bounds one X-Forwarded-For entry: "[" + 45-byte IPv6 + "%" zone + "]:65535"
	// fits with room to spare.
	maxEntryLen = 128
)

// Source says which header family a [Resolver] reads.
type Source uint8

const (
	// XForwarded reads X-Forwarded-For and X-Forwarded-Proto.
	XForwarded Source = iota
	// Forwarded reads the RFC 7239 Forwarded header.
	Forwarded
)

// ErrInvalidPrefix is returned by [New] for a zero or otherwise invalid trusted prefix.
var ErrInvalidPrefix = errors.New("forwarded: invalid trusted proxy prefix")

// Resolver finds the client address and scheme of a request behind trusted proxies.
// It is immutable and safe for concurrent use. A nil *Resolver trusts no proxy.
type Resolver struct {
	trusted []netip.Prefix
	source  Source
}

// New returns a Resolver that believes the proxy headers of source only from peers in trusted.
// An empty trusted list gives a Resolver that ignores every proxy header.
func New(trusted []netip.Prefix, source Source) (*Resolver, error) {
	if source != XForwarded && source != Forwarded {
		return nil, errors.New("forwarded: unknown header source")
	}
	r := &Resolver{source: source}
	for _, p := range trusted {
		if !p.IsValid() {
			return nil, ErrInvalidPrefix
		}
		r.trusted = append(r.trusted, p.Masked())
	}
	return r, nil
}

// Trusted reports whether a is inside one of the trusted proxy prefixes.
func (res *Resolver) Trusted(a netip.Addr) bool {
	if res == nil || !a.IsValid() {
		return false
	}
	a = normalize(a)
	for _, p := range res.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Peer returns the address of the TCP peer, from r.RemoteAddr, or the zero Addr if
// RemoteAddr is not an address (for example a Unix socket).
func Peer(r *http.Request) netip.Addr {
	if a, ok := parseIPv4Port(r.RemoteAddr); ok {
		return a
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return normalize(ap.Addr())
	}
	if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
		return normalize(a)
	}
	return netip.Addr{}
}

// ClientAddr returns the address of the client: the peer when it is not a trusted proxy, else
// the right-most untrusted address of the proxy header (see the package comment for what
// happens with malformed entries). It returns the zero Addr only when RemoteAddr is not an
// address.
func (res *Resolver) ClientAddr(r *http.Request) netip.Addr {
	peer := Peer(r)
	if res == nil || len(res.trusted) == 0 || !res.Trusted(peer) {
		return peer
	}
	if res.source == Forwarded {
		addr, _, _ := res.walkForwarded(r.Header["Forwarded"], peer)
		return addr
	}
	addr, _ := res.walkXFF(r.Header["X-Forwarded-For"], peer)
	return addr
}

// Secure reports whether the client reached the first trusted hop over TLS: true if r.TLS is
// set, or if the peer is a trusted proxy whose header says the client used https. With
// X-Forwarded-Proto, the right-most value counts (the one the nearest proxy wrote); with
// Forwarded, the proto of the element that names the client. Anything unreadable is false.
func (res *Resolver) Secure(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if res == nil || len(res.trusted) == 0 || !res.Trusted(Peer(r)) {
		return false
	}
	if res.source == Forwarded {
		_, https, ok := res.walkForwarded(r.Header["Forwarded"], netip.Addr{})
		return ok && https
	}
	return lastXFPIsHTTPS(r.Header["X-Forwarded-Proto"])
}

func normalize(a netip.Addr) netip.Addr {
	return a.Unmap().WithZone("")
}

// walkXFF walks X-Forwarded-For lines right to left. It returns the client and whether the
// header was read (false means it was absent or absurd and the peer is returned).
func (res *Resolver) walkXFF(lines []string, peer netip.Addr) (netip.Addr, bool) {
	if len(lines) == 0 || absurd(lines) {
		return peer, false
	}
	last := peer // the right-most address we can vouch for
	hops := 0
	for i := len(lines) - 1; i >= 0; i-- {
		s := lines[i]
		for end := len(s); end >= 0; {
			start := strings.LastIndexByte(s[:end], ',') + 1
			a, ok := parseXFFEntry(s[start:end])
			if !ok {
				return last, true
			}
			if !res.Trusted(a) {
				return a, true
			}
			last = a
			hops++
			if hops >= MaxHops {
				return peer, false
			}
			end = start - 1
		}
	}
	// Every entry was a trusted proxy: the left-most is the earliest hop we know.
	return last, true
}

// parseXFFEntry accepts "192.0.2.1", "192.0.2.1:80", "2001:db8::1", "[2001:db8::1]" and
// "[2001:db8::1]:80", with optional surrounding spaces or tabs.
func parseXFFEntry(s string) (netip.Addr, bool) {
	s = trimOWS(s)
	if s == "" || len(s) > maxEntryLen {
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return normalize(a), true
	}
	if s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return normalize(a), true
		}
		return netip.Addr{}, false
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return normalize(ap.Addr()), true
	}
	return netip.Addr{}, false
}

// absurd reports whether a header has more than MaxEntries lines or comma-separated entries.
// Commas inside quoted-strings count too, which only errs towards absurd.
func absurd(lines []string) bool {
	if len(lines) > MaxEntries {
		return true
	}
	n := 0
	for _, s := range lines {
		n += strings.Count(s, ",") + 1
		if n > MaxEntries {
			return true
		}
	}
	return false
}

// lastXFPIsHTTPS reports whether the right-most X-Forwarded-Proto value is https.
func lastXFPIsHTTPS(lines []string) bool {
	if len(lines) == 0 || absurd(lines) {
		return false
	}
	s := lines[len(lines)-1]
	v := trimOWS(s[strings.LastIndexByte(s, ',')+1:])
	return strings.EqualFold(v, "https")
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// parseIPv4Port is the fast path of [Peer] for the usual RemoteAddr, "a.b.c.d:port". It
// accepts only what [netip.ParseAddrPort] accepts and returns the same address (dotted
// decimal without leading zeros, a decimal port of up to five digits below 65536); for
// anything else it reports false and Peer parses in full. FuzzParseIPv4Port checks this.
func parseIPv4Port(s string) (netip.Addr, bool) {
	var b [4]byte
	i := 0
	for f := range b {
		if f > 0 {
			if i >= len(s) || s[i] != '.' {
				return netip.Addr{}, false
			}
			i++
		}
		start, v := i, 0
		for i < len(s) && i-start < 3 && '0' <= s[i] && s[i] <= '9' {
			v = v*10 + int(s[i]-'0')
			i++
		}
		if i == start || v > 255 || (i-start > 1 && s[start] == '0') {
			return netip.Addr{}, false
		}
		b[f] = byte(v)
	}
	if i >= len(s) || s[i] != ':' {
		return netip.Addr{}, false
	}
	i++
	if n := len(s) - i; n < 1 || n > 5 {
		return netip.Addr{}, false
	}
	port := 0
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return netip.Addr{}, false
		}
		port = port*10 + int(s[i]-'0')
	}
	if port > 65535 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(b), true
}
