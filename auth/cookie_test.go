package auth_test

import (
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/auth"
)

func newCookie(t *testing.T, opts auth.CookieOptions) *auth.TokenCookie {
	t.Helper()
	c, err := auth.NewTokenCookie(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Exact Set-Cookie attributes (ASVS5 3.3.1 Secure, 3.3.2 SameSite, 3.3.3 __Host-/__Secure-,
// 3.3.4 HttpOnly; OBS cookies: Secure + HttpOnly + SameSite).
func TestTokenCookieAttributes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		exp := time.Now().Add(10 * time.Minute)
		for _, tt := range []struct {
			name       string
			opts       auth.CookieOptions
			set, clear string
		}{
			{"access, defaults", auth.CookieOptions{Name: "access"},
				"__Host-access=tok.en-_1; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Strict",
				"__Host-access=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict"},
			{"refresh, path scoped", auth.CookieOptions{Name: "refresh", Path: "/oauth/refresh"},
				"__Secure-refresh=tok.en-_1; Path=/oauth/refresh; Max-Age=600; HttpOnly; Secure; SameSite=Strict",
				"__Secure-refresh=; Path=/oauth/refresh; Max-Age=0; HttpOnly; Secure; SameSite=Strict"},
			{"lax", auth.CookieOptions{Name: "access", SameSiteLax: true},
				"__Host-access=tok.en-_1; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Lax",
				"__Host-access=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax"},
			{"domain", auth.CookieOptions{Name: "access", Domain: "example.com"},
				"__Secure-access=tok.en-_1; Path=/; Domain=example.com; Max-Age=600; HttpOnly; Secure; SameSite=Strict",
				"__Secure-access=; Path=/; Domain=example.com; Max-Age=0; HttpOnly; Secure; SameSite=Strict"},
		} {
			c := newCookie(t, tt.opts)
			w := httptest.NewRecorder()
			if err := c.Set(w, "tok.en-_1", exp); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			c.Clear(w)
			if got, want := w.Header().Values("Set-Cookie"), []string{tt.set, tt.clear}; !slices.Equal(got, want) {
				t.Errorf("%s: Set-Cookie =\n%q\nwant\n%q", tt.name, got, want)
			}
		}
	})
}

func TestTokenCookieRefusals(t *testing.T) {
	c := newCookie(t, auth.CookieOptions{Name: "access"})
	if c.Name() != "__Host-access" {
		t.Errorf("Name = %q, want __Host-access", c.Name())
	}
	for _, v := range []string{"", "a b", "a;b", `a"b`, "a,b", "\x00"} {
		w := httptest.NewRecorder()
		if err := c.Set(w, v, time.Now().Add(time.Minute)); !errors.Is(err, auth.ErrCookieValue) || w.Header().Get("Set-Cookie") != "" {
			t.Errorf("value %q: err = %v, Set-Cookie %q; want ErrCookieValue and nothing set", v, err, w.Header().Get("Set-Cookie"))
		}
	}
	if err := c.Set(httptest.NewRecorder(), strings.Repeat("a", 4096), time.Now().Add(time.Minute)); !errors.Is(err, auth.ErrCookieValue) {
		t.Errorf("cookie over 4096 bytes: err = %v, want ErrCookieValue", err)
	}
	if err := c.Set(httptest.NewRecorder(), "tok", time.Now().Add(-time.Second)); !errors.Is(err, auth.ErrCookieValue) {
		t.Errorf("past expiry: err = %v", err)
	}
	for _, bad := range []auth.CookieOptions{
		{}, {Name: "__Host-access"}, {Name: "a b"}, {Name: "a", Path: "relative"}, {Name: "a", Path: "/x;y"}, {Name: "a", Domain: "a;b"},
	} {
		if _, err := auth.NewTokenCookie(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
