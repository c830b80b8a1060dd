package tlsutil

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// intermediateSuites are the TLS 1.2 suites of Mozilla's intermediate profile (MOZ-TLS 6.0):
// ECDHE key exchange (forward secrecy) with an AEAD cipher only. Go's own default list also
// has the ECDHE-CBC-SHA suites, and the default follows the go line of go.mod, so the list is
// spelled out. TLS 1.3 suites are not configurable in Go and are all AEAD.
func intermediateSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
}

// curves are Mozilla's groups (MOZ-TLS 6.0): the X25519MLKEM768 post-quantum hybrid, X25519,
// P-256 and P-384. Go's default also offers P-521 and the SecP*MLKEM hybrids.
func curves() []tls.CurveID {
	return []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384}
}

// Intermediate returns a new server configuration following Mozilla's intermediate profile
// (MOZ-TLS 6.0, ASVS5 12.1.1, 12.1.2): TLS 1.2 and 1.3 only, the six ECDHE AEAD suites for
// TLS 1.2, and the groups X25519MLKEM768, X25519, P-256 and P-384. Clients offering only TLS
// 1.0/1.1, CBC or RSA key exchange fail the handshake. NextProtos is left
// empty so that [http.Server] adds "h2" and "http/1.1" itself.
//
// Set Certificates or GetCertificate (for example [Reloader.GetCertificate]) before use.
// Each call returns a fresh value the caller may change.
func Intermediate() *tls.Config {
	return &tls.Config{
		MinVersion:       tls.VersionTLS12,
		CipherSuites:     intermediateSuites(),
		CurvePreferences: curves(),
	}
}

// Modern returns a new server configuration following Mozilla's modern profile
// (MOZ-TLS 6.0): TLS 1.3 only, with the same groups as [Intermediate]. Clients limited to
// TLS 1.2 fail the handshake, so use it only when every client is recent.
// Each call returns a fresh value the caller may change.
func Modern() *tls.Config {
	return &tls.Config{
		MinVersion:       tls.VersionTLS13,
		CurvePreferences: curves(),
	}
}

// ClientAuthOptions configures [WithClientAuth]. CAs is required.
type ClientAuthOptions struct {
	// CAs are the certificate authorities a client certificate must chain to. Required.
	CAs *x509.CertPool
	// AllowNoClientCert lets clients without a certificate complete the handshake; a
	// certificate that is sent is still verified. If false, a client certificate is required
	// (ASVS5 12.1.3). Handlers must then check [ClientIdentity] themselves.
	AllowNoClientCert bool
}

// WithClientAuth returns a copy of cfg that verifies client certificates (mutual TLS) against
// opts.CAs: a client with no certificate, or one that does not chain to CAs, fails the
// handshake. Handlers read the verified identity with [ClientIdentity]. cfg is not changed.
func WithClientAuth(cfg *tls.Config, opts ClientAuthOptions) (*tls.Config, error) {
	var errs []error
	if cfg == nil {
		errs = append(errs, errors.New("tlsutil: WithClientAuth needs a non-nil *tls.Config"))
	}
	if opts.CAs == nil {
		errs = append(errs, errors.New("tlsutil: ClientAuthOptions.CAs is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c := cfg.Clone()
	c.ClientCAs = opts.CAs
	c.ClientAuth = tls.RequireAndVerifyClientCert
	if opts.AllowNoClientCert {
		c.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return c, nil
}
