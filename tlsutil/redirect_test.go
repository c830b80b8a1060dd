package tlsutil_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/tlsutil"
)

func mustRedirect(t testing.TB, opts tlsutil.RedirectOptions) http.Handler {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = discardLogger()
	}
	h, err := tlsutil.RedirectHandler(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRedirectHandler(t *testing.T) {
	allowList := tlsutil.RedirectOptions{AllowedHosts: []string{"app.example", "www.app.example", "::1"}}
	canonical := tlsutil.RedirectOptions{CanonicalHost: "app.example", AllowedHosts: []string{"www.app.example"}}
	devPort := tlsutil.RedirectOptions{CanonicalHost: "localhost", HTTPSPort: 8443}
	for _, tt := range []struct {
		name           string
		opts           tlsutil.RedirectOptions
		method, target string
		host           string
		want           int
		wantLoc        string
	}{
		{"GET allowed host", allowList, "GET", "/a/b?x=1&y=%20", "app.example", 301, "https://app.example/a/b?x=1&y=%20"},
		{"HEAD", allowList, "HEAD", "/a", "app.example", 301, "https://app.example/a"},
		{"POST keeps method with 308", allowList, "POST", "/a", "app.example", 308, "https://app.example/a"},
		{"DELETE 308", allowList, "DELETE", "/a", "app.example", 308, "https://app.example/a"},
		{"host case, port and trailing dot ignored", allowList, "GET", "/", "WWW.App.Example.:80", 301, "https://www.app.example/"},
		{"IPv6 host", allowList, "GET", "/", "[::1]:80", 301, "https://[::1]/"},
		{"evil host refused without canonical", allowList, "GET", "/", "evil.example", 400, ""},
		{"evil host goes to canonical", canonical, "GET", "/a?b", "evil.example", 301, "https://app.example/a?b"},
		{"allowed host kept with canonical", canonical, "GET", "/", "www.app.example", 301, "https://www.app.example/"},
		{"CRLF host goes to canonical", canonical, "GET", "/", "app.example\r\nSet-Cookie: a=b", 301, "https://app.example/"},
		{"CRLF host refused", allowList, "GET", "/", "app.example\r\nSet-Cookie: a=b", 400, ""},
		{"userinfo host", canonical, "GET", "/", "app.example@evil.example", 301, "https://app.example/"},
		{"empty host", canonical, "GET", "/", "", 301, "https://app.example/"},
		{"scheme-relative path stays on host", canonical, "GET", "//evil.example/x", "app.example", 301, "https://app.example//evil.example/x"},
		{"backslash path stays on host", canonical, "GET", "/\\evil.example", "app.example", 301, "https://app.example/%5Cevil.example"},
		{"dev port", devPort, "GET", "/", "localhost:8080", 301, "https://localhost:8443/"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			r.Host = tt.host
			w := httptest.NewRecorder()
			mustRedirect(t, tt.opts).ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Fatalf("Host %q %s %s: status = %d, want %d", tt.host, tt.method, tt.target, w.Code, tt.want)
			}
			loc := w.Header().Get("Location")
			if loc != tt.wantLoc {
				t.Errorf("Host %q: Location = %q, want %q", tt.host, loc, tt.wantLoc)
			}
			if strings.ContainsAny(loc, "\r\n") || strings.Contains(loc, "evil.example/") && !strings.HasPrefix(loc, "https://app.example/") {
				t.Errorf("Location %q is injectable or off-host", loc)
			}
			if u, err := url.Parse(loc); loc != "" && (err != nil || u.Scheme != "https" || strings.Contains(u.Host, "evil")) {
				t.Errorf("Location %q does not point at an allowed https host", loc)
			}
			if w.Header().Get("Strict-Transport-Security") != "" {
				t.Error("plain-HTTP redirect carries Strict-Transport-Security (RFC 6797 §7.2)")
			}
			if tt.want == 400 {
				checkProblem(t, w, 400)
			}
		})
	}
}

