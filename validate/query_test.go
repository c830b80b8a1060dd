package validate_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/validate"
)

type page struct {
	Limit  int `query:"limit" validate:"omitempty,min=1,max=100"`
	Offset int `query:"offset" validate:"gte=0"`
}

type search struct {
	page
	Q      string      `query:"q" validate:"max=50"`
	Tags   []string    `query:"tag" validate:"max=3,dive,alphanum"`
	Active *bool       `query:"active"`
	Min    float64     `query:"min"`
	Max    float64     `query:"max" validate:"omitempty,gtefield=Min"`
	Small  uint8       `query:"small"`
	IP     *netip.Addr `query:"ip"`
	Secret string      // no tag: never bound
}

// TestQuery covers parameter binding (ASVS5 1.1.1, 15.3.7, API4:2023).
func TestQuery(t *testing.T) {
	h := newQuery[search](t, validate.Options{})
	for _, tt := range []struct {
		name, query string
		code        int
		want        error
		entry       string
		body        string // a substring of the echoed value
	}{
		{"none", "", 200, nil, "", `"Limit":0`},
		{"all", "limit=10&offset=5&q=go&tag=a&tag=b&active=true&min=1.5&max=2&small=255&ip=10.0.0.1", 200, nil, "", `"Tags":["a","b"]`},
		{"embedded struct bound", "limit=7", 200, nil, "", `"Limit":7`},
		{"pointer set when present", "active=false", 200, nil, "", `"Active":false`},
		{"decoded once", "q=%252e%252e", 200, nil, "", `"Q":"%2e%2e"`},
		{"plus is a space", "q=a+b", 200, nil, "", `"Q":"a b"`},
		// HTTP parameter pollution (ASVS5 15.3.7).
		{"repeated scalar", "limit=1&limit=100", 400, validate.ErrDuplicate, "?limit duplicate", ""},
		{"repeated slice", "tag=a&tag=b&tag=c", 200, nil, "", `"Tags":["a","b","c"]`},
		// Unknown parameters (mass assignment through the query string).
		{"unknown", "limit=1&admin=true", 400, validate.ErrUnknownField, "?admin unknown", ""},
		{"case differs", "Limit=1", 400, validate.ErrUnknownField, "?Limit unknown", ""},
		{"untagged field", "Secret=x", 400, validate.ErrUnknownField, "?Secret unknown", ""},
		// Types and overflow.
		{"overflow int", "limit=99999999999999999999", 400, validate.ErrInvalid, "?limit type", ""},
		{"overflow uint8", "small=256", 400, validate.ErrInvalid, "?small type", ""},
		{"negative uint8", "small=-1", 400, validate.ErrInvalid, "?small type", ""},
		{"not a number", "limit=ten", 400, validate.ErrInvalid, "?limit type", ""},
		{"plus sign", "limit=%2B5", 400, validate.ErrInvalid, "?limit type", ""},
		{"empty number", "limit=", 400, validate.ErrInvalid, "?limit type", ""},
		{"hex", "limit=0x10", 400, validate.ErrInvalid, "?limit type", ""},
		{"NaN", "min=NaN", 400, validate.ErrInvalid, "?min type", ""},
		{"Inf", "min=Inf", 400, validate.ErrInvalid, "?min type", ""},
		{"float overflow", "min=1e999", 400, validate.ErrInvalid, "?min type", ""},
		{"bool 1", "active=1", 400, validate.ErrInvalid, "?active type", ""},
		{"bad ip", "ip=300.1.1.1", 400, validate.ErrInvalid, "?ip type", ""},
		// Rules (API4:2023: paging limits).
		{"limit too big", "limit=100000", 400, validate.ErrInvalid, "?limit max", ""},
		{"negative offset", "offset=-1", 400, validate.ErrInvalid, "?offset gte", ""},
		{"too many tags", "tag=a&tag=b&tag=c&tag=d", 400, validate.ErrInvalid, "?tag max", ""},
		{"bad tag", "tag=a&tag=b-c", 400, validate.ErrInvalid, "?tag alphanum", ""},
		{"cross-field", "min=5&max=1", 400, validate.ErrInvalid, "?max gtefield", ""},
		// Malformed query strings are refused, not partly read.
		{"semicolon", "limit=1;offset=2", 400, validate.ErrMalformed, "", ""},
		{"bad escape", "q=%zz", 400, validate.ErrMalformed, "", ""},
		{"invalid UTF-8", "q=%ff", 400, validate.ErrInvalid, "?q type", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := h.do(httptest.NewRequest(http.MethodGet, "/search?"+tt.query, nil))
			if res.code != tt.code {
				t.Fatalf("query %q: status = %d, want %d (%s)", tt.query, res.code, tt.code, res.body)
			}
			if tt.want != nil && !errors.Is(res.err, tt.want) {
				t.Errorf("query %q: err = %v, want %v", tt.query, res.err, tt.want)
			}
			if tt.entry != "" && !res.has(tt.entry) {
				t.Errorf("query %q: errors = %q, want %q", tt.query, res.pointers(), tt.entry)
			}
			if tt.body != "" && !strings.Contains(res.body, tt.body) {
				t.Errorf("query %q: value = %s, want it to contain %s", tt.query, res.body, tt.body)
			}
		})
	}

	t.Run("AllowUnknownParameters", func(t *testing.T) {
		h := newQuery[search](t, validate.Options{AllowUnknownParameters: true})
		if res := h.do(httptest.NewRequest(http.MethodGet, "/?utm_source=x&limit=2", nil)); res.code != 200 {
			t.Errorf("status = %d, want 200", res.code)
		}
		// Repeats of a declared parameter are still refused.
		if res := h.do(httptest.NewRequest(http.MethodGet, "/?limit=1&limit=2", nil)); res.code != 400 {
			t.Errorf("repeated limit: status = %d, want 400", res.code)
		}
	})
}

