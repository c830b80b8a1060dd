package auth_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth"
)

// asServer is an RFC 7662 endpoint over HTTPS that knows a few opaque tokens.
func asServer(t *testing.T, tokens map[string]map[string]any) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var calls atomic.Int64
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		id, secret, ok := r.BasicAuth()
		if !ok || id != "rs" || secret != "rs-secret" || r.Method != http.MethodPost {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		resp, ok := tokens[r.PostFormValue("token")]
		if !ok {
			resp = map[string]any{"active": false}
		}
		_ = json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestIntrospection(t *testing.T) {
	exp := time.Now().Add(time.Hour).Unix()
	srv, calls := asServer(t, map[string]map[string]any{
		"opaque-read":  {"active": true, "sub": "alice", "aud": testAudience, "scope": "notes:read", "exp": exp, "client_id": "app"},
		"opaque-other": {"active": true, "sub": "bob", "aud": "api://other", "scope": "notes:read", "exp": exp},
		"opaque-str":   {"active": "true", "sub": "mallory", "aud": testAudience},
		"opaque-noact": {"sub": "mallory", "aud": testAudience},
	})
	opts := auth.Options{
		Introspection: auth.Introspection{URL: srv.URL, ClientID: "rs", ClientSecret: "rs-secret",
			Audience: testAudience, CacheTTL: time.Minute},
		HTTPClient: srv.Client(),
		Logger:     slog.New(slog.DiscardHandler),
	}
	mw, err := auth.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	read := mw(auth.RequireScopes("notes:read")(echo))
	write := mw(auth.RequireScopes("notes:write")(echo))
	for _, tt := range []struct {
		name string
		h    http.Handler
		tok  string
		want int
	}{
		{"active", read, "opaque-read", 200},
		{"cached, same route", read, "opaque-read", 200},
		// CVE-2021-32701's class: the cached answer must not skip the other route's scope check.
		{"cached, route needing another scope", write, "opaque-read", 403},
		{"inactive", read, "opaque-unknown", 401},
		{"other audience", read, "opaque-other", 401},
		{"active as a string", read, "opaque-str", 401},
		{"active missing", read, "opaque-noact", 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if w := serve(tt.h, bearerRequest(tt.tok)); w.Code != tt.want {
				t.Errorf("status = %d, want %d", w.Code, tt.want)
			}
		})
	}
	if n := calls.Load(); n != 5 {
		t.Errorf("introspection calls = %d, want 5 (the active token once, then cached)", n)
	}
	// The endpoint down: fail closed with 503.
	srv.Close()
	if w := serve(read, bearerRequest("opaque-new")); w.Code != http.StatusServiceUnavailable {
		t.Errorf("endpoint down: status = %d, want 503", w.Code)
	}
}
