package auth_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulwark-go/bulwark/auth"
)

// An authorization server issuing access tokens, and an API validating them.
func ExampleNewSigner() {
	// In production: auth.ParsePrivateKeyPEM of a key from your secret manager, or a KMS
	// key (any crypto.Signer). Never a key generated at startup.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, err := auth.NewSigner(auth.SignerOptions{
		Issuer: "https://login.example.com",
		Keys:   []auth.SigningKey{{Signer: key, State: auth.KeyActive}},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /.well-known/jwks.json", signer.JWKSHandler()) // for APIs elsewhere

	at, err := signer.Issue(context.Background(), auth.AccessClaims{
		Subject: "alice", Audience: []string{"https://api.example.com"}, ClientID: "notes-web",
		Scopes: []string{"notes:read"}, AMR: []string{"pwd", "otp"}, AuthTime: time.Now(),
	}, time.Now())
	if err != nil {
		fmt.Println(err)
		return
	}

	// The API (here in the same process; elsewhere, Issuer.JWKSURL).
	authenticate, _ := auth.New(auth.Options{
		Issuers: []auth.Issuer{{Issuer: signer.Issuer(), Audience: "https://api.example.com", Keys: signer.VerificationKeys()}},
		Logger:  slog.New(slog.DiscardHandler),
	})
	h := authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		fmt.Fprint(w, p.Subject, " ", p.Scopes, " ", p.AMR)
	}))
	r := httptest.NewRequest("GET", "/notes", nil)
	r.Header.Set("Authorization", "Bearer "+at.Token)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Body.String(), at.Expiry.Sub(at.IssuedAt))
	// Output:
	// 200 alice [notes:read] [pwd otp] 10m0s
}

