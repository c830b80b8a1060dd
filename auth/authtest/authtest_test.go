package authtest_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bulwark-go/bulwark/auth"
	"github.com/bulwark-go/bulwark/auth/authtest"
	"github.com/bulwark-go/bulwark/encode"
)

// protected is a route behind auth.New trusting idp, recording the refusal reason.
func protected(t *testing.T, idp *authtest.Server, reason *error) http.Handler {
	t.Helper()
	mw, err := auth.New(auth.Options{
		Issuers:    []auth.Issuer{idp.Issuer()},
		HTTPClient: idp.Client(),
		Logger:     slog.New(slog.DiscardHandler),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if reason != nil {
				*reason = err
			}
			encode.WriteError(w, r, err)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(auth.Subject(r))) }))
}

func call(h http.Handler, tok string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "https://api.test/notes", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestValidTokens(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA"} {
		idp := authtest.NewServer(t, authtest.Options{Algorithm: alg})
		h := protected(t, idp, nil)
		w := call(h, idp.Token(t, func(c *auth.AccessClaims) { c.Subject = "bob" }))
		if w.Code != http.StatusOK || w.Body.String() != "bob" {
			t.Errorf("%s: %d %q, want 200 bob", alg, w.Code, w.Body.String())
		}
	}
}

// Every deliberately broken token is refused with 401 invalid_token (SECURITY-STANDARDS §4
// rows 1, 2, 4, 7, 12, 13, 14, 15).
func TestBrokenTokens(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA"} {
		idp := authtest.NewServer(t, authtest.Options{Algorithm: alg})
		var reason error
		h := protected(t, idp, &reason)
		call(h, idp.Token(t)) // fetch the keys once
		for _, b := range authtest.Breakages() {
			reason = nil
			w := call(h, idp.Broken(t, b))
			if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") != `Bearer error="invalid_token"` {
				t.Errorf("%s %s: %d %q, want 401 invalid_token", alg, b, w.Code, w.Header().Get("WWW-Authenticate"))
			}
			if !errors.Is(reason, auth.ErrInvalidToken) {
				t.Errorf("%s %s: reason %v, want ErrInvalidToken", alg, b, reason)
			}
		}
	}
}

// Staged rotation: a validator that cached the key set with the next key in it accepts
// tokens of the new key without refetching, and tokens of the retired key stay valid.
func TestRotation(t *testing.T) {
	idp := authtest.NewServer(t, authtest.Options{})
	h := protected(t, idp, nil)
	idp.PublishNext(t)
	old := idp.Token(t)
	if w := call(h, old); w.Code != http.StatusOK {
		t.Fatalf("before rotation: %d", w.Code)
	}
	fetches := idp.JWKSFetches()
	idp.Rotate(t)
	fresh := idp.Token(t)
	for name, tok := range map[string]string{"retired key's token": old, "new key's token": fresh} {
		if w := call(h, tok); w.Code != http.StatusOK {
			t.Errorf("%s: status = %d, want 200", name, w.Code)
		}
	}
	if idp.JWKSFetches() != fetches {
		t.Errorf("the validator refetched the JWKS (%d -> %d): the next key was published in advance", fetches, idp.JWKSFetches())
	}
	// A validator that starts after the rotation still gets the retired key.
	if w := call(protected(t, idp, nil), old); w.Code != http.StatusOK {
		t.Errorf("new validator, retired key's token: status = %d, want 200", w.Code)
	}
}
