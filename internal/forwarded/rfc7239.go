package forwarded

import (
	"net/netip"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// walkForwarded walks Forwarded lines right to left. It returns the client address, whether
// the element naming it says proto=https, and whether that element was read (false means the
// header was absent, absurd or unreadable at the client position).
func (res *Resolver) walkForwarded(lines []string, peer netip.Addr) (netip.Addr, bool, bool) {
	if len(lines) == 0 || absurd(lines) {
		return peer, false, false
	}
	last, lastHTTPS, seen := peer, false, false
	hops := 0
	for i := len(lines) - 1; i >= 0; i-- {
		s := lines[i]
		for end := len(s); end >= 0; {
			start, ok := elementStart(s, end)
			if !ok {
				return last, false, false
			}
			a, https, ok := parseElement(s[start:end])
			if !ok {
				return last, false, false
			}
			if !res.Trusted(a) {
				return a, https, true
			}
			last, lastHTTPS, seen = a, https, true
			hops++
			if hops >= MaxHops {
				return peer, false, false
			}
			end = start - 1
		}
	}
	return last, lastHTTPS, seen
}

// elementStart returns where the element that ends just before end begins: one past the
// previous comma that is not inside a quoted-string, or 0. It scans right to left so that the
// entries a trusted proxy appended are found even when the client's part on the left is
// malformed (an unterminated quote there cannot swallow them). ok is false for a quote that
// is never opened.
func elementStart(s string, end int) (int, bool) {
	for i := end - 1; i >= 0; i-- {
		switch s[i] {
		case ',':
			return i + 1, true
		case '"':
			j := i - 1
			for j >= 0 && !(s[j] == '"' && evenBackslashesBefore(s, j)) {
				j--
			}
			if j < 0 {
				return 0, false
			}
			i = j
		}
	}
	return 0, true
}

// evenBackslashesBefore reports whether the run of backslashes just before s[j] is even, that
// is whether s[j] is not escaped.
func evenBackslashesBefore(s string, j int) bool {
	n := 0
	for k := j - 1; k >= 0 && s[k] == '\\'; k-- {
		n++
	}
	return n%2 == 0
}

// parseElement reads one forwarded-element (RFC 7239 §4): pairs name=value separated by ';',
// value a token or a quoted-string. It returns the address of the "for" parameter and whether
// "proto" is https. ok is false when the element is malformed, repeats a parameter, has no
// "for", or "for" is not an address ("unknown", "_obfuscated", garbage).
func parseElement(e string) (addr netip.Addr, https bool, ok bool) {
	var forVal, protoVal string
	var haveFor, haveProto bool
	for e = trimOWS(e); e != ""; {
		eq := strings.IndexByte(e, '=')
		if eq <= 0 || !httpguts.ValidHeaderFieldName(e[:eq]) {
			return netip.Addr{}, false, false
		}
		name := e[:eq]
		e = e[eq+1:]
		var val string
		if e != "" && e[0] == '"' {
			q := strings.IndexByte(e[1:], '"')
			if q < 0 {
				return netip.Addr{}, false, false
			}
			val = e[1 : q+1]
			// Addresses and schemes never need escapes; refusing them keeps parsing
			// allocation-free and the grammar small.
			if strings.IndexByte(val, '\\') >= 0 || !isQDText(val) {
				return netip.Addr{}, false, false
			}
			e = trimOWS(e[q+2:])
			if e != "" && e[0] != ';' {
				return netip.Addr{}, false, false
			}
		} else {
			semi := strings.IndexByte(e, ';')
			if semi < 0 {
				semi = len(e)
			}
			val = trimOWS(e[:semi])
			if !httpguts.ValidHeaderFieldName(val) {
				return netip.Addr{}, false, false
			}
			e = e[semi:]
		}
		if e != "" { // e[0] == ';'; a trailing ';' is an allowed empty pair
			e = trimOWS(e[1:])
		}
		switch {
		case strings.EqualFold(name, "for"):
			if haveFor {
				return netip.Addr{}, false, false
			}
			forVal, haveFor = val, true
		case strings.EqualFold(name, "proto"):
			if haveProto {
				return netip.Addr{}, false, false
			}
			protoVal, haveProto = val, true
		}
	}
	if !haveFor {
		return netip.Addr{}, false, false
	}
	addr, ok = parseNode(forVal)
	if !ok {
		return netip.Addr{}, false, false
	}
	return addr, strings.EqualFold(protoVal, "https"), true
}

// parseNode reads an RFC 7239 §6 node that is an address: IPv4 or bracketed IPv6, with an
// optional port. "unknown" and obfuscated names are not addresses.
func parseNode(v string) (netip.Addr, bool) {
	if v == "" || len(v) > maxEntryLen {
		return netip.Addr{}, false
	}
	host, port := v, ""
	if v[0] == '[' {
		rb := strings.IndexByte(v, ']')
		if rb < 0 {
			return netip.Addr{}, false
		}
		host, port = v[1:rb], v[rb+1:]
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() || !validPort(port) {
			return netip.Addr{}, false
		}
		return normalize(a), true
	}
	if c := strings.IndexByte(v, ':'); c >= 0 {
		host, port = v[:c], v[c:]
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is4() || !validPort(port) {
		return netip.Addr{}, false
	}
	return a, true
}

// validPort accepts "", ":" followed by 1 to 5 digits, or ":_" followed by an obfuscated port.
func validPort(p string) bool {
	if p == "" {
		return true
	}
	if p[0] != ':' || len(p) < 2 {
		return false
	}
	p = p[1:]
	if p[0] == '_' {
		for i := 1; i < len(p); i++ {
			if c := p[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
				return false
			}
		}
		return len(p) > 1
	}
	if len(p) > 5 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isQDText reports whether s holds only characters allowed in a quoted-string (no controls
// other than tab, no DEL).
func isQDText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