// Login, refresh with rotation, and what happens when a stolen refresh token is replayed.
func ExampleNewRefresher() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := auth.NewSigner(auth.SignerOptions{
		Issuer: "https://login.example.com",
		Keys:   []auth.SigningKey{{Signer: key, State: auth.KeyActive}},
		Logger: slog.New(slog.DiscardHandler),
	})
	families, _ := auth.NewMemoryRefreshStore(auth.MemoryRefreshOptions{}) // a fleet: redisstore.NewRefreshStore
	revoked, _ := auth.NewMemoryRevocationStore(auth.MemoryRevocationOptions{})
	refresher, err := auth.NewRefresher(auth.RefreshOptions{
		Signer: signer, Store: families, Revocation: revoked,
		IdleTimeout: 24 * time.Hour, AbsoluteLifetime: 30 * 24 * time.Hour,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, now := context.Background(), time.Now()
	login, _ := refresher.Login(ctx, auth.AccessClaims{
		Subject: "alice", Audience: []string{"https://api.example.com"}, ClientID: "notes-web",
	}, now)
	next, err := refresher.Refresh(ctx, login.Refresh, now.Add(time.Second))
	fmt.Println("refresh:", err, next.Refresh != login.Refresh)
	_, err = refresher.Refresh(ctx, login.Refresh, now.Add(2*time.Second)) // replayed
	fmt.Println("replay:", errors.Is(err, auth.ErrRefreshReused))
	_, err = refresher.Refresh(ctx, next.Refresh, now.Add(3*time.Second))
	fmt.Println("family revoked:", errors.Is(err, auth.ErrRefreshInvalid))
	// Output:
	// refresh: <nil> true
	// replay: true
	// family revoked: true
}

// Logout: the validator checks the revocation store on every request.
func ExampleNewMemoryRevocationStore() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := auth.NewSigner(auth.SignerOptions{
		Issuer: "https://login.example.com", Keys: []auth.SigningKey{{Signer: key, State: auth.KeyActive}},
		Logger: slog.New(slog.DiscardHandler),
	})
	revoked, err := auth.NewMemoryRevocationStore(auth.MemoryRevocationOptions{}) // a fleet: redisstore
	if err != nil {
		fmt.Println(err)
		return
	}
	authenticate, _ := auth.New(auth.Options{
		Issuers:    []auth.Issuer{{Issuer: signer.Issuer(), Audience: "https://api.example.com", Keys: signer.VerificationKeys()}},
		Revocation: revoked,
		Logger:     slog.New(slog.DiscardHandler),
	})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		p, _ := auth.FromContext(r.Context())
		if err := revoked.RevokeToken(r.Context(), p.Issuer, p.TokenID, p.Expiry); err != nil {
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /notes", func(w http.ResponseWriter, r *http.Request) {})
	h := authenticate(mux)

	at, _ := signer.Issue(context.Background(), auth.AccessClaims{
		Subject: "alice", Audience: []string{"https://api.example.com"}, ClientID: "notes-web",
	}, time.Now())
	for _, route := range []string{"GET /notes", "POST /logout", "GET /notes"} {
		method, path, _ := strings.Cut(route, " ")
		r := httptest.NewRequest(method, path, nil)
		r.Header.Set("Authorization", "Bearer "+at.Token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(route, w.Code)
	}
	// Output:
	// GET /notes 200
	// POST /logout 204
	// GET /notes 401
}

// Step-up for a sensitive route: a second factor within the last 10 minutes.
func ExampleRequireMFA() {
	stepUp, err := auth.RequireMFA(auth.MFAOptions{MaxAge: 10 * time.Minute, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := stepUp(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "MFA settings") }))
	for _, p := range []auth.Principal{
		{Subject: "alice", AMR: []string{"pwd", "otp"}, AuthTime: time.Now().Add(-time.Minute)},
		{Subject: "alice", AMR: []string{"pwd"}, AuthTime: time.Now()},
	} {
		r := httptest.NewRequest("POST", "/account/mfa", nil)
		r = r.WithContext(auth.NewContext(r.Context(), p)) // as auth.New does
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(strings.TrimSpace(fmt.Sprint(w.Code, " ", w.Header().Get("WWW-Authenticate"))))
	}
	// Output:
	// 200
	// 401 Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", max_age="600"
}

// Tokens in cookies for a browser client, with CSRF protection.
func ExampleNewTokenCookie() {
	access, err := auth.NewTokenCookie(auth.CookieOptions{Name: "access"})
	if err != nil {
		fmt.Println(err)
		return
	}
	refresh, _ := auth.NewTokenCookie(auth.CookieOptions{Name: "refresh", Path: "/oauth/refresh"})
	w := httptest.NewRecorder()
	_ = access.Set(w, "eyJhbGciOi.example.token", time.Now().Add(10*time.Minute+time.Second))
	_ = refresh.Set(w, "family.secret", time.Now().Add(24*time.Hour+time.Second))
	for _, c := range w.Header().Values("Set-Cookie") {
		fmt.Println(c)
	}
	fmt.Println("auth.Options.Cookie:", access.Name())
	// Output:
	// __Host-access=eyJhbGciOi.example.token; Path=/; Max-Age=600; HttpOnly; Secure; SameSite=Strict
	// __Secure-refresh=family.secret; Path=/oauth/refresh; Max-Age=86400; HttpOnly; Secure; SameSite=Strict
	// auth.Options.Cookie: __Host-access
}

func ExampleNewCSRF() {
	csrf, err := auth.NewCSRF(auth.CSRFOptions{Cookies: []string{"__Host-access"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := csrf.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "saved") }))
	for _, site := range []string{"same-origin", "cross-site"} {
		r := httptest.NewRequest("POST", "https://api.example.com/notes", nil)
		r.AddCookie(&http.Cookie{Name: "__Host-access", Value: "token"})
		r.Header.Set("Sec-Fetch-Site", site)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(site, w.Code)
	}
	// Output:
	// same-origin 200
	// cross-site 403
}

func ExampleNewMemoryRefreshStore() {
	store, err := auth.NewMemoryRefreshStore(auth.MemoryRefreshOptions{MaxFamilies: 10_000})
	fmt.Println(store != nil, err)
	// Output: true <nil>
}

func ExampleDevelopmentKey() {
	dir, _ := os.MkdirTemp("", "keys")
	defer os.RemoveAll(dir)
	key, err := auth.DevelopmentKey(filepath.Join(dir, "dev-signing-key.pem")) // development only
	if err != nil {
		fmt.Println(err)
		return
	}
	fi, _ := os.Stat(filepath.Join(dir, "dev-signing-key.pem"))
	fmt.Printf("%T %v\n", key, fi.Mode().Perm())
	// Output: *ecdsa.PrivateKey -rw-------
}
