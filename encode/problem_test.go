package encode_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/encode"
)

var errSecretCause = errors.New("db: password=hunter2 at 10.0.0.5:5432")

// problem is the decoded body of a problem+json response.
type problem struct {
	Type       string              `json:"type"`
	Title      string              `json:"title"`
	Status     int                 `json:"status"`
	Detail     string              `json:"detail"`
	Instance   string              `json:"instance"`
	Errors     []map[string]string `json:"errors"`
	RetryAfter int                 `json:"retry_after"`
	RequestID  string              `json:"request_id"`
}

func decodeProblem(t *testing.T, w *httptest.ResponseRecorder) problem {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != encode.ProblemContentType {
		t.Fatalf("Content-Type = %q, want %q", ct, encode.ProblemContentType)
	}
	var p problem
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("body %q is not a problem object: %v", w.Body.String(), err)
	}
	if p.Status != w.Code {
		t.Errorf("body status = %d, want the HTTP status %d (RFC9457 §3.1.2)", p.Status, w.Code)
	}
	if p.Type == "" || p.Title == "" {
		t.Errorf("type %q and title %q must both be present", p.Type, p.Title)
	}
	return p
}

func TestWriteErrorShapes(t *testing.T) {
	for _, tt := range []struct {
		name       string
		err        error
		wantStatus int
		want       problem
	}{
		{"plain error is a generic 500", errSecretCause, 500,
			problem{Type: "about:blank", Title: "Internal Server Error", Status: 500}},
		{"nil error is a generic 500", nil, 500,
			problem{Type: "about:blank", Title: "Internal Server Error", Status: 500}},
		{"zero Error is a 500", &encode.Error{}, 500,
			problem{Type: "about:blank", Title: "Internal Server Error", Status: 500}},
		{"status out of range is a 500", &encode.Error{Status: 302, Detail: "x"}, 500,
			problem{Type: "about:blank", Title: "Internal Server Error", Status: 500, Detail: "x"}},
		{"status and detail", &encode.Error{Status: 404, Detail: "no such note", Err: errSecretCause}, 404,
			problem{Type: "about:blank", Title: "Not Found", Status: 404, Detail: "no such note"}},
		{"wrapped Error", fmt.Errorf("handler: %w", &encode.Error{Status: 409, Err: errSecretCause}), 409,
			problem{Type: "about:blank", Title: "Conflict", Status: 409}},
		{"about:blank ignores Title", &encode.Error{Status: 403, Title: "Made up"}, 403,
			problem{Type: "about:blank", Title: "Forbidden", Status: 403}},
		{"custom type and title", &encode.Error{Status: 422, Type: "https://example.com/probs/out-of-credit", Title: "Out of credit", Instance: "/account/12345/msgs/abc"}, 422,
			problem{Type: "https://example.com/probs/out-of-credit", Title: "Out of credit", Status: 422, Instance: "/account/12345/msgs/abc"}},
		{"per-field errors", &encode.Error{Status: 400, Errors: []encode.FieldError{
			{Detail: "must be a positive integer", Pointer: "#/age"},
			{Detail: "must be at most 100", Rule: "max", Parameter: "limit"},
			{Detail: "is required", Header: "Idempotency-Key"},
		}}, 400, problem{Type: "about:blank", Title: "Bad Request", Status: 400, Errors: []map[string]string{
			{"detail": "must be a positive integer", "pointer": "#/age"},
			{"detail": "must be at most 100", "rule": "max", "parameter": "limit"},
			{"detail": "is required", "header": "Idempotency-Key"},
		}}},
		{"retry after rounds up", &encode.Error{Status: 429, RetryAfter: 1500 * time.Millisecond}, 429,
			problem{Type: "about:blank", Title: "Too Many Requests", Status: 429, RetryAfter: 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			encode.WriteError(w, httptest.NewRequest("GET", "/", nil), tt.err)
			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d", w.Code, tt.wantStatus)
			}
			got := decodeProblem(t, w)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("problem = %+v, want %+v", got, tt.want)
			}
			// RFC9457 §5, ASVS5 16.5.1: the cause never reaches the client.
			if strings.Contains(w.Body.String(), "hunter2") || strings.Contains(w.Body.String(), "10.0.0.5") {
				t.Errorf("body %q leaks the internal cause", w.Body.String())
			}
			for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
				if got := w.Header().Get(k); got != want {
					t.Errorf("%s = %q, want %q (ASVS5 14.3.2)", k, got, want)
				}
			}
		})
	}
}

