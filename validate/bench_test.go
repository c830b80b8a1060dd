package validate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/bulwark-go/bulwark/validate"
)

type benchOrder struct {
	ID       string        `json:"id" validate:"required,uuid"`
	Customer benchCustomer `json:"customer"`
	Items    []benchItem   `json:"items" validate:"required,min=1,max=20,dive"`
	Note     string        `json:"note" validate:"max=200"`
	Coupon   *string       `json:"coupon" validate:"omitempty,alphanum,max=16"`
	Tags     []string      `json:"tags" validate:"max=10,dive,max=20"`
}

type benchCustomer struct {
	Name    string `json:"name" validate:"required,max=100"`
	Email   string `json:"email" validate:"required,email"`
	Phone   string `json:"phone" validate:"omitempty,e164"`
	Street  string `json:"street" validate:"required,max=100"`
	City    string `json:"city" validate:"required,max=60"`
	Country string `json:"country" validate:"required,len=2"`
}

type benchItem struct {
	SKU   string  `json:"sku" validate:"required,max=32"`
	Name  string  `json:"name" validate:"required,max=80"`
	Qty   int     `json:"qty" validate:"min=1,max=1000"`
	Price float64 `json:"price" validate:"gte=0"`
	Gift  bool    `json:"gift"`
}

// benchBody is a realistic order of about 1 KB.
func benchBody() []byte {
	coupon := "SPRING25"
	o := benchOrder{
		ID: "8f14e45f-ceea-467f-a0e1-5a2f3b8e8a11",
		Customer: benchCustomer{Name: "Ann Example", Email: "ann@example.com", Phone: "+14155552671",
			Street: "1 Infinite Loop", City: "Cupertino", Country: "US"},
		Note:   "Please leave the parcel with the neighbour if nobody is at home.",
		Coupon: &coupon,
		Tags:   []string{"priority", "gift", "fragile"},
	}
	for i := range 7 {
		o.Items = append(o.Items, benchItem{SKU: fmt.Sprintf("SKU-%05d", i), Name: "Widget, blue, size " + strings.Repeat("L", i%3+1),
			Qty: i + 1, Price: 19.99 + float64(i), Gift: i%2 == 0})
	}
	b, _ := json.MarshalIndent(o, "", " ")
	return b
}

// discard is a ResponseWriter that keeps nothing, so the benchmarks measure the middleware.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

type plainKey struct{}

// plainJSON is the baseline: what a careful handler does with encoding/json and validator
// alone (size cap, DisallowUnknownFields, one shared validator), storing the value in the
// context as JSON does.
func plainJSON[T any](v *validator.Validate, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var x T
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&x); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if err := v.Struct(&x); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), plainKey{}, x)))
	})
}

// plainUnmarshal is the fastest plain baseline: read the capped body, json.Unmarshal,
// validator. It is less strict than plainJSON (json.Unmarshal cannot refuse unknown
// members), so it isolates the cost of JSON's own scan.
func plainUnmarshal[T any](v *validator.Validate, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var x T
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		if err := json.Unmarshal(body, &x); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if err := v.Struct(&x); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), plainKey{}, x)))
	})
}

