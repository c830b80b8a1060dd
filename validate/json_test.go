package validate_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-playground/validator/v10"

	"github.com/bulwark-go/bulwark/validate"
)

type person struct {
	Name  string   `json:"name" validate:"required,max=20"`
	Age   int      `json:"age" validate:"gte=0,lte=150"`
	Small int8     `json:"small"`
	Count uint16   `json:"count"`
	Score float32  `json:"score"`
	Role  string   `json:"role" validate:"omitempty,oneof=user viewer"`
	Tags  []string `json:"tags" validate:"max=5,dive,max=10"`
	Meta  any      `json:"meta"`
	Nick  *string  `json:"nick"`
}

// TestJSONMalformed is the table of malformed bodies, and the strictness
// encoding/json does not give (SECURITY-STANDARDS §2.4 and §11).
func TestJSONMalformed(t *testing.T) {
	deep := `{"name":"a","meta":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`
	for _, tt := range []struct {
		name  string
		body  string
		code  int
		want  error  // a sentinel the error must match
		entry string // "pointer rule" that must be listed
	}{
		{"ok", `{"name":"ann","age":30}`, 200, nil, ""},
		{"ok with whitespace around", " \n{\"name\":\"ann\"}\r\n\t", 200, nil, ""},
		{"truncated", `{"name":"ann"`, 400, validate.ErrMalformed, ""},
		{"truncated in string", `{"name":"an`, 400, validate.ErrMalformed, ""},
		{"truncated in number", `{"age":1`, 400, validate.ErrMalformed, ""},
		{"empty", ``, 400, validate.ErrMalformed, ""},
		{"only whitespace", "  \n", 400, validate.ErrMalformed, ""},
		// JSON decode safety (derived): one value per body.
		{"two values", `{"a":1}{"b":2}`, 400, validate.ErrMalformed, ""},
		{"two valid values", `{"name":"a"}{"name":"b"}`, 400, validate.ErrMalformed, ""},
		{"trailing garbage", `{"name":"a"} x`, 400, validate.ErrMalformed, ""},
		{"trailing comma", `{"name":"a",}`, 400, validate.ErrMalformed, ""},
		{"byte order mark", "\ufeff{\"name\":\"a\"}", 400, validate.ErrMalformed, ""},
		{"single quotes", `{'name':'a'}`, 400, validate.ErrMalformed, ""},
		{"leading zero", `{"name":"a","age":01}`, 400, validate.ErrMalformed, ""},
		{"plus sign", `{"name":"a","age":+1}`, 400, validate.ErrMalformed, ""},
		{"NaN", `{"name":"a","score":NaN}`, 400, validate.ErrMalformed, ""},
		{"raw control character", "{\"name\":\"a\tb\"}", 400, validate.ErrMalformed, ""},
		{"bad escape", `{"name":"\x41"}`, 400, validate.ErrMalformed, ""},
		// ASVS5 1.5.3: encoding/json keeps the last duplicate; a proxy may keep the first.
		{"duplicate key", `{"name":"user","name":"admin"}`, 400, validate.ErrDuplicate, "/name duplicate"},
		{"duplicate key via escape", `{"name":"a","n\u0061me":"b"}`, 400, validate.ErrDuplicate, "/name duplicate"},
		{"duplicate key nested in any", `{"name":"a","meta":{"x":1,"x":2}}`, 400, validate.ErrDuplicate, "/meta/x duplicate"},
		// ASVS5 1.5.3 / API3: {"role":"user","Role":"admin"} must not reach Role.
		{"case-insensitive match", `{"name":"a","role":"user","Role":"viewer"}`, 400, validate.ErrUnknownField, "/Role unknown"},
		{"upper-case name", `{"NAME":"a"}`, 400, validate.ErrUnknownField, "/NAME unknown"},
		{"long s folds to s in encoding/json", `{"name":"a","ſcore":1}`, 400, validate.ErrUnknownField, "/ſcore unknown"},
		// ASVS5 15.3.3 / API3:2023 mass assignment.
		{"unknown field", `{"name":"a","is_admin":true}`, 400, validate.ErrUnknownField, "/is_admin unknown"},
		{"100-level nesting", deep, 400, validate.ErrMalformed, ""},
		{"invalid UTF-8 in value", "{\"name\":\"a\xffb\"}", 400, validate.ErrMalformed, ""},
		{"invalid UTF-8 in key", "{\"na\xc0me\":\"a\"}", 400, validate.ErrMalformed, ""},
		{"UTF-8 encoded surrogate", "{\"name\":\"\xed\xa0\x80\"}", 400, validate.ErrMalformed, ""},
		{"lone surrogate escape", `{"name":"\ud800"}`, 400, validate.ErrMalformed, ""},
		{"reversed surrogates", `{"name":"\udc00\ud800"}`, 400, validate.ErrMalformed, ""},
		{"valid surrogate pair", `{"name":"\ud83d\ude00"}`, 200, nil, ""},
		// ASVS5 15.3.5: strict types, no juggling.
		{"string into int", `{"name":"a","age":"12"}`, 400, validate.ErrInvalid, "/age type"},
		{"bool into string", `{"name":true}`, 400, validate.ErrInvalid, "/name type"},
		{"object into string", `{"name":{}}`, 400, validate.ErrInvalid, "/name type"},
		{"fraction into int", `{"name":"a","age":1.5}`, 400, validate.ErrInvalid, "/age type"},
		{"exponent into int", `{"name":"a","age":1e2}`, 400, validate.ErrInvalid, "/age type"},
		{"number too large for int", `{"name":"a","age":9223372036854775808}`, 400, validate.ErrInvalid, "/age type"},
		{"number too large for int8", `{"name":"a","small":128}`, 400, validate.ErrInvalid, "/small type"},
		{"int8 minimum", `{"name":"a","small":-128}`, 200, nil, ""},
		{"negative into uint", `{"name":"a","count":-1}`, 400, validate.ErrInvalid, "/count type"},
		{"number too large for uint16", `{"name":"a","count":65536}`, 400, validate.ErrInvalid, "/count type"},
		{"number too large for float32", `{"name":"a","score":1e39}`, 400, validate.ErrInvalid, "/score type"},
		{"number too large for float64 in any", `{"name":"a","meta":[1e400]}`, 400, validate.ErrInvalid, "/meta/0 type"},
		{"null for required string", `{"name":null}`, 400, validate.ErrInvalid, "/name type"},
		{"null for int", `{"name":"a","age":null}`, 400, validate.ErrInvalid, "/age type"},
		{"null for pointer", `{"name":"a","nick":null}`, 200, nil, ""},
		{"null for slice", `{"name":"a","tags":null}`, 200, nil, ""},
		{"top-level array", `[{"name":"a"}]`, 400, validate.ErrInvalid, " type"},
		{"top-level null", `null`, 400, validate.ErrInvalid, " type"},
		{"rule after decode", `{"name":"a","age":151}`, 400, validate.ErrInvalid, "/age lte"},
		{"missing required", `{"age":1}`, 400, validate.ErrInvalid, "/name required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newJSON[person](t, validate.Options{})
			res := h.post(tt.body)
			if res.code != tt.code {
				t.Fatalf("body %q: status = %d, want %d (%s)", tt.body, res.code, tt.code, res.body)
			}
			if tt.want != nil && !errors.Is(res.err, tt.want) {
				t.Errorf("body %q: err = %v, want %v", tt.body, res.err, tt.want)
			}
			if tt.entry != "" && !res.has(tt.entry) {
				t.Errorf("body %q: errors = %q, want an entry %q", tt.body, res.pointers(), tt.entry)
			}
		})
	}
}