func TestWriteErrorRetryAfterHeader(t *testing.T) {
	w := httptest.NewRecorder()
	encode.WriteError(w, httptest.NewRequest("GET", "/", nil), &encode.Error{Status: 429, RetryAfter: 30 * time.Second})
	if got := w.Header().Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After = %q, want 30 (RFC9110 §10.2.3)", got)
	}

	// A Retry-After the caller set (STYLE: set before calling ErrorHandler) is kept.
	w = httptest.NewRecorder()
	w.Header().Set("Retry-After", "7")
	encode.WriteError(w, httptest.NewRequest("GET", "/", nil), &encode.Error{Status: 503, RetryAfter: 30 * time.Second})
	if got := w.Header().Get("Retry-After"); got != "7" {
		t.Errorf("Retry-After = %q, want the caller's 7", got)
	}
}

func TestWriteErrorDropsStaleHeaders(t *testing.T) {
	w := httptest.NewRecorder()
	for _, k := range []string{"Content-Encoding", "Content-Disposition", "Etag", "Last-Modified", "Content-Range"} {
		w.Header().Set(k, "stale")
	}
	w.Header().Set("Content-Length", "99999")
	w.Header().Set("Content-Type", "text/html")
	w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
	encode.WriteError(w, httptest.NewRequest("GET", "/", nil), &encode.Error{Status: 401})
	for _, k := range []string{"Content-Encoding", "Content-Disposition", "Etag", "Last-Modified", "Content-Range"} {
		if v := w.Header().Get(k); v != "" {
			t.Errorf("%s = %q survived; it would mislabel the problem body", k, v)
		}
	}
	if got, want := w.Header().Get("Content-Length"), fmt.Sprint(w.Body.Len()); got != want {
		t.Errorf("Content-Length = %s, want %s", got, want)
	}
	if got := w.Header().Get("WWW-Authenticate"); got != `Bearer realm="api"` {
		t.Errorf("WWW-Authenticate = %q; the caller's challenge must be kept", got)
	}
	decodeProblem(t, w)
}

func TestWriteErrorRequestID(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r = r.WithContext(encode.NewRequestIDContext(r.Context(), "req-42"))
	w := httptest.NewRecorder()
	encode.WriteError(w, r, &encode.Error{Status: 400})
	if got := decodeProblem(t, w).RequestID; got != "req-42" {
		t.Errorf("request_id = %q, want req-42", got)
	}
}

// The hand-written encoder must produce exactly what encoding/json produces, escaping
// included (ASVS5 1.2.3): anything else risks a body that is not JSON, or JSON that breaks out
// of a <script> when a client embeds it.
func TestWriteErrorEscapesLikeEncodingJSON(t *testing.T) {
	for _, s := range stringSeeds {
		checkDetailMatchesEncodingJSON(t, s)
	}
}

var stringSeeds = []string{
	"", "plain", `"quoted" \back\slash/`, "</script><script>alert(1)</script>", "a & b > c",
	"line\nbreak\r\ttab\b\f\x00\x1f\x7f", "\u2028\u2029", "héllo wörld 日本", "bad utf8 \xff\xfe end",
	"\xed\xa0\x80 surrogate", "emoji 🦀", strings.Repeat("x", 1000),
}

func checkDetailMatchesEncodingJSON(t *testing.T, s string) {
	t.Helper()
	w := httptest.NewRecorder()
	encode.WriteError(w, httptest.NewRequest("GET", "/", nil), &encode.Error{Status: 400, Detail: s})
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	body := w.Body.Bytes()
	prefix := []byte(`{"type":"about:blank","title":"Bad Request","status":400`)
	if len(s) > 0 {
		prefix = append(prefix, `,"detail":`...)
		prefix = append(prefix, want...)
	}
	if !bytes.HasPrefix(body, prefix) {
		t.Errorf("detail %q: body = %s, want it to start with %s", s, body, prefix)
	}
	if !json.Valid(body) {
		t.Errorf("detail %q: body %q is not valid JSON", s, body)
	}
	if bytes.ContainsAny(body, "<>&") {
		t.Errorf("detail %q: body %s holds a raw <, > or &", s, body)
	}
}

