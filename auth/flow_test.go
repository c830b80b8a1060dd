package auth_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth"
)

// End to end over HTTPS with a browser-like cookie jar: login sets the token cookies,
// cookie-authenticated writes pass same-origin and fail cross-site, refresh rotates the
// cookies, logout clears them and revokes the session.
func TestCookieSessionFlow(t *testing.T) {
	f := newRefreshFixture(t, 0, 0)
	access := newCookie(t, auth.CookieOptions{Name: "access"})
	refresh := newCookie(t, auth.CookieOptions{Name: "refresh", Path: "/refresh"})
	authenticate, err := auth.New(auth.Options{
		Issuers:    []auth.Issuer{{Issuer: issIssuer, Audience: issAudience, Keys: f.signer.VerificationKeys()}},
		Cookie:     access.Name(),
		Revocation: f.revoked,
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	csrf, err := auth.NewCSRF(auth.CSRFOptions{Cookies: []string{access.Name(), refresh.Name()}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	setCookies := func(w http.ResponseWriter, tok auth.Tokens) {
		if err := access.Set(w, tok.Access.Token, tok.Access.Expiry); err != nil {
			t.Error(err)
		}
		if err := refresh.Set(w, tok.Refresh, tok.RefreshExpiry); err != nil {
			t.Error(err)
		}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// The password (and TOTP) check is the application's.
		tok, err := f.r.Login(r.Context(), aliceClaims(), time.Now())
		if err != nil {
			http.Error(w, "", http.StatusInternalServerError)
			return
		}
		setCookies(w, tok)
	})
	mux.HandleFunc("POST /refresh", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(refresh.Name())
		if err != nil {
			http.Error(w, "", http.StatusBadRequest)
			return
		}
		tok, err := f.r.Refresh(r.Context(), c.Value, time.Now())
		if errors.Is(err, auth.ErrRefreshInvalid) {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		if err != nil {
			http.Error(w, "", http.StatusServiceUnavailable)
			return
		}
		setCookies(w, tok)
	})
	api := http.NewServeMux()
	api.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(auth.Subject(r))) })
	api.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		if err := f.r.RevokeSession(r.Context(), p.SessionID, time.Now()); err != nil {
			http.Error(w, "", http.StatusServiceUnavailable)
			return
		}
		access.Clear(w)
		refresh.Clear(w)
	})
	mux.Handle("/", authenticate(api))
	srv := httptest.NewTLSServer(csrf.Protect(mux))
	defer srv.Close()

	jar, _ := cookiejar.New(nil)
	client := srv.Client()
	client.Jar = jar
	post := func(path, site string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+path, nil)
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	if got := post("/notes", "same-origin"); got != http.StatusUnauthorized {
		t.Fatalf("before login: %d, want 401", got)
	}
	if got := post("/login", "same-origin"); got != http.StatusOK {
		t.Fatalf("login: %d", got)
	}
	for _, tt := range []struct {
		path, site string
		want       int
	}{
		{"/notes", "same-origin", 200},
		{"/notes", "cross-site", 403},
		{"/refresh", "cross-site", 403},
		{"/refresh", "same-origin", 200},
		{"/notes", "same-origin", 200}, // with the rotated access cookie
		{"/logout", "same-origin", 200},
		{"/notes", "same-origin", 401}, // cookies cleared
		{"/refresh", "same-origin", 400},
	} {
		if got := post(tt.path, tt.site); got != tt.want {
			t.Errorf("POST %s (%s): status = %d, want %d", tt.path, tt.site, got, tt.want)
		}
	}
}