// TestJSONCollectsAllFieldErrors: one response lists every bad member, not just the first.
func TestJSONCollectsAllFieldErrors(t *testing.T) {
	h := newJSON[person](t, validate.Options{})
	res := h.post(`{"name":1,"age":"x","small":999,"extra":1,"name":2}`)
	want := []string{"/name type", "/age type", "/small type", "/extra unknown", "/name duplicate"}
	if got := res.pointers(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("errors = %q, want %q", got, want)
	}
	for _, sentinel := range []error{validate.ErrInvalid, validate.ErrUnknownField, validate.ErrDuplicate} {
		if !errors.Is(res.err, sentinel) {
			t.Errorf("err = %v, want it to match %v", res.err, sentinel)
		}
	}
}

func TestJSONContentType(t *testing.T) {
	for _, tt := range []struct {
		name string
		ct   []string
		want int
	}{
		{"json", []string{"application/json"}, 200},
		{"json utf-8", []string{"application/json; charset=utf-8"}, 200},
		{"json UTF-8 upper case", []string{"Application/JSON; Charset=UTF-8"}, 200},
		// CS-REST_Security "Validate content types": text/plain is how a cross-site form
		// posts JSON without a CORS preflight.
		{"text/plain", []string{"text/plain"}, 415},
		{"missing", nil, 415},
		{"form", []string{"application/x-www-form-urlencoded"}, 415},
		{"utf-16", []string{"application/json; charset=utf-16"}, 415},
		{"other parameter", []string{"application/json; foo=bar"}, 415},
		{"suffix", []string{"application/vnd.api+json"}, 415},
		{"two headers", []string{"application/json", "text/plain"}, 415},
		{"garbage", []string{"application/json;;"}, 415},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newJSON[person](t, validate.Options{})
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"name":"a"}`))
			for _, v := range tt.ct {
				r.Header.Add("Content-Type", v)
			}
			res := h.do(r)
			if res.code != tt.want {
				t.Fatalf("Content-Type %q: status = %d, want %d", tt.ct, res.code, tt.want)
			}
			if tt.want == 415 && !errors.Is(res.err, validate.ErrContentType) {
				t.Errorf("Content-Type %q: err = %v, want ErrContentType", tt.ct, res.err)
			}
		})
	}

	t.Run("Accept-Patch and custom type", func(t *testing.T) {
		h := newJSON[person](t, validate.Options{ContentTypes: []string{"application/merge-patch+json"}})
		r := httptest.NewRequest(http.MethodPatch, "/", strings.NewReader(`{"name":"a"}`))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.h.ServeHTTP(w, r)
		if w.Code != 415 || w.Header().Get("Accept-Patch") != "application/merge-patch+json" {
			t.Errorf("status = %d, Accept-Patch = %q; want 415 and the configured type", w.Code, w.Header().Get("Accept-Patch"))
		}
		r.Header.Set("Content-Type", "application/merge-patch+json")
		if res := h.do(r); res.code != 200 {
			t.Errorf("merge-patch: status = %d, want 200", res.code)
		}
	})
}

// TestJSONBodyCap covers CS-REST_Security "Input validation" and API4:2023: a 10 MiB body
// stops at the cap, and the reader sees at most cap+1 bytes of it.
func TestJSONBodyCap(t *testing.T) {
	const limit = 64 << 10
	h := newJSON[person](t, validate.Options{MaxBytes: limit})

	t.Run("10 MiB, length unknown", func(t *testing.T) {
		body := &countingReader{r: io.MultiReader(strings.NewReader(`{"name":"`), io.LimitReader(repeat('a'), 10<<20))}
		r := httptest.NewRequest(http.MethodPost, "/", body)
		r.ContentLength = -1
		r.Header.Set("Content-Type", "application/json")
		res := h.do(r)
		if res.code != http.StatusRequestEntityTooLarge || !errors.Is(res.err, validate.ErrTooLarge) {
			t.Fatalf("status = %d, err = %v; want 413 ErrTooLarge", res.code, res.err)
		}
		if body.n > limit+1 {
			t.Errorf("read %d bytes of a 10 MiB body, want at most %d", body.n, limit+1)
		}
	})
	t.Run("10 MiB, Content-Length says so", func(t *testing.T) {
		body := &countingReader{r: io.LimitReader(repeat(' '), 10<<20)}
		r := httptest.NewRequest(http.MethodPost, "/", body)
		r.ContentLength = 10 << 20
		r.Header.Set("Content-Type", "application/json")
		if res := h.do(r); res.code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status = %d, want 413", res.code)
		}
		if body.n != 0 {
			t.Errorf("read %d bytes, want 0: Content-Length was already over the cap", body.n)
		}
	})
	t.Run("value ends early, padding follows", func(t *testing.T) {
		// A decoder that stops after the first value would accept this and leave the
		// rest unread.
		body := &countingReader{r: io.MultiReader(strings.NewReader(`{"name":"a"}`), io.LimitReader(repeat(' '), 10<<20))}
		r := httptest.NewRequest(http.MethodPost, "/", body)
		r.ContentLength = -1
		r.Header.Set("Content-Type", "application/json")
		if res := h.do(r); res.code != http.StatusRequestEntityTooLarge {
			t.Fatalf("status = %d, want 413", res.code)
		}
		if body.n > limit+1 {
			t.Errorf("read %d bytes, want at most %d", body.n, limit+1)
		}
	})
	t.Run("exactly the cap", func(t *testing.T) {
		body := `{"name":"a"}` + strings.Repeat(" ", limit-len(`{"name":"a"}`))
		if res := h.post(body); res.code != 200 {
			t.Errorf("body of exactly MaxBytes: status = %d, want 200", res.code)
		}
		if res := h.post(body + " "); res.code != 413 {
			t.Errorf("body of MaxBytes+1: status = %d, want 413", res.code)
		}
	})
}

