package authtest_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/auth"
	"github.com/bulwark-go/bulwark/auth/authtest"
)

// A test of your own route: a valid token with a scope, and an expired one.
func ExampleNewServer() {
	t := &testing.T{} // in a real test, the *testing.T of the test function
	idp := authtest.NewServer(t, authtest.Options{Audience: "https://api.example.com"})
	authenticate, err := auth.New(auth.Options{
		Issuers:    []auth.Issuer{idp.Issuer()},
		HTTPClient: idp.Client(),
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := authenticate(auth.RequireScopes("notes:write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "created by ", auth.Subject(r))
	})))

	for _, tok := range []string{
		idp.Token(t, func(c *auth.AccessClaims) { c.Scopes = []string{"notes:write"} }),
		idp.Token(t), // no scope
		idp.Broken(t, authtest.Expired),
	} {
		r := httptest.NewRequest("POST", "/notes", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(strings.TrimSpace(fmt.Sprint(w.Code, " ", w.Header().Get("WWW-Authenticate"))))
	}
	// Output:
	// 200
	// 403 Bearer error="insufficient_scope", scope="notes:write"
	// 401 Bearer error="invalid_token"
}
