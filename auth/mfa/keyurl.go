package mfa

import (
	"encoding/base32"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrKeyURL is returned by [ParseKeyURL] for a string that is not a TOTP key URL it accepts.
var ErrKeyURL = errors.New("mfa: invalid otpauth key URL")

// Algorithm is the HMAC hash of a TOTP key.
type Algorithm string

// The algorithms of RFC 6238. Authenticator apps support SHA1 everywhere; SHA256 and SHA512
// only in some apps.
const (
	SHA1   Algorithm = "SHA1"
	SHA256 Algorithm = "SHA256"
	SHA512 Algorithm = "SHA512"
)

// Limits on the names in a key URL, which an authenticator app shows to the user.
const (
	maxNameLen = 256
	maxURLLen  = 4096
)

// KeyURL is a TOTP key in the otpauth URL format that authenticator apps read from a QR code
// (https://github.com/google/google-authenticator/wiki/Key-Uri-Format):
//
//	otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&algorithm=SHA1&digits=6&period=30
//
// Its String contains the secret: never log it.
type KeyURL struct {
	Issuer    string        // the service name; no ':' (required)
	Account   string        // the user's account name, such as an email address; no ':' (required)
	Secret    []byte        // the shared secret (at least 16 bytes, RFC 4226 §4 R6)
	Algorithm Algorithm     // SHA1, SHA256 or SHA512
	Digits    int           // 6 or 8
	Period    time.Duration // whole seconds, 1 s to 2 min
}

// String returns the otpauth URL of k: the label and every parameter escaped with %XX
// (spaces as %20, never '+', which some apps misread), the secret in unpadded base32.
func (k KeyURL) String() string {
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	b.WriteString(escape(k.Issuer))
	b.WriteByte(':')
	b.WriteString(escape(k.Account))
	b.WriteString("?secret=")
	b.WriteString(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(k.Secret))
	b.WriteString("&issuer=")
	b.WriteString(escape(k.Issuer))
	b.WriteString("&algorithm=")
	b.WriteString(string(k.Algorithm))
	b.WriteString("&digits=")
	b.WriteString(strconv.Itoa(k.Digits))
	b.WriteString("&period=")
	b.WriteString(strconv.FormatInt(int64(k.Period/time.Second), 10))
	return b.String()
}

// escape percent-encodes everything but RFC 3986 unreserved characters.
func escape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// ParseKeyURL parses a TOTP key URL strictly: scheme otpauth, type totp, a label of
// "issuer:account" (or "account" alone with an issuer parameter), a base32 secret of at least
// 128 bits, and the optional parameters algorithm (default SHA1), digits (6 or 8, default 6)
// and period (seconds, default 30). An issuer parameter must equal the label's issuer.
// Repeated parameters are refused; unknown ones (such as "image") are ignored. Every
// failure is [ErrKeyURL]; the message never contains the secret.
func ParseKeyURL(s string) (KeyURL, error) {
	var k KeyURL
	if len(s) > maxURLLen {
		return k, errors.Join(ErrKeyURL, errors.New("mfa: key URL too long"))
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return k, ErrKeyURL
	}
	label, ok := strings.CutPrefix(u.Path, "/")
	if !ok {
		return k, ErrKeyURL
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return k, ErrKeyURL
	}
	one := func(name string) (string, bool, error) {
		v, ok := q[name]
		if !ok {
			return "", false, nil
		}
		if len(v) != 1 {
			return "", false, errors.Join(ErrKeyURL, errors.New("mfa: repeated key URL parameter "+name))
		}
		return v[0], true, nil
	}
	var errs []error
	issuer, hasIssuer, err := one("issuer")
	errs = append(errs, err)
	if i, a, ok := strings.Cut(label, ":"); ok {
		k.Issuer, k.Account = i, strings.TrimLeft(a, " ")
		if hasIssuer && issuer != k.Issuer {
			errs = append(errs, errors.Join(ErrKeyURL, errors.New("mfa: key URL issuer parameter differs from the label")))
		}
	} else {
		k.Issuer, k.Account = issuer, label
	}
	if !validName(k.Issuer) || !validName(k.Account) {
		errs = append(errs, errors.Join(ErrKeyURL, errors.New("mfa: key URL issuer or account is empty, too long, or has ':' or control characters")))
	}

	secret, _, err := one("secret")
	errs = append(errs, err)
	k.Secret, err = decodeSecret(secret)
	errs = append(errs, err)

	k.Algorithm, k.Digits, k.Period = SHA1, 6, 30*time.Second
	if v, ok, err := one("algorithm"); err != nil {
		errs = append(errs, err)
	} else if ok {
		switch a := Algorithm(v); a {
		case SHA1, SHA256, SHA512:
			k.Algorithm = a
		default:
			errs = append(errs, errors.Join(ErrKeyURL, errors.New("mfa: key URL algorithm is not SHA1, SHA256 or SHA512")))
		}
	}
	if v, ok, err := one("digits"); err != nil {
		errs = append(errs, err)
	} else if ok {
		switch v {
		case "6", "8":
			k.Digits = int(v[0] - '0')
		default:
			errs = append(errs, errors.Join(ErrKeyURL, errors.New("mfa: key URL digits is not 6 or 8")))
		}
	}
	if v, ok, err := one("period"); err != nil {
		errs = append(errs, err)
	} else if ok {
		n, ok := parseDecimal(v, 120)
		if !ok || n < 1 {
			errs = append(errs, errors.Join(ErrKeyURL, errors.New("mfa: key URL period is not 1 to 120 seconds")))
		}
		k.Period = time.Duration(n) * time.Second
	}
	if err := errors.Join(errs...); err != nil {
		return KeyURL{}, err
	}
	return k, nil
}

// decodeSecret decodes an unpadded (or padded) base32 secret, upper or lower case.
func decodeSecret(s string) ([]byte, error) {
	s = strings.TrimRight(strings.ToUpper(s), "=")
	if s == "" {
		return nil, errors.Join(ErrKeyURL, errors.New("mfa: key URL has no secret"))
	}
	if strings.ContainsAny(s, "\r\n") { // the decoder would skip them
		return nil, errors.Join(ErrKeyURL, errors.New("mfa: key URL secret is not base32"))
	}
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		return nil, errors.Join(ErrKeyURL, errors.New("mfa: key URL secret is not base32"))
	}
	if len(b) < 16 {
		return nil, errors.Join(ErrKeyURL, errors.New("mfa: key URL secret is shorter than 128 bits"))
	}
	return b, nil
}

// validName reports whether s can be an issuer or account name in a key URL: non-empty,
// valid UTF-8, at most maxNameLen bytes, with no ':' (the label separator), no leading or
// trailing space, and no control or invisible formatting characters.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen || !utf8.ValidString(s) || strings.TrimSpace(s) != s {
		return false
	}
	for _, r := range s {
		if r == ':' || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return false
		}
	}
	return true
}

// parseDecimal parses a canonical decimal (no sign, no leading zero) of at most max.
func parseDecimal(s string, max int64) (int64, bool) {
	if s == "" || len(s) > 19 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
		if n > max {
			return 0, false
		}
	}
	return n, true
}
