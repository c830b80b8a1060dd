package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bulwark-go/bulwark/encode"
	"golang.org/x/net/http/httpguts"
)

// Refusal errors. The middleware passes one of the first four, wrapped in an
// [*encode.Error] that carries the status, to the ErrorHandler; the reason, one of the
// errors below them, is wrapped too, so errors.Is finds both. Clients only ever see the
// status, the WWW-Authenticate header and a generic problem body.
var (
	// ErrNoCredentials: the request carried no token (401, no error code, RFC 6750 §3.1).
	ErrNoCredentials = errors.New("auth: no credentials")
	// ErrInvalidRequest: two Authorization headers, several token transports, a Bearer header
	// without a token, or a token in the query string (400, error="invalid_request").
	ErrInvalidRequest = errors.New("auth: invalid request")
	// ErrInvalidToken: the token was refused (401, error="invalid_token").
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrUnavailable: a service needed to decide (JWKS, revocation store, introspection
	// endpoint) failed and nothing cached could stand in (503). Never an allow.
	ErrUnavailable = errors.New("auth: cannot check credentials now")
	// ErrInsufficientScope: a valid token lacks a scope [RequireScopes] demands (403,
	// error="insufficient_scope").
	ErrInsufficientScope = errors.New("auth: insufficient scope")
)

// Reasons a token is invalid, wrapped with [ErrInvalidToken] (see also [ErrAlgorithm],
// [ErrUnknownKey] and [ErrSignature]).
var (
	// ErrTooLarge: the token is longer than Options.MaxTokenSize.
	ErrTooLarge = errors.New("auth: token too large")
	// ErrMalformed: not a compact JWS of base64url segments, or malformed JSON.
	ErrMalformed = errors.New("auth: malformed token")
	// ErrIssuer: "iss" names no trusted issuer.
	ErrIssuer = errors.New("auth: untrusted issuer")
	// ErrAudience: "aud" lacks this API's audience.
	ErrAudience = errors.New("auth: wrong audience")
	// ErrExpired: "exp" has passed (beyond the leeway).
	ErrExpired = errors.New("auth: token expired")
	// ErrNotYetValid: "nbf" or "iat" is in the future (beyond the leeway).
	ErrNotYetValid = errors.New("auth: token not yet valid")
	// ErrTokenType: the "typ" header is not an access token's.
	ErrTokenType = errors.New("auth: wrong token type")
	// ErrClaims: a required claim is missing, or a claim has the wrong type.
	ErrClaims = errors.New("auth: missing or malformed claims")
	// ErrRevoked: the revocation store says the token was revoked.
	ErrRevoked = errors.New("auth: token revoked")
	// ErrUnsupported: a header asks for something this package refuses (crit, JWE, nesting).
	ErrUnsupported = errors.New("auth: unsupported token header")
	// ErrCheckFailed: Options.Check returned an error, which it wraps.
	ErrCheckFailed = errors.New("auth: claim check failed")
	// ErrInactive: the introspection endpoint says the token is not active.
	ErrInactive = errors.New("auth: token inactive")
	// ErrAPIKeyExpiry: the API key expired or was revoked.
	ErrAPIKeyExpiry = errors.New("auth: API key expired or revoked")
)

// RevocationStore answers whether a verified token was revoked. The token issuing side of
// this package provides memory and Redis stores; any store works. Implementations look the
// token up by (Issuer, TokenID) (its "jti"), and may also compare IssuedAt with a
// per-subject not-before time so that disabling an account ends every token it holds.
// Revoked is called on every authenticated request, also on verified-token cache hits, and
// must be safe for concurrent use. An error refuses the request with 503: the check fails
// closed.
type RevocationStore interface {
	Revoked(ctx context.Context, p Principal) (bool, error)
}

// Issuer is one trusted token issuer: its exact name, this API's audience at that issuer, and
// where its keys come from. Set exactly one of Keys, JWKSURL or Discovery.
type Issuer struct {
	// Issuer is the exact "iss" of this issuer's tokens, compared byte for byte (a trailing
	// slash matters). With Discovery it is also the URL the OpenID Connect metadata is
	// found under. Required.
	Issuer string
	// Audience is this API's identifier at the issuer; a token's "aud" must contain it
	// exactly (RFC 8725 §3.9, RFC 9068 §4). Required.
	Audience string
	// Keys are static verification keys, each bound to one algorithm.
	Keys []Key
	// JWKSURL is the issuer's JSON Web Key Set. It must be https (http is allowed only for
	// loopback hosts, for development). Keys are fetched lazily, cached, and refreshed
	// before they expire; see Options.KeyRefresh.
	JWKSURL string
	// Discovery, if true, finds the JWKS URL in the issuer's OpenID Connect discovery
	// document (Issuer + "/.well-known/openid-configuration"). The document's "issuer" must
	// equal Issuer exactly, and its "jwks_uri" must have the same origin as Issuer.
	Discovery bool
	// Algorithms are the algorithms accepted from JWKSURL or Discovery keys. Required with
	// either; HMAC algorithms are refused there. A JWK that names an algorithm outside this
	// list is ignored; a JWK without "alg" is used only if exactly one algorithm of the list
	// fits its key type, so that every key stays bound to one algorithm.
	Algorithms []string
	// AllowUntypedTokens accepts tokens whose "typ" header is absent or "JWT", besides
	// "at+jwt". If false (the default), only RFC 9068 access tokens ("at+jwt" or
	// "application/at+jwt") are accepted, which keeps ID tokens and other JWTs signed by the
	// same keys out (RFC 8725 §3.11). Many providers do not type their access tokens; for
	// them, set this and make sure Audience is not also a client id (ID tokens carry the
	// client id as "aud"). Other explicit types ("logout+jwt", ...) are always refused.
	AllowUntypedTokens bool
	// RolesClaim is a JSON Pointer (RFC 6901) to the roles claim, such as
	// "/realm_access/roles" or "/https:~1~1example.com~1roles". If empty, "/roles". The claim
	// may be an array of strings or a space-separated string; another type refuses the token.
	RolesClaim string
}

// Options configures [New]. Issuers, APIKeys or Introspection must be set; everything else
// has a strict zero value.
type Options struct {
	// Issuers are the trusted JWT issuers, each with its own keys and audience.
	Issuers []Issuer
	// Leeway is the clock skew allowed when checking "exp", "nbf" and "iat". If zero,
	// 30 seconds. At most 5 minutes.
	Leeway time.Duration
	// MaxTokenSize is the longest token accepted, in bytes, checked before any parsing. If
	// zero, 8 KiB. At most 64 KiB.
	MaxTokenSize int
	// Cookie, if set, is the name of a cookie that may carry the token instead of the
	// Authorization header (for browser clients; protect such routes against CSRF).
	Cookie string
	// UnsafeQueryParam, if set, is the name of a query parameter that may carry the token
	// (for clients that cannot set headers, such as EventSource or WebSocket). Tokens in URLs
	// leak through logs, history and Referer (RFC 6750 §2.3, RFC 9700 §4.3.2). If empty, a
	// request with an access_token query parameter is refused with 400.
	UnsafeQueryParam string
	// Realm, if set, is sent as the realm of WWW-Authenticate. It must be printable ASCII
	// without quotes or backslashes.
	Realm string

	// Optional lets requests without credentials through, with no Principal in the context.
	// Invalid credentials are still refused. If false, credentials are required.
	Optional bool
	// AllowPreflight lets CORS preflight requests (OPTIONS with
	// Access-Control-Request-Method) through unauthenticated, since browsers never send
	// credentials on them. If false, they need credentials like any request.
	AllowPreflight bool
	// UnsafeExclude lists ServeMux patterns, such as "GET /health", whose requests pass
	// without authentication. A request is excluded only when the pattern that routes it
	// equals one of these exactly: r.Pattern when the middleware wraps a route, or the
	// pattern Mux would pick for it when the middleware wraps the whole mux. No prefix or
	// path matching, so "/health/../admin" cannot slip through.
	UnsafeExclude []string
	// Mux is the mux whose patterns UnsafeExclude names, needed when the middleware wraps the
	// mux rather than single routes. If nil, only r.Pattern is used.
	Mux *http.ServeMux

	// Revocation, if set, is asked about every authenticated token.
	Revocation RevocationStore
	// Check, if set, is called with every authenticated principal; a non-nil error refuses
	// the request as an invalid token (401). Use it for claims this package does not know.
	Check func(r *http.Request, p Principal) error

	// APIKeys, if set, accepts API keys (see [GenerateAPIKey]) as bearer tokens.
	APIKeys APIKeyStore
	// APIKeyPrefix is the prefix of this service's API keys, such as "bwk". Required with
	// APIKeys: 2 to 16 lower-case letters or digits. Bearer tokens that start with it and
	// "_" are treated as API keys.
	APIKeyPrefix string

	// Introspection, if its URL is set, checks opaque (non-JWT) tokens at an RFC 7662
	// endpoint.
	Introspection Introspection

	// CacheSize, if positive, keeps up to that many verified JWTs, so that a client that
	// repeats its token skips the signature check. Entries live until the token's "exp" or
	// CacheMaxAge, whichever comes first; revocation and Check still run on every request.
	// If zero, no cache.
	CacheSize int
	// CacheMaxAge bounds the life of a cache entry. If zero, 1 minute. At most 10 minutes.
	CacheMaxAge time.Duration

	// KeyRefresh is the shortest time between two fetches of one issuer's keys: the rate at
	// which an unknown "kid" may trigger a refetch, and the retry interval after a failure.
	// If zero, 1 minute. Between 1 second and 1 hour.
	KeyRefresh time.Duration
	// HTTPClient fetches JWKS, discovery documents and introspection responses. If nil, a
	// client with a 10 second timeout. It is copied, and redirects are never followed.
	// Tests may pass httptest's Server.Client(); never disable certificate checks.
	HTTPClient *http.Client

	// ErrorHandler writes the response when a request is refused, after WWW-Authenticate is
	// set. If nil, the refusal is logged with [encode.LogRefusal] (event authn_fail,
	// authn_token_invalid or authn_token_reuse) and written with [encode.WriteError].
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Logger receives refusals (with the default ErrorHandler) and JWKS fetch failures. If
	// nil, slog.Default().
	Logger *slog.Logger
}

// DefaultMaxTokenSize is the longest token accepted when Options.MaxTokenSize is zero.
const DefaultMaxTokenSize = 8 << 10

// Limits of Options.
const (
	maxMaxTokenSize    = 64 << 10
	defaultLeeway      = 30 * time.Second
	maxLeeway          = 5 * time.Minute
	defaultCacheMaxAge = time.Minute
	maxCacheMaxAge     = 10 * time.Minute
	defaultKeyRefresh  = time.Minute
	defaultHTTPTimeout = 10 * time.Second
)

// New returns middleware that authenticates every request by its bearer token and stores the
// [Principal] in the request context. Requests without credentials get 401 with
// "WWW-Authenticate: Bearer"; invalid tokens get 401 with error="invalid_token"; malformed
// requests 400 with error="invalid_request"; all with a generic problem+json body. The
// reason only reaches the ErrorHandler and the log.
//
// New reports invalid options as an error and never panics. The middleware is safe for
// concurrent use. Network fetches (JWKS, discovery) happen lazily, on the first request
// that needs them, so New never blocks on the network.
func New(opts Options) (func(http.Handler) http.Handler, error) {
	a, err := newAuthenticator(opts)
	if err != nil {
		return nil, err
	}
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("auth: nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a.serve(w, r, next)
		})
	}, nil
}

