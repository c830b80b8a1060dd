package tlsutil

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// ACMEOptions configures [NewACME]. Hosts and CacheDir are required.
type ACMEOptions struct {
	// Hosts are the only names certificates are requested for (see [HostPolicy]). Required.
	Hosts []string
	// CacheDir keeps the account key and certificates across restarts, so that a restart
	// loop does not hit the CA's rate limits. It is created with mode 0700 if missing, and
	// refused if it exists and others may read or write it. Required.
	CacheDir string
	// Email is the contact address given to the CA for expiry and problem notices.
	// If empty, none.
	Email string
	// DirectoryURL is the CA's ACME directory. If empty, Let's Encrypt production.
	DirectoryURL string
	// RenewBefore is how long before expiry a certificate is renewed.
	// If zero, autocert's default (30 days).
	RenewBefore time.Duration
}

// NewACME returns an [autocert.Manager] that obtains and renews certificates for opts.Hosts,
// accepting the CA's terms of service. Use its GetCertificate through [ACMEConfig], and pass
// it as [RedirectOptions.ACME] so that the plain-HTTP listener answers HTTP-01 challenges.
// It reports invalid options as an error; it makes no network request itself.
func NewACME(opts ACMEOptions) (*autocert.Manager, error) {
	var errs []error
	policy, err := HostPolicy(opts.Hosts)
	if err != nil {
		errs = append(errs, fmt.Errorf("tlsutil: ACMEOptions.Hosts: %w", err))
	}
	if opts.CacheDir == "" {
		errs = append(errs, errors.New("tlsutil: ACMEOptions.CacheDir is required"))
	} else if err := prepareCacheDir(opts.CacheDir); err != nil {
		errs = append(errs, err)
	}
	if opts.RenewBefore < 0 {
		errs = append(errs, fmt.Errorf("tlsutil: ACMEOptions.RenewBefore %v is negative", opts.RenewBefore))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	m := &autocert.Manager{
		Prompt:      autocert.AcceptTOS,
		Cache:       autocert.DirCache(opts.CacheDir),
		HostPolicy:  policy,
		RenewBefore: opts.RenewBefore,
		Email:       opts.Email,
	}
	if opts.DirectoryURL != "" {
		m.Client = &acme.Client{DirectoryURL: opts.DirectoryURL}
	}
	return m, nil
}

// ACMEConfig returns [Intermediate] with certificates from m, and the "acme-tls/1" protocol
// so that TLS-ALPN-01 challenges work too.
func ACMEConfig(m *autocert.Manager) *tls.Config {
	cfg := Intermediate()
	cfg.GetCertificate = m.GetCertificate
	cfg.NextProtos = []string{"h2", "http/1.1", acme.ALPNProto}
	return cfg
}

// prepareCacheDir creates dir with mode 0700, or checks that an existing dir is private: it
// holds the ACME account key and the certificates' private keys.
func prepareCacheDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("tlsutil: ACMEOptions.CacheDir: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("tlsutil: ACMEOptions.CacheDir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("tlsutil: ACMEOptions.CacheDir %q is not a directory", dir)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("tlsutil: ACMEOptions.CacheDir %q is accessible to other users (mode %v); use 0700", dir, fi.Mode().Perm())
	}
	return nil
}
