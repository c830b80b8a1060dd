package auth_test

import (
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth"
)

func TestGenerateAPIKey(t *testing.T) {
	key, rec, err := auth.GenerateAPIKey("bwk")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "bwk_") || len(key) != len("bwk_")+12+43 {
		t.Errorf("key %q: want bwk_ and 55 base64url characters", key)
	}
	if rec.Hash != sha256.Sum256([]byte(key)) || !strings.HasPrefix(key[4:], rec.ID) {
		t.Error("record does not hold the key's hash and id")
	}
	other, _, _ := auth.GenerateAPIKey("bwk")
	if other == key {
		t.Error("two keys are equal")
	}
	for _, p := range []string{"", "a", "Bwk", "bw_k", strings.Repeat("a", 17)} {
		if _, _, err := auth.GenerateAPIKey(p); err == nil {
			t.Errorf("GenerateAPIKey(%q): nil error", p)
		}
	}
}

func TestAPIKeys(t *testing.T) {
	store := auth.NewMemoryAPIKeyStore()
	add := func(mod func(*auth.APIKey)) string {
		key, rec, err := auth.GenerateAPIKey("bwk")
		if err != nil {
			t.Fatal(err)
		}
		rec.Subject, rec.Scopes, rec.Roles = "billing-service", []string{"invoices:read"}, []string{"service"}
		mod(&rec)
		if err := store.Add(rec); err != nil {
			t.Fatal(err)
		}
		return key
	}
	good := add(func(*auth.APIKey) {})
	expired := add(func(k *auth.APIKey) { k.Expires = time.Now().Add(-time.Second) })
	revoked := add(func(*auth.APIKey) {})
	store.Revoke(revoked[4:16])
	wrongSecret := good[:len(good)-5] + "AAAAA"
	unknown, _, _ := auth.GenerateAPIKey("bwk")

	var got auth.Principal
	var gotErr error
	opts := baseOptions()
	opts.APIKeys, opts.APIKeyPrefix = store, "bwk"
	opts.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) { gotErr = err; w.WriteHeader(401) }
	mw, err := auth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got, _ = auth.FromContext(r.Context()) }))

	if w := serve(h, bearerRequest(good)); w.Code != 200 {
		t.Fatalf("good key: status = %d", w.Code)
	}
	if got.Method != auth.MethodAPIKey || !got.Client || got.Subject != "billing-service" || got.Issuer != "" ||
		!got.HasScope("invoices:read") || got.Key() != "api_key:"+good[4:16] {
		t.Errorf("principal = %+v", got)
	}
	rec, _ := store.APIKey(t.Context(), good[4:16])
	if time.Since(rec.LastUsed) > time.Minute {
		t.Errorf("LastUsed = %v, want now", rec.LastUsed)
	}
	if w := serve(h, bearerRequest(V(t))); w.Code != 200 {
		t.Errorf("JWT next to API keys: status = %d", w.Code)
	}
	for name, tt := range map[string]struct {
		key  string
		want error
	}{
		"expired":      {expired, auth.ErrAPIKeyExpiry},
		"revoked":      {revoked, auth.ErrAPIKeyExpiry},
		"wrong secret": {wrongSecret, auth.ErrSignature},
		"unknown":      {unknown, auth.ErrUnknownKey},
		"short":        {"bwk_abc", auth.ErrMalformed},
	} {
		gotErr = nil
		if w := serve(h, bearerRequest(tt.key)); w.Code != 401 || !errors.Is(gotErr, tt.want) || !errors.Is(gotErr, auth.ErrInvalidToken) {
			t.Errorf("%s: status = %d, error %v; want 401 and %v", name, w.Code, gotErr, tt.want)
		}
	}
	// Per-route scope checks apply to API keys as to tokens.
	w := serve(mw(auth.RequireScopes("invoices:write")(echo)), bearerRequest(good))
	if w.Code != http.StatusForbidden {
		t.Errorf("missing scope: status = %d, want 403", w.Code)
	}
	// API keys alone are a valid configuration.
	if _, err := auth.New(auth.Options{APIKeys: store, APIKeyPrefix: "bwk", Logger: slog.New(slog.DiscardHandler)}); err != nil {
		t.Errorf("APIKeys only: %v", err)
	}
}
