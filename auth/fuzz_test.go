package auth_test

import (
	"bytes"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/auth"
)

// FuzzExtract feeds arbitrary Authorization headers, cookies and query strings to token
// extraction: it never panics, classifies every input as one of the four outcomes, and a
// token it returns is an RFC 6750 b64token within the size cap.
func FuzzExtract(f *testing.F) {
	for _, seed := range [][3]string{
		{"Bearer abc.def.ghi", "", ""},
		{"bearer   abc", "", ""},
		{"Bearer", "", ""},
		{"Basic YWxpY2U6c2VjcmV0", "", ""},
		{"", "access=abc", ""},
		{"", "", "access_token=abc"},
		{"Bearer a", "access=b", "access_token=c&access_token=d"},
		{"Bearer {\"payload\":1}", "", ""},
		{"Bearer a\x00b", "access=\"x\"", "%zz"},
	} {
		f.Add(seed[0], seed[1], seed[2], false)
		f.Add(seed[0], seed[1], seed[2], true)
	}
	f.Fuzz(func(t *testing.T, authz, cookie, query string, optIn bool) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL.RawQuery = query
		if authz != "" {
			r.Header["Authorization"] = strings.Split(authz, "\n")
		}
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		q := ""
		if optIn {
			q = "access_token"
		}
		tok, err := auth.ExtractToken(r, "access", q)
		switch {
		case err == nil:
			if tok == "" || len(tok) > auth.DefaultMaxTokenSize || strings.ContainsAny(tok, " \t\r\n,\"{}") {
				t.Errorf("token %q accepted", tok)
			}
		case errors.Is(err, auth.ErrNoCredentials), errors.Is(err, auth.ErrInvalidRequest),
			errors.Is(err, auth.ErrTooLarge), errors.Is(err, auth.ErrMalformed):
			if tok != "" {
				t.Errorf("error %v with token %q", err, tok)
			}
		default:
			t.Errorf("unexpected error %v", err)
		}
	})
}

// FuzzMiddleware sends arbitrary bearer tokens through the whole middleware: no panic, and
// every refusal is one of the generic answers.
func FuzzMiddleware(f *testing.F) {
	v := V(f)
	p := strings.Split(v, ".")
	for _, s := range []string{v, p[0] + "." + p[1] + ".", "a.b.c", "eyJ.eyJ.AA", p[0] + ".e30." + p[2], "a.b.c.d.e"} {
		f.Add(s)
	}
	h := newHandler(f, baseOptions())
	f.Fuzz(func(t *testing.T, tok string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{"Bearer " + tok}
		w := serve(h, r)
		switch w.Code {
		case http.StatusOK:
			if tok != v {
				t.Errorf("token %q accepted", tok)
			}
		case http.StatusBadRequest, http.StatusUnauthorized:
		default:
			t.Errorf("status %d", w.Code)
		}
	})
}

// FuzzClaimPath checks that JSON Pointers round-trip, and that a lookup only ever returns
// valid JSON from a document encoding/json accepts.
func FuzzClaimPath(f *testing.F) {
	for _, seed := range [][2]string{
		{"/roles", `{"roles":["a","b"]}`},
		{"/realm_access/roles", `{"realm_access":{"roles":["admin"]}}`},
		{"/https:~1~1example.com~1roles", `{"https://example.com/roles":"x"}`},
		{"/a/0/b", `{"a":[{"b":1}]}`},
		{"/a~0b", `{"a~b":true}`},
		{"/", `{"":null}`},
		{"/a/01", `{"a":[1,2]}`},
		{"roles", `[]`},
		{"/a", `{"a":1,"a":2}`},
		{"/x", `{"x":"\u00e9\ud83d\ude00"}`},
	} {
		f.Add(seed[0], []byte(seed[1]))
	}
	f.Fuzz(func(t *testing.T, pointer string, doc []byte) {
		if s, err := auth.ClaimPathRoundTrip(pointer); err == nil && s != pointer {
			t.Errorf("round trip of %q gave %q", pointer, s)
		}
		v, err := auth.LookupClaim(doc, pointer)
		if err == nil && !json.Valid(v) {
			t.Errorf("lookup %q in %q gave invalid JSON %q", pointer, doc, v)
		}
	})
}

// FuzzScanObject checks the strict reader against encoding/json: whatever it accepts is a
// valid JSON object.
func FuzzScanObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":[1,{"b":"c"}],"d":null}`, `{"a":1,"a":2}`, ` {"a" : "\u0041"} `,
		`{"a":1e5,"b":-0.5E-3,"c":true,"d":false}`, `{"a":01}`, `{"a":"\x01"}`, `[1]`, `{"a":1}x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if auth.ScanObject(b) == nil {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(b, &m); err != nil {
				t.Errorf("accepted %q, which encoding/json refuses: %v", b, err)
			}
		}
	})
}

// FuzzDERSignature checks the hand-written DER encoding of (r, s) against encoding/asn1.
func FuzzDERSignature(f *testing.F) {
	f.Add(make([]byte, 32), make([]byte, 32))
	f.Add([]byte{0x80, 1}, []byte{0, 0, 0x7f})
	f.Add(bytesOf(0xff, 66), bytesOf(0x01, 66))
	f.Fuzz(func(t *testing.T, r, s []byte) {
		if len(r) > 66 || len(s) > 66 {
			return
		}
		want, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(r), new(big.Int).SetBytes(s)})
		if err != nil {
			t.Fatal(err)
		}
		if got := auth.DERSignature(r, s); !bytes.Equal(got, want) {
			t.Errorf("DER(%x, %x) = %x, want %x", r, s, got, want)
		}
	})
}

func bytesOf(b byte, n int) []byte { return bytes.Repeat([]byte{b}, n) }
