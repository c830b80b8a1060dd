package tlsutil_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/encode"
	"github.com/bulwark-go/bulwark/tlsutil"
)

// testsslFinding is one entry of testssl.sh's --jsonfile output.
type testsslFinding struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Finding  string `json:"finding"`
}

// TESTSSL (SECURITY-STANDARDS §9): an independent black-box scanner, testssl.sh from Debian,
// checks protocols (-p), cipher categories (-s), forward secrecy and groups (-f), the known
// TLS vulnerabilities (-U) and the security headers (-h) of a server built from Intermediate,
// RequireHTTPS and encode.Headers. No finding may be MEDIUM or worse.
func TestTestSSLScan(t *testing.T) {
	bin, err := exec.LookPath("testssl")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("testssl is not installed, and CI must run the TLS scan")
		}
		t.Skip("testssl is not installed (apt-get install testssl.sh)")
	}
	if testing.Short() {
		t.Skip("the scan takes about 20 seconds")
	}
	certPEM, keyPEM, err := tlsutil.DevCertificate(tlsutil.DevCertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cfg := tlsutil.Intermediate()
	cfg.Certificates = []tls.Certificate{pair}
	requireHTTPS, err := tlsutil.RequireHTTPS(tlsutil.Options{})
	if err != nil {
		t.Fatal(err)
	}
	headers, err := encode.Headers(encode.HeadersOptions{UnsafeNoHSTS: true}) // RequireHTTPS sends it
	if err != nil {
		t.Fatal(err)
	}
	srv := startTLS(t, cfg, requireHTTPS(headers(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))))

	out := filepath.Join(t.TempDir(), "testssl.json")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--quiet", "--color", "0", "--warnings", "off",
		"--jsonfile", out, "-p", "-s", "-f", "-U", "-h", srv.Listener.Addr().String())
	if b, err := cmd.CombinedOutput(); err != nil && ctx.Err() != nil {
		t.Fatalf("testssl did not finish: %v\n%s", err, b)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var findings []testsslFinding
	if err := json.Unmarshal(raw, &findings); err != nil {
		t.Fatalf("testssl output: %v", err)
	}
	if len(findings) < 30 {
		t.Fatalf("testssl reported only %d findings; the scan did not run", len(findings))
	}
	byID := map[string]testsslFinding{}
	for _, f := range findings {
		byID[f.ID] = f
		switch f.Severity {
		case "MEDIUM", "HIGH", "CRITICAL", "FATAL":
			t.Errorf("testssl %s [%s]: %s", f.ID, f.Severity, f.Finding)
		}
	}
	for id, want := range map[string]string{
		"SSLv2": "not offered", "SSLv3": "not offered", "TLS1": "not offered", "TLS1_1": "not offered",
		"TLS1_2": "offered", "cipherlist_NULL": "not offered", "cipherlist_aNULL": "not offered",
		"cipherlist_EXPORT": "not offered", "cipherlist_LOW": "not offered",
		"cipherlist_3DES_IDEA": "not offered", "cipherlist_AVERAGE": "not offered",
	} {
		if got := byID[id].Finding; got != want {
			t.Errorf("testssl %s = %q, want %q", id, got, want)
		}
	}
	if f := byID["HSTS_time"]; f.Severity != "OK" {
		t.Errorf("testssl HSTS_time = %+v, want OK", f)
	}
}
