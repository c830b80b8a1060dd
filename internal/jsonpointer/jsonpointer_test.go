package jsonpointer_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/bulwark-go/bulwark/internal/jsonpointer"
)

var cases = []struct {
	in   string
	want []string // nil: refused
}{
	{"/roles", []string{"roles"}},
	{"/realm_access/roles", []string{"realm_access", "roles"}},
	{"/https:~1~1example.com~1roles", []string{"https://example.com/roles"}},
	{"/a~0b", []string{"a~b"}},
	{"/~01", []string{"~1"}}, // RFC 6901 §4: ~01 is "~1", not "/"
	{"/", []string{""}},
	{"//x", []string{"", "x"}},
	{"/items/2/email", []string{"items", "2", "email"}},
	{"", nil},
	{"roles", nil},
	{"/a~", nil},
	{"/a~2", nil},
	{"#/a", nil},
}

func TestParse(t *testing.T) {
	for _, tt := range cases {
		got, err := jsonpointer.Parse(tt.in)
		if tt.want == nil {
			if !errors.Is(err, jsonpointer.ErrSyntax) {
				t.Errorf("Parse(%q) = %q, %v; want ErrSyntax", tt.in, got, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Parse(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
		if back := jsonpointer.Format(got); back != tt.in {
			t.Errorf("Format(Parse(%q)) = %q", tt.in, back)
		}
	}
}

// Parse and Format are inverse: any pointer Parse accepts formats back to itself, and any
// token list survives a round trip.
func FuzzParse(f *testing.F) {
	for _, tt := range cases {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tokens, err := jsonpointer.Parse(s)
		if err != nil {
			return
		}
		if back := jsonpointer.Format(tokens); back != s {
			t.Fatalf("Format(Parse(%q)) = %q", s, back)
		}
		again, err := jsonpointer.Parse(jsonpointer.Format(tokens))
		if err != nil || !slices.Equal(again, tokens) {
			t.Fatalf("tokens %q do not round-trip: %q, %v", tokens, again, err)
		}
	})
}
