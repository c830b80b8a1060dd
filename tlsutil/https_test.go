package tlsutil_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/encode"
	"github.com/bulwark-go/bulwark/tlsutil"
)

var proxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}

const defaultHSTS = "max-age=63072000; includeSubDomains"

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
})

func mustRequireHTTPS(t testing.TB, opts tlsutil.Options) http.Handler {
	t.Helper()
	mw, err := tlsutil.RequireHTTPS(opts)
	if err != nil {
		t.Fatal(err)
	}
	return mw(okHandler)
}

type reqSpec struct {
	method, url, remote string
	tls                 bool
	header              http.Header
}

func (s reqSpec) build() *http.Request {
	method := s.method
	if method == "" {
		method = http.MethodGet
	}
	url := s.url
	if url == "" {
		url = "http://api.example/notes?page=2"
	}
	r := httptest.NewRequest(method, url, nil)
	r.TLS = nil
	if s.tls {
		r.TLS = &tls.ConnectionState{Version: tls.VersionTLS13}
	}
	if s.remote != "" {
		r.RemoteAddr = s.remote
	}
	for k, v := range s.header {
		r.Header[k] = v
	}
	return r
}

func TestRequireHTTPS(t *testing.T) {
	behindProxy := tlsutil.Options{TrustedProxies: proxies}
	forwardedProxy := tlsutil.Options{TrustedProxies: proxies, UseForwardedHeader: true}
	redirect := tlsutil.Options{Redirect: true, CanonicalHost: "app.example", AllowedHosts: []string{"api.example"}}
	for _, tt := range []struct {
		name     string
		opts     tlsutil.Options
		req      reqSpec
		want     int
		wantHSTS string
		wantLoc  string
	}{
		{"direct TLS", tlsutil.Options{}, reqSpec{tls: true}, 200, defaultHSTS, ""},
		// ASVS5 4.1.2, 12.2.1: an API refuses plain HTTP instead of redirecting.
		{"plain HTTP refused", tlsutil.Options{}, reqSpec{}, 403, "", ""},
		// ASVS5 4.1.3: X-Forwarded-Proto from a client is not believed.
		{"forged X-Forwarded-Proto, no proxies configured", tlsutil.Options{}, reqSpec{remote: "203.0.113.5:4000",
			header: http.Header{"X-Forwarded-Proto": {"https"}}}, 403, "", ""},
		{"forged X-Forwarded-Proto from untrusted peer", behindProxy, reqSpec{remote: "203.0.113.5:4000",
			header: http.Header{"X-Forwarded-Proto": {"https"}}}, 403, "", ""},
		{"X-Forwarded-Proto https from trusted proxy", behindProxy, reqSpec{remote: "10.0.0.3:4000",
			header: http.Header{"X-Forwarded-Proto": {"https"}}}, 200, defaultHSTS, ""},
		{"X-Forwarded-Proto http from trusted proxy", behindProxy, reqSpec{remote: "10.0.0.3:4000",
			header: http.Header{"X-Forwarded-Proto": {"http"}}}, 403, "", ""},
		{"Forwarded is ignored unless chosen", behindProxy, reqSpec{remote: "10.0.0.3:4000",
			header: http.Header{"Forwarded": {"for=198.51.100.7;proto=https"}}}, 403, "", ""},
		{"Forwarded proto=https from trusted proxy", forwardedProxy, reqSpec{remote: "10.0.0.3:4000",
			header: http.Header{"Forwarded": {"for=198.51.100.7;proto=https"}}}, 200, defaultHSTS, ""},
		{"Forwarded forged from untrusted peer", forwardedProxy, reqSpec{remote: "203.0.113.5:4000",
			header: http.Header{"Forwarded": {"for=198.51.100.7;proto=https"}}}, 403, "", ""},
		{"Forwarded malformed", forwardedProxy, reqSpec{remote: "10.0.0.3:4000",
			header: http.Header{"Forwarded": {`for="198.51.100.7;proto=https`}}}, 403, "", ""},
		{"Forwarded malformed element after a good one", forwardedProxy, reqSpec{remote: "10.0.0.3:4000",
			header: http.Header{"Forwarded": {"for=198.51.100.7;proto=https, for=;proto=https"}}}, 403, "", ""},
		{"Forwarded obfuscated client", forwardedProxy, reqSpec{remote: "10.0.0.3:4000",
			header: http.Header{"Forwarded": {"for=_abc;proto=https"}}}, 403, "", ""},
		{"redirect GET keeps allowed host, path and query", redirect, reqSpec{}, 301, "", "https://api.example/notes?page=2"},
		{"redirect POST is 308", redirect, reqSpec{method: http.MethodPost}, 308, "", "https://api.example/notes?page=2"},
		{"redirect unknown host goes to canonical", redirect, reqSpec{url: "http://evil.example/x"}, 301, "", "https://app.example/x"},
		{"redirect mode still passes TLS", redirect, reqSpec{tls: true}, 200, defaultHSTS, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Logger = discardLogger()
			w := httptest.NewRecorder()
			mustRequireHTTPS(t, opts).ServeHTTP(w, tt.req.build())
			if w.Code != tt.want {
				t.Errorf("status = %d, want %d", w.Code, tt.want)
			}
			if got := w.Header().Get("Strict-Transport-Security"); got != tt.wantHSTS {
				t.Errorf("Strict-Transport-Security = %q, want %q (RFC 6797 §7.2: none over plain HTTP)", got, tt.wantHSTS)
			}
			if got := w.Header().Get("Location"); got != tt.wantLoc {
				t.Errorf("Location = %q, want %q", got, tt.wantLoc)
			}
			if tt.want == 403 {
				checkProblem(t, w, 403)
			}
		})
	}
}

