package encode_test

import (
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/encode"
)

func mustHeaders(t testing.TB, opts encode.HeadersOptions, h http.Handler) http.Handler {
	t.Helper()
	mw, err := encode.Headers(opts)
	if err != nil {
		t.Fatalf("Headers(%+v): %v", opts, err)
	}
	return mw(h)
}

func tlsRequest(method, target string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true}
	return r
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, "ok")
})

// The zero-value profile against OSHP headers_add.json and CS-REST_Security "Security Headers".
// Deliberate deviations: no X-Frame-Options (CSP frame-ancestors replaces it, ASVS5 3.4.6), no
// X-Permitted-Cross-Domain-Policies (Flash and Acrobat only), HSTS of two years (MOZ-TLS 6.0)
// rather than one.
var apiHeaders = map[string]string{
	"X-Content-Type-Options":       "nosniff",
	"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
	"Referrer-Policy":              "no-referrer",
	"Permissions-Policy":           encode.DefaultPermissionsPolicy,
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Cache-Control":                "no-store",
}

func TestHeadersAPIProfile(t *testing.T) {
	for _, tt := range []struct {
		name     string
		status   int
		tls      bool
		wantHSTS string
	}{
		{"200 over TLS", 200, true, "max-age=63072000; includeSubDomains"},
		{"404 over TLS", 404, true, "max-age=63072000; includeSubDomains"},
		{"500 over TLS", 500, true, "max-age=63072000; includeSubDomains"},
		// RFC6797 §7.2: HSTS over plain HTTP is ignored by browsers; do not send it.
		{"200 over plain HTTP", 200, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHeaders(t, encode.HeadersOptions{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
			}))
			r := httptest.NewRequest("GET", "/", nil)
			if tt.tls {
				r = tlsRequest("GET", "/")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d", w.Code, tt.status)
			}
			// ASVS5 3.4.4, 3.4.5, 3.4.6, 14.3.2, 3.2.1: on every response, whatever its status.
			for k, want := range apiHeaders {
				if got := w.Header().Values(k); len(got) != 1 || got[0] != want {
					t.Errorf("%s = %q, want [%q]", k, got, want)
				}
			}
			if got := w.Header().Get("Strict-Transport-Security"); got != tt.wantHSTS {
				t.Errorf("Strict-Transport-Security = %q, want %q", got, tt.wantHSTS)
			}
			// CS-HTTP_Headers: no obsolete or harmful headers; no COEP, which does nothing
			// on a response that is not a document.
			for _, k := range []string{"X-Xss-Protection", "Expect-Ct", "Public-Key-Pins", "Cross-Origin-Embedder-Policy"} {
				if v, ok := w.Header()[k]; ok {
					t.Errorf("%s = %q, want it absent", k, v)
				}
			}
		})
	}
}

func TestHeadersHSTSOptions(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts encode.HeadersOptions
		want string
	}{
		{"preload", encode.HeadersOptions{HSTSPreload: true}, "max-age=63072000; includeSubDomains; preload"},
		{"one year preload", encode.HeadersOptions{HSTSPreload: true, HSTSMaxAge: 365 * 24 * time.Hour}, "max-age=31536000; includeSubDomains; preload"},
		{"short max-age", encode.HeadersOptions{HSTSMaxAge: time.Hour}, "max-age=3600; includeSubDomains"},
		{"fractional seconds truncate", encode.HeadersOptions{HSTSMaxAge: 1500 * time.Millisecond}, "max-age=1; includeSubDomains"},
		{"preload off with no subdomains", encode.HeadersOptions{UnsafeHSTSNoSubdomains: true, HSTSMaxAge: time.Hour}, "max-age=3600"},
		{"no subdomains", encode.HeadersOptions{UnsafeHSTSNoSubdomains: true}, "max-age=63072000"},
		{"off", encode.HeadersOptions{UnsafeNoHSTS: true}, ""},
		{"IsTLS says no", encode.HeadersOptions{IsTLS: func(*http.Request) bool { return false }}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			mustHeaders(t, tt.opts, okHandler).ServeHTTP(w, tlsRequest("GET", "/"))
			if got := w.Header().Get("Strict-Transport-Security"); got != tt.want {
				t.Errorf("Strict-Transport-Security = %q, want %q", got, tt.want)
			}
		})
	}

	// Behind a TLS-terminating proxy IsTLS decides, not r.TLS.
	w := httptest.NewRecorder()
	isTLS := func(r *http.Request) bool { return r.Header.Get("X-Test-Proxy-Proto") == "https" }
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Test-Proxy-Proto", "https")
	mustHeaders(t, encode.HeadersOptions{IsTLS: isTLS}, okHandler).ServeHTTP(w, r)
	if got := w.Header().Get("Strict-Transport-Security"); got == "" {
		t.Error("IsTLS returned true but no Strict-Transport-Security was sent")
	}
}

