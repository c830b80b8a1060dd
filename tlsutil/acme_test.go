package tlsutil_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/bulwark-go/bulwark/tlsutil"
)

// TestNewACME checks the configuration only: no request reaches a CA.
func TestNewACME(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "acme")
	m, err := tlsutil.NewACME(tlsutil.ACMEOptions{Hosts: []string{"api.example"}, CacheDir: dir, Email: "ops@api.example"})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("cache dir: %v, %v; want mode 0700", fi, err)
	}
	if err := m.HostPolicy(context.Background(), "api.example"); err != nil {
		t.Errorf("policy(api.example) = %v, want nil", err)
	}
	if err := m.HostPolicy(context.Background(), "evil.example"); err == nil {
		t.Error("policy(evil.example) = nil, want an error")
	}
	cfg := tlsutil.ACMEConfig(m)
	if cfg.GetCertificate == nil || !slices.Contains(cfg.NextProtos, "acme-tls/1") || cfg.MinVersion == 0 {
		t.Errorf("ACMEConfig: GetCertificate %v, NextProtos %v, MinVersion %x", cfg.GetCertificate != nil, cfg.NextProtos, cfg.MinVersion)
	}

	// The plain-HTTP listener answers challenge paths through autocert and redirects the rest.
	h, err := tlsutil.RedirectHandler(tlsutil.RedirectOptions{CanonicalHost: "api.example", ACME: m})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"/.well-known/acme-challenge/unknown-token": http.StatusNotFound, "/x": http.StatusMovedPermanently} {
		r := httptest.NewRequest("GET", path, nil)
		r.Host = "api.example"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("GET %s: status = %d, want %d", path, w.Code, want)
		}
	}
}

func TestNewACMEErrors(t *testing.T) {
	open := t.TempDir()
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []tlsutil.ACMEOptions{
		{},
		{Hosts: []string{"api.example"}},
		{CacheDir: t.TempDir()},
		{Hosts: []string{"api.example"}, CacheDir: open},
		{Hosts: []string{"api.example"}, CacheDir: file},
		{Hosts: []string{"api.example"}, CacheDir: t.TempDir(), RenewBefore: -1},
	} {
		if _, err := tlsutil.NewACME(opts); err == nil {
			t.Errorf("NewACME(%+v): err = nil, want an error", opts)
		}
	}
}
