package encode_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/encode"
)

func mustRequestID(t testing.TB, opts encode.RequestIDOptions) (http.Handler, *string) {
	t.Helper()
	mw, err := encode.RequestID(opts)
	if err != nil {
		t.Fatal(err)
	}
	var seen string
	return mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen, _ = encode.RequestIDFromContext(r.Context())
	})), &seen
}

var generatedID = regexp.MustCompile(`^[A-Z2-7]{26}$`)

func TestRequestID(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, tt := range []struct {
		name     string
		remote   string
		incoming []string
		keep     bool
	}{
		{"no incoming id", "10.1.2.3:1234", nil, false},
		{"trusted proxy, good id", "10.1.2.3:1234", []string{"0f8fad5b-d9cb-469f-a165-70867728950e"}, true},
		{"trusted IPv6 proxy", "[fd00::1]:443", []string{"Root=1-67891233-abcdef012345678912345678"}, true},
		{"trusted IPv4-mapped proxy", "[::ffff:10.0.0.1]:443", []string{"abc"}, true},
		{"untrusted client forges an id", "203.0.113.9:5555", []string{"0f8fad5b-d9cb-469f-a165-70867728950e"}, false},
		{"trusted, space", "10.1.2.3:1", []string{"a b"}, false},
		{"trusted, log injection", "10.1.2.3:1", []string{`x" level=INFO msg="authn_login_success`}, false},
		{"trusted, comma", "10.1.2.3:1", []string{"a,b"}, false},
		{"trusted, too long", "10.1.2.3:1", []string{strings.Repeat("a", encode.MaxRequestIDLen+1)}, false},
		{"trusted, longest", "10.1.2.3:1", []string{strings.Repeat("a", encode.MaxRequestIDLen)}, true},
		{"trusted, two values", "10.1.2.3:1", []string{"a", "b"}, false},
		{"trusted, empty", "10.1.2.3:1", []string{""}, false},
		{"unparsable remote address", "garbage", []string{"abc"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, seen := mustRequestID(t, encode.RequestIDOptions{TrustedProxies: proxies})
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			r.Header["X-Request-Id"] = tt.incoming
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got := w.Header().Get("X-Request-Id")
			if got != *seen {
				t.Errorf("response id %q differs from context id %q", got, *seen)
			}
			if tt.keep {
				if got != tt.incoming[0] {
					t.Errorf("id = %q, want the proxy's %q", got, tt.incoming[0])
				}
			} else if !generatedID.MatchString(got) {
				t.Errorf("id = %q, want a fresh random id", got)
			}
		})
	}
}

func TestRequestIDZeroValueTrustsNobody(t *testing.T) {
	h, _ := mustRequestID(t, encode.RequestIDOptions{})
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "127.0.0.1:80"
	r.Header.Set("X-Request-Id", "chosen-by-client")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if got := w.Header().Get("X-Request-Id"); got == "chosen-by-client" || !generatedID.MatchString(got) {
		t.Errorf("id = %q, want a fresh one", got)
	}
}

func TestRequestIDUnique(t *testing.T) {
	h, seen := mustRequestID(t, encode.RequestIDOptions{})
	ids := map[string]bool{}
	for i := 0; i < 10000; i++ {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		if ids[*seen] {
			t.Fatalf("id %q repeated after %d requests", *seen, i)
		}
		ids[*seen] = true
	}
}

func TestRequestIDCustomHeader(t *testing.T) {
	h, _ := mustRequestID(t, encode.RequestIDOptions{Header: "x-correlation-id", TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	r := httptest.NewRequest("GET", "/", nil) // httptest's RemoteAddr is 192.0.2.1:1234
	r.Header.Set("X-Correlation-Id", "corr-1")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if got := w.Header().Get("X-Correlation-Id"); got != "corr-1" {
		t.Errorf("X-Correlation-Id = %q, want corr-1", got)
	}
}

func TestRequestIDRefusesBadOptions(t *testing.T) {
	for _, opts := range []encode.RequestIDOptions{
		{Header: "X-Request Id"},
		{Header: "X-Id\r\n"},
		{TrustedProxies: []netip.Prefix{{}}},
	} {
		if mw, err := encode.RequestID(opts); err == nil || mw != nil {
			t.Errorf("RequestID(%+v) = %v, want an error and no middleware", opts, err)
		}
	}
}

var requestIDShape = regexp.MustCompile(`^[A-Za-z0-9._:+/=-]{1,128}$`)

func FuzzValidRequestID(f *testing.F) {
	for _, s := range []string{"", "abc", "0f8fad5b-d9cb-469f-a165-70867728950e", "a b", "a\r\nb", "a,b", `"`, "é", strings.Repeat("z", 129), "Root=1-5e1b4151-5ac6c58f5b5daa6532e4f1b7"} {
		f.Add(s)
	}
	h, _ := mustRequestID(f, encode.RequestIDOptions{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	f.Fuzz(func(t *testing.T, s string) {
		valid := encode.ValidRequestID(s)
		if valid != requestIDShape.MatchString(s) {
			t.Fatalf("ValidRequestID(%q) = %v, disagrees with the documented alphabet", s, valid)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["X-Request-Id"] = []string{s}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		got := w.Header().Get("X-Request-Id")
		if (got == s) != valid {
			t.Fatalf("incoming %q from a trusted proxy: got %q; kept = %v, want %v", s, got, got == s, valid)
		}
		if !encode.ValidRequestID(got) {
			t.Fatalf("sent id %q is not itself valid", got)
		}
	})
}

func BenchmarkRequestID(b *testing.B) {
	h, _ := mustRequestID(b, encode.RequestIDOptions{})
	r := httptest.NewRequest("GET", "/", nil)
	w := newDiscardWriter()
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
	}
}