// authenticator is New's state; read-only after construction except for the caches, which
// lock themselves.
type authenticator struct {
	extract   extractor
	issuers   map[string]*issuer
	leeway    time.Duration
	optional  bool
	preflight bool
	exclude   map[string]bool
	mux       *http.ServeMux
	revoked   RevocationStore
	check     func(*http.Request, Principal) error
	apiKeys   APIKeyStore
	keyPrefix string // APIKeyPrefix + "_"
	intro     *introspector
	cache     *tokenCache
	roleHeads []string  // first members of the issuers' RolesClaim paths (parseClaims)
	scratch   sync.Pool // of *scratch
	logger    *slog.Logger
	onError   func(http.ResponseWriter, *http.Request, error)

	// Precomputed WWW-Authenticate values.
	challenge, challengeRequest, challengeToken []string
}

func newAuthenticator(opts Options) (*authenticator, error) {
	var errs []error
	a := &authenticator{
		leeway:    opts.Leeway,
		optional:  opts.Optional,
		preflight: opts.AllowPreflight,
		mux:       opts.Mux,
		revoked:   opts.Revocation,
		check:     opts.Check,
		logger:    opts.Logger,
		extract: extractor{
			cookie:  opts.Cookie,
			query:   opts.UnsafeQueryParam,
			maxSize: opts.MaxTokenSize,
		},
	}
	if a.logger == nil {
		a.logger = slog.Default()
	}
	switch {
	case opts.Leeway == 0:
		a.leeway = defaultLeeway
	case opts.Leeway < 0 || opts.Leeway > maxLeeway:
		errs = append(errs, fmt.Errorf("auth: Leeway %v must be between 0 and %v", opts.Leeway, maxLeeway))
	}
	switch {
	case opts.MaxTokenSize == 0:
		a.extract.maxSize = DefaultMaxTokenSize
	case opts.MaxTokenSize < 0 || opts.MaxTokenSize > maxMaxTokenSize:
		errs = append(errs, fmt.Errorf("auth: MaxTokenSize %d must be between 0 and %d", opts.MaxTokenSize, maxMaxTokenSize))
	}
	if opts.Cookie != "" && !httpguts.ValidHeaderFieldName(opts.Cookie) {
		errs = append(errs, errors.New("auth: Cookie is not a valid cookie name"))
	}
	if opts.UnsafeQueryParam != "" && !httpguts.ValidHeaderFieldName(opts.UnsafeQueryParam) {
		errs = append(errs, errors.New("auth: UnsafeQueryParam is not a valid parameter name"))
	}
	for _, c := range opts.Realm {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			errs = append(errs, errors.New("auth: Realm must be printable ASCII without quotes or backslashes"))
			break
		}
	}
	if len(opts.UnsafeExclude) > 0 {
		a.exclude = make(map[string]bool, len(opts.UnsafeExclude))
		for _, p := range opts.UnsafeExclude {
			if strings.TrimSpace(p) == "" {
				errs = append(errs, errors.New("auth: UnsafeExclude has an empty pattern"))
				continue
			}
			a.exclude[p] = true
		}
	}

	refresh := opts.KeyRefresh
	switch {
	case refresh == 0:
		refresh = defaultKeyRefresh
	case refresh < time.Second || refresh > time.Hour:
		errs = append(errs, fmt.Errorf("auth: KeyRefresh %v must be between 1s and 1h", refresh))
	}
	client := safeClient(opts.HTTPClient)

	a.issuers = make(map[string]*issuer, len(opts.Issuers))
	for i, is := range opts.Issuers {
		iss, err := newIssuer(is, client, refresh, a.logger)
		if err != nil {
			errs = append(errs, fmt.Errorf("auth: Issuers[%d]: %w", i, err))
			continue
		}
		if _, dup := a.issuers[is.Issuer]; dup {
			errs = append(errs, fmt.Errorf("auth: Issuers[%d]: issuer %q listed twice", i, is.Issuer))
			continue
		}
		a.issuers[is.Issuer] = iss
		if i := slices.Index(a.roleHeads, iss.roles[0]); i >= 0 {
			iss.roleHead = i
		} else if len(a.roleHeads) < maxRoleHeads {
			iss.roleHead = len(a.roleHeads)
			a.roleHeads = append(a.roleHeads, iss.roles[0])
		}
	}

	if opts.APIKeys != nil || opts.APIKeyPrefix != "" {
		if opts.APIKeys == nil {
			errs = append(errs, errors.New("auth: APIKeyPrefix is set but APIKeys is nil"))
		}
		if !validPrefix(opts.APIKeyPrefix) {
			errs = append(errs, errors.New("auth: APIKeyPrefix must be 2 to 16 lower-case letters or digits"))
		}
		a.apiKeys, a.keyPrefix = opts.APIKeys, opts.APIKeyPrefix+"_"
	}
	if opts.Introspection.URL != "" {
		in, err := newIntrospector(opts.Introspection, client)
		if err != nil {
			errs = append(errs, err)
		}
		a.intro = in
	} else if opts.Introspection != (Introspection{}) {
		errs = append(errs, errors.New("auth: Introspection.URL is required when Introspection is set"))
	}
	if len(opts.Issuers) == 0 && a.apiKeys == nil && a.intro == nil {
		errs = append(errs, errors.New("auth: Issuers, APIKeys or Introspection is required"))
	}

	switch {
	case opts.CacheSize < 0:
		errs = append(errs, errors.New("auth: CacheSize must not be negative"))
	case opts.CacheMaxAge < 0 || opts.CacheMaxAge > maxCacheMaxAge:
		errs = append(errs, fmt.Errorf("auth: CacheMaxAge %v must be between 0 and %v", opts.CacheMaxAge, maxCacheMaxAge))
	case opts.CacheSize > 0:
		maxAge := opts.CacheMaxAge
		if maxAge == 0 {
			maxAge = defaultCacheMaxAge
		}
		a.cache = newTokenCache(opts.CacheSize, maxAge)
	}

	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	realm := ""
	if opts.Realm != "" {
		realm = `realm="` + opts.Realm + `"`
	}
	a.challenge = []string{challenge(realm, "")}
	a.challengeRequest = []string{challenge(realm, `error="invalid_request"`)}
	a.challengeToken = []string{challenge(realm, `error="invalid_token"`)}

	a.onError = opts.ErrorHandler
	if a.onError == nil {
		logger := a.logger
		a.onError = func(w http.ResponseWriter, r *http.Request, err error) {
			encode.LogRefusal(logger, r, eventFor(err), err)
			encode.WriteError(w, r, err)
		}
	}
	return a, nil
}

