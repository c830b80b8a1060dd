package encode_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bulwark-go/bulwark/encode"
	"github.com/bulwark-go/bulwark/internal/testbrowser"
	"github.com/chromedp/chromedp"
)

// In a real browser, the document profile's policy runs the page's own scripts, which carry
// the response's nonce, and the scripts they load ('strict-dynamic'); it blocks an injected
// inline script, an inline event handler and a guessed nonce, which is what an attacker who
// slipped markup past the sanitizer would try (ASVS5 3.4.3, CS-Content_Security_Policy).
func TestBrowserEnforcesDocumentPolicy(t *testing.T) {
	ctx := testbrowser.New(t)
	h := mustHeaders(t, encode.HeadersOptions{Profile: encode.ProfileDocument}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce, _ := encode.NonceFromContext(r.Context())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><html><head><title>t</title></head><body>
<script nonce="`+nonce+`">window.own = true;
var s = document.createElement("script"); s.src = "/loaded.js"; document.head.appendChild(s);</script>
<script>window.injected = true;</script>
<img src="/missing.png" onerror="window.handler = true">
<script nonce="wrong-nonce">window.guessed = true;</script>
</body></html>`)
	}))
	mux := http.NewServeMux()
	mux.Handle("/{$}", h)
	mux.Handle("/loaded.js", mustHeaders(t, encode.HeadersOptions{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		_, _ = io.WriteString(w, "window.loaded = true;")
	})))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Poll[chromedp.Void](`window.loaded === true`)(ctx, tg) // the strict-dynamic load ran
			return err
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]bool](`({own: !!window.own, loaded: !!window.loaded,
		injected: !!window.injected, handler: !!window.handler, guessed: !!window.guessed})`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"own": true, "loaded": true, "injected": false, "handler": false, "guessed": false}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("script %q ran = %v, want %v", k, got[k], v)
		}
	}
}

// An API response that a browser is tricked into rendering as HTML (a wrong Content-Type, a
// reflected value) runs nothing under the API profile's "default-src 'none'" (ASVS5 3.2.1).
func TestBrowserAPIProfileRunsNothing(t *testing.T) {
	ctx := testbrowser.New(t)
	h := mustHeaders(t, encode.HeadersOptions{}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, `{"name":"<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"}`)
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatal(err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if title == "pwned" {
		t.Error("a script in an API response ran in the browser")
	}
}
