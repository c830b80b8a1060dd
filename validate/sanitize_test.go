package validate_test

import (
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/bulwark-go/bulwark/encode"
	"github.com/bulwark-go/bulwark/validate"
)

type post struct {
	Title   string            `json:"title" validate:"required,max=20" sanitize:"trim,nfc"`
	Body    string            `json:"body" validate:"max=200" sanitize:"html"`
	Plain   string            `json:"plain" validate:"max=50" sanitize:"striphtml,trim"`
	Tags    []string          `json:"tags" validate:"dive,required" sanitize:"trim"`
	Alias   *string           `json:"alias" sanitize:"nfc,trim"`
	Meta    map[string]string `json:"meta" sanitize:"trim"`
	Authors []author          `json:"authors" validate:"dive"`
	Raw     string            `json:"raw"`
}

type author struct {
	Name string `json:"name" validate:"required" sanitize:"trim"`
}

func decodePost(t *testing.T, h *harness, body string) (post, result) {
	t.Helper()
	res := h.post(body)
	var p post
	if res.code == 200 {
		if err := json.Unmarshal([]byte(res.body), &p); err != nil {
			t.Fatal(err)
		}
	}
	return p, res
}

func TestSanitize(t *testing.T) {
	h := newJSON[post](t, validate.Options{})

	p, res := decodePost(t, h, `{"title":"  Cafe\u0301  ","body":"<p onclick=\"x()\">hi <script>alert(1)</script><a href=\"javascript:alert(1)\">l</a></p>",`+
		`"plain":" <b>bold</b> ","tags":[" a ","b "],"alias":" e\u0301 ","meta":{"k":" v "},"authors":[{"name":" Ann "}],"raw":"  <b>kept</b>  "}`)
	if res.code != 200 {
		t.Fatalf("status = %d, want 200 (%s)", res.code, res.body)
	}
	for _, c := range []struct{ field, got, want string }{
		{"title: trimmed, NFC", p.Title, "Café"},
		{"body: UGC policy", p.Body, "<p>hi l</p>"},
		{"plain: strict policy, trimmed", p.Plain, "bold"},
		{"tags", strings.Join(p.Tags, "|"), "a|b"},
		{"alias through a pointer", *p.Alias, "é"},
		{"map value", p.Meta["k"], "v"},
		{"nested struct in a slice", p.Authors[0].Name, "Ann"},
		{"untagged field untouched", p.Raw, "  <b>kept</b>  "},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if !norm.NFC.IsNormalString(p.Title) {
		t.Errorf("title %q is not NFC", p.Title)
	}
}

// TestSanitizeThenRecheck: the rules are checked again on the cleaned value (validate,
// sanitize, re-check), so what the handler gets obeys them.
func TestSanitizeThenRecheck(t *testing.T) {
	h := newJSON[post](t, validate.Options{})
	for _, tt := range []struct {
		name, body, entry string
	}{
		{"blank title passes required, then is trimmed to empty", `{"title":"   "}`, "/title required"},
		{"blank tag", `{"title":"t","tags":["ok","  "]}`, "/tags/1 required"},
		{"blank nested name", `{"title":"t","authors":[{"name":" "}]}`, "/authors/0/name required"},
		{"escaping grows the body past max", `{"title":"t","body":"` + strings.Repeat("&", 100) + `"}`, "/body max"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, res := decodePost(t, h, tt.body)
			if got := res.pointers(); len(got) != 1 || got[0] != tt.entry {
				t.Errorf("body %s: errors = %q, want [%q]", tt.body, got, tt.entry)
			}
		})
	}
	// Before sanitizing, an over-long value is refused without running the sanitizer.
	if _, res := decodePost(t, h, `{"title":"t","body":"`+strings.Repeat("a", 201)+`"}`); !res.has("/body max") {
		t.Errorf("over-long body: errors = %q, want /body max", res.pointers())
	}
}

// TestSanitizeNFCBeforeHTML: normalizing after the HTML sanitizer could join a '>' it
// wrote with a following U+0338 into U+226F and reopen the tag. NFC runs first, so the
// sanitizer sees the joined character.
func TestSanitizeNFCBeforeHTML(t *testing.T) {
	type comment struct {
		Text string `json:"text" sanitize:"html,nfc"` // tag order does not matter
	}
	input := "<b>\u0338 onmouseover=alert(1) x</b>"

	// The wrong order, for the record: sanitizing, then normalizing, gives
	// "<b≯ onmouseover=alert(1) x</b>", an element whose event handler browsers run.
	wrong := norm.NFC.String(encode.NewUGCPolicy().Sanitize(input))
	t.Logf("sanitize-then-NFC gives %q", wrong)

	h := newJSON[comment](t, validate.Options{})
	b, _ := json.Marshal(comment{Text: input})
	res := h.post(string(b))
	if res.code != 200 {
		t.Fatalf("status = %d (%s)", res.code, res.body)
	}
	var c comment
	_ = json.Unmarshal([]byte(res.body), &c)
	if strings.Contains(c.Text, "<b") {
		t.Errorf("text = %q: a tag survived with the attribute text after it", c.Text)
	}
}

func TestSanitizeTagErrors(t *testing.T) {
	type bad struct {
		A string `sanitize:"upper"`
		B string `sanitize:"html,striphtml"`
		C int    `sanitize:"trim"`
		D author `sanitize:"trim"`
	}
	_, err := validate.JSON[bad](validate.Options{})
	if err == nil {
		t.Fatal("JSON accepted bad sanitize tags")
	}
	for _, want := range []string{"bad.A", "bad.B", "bad.C", "bad.D"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
