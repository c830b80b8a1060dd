package forwarded

import (
	"net/netip"
	"testing"
)

// The IPv4 fast path of Peer agrees with netip.ParseAddrPort whenever it answers.
func FuzzParseIPv4Port(f *testing.F) {
	for _, s := range []string{"203.0.113.9:1234", "0.0.0.0:0", "255.255.255.255:65535", "1.2.3.4:65536",
		"01.2.3.4:1", "1.2.3.4:00080", "1.2.3.4", "1.2.3.4:", "1.2.3.256:1", "1.2.3:4", "1.2.3.4.5:6",
		"[::1]:80", "1.2.3.4:+1", "1.2.3.4:-1", "1.2.3.4:1:2", " 1.2.3.4:1", "1.2.3.4:123456", "1234.2.3.4:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := parseIPv4Port(s)
		ap, err := netip.ParseAddrPort(s)
		if ok && (err != nil || ap.Addr() != a) {
			t.Fatalf("parseIPv4Port(%q) = %v, but netip.ParseAddrPort gives %v, %v", s, a, ap, err)
		}
	})
}

// The fast path answers for the usual forms, so Peer does not fall back to the full parse.
func TestParseIPv4PortAnswers(t *testing.T) {
	for _, s := range []string{"203.0.113.9:1234", "0.0.0.0:0", "255.255.255.255:65535", "10.0.0.1:80"} {
		a, ok := parseIPv4Port(s)
		if !ok || a != netip.MustParseAddrPort(s).Addr() {
			t.Errorf("parseIPv4Port(%q) = %v, %v", s, a, ok)
		}
	}
}
