package bench

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/encode"
	"github.com/unrolled/secure"
)

// The same eight headers, configured in each library: bulwark's zero-value API profile.
const (
	hsts        = "max-age=63072000; includeSubDomains"
	apiCSP      = encode.APIContentSecurityPolicy
	documentCSP = "default-src 'self'; script-src $NONCE 'strict-dynamic'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)

// discardWriter is a reusable ResponseWriter: its header map keeps its capacity between
// iterations, so map growth does not drown the middleware's own cost.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

var final = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })

func tlsRequest() *http.Request {
	r := httptest.NewRequest("GET", "https://api.example.com/v1/notes", nil)
	r.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true}
	return r
}

// handwritten is what a careful team writes by hand: eight Header().Set calls.
func handwritten(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Strict-Transport-Security", hsts)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", apiCSP)
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Permissions-Policy", encode.DefaultPermissionsPolicy)
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

func unrolled(csp string) func(http.Handler) http.Handler {
	s := secure.New(secure.Options{
		STSSeconds:                63072000,
		STSIncludeSubdomains:      true,
		ContentTypeNosniff:        true,
		ContentSecurityPolicy:     csp,
		ReferrerPolicy:            "no-referrer",
		PermissionsPolicy:         encode.DefaultPermissionsPolicy,
		CrossOriginOpenerPolicy:   "same-origin",
		CrossOriginResourcePolicy: "same-origin",
	})
	return func(next http.Handler) http.Handler {
		// unrolled/secure has no Cache-Control option; a user adds it like this.
		return s.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-store")
			next.ServeHTTP(w, r)
		}))
	}
}

func bulwark(tb testing.TB, opts encode.HeadersOptions) func(http.Handler) http.Handler {
	mw, err := encode.Headers(opts)
	if err != nil {
		tb.Fatal(err)
	}
	return mw
}

func identity(next http.Handler) http.Handler { return next }

func runHeaders(b *testing.B, h http.Handler) {
	r := tlsRequest()
	w := &discardWriter{h: make(http.Header, 16)}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

func BenchmarkHeaders(b *testing.B) {
	for _, c := range []struct {
		name string
		mw   func(http.Handler) http.Handler
	}{
		{"bare", identity},
		{"handwritten", handwritten},
		{"bulwark", bulwark(b, encode.HeadersOptions{})},
		{"unrolled-secure", unrolled(apiCSP)},
	} {
		b.Run(c.name, func(b *testing.B) { runHeaders(b, c.mw(final)) })
	}
}

func BenchmarkHeadersNonce(b *testing.B) {
	for _, c := range []struct {
		name string
		mw   func(http.Handler) http.Handler
	}{
		{"bulwark", bulwark(b, encode.HeadersOptions{ContentSecurityPolicy: strings.ReplaceAll(documentCSP, "$NONCE", "'nonce-{nonce}'")})},
		{"unrolled-secure", unrolled(documentCSP)},
	} {
		b.Run(c.name, func(b *testing.B) { runHeaders(b, c.mw(final)) })
	}
}

// TestEquivalentHeaders checks that the compared configurations really send the same headers,
// so the benchmark compares like with like.
func TestEquivalentHeaders(t *testing.T) {
	get := func(mw func(http.Handler) http.Handler) http.Header {
		w := httptest.NewRecorder()
		mw(final).ServeHTTP(w, tlsRequest())
		return w.Header()
	}
	want := get(handwritten)
	for name, mw := range map[string]func(http.Handler) http.Handler{
		"bulwark":         bulwark(t, encode.HeadersOptions{}),
		"unrolled-secure": unrolled(apiCSP),
	} {
		got := get(mw)
		for k, v := range want {
			if got.Get(k) != v[0] {
				t.Errorf("%s: %s = %q, want %q", name, k, got.Get(k), v[0])
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s sends %d headers, want %d: %v", name, len(got), len(want), got)
		}
	}
}
