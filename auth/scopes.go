package auth

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/bulwark-go/bulwark/encode"
)

// RequireScopes returns middleware that lets a request through only if its [Principal] was
// granted every one of scopes. Use it per route, behind [New]:
//
//	mux.Handle("POST /notes", auth.RequireScopes("notes:write")(createNote))
//
// A principal without a scope gets 403 with WWW-Authenticate: Bearer
// error="insufficient_scope", scope="..." (RFC 6750 §3.1). A request without a principal
// (New missing, or Options.Optional and no credentials) gets 401: it fails closed.
// Refusals are logged to [slog.Default] as authz_fail and written with [encode.WriteError].
// The check runs on every request, whether the principal came from a cache or not.
func RequireScopes(scopes ...string) func(http.Handler) http.Handler {
	need := append([]string(nil), scopes...)
	insufficient := []string{`Bearer error="insufficient_scope"`}
	if quotable(need) {
		insufficient[0] += `, scope="` + strings.Join(need, " ") + `"`
	}
	noCredentials := []string{"Bearer"}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("auth: nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := FromContext(r.Context())
			if !ok {
				w.Header()["Www-Authenticate"] = noCredentials
				refuseScope(w, r, &encode.Error{Status: http.StatusUnauthorized, Err: ErrNoCredentials})
				return
			}
			for _, s := range need {
				if !p.HasScope(s) {
					w.Header()["Www-Authenticate"] = insufficient
					refuseScope(w, r, &encode.Error{Status: http.StatusForbidden, Err: ErrInsufficientScope})
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func refuseScope(w http.ResponseWriter, r *http.Request, err *encode.Error) {
	encode.LogRefusal(slog.Default(), r, eventFor(err), err)
	encode.WriteError(w, r, err)
}

// quotable reports whether scopes fit RFC 6750's scope-token syntax
// (%x21 / %x23-5B / %x5D-7E), so that they can be sent in the scope attribute.
func quotable(scopes []string) bool {
	for _, s := range scopes {
		if s == "" {
			return false
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
				return false
			}
		}
	}
	return true
}
