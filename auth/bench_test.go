package auth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bulwark-go/bulwark/auth"
)

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) WriteHeader(int)             {}
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }

var ok200 = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

func benchHandler(b *testing.B, opts auth.Options) http.Handler {
	mw, err := auth.New(opts)
	if err != nil {
		b.Fatal(err)
	}
	return mw(ok200)
}

func BenchmarkVerify(b *testing.B) {
	k := keys()
	for _, tt := range []struct {
		alg, kid string
		key      any
	}{{"ES256", "ec1", k.ec}, {"RS256", "rsa1", k.rsa}} {
		b.Run(tt.alg, func(b *testing.B) {
			h := benchHandler(b, baseOptions())
			r := bearerRequest(mint(b, tt.alg, tt.key, hdr(tt.alg, tt.kid), validClaims()))
			w := &nopWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}

// BenchmarkVerifyCached is a client repeating its token, from every core at once.
func BenchmarkVerifyCached(b *testing.B) {
	opts := baseOptions()
	opts.CacheSize = 1024
	h := benchHandler(b, opts)
	r := bearerRequest(V(b))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &nopWriter{h: http.Header{}}
		for pb.Next() {
			h.ServeHTTP(w, r)
		}
	})
}

// BenchmarkRefuse is the path under attack: forged tokens and requests without any.
func BenchmarkRefuse(b *testing.B) {
	h := benchHandler(b, baseOptions())
	for name, r := range map[string]*http.Request{
		"no credentials": httptest.NewRequest("GET", "/", nil),
		"unknown kid":    bearerRequest(mint(b, "RS256", keys().attacker, hdr("RS256", "evil"), validClaims())),
		"alg none":       bearerRequest("eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0In0.e30."),
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(&nopWriter{h: http.Header{}}, r)
			}
		})
	}
}

func BenchmarkAPIKey(b *testing.B) {
	store := auth.NewMemoryAPIKeyStore()
	key, rec, _ := auth.GenerateAPIKey("bwk")
	_ = store.Add(rec)
	h := benchHandler(b, auth.Options{APIKeys: store, APIKeyPrefix: "bwk"})
	r := bearerRequest(key)
	w := &nopWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}
