package validate_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/encode"
	"github.com/bulwark-go/bulwark/validate"
)

type fuzzDoc struct {
	Name  string         `json:"name" validate:"max=64" sanitize:"nfc,trim"`
	N     int8           `json:"n"`
	U     uint16         `json:"u" validate:"lte=60000"`
	F     float32        `json:"f"`
	B     bool           `json:"b"`
	P     *int           `json:"p"`
	Tags  []string       `json:"tags" validate:"max=8"`
	M     map[string]int `json:"m"`
	Kids  []*fuzzDoc     `json:"kids" validate:"dive"`
	Any   any            `json:"any"`
	Arr   [2]uint8       `json:"arr"`
	ID    int64          `json:"id,string"`
	Bytes []byte         `json:"bytes"`
	Keys  map[int16]bool `json:"keys"`
}

// capture runs a body through h and returns the status.
func capture(h http.Handler, body string) int {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, jsonRequest(body))
	return w.Code
}

// FuzzJSON fuzzes the strict decoder with validation and sanitizing on. Invariants: no
// panic; a refusal is a 4xx; an accepted body is one encoding/json also decodes, and its
// value, encoded again by encoding/json and sent again, is accepted and decodes to the
// same value.
func FuzzJSON(f *testing.F) {
	for _, seed := range []string{
		`{"name":"ann","n":-128,"u":65535,"f":1.5,"b":true,"p":null,"tags":["a"],"m":{"k":1},"kids":[{"name":"k"}],` +
			`"any":{"x":[1,"y",null,true]},"arr":[1,2],"id":"42","bytes":"aGk=","keys":{"-5":true}}`,
		`{"name":"  Cafe\u0301 "}`, `{"a":1}{"b":2}`, `{"name":"a","name":"b"}`, `{"NAME":"a"}`,
		`{"n":128}`, `{"n":"12"}`, `{"name":null}`, `{"any":1e400}`, `{"name":"\ud800"}`, "{\"name\":\"\xff\"}",
		strings.Repeat("[", 40), `{"kids":[{"kids":[{"kids":[]}]}]}`, `{"id":12}`, `{"arr":[1,2,3]}`,
		`{"keys":{"x":true}}`, `{"bytes":"!"}`, `{"m":{"a":1,"\u0061":2}}`, ``, ` `, `{}`, `[]`, `null`,
	} {
		f.Add(seed)
	}
	var got fuzzDoc
	mw, err := validate.JSON[fuzzDoc](validate.Options{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(statusOf(err))
	}})
	if err != nil {
		f.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = validate.Body[fuzzDoc](r)
	}))
	f.Fuzz(func(t *testing.T, body string) {
		got = fuzzDoc{}
		code := capture(h, body)
		if code != http.StatusOK {
			if code < 400 || code > 499 {
				t.Fatalf("body %q: status %d, want 200 or a 4xx", body, code)
			}
			return
		}
		first := got
		// Strict is a subset: whatever the scan accepts, encoding/json decodes too.
		var plain fuzzDoc
		if err := json.Unmarshal([]byte(body), &plain); err != nil {
			t.Fatalf("body %q accepted, but encoding/json says %v", body, err)
		}
		again, err := json.Marshal(first)
		if err != nil {
			t.Fatalf("body %q: accepted value does not encode: %v", body, err)
		}
		got = fuzzDoc{}
		if code := capture(h, string(again)); code != http.StatusOK {
			t.Fatalf("body %q accepted, its re-encoding %s refused with %d", body, again, code)
		}
		if !reflect.DeepEqual(first, got) {
			t.Fatalf("body %q: decoded %+v, after a round trip %+v", body, first, got)
		}
	})
}

func statusOf(err error) int {
	var e *encode.Error
	if errors.As(err, &e) && e.Status != 0 {
		return e.Status
	}
	return http.StatusInternalServerError
}

type fuzzParams struct {
	Limit int      `query:"limit" validate:"omitempty,max=1000"`
	Q     string   `query:"q"`
	Tags  []string `query:"tag" validate:"max=5"`
	On    *bool    `query:"on"`
	F     float64  `query:"f"`
	U     uint8    `query:"u"`
}

// FuzzQuery fuzzes the query binder. Invariants: no panic; a refusal is a 400; an accepted
// query, encoded again from the bound value, binds to the same value.
func FuzzQuery(f *testing.F) {
	for _, seed := range []string{
		"limit=10&q=go&tag=a&tag=b&on=true&f=1.5&u=7", "limit=1&limit=2", "x=1", "limit=1e3", "limit=%2B1",
		"q=%ff", "q=a;b", "f=NaN", "f=-0", "f=1e308", "u=256", "on=1", "tag=" + strings.Repeat("a&tag=", 6), "",
	} {
		f.Add(seed)
	}
	var got fuzzParams
	mw, err := validate.Query[fuzzParams](validate.Options{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(statusOf(err))
	}})
	if err != nil {
		f.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = validate.Params[fuzzParams](r)
	}))
	run := func(raw string) int {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.RawQuery = raw
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got = fuzzParams{}
		if code := run(raw); code != http.StatusOK {
			if code != http.StatusBadRequest {
				t.Fatalf("query %q: status %d, want 200 or 400", raw, code)
			}
			return
		}
		first := got
		q := url.Values{}
		q.Set("limit", strconv.Itoa(first.Limit))
		q.Set("q", first.Q)
		q["tag"] = first.Tags
		if first.On != nil {
			q.Set("on", strconv.FormatBool(*first.On))
		}
		q.Set("f", strconv.FormatFloat(first.F, 'g', -1, 64))
		q.Set("u", strconv.Itoa(int(first.U)))
		got = fuzzParams{}
		if code := run(q.Encode()); code != http.StatusOK {
			t.Fatalf("query %q accepted, its re-encoding %q refused with %d", raw, q.Encode(), code)
		}
		if !reflect.DeepEqual(first, got) {
			t.Fatalf("query %q: bound %+v, after a round trip %+v", raw, first, got)
		}
	})
}