// TestJSONChunkedOverNetwork sends chunked bodies to a real server: the cap holds without
// a Content-Length, and the server answers 413 without reading the rest.
func TestJSONChunkedOverNetwork(t *testing.T) {
	const limit = 32 << 10
	mw, err := validate.JSON[person](validate.Options{MaxBytes: limit, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan int64, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := &countingReader{r: r.Body}
		r.Body = io.NopCloser(body)
		mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := validate.Body[person](r)
			_, _ = io.WriteString(w, p.Name)
		})).ServeHTTP(w, r)
		read <- body.n
	}))
	defer srv.Close()

	send := func(body io.Reader) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	// io.MultiReader hides the length, so the client sends Transfer-Encoding: chunked.
	code, got := send(io.MultiReader(strings.NewReader(`{"name":"chunked"}`)))
	if code != 200 || got != "chunked" {
		t.Errorf("small chunked body: %d %q, want 200 \"chunked\"", code, got)
	}
	<-read

	big := io.MultiReader(strings.NewReader(`{"name":"`), io.LimitReader(repeat('a'), 10<<20))
	if code, _ := send(big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("10 MiB chunked body: status = %d, want 413", code)
	}
	if n := <-read; n > limit+1 {
		t.Errorf("server read %d bytes, want at most %d", n, limit+1)
	}
}

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipRequest(body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Content-Encoding", "gzip")
	return r
}

