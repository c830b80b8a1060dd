// Package auth authenticates API requests by their bearer token and puts who made them, a
// [Principal], in the request context.
//
// [New] returns the middleware. It accepts, in one Authorization: Bearer header:
//
//   - JWT access tokens (RFC 9068) signed by trusted issuers, each with its own keys
//     (static [Key] values, a JWKS URL, or OpenID Connect discovery) and audience;
//   - API keys for machine clients (see [GenerateAPIKey] and [APIKeyStore]);
//   - opaque tokens, checked at an RFC 7662 introspection endpoint (see [Introspection]).
//
// The issuing side signs the tokens an API's own login hands out: [Signer] (access tokens
// and the JWKS), [Refresher] (rotating refresh tokens), [MemoryRevocationStore] (logout),
// [TokenCookie] and [CSRF] (browser clients), and [RequireMFA] (step-up). Redis stores for
// a fleet are in auth/redisstore; test helpers in auth/authtest.
//
// Per route, [RequireScopes] demands scopes. [FromContext] reads the principal, and
// [Roles], [Scopes], [Subject] and [SubjectKey] are ready-made function values for the
// other bulwark packages: rbac.Options{Roles: auth.Roles}, ratelimit.Options{Key:
// auth.SubjectKey}.
//
// # Refusals
//
// Refusals follow RFC 6750 §3.1: a request without credentials gets 401 and
// "WWW-Authenticate: Bearer" with no error code; a malformed request (two Authorization
// headers, a token in two places, a token in the query string) gets 400 and
// error="invalid_request"; any token problem gets 401 and error="invalid_token"; a missing
// scope gets 403, error="insufficient_scope" and scope="...". When a service needed to
// decide is down (JWKS before the first fetch, revocation store, introspection endpoint),
// the answer is 503: never an allow. Bodies are generic problem details; the reason (an
// error matched with errors.Is, such as [ErrExpired]) goes only to Options.ErrorHandler and
// the log, under the OWASP event names authn_fail, authn_token_invalid, authn_token_reuse
// and authz_fail.
//
// # What the JWT validation checks
//
// In this order, and refusing at the first failure: the token is at most 8 KiB (by default)
// and RFC 6750's token syntax; it is exactly three base64url segments without padding or
// whitespace (the JSON serialization, JWE and unsigned tokens are refused); the header is
// one strict JSON object with an "alg" other than "none", no "crit" (no extension is
// understood, so every crit is refused), no "enc", "zip" or "b64", and no nested "cty";
// "iss" names a configured issuer (exact bytes); "kid" names one of that issuer's keys
// ("jwk", "jku", "x5u" and "x5c" are never used to find keys, and never fetched); the
// header's "alg" equals the algorithm that key is bound to (RFC 8725 §3.1: jwx's verifier
// ignores the header, so this check is here); the signature verifies; "typ" is "at+jwt"
// (unless Issuer.AllowUntypedTokens); "exp" is present and not past, "nbf" and "iat" are
// not in the future, each with Options.Leeway (30 s by default); "aud" contains the
// issuer's Audience exactly; "sub" is present; for at+jwt tokens, "client_id", "iat" and
// "jti" are present (RFC 9068 §2.2). Then the revocation store, then Options.Check.
//
// Member names of header and claims match exactly (encoding/json would fold case), a
// member that appears twice refuses the token, and invalid UTF-8 refuses it.
//
// # Security notes for operators
//
// Algorithms come from configuration, never from the token: every static [Key] names its
// one algorithm, and a JWKS issuer lists its Algorithms. HMAC keys are only accepted as
// static keys, at least as long as their hash (32 bytes for HS256) and never mixed with
// public keys in one issuer; a JWKS never supplies them. RSA keys under 2048 bits are
// refused.
//
// JWKS and discovery URLs must be https (http only for loopback hosts, for development),
// redirects are never followed, responses are capped at 256 KiB, and a discovery
// document's jwks_uri must share the issuer's origin and its "issuer" must equal the
// configured one. Keys are fetched on first use, cached for the response's Cache-Control
// max-age (bounded to between Options.KeyRefresh and 24 hours, 1 hour by default) and
// refreshed in the background before they expire. An unknown "kid" refetches the key set
// at most once per KeyRefresh (1 minute by default), whatever the number of requests:
// attackers cannot turn forged tokens into a flood of requests to your IdP. If the JWKS
// host goes down, the cached keys keep working. Pass Options.HTTPClient to trust a
// private CA; never disable certificate verification.
//
// Require "at+jwt" tokens where your IdP can issue them. If it cannot (many do not type
// their access tokens), set AllowUntypedTokens and make sure your API's audience is not
// also a client id: ID tokens carry the client id in "aud", and the audience check is then
// what keeps them out.
//
// Tokens in URLs leak through logs, browser history and Referer headers: the query string
// is refused unless Options.UnsafeQueryParam opts in. A token cookie (Options.Cookie) is
// sent by browsers on cross-site requests: protect state-changing routes against CSRF.
//
// Revocation (Options.Revocation) is looked up by issuer and "jti", never by a hash of
// the token: ECDSA signatures are malleable, so a revoked token re-encoded would have
// another hash. The verified-token cache (Options.CacheSize) keeps a principal for at most
// CacheMaxAge and never past "exp"; revocation and Check still run on every request.
// Introspection results are cached only with Introspection.CacheTTL, keyed by endpoint,
// client and token hash, and scope checks run on every request whether the answer came
// from the cache or not (the bug class of ory/oathkeeper CVE-2021-32701).
//
// API keys are 256-bit random secrets plus a public id; only their SHA-256 is stored and
// compared in constant time. An API key principal is a client (Principal.Client), never a
// user: give API keys only the scopes a machine needs, set an expiry, and rotate them.
//
// Tokens, API keys, cookies and Authorization headers are never logged or echoed.
// Logging of successful authentications (ASVS 16.3.1) is left to the application, which
// knows its principal; Principal.Key identifies the user across issuers.
//
// Not provided: sender-constrained tokens (DPoP, mTLS) and encrypted tokens.
//
// # Issuing tokens: operator notes
//
// Access tokens ([Signer.Issue]) are RFC 9068 JWTs ("typ" at+jwt) with iss, sub, aud, exp,
// iat, a 128-bit random jti and client_id, plus scope, roles, amr, acr, auth_time and sid
// as given. They live 10 minutes by default (at most 1 hour): a JWT cannot be recalled, so
// keep it short and let refresh tokens carry the session. Every token has an "aud";
// give each API its own audience.
//
// Keys. ES256 (P-256) and EdDSA (Ed25519) are the defaults; RS256 and PS256 need RSA keys
// of 2048 bits or more and are slower. Private keys come from you: a PEM file readable only
// by the service ([ParsePrivateKeyPEM]), a secret manager, or any [crypto.Signer] such as a
// KMS key, so the key never enters the process. Never generate keys at startup in
// production: each instance would have its own and the fleet's tokens would not verify
// ([DevelopmentKey] is for development). A key's "kid" is its RFC 7638 thumbprint.
//
// Rotation, with no moment where a valid token is refused:
//
//  1. Add the new key as [KeyNext] and deploy. [Signer.JWKSHandler] publishes it, but it
//     signs nothing. Wait at least SignerOptions.JWKSMaxAge (15 minutes by default), the
//     time validators may cache the old key set.
//  2. Make the new key [KeyActive] and the old one [KeyRetired] with Retired set to the
//     time of this deploy. During a rolling deploy, old and new instances both publish both
//     keys, so either's tokens verify everywhere.
//  3. The retired key leaves the JWKS by itself once AccessTTL plus one minute has passed;
//     remove it from the configuration at the next deploy.
//
// If a key leaks, skip the wait: remove it at once and revoke its tokens per subject. A
// validator that sees an unknown "kid" refetches the JWKS, at most once per its KeyRefresh.
//
// Refresh tokens ([Refresher]) are a 128-bit family id and a 256-bit random secret; stores
// keep only their SHA-256. Each use rotates the token. Presenting a rotated-out token again
// means two parties hold the family: the whole family is revoked, its access tokens too
// when RefreshOptions.Revocation is set, and authn_token_reuse is logged at Error (RFC 9700
// §4.14.2). A family ends after IdleTimeout without use (24 hours by default) and after
// AbsoluteLifetime in any case (7 days by default). Two requests racing with one refresh
// token (two browser tabs) count as reuse: clients should serialize their refreshes.
// Answer every refresh failure with the same OAuth invalid_grant.
//
// Revocation: give the same store to Options.Revocation and RefreshOptions.Revocation. At
// logout, revoke the access token ([MemoryRevocationStore.RevokeToken] with the
// principal's Issuer, TokenID and Expiry) and the session ([Refresher.RevokeSession] with
// its SessionID); when an account is disabled or its password changes, call RevokeSubject
// with [Principal.Key], now, and now plus the longest token lifetime. Entries live until
// the tokens they revoke have expired. The memory stores are bounded and refuse new
// entries when full rather than forget old ones; a fleet needs auth/redisstore, so that a
// logout on one server holds on all of them. A store that fails makes the validator
// answer 503 (fail closed).
//
// Browser clients: [TokenCookie] sets HttpOnly, Secure, SameSite=Strict cookies with the
// __Host- prefix (or __Secure- for a Path-scoped refresh cookie), and clears them at
// logout. Cookies are sent by the browser on its own, so every state-changing route of a
// cookie-authenticated API needs [CSRF]: Go's [http.CrossOriginProtection], and optionally a
// double-submit token for browsers that send no Sec-Fetch-Site. Never change state on GET.
//
// Step-up: issue "amr" (e.g. "otp" after a TOTP check, see auth/mfa) and "auth_time" at
// login; refreshing keeps both, so [RequireMFA] asks for a new login once MaxAge has
// passed. It answers 401 with error="insufficient_user_authentication" (RFC 9470).
//
// Logged events: authn_token_created (Info, per access token and per login),
// authn_token_revoked (Info, from [Refresher.RevokeSession]; the stores do not log) and
// authn_token_reuse (Error), with subject, client id, jti and a hash of the family id;
// never a token, key or cookie.
package auth
