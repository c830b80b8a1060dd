package encode_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/encode"
)

func mustRecover(t testing.TB, opts encode.RecoverOptions, h http.Handler) http.Handler {
	t.Helper()
	mw, err := encode.Recover(opts)
	if err != nil {
		t.Fatal(err)
	}
	return mw(h)
}

func TestRecoverBeforeResponse(t *testing.T) {
	for _, tt := range []struct {
		name  string
		value any
		want  string // in the log's panic attribute
	}{
		{"string", "db password=hunter2 leaked", "hunter2"},
		{"error", errSecretCause, "hunter2"},
		{"nil", nil, "nil"},
		{"runtime error", nil, "index out of range"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := mustRecover(t, encode.RecoverOptions{Logger: slog.New(slog.NewJSONHandler(&logs, nil))},
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("X-Partial", "yes")
					if tt.name == "runtime error" {
						var s []int
						_ = s[len(r.URL.Path)]
					}
					panic(tt.value)
				}))
			r := httptest.NewRequest("GET", "/boom?token=sekrit", nil)
			r = r.WithContext(encode.NewRequestIDContext(r.Context(), "req-9"))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)

			if w.Code != http.StatusInternalServerError {
				t.Fatalf("status = %d, want 500", w.Code)
			}
			p := decodeProblem(t, w)
			if p.Title != "Internal Server Error" || p.Detail != "" || p.RequestID != "req-9" {
				t.Errorf("problem = %+v, want a generic 500 with request_id req-9", p)
			}
			// ASVS5 16.5.1: no panic value, stack or file paths in the response.
			for _, leak := range []string{"hunter2", "goroutine", ".go:", "panic", "index out of range"} {
				if strings.Contains(w.Body.String(), leak) {
					t.Errorf("body %q leaks %q", w.Body.String(), leak)
				}
			}
			var rec map[string]any
			if err := json.Unmarshal(logs.Bytes(), &rec); err != nil {
				t.Fatalf("log %q: %v", logs.String(), err)
			}
			if rec["msg"] != "sys_crash" || rec["level"] != "ERROR" || rec["request_id"] != "req-9" || rec["path"] != "/boom" {
				t.Errorf("log = %v, want sys_crash at ERROR with request_id and path", rec)
			}
			if p, _ := rec["panic"].(string); !strings.Contains(p, tt.want) {
				t.Errorf("log panic = %q, want it to contain %q", p, tt.want)
			}
			if s, _ := rec["stack"].(string); !strings.Contains(s, "recover_test.go") {
				t.Errorf("log stack = %q, want the handler's frame", s)
			}
			if strings.Contains(logs.String(), "sekrit") {
				t.Error("log holds the query string")
			}
		})
	}
}

func TestRecoverDropsUnfinishedEffects(t *testing.T) {
	h := mustRecover(t, encode.RecoverOptions{Logger: slog.New(slog.DiscardHandler)},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "half-made", Secure: true, HttpOnly: true})
			w.Header().Set("Location", "/welcome")
			w.Header().Set("Refresh", "0; url=/welcome")
			w.Header().Set("X-Request-Id", "kept")
			panic("after login, before commit")
		}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	for _, k := range []string{"Set-Cookie", "Location", "Refresh"} {
		if v := w.Header().Get(k); v != "" {
			t.Errorf("%s = %q was sent with the 500", k, v)
		}
	}
	if w.Header().Get("X-Request-Id") != "kept" {
		t.Error("an unrelated header was dropped")
	}
}

func TestRecoverCustomErrorHandler(t *testing.T) {
	var got error
	h := mustRecover(t, encode.RecoverOptions{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			w.WriteHeader(599)
		},
	}, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("x") }))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if !errors.Is(got, encode.ErrPanic) || w.Code != 599 {
		t.Errorf("ErrorHandler got %v and wrote %d, want ErrPanic and its own status", got, w.Code)
	}
}

// After the header went out, Recover must not write a second one: it aborts the response.
func TestRecoverAfterResponseStarted(t *testing.T) {
	for _, tt := range []struct {
		name  string
		start func(w http.ResponseWriter)
	}{
		{"WriteHeader", func(w http.ResponseWriter) { w.WriteHeader(http.StatusAccepted) }},
		{"Write", func(w http.ResponseWriter) { _, _ = io.WriteString(w, `{"partial":`) }},
		{"Flush", func(w http.ResponseWriter) { http.NewResponseController(w).Flush() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			h := mustRecover(t, encode.RecoverOptions{Logger: slog.New(slog.NewJSONHandler(&logs, nil))},
				http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					tt.start(w)
					panic("late")
				}))
			w := httptest.NewRecorder()
			func() {
				defer func() {
					if v := recover(); v != http.ErrAbortHandler {
						t.Errorf("recovered %v, want http.ErrAbortHandler so net/http drops the connection", v)
					}
				}()
				h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
			}()
			if w.Code == http.StatusInternalServerError || strings.Contains(w.Body.String(), "about:blank") {
				t.Errorf("a second response was written: %d %q", w.Code, w.Body.String())
			}
			if !strings.Contains(logs.String(), `"response_started":true`) {
				t.Errorf("log %q does not say the response had started", logs.String())
			}
		})
	}
}

// End to end: the client of a response that broke halfway sees an error, not a short body it
// could mistake for a complete one.
func TestRecoverAbortsStartedResponseOverHTTP(t *testing.T) {
	h := mustRecover(t, encode.RecoverOptions{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, strings.Repeat("a", 10))
			http.NewResponseController(w).Flush()
			panic("late")
		}))
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	defer srv.Close()
	res, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if _, err := io.ReadAll(res.Body); err == nil {
		t.Error("reading the broken response succeeded; want an unexpected EOF")
	}
}

func TestRecoverPassesAbortHandler(t *testing.T) {
	var logs bytes.Buffer
	h := mustRecover(t, encode.RecoverOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))},
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler passed on", v)
		}
		if logs.Len() != 0 {
			t.Errorf("an intended abort was logged as a crash: %q", logs.String())
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
}

func TestRecoverNoPanicIsTransparent(t *testing.T) {
	h := mustRecover(t, encode.RecoverOptions{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "fine")
	}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != http.StatusTeapot || w.Body.String() != "fine" {
		t.Errorf("got %d %q, want 418 fine", w.Code, w.Body.String())
	}
}

func BenchmarkRecover(b *testing.B) {
	h := mustRecover(b, encode.RecoverOptions{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
	}))
	r := httptest.NewRequest("GET", "/", nil)
	w := newDiscardWriter()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}