// checkProblem checks an RFC 9457 body that reveals nothing but the status.
func checkProblem(t *testing.T, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != encode.ProblemContentType {
		t.Errorf("Content-Type = %q, want %q", ct, encode.ProblemContentType)
	}
	var p struct {
		Status int    `json:"status"`
		Title  string `json:"title"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != status {
		t.Errorf("body %s: status %d (err %v), want %d", w.Body, p.Status, err, status)
	}
	if strings.Contains(w.Body.String(), "tlsutil") {
		t.Errorf("body %s leaks the internal error", w.Body)
	}
}

func TestRequireHTTPSErrorHandler(t *testing.T) {
	var got error
	mw, err := tlsutil.RequireHTTPS(tlsutil.Options{
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			w.WriteHeader(http.StatusTeapot)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	mw(okHandler).ServeHTTP(w, reqSpec{}.build())
	if !errors.Is(got, tlsutil.ErrInsecureTransport) || w.Code != http.StatusTeapot {
		t.Errorf("ErrorHandler got %v and wrote %d, want ErrInsecureTransport and 418", got, w.Code)
	}
}

func TestRequireHTTPSDefaultLog(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	w := httptest.NewRecorder()
	mustRequireHTTPS(t, tlsutil.Options{Logger: logger}).ServeHTTP(w, reqSpec{}.build())
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], `"msg":"input_validation_fail"`) || !strings.Contains(lines[0], `"level":"WARN"`) {
		t.Errorf("log = %q, want one WARN input_validation_fail record", buf.String())
	}
	if strings.Contains(buf.String(), "page=2") {
		t.Errorf("log %q contains the query string", buf.String())
	}
}

// TestLeakedCredential: ASVS5 4.1.2 and 16.2.5; a token sent over plain HTTP is reported for
// revocation and never logged.
func TestLeakedCredential(t *testing.T) {
	const token = "Bearer eyJhbGciOiJFUzI1NiJ9.c2VjcmV0.c2ln"
	const cookie = "session_id=s3cr3t-cookie-value"
	for _, tt := range []struct {
		name     string
		header   http.Header
		tls      bool
		redirect bool
		wantKind string // "" means no leak reported
	}{
		{"authorization", http.Header{"Authorization": {token}}, false, false, "authorization"},
		{"cookie", http.Header{"Cookie": {cookie}}, false, false, "cookie"},
		{"both", http.Header{"Authorization": {token}, "Cookie": {cookie}}, false, false, "authorization,cookie"},
		{"both while redirecting", http.Header{"Authorization": {token}, "Cookie": {cookie}}, false, true, "authorization,cookie"},
		{"no credential", nil, false, false, ""},
		{"over TLS", http.Header{"Authorization": {token}}, true, false, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			var hooked *http.Request
			opts := tlsutil.Options{
				Logger:             slog.New(slog.NewJSONHandler(&buf, nil)),
				OnLeakedCredential: func(r *http.Request) { hooked = r },
			}
			if tt.redirect {
				opts.Redirect, opts.CanonicalHost = true, "api.example"
			}
			h := mustRequireHTTPS(t, opts)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, reqSpec{tls: tt.tls, header: tt.header}.build())
			if tt.wantKind == "" {
				if hooked != nil || strings.Contains(buf.String(), "authn_token_leaked") {
					t.Errorf("leak reported for %v: log %q", tt.header, buf.String())
				}
				return
			}
			if hooked == nil {
				t.Fatal("OnLeakedCredential not called")
			}
			if hooked.Header.Get("Authorization") != tt.header.Get("Authorization") {
				t.Error("hook did not get the request with its credential")
			}
			log := buf.String()
			if !strings.Contains(log, `"msg":"authn_token_leaked"`) || !strings.Contains(log, `"credential":"`+tt.wantKind+`"`) {
				t.Errorf("log = %q, want authn_token_leaked with credential %q", log, tt.wantKind)
			}
			for _, secret := range []string{"eyJ", "c2VjcmV0", "s3cr3t", "session_id"} {
				if strings.Contains(log, secret) {
					t.Errorf("log contains %q: %s", secret, log)
				}
			}
		})
	}
}

func TestHSTSOptions(t *testing.T) {
	for _, tt := range []struct {
		name        string
		opts        tlsutil.Options
		want        string
		wantPreload bool // error wraps ErrHSTSPreload
		wantErr     bool
	}{
		{"default", tlsutil.Options{}, defaultHSTS, false, false},
		// ASVS5 3.4.1, 3.7.4, HSTSP: preload only with max-age >= 1 year and includeSubDomains.
		{"preload", tlsutil.Options{HSTSPreload: true}, defaultHSTS + "; preload", false, false},
		{"preload with one year", tlsutil.Options{HSTSPreload: true, HSTSMaxAge: tlsutil.MinPreloadMaxAge}, "max-age=31536000; includeSubDomains; preload", false, false},
		{"preload with short max-age", tlsutil.Options{HSTSPreload: true, HSTSMaxAge: 30 * 24 * time.Hour}, "", true, true},
		{"preload without includeSubDomains", tlsutil.Options{HSTSPreload: true, UnsafeHSTSNoSubdomains: true}, "", true, true},
		{"exclude subdomains", tlsutil.Options{UnsafeHSTSNoSubdomains: true}, "max-age=63072000", false, false},
		{"staged roll-out", tlsutil.Options{HSTSMaxAge: 300 * time.Second}, "max-age=300; includeSubDomains", false, false},
		{"fraction truncated", tlsutil.Options{HSTSMaxAge: 90*time.Second + time.Millisecond}, "max-age=90; includeSubDomains", false, false},
		{"negative", tlsutil.Options{HSTSMaxAge: -time.Second}, "", false, true},
		{"under a second", tlsutil.Options{HSTSMaxAge: time.Millisecond}, "", false, true},
		{"omitted", tlsutil.Options{UnsafeNoHSTS: true}, "", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mw, err := tlsutil.RequireHTTPS(tt.opts)
			if tt.wantErr {
				if err == nil {
					t.Fatal("err = nil, want an error")
				}
				if got := errors.Is(err, tlsutil.ErrHSTSPreload); got != tt.wantPreload {
					t.Errorf("errors.Is(%v, ErrHSTSPreload) = %v, want %v", err, got, tt.wantPreload)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := httptest.NewRecorder()
			mw(okHandler).ServeHTTP(w, reqSpec{tls: true}.build())
			if got := w.Header().Get("Strict-Transport-Security"); got != tt.want {
				t.Errorf("Strict-Transport-Security = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestHSTSOnRedirectsAndErrors: HSTSP asks for HSTS on HTTPS 3xx responses too.
func TestHSTSOnRedirectsAndErrors(t *testing.T) {
	mw, err := tlsutil.RequireHTTPS(tlsutil.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Strict-Transport-Security", "ignored") // must not corrupt the shared value
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	for range 2 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, reqSpec{tls: true}.build())
		if got := w.Header().Values("Strict-Transport-Security"); len(got) == 0 || got[0] != defaultHSTS {
			t.Errorf("302 over TLS: Strict-Transport-Security = %q, want %q first", got, defaultHSTS)
		}
	}
}

func TestRequireHTTPSOptionErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts tlsutil.Options
	}{
		{"invalid proxy prefix", tlsutil.Options{TrustedProxies: []netip.Prefix{{}}}},
		{"redirect without hosts", tlsutil.Options{Redirect: true}},
		{"redirect to CRLF host", tlsutil.Options{Redirect: true, CanonicalHost: "a.example\r\nX: y"}},
		{"redirect to host with port", tlsutil.Options{Redirect: true, CanonicalHost: "a.example:8443"}},
		{"redirect allow-list with path", tlsutil.Options{Redirect: true, AllowedHosts: []string{"a.example/x"}}},
		{"bad port", tlsutil.Options{Redirect: true, CanonicalHost: "a.example", HTTPSPort: 70000}},
		{"redirect target without Redirect", tlsutil.Options{CanonicalHost: "a.example"}},
		{"allow-list without Redirect", tlsutil.Options{AllowedHosts: []string{"a.example"}}},
		{"preload without HSTS", tlsutil.Options{HSTSPreload: true, UnsafeNoHSTS: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tlsutil.RequireHTTPS(tt.opts); err == nil {
				t.Errorf("RequireHTTPS(%+v): err = nil, want an error", tt.opts)
			}
			if _, err := tlsutil.IsHTTPS(tt.opts); err == nil {
				t.Errorf("IsHTTPS(%+v): err = nil, want an error", tt.opts)
			}
		})
	}
}

func TestIsHTTPS(t *testing.T) {
	isHTTPS, err := tlsutil.IsHTTPS(tlsutil.Options{TrustedProxies: proxies})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		req  reqSpec
		want bool
	}{
		{"TLS", reqSpec{tls: true}, true},
		{"plain", reqSpec{}, false},
		{"trusted proxy says https", reqSpec{remote: "10.1.2.3:5", header: http.Header{"X-Forwarded-Proto": {"https"}}}, true},
		{"client says https", reqSpec{remote: "203.0.113.5:5", header: http.Header{"X-Forwarded-Proto": {"https"}}}, false},
	} {
		if got := isHTTPS(tt.req.build()); got != tt.want {
			t.Errorf("%s: IsHTTPS = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func discardLogger() *slog.Logger {
	return slog.New(slog.DiscardHandler)
}