func TestJSONGzip(t *testing.T) {
	small := gzipped(t, []byte(`{"name":"zipped"}`))
	// 10 MiB of spaces after a valid value compress to about 10 KB.
	bomb := gzipped(t, append([]byte(`{"name":"a"}`), bytes.Repeat([]byte(" "), 10<<20)...))

	t.Run("refused by default", func(t *testing.T) {
		h := newJSON[person](t, validate.Options{})
		w := httptest.NewRecorder()
		h.h.ServeHTTP(w, gzipRequest(small))
		if w.Code != http.StatusUnsupportedMediaType || !errors.Is(h.err, validate.ErrContentEncoding) {
			t.Fatalf("status = %d, err = %v; want 415 ErrContentEncoding", w.Code, h.err)
		}
		if got := w.Header().Get("Accept-Encoding"); got != "identity" {
			t.Errorf("Accept-Encoding = %q, want identity", got)
		}
	})
	t.Run("other codings refused", func(t *testing.T) {
		h := newJSON[person](t, validate.Options{GzipMaxBytes: 1 << 20})
		for _, ce := range []string{"br", "deflate", "gzip, gzip", "compress"} {
			r := gzipRequest(small)
			r.Header.Set("Content-Encoding", ce)
			if res := h.do(r); res.code != 415 {
				t.Errorf("Content-Encoding %q: status = %d, want 415", ce, res.code)
			}
		}
	})
	t.Run("enabled", func(t *testing.T) {
		h := newJSON[person](t, validate.Options{GzipMaxBytes: 1 << 20})
		if res := h.do(gzipRequest(small)); res.code != 200 || !strings.Contains(res.body, "zipped") {
			t.Errorf("status = %d body %q, want 200 with the name", res.code, res.body)
		}
	})
	t.Run("bomb", func(t *testing.T) {
		h := newJSON[person](t, validate.Options{GzipMaxBytes: 1 << 20})
		res := h.do(gzipRequest(bomb))
		if res.code != http.StatusRequestEntityTooLarge || !errors.Is(res.err, validate.ErrTooLarge) {
			t.Errorf("gzip bomb (%d bytes compressed): status = %d, err = %v; want 413", len(bomb), res.code, res.err)
		}
	})
	t.Run("compressed size capped by MaxBytes", func(t *testing.T) {
		h := newJSON[person](t, validate.Options{MaxBytes: 1024, GzipMaxBytes: 1 << 30})
		if res := h.do(gzipRequest(bomb)); res.code != http.StatusRequestEntityTooLarge {
			t.Errorf("status = %d, want 413", res.code)
		}
	})
	t.Run("not gzip", func(t *testing.T) {
		h := newJSON[person](t, validate.Options{GzipMaxBytes: 1 << 20})
		res := h.do(gzipRequest([]byte(`{"name":"a"}`)))
		if res.code != 400 || !errors.Is(res.err, validate.ErrMalformed) {
			t.Errorf("status = %d, err = %v; want 400 ErrMalformed", res.code, res.err)
		}
	})
	t.Run("truncated gzip", func(t *testing.T) {
		h := newJSON[person](t, validate.Options{GzipMaxBytes: 1 << 20})
		res := h.do(gzipRequest(small[:len(small)-6]))
		if res.code != 400 {
			t.Errorf("status = %d, want 400", res.code)
		}
	})
}