func FuzzWriteErrorDetail(f *testing.F) {
	for _, s := range stringSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkDetailMatchesEncodingJSON(t, s)
	})
}

func TestErrorUnwrap(t *testing.T) {
	sentinel := errors.New("pkg: refused")
	err := fmt.Errorf("ctx: %w", &encode.Error{Status: 403, Err: sentinel})
	if !errors.Is(err, sentinel) {
		t.Error("errors.Is does not see the cause through *encode.Error")
	}
	var e *encode.Error
	if !errors.As(err, &e) || e.Status != 403 {
		t.Errorf("errors.As = %v, want the *encode.Error", e)
	}
	if got := e.Error(); !strings.Contains(got, "403") || !strings.Contains(got, "pkg: refused") {
		t.Errorf("Error() = %q, want the status and the cause for the operator", got)
	}
}

func TestErrorHandlerLogs(t *testing.T) {
	for _, tt := range []struct {
		name      string
		err       error
		wantLevel string
	}{
		{"client error at warn", &encode.Error{Status: 403, Err: errSecretCause}, "WARN"},
		{"server error at error", errSecretCause, "ERROR"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&buf, nil))
			r := httptest.NewRequest("GET", "/notes/7?access_token=sekrit-token", nil)
			r.Header.Set("Authorization", "Bearer sekrit-header")
			r.Header.Set("Cookie", "session=sekrit-cookie")
			r = r.WithContext(encode.NewRequestIDContext(r.Context(), "req-1"))
			w := httptest.NewRecorder()
			encode.ErrorHandler(logger, "authz_fail")(w, r, tt.err)

			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("log %q: %v", buf.String(), err)
			}
			for k, want := range map[string]any{
				"level": tt.wantLevel, "msg": "authz_fail", "path": "/notes/7", "method": "GET",
				"request_id": "req-1", "status": float64(w.Code),
			} {
				if rec[k] != want {
					t.Errorf("log %s = %v, want %v", k, rec[k], want)
				}
			}
			if e, _ := rec["error"].(string); !strings.Contains(e, "hunter2") {
				t.Errorf("log error = %q, want the operator's cause", e)
			}
			// CS-Logging "Data to exclude": no tokens, cookies or query strings.
			if strings.Contains(buf.String(), "sekrit") {
				t.Errorf("log %s holds a credential", buf.String())
			}
			if bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
				t.Errorf("log has %d records, want exactly one", bytes.Count(buf.Bytes(), []byte("\n")))
			}
			decodeProblem(t, w)
		})
	}
}

func TestLogRefusalEscapesInjection(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	// ASVS5 16.4.1: a path with an encoded CR LF must not forge a second record.
	r := httptest.NewRequest("GET", "/a%0d%0alevel=INFO%20msg=authn_login_success", nil)
	encode.LogRefusal(logger, r, "input_validation_fail", &encode.Error{Status: 400})
	if n := strings.Count(buf.String(), "\n"); n != 1 {
		t.Errorf("log %q has %d lines, want 1", buf.String(), n)
	}
	encode.LogRefusal(logger, nil, "input_validation_fail", nil) // must not panic
}

func BenchmarkWriteError(b *testing.B) {
	r := httptest.NewRequest("GET", "/", nil)
	err := &encode.Error{Status: 429, Detail: "slow down", RetryAfter: 3 * time.Second}
	w := newDiscardWriter()
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		encode.WriteError(w, r, err)
	}
}

// discardWriter is a reusable ResponseWriter for benchmarks: its header map keeps its capacity
// between iterations, as net/http's does within a connection's buffers.
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func newDiscardWriter() *discardWriter { return &discardWriter{h: make(http.Header, 16)} }

func (w *discardWriter) reset()                      { clear(w.h); w.code, w.n = 0, 0 }
func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
