package tlsutil

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"
)

// Identity is the verified identity of a TLS client certificate (mutual TLS).
type Identity struct {
	// CommonName is the subject common name of the leaf certificate.
	CommonName string
	// DNSNames, EmailAddresses and URIs are the subject alternative names of the leaf;
	// URIs carries, for example, SPIFFE ids.
	DNSNames       []string
	EmailAddresses []string
	URIs           []string
	// SerialNumber is the leaf's serial number in lower-case hex.
	SerialNumber string
	// Fingerprint is the SHA-256 of the leaf certificate's DER, in lower-case hex: a stable
	// key for allow-lists that does not depend on name parsing.
	Fingerprint string
	// Issuer is the common name of the certificate authority that issued the leaf.
	Issuer string
	// NotAfter is when the leaf certificate expires.
	NotAfter time.Time
}

// ClientIdentity returns the identity of the client certificate that the TLS stack verified
// for r (see [WithClientAuth]), and whether there was one. It reads only
// r.TLS.VerifiedChains, which clients cannot forge; a certificate that was sent but not
// verified, or a certificate forwarded by a proxy in a header, is never returned.
// It is safe for concurrent use and returns a fresh value each call.
func ClientIdentity(r *http.Request) (Identity, bool) {
	if r == nil || r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return Identity{}, false
	}
	c := r.TLS.VerifiedChains[0][0]
	sum := sha256.Sum256(c.Raw)
	id := Identity{
		CommonName:     c.Subject.CommonName,
		DNSNames:       append([]string(nil), c.DNSNames...),
		EmailAddresses: append([]string(nil), c.EmailAddresses...),
		SerialNumber:   c.SerialNumber.Text(16),
		Fingerprint:    hex.EncodeToString(sum[:]),
		Issuer:         c.Issuer.CommonName,
		NotAfter:       c.NotAfter,
	}
	for _, u := range c.URIs {
		id.URIs = append(id.URIs, u.String())
	}
	return id, true
}