func TestHeadersRefusesBadOptions(t *testing.T) {
	for _, tt := range []struct {
		name     string
		opts     encode.HeadersOptions
		wantText []string // every one must appear in the error
	}{
		{"CRLF in CSP", encode.HeadersOptions{ContentSecurityPolicy: "default-src 'none'\r\nSet-Cookie: a=b"}, []string{"ContentSecurityPolicy"}},
		{"LF in Permissions-Policy", encode.HeadersOptions{PermissionsPolicy: "camera=()\nX: y"}, []string{"PermissionsPolicy"}},
		{"NUL in Cache-Control", encode.HeadersOptions{CacheControl: "no-store\x00"}, []string{"CacheControl"}},
		{"non-ASCII CSP", encode.HeadersOptions{ContentSecurityPolicy: "default-src 'nоne'"}, []string{"ContentSecurityPolicy"}},
		{"unsafe referrer policy", encode.HeadersOptions{ReferrerPolicy: "unsafe-url"}, []string{"ReferrerPolicy"}},
		{"unknown COOP", encode.HeadersOptions{CrossOriginOpenerPolicy: "unsafe-none"}, []string{"CrossOriginOpenerPolicy"}},
		{"unknown CORP", encode.HeadersOptions{CrossOriginResourcePolicy: "anyone"}, []string{"CrossOriginResourcePolicy"}},
		{"unknown COEP", encode.HeadersOptions{CrossOriginEmbedderPolicy: "require-corp\r\n"}, []string{"CrossOriginEmbedderPolicy"}},
		{"unknown profile", encode.HeadersOptions{Profile: 7}, []string{"Profile"}},
		{"negative max-age", encode.HeadersOptions{HSTSMaxAge: -time.Second}, []string{"HSTS max-age", "negative"}},
		{"max-age that would clear HSTS", encode.HeadersOptions{HSTSMaxAge: 999 * time.Millisecond}, []string{"under one second"}},
		// HSTSP: the preload list wants max-age >= 31536000 and includeSubDomains.
		{"preload with short max-age", encode.HeadersOptions{HSTSPreload: true, HSTSMaxAge: 180 * 24 * time.Hour}, []string{"one year", "31536000"}},
		{"preload without subdomains", encode.HeadersOptions{HSTSPreload: true, UnsafeHSTSNoSubdomains: true}, []string{"includeSubDomains"}},
		{"preload missing both", encode.HeadersOptions{HSTSPreload: true, HSTSMaxAge: time.Hour, UnsafeHSTSNoSubdomains: true}, []string{"one year", "includeSubDomains"}},
		{"preload without HSTS", encode.HeadersOptions{HSTSPreload: true, UnsafeNoHSTS: true}, []string{"UnsafeNoHSTS"}},
		{"http report endpoint", encode.HeadersOptions{ReportingEndpoint: "http://example.com/csp"}, []string{"ReportingEndpoint"}},
		{"relative report endpoint", encode.HeadersOptions{ReportingEndpoint: "/csp"}, []string{"ReportingEndpoint"}},
		{"quote in report endpoint", encode.HeadersOptions{ReportingEndpoint: `https://example.com/"; x`}, []string{"ReportingEndpoint"}},
		{"bad header to remove", encode.HeadersOptions{RemoveHeaders: []string{"X-Bad Header"}}, []string{"RemoveHeaders"}},
		{"every problem at once", encode.HeadersOptions{ReferrerPolicy: "origin", CacheControl: "\n", HSTSMaxAge: -1},
			[]string{"ReferrerPolicy", "CacheControl", "HSTS max-age"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := encode.Headers(tt.opts)
			if err == nil {
				t.Fatalf("Headers(%+v) = nil error, want one naming %q", tt.opts, tt.wantText)
			}
			if mw != nil {
				t.Error("Headers returned middleware together with an error")
			}
			if strings.Contains(tt.name, "preload") && tt.opts.HSTSPreload && !tt.opts.UnsafeNoHSTS && !errors.Is(err, encode.ErrHSTSPreload) {
				t.Errorf("error %q does not wrap ErrHSTSPreload", err)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
		})
	}
}

func TestHeadersStripsDisclosure(t *testing.T) {
	setAll := func(w http.ResponseWriter) {
		w.Header().Set("Server", "nginx/1.2.3")
		w.Header().Set("X-Powered-By", "PHP/5.4")
		w.Header().Set("X-AspNet-Version", "4.0.30319")
		w.Header().Set("X-XSS-Protection", "1; mode=block")
		w.Header().Set("X-Internal-Host", "db-7")
	}
	for _, tt := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"WriteHeader", func(w http.ResponseWriter, r *http.Request) { setAll(w); w.WriteHeader(201) }},
		{"implicit header on Write", func(w http.ResponseWriter, r *http.Request) { setAll(w); _, _ = io.WriteString(w, "x") }},
		{"Flush", func(w http.ResponseWriter, r *http.Request) { setAll(w); http.NewResponseController(w).Flush() }},
		{"after a 103", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			setAll(w)
			w.WriteHeader(200)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHeaders(t, encode.HeadersOptions{RemoveHeaders: []string{"x-internal-host", "X-AspNet-Version"}}, tt.handler)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
			// OSHP headers_remove.json; ASVS5 13.4.6.
			for _, k := range []string{"Server", "X-Powered-By", "X-Aspnet-Version", "X-Xss-Protection", "X-Internal-Host"} {
				if v := w.Header().Get(k); v != "" {
					t.Errorf("%s = %q reached the client", k, v)
				}
			}
		})
	}
}

