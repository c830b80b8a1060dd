package encode_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/bulwark-go/bulwark/encode"
	"golang.org/x/net/html"
)

// xssPayloads follow the OWASP XSS Filter Evasion Cheat Sheet: script elements, event
// handlers, javascript: and data: URLs (plain, entity-encoded, with embedded whitespace and
// case tricks), SVG and MathML, styles, frames, forms, malformed markup and comments.
var xssPayloads = []string{
	`<script>alert(1)</script>`,
	`<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>`,
	`<scr<script>ipt>alert(1)</scr</script>ipt>`,
	`<img src=x onerror=alert(1)>`,
	`<IMG SRC="javascript:alert('XSS');">`,
	`<IMG SRC=JaVaScRiPt:alert('XSS')>`,
	"<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
	`<img src=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#39;&#88;&#83;&#83;&#39;&#41;>`,
	`<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041>`,
	`<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x27&#x58&#x53&#x53&#x27&#x29>`,
	"<IMG SRC=\"jav\tascript:alert('XSS');\">",
	"<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
	"<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
	`<a href="javascript:alert('XSS1')" onmouseover="alert('XSS2')">XSS<a>`,
	`<a href="JAVASCRIPT:alert(1)">x</a>`,
	`<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`,
	`<a href="vbscript:msgbox(1)">x</a>`,
	`<a href=" javascript:alert(1)">x</a>`,
	`<a href="java&#x09;script:alert(1)">x</a>`,
	`<svg/onload=alert('XSS')>`,
	`<svg><script>alert(1)</script></svg>`,
	`<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>`,
	`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
	`<BODY ONLOAD=alert('XSS')>`,
	`<iframe src="javascript:alert(1)"></iframe>`,
	`<iframe srcdoc="<script>alert(1)</script>"></iframe>`,
	`<object data="javascript:alert(1)"></object>`,
	`<embed src="data:image/svg+xml;base64,PHN2Zz4=">`,
	`<form action="javascript:alert(1)"><button>go</button></form>`,
	`<input onfocus=alert(1) autofocus>`,
	`<details open ontoggle=alert(1)>`,
	`<div style="background:url(javascript:alert(1))">x</div>`,
	`<STYLE>@import'https://xss.example/xss.css';</STYLE>`,
	`<LINK REL="stylesheet" HREF="javascript:alert('XSS');">`,
	`<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert('XSS');">`,
	`<BASE HREF="javascript:alert('XSS');//">`,
	`<TABLE BACKGROUND="javascript:alert('XSS')">`,
	`<DIV STYLE="width: expression(alert('XSS'));">`,
	`<!--<img src="--><img src=x onerror=alert(1)//">`,
	`<p title="</p><script>alert(1)</script>">x</p>`,
	`<<SCRIPT>alert("XSS");//\<</SCRIPT>`,
	`<img """><script>alert("XSS")</script>">`,
	`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`,
	`<template><script>alert(1)</script></template>`,
	`%3Cscript%3Ealert(1)%3C/script%3E`,
	`\u003cscript\u003ealert(1)\u003c/script\u003e`,
}

// dangerousElements must never survive sanitizing, whatever the policy.
var dangerousElements = map[string]bool{
	"script": true, "style": true, "iframe": true, "frame": true, "frameset": true, "object": true,
	"embed": true, "applet": true, "svg": true, "math": true, "form": true, "input": true,
	"button": true, "textarea": true, "select": true, "link": true, "meta": true, "base": true,
	"template": true, "noscript": true, "body": true, "html": true, "head": true,
}

var urlAttributes = map[string]bool{
	"href": true, "src": true, "action": true, "formaction": true, "cite": true, "background": true,
	"poster": true, "longdesc": true, "usemap": true, "data": true, "srcset": true, "xlink:href": true,
}

// checkSafeHTML parses out as a browser would and fails on anything that could run script:
// a dangerous element, an event-handler, style or srcdoc attribute, or a URL whose scheme is
// not http, https or mailto (after entity decoding, as the browser does).
func checkSafeHTML(t *testing.T, in, out string, textOnly bool) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(out))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		tok := z.Token()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			if textOnly {
				t.Fatalf("strict policy kept element <%s>\n in: %q\nout: %q", tok.Data, in, out)
			}
			if dangerousElements[tok.Data] {
				t.Fatalf("kept <%s>\n in: %q\nout: %q", tok.Data, in, out)
			}
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				if a.Namespace != "" {
					key = a.Namespace + ":" + key
				}
				if strings.HasPrefix(key, "on") || key == "style" || key == "srcdoc" {
					t.Fatalf("kept attribute %s=%q\n in: %q\nout: %q", key, a.Val, in, out)
				}
				if urlAttributes[key] && !safeURL(a.Val) {
					t.Fatalf("kept %s=%q\n in: %q\nout: %q", key, a.Val, in, out)
				}
			}
		case html.CommentToken, html.DoctypeToken:
			t.Fatalf("kept a %v token\n in: %q\nout: %q", tt, in, out)
		}
	}
}

