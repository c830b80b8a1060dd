package rbac_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/bulwark-go/bulwark/rbac"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// logBuffer collects JSON log records; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// records returns the decoded records whose msg is event.
func (l *logBuffer) records(t testing.TB, event string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(l.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if m["msg"] == event {
			out = append(out, m)
		}
	}
	return out
}

func newLog() (*logBuffer, *slog.Logger) {
	l := &logBuffer{}
	return l, slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// who is what a stand-in for auth stores in the context: verified identity, never headers.
type who struct {
	subject string
	roles   []string
}

type whoKey struct{}

func withWho(r *http.Request, subject string, roles ...string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), whoKey{}, who{subject, roles}))
}

func subjectOf(r *http.Request) string {
	w, _ := r.Context().Value(whoKey{}).(who)
	return w.subject
}

func rolesOf(r *http.Request) []string {
	w, _ := r.Context().Value(whoKey{}).(who)
	return w.roles
}

// mustAuthorizer builds an Authorizer whose subject and roles come from withWho.
func mustAuthorizer(tb testing.TB, opts rbac.Options) *rbac.Authorizer {
	tb.Helper()
	if opts.Subject == nil {
		opts.Subject = subjectOf
	}
	if opts.Roles == nil {
		opts.Roles = rolesOf
	}
	if opts.Logger == nil {
		opts.Logger = discardLogger()
	}
	a, err := rbac.New(opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return a
}

var ok = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("secret data of " + r.URL.Path))
})

func contextWith(r *http.Request, key, val any) context.Context {
	return context.WithValue(r.Context(), key, val)
}