// Through a real server: a handler that copies an upstream's headers (as a reverse proxy does)
// does not leak them.
func TestHeadersStripsDisclosureOverHTTP(t *testing.T) {
	srv := httptest.NewServer(mustHeaders(t, encode.HeadersOptions{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Server", "Apache/2.4.1 (Unix)")
		w.Header().Add("X-Powered-By", "Express")
		_, _ = io.WriteString(w, "hello")
	})))
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	for _, k := range []string{"Server", "X-Powered-By"} {
		if v := res.Header.Get(k); v != "" {
			t.Errorf("%s = %q reached the client", k, v)
		}
	}
	if got := res.Header.Get("Content-Security-Policy"); got != encode.APIContentSecurityPolicy {
		t.Errorf("Content-Security-Policy = %q", got)
	}
}

func TestHeadersHandlerMayOverride(t *testing.T) {
	h := mustHeaders(t, encode.HeadersOptions{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if got := w.Header().Get("Cache-Control"); got != "public, max-age=60" {
		t.Errorf("Cache-Control = %q, want the handler's", got)
	}
	if got := w.Header().Get("Cross-Origin-Resource-Policy"); got != "cross-origin" {
		t.Errorf("Cross-Origin-Resource-Policy = %q, want the handler's", got)
	}
}

// A handler that edits a header value in place, or appends to it, must not change another
// header of the same response, nor what the next response gets.
func TestHeadersAppendDoesNotClobberNeighbours(t *testing.T) {
	h := mustHeaders(t, encode.HeadersOptions{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k := range apiHeaders {
			w.Header().Add(k, "appended")
		}
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	for k, want := range apiHeaders {
		if got := w.Header().Values(k); len(got) != 2 || got[0] != want || got[1] != "appended" {
			t.Errorf("%s = %q, want [%q appended]", k, got, want)
		}
	}
}

func TestHeadersResponsesDoNotShareValues(t *testing.T) {
	first := true
	h := mustHeaders(t, encode.HeadersOptions{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if first {
			first = false
			w.Header()["Cache-Control"][0] = "public"
			w.Header().Add("Referrer-Policy", "unsafe-url")
			w.Header()["Referrer-Policy"][0] = "origin"
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if got := w.Header().Values("Cache-Control"); len(got) != 1 || got[0] != "no-store" {
		t.Errorf("second response Cache-Control = %q, want [no-store]", got)
	}
	if got := w.Header().Values("Referrer-Policy"); len(got) != 1 || got[0] != "no-referrer" {
		t.Errorf("second response Referrer-Policy = %q, want [no-referrer]", got)
	}
}

func TestHeadersDocumentNonce(t *testing.T) {
	var seen string
	h := mustHeaders(t, encode.HeadersOptions{Profile: encode.ProfileDocument}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = encode.NonceFromContext(r.Context())
	}))
	const n = 10000
	nonces := make(map[string]bool, n)
	for i := 0; i < n; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, tlsRequest("GET", "/"))
		csp := w.Header().Get("Content-Security-Policy")
		want := strings.ReplaceAll(encode.DocumentContentSecurityPolicy, encode.NoncePlaceholder, seen)
		if csp != want {
			t.Fatalf("Content-Security-Policy = %q, want %q", csp, want)
		}
		// CSP3: at least 128 bits from a CSPRNG, base64, new for every response.
		raw, err := base64.RawURLEncoding.DecodeString(seen)
		if err != nil || len(raw) < 16 {
			t.Fatalf("nonce %q decodes to %d bytes (%v), want >= 16", seen, len(raw), err)
		}
		if nonces[seen] {
			t.Fatalf("nonce %q repeated after %d responses", seen, i)
		}
		nonces[seen] = true
	}
	// ASVS5 3.4.3 and CS-Content_Security_Policy "Strict Policy".
	for _, d := range []string{"'strict-dynamic'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(encode.DocumentContentSecurityPolicy, d) {
			t.Errorf("document policy lacks %s", d)
		}
	}
	if strings.Contains(encode.DocumentContentSecurityPolicy, "unsafe") {
		t.Error("document policy allows an unsafe source")
	}
}

func TestHeadersNoNonceWithoutPlaceholder(t *testing.T) {
	h := mustHeaders(t, encode.HeadersOptions{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n, ok := encode.NonceFromContext(r.Context()); ok {
			t.Errorf("API profile made nonce %q nobody can use", n)
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))

	// A custom policy with the placeholder gets nonces in any profile.
	var nonce string
	h = mustHeaders(t, encode.HeadersOptions{ContentSecurityPolicy: "script-src 'nonce-{nonce}'; object-src 'none'"},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { nonce, _ = encode.NonceFromContext(r.Context()) }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if got, want := w.Header().Get("Content-Security-Policy"), "script-src 'nonce-"+nonce+"'; object-src 'none'"; nonce == "" || got != want {
		t.Errorf("Content-Security-Policy = %q, want %q", got, want)
	}
}

func TestHeadersDocumentProfile(t *testing.T) {
	w := httptest.NewRecorder()
	mustHeaders(t, encode.HeadersOptions{Profile: encode.ProfileDocument}, okHandler).ServeHTTP(w, tlsRequest("GET", "/"))
	if got := w.Header().Get("Cross-Origin-Embedder-Policy"); got != "require-corp" {
		t.Errorf("Cross-Origin-Embedder-Policy = %q, want require-corp", got)
	}
	for k, want := range apiHeaders {
		if k == "Content-Security-Policy" {
			continue
		}
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	// An API profile may still ask for COEP.
	w = httptest.NewRecorder()
	mustHeaders(t, encode.HeadersOptions{CrossOriginEmbedderPolicy: "credentialless"}, okHandler).ServeHTTP(w, tlsRequest("GET", "/"))
	if got := w.Header().Get("Cross-Origin-Embedder-Policy"); got != "credentialless" {
		t.Errorf("Cross-Origin-Embedder-Policy = %q, want credentialless", got)
	}
}

func TestHeadersReportingEndpoint(t *testing.T) {
	w := httptest.NewRecorder()
	mustHeaders(t, encode.HeadersOptions{Profile: encode.ProfileDocument, ReportingEndpoint: "https://reports.example.com/csp"}, okHandler).
		ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if got, want := w.Header().Get("Reporting-Endpoints"), `csp-endpoint="https://reports.example.com/csp"`; got != want {
		t.Errorf("Reporting-Endpoints = %q, want %q", got, want)
	}
	// ASVS5 3.4.7; CS-Content_Security_Policy: report-to, with report-uri for older browsers.
	if csp := w.Header().Get("Content-Security-Policy"); !strings.HasSuffix(csp, "; report-to csp-endpoint; report-uri https://reports.example.com/csp") {
		t.Errorf("Content-Security-Policy = %q, want report-to and report-uri", csp)
	}
}

func TestHeadersKeepsWriterInterfaces(t *testing.T) {
	h := mustHeaders(t, encode.HeadersOptions{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Flusher); !ok {
			t.Error("wrapped writer is not an http.Flusher")
		}
		if _, ok := w.(http.Hijacker); !ok {
			t.Error("wrapped writer is not an http.Hijacker")
		}
		// http.ResponseController reaches the real writer through Unwrap.
		if err := http.NewResponseController(w).SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through the wrapper: %v", err)
		}
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
}

func TestHeadersNilHandlerPanics(t *testing.T) {
	mw, err := encode.Headers(encode.HeadersOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("wrapping a nil handler did not panic at once")
		}
	}()
	mw(nil)
}

var errNever = errors.New("never")

func BenchmarkHeaders(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts encode.HeadersOptions
		r    *http.Request
	}{
		{"api/plain", encode.HeadersOptions{}, httptest.NewRequest("GET", "/", nil)},
		{"api/tls", encode.HeadersOptions{}, tlsRequest("GET", "/")},
		{"document/tls", encode.HeadersOptions{Profile: encode.ProfileDocument}, tlsRequest("GET", "/")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := mustHeaders(b, bc.opts, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(200)
			}))
			w := newDiscardWriter()
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				h.ServeHTTP(w, bc.r)
			}
			if w.code != 200 {
				b.Fatal(errNever)
			}
		})
	}
}