// safeURL reports whether a browser would treat u as http, https, mailto or a relative URL.
func safeURL(u string) bool {
	// Browsers strip leading/trailing C0 controls and spaces and remove tabs and newlines
	// anywhere before parsing the scheme (WHATWG URL).
	u = strings.TrimFunc(u, func(r rune) bool { return r <= ' ' })
	u = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, u)
	colon := strings.IndexByte(u, ':')
	if colon < 0 || strings.ContainsAny(u[:colon], "/?#") {
		return true // no scheme: relative
	}
	switch strings.ToLower(u[:colon]) {
	case "http", "https", "mailto":
		return true
	}
	return false
}

func TestSanitizeXSSPayloads(t *testing.T) {
	strict, ugc := encode.NewStrictPolicy(), encode.NewUGCPolicy()
	for _, p := range xssPayloads {
		checkSafeHTML(t, p, strict.Sanitize(p), true)
		checkSafeHTML(t, p, ugc.Sanitize(p), false)
	}
}

func TestSanitizeKeepsSafeContent(t *testing.T) {
	ugc := encode.NewUGCPolicy()
	for _, tt := range []struct{ in, want string }{
		{`<b>bold</b> and <i>it</i>`, `<b>bold</b> and <i>it</i>`},
		{`<a href="https://example.com/x">x</a>`, `<a href="https://example.com/x" rel="nofollow noopener" target="_blank">x</a>`},
		{`<a href="/notes/1">n</a>`, `<a href="/notes/1" rel="nofollow">n</a>`},
		{`<a href="mailto:a@example.com">m</a>`, `<a href="mailto:a@example.com" rel="nofollow">m</a>`},
		{`<ul><li>one</li></ul>`, `<ul><li>one</li></ul>`},
		{`<a href="javascript:alert(1)" onmouseover="alert(2)">XSS</a>`, `XSS`},
		{`<p onclick="steal()">hi</p>`, `<p>hi</p>`},
		{`2 < 3 & 4 > 1`, `2 &lt; 3 &amp; 4 &gt; 1`},
	} {
		if got := ugc.Sanitize(tt.in); got != tt.want {
			t.Errorf("UGC Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	strict := encode.NewStrictPolicy()
	for _, tt := range []struct{ in, want string }{
		{`<b>bold</b> text`, `bold text`},
		{`<script>alert(1)</script>hello`, `hello`},
		{`Tom & "Jerry" <3`, `Tom &amp; &#34;Jerry&#34; &lt;3`},
	} {
		if got := strict.Sanitize(tt.in); got != tt.want {
			t.Errorf("strict Sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSanitizeFields(t *testing.T) {
	title, body := `<script>x</script>Hello`, `<b onclick=x>hi</b>`
	encode.NewUGCPolicy().SanitizeFields(&title, &body, nil)
	if title != "Hello" || body != "<b>hi</b>" {
		t.Errorf("fields = %q, %q; want Hello, <b>hi</b>", title, body)
	}
}

// BM: a built policy is safe to share; run under -race.
func TestSanitizeConcurrent(t *testing.T) {
	ugc := encode.NewUGCPolicy()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, p := range xssPayloads {
				_ = ugc.Sanitize(p)
			}
		}()
	}
	wg.Wait()
}

func FuzzSanitize(f *testing.F) {
	for _, p := range xssPayloads {
		f.Add(p)
	}
	strict, ugc := encode.NewStrictPolicy(), encode.NewUGCPolicy()
	f.Fuzz(func(t *testing.T, s string) {
		checkSafeHTML(t, s, strict.Sanitize(s), true)
		checkSafeHTML(t, s, ugc.Sanitize(s), false)
	})
}

func BenchmarkSanitize(b *testing.B) {
	in := `<p>Hello <b>world</b> <a href="https://example.com" onclick="x()">link</a><script>alert(1)</script></p>`
	for _, bc := range []struct {
		name string
		p    *encode.Policy
	}{{"strict", encode.NewStrictPolicy()}, {"ugc", encode.NewUGCPolicy()}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = bc.p.Sanitize(in)
			}
		})
	}
}
