package tlsutil

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// maxHostLen is the longest DNS name (RFC 1035 §2.3.4).
const maxHostLen = 253

// normalizeHost lower-cases a configured host name and checks that it is a DNS name or an IP
// address without a port. It reports false for anything else.
func normalizeHost(h string) (string, bool) {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if a, err := netip.ParseAddr(h); err == nil {
		return a.WithZone("").String(), a.Zone() == ""
	}
	return h, validDNSName(h)
}

// validDNSName reports whether h is a lower-case LDH host name: labels of 1 to 63 letters,
// digits and inner hyphens, 253 bytes at most. Anything else (CR, LF, '/', '@', '\\', '%',
// spaces, ports) is refused, so it can never reach a Location header.
func validDNSName(h string) bool {
	if h == "" || len(h) > maxHostLen {
		return false
	}
	allDigits := false
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		allDigits = true
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
			allDigits = allDigits && '0' <= c && c <= '9'
		}
	}
	// A numeric last label would read as an IPv4 address in some parsers (RFC 3696 §2).
	return !allDigits
}

// requestHost returns the host name of the request's Host (without port, lower case, no
// trailing dot), or "" if it is not a valid host. The result is only ever compared with the
// configured hosts, never written back as is.
func requestHost(hostport string) string {
	h := hostport
	if strings.LastIndexByte(h, ':') > strings.LastIndexByte(h, ']') {
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			return ""
		}
		if port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				return ""
			}
		}
		h = host
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	n, ok := normalizeHost(h)
	if !ok {
		return ""
	}
	return n
}

// hostPort formats the authority of an https URL for host and port (443 is left out).
func hostPort(host string, port int) string {
	if strings.IndexByte(host, ':') >= 0 {
		host = "[" + host + "]"
	}
	if port == 0 || port == 443 {
		return host
	}
	return host + ":" + strconv.Itoa(port)
}
