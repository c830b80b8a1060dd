package tlsutil_test

import (
	"net/http"
	"testing"

	"github.com/bulwark-go/bulwark/tlsutil"
)

// nopWriter is a ResponseWriter that keeps its header map, as net/http's does per request.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

var nop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

func BenchmarkRequireHTTPS(b *testing.B) {
	for _, bb := range []struct {
		name string
		opts tlsutil.Options
		req  reqSpec
	}{
		{"tls", tlsutil.Options{}, reqSpec{tls: true}},
		{"tls-with-proxies", tlsutil.Options{TrustedProxies: proxies}, reqSpec{tls: true}},
		{"trusted-proxy-xfp", tlsutil.Options{TrustedProxies: proxies}, reqSpec{remote: "10.0.0.3:4000", header: http.Header{"X-Forwarded-Proto": {"https"}}}},
		{"trusted-proxy-forwarded", tlsutil.Options{TrustedProxies: proxies, UseForwardedHeader: true}, reqSpec{remote: "10.0.0.3:4000", header: http.Header{"Forwarded": {"for=198.51.100.7;proto=https"}}}},
		{"plain-refused", tlsutil.Options{Logger: discardLogger()}, reqSpec{}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			mw, err := tlsutil.RequireHTTPS(bb.opts)
			if err != nil {
				b.Fatal(err)
			}
			h := mw(nop)
			r := bb.req.build()
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}

func BenchmarkRequireHTTPSParallel(b *testing.B) {
	mw, err := tlsutil.RequireHTTPS(tlsutil.Options{})
	if err != nil {
		b.Fatal(err)
	}
	h := mw(nop)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := reqSpec{tls: true}.build()
		w := &nopWriter{h: http.Header{}}
		for pb.Next() {
			h.ServeHTTP(w, r)
		}
	})
}

func BenchmarkIsHTTPS(b *testing.B) {
	isHTTPS, err := tlsutil.IsHTTPS(tlsutil.Options{TrustedProxies: proxies})
	if err != nil {
		b.Fatal(err)
	}
	r := reqSpec{remote: "10.0.0.3:4000", header: http.Header{"X-Forwarded-Proto": {"https"}}}.build()
	b.ReportAllocs()
	for b.Loop() {
		_ = isHTTPS(r)
	}
}

func BenchmarkRedirectHandler(b *testing.B) {
	h, err := tlsutil.RedirectHandler(tlsutil.RedirectOptions{CanonicalHost: "app.example", AllowedHosts: []string{"api.example"}})
	if err != nil {
		b.Fatal(err)
	}
	r := reqSpec{}.build()
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

func BenchmarkReloaderGetCertificate(b *testing.B) {
	ca := newCA(b, "bench CA")
	certFile, keyFile := ca.write(b, b.TempDir(), leafSpec{serial: 1})
	r, err := tlsutil.NewReloader(tlsutil.ReloaderOptions{CertFile: certFile, KeyFile: keyFile})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, _ = r.GetCertificate(nil)
		}
	})
}
