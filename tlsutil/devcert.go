package tlsutil

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// DevCertOptions configures [DevCertificate] and [WriteDevCertificate]. The zero value makes
// a certificate for localhost, 127.0.0.1 and ::1, valid for 30 days.
type DevCertOptions struct {
	// Hosts are the DNS names and IP addresses the certificate is for.
	// If empty, localhost, 127.0.0.1 and ::1.
	Hosts []string
	// ValidFor is how long the certificate is valid. If zero, 30 days. At most 366 days
	// (MOZ-TLS 6.0 certificate lifespan).
	ValidFor time.Duration
}

// DevCertificate returns a new self-signed ECDSA P-256 certificate and its PKCS #8 private
// key, both PEM-encoded, for development and tests only: browsers and clients do not trust
// it unless told to. It reports invalid options as an error.
func DevCertificate(opts DevCertOptions) (certPEM, keyPEM []byte, err error) {
	hosts := opts.Hosts
	if len(hosts) == 0 {
		hosts = []string{"localhost", "127.0.0.1", "::1"}
	}
	validFor := opts.ValidFor
	if validFor == 0 {
		validFor = 30 * 24 * time.Hour
	}
	var errs []error
	if validFor < 0 || validFor > 366*24*time.Hour {
		errs = append(errs, fmt.Errorf("tlsutil: DevCertOptions.ValidFor %v is out of range (0, 366 days]", validFor))
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "bulwark development certificate"},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			continue
		}
		n, ok := normalizeHost(h)
		if !ok {
			errs = append(errs, fmt.Errorf("tlsutil: DevCertOptions.Hosts entry %q is not a host name or IP address", h))
			continue
		}
		tmpl.DNSNames = append(tmpl.DNSNames, n)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	if tmpl.SerialNumber, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127)); err != nil {
		return nil, nil, err
	}
	now := time.Now()
	// Backdated a little so that a client whose clock is slightly behind accepts it.
	tmpl.NotBefore = now.Add(-time.Hour)
	tmpl.NotAfter = now.Add(validFor)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	return certPEM, keyPEM, nil
}

// WriteDevCertificate makes a certificate with [DevCertificate] and writes it to certFile
// (mode 0644) and its key to keyFile (mode 0600). Each file is written to a temporary file in
// the same directory and renamed into place, so a [Reloader] never sees half a file and an
// existing key file never keeps looser permissions.
func WriteDevCertificate(certFile, keyFile string, opts DevCertOptions) error {
	certPEM, keyPEM, err := DevCertificate(opts)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	return writeFileAtomic(certFile, certPEM, 0o644)
}

// writeFileAtomic writes data to a new temporary file next to name, sets perm, and renames it
// over name.
func writeFileAtomic(name string, data []byte, perm os.FileMode) (err error) {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(f.Name())
		}
	}()
	// CreateTemp makes the file 0600, so the key is never readable by others, even briefly.
	if _, err = f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Chmod(perm); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), name)
}
