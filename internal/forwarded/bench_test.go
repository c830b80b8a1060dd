package forwarded_test

import (
	"net/http"
	"testing"

	"github.com/bulwark-go/bulwark/internal/forwarded"
)

// The ratelimit package calls the resolver on every request: the common paths must not allocate.
func BenchmarkClientAddr(b *testing.B) {
	none := mustNew(b, nil, forwarded.XForwarded)
	xff := newResolver(b, forwarded.XForwarded)
	fwd := newResolver(b, forwarded.Forwarded)
	for _, bb := range []struct {
		name string
		res  *forwarded.Resolver
		r    *http.Request
	}{
		{"no-proxies", none, newRequest("203.0.113.9:1234", "X-Forwarded-For", "198.51.100.7")},
		{"untrusted-peer", xff, newRequest("203.0.113.9:1234", "X-Forwarded-For", "198.51.100.7")},
		{"xff-one-hop", xff, newRequest("10.0.0.2:80", "X-Forwarded-For", "198.51.100.7")},
		{"xff-one-hop-ipv6", xff, newRequest("[2001:db8:ffff::1]:443", "X-Forwarded-For", "2001:db8::7")},
		{"xff-three-hops", xff, newRequest("10.0.0.2:80", "X-Forwarded-For", "1.2.3.4, 198.51.100.7, 10.1.1.1, 10.2.2.2")},
		{"forwarded-one-hop", fwd, newRequest("10.0.0.2:80", "Forwarded", "for=198.51.100.7;proto=https")},
		{"forwarded-quoted-ipv6", fwd, newRequest("10.0.0.2:80", "Forwarded", `for="[2001:db8:cafe::17]:4711";proto=https`)},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = bb.res.ClientAddr(bb.r)
			}
		})
	}
}

func BenchmarkSecure(b *testing.B) {
	xff := newResolver(b, forwarded.XForwarded)
	fwd := newResolver(b, forwarded.Forwarded)
	for _, bb := range []struct {
		name string
		res  *forwarded.Resolver
		r    *http.Request
	}{
		{"xff-proto", xff, newRequest("10.0.0.2:80", "X-Forwarded-Proto", "https")},
		{"forwarded-proto", fwd, newRequest("10.0.0.2:80", "Forwarded", "for=198.51.100.7;proto=https")},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = bb.res.Secure(bb.r)
			}
		})
	}
}