type item struct {
	SKU   string `json:"sku" validate:"required"`
	Email string `json:"email" validate:"omitempty,email"`
	Qty   int    `json:"qty" validate:"min=1,max=100"`
}

type order struct {
	Items  []item             `json:"items" validate:"required,max=5,dive"`
	Labels map[string]item    `json:"labels" validate:"dive"`
	Notes  map[string]string  `json:"notes" validate:"dive,keys,max=8,endkeys,max=5"`
	Grid   [][]int            `json:"grid" validate:"dive,dive,gte=0"`
	Ship   *address           `json:"ship"`
	Counts map[int]int        `json:"counts" validate:"dive,lte=9"`
	Pair   [2]int             `json:"pair"`
	Extra  map[string]*string `json:"extra" validate:"dive,required"`
}

type address struct {
	City string `json:"city" validate:"required"`
}

// TestJSONNestedPointers: error pointers follow slices, maps, arrays and pointers, with JSON
// names and RFC 6901 escaping.
func TestJSONNestedPointers(t *testing.T) {
	h := newJSON[order](t, validate.Options{})
	for _, tt := range []struct {
		name, body string
		want       []string
	}{
		{"slice element", `{"items":[{"sku":"a","qty":1},{"sku":"b","qty":1},{"sku":"c","qty":1,"email":"nope"}]}`,
			[]string{"/items/2/email email"}},
		{"slice type error", `{"items":[{"sku":"a","qty":1},{"sku":"b","qty":"2"}]}`,
			[]string{"/items/1/qty type"}},
		{"map value", `{"items":[{"sku":"a","qty":1}],"labels":{"gift":{"sku":"","qty":1}}}`,
			[]string{"/labels/gift/sku required"}},
		{"map key with slash, tilde and brackets", `{"items":[{"sku":"a","qty":1}],"labels":{"a/b~c].d[0]":{"sku":"x","qty":0}}}`,
			[]string{"/labels/a~1b~0c].d[0]/qty min"}},
		{"map key type error", `{"items":[{"sku":"a","qty":1}],"labels":{"k":{"sku":"x","qty":1,"email":5}}}`,
			[]string{"/labels/k/email type"}},
		{"map key rule", `{"items":[{"sku":"a","qty":1}],"notes":{"much-too-long":"x"}}`,
			[]string{"/notes/much-too-long max"}},
		{"map value rule", `{"items":[{"sku":"a","qty":1}],"notes":{"k":"toolong"}}`,
			[]string{"/notes/k max"}},
		{"int map key", `{"items":[{"sku":"a","qty":1}],"counts":{"7":10}}`,
			[]string{"/counts/7 lte"}},
		{"int map key not a number", `{"items":[{"sku":"a","qty":1}],"counts":{"x":1}}`,
			[]string{"/counts/x type"}},
		{"nested slices", `{"items":[{"sku":"a","qty":1}],"grid":[[0,1],[2,-3]]}`,
			[]string{"/grid/1/1 gte"}},
		{"pointer to struct", `{"items":[{"sku":"a","qty":1}],"ship":{"city":""}}`,
			[]string{"/ship/city required"}},
		{"unknown member deep", `{"items":[{"sku":"a","qty":1,"price":0}]}`,
			[]string{"/items/0/price unknown"}},
		{"array too long", `{"items":[{"sku":"a","qty":1}],"pair":[1,2,3]}`,
			[]string{"/pair max"}},
		{"null map value", `{"items":[{"sku":"a","qty":1}],"extra":{"k":null}}`,
			[]string{"/extra/k required"}},
		{"duplicate map key", `{"items":[{"sku":"a","qty":1}],"notes":{"k":"a","k":"b"}}`,
			[]string{"/notes/k duplicate"}},
		{"slice max", `{"items":[{"sku":"a","qty":1},{"sku":"a","qty":1},{"sku":"a","qty":1},{"sku":"a","qty":1},{"sku":"a","qty":1},{"sku":"a","qty":1}]}`,
			[]string{"/items max"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := h.post(tt.body)
			if res.code != 400 {
				t.Fatalf("body %s: status = %d, want 400 (%s)", tt.body, res.code, res.body)
			}
			if got := res.pointers(); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("body %s: errors = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

// TestJSONManyDuplicateKeys: an object with many keys is checked with a set, not pairwise.
func TestJSONManyDuplicateKeys(t *testing.T) {
	h := newJSON[order](t, validate.Options{})
	var b strings.Builder
	b.WriteString(`{"items":[{"sku":"a","qty":1}],"notes":{`)
	for i := range 5000 {
		b.WriteString(`"k` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `":"v",`)
	}
	b.WriteString(`"end":"v"}}`)
	res := h.post(b.String())
	if res.code != 400 || !errors.Is(res.err, validate.ErrDuplicate) {
		t.Fatalf("status = %d, err = %v, want 400 ErrDuplicate", res.code, res.err)
	}
	if len(res.prob.Errors) != 20 {
		t.Errorf("listed %d errors, want the cap of 20", len(res.prob.Errors))
	}
}

// TestJSONNeverEchoesValues: neither the problem body nor the error (which is logged)
// holds a submitted value, secret or not (ASVS5 16.2.5, CS-Logging "Data to exclude").
func TestJSONNeverEchoesValues(t *testing.T) {
	type login struct {
		User     string `json:"user" validate:"required,email"`
		Password string `json:"password" validate:"min=12"`
		PIN      int16  `json:"pin"`
	}
	h := newJSON[login](t, validate.Options{})
	for _, body := range []string{
		`{"user":"hunter2-user","password":"hunter2"}`,
		`{"user":"a@b.example","password":"hunter2","pin":99999999}`,
		`{"user":"a@b.example","password":1234567890123}`,
	} {
		res := h.post(body)
		if res.code != 400 {
			t.Fatalf("body %s: status = %d, want 400", body, res.code)
		}
		for _, secret := range []string{"hunter2", "99999999", "1234567890123"} {
			if strings.Contains(res.body, secret) || strings.Contains(res.err.Error(), secret) {
				t.Errorf("body %s: %q leaked: response %s, error %v", body, secret, res.body, res.err)
			}
		}
	}
}

// TestJSONStringOption: fields with ",string" take a JSON string holding the literal.
func TestJSONStringOption(t *testing.T) {
	type quoted struct {
		ID   int64 `json:"id,string"`
		Flag bool  `json:"flag,string"`
	}
	h := newJSON[quoted](t, validate.Options{})
	for _, tt := range []struct {
		body string
		want int
	}{
		{`{"id":"12","flag":"true"}`, 200},
		{`{"id":12}`, 400},
		{`{"id":"1.5"}`, 400},
		{`{"id":" 12"}`, 400},
		{`{"id":"99999999999999999999"}`, 400},
		{`{"flag":"yes"}`, 400},
	} {
		if res := h.post(tt.body); res.code != tt.want {
			t.Errorf("body %s: status = %d, want %d (%s)", tt.body, res.code, tt.want, res.body)
		}
	}
}

type base struct {
	ID    int    `json:"id"`
	Owner string `json:"owner"`
}

type audit struct {
	By string `json:"owner"` // the same name as base.Owner, at the same depth: both hidden
}

type embeds struct {
	base
	*audit
	Name string `json:"name" validate:"required"`
	ID   string `json:"id"` // hides base.ID
}

// TestJSONEmbeddedMatchesEncodingJSON: the members the scanner accepts are exactly those
// encoding/json decodes (with DisallowUnknownFields), with the same result.
func TestJSONEmbeddedMatchesEncodingJSON(t *testing.T) {
	h := newJSON[embeds](t, validate.Options{})
	for _, body := range []string{
		`{"name":"a"}`,
		`{"name":"a","id":"x"}`,
		`{"name":"a","owner":"o"}`,
		`{"name":"a","By":"o"}`,
		`{"name":"a","base":{}}`,
		`{"name":"a","audit":{}}`,
		`{"name":"a","ID":"x"}`,
	} {
		res := h.post(body)
		dec := json.NewDecoder(strings.NewReader(body))
		dec.DisallowUnknownFields()
		var want embeds
		jerr := dec.Decode(&want)
		if (res.code == 200) != (jerr == nil) && !strings.Contains(body, `"ID"`) {
			t.Errorf("body %s: status = %d, encoding/json err = %v; want both to accept or both to refuse", body, res.code, jerr)
		}
		if res.code == 200 {
			var got embeds
			if err := json.Unmarshal([]byte(res.body), &got); err != nil || got.Name != want.Name || got.ID != want.ID {
				t.Errorf("body %s: got %+v, encoding/json %+v", body, got, want)
			}
		}
	}
	// encoding/json accepts "ID" for id case-insensitively; the scanner does not.
	if res := h.post(`{"name":"a","ID":"x"}`); res.code != 400 {
		t.Errorf(`{"ID":...}: status = %d, want 400`, res.code)
	}
}

// TestJSONUnmarshalers: values of types with their own UnmarshalJSON or UnmarshalText are
// checked by them, and a refusal still names the field.
func TestJSONUnmarshalers(t *testing.T) {
	type event struct {
		At    jsonTime        `json:"at"`
		Level level           `json:"level"`
		Raw   json.RawMessage `json:"raw"`
		Num   json.Number     `json:"num"`
		Bytes []byte          `json:"bytes"`
	}
	h := newJSON[event](t, validate.Options{})
	for _, tt := range []struct {
		body  string
		code  int
		entry string
	}{
		{`{"at":"2026-01-02","level":"high","raw":{"a":[1]},"num":"12.5","bytes":"aGk="}`, 200, ""},
		{`{"at":"yesterday"}`, 400, "/at type"},
		{`{"level":"extreme"}`, 400, "/level type"},
		{`{"level":3}`, 400, "/level type"},
		{`{"num":"12x"}`, 400, "/num type"},
		{`{"num":1e999}`, 200, ""},
		{`{"bytes":"%%%"}`, 400, "/bytes type"},
		{`{"bytes":[1,2,256]}`, 400, "/bytes/2 type"},
		{`{"raw":{"a":1,"a":2}}`, 400, "/raw/a duplicate"},
		{`{"at":null}`, 400, "/at type"},
	} {
		res := h.post(tt.body)
		if res.code != tt.code {
			t.Errorf("body %s: status = %d, want %d (%s)", tt.body, res.code, tt.code, res.body)
			continue
		}
		if tt.entry != "" && !res.has(tt.entry) {
			t.Errorf("body %s: errors = %q, want %q", tt.body, res.pointers(), tt.entry)
		}
	}
}

type jsonTime struct{ s string }

func (j *jsonTime) UnmarshalJSON(b []byte) error {
	if len(b) != 12 || b[0] != '"' || b[5] != '-' {
		return errors.New("bad date")
	}
	j.s = string(b)
	return nil
}

type level int

func (l *level) UnmarshalText(b []byte) error {
	switch string(b) {
	case "low":
		*l = 1
	case "high":
		*l = 2
	default:
		return errors.New("bad level")
	}
	return nil
}

func TestJSONOptionsErrors(t *testing.T) {
	type bad struct {
		C chan int `json:"c"`
		F string   `json:"f" validate:"nosuchrule"`
		S int      `json:"s" sanitize:"trim"`
		M map[bool]int
	}
	_, err := validate.JSON[bad](validate.Options{
		MaxBytes:     -1,
		MaxDepth:     5000,
		GzipMaxBytes: -1,
		ContentTypes: []string{"text/*"},
		URLSchemes:   []string{"HTTPS"},
		Patterns:     map[string]string{"sku": "[", "email": "x"},
		Rules:        map[string]validator.Func{"bad name": nil},
	})
	if err == nil {
		t.Fatal("JSON accepted bad options and a bad type")
	}
	for _, want := range []string{"MaxBytes", "MaxDepth", "GzipMaxBytes", "ContentTypes", "URLSchemes",
		`Patterns["sku"]`, `"email" is already defined`, `"bad name"`, "chan int", "nosuchrule", "sanitize", "map keys"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if _, err := validate.JSON[*person](validate.Options{}); err == nil {
		t.Error("JSON[*person] accepted a pointer type")
	}
	if _, err := validate.JSON[[]person](validate.Options{}); err == nil {
		t.Error("JSON[[]person] accepted a slice type")
	}
}

func TestJSONDepthOption(t *testing.T) {
	type tree struct {
		Kids []tree `json:"kids"`
	}
	h := newJSON[tree](t, validate.Options{MaxDepth: 3})
	if res := h.post(`{"kids":[{}]}`); res.code != 200 {
		t.Errorf("depth 3: status = %d, want 200", res.code)
	}
	if res := h.post(`{"kids":[{"kids":[]}]}`); res.code != 400 || !errors.Is(res.err, validate.ErrMalformed) {
		t.Errorf("depth 4: status = %d, err = %v; want 400 ErrMalformed", res.code, res.err)
	}
	h = newJSON[tree](t, validate.Options{})
	deep := strings.Repeat(`{"kids":[`, 200) + strings.Repeat(`]}`, 200)
	if res := h.post(deep); res.code != 400 {
		t.Errorf("400 levels: status = %d, want 400", res.code)
	}
}

func TestJSONNilHandlerPanics(t *testing.T) {
	mw, err := validate.JSON[person](validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("wrapping a nil handler did not panic")
		}
	}()
	mw(nil)
}

func TestBodyWithoutMiddleware(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if _, ok := validate.Body[person](r); ok {
		t.Error("Body reported a value on a request the middleware never saw")
	}
	r = r.WithContext(validate.NewBodyContext(r.Context(), person{Name: "x"}))
	if p, ok := validate.Body[person](r); !ok || p.Name != "x" {
		t.Errorf("Body = %+v, %v; want the stored value", p, ok)
	}
	if _, ok := validate.Body[item](r); ok {
		t.Error("Body[item] found a person")
	}
}

// TestJSONLogsRefusal: the default ErrorHandler logs one Warn record under the OWASP event
// input_validation_fail (ASVS5 16.3.3) with pointers and rules, never values.
func TestJSONLogsRefusal(t *testing.T) {
	var logs bytes.Buffer
	mw, err := validate.JSON[person](validate.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.NotFoundHandler())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, jsonRequest(`{"name":"s3cr3t-value-that-is-long","age":"s3cr3t"}`))
	if w.Code != 400 {
		t.Fatalf("status = %d, want 400", w.Code)
	}
	var rec map[string]any
	if err := json.Unmarshal(logs.Bytes(), &rec); err != nil {
		t.Fatalf("log %q: %v", logs.String(), err)
	}
	if rec["msg"] != validate.Event || rec["level"] != "WARN" {
		t.Errorf("log record %v: want msg %s at WARN", rec, validate.Event)
	}
	if !strings.Contains(logs.String(), "/age: type") {
		t.Errorf("log %q does not name the fields and rules", logs.String())
	}
	if strings.Contains(logs.String(), "s3cr3t") {
		t.Errorf("log %q holds a submitted value", logs.String())
	}
	if strings.Count(logs.String(), "\n") != 1 {
		t.Errorf("log has %d records, want 1", strings.Count(logs.String(), "\n"))
	}
}

func TestJSONNilBody(t *testing.T) {
	h := newJSON[person](t, validate.Options{})
	r := jsonRequest("")
	r.Body = nil
	if res := h.do(r); res.code != 400 || !errors.Is(res.err, validate.ErrMalformed) {
		t.Errorf("nil Body: status = %d, err = %v; want 400 ErrMalformed", res.code, res.err)
	}
}

// TestJSONConcurrent: one middleware serves many requests at once; pooled buffers never
// leak one request's data into another's value (run with -race).
func TestJSONConcurrent(t *testing.T) {
	mw, err := validate.JSON[order](validate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, _ := validate.Body[order](r)
		_, _ = io.WriteString(w, o.Items[0].SKU+"|"+o.Notes["k"])
	}))
	done := make(chan error)
	for g := range 8 {
		go func() {
			for i := range 200 {
				sku := strings.Repeat(string(rune('a'+g)), 1+i%40)
				note := string(rune('A' + i%26))
				w := httptest.NewRecorder()
				h.ServeHTTP(w, jsonRequest(`{"items":[{"sku":"`+sku+`","qty":1}],"notes":{"k":"`+note+`"}}`))
				if got, want := w.Body.String(), sku+"|"+note; got != want {
					done <- errors.New("got " + got + ", want " + want)
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}
