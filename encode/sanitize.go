package encode

import "github.com/microcosm-cc/bluemonday"

// Policy is an HTML sanitizing policy over bluemonday. Build one at start-up with
// [NewStrictPolicy] or [NewUGCPolicy] and share it: a built Policy is safe for concurrent use.
//
// Sanitizing is for untrusted HTML that must be shown as HTML. For plain text in a page, let
// html/template escape it; for JSON, use [JSON]. Sanitize after any other processing (for
// example Markdown rendering), never before.
type Policy struct {
	p *bluemonday.Policy
}

// NewStrictPolicy returns a policy that keeps text only: every element and attribute is
// removed, and the text is HTML-escaped.
func NewStrictPolicy() *Policy {
	return &Policy{p: bluemonday.StrictPolicy()}
}

// NewUGCPolicy returns a policy for user-generated content: common formatting, lists, tables,
// images and links survive; scripts, styles, event handlers, forms and frames do not. URLs must
// parse and use http, https or mailto; every link gets rel="nofollow", and links to other
// hosts also open in a new tab with rel="nofollow noopener".
func NewUGCPolicy() *Policy {
	p := bluemonday.UGCPolicy()
	p.RequireParseableURLs(true)
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return &Policy{p: p}
}

// Sanitize returns s with everything the policy does not allow removed.
func (p *Policy) Sanitize(s string) string {
	return p.p.Sanitize(s)
}

// SanitizeFields sanitizes each string in place, for the text fields of a request or record:
//
//	ugc.SanitizeFields(&post.Title, &post.Body)
//
// Nil pointers are skipped.
func (p *Policy) SanitizeFields(fields ...*string) {
	for _, f := range fields {
		if f != nil {
			*f = p.p.Sanitize(*f)
		}
	}
}
