package validate_test

import (
	"encoding/json"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-playground/validator/v10"

	"github.com/bulwark-go/bulwark/validate"
)

type signup struct {
	ID       string    `json:"id" validate:"required,uuid"`
	Email    string    `json:"email" validate:"required,email"`
	Password string    `json:"password" validate:"required,min=12,max=64"`
	Confirm  string    `json:"confirm" validate:"eqfield=Password"`
	Age      int       `json:"age" validate:"gte=18,lte=130"`
	Born     string    `json:"born" validate:"required,datetime=2006-01-02"`
	Website  string    `json:"website" validate:"omitempty,safeurl"`
	Kind     string    `json:"kind" validate:"required,oneof=personal business"`
	VAT      string    `json:"vat" validate:"required_if=Kind business"`
	SKU      string    `json:"sku" validate:"omitempty,sku"`
	Handle   string    `json:"handle" validate:"omitempty,min=2,max=20,handle"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end" validate:"gtfield=Start"`
	Min      int       `json:"min"`
	Max      int       `json:"max" validate:"gtefield=Min"`
}

func signupOptions() validate.Options {
	return validate.Options{
		URLSchemes: []string{"https", "mailto"},
		Patterns:   map[string]string{"sku": `[A-Z]{3}-[0-9]{4}`},
		Rules: map[string]validator.Func{
			// handle: no look-alike of "admin", whatever the case.
			"handle": func(fl validator.FieldLevel) bool {
				return fl.Field().Kind() == reflect.String && !strings.Contains(strings.ToLower(fl.Field().String()), "admin")
			},
		},
	}
}

func validSignup() map[string]any {
	return map[string]any{
		"id": "8f14e45f-ceea-467f-a0e1-5a2f3b8e8a11", "email": "ann@example.com",
		"password": "correct horse battery", "confirm": "correct horse battery",
		"age": 30, "born": "1996-02-29", "website": "https://ann.example", "kind": "personal",
		"sku": "ABC-1234", "handle": "ann", "start": "2026-01-01T00:00:00Z", "end": "2026-01-02T00:00:00Z",
		"min": 1, "max": 1,
	}
}