func runBody(b *testing.B, h http.Handler, body []byte) {
	b.Helper()
	rd := bytes.NewReader(body)
	r := httptest.NewRequest(http.MethodPost, "/orders", nil)
	r.Body = io.NopCloser(rd)
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Type", "application/json")
	w := &discard{h: http.Header{}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkDecodeValidate1KB compares JSON with plain encoding/json + validator on the same
// 1 KB body, in one run: benchstat -col /impl gives the cost of the strictness. "plain" is
// a json.Decoder with DisallowUnknownFields; "plain_unmarshal" reads the body and calls
// json.Unmarshal, which is faster but lets unknown members through.
func BenchmarkDecodeValidate1KB(b *testing.B) {
	body := benchBody()
	ok := 0
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ok++ })

	mw, err := validate.JSON[benchOrder](validate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("impl=bulwark", func(b *testing.B) {
		ok = 0
		runBody(b, mw(next), body)
		if ok == 0 {
			b.Fatal("the body was refused")
		}
	})
	b.Run("impl=plain", func(b *testing.B) {
		ok = 0
		runBody(b, plainJSON[benchOrder](validator.New(validator.WithRequiredStructEnabled()), next), body)
		if ok == 0 {
			b.Fatal("the body was refused")
		}
	})
	b.Run("impl=plain_unmarshal", func(b *testing.B) {
		ok = 0
		runBody(b, plainUnmarshal[benchOrder](validator.New(validator.WithRequiredStructEnabled()), next), body)
		if ok == 0 {
			b.Fatal("the body was refused")
		}
	})
}

// BenchmarkStrictnessOverhead runs JSON and a plain baseline on the same 1 KB body in
// alternation, timing each call, and reports how much slower JSON is in percent.
// Measuring both in one loop cancels the drift of a shared machine, which moves separate
// benchmarks by more than the difference being measured. The budget is 30.
func BenchmarkStrictnessOverhead(b *testing.B) {
	body := benchBody()
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	mw, err := validate.JSON[benchOrder](validate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	v := validator.New(validator.WithRequiredStructEnabled())
	for _, base := range []struct {
		name string
		h    http.Handler
	}{
		{"vs=plain", plainJSON[benchOrder](v, next)},
		{"vs=plain_unmarshal", plainUnmarshal[benchOrder](v, next)},
	} {
		b.Run(base.name, func(b *testing.B) {
			handlers := [2]http.Handler{mw(next), base.h}
			var readers [2]*bytes.Reader
			var reqs [2]*http.Request
			for i := range reqs {
				readers[i] = bytes.NewReader(body)
				reqs[i] = httptest.NewRequest(http.MethodPost, "/orders", nil)
				reqs[i].Body = io.NopCloser(readers[i])
				reqs[i].ContentLength = int64(len(body))
				reqs[i].Header.Set("Content-Type", "application/json")
			}
			w := &discard{h: http.Header{}}
			var spent [2]time.Duration
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				for k := range 2 {
					i := (n + k) % 2 // alternate which goes first
					readers[i].Reset(body)
					start := time.Now()
					handlers[i].ServeHTTP(w, reqs[i])
					spent[i] += time.Since(start)
				}
				n++
			}
			b.ReportMetric(100*(float64(spent[0])/float64(spent[1])-1), "overhead-%")
		})
	}
}

// BenchmarkJSONRefused is the path an attacker drives: an unknown member deep in the body.
func BenchmarkJSONRefused(b *testing.B) {
	body := bytes.Replace(benchBody(), []byte(`"gift": true`), []byte(`"gift": true, "discount": 100`), 1)
	mw, err := validate.JSON[benchOrder](validate.Options{ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
		w.WriteHeader(http.StatusBadRequest)
	}})
	if err != nil {
		b.Fatal(err)
	}
	runBody(b, mw(http.NotFoundHandler()), body)
}

// BenchmarkJSONSanitize adds the sanitize step (trim and NFC on the names) and the second
// validation it brings.
func BenchmarkJSONSanitize(b *testing.B) {
	type customer struct {
		Name    string `json:"name" validate:"required,max=100" sanitize:"trim,nfc"`
		Email   string `json:"email" validate:"required,email" sanitize:"trim"`
		Phone   string `json:"phone" validate:"omitempty,e164"`
		Street  string `json:"street" validate:"required,max=100" sanitize:"trim,nfc"`
		City    string `json:"city" validate:"required,max=60" sanitize:"trim,nfc"`
		Country string `json:"country" validate:"required,len=2"`
	}
	type order struct {
		ID       string      `json:"id" validate:"required,uuid"`
		Customer customer    `json:"customer"`
		Items    []benchItem `json:"items" validate:"required,min=1,max=20,dive"`
		Note     string      `json:"note" validate:"max=200" sanitize:"striphtml"`
		Coupon   *string     `json:"coupon" validate:"omitempty,alphanum,max=16"`
		Tags     []string    `json:"tags" validate:"max=10,dive,max=20"`
	}
	mw, err := validate.JSON[order](validate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	runBody(b, mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})), benchBody())
}

func BenchmarkQuery(b *testing.B) {
	mw, err := validate.Query[search](validate.Options{})
	if err != nil {
		b.Fatal(err)
	}
	h := mw(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	r := httptest.NewRequest(http.MethodGet, "/search?limit=20&offset=40&q=golang&tag=a&tag=b&active=true", nil)
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}
