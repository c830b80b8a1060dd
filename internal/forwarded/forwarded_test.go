package forwarded_test

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/internal/forwarded"
)

// trustedNets are the proxies of every test: a load balancer subnet and an IPv6 proxy range.
var trustedNets = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("2001:db8:ffff::/48"),
}

func newResolver(t testing.TB, source forwarded.Source) *forwarded.Resolver {
	t.Helper()
	r, err := forwarded.New(trustedNets, source)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func newRequest(remote, header string, values ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://api.example/", nil)
	r.RemoteAddr = remote
	for _, v := range values {
		r.Header.Add(header, v)
	}
	return r
}

type addrCase struct {
	name, remote string
	lines        []string
	want         string // "" is the zero Addr
}

// xffCases cover ASVS5 4.1.3 / RFC 9700 §4.13: X-Forwarded-For is read right to left and only
// through trusted hops.
var xffCases = []addrCase{
	{"no header from untrusted peer", "203.0.113.9:1234", nil, "203.0.113.9"},
	{"forged header from untrusted peer ignored", "203.0.113.9:1234", []string{"198.51.100.1"}, "203.0.113.9"},
	{"trusted peer without header", "10.0.0.2:80", nil, "10.0.0.2"},
	{"one trusted hop", "10.0.0.2:80", []string{"198.51.100.7"}, "198.51.100.7"},
	{"spoofed left-most entry skipped", "10.0.0.2:80", []string{"1.2.3.4, 198.51.100.7"}, "198.51.100.7"},
	{"two trusted hops", "10.0.0.2:80", []string{"198.51.100.7, 10.1.1.1"}, "198.51.100.7"},
	{"multiple header lines are one list", "10.0.0.2:80", []string{"1.2.3.4", "198.51.100.7, 10.1.1.1"}, "198.51.100.7"},
	{"ipv6 client", "10.0.0.2:80", []string{"2001:db8::7"}, "2001:db8::7"},
	{"bracketed ipv6 with port", "10.0.0.2:80", []string{"[2001:db8::7]:4711"}, "2001:db8::7"},
	{"bracketed ipv6 without port", "10.0.0.2:80", []string{"[2001:db8::7]"}, "2001:db8::7"},
	{"ipv4 with port", "10.0.0.2:80", []string{"198.51.100.7:4711"}, "198.51.100.7"},
	{"zone dropped", "10.0.0.2:80", []string{"fe80::1%eth0"}, "fe80::1"},
	{"mapped ipv4 unmapped", "10.0.0.2:80", []string{"::ffff:198.51.100.7"}, "198.51.100.7"},
	{"ipv6 trusted peer", "[2001:db8:ffff::1]:443", []string{"198.51.100.7"}, "198.51.100.7"},
	{"mapped trusted peer", "[::ffff:10.0.0.2]:443", []string{"198.51.100.7"}, "198.51.100.7"},
	{"garbage stops at peer", "10.0.0.2:80", []string{"not-an-ip"}, "10.0.0.2"},
	{"unknown stops at peer", "10.0.0.2:80", []string{"unknown"}, "10.0.0.2"},
	{"garbage after trusted hop stops at that hop", "10.0.0.2:80", []string{"1.2.3.4, bogus, 10.1.1.1"}, "10.1.1.1"},
	{"empty entry", "10.0.0.2:80", []string{"198.51.100.7, "}, "10.0.0.2"},
	{"empty line", "10.0.0.2:80", []string{""}, "10.0.0.2"},
	{"all trusted gives left-most", "10.0.0.2:80", []string{"10.3.3.3, 10.1.1.1"}, "10.3.3.3"},
	{"spaces and tabs", "10.0.0.2:80", []string{" 1.2.3.4 ,\t198.51.100.7\t"}, "198.51.100.7"},
	{"too many hops is absurd", "10.0.0.2:80", []string{strings.Repeat("10.1.1.1,", 70) + "10.1.1.1"}, "10.0.0.2"},
	{"too many entries is absurd", "10.0.0.2:80", []string{strings.Repeat("1.2.3.4,", 1000) + "198.51.100.7"}, "10.0.0.2"},
	{"overlong entry", "10.0.0.2:80", []string{strings.Repeat("1", 200)}, "10.0.0.2"},
	{"unparsable RemoteAddr", "@", []string{"198.51.100.7"}, ""},
	{"RemoteAddr without port", "10.0.0.2", []string{"198.51.100.7"}, "198.51.100.7"},
}

// forwardedCases cover RFC 7239: quoted-strings, brackets, obfuscation and malformed elements.
var forwardedCases = []addrCase{
	{"forged from untrusted peer ignored", "203.0.113.9:1234", []string{"for=198.51.100.1"}, "203.0.113.9"},
	{"one trusted hop", "10.0.0.2:80", []string{"for=198.51.100.7;proto=https"}, "198.51.100.7"},
	{"case-insensitive name", "10.0.0.2:80", []string{"For=198.51.100.7"}, "198.51.100.7"},
	{"spoofed left-most skipped", "10.0.0.2:80", []string{"for=1.2.3.4, for=198.51.100.7"}, "198.51.100.7"},
	{"quoted ipv6 with port", "10.0.0.2:80", []string{`for="[2001:db8:cafe::17]:4711"`}, "2001:db8:cafe::17"},
	{"quoted ipv4 with port", "10.0.0.2:80", []string{`for="198.51.100.7:4711"`}, "198.51.100.7"},
	{"obfuscated port", "10.0.0.2:80", []string{`for="198.51.100.7:_p1"`}, "198.51.100.7"},
	{"unquoted ipv6 is malformed", "10.0.0.2:80", []string{"for=[2001:db8::1]"}, "10.0.0.2"},
	{"bare ipv6 is malformed", "10.0.0.2:80", []string{`for="2001:db8::1"`}, "10.0.0.2"},
	{"unknown stops", "10.0.0.2:80", []string{"for=unknown"}, "10.0.0.2"},
	{"obfuscated stops", "10.0.0.2:80", []string{"for=_hidden"}, "10.0.0.2"},
	{"obfuscated after trusted hop", "10.0.0.2:80", []string{"for=_hidden, for=10.1.1.1"}, "10.1.1.1"},
	{"two trusted hops", "10.0.0.2:80", []string{"for=198.51.100.7;proto=https, for=10.1.1.1;proto=http"}, "198.51.100.7"},
	{"multiple lines", "10.0.0.2:80", []string{"for=1.2.3.4", "for=198.51.100.7"}, "198.51.100.7"},
	{"by and host ignored", "10.0.0.2:80", []string{"for=198.51.100.7;by=10.0.0.2;host=api.example"}, "198.51.100.7"},
	{"comma inside quoted value", "10.0.0.2:80", []string{`for=1.2.3.4;host="a,b", for=198.51.100.7`}, "198.51.100.7"},
	{"unterminated quote on the left cannot swallow the right", "10.0.0.2:80", []string{`for="1.2.3.4, for=198.51.100.7`}, "198.51.100.7"},
	{"unterminated quote at the right", "10.0.0.2:80", []string{`for=198.51.100.7, for="10.1.1.1`}, "10.0.0.2"},
	{"escaped quote refused", "10.0.0.2:80", []string{`for="198.51.100.7\""`}, "10.0.0.2"},
	{"duplicate for", "10.0.0.2:80", []string{"for=198.51.100.7;for=1.2.3.4"}, "10.0.0.2"},
	{"no for", "10.0.0.2:80", []string{"proto=https"}, "10.0.0.2"},
	{"empty value", "10.0.0.2:80", []string{"for="}, "10.0.0.2"},
	{"missing equals", "10.0.0.2:80", []string{"for"}, "10.0.0.2"},
	{"trailing semicolon", "10.0.0.2:80", []string{"for=198.51.100.7;"}, "198.51.100.7"},
	{"bad port", "10.0.0.2:80", []string{`for="198.51.100.7:99999x"`}, "10.0.0.2"},
	{"control character", "10.0.0.2:80", []string{"for=\"198.51.100.7\x00\""}, "10.0.0.2"},
	{"x-forwarded-for ignored in Forwarded mode", "10.0.0.2:80", nil, "10.0.0.2"},
	{"too many hops", "10.0.0.2:80", []string{strings.Repeat("for=10.1.1.1,", 70) + "for=10.1.1.1"}, "10.0.0.2"},
}

func TestClientAddr(t *testing.T) {
	for _, tc := range []struct {
		source forwarded.Source
		header string
		cases  []addrCase
	}{
		{forwarded.XForwarded, "X-Forwarded-For", xffCases},
		{forwarded.Forwarded, "Forwarded", forwardedCases},
	} {
		res := newResolver(t, tc.source)
		for _, tt := range tc.cases {
			t.Run(tc.header+"/"+tt.name, func(t *testing.T) {
				r := newRequest(tt.remote, tc.header, tt.lines...)
				// The other family is always present and must never be read.
				if tc.source == forwarded.XForwarded {
					r.Header.Set("Forwarded", "for=192.0.2.66")
				} else {
					r.Header.Set("X-Forwarded-For", "192.0.2.66")
				}
				got := res.ClientAddr(r)
				if tt.want == "" {
					if got.IsValid() {
						t.Errorf("%s: ClientAddr(%q) = %v, want zero Addr", tc.header, tt.lines, got)
					}
					return
				}
				if want := netip.MustParseAddr(tt.want); got != want {
					t.Errorf("%s from %s: ClientAddr(%q) = %v, want %v", tc.header, tt.remote, tt.lines, got, want)
				}
			})
		}
	}
}

func TestClientAddrNoProxies(t *testing.T) {
	for _, res := range []*forwarded.Resolver{nil, mustNew(t, nil, forwarded.XForwarded)} {
		r := newRequest("10.0.0.2:80", "X-Forwarded-For", "198.51.100.7")
		if got, want := res.ClientAddr(r), netip.MustParseAddr("10.0.0.2"); got != want {
			t.Errorf("no trusted proxies: ClientAddr = %v, want peer %v", got, want)
		}
	}
}

func mustNew(t testing.TB, trusted []netip.Prefix, s forwarded.Source) *forwarded.Resolver {
	t.Helper()
	r, err := forwarded.New(trusted, s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNewErrors(t *testing.T) {
	if _, err := forwarded.New([]netip.Prefix{{}}, forwarded.XForwarded); !errors.Is(err, forwarded.ErrInvalidPrefix) {
		t.Errorf("zero prefix: err = %v, want ErrInvalidPrefix", err)
	}
	if _, err := forwarded.New(nil, forwarded.Source(9)); err == nil {
		t.Error("unknown source: err = nil, want an error")
	}
}

func TestSecure(t *testing.T) {
	xff := newResolver(t, forwarded.XForwarded)
	fwd := newResolver(t, forwarded.Forwarded)
	for _, tt := range []struct {
		name   string
		res    *forwarded.Resolver
		remote string
		header string
		lines  []string
		tls    bool
		want   bool
	}{
		{"direct TLS", nil, "203.0.113.9:1", "", nil, true, true},
		{"plain, no proxies", nil, "203.0.113.9:1", "X-Forwarded-Proto", []string{"https"}, false, false},
		// The forged header of the issue: X-Forwarded-Proto from a client, not a proxy.
		{"forged proto from untrusted peer", xff, "203.0.113.9:1", "X-Forwarded-Proto", []string{"https"}, false, false},
		{"proto from trusted peer", xff, "10.0.0.2:1", "X-Forwarded-Proto", []string{"https"}, false, true},
		{"proto case-insensitive", xff, "10.0.0.2:1", "X-Forwarded-Proto", []string{" HTTPS "}, false, true},
		{"proto http", xff, "10.0.0.2:1", "X-Forwarded-Proto", []string{"http"}, false, false},
		{"right-most proto counts", xff, "10.0.0.2:1", "X-Forwarded-Proto", []string{"https, http"}, false, false},
		{"right-most line counts", xff, "10.0.0.2:1", "X-Forwarded-Proto", []string{"http", "https"}, false, true},
		{"no proto", xff, "10.0.0.2:1", "X-Forwarded-Proto", nil, false, false},
		{"Forwarded ignored in XForwarded mode", xff, "10.0.0.2:1", "Forwarded", []string{"for=198.51.100.7;proto=https"}, false, false},
		{"Forwarded proto https", fwd, "10.0.0.2:1", "Forwarded", []string{"for=198.51.100.7;proto=https"}, false, true},
		{"Forwarded quoted proto", fwd, "10.0.0.2:1", "Forwarded", []string{`for=198.51.100.7;proto="https"`}, false, true},
		{"Forwarded forged from untrusted peer", fwd, "203.0.113.9:1", "Forwarded", []string{"for=198.51.100.7;proto=https"}, false, false},
		{"Forwarded client hop decides", fwd, "10.0.0.2:1", "Forwarded", []string{"for=198.51.100.7;proto=https, for=10.1.1.1;proto=http"}, false, true},
		{"Forwarded client hop plain", fwd, "10.0.0.2:1", "Forwarded", []string{"for=198.51.100.7;proto=http, for=10.1.1.1;proto=https"}, false, false},
		{"Forwarded spoofed left proto ignored", fwd, "10.0.0.2:1", "Forwarded", []string{"for=1.2.3.4;proto=https, for=198.51.100.7;proto=http"}, false, false},
		{"Forwarded malformed", fwd, "10.0.0.2:1", "Forwarded", []string{"for=198.51.100.7;proto=https;;garbage"}, false, false},
		{"Forwarded unknown client", fwd, "10.0.0.2:1", "Forwarded", []string{"for=unknown;proto=https"}, false, false},
		{"X-Forwarded-Proto ignored in Forwarded mode", fwd, "10.0.0.2:1", "X-Forwarded-Proto", []string{"https"}, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest(tt.remote, tt.header, tt.lines...)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if got := tt.res.Secure(r); got != tt.want {
				t.Errorf("%s %q from %s: Secure = %v, want %v", tt.header, tt.lines, tt.remote, got, tt.want)
			}
		})
	}
}

// FuzzXForwardedFor checks that no input panics and that the result is the zero Addr, the
// peer, or an address that appears in the header to the right of which only trusted proxies
// stand (never a left, client-written, position).
func FuzzXForwardedFor(f *testing.F) {
	for _, tt := range xffCases {
		f.Add(tt.remote, strings.Join(tt.lines, "\n"))
	}
	res := newResolver(f, forwarded.XForwarded)
	f.Fuzz(func(t *testing.T, remote, header string) {
		lines := strings.Split(header, "\n")
		r := newRequest(remote, "X-Forwarded-For")
		r.Header["X-Forwarded-For"] = lines
		got := res.ClientAddr(r)
		checkAddr(t, res, r, got, xffPositions(lines))
		_ = res.Secure(r)
	})
}

// FuzzForwarded is FuzzXForwardedFor for the RFC 7239 parser.
func FuzzForwarded(f *testing.F) {
	for _, tt := range forwardedCases {
		f.Add(tt.remote, strings.Join(tt.lines, "\n"))
	}
	res := newResolver(f, forwarded.Forwarded)
	f.Fuzz(func(t *testing.T, remote, header string) {
		lines := strings.Split(header, "\n")
		r := newRequest(remote, "Forwarded")
		r.Header["Forwarded"] = lines
		got, peer := res.ClientAddr(r), forwarded.Peer(r)
		if !res.Trusted(peer) && got != peer {
			t.Fatalf("ClientAddr(%q) = %v from untrusted peer %v", header, got, peer)
		}
		if got.IsValid() && got != peer && !strings.Contains(header, got.String()) &&
			!containsAddr(header, got) {
			t.Fatalf("ClientAddr(%q) = %v, which is neither the peer nor in the header", header, got)
		}
		_ = res.Secure(r)
	})
}

// xffPositions splits X-Forwarded-For lines into entries as the resolver does, in order.
func xffPositions(lines []string) []string {
	var out []string
	for _, l := range lines {
		out = append(out, strings.Split(l, ",")...)
	}
	return out
}

func checkAddr(t *testing.T, res *forwarded.Resolver, r *http.Request, got netip.Addr, entries []string) {
	t.Helper()
	peer := forwarded.Peer(r)
	if !got.IsValid() {
		if peer.IsValid() {
			t.Fatalf("ClientAddr = zero Addr, but the peer %v is valid", peer)
		}
		return
	}
	if got == peer {
		return
	}
	if !res.Trusted(peer) {
		t.Fatalf("ClientAddr = %v from untrusted peer %v", got, peer)
	}
	// Walking from the right, every entry before the result must be a trusted address.
	for i := len(entries) - 1; i >= 0; i-- {
		a, ok := parseLoose(entries[i])
		if ok && a == got {
			return
		}
		if !ok || !res.Trusted(a) {
			t.Fatalf("ClientAddr = %v, but entry %q to its right is not a trusted proxy", got, entries[i])
		}
	}
	t.Fatalf("ClientAddr = %v, not found in the header", got)
}

// parseLoose is an independent, slow parser of one X-Forwarded-For entry.
func parseLoose(s string) (netip.Addr, bool) {
	s = strings.Trim(s, " \t")
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone(""), true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	return netip.Addr{}, false
}

func containsAddr(header string, a netip.Addr) bool {
	// The header may spell the address differently (leading zeros in IPv6, a mapped form).
	for _, f := range strings.FieldsFunc(header, func(r rune) bool {
		return r == ',' || r == ';' || r == '=' || r == '"' || r == '[' || r == ']' || r == ' ' || r == '\n'
	}) {
		if b, err := netip.ParseAddr(f); err == nil && b.Unmap().WithZone("") == a {
			return true
		}
		if b, ok := parseLoose(f); ok && b == a {
			return true
		}
	}
	return false
}