type itemPath struct {
	ID    string `path:"id" validate:"required,uuid"`
	Rev   int32  `path:"rev"`
	File  string `path:"file"`
	Fetch bool   `query:"fetch"`
}

func TestQueryPathParameters(t *testing.T) {
	h := newQuery[itemPath](t, validate.Options{})
	mux := http.NewServeMux()
	mux.Handle("GET /items/{id}/{rev}/{file}", h.h)
	const id = "8f14e45f-ceea-467f-a0e1-5a2f3b8e8a11"
	for _, tt := range []struct {
		path  string
		code  int
		entry string
		body  string
	}{
		{"/items/" + id + "/3/a.txt?fetch=true", 200, "", `"Rev":3`},
		{"/items/" + id + "/3/%252e%252e", 200, "", `"File":"%2e%2e"`},
		{"/items/nope/3/a", 400, "?id uuid", ""},
		{"/items/" + id + "/2147483648/a", 400, "?rev type", ""},
		{"/items/" + id + "/3/a?id=x", 400, "?id unknown", ""},
	} {
		h.err = nil
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tt.path, nil))
		res := result{code: w.Code, body: w.Body.String()}
		if w.Code >= 400 {
			_ = jsonUnmarshal(w.Body.Bytes(), &res.prob)
		}
		if res.code != tt.code {
			t.Errorf("%s: status = %d, want %d (%s)", tt.path, res.code, tt.code, res.body)
			continue
		}
		if tt.entry != "" && !res.has(tt.entry) {
			t.Errorf("%s: errors = %q, want %q", tt.path, res.pointers(), tt.entry)
		}
		if tt.body != "" && !strings.Contains(res.body, tt.body) {
			t.Errorf("%s: value = %s, want %s", tt.path, res.body, tt.body)
		}
	}

	t.Run("PathValue option", func(t *testing.T) {
		h := newQuery[itemPath](t, validate.Options{PathValue: func(r *http.Request, name string) string {
			return map[string]string{"id": id, "rev": "7"}[name]
		}})
		if res := h.do(httptest.NewRequest(http.MethodGet, "/", nil)); res.code != 200 || !strings.Contains(res.body, `"Rev":7`) {
			t.Errorf("status = %d, body %s; want 200 with Rev 7", res.code, res.body)
		}
	})
	t.Run("missing path value", func(t *testing.T) {
		res := h.do(httptest.NewRequest(http.MethodGet, "/", nil))
		if !res.has("?id required") {
			t.Errorf("errors = %q, want ?id required", res.pointers())
		}
	})
}

func TestQueryOptionsErrors(t *testing.T) {
	type bad struct {
		A string            `query:"a" path:"a"`
		B map[string]string `query:"b"`
		C []int             `path:"c"`
		D string            `query:""`
		E string            `query:"e"`
		F string            `query:"e"`
		g string            `query:"g"`
	}
	_, err := validate.Query[bad](validate.Options{})
	if err == nil {
		t.Fatal("Query accepted a type it cannot bind")
	}
	for _, want := range []string{"A has both", "field B", "field C", "field D", `"e" is bound twice`, "g is not exported"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	_ = bad{}.g
}
