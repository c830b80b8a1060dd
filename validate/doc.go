// Package validate decodes requests strictly into typed structs and checks them with
// github.com/go-playground/validator/v10, so that a handler only ever sees a checked value.
//
// [JSON] reads a JSON body into T; [Query] binds query and path parameters into T. Both
// validate T's validate tags and hand the value to the handler through the context
// ([Body], [Params]). A refusal is an RFC 9457 problem (see [encode.WriteError]) whose
// "errors" member has one entry per field: a JSON pointer built from JSON member names
// ("/items/2/email") or the parameter name, the rule that failed ("max") and a message
// ("must be at most 100").
//
//	type Signup struct {
//		Name     string `json:"name" validate:"required,max=100" sanitize:"nfc,trim"`
//		Email    string `json:"email" validate:"required,email,max=254"`
//		Password string `json:"password" validate:"required,min=12,max=128"`
//		Confirm  string `json:"confirm" validate:"eqfield=Password"`
//	}
//	signup, err := validate.JSON[Signup](validate.Options{})
//	mux.Handle("POST /signup", signup(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		s, _ := validate.Body[Signup](r)
//		...
//	})))
//
// # What encoding/json lets through, and this package does not
//
// encoding/json matches member names case-insensitively ({"EMAIL":...} sets Email, and
// "ſ" (U+017F) matches "s"), keeps the last of two equal keys, replaces invalid UTF-8 and
// lone surrogate escapes with U+FFFD, ignores null for strings and numbers, drops extra
// elements of a Go array, stops reading at the end of the first value, and reports a type
// error without the array index. Two parsers that disagree on a body let a proxy or WAF
// check one value while the service acts on another (ASVS5 1.5.3). So before
// encoding/json runs, one pass over the body (no allocations on the accepted path)
// refuses duplicate keys at any depth, members that are not an exact JSON name of T
// (mass assignment, ASVS5 15.3.3, API3:2023), invalid UTF-8, lone surrogates, nesting
// deeper than Options.MaxDepth, data after the value, values of the wrong JSON type
// ({"age":"12"} into an int, ASVS5 15.3.5), numbers that do not fit the field, and null
// for a field that is not a pointer, slice, map or interface. The JSON names are resolved
// once per type with encoding/json's own rules (tags, embedded structs, ",string").
//
// # Order of the steps
//
//  1. Content-Type must be application/json (415); a Content-Encoding is refused (415)
//     unless Options.GzipMaxBytes enables gzip. Wrap only routes that take a JSON body: a
//     request without one is refused.
//  2. The body is read up to Options.MaxBytes, and the gzip output up to GzipMaxBytes
//     (413 beyond). A Content-Length over the cap is refused before reading.
//  3. The strict scan (400), then encoding/json decodes into T.
//  4. validator checks T (400).
//  5. Fields tagged sanitize are cleaned: "nfc" (Unicode NFC), then "html" (the
//     [encode.NewUGCPolicy] sanitizer) or "striphtml" ([encode.NewStrictPolicy], text
//     only), then "trim" (strings.TrimSpace), in that order whatever the tag's order.
//  6. validator checks T again, so the lengths and formats the handler relies on hold for
//     the cleaned value: "  " trimmed fails required, and sanitized HTML can grow past max.
//
// Validating before sanitizing keeps the costly HTML sanitizer away from values that are
// refused anyway; validating after means the rules hold for what is stored (ASVS5 1.1.1:
// the value is canonicalized once, and checked in its final form). A consequence: format
// rules see the value as sent, so " ann@example.com " fails email even with trim; trim
// and nfc are for free text.
//
// # Rules
//
// Every validator tag works: range (min, max, gte, lte), presence (required,
// required_if), format (email, uuid, datetime=2006-01-02), cross-field (eqfield,
// gtfield), dive for slice and map elements. This package adds "safeurl" (an absolute URL
// whose scheme is in Options.URLSchemes, https if unset, with a host and no user
// information), Options.Patterns (regular-expression rules, compiled once, matched in
// full; Go's regexp is RE2, linear in the input, ASVS5 1.3.12), and Options.Rules (your
// own functions). Each constructor has its own validator, with those rules registered
// before first use; tags are checked at construction, so a misspelt rule is an error
// there, not a panic later. A rule that panics on a request (a tag on a type it does not
// support) gives a 500 and a log line instead of a crash.
//
// Use dive to check elements of slices and maps (validate:"max=50,dive"), and give every
// string and slice a max: the body cap bounds the request, not each field (API4:2023).
//
// # Security notes for operators
//
// Values are never echoed, in responses or logs, for any field: messages are built from
// the rule and its parameter only, so no secret tag is needed for passwords. Pointers may
// quote a map key or an unknown member name from the request, up to 128 bytes; a longer
// one is cut at the enclosing object. A refusal lists at most 20 entries.
//
// Refusals are logged once, at Warn, under the OWASP event "input_validation_fail", by
// the default ErrorHandler ([encode.ErrorHandler]); the record has the pointers and rule
// names, never the body, query string or values (ASVS5 16.3.3).
//
// The body cap holds for chunked bodies and when the JSON value ends early: the body is
// read to its end, at most MaxBytes+1 bytes, and whatever follows the value is refused.
// Over the cap, net/http closes the connection rather than drain the rest. Gzip is off by
// default: a 10 KB gzip body can decompress to 10 MB. When enabled, the decompressed size
// is capped separately, and the compressed size by MaxBytes.
//
// Query parameters are decoded once, by [net/url.ParseQuery]; a query it cannot parse
// fully (a ';' separator, a bad %-escape) is refused rather than partly read. A repeated
// parameter is refused unless its field is a slice, so "?id=1&id=2" cannot mean one thing
// to a proxy and another here (ASVS5 15.3.7). Unknown parameters are refused unless
// Options.AllowUnknownParameters is set. Only the query string is read, never a form
// body.
//
// A sanitized value is safe to show as HTML as it is; do not normalize it (NFC) again
// afterwards, and prefer to sanitize at output when the stored text must stay as typed
// (see [encode.Policy]).
package validate