func TestRedirectRefusesControlCharacters(t *testing.T) {
	var got error
	h := mustRedirect(t, tlsutil.RedirectOptions{
		CanonicalHost: "app.example",
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			w.WriteHeader(http.StatusBadRequest)
		},
	})
	r := httptest.NewRequest("GET", "/", nil)
	r.URL.RawQuery = "a=1\r\nSet-Cookie:x=y"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if !errors.Is(got, tlsutil.ErrInvalidTarget) || w.Header().Get("Location") != "" {
		t.Errorf("CRLF query: err = %v, Location = %q; want ErrInvalidTarget and no Location", got, w.Header().Get("Location"))
	}
	r = httptest.NewRequest("GET", "/", nil)
	r.Host = "evil.example"
	h = mustRedirect(t, tlsutil.RedirectOptions{
		AllowedHosts: []string{"app.example"},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) { got = err },
	})
	h.ServeHTTP(httptest.NewRecorder(), r)
	if !errors.Is(got, tlsutil.ErrHostNotAllowed) {
		t.Errorf("evil host: err = %v, want ErrHostNotAllowed", got)
	}
}

// TestRedirectOverTheWire sends raw requests to a loopback listener: what net/http itself
// lets through must still be safe.
func TestRedirectOverTheWire(t *testing.T) {
	srv := httptest.NewServer(mustRedirect(t, tlsutil.RedirectOptions{CanonicalHost: "app.example"}))
	defer srv.Close()
	for _, tt := range []struct {
		name, request string
		want          int
		wantLoc       string
	}{
		{"evil host", "GET /login?next=%2F HTTP/1.1\r\nHost: evil.example\r\n\r\n", 301, "https://app.example/login?next=%2F"},
		{"CR in host", "GET / HTTP/1.1\r\nHost: app.example\rX: y\r\n\r\n", 400, ""},
		{"two hosts", "GET / HTTP/1.1\r\nHost: app.example\r\nHost: evil.example\r\n\r\n", 400, ""},
		{"absolute-form target", "GET http://evil.example/x HTTP/1.1\r\nHost: evil.example\r\n\r\n", 301, "https://app.example/x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(conn, tt.request); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want || resp.Header.Get("Location") != tt.wantLoc {
				t.Errorf("%q: %d %q, want %d %q", tt.request, resp.StatusCode, resp.Header.Get("Location"), tt.want, tt.wantLoc)
			}
		})
	}
}

// fakeACME stands in for *autocert.Manager: it answers HTTP-01 challenge paths.
type fakeACME struct{}

func (fakeACME) HTTPHandler(fallback http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
			io.WriteString(w, "token.thumbprint")
			return
		}
		fallback.ServeHTTP(w, r)
	})
}

func TestRedirectServesACMEChallenge(t *testing.T) {
	h := mustRedirect(t, tlsutil.RedirectOptions{CanonicalHost: "app.example", ACME: fakeACME{}})
	for _, tt := range []struct {
		path string
		want int
	}{
		{"/.well-known/acme-challenge/abc", 200},
		{"/other", 301},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", tt.path, nil))
		if w.Code != tt.want {
			t.Errorf("GET %s: status = %d, want %d", tt.path, w.Code, tt.want)
		}
	}
}

func TestRedirectOptionErrors(t *testing.T) {
	for _, opts := range []tlsutil.RedirectOptions{
		{},
		{CanonicalHost: "evil.example\r\n"},
		{AllowedHosts: []string{"ok.example", "bad host"}},
		{CanonicalHost: "app.example", HTTPSPort: -1},
		{CanonicalHost: "-bad.example"},
		{CanonicalHost: "fe80::1%eth0"},
	} {
		if _, err := tlsutil.RedirectHandler(opts); err == nil {
			t.Errorf("RedirectHandler(%+v): err = nil, want an error", opts)
		}
	}
}
