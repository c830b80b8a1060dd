// Package testbrowser gives a test a real headless Chromium, driven with chromedp, for checks
// that only a browser can make: which scripts a Content-Security-Policy lets run, what a page
// shows.
//
// It uses Debian's chromium (apt-get install chromium); it never downloads a browser. If no
// browser is installed the test is skipped with a message, except when the CI environment
// variable is set: there a missing browser fails the test.
package testbrowser

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// timeout bounds everything one test does in the browser.
const timeout = 60 * time.Second

// New starts a fresh headless browser with its own profile directory and returns a chromedp
// context for one tab. The browser is closed when the test ends.
func New(tb testing.TB) context.Context {
	tb.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") != "" {
			tb.Fatal("testbrowser: no chromium installed, and CI must run the browser tests")
		}
		tb.Skip("testbrowser: chromium is not installed; install it (apt-get install chromium) to run this test")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in a container
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("ignore-certificate-errors", true), // httptest's TLS certificates
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	tb.Cleanup(func() {
		cancelTab()
		cancelAlloc()
		cancelTimeout()
	})
	if err := chromedp.Do(tab); err != nil { // starts the browser now, so failures show here
		tb.Fatalf("testbrowser: start %s: %v", path, err)
	}
	return tab
}