// TestRules shows every rule family of the issue (ASVS5 2.2.1: positive validation of
// structure, ranges and patterns), each refusal naming the member and the rule.
func TestRules(t *testing.T) {
	h := newJSON[signup](t, signupOptions())
	for _, tt := range []struct {
		name   string
		change map[string]any
		entry  string // "" means accepted
		detail string // expected detail, if set
	}{
		{"valid", nil, "", ""},
		// range
		{"gte", map[string]any{"age": 17}, "/age gte", "must be at least 18"},
		{"lte", map[string]any{"age": 131}, "/age lte", "must be at most 130"},
		{"min length", map[string]any{"password": "short", "confirm": "short"}, "/password min", "must have at least 12 characters"},
		{"max length", map[string]any{"password": strings.Repeat("p", 65), "confirm": strings.Repeat("p", 65)}, "/password max", ""},
		{"min length counts characters", map[string]any{"handle": "é"}, "/handle min", ""},
		// format
		{"uuid", map[string]any{"id": "not-a-uuid"}, "/id uuid", "must be a UUID"},
		{"datetime", map[string]any{"born": "29/02/1996"}, "/born datetime", "must be a date or time in the layout 2006-01-02"},
		{"datetime not a real day", map[string]any{"born": "1997-02-29"}, "/born datetime", ""},
		{"safeurl http refused", map[string]any{"website": "http://ann.example"}, "/website safeurl", "must be an absolute URL with scheme https, mailto"},
		{"safeurl javascript", map[string]any{"website": "javascript:alert(1)"}, "/website safeurl", ""},
		{"safeurl userinfo", map[string]any{"website": "https://bank.example@evil.example/"}, "/website safeurl", ""},
		{"safeurl relative", map[string]any{"website": "//evil.example/"}, "/website safeurl", ""},
		{"safeurl upper-case scheme", map[string]any{"website": "HTTPS://ann.example/"}, "", ""},
		// presence
		{"required", map[string]any{"email": ""}, "/email required", "is required"},
		{"required_if set", map[string]any{"kind": "business"}, "/vat required_if", ""},
		{"required_if satisfied", map[string]any{"kind": "business", "vat": "DE123"}, "", ""},
		{"oneof", map[string]any{"kind": "admin"}, "/kind oneof", "must be one of: personal, business"},
		// pattern
		{"email", map[string]any{"email": "ann@"}, "/email email", ""},
		{"regex rule", map[string]any{"sku": "abc-1234"}, "/sku sku", "must match the sku format"},
		{"regex rule is anchored", map[string]any{"sku": "xABC-1234"}, "/sku sku", ""},
		{"custom rule", map[string]any{"handle": "Admin2"}, "/handle handle", "must pass the handle rule"},
		// cross-field
		{"eqfield", map[string]any{"confirm": "correct horse battery!"}, "/confirm eqfield", "must equal password"},
		{"gtfield dates", map[string]any{"end": "2025-12-31T00:00:00Z"}, "/end gtfield", "must be greater than start"},
		{"gtefield", map[string]any{"min": 2}, "/max gtefield", "must be at least min"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := validSignup()
			maps.Copy(body, tt.change)
			b, _ := json.Marshal(body)
			res := h.post(string(b))
			if tt.entry == "" {
				if res.code != 200 {
					t.Fatalf("change %v: status = %d, want 200 (%s)", tt.change, res.code, res.body)
				}
				return
			}
			if got := res.pointers(); len(got) != 1 || got[0] != tt.entry {
				t.Fatalf("change %v: errors = %q, want [%q] (status %d)", tt.change, got, tt.entry, res.code)
			}
			if tt.detail != "" && res.prob.Errors[0].Detail != tt.detail {
				t.Errorf("change %v: detail = %q, want %q", tt.change, res.prob.Errors[0].Detail, tt.detail)
			}
		})
	}
}

// TestRulesValidatorIsShared: one constructor's validator serves every request; rules
// registered there are not visible to another constructor.
func TestRulesPerConstructor(t *testing.T) {
	type skuOnly struct {
		SKU string `json:"sku" validate:"sku"`
	}
	if _, err := validate.JSON[skuOnly](validate.Options{}); err == nil || !strings.Contains(err.Error(), "sku") {
		t.Errorf("JSON without the sku pattern: err = %v, want an error naming sku", err)
	}
	h := newJSON[skuOnly](t, validate.Options{Patterns: map[string]string{"sku": `[A-Z]{3}-[0-9]{4}`}})
	if res := h.post(`{"sku":"ABC-1234"}`); res.code != 200 {
		t.Errorf("status = %d, want 200", res.code)
	}
}

// TestRulePanicIsA500: a tag applied to a type it does not support makes validator panic
// only for some values; that becomes a 500, not a crash.
func TestRulePanicIsA500(t *testing.T) {
	type odd struct {
		When []int `json:"when" validate:"omitempty,unique=Name"` // unique=Name needs structs
	}
	h := newJSON[odd](t, validate.Options{})
	res := h.post(`{"when":[1]}`)
	if res.code != 500 {
		t.Errorf("status = %d, want 500", res.code)
	}
	if strings.Contains(res.body, "Bad field") {
		t.Errorf("the panic value reached the client: %s", res.body)
	}
}

// TestRulesReservedNames: a custom rule may not replace a built-in rule or a tag validator
// treats specially; the constructor says so instead of panicking.
func TestRulesReservedNames(t *testing.T) {
	for _, name := range []string{"required", "email", "dive", "omitempty", "keys", "endkeys", "structonly",
		"omitnil", "safeurl", "or|and", "a,b", ""} {
		_, err := validate.JSON[person](validate.Options{Rules: map[string]validator.Func{
			name: func(validator.FieldLevel) bool { return true },
		}})
		if err == nil {
			t.Errorf("rule name %q accepted", name)
		}
	}
}
