package tlsutil_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/tlsutil"
)

// servedSerial completes a handshake with SNI (so GetCertificate is asked) and returns the
// serial of the certificate the server presented.
func servedSerial(t *testing.T, addr string, pool *x509.CertPool) int64 {
	t.Helper()
	state, err := dialTLS(addr, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	return state.PeerCertificates[0].SerialNumber.Int64()
}

// TestReloaderRotation replaces the files under a running server (GO-TLS GetCertificate):
// a valid new pair is served on the next handshake without restart; garbage, a mismatched
// key, an expired or not yet valid certificate, a weak key or missing files keep the old pair.
func TestReloaderRotation(t *testing.T) {
	ca := newCA(t, "rotation CA")
	dir := t.TempDir()
	certFile, keyFile := ca.write(t, dir, leafSpec{serial: 1})
	var logs bytes.Buffer
	r, err := tlsutil.NewReloader(tlsutil.ReloaderOptions{
		CertFile: certFile, KeyFile: keyFile,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := tlsutil.Intermediate()
	cfg.GetCertificate = r.GetCertificate
	addr := startTLS(t, cfg, nil).Listener.Addr().String()
	if got := servedSerial(t, addr, ca.pool); got != 1 {
		t.Fatalf("initial serial = %d, want 1", got)
	}

	now := time.Now()
	otherCert, _ := ca.issue(t, leafSpec{serial: 99})
	_, otherKey := ca.issue(t, leafSpec{serial: 98})
	for _, tt := range []struct {
		name       string
		cert, key  []byte
		remove     bool
		wantErr    error
		wantSerial int64
	}{
		{name: "valid new pair", wantSerial: 2},
		{name: "garbage", cert: []byte("not a certificate"), key: []byte("not a key"), wantErr: tlsutil.ErrInvalidCertificate, wantSerial: 2},
		{name: "mismatched key", cert: otherCert, key: otherKey, wantErr: tlsutil.ErrInvalidCertificate, wantSerial: 2},
		{name: "expired", wantErr: tlsutil.ErrCertificateExpired, wantSerial: 2},
		{name: "not yet valid", wantErr: tlsutil.ErrCertificateExpired, wantSerial: 2},
		{name: "weak RSA key", wantErr: tlsutil.ErrInvalidCertificate, wantSerial: 2},
		{name: "files missing", remove: true, wantErr: tlsutil.ErrInvalidCertificate, wantSerial: 2},
		{name: "RSA pair", wantSerial: 7},
		{name: "valid again", wantSerial: 8},
	} {
		t.Run(tt.name, func(t *testing.T) {
			certPEM, keyPEM := tt.cert, tt.key
			switch tt.name {
			case "valid new pair":
				certPEM, keyPEM = ca.issue(t, leafSpec{serial: 2})
			case "expired":
				certPEM, keyPEM = ca.issue(t, leafSpec{serial: 4, notBefore: now.Add(-48 * time.Hour), notAfter: now.Add(-time.Hour)})
			case "not yet valid":
				certPEM, keyPEM = ca.issue(t, leafSpec{serial: 5, notBefore: now.Add(time.Hour), notAfter: now.Add(48 * time.Hour)})
			case "weak RSA key":
				certPEM, keyPEM = weakRSAPair(t, ca)
			case "RSA pair":
				certPEM, keyPEM = ca.issue(t, leafSpec{serial: 7, rsa: true})
			case "valid again":
				certPEM, keyPEM = ca.issue(t, leafSpec{serial: 8})
			}
			if tt.remove {
				os.Remove(certFile)
				os.Remove(keyFile)
			} else {
				writePair(t, dir, certPEM, keyPEM)
			}
			err := r.Reload()
			if tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Errorf("Reload: err = %v, want %v", err, tt.wantErr)
			}
			if got := servedSerial(t, addr, ca.pool); got != tt.wantSerial {
				t.Errorf("served serial = %d, want %d", got, tt.wantSerial)
			}
			if got := r.Leaf().SerialNumber.Int64(); got != tt.wantSerial {
				t.Errorf("Leaf serial = %d, want %d", got, tt.wantSerial)
			}
		})
	}
	log := logs.String()
	if n := strings.Count(log, `"msg":"tls_cert_reload_fail"`); n != 6 {
		t.Errorf("log has %d tls_cert_reload_fail records, want 6:\n%s", n, log)
	}
	if n := strings.Count(log, `"msg":"tls_cert_reloaded"`); n != 3 {
		t.Errorf("log has %d tls_cert_reloaded records, want 3:\n%s", n, log)
	}
	if strings.Contains(log, "PRIVATE KEY") || strings.Contains(log, "MII") {
		t.Errorf("log contains key material:\n%s", log)
	}
}

// weakRSAPair is a certificate with an RSA-1024 key, under MOZ-TLS's 2048 bits.
func weakRSAPair(t *testing.T, ca *testCA) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Skipf("RSA-1024 key generation refused: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(6), Subject: pkix.Name{CommonName: "localhost"}, DNSNames: []string{"localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

// TestReloaderRun polls the files on a fake clock: a change is picked up at the next tick,
// a bad pair is logged once and not retried until the files change again.
func TestReloaderRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ca := newCA(t, "run CA") // inside the bubble, so validity follows the fake clock
		dir := t.TempDir()
		certFile, keyFile := ca.write(t, dir, leafSpec{serial: 1})
		var logs syncBuffer
		r, err := tlsutil.NewReloader(tlsutil.ReloaderOptions{
			CertFile: certFile, KeyFile: keyFile, Interval: time.Minute,
			Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- r.Run(ctx) }()

		tick := func() {
			time.Sleep(time.Minute)
			synctest.Wait()
		}
		ca.write(t, dir, leafSpec{serial: 2})
		tick()
		if got := r.Leaf().SerialNumber.Int64(); got != 2 {
			t.Errorf("after change and tick: serial = %d, want 2", got)
		}
		writePair(t, dir, []byte("garbage"), []byte("garbage"))
		tick()
		tick()
		tick()
		if got := r.Leaf().SerialNumber.Int64(); got != 2 {
			t.Errorf("after garbage: serial = %d, want 2", got)
		}
		if n := strings.Count(logs.String(), "tls_cert_reload_fail"); n != 1 {
			t.Errorf("garbage logged %d times over 3 ticks, want once", n)
		}
		ca.write(t, dir, leafSpec{serial: 3})
		tick()
		if got := r.Leaf().SerialNumber.Int64(); got != 3 {
			t.Errorf("after a good pair again: serial = %d, want 3", got)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	})
}

// TestReloaderConcurrent runs handshakes' GetCertificate against reloads under -race.
func TestReloaderConcurrent(t *testing.T) {
	ca := newCA(t, "race CA")
	dir := t.TempDir()
	certFile, keyFile := ca.write(t, dir, leafSpec{serial: 1})
	r, err := tlsutil.NewReloader(tlsutil.ReloaderOptions{CertFile: certFile, KeyFile: keyFile, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if c, err := r.GetCertificate(nil); err != nil || c == nil || c.Leaf == nil {
					t.Errorf("GetCertificate = %v, %v", c, err)
					return
				}
			}
		})
	}
	for i := range 5 {
		ca.write(t, dir, leafSpec{serial: int64(10 + i)})
		if err := r.Reload(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}

func TestNewReloaderErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		opts    tlsutil.ReloaderOptions
		wantErr error
	}{
		{"no files", tlsutil.ReloaderOptions{}, nil},
		{"negative interval", tlsutil.ReloaderOptions{CertFile: garbage, KeyFile: garbage, Interval: -1}, nil},
		{"missing files", tlsutil.ReloaderOptions{CertFile: filepath.Join(dir, "nope"), KeyFile: filepath.Join(dir, "nope")}, tlsutil.ErrInvalidCertificate},
		{"garbage", tlsutil.ReloaderOptions{CertFile: garbage, KeyFile: garbage}, tlsutil.ErrInvalidCertificate},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tlsutil.NewReloader(tt.opts)
			if err == nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("NewReloader: err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// syncBuffer is a bytes.Buffer safe for a logger used from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
