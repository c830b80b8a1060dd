package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// CookieOptions configures [NewTokenCookie]. Name is required; the zero value of every
// other field is the strict choice.
type CookieOptions struct {
	// Name is the cookie name without prefix, such as "access" or "refresh". Required. The
	// prefix is added: "__Host-" when Path is "/" and Domain is empty, so that the cookie
	// is bound to this exact host over HTTPS and cannot be planted by a sibling subdomain;
	// "__Secure-" otherwise (ASVS5 3.3.3).
	Name string
	// Path scopes the cookie. If empty, "/". Scope a refresh-token cookie to the refresh
	// endpoint, such as "/oauth/refresh", so that it travels only there (this gives it the
	// "__Secure-" prefix, since "__Host-" requires Path=/).
	Path string
	// Domain, if set, shares the cookie with the subdomains of Domain. If empty (the
	// default and the safer choice), the cookie is host-only.
	Domain string
	// SameSiteLax sends the cookie on top-level cross-site navigations (links into the
	// site). If false, SameSite=Strict: never on cross-site requests.
	SameSiteLax bool
}

// TokenCookie sets and clears one token cookie: always HttpOnly (scripts cannot read the
// token), Secure (HTTPS only) and SameSite (ASVS5 3.3.1-3.3.4). It is read-only after
// construction and safe for concurrent use.
//
// A cookie-authenticated API must also defend state-changing routes against cross-site
// request forgery; see [CSRF].
type TokenCookie struct {
	name, path, domain string
	sameSite           http.SameSite
}

// ErrCookieValue is returned by [TokenCookie.Set] for a token that cannot be a cookie value,
// or makes a cookie larger than browsers keep (4096 bytes of name and value).
var ErrCookieValue = errors.New("auth: value cannot be sent in a cookie")

// NewTokenCookie returns a TokenCookie for opts. It reports invalid options as an error
// naming each bad field and never panics.
func NewTokenCookie(opts CookieOptions) (*TokenCookie, error) {
	var errs []error
	c := &TokenCookie{path: opts.Path, domain: opts.Domain, sameSite: http.SameSiteStrictMode}
	if opts.SameSiteLax {
		c.sameSite = http.SameSiteLaxMode
	}
	if c.path == "" {
		c.path = "/"
	}
	switch {
	case opts.Name == "":
		errs = append(errs, errors.New("auth: CookieOptions.Name is required"))
	case strings.HasPrefix(strings.ToLower(opts.Name), "__host-") || strings.HasPrefix(strings.ToLower(opts.Name), "__secure-"):
		errs = append(errs, errors.New("auth: CookieOptions.Name must not carry a prefix; it is added"))
	case !httpguts.ValidHeaderFieldName(opts.Name):
		errs = append(errs, errors.New("auth: CookieOptions.Name is not a valid cookie name"))
	}
	if !strings.HasPrefix(c.path, "/") || strings.ContainsAny(c.path, ";,\x7f") || !printableASCII(c.path) {
		errs = append(errs, errors.New("auth: CookieOptions.Path must start with / and be printable ASCII without ; or ,"))
	}
	if opts.Domain != "" && (!printableASCII(opts.Domain) || strings.ContainsAny(opts.Domain, ";, /")) {
		errs = append(errs, errors.New("auth: CookieOptions.Domain is not a valid domain"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if c.path == "/" && c.domain == "" {
		c.name = "__Host-" + opts.Name
	} else {
		c.name = "__Secure-" + opts.Name
	}
	return c, nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Name returns the cookie's full name, prefix included: the name to give auth.Options.Cookie.
func (c *TokenCookie) Name() string { return c.name }

// Set adds a Set-Cookie header carrying token until expiry, such as AccessToken.Expiry or
// Tokens.RefreshExpiry. A token that is not a valid cookie value is refused with
// [ErrCookieValue], and nothing is set; the error does not contain the token.
func (c *TokenCookie) Set(w http.ResponseWriter, token string, expiry time.Time) error {
	return c.set(w, token, expiry, time.Now())
}

func (c *TokenCookie) set(w http.ResponseWriter, token string, expiry, now time.Time) error {
	if token == "" || !isCookieValue(token) {
		return ErrCookieValue
	}
	if len(c.name)+len(token) > maxCookieSize {
		// Browsers drop larger cookies silently (RFC 6265 §6.1 asks for at least 4096
		// bytes and most give no more): the client would be logged out without a word.
		return fmt.Errorf("%w: longer than %d bytes", ErrCookieValue, maxCookieSize)
	}
	age := int(expiry.Sub(now) / time.Second)
	if age <= 0 {
		return fmt.Errorf("%w: expiry is not in the future", ErrCookieValue)
	}
	http.SetCookie(w, c.cookie(token, age))
	return nil
}

// Clear adds a Set-Cookie header that deletes the cookie (Max-Age=0), for a logout.
func (c *TokenCookie) Clear(w http.ResponseWriter) {
	http.SetCookie(w, c.cookie("", -1))
}

func (c *TokenCookie) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: c.name, Value: value, Path: c.path, Domain: c.domain, MaxAge: maxAge,
		HttpOnly: true, Secure: true, SameSite: c.sameSite,
	}
}

// maxCookieSize is the longest name plus value every browser keeps.
const maxCookieSize = 4096

// isCookieValue reports whether s fits RFC 6265's cookie-octet set without quoting.
func isCookieValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == ',' || c == ';' || c == '\\' {
			return false
		}
	}
	return true
}