func challenge(params ...string) string {
	s := "Bearer"
	sep := " "
	for _, p := range params {
		if p == "" {
			continue
		}
		s += sep + p
		sep = ", "
	}
	return s
}

// eventFor picks the OWASP logging-vocabulary event of a refusal.
func eventFor(err error) string {
	switch {
	case errors.Is(err, ErrInsufficientScope):
		return "authz_fail"
	case errors.Is(err, ErrRevoked):
		return "authn_token_reuse" // a revoked token presented again
	case errors.Is(err, ErrInvalidToken):
		return "authn_token_invalid"
	}
	return "authn_fail"
}

func (a *authenticator) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if a.preflight && r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		next.ServeHTTP(w, r)
		return
	}
	if a.exclude != nil && a.excluded(r) {
		next.ServeHTTP(w, r)
		return
	}
	tok, err := a.extract.token(r)
	if err != nil {
		if errors.Is(err, ErrNoCredentials) && a.optional {
			next.ServeHTTP(w, r)
			return
		}
		a.refuse(w, r, err)
		return
	}
	p, err := a.authenticate(r.Context(), tok, time.Now())
	if err == nil && a.check != nil {
		if cerr := a.check(r, *p); cerr != nil {
			err = fmt.Errorf("%w: %w", ErrCheckFailed, cerr)
		}
	}
	if err != nil {
		a.refuse(w, r, err)
		return
	}
	next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
}

