package tlsutil_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/bulwark-go/bulwark/tlsutil"
)

// FuzzRedirectHandler: whatever Host, path and query a client sends to the plain-HTTP
// listener, the answer is a redirect to https on an allowed host, or a 4xx; the Location
// never carries a control character or space (no header injection) and never names another
// host (no open redirect).
func FuzzRedirectHandler(f *testing.F) {
	for _, seed := range []struct{ host, path, query string }{
		{"www.example", "/a/b", "x=1"},
		{"evil.example", "/", ""},
		{"www.example:80", "//evil.example/x", ""},
		{"WWW.EXAMPLE.", "/%0d%0aSet-Cookie:a=b", "a=%0d%0a"},
		{"[::1]:80", "/\\evil", "q=<script>"},
		{"www.example\r\nX: y", "/", ""},
		{"", "", ""},
		{"www.example@evil.example", "/", ""},
	} {
		f.Add(seed.host, seed.path, seed.query)
	}
	h, err := tlsutil.RedirectHandler(tlsutil.RedirectOptions{
		CanonicalHost: "api.example", AllowedHosts: []string{"www.example", "api.example"},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, host, path, query string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		r.URL.Path, r.URL.RawPath, r.URL.RawQuery = path, "", query
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch {
		case w.Code == http.StatusMovedPermanently:
		case w.Code >= 400 && w.Code < 500:
			return
		default:
			t.Fatalf("Host %q path %q query %q: status %d", host, path, query, w.Code)
		}
		loc := w.Header().Get("Location")
		for i := 0; i < len(loc); i++ {
			if c := loc[i]; c <= ' ' || c >= 0x7f {
				t.Fatalf("Location %q holds byte %#x", loc, c)
			}
		}
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatalf("Location %q does not parse: %v", loc, err)
		}
		if u.Scheme != "https" || u.User != nil || (u.Hostname() != "www.example" && u.Hostname() != "api.example") {
			t.Fatalf("Host %q path %q: Location %q leaves the allowed hosts", host, path, loc)
		}
	})
}
