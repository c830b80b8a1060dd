package encode_test

import (
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/encode"
)

type failingMarshaler struct{}

var errMarshal = errors.New("marshal refused: internal detail")

func (failingMarshaler) MarshalJSON() ([]byte, error) { return nil, errMarshal }

func TestJSON(t *testing.T) {
	w := httptest.NewRecorder()
	v := map[string]string{"note": "</script><script>alert(1)</script> & \u2028\u2029"}
	if err := encode.JSON(w, httptest.NewRequest("GET", "/", nil), http.StatusCreated, v); err != nil {
		t.Fatal(err)
	}
	if w.Code != http.StatusCreated {
		t.Errorf("status = %d, want 201", w.Code)
	}
	// ASVS5 4.1.1: the declared type matches the body.
	if got := w.Header().Get("Content-Type"); got != "application/json; charset=utf-8" {
		t.Errorf("Content-Type = %q", got)
	}
	if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
	body := w.Body.String()
	// ASVS5 1.2.3: JSON that a page embeds cannot close the script element or break a JS string.
	for _, raw := range []string{"<", ">", "&", "\u2028", "\u2029"} {
		if strings.Contains(body, raw) {
			t.Errorf("body %q holds a raw %q", body, raw)
		}
	}
	want := `{"note":"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e \u0026 \u2028\u2029"}`
	if body != want {
		t.Errorf("body = %s, want %s", body, want)
	}
	var back map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &back); err != nil || back["note"] != v["note"] {
		t.Errorf("round trip = %q (%v), want %q", back["note"], err, v["note"])
	}
}

func TestJSONRefusesWhatItCannotEncode(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    any
	}{
		{"channel", map[string]any{"ok": "partial", "c": make(chan int)}},
		{"NaN", []float64{1, math.NaN()}},
		{"infinity", struct{ F float64 }{math.Inf(1)}},
		{"failing MarshalJSON", []any{"first", failingMarshaler{}}},
		{"function", func() {}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			err := encode.JSON(w, httptest.NewRequest("GET", "/", nil), http.StatusOK, tt.v)
			if err == nil {
				t.Fatal("JSON returned no error")
			}
			if w.Code != http.StatusInternalServerError {
				t.Errorf("status = %d, want 500", w.Code)
			}
			p := decodeProblem(t, w)
			if p.Detail != "" {
				t.Errorf("detail = %q, want none", p.Detail)
			}
			for _, leak := range []string{"partial", "first", "internal detail", "NaN", "chan"} {
				if strings.Contains(w.Body.String(), leak) {
					t.Errorf("body %q holds %q: a partial value or the cause leaked", w.Body.String(), leak)
				}
			}
		})
	}
	w := httptest.NewRecorder()
	if err := encode.JSON(w, nil, 200, failingMarshaler{}); !errors.Is(err, errMarshal) {
		t.Errorf("error = %v, want it to wrap the marshaler's", err)
	}
}

func BenchmarkJSON(b *testing.B) {
	r := httptest.NewRequest("GET", "/", nil)
	v := struct {
		ID    int    `json:"id"`
		Title string `json:"title"`
	}{7, "hello <world>"}
	w := newDiscardWriter()
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		_ = encode.JSON(w, r, http.StatusOK, v)
	}
}
