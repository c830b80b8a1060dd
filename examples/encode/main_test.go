package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/internal/testbrowser"
	"github.com/chromedp/chromedp"
)

func newServer(t *testing.T) (*httptest.Server, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	h, err := newHandler(slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv, &logs
}

func get(t *testing.T, srv *httptest.Server, path string) (*http.Response, string) {
	t.Helper()
	res, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

func TestEveryResponseIsHardened(t *testing.T) {
	srv, _ := newServer(t)
	for _, tt := range []struct {
		path, wantType string
		wantStatus     int
	}{
		{"/api/notes", "application/json; charset=utf-8", 200},
		{"/api/notes/9", "application/problem+json", 404},
		{"/api/boom", "application/problem+json", 500},
		{"/api/nothing-here", "text/plain; charset=utf-8", 404},
		{"/", "text/html; charset=utf-8", 200},
	} {
		t.Run(tt.path, func(t *testing.T) {
			res, _ := get(t, srv, tt.path)
			if res.StatusCode != tt.wantStatus || res.Header.Get("Content-Type") != tt.wantType {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, res.Header.Get("Content-Type"), tt.wantStatus, tt.wantType)
			}
			for _, k := range []string{"Strict-Transport-Security", "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "Cache-Control", "X-Request-Id"} {
				if res.Header.Get(k) == "" {
					t.Errorf("%s missing", k)
				}
			}
		})
	}
}

func TestPanicIsGenericAndLogged(t *testing.T) {
	srv, logs := newServer(t)
	res, body := get(t, srv, "/api/boom")
	var p map[string]any
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(body, "example panic") || p["request_id"] != res.Header.Get("X-Request-Id") {
		t.Errorf("body %s: leaks the panic or lacks the request id %q", body, res.Header.Get("X-Request-Id"))
	}
	if !strings.Contains(logs.String(), "example panic") || !strings.Contains(logs.String(), res.Header.Get("X-Request-Id")) {
		t.Errorf("log %s lacks the panic or the request id", logs.String())
	}
}

func TestPageSanitizesAndUsesNonce(t *testing.T) {
	srv, _ := newServer(t)
	res, body := get(t, srv, "/?comment="+url.QueryEscape(`<b>hi</b><script>alert(1)</script><img src=x onerror=alert(2)>`))
	csp := res.Header.Get("Content-Security-Policy")
	i := strings.Index(csp, "'nonce-")
	if i < 0 {
		t.Fatalf("Content-Security-Policy %q has no nonce", csp)
	}
	nonce := csp[i+len("'nonce-"):]
	nonce = nonce[:strings.IndexByte(nonce, '\'')]
	if got := strings.Count(body, `nonce="`+nonce+`"`); got != 2 {
		t.Errorf("page uses the response nonce %d times, want 2 (style and script)", got)
	}
	if strings.Contains(body, "alert") || !strings.Contains(body, "<b>hi</b>") {
		t.Errorf("comment not sanitized as expected: %s", body)
	}
	_, again := get(t, srv, "/")
	if strings.Contains(again, nonce) {
		t.Error("a second response reused the nonce")
	}
}

// In a real browser: the page's own script runs with the response's nonce, and a comment
// carrying a script and an event handler runs nothing.
func TestPageInBrowser(t *testing.T) {
	srv, _ := newServer(t)
	ctx := testbrowser.New(t)
	comment := url.QueryEscape(`<b>hi</b><script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">`)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/?comment="+comment), chromedp.WaitReady(chromedp.ID("status"))); err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("status")))
	if err != nil {
		t.Fatal(err)
	}
	if status != "script ran with the nonce" {
		t.Errorf("status = %q; the page's own script did not run", status)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if title == "pwned" {
		t.Error("the injected comment ran script")
	}
}