func (a *authenticator) excluded(r *http.Request) bool {
	pattern := r.Pattern
	if pattern == "" && a.mux != nil {
		_, pattern = a.mux.Handler(r)
	}
	return pattern != "" && a.exclude[pattern]
}

// refuse sets WWW-Authenticate and hands the refusal to the ErrorHandler.
func (a *authenticator) refuse(w http.ResponseWriter, r *http.Request, reason error) {
	var status int
	var err error
	switch {
	case errors.Is(reason, ErrNoCredentials):
		status, err = http.StatusUnauthorized, reason
		w.Header()["Www-Authenticate"] = a.challenge
	case errors.Is(reason, ErrInvalidRequest):
		status, err = http.StatusBadRequest, reason
		w.Header()["Www-Authenticate"] = a.challengeRequest
	case errors.Is(reason, ErrUnavailable):
		status, err = http.StatusServiceUnavailable, reason
	default:
		status, err = http.StatusUnauthorized, fmt.Errorf("%w: %w", ErrInvalidToken, reason)
		w.Header()["Www-Authenticate"] = a.challengeToken
	}
	a.onError(w, r, &encode.Error{Status: status, Err: err})
}

// authenticate turns a token into a principal: an API key by its prefix, a JWT by its shape,
// anything else by introspection if configured.
func (a *authenticator) authenticate(ctx context.Context, tok string, now time.Time) (*Principal, error) {
	if a.apiKeys != nil && strings.HasPrefix(tok, a.keyPrefix) {
		return a.verifyAPIKey(ctx, tok, now)
	}
	var p *Principal
	var err error
	switch {
	case strings.Count(tok, ".") == 2 && len(a.issuers) > 0:
		p, err = a.cachedJWT(ctx, tok, now)
	case a.intro != nil:
		p, err = a.intro.principal(ctx, tok, now)
	default:
		return nil, ErrMalformed
	}
	if err != nil {
		return nil, err
	}
	if a.revoked != nil {
		// Asked on every request, cache hit or not: a revoked jti must not ride the cache.
		revoked, rerr := a.revoked.Revoked(ctx, *p)
		if rerr != nil {
			return nil, fmt.Errorf("%w: revocation store: %w", ErrUnavailable, rerr)
		}
		if revoked {
			return nil, ErrRevoked
		}
	}
	return p, nil
}

// cachedJWT is verifyJWT behind the verified-token cache, when there is one.
func (a *authenticator) cachedJWT(ctx context.Context, tok string, now time.Time) (*Principal, error) {
	sc := a.getScratch(tok)
	defer a.putScratch(sc)
	if a.cache == nil {
		return a.verifyJWT(ctx, tok, sc, now)
	}
	key := sha256.Sum256(sc.tok)
	if p, ok := a.cache.get(key, now); ok {
		return p, nil
	}
	p, err := a.verifyJWT(ctx, tok, sc, now)
	if err == nil {
		a.cache.put(key, p, now)
	}
	return p, err
}
