package validate_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/encode"
	"github.com/bulwark-go/bulwark/validate"
)

// problem is the part of an RFC 9457 body the tests read.
type problem struct {
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Detail    string `json:"detail"`
		Rule      string `json:"rule"`
		Pointer   string `json:"pointer"`
		Parameter string `json:"parameter"`
	} `json:"errors"`
}

// result is what one request through a middleware under test produced.
type result struct {
	code int
	err  error // what ErrorHandler got
	prob problem
	body string
}

// pointers returns "pointer rule" for each entry of the problem, such as "/age type".
func (r result) pointers() []string {
	var out []string
	for _, e := range r.prob.Errors {
		rule := e.Rule
		where := e.Pointer
		if e.Parameter != "" {
			where = "?" + e.Parameter
		}
		out = append(out, where+" "+rule)
	}
	return out
}

func (r result) has(entry string) bool {
	for _, p := range r.pointers() {
		if p == entry {
			return true
		}
	}
	return false
}

// harness wraps a handler that echoes the decoded value as JSON, and records the error
// ErrorHandler receives.
type harness struct {
	h   http.Handler
	err error
}

func (h *harness) errorHandler(w http.ResponseWriter, r *http.Request, err error) {
	h.err = err
	encode.WriteError(w, r, err)
}

func newJSON[T any](t testing.TB, opts validate.Options) *harness {
	t.Helper()
	hs := &harness{}
	opts.ErrorHandler = hs.errorHandler
	mw, err := validate.JSON[T](opts)
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	hs.h = mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := validate.Body[T](r)
		if !ok {
			http.Error(w, "no body in context", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(v)
	}))
	return hs
}

func newQuery[T any](t testing.TB, opts validate.Options) *harness {
	t.Helper()
	hs := &harness{}
	opts.ErrorHandler = hs.errorHandler
	mw, err := validate.Query[T](opts)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	hs.h = mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, ok := validate.Params[T](r)
		if !ok {
			http.Error(w, "no params in context", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(v)
	}))
	return hs
}

func (h *harness) do(r *http.Request) result {
	h.err = nil
	w := httptest.NewRecorder()
	h.h.ServeHTTP(w, r)
	res := result{code: w.Code, err: h.err, body: w.Body.String()}
	if w.Code >= 400 {
		_ = json.Unmarshal(w.Body.Bytes(), &res.prob)
	}
	return res
}

func (h *harness) post(body string) result {
	return h.do(jsonRequest(body))
}

func jsonRequest(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// repeat is an endless reader of one byte.
type repeat byte

func (b repeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
