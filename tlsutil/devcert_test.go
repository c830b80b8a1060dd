package tlsutil_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/tlsutil"
)

func TestWriteDevCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "dev.crt"), filepath.Join(dir, "dev.key")
	// An existing, world-readable key file must not keep its permissions.
	if err := os.WriteFile(keyFile, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := tlsutil.WriteDevCertificate(certFile, keyFile, tlsutil.DevCertOptions{}); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		for name, want := range map[string]os.FileMode{keyFile: 0o600, certFile: 0o644} {
			fi, err := os.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s: mode = %v, want %v", filepath.Base(name), fi.Mode().Perm(), want)
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("dir holds %d files, want 2 (no temporary files left)", len(entries))
	}

	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf := pair.Leaf
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("key = %T, want ECDSA P-256", leaf.PublicKey)
	}
	if !slices.Equal(leaf.DNSNames, []string{"localhost"}) {
		t.Errorf("DNSNames = %v, want [localhost]", leaf.DNSNames)
	}
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	if !slices.Equal(ips, []string{"127.0.0.1", "::1"}) {
		t.Errorf("IPAddresses = %v, want [127.0.0.1 ::1]", ips)
	}
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d < 30*24*time.Hour || d > 31*24*time.Hour {
		t.Errorf("validity = %v, want about 30 days", d)
	}

	// The certificate works for a real handshake on loopback when trusted directly.
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	cfg := tlsutil.Intermediate()
	cfg.Certificates = []tls.Certificate{pair}
	srv := startTLS(t, cfg, nil)
	for _, name := range []string{"localhost", "127.0.0.1"} {
		_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
		if _, err := dialTLS(net.JoinHostPort("127.0.0.1", port), &tls.Config{RootCAs: pool, ServerName: name}); err != nil {
			t.Errorf("handshake as %s: %v", name, err)
		}
	}
}

func TestDevCertificateOptions(t *testing.T) {
	certPEM, _, err := tlsutil.DevCertificate(tlsutil.DevCertOptions{Hosts: []string{"dev.example", "192.0.2.1"}, ValidFor: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(certPEM)
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.DNSNames, []string{"dev.example"}) || len(c.IPAddresses) != 1 {
		t.Errorf("SANs = %v %v, want dev.example and 192.0.2.1", c.DNSNames, c.IPAddresses)
	}
	for _, opts := range []tlsutil.DevCertOptions{
		{Hosts: []string{"bad host"}},
		{ValidFor: -time.Hour},
		{ValidFor: 400 * 24 * time.Hour},
	} {
		if _, _, err := tlsutil.DevCertificate(opts); err == nil {
			t.Errorf("DevCertificate(%+v): err = nil, want an error", opts)
		}
	}
}
