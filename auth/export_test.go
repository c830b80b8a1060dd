package auth

import "net/http"

// Hooks for the black-box fuzz tests in package auth_test.

// ClaimPathRoundTrip parses a JSON Pointer and formats it again.
func ClaimPathRoundTrip(s string) (string, error) {
	p, err := parseClaimPath(s)
	if err != nil {
		return "", err
	}
	return p.String(), nil
}

// LookupClaim returns the raw value at pointer in doc.
func LookupClaim(doc []byte, pointer string) ([]byte, error) {
	p, err := parseClaimPath(pointer)
	if err != nil {
		return nil, err
	}
	return p.lookup(doc)
}

// ScanObject runs the strict object reader over b.
func ScanObject(b []byte) error {
	return eachMember(b, func(string, []byte) error { return nil })
}

// ExtractToken runs token extraction with the given cookie and query opt-in.
func ExtractToken(r *http.Request, cookie, query string) (string, error) {
	e := extractor{cookie: cookie, query: query, maxSize: DefaultMaxTokenSize}
	return e.token(r)
}

// DERSignature converts a raw R‖S ECDSA signature to ASN.1 DER.
func DERSignature(r, s []byte) []byte { return appendDERSignature(nil, r, s) }
