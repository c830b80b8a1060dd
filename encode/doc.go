// Package encode is the leaf of bulwark: it writes what the other packages send to clients.
//
// It owns four things:
//
//   - RFC 9457 problem details. [WriteError] turns any error into an application/problem+json
//     response; only the client-safe fields of an [*Error] are sent, never err.Error().
//     [ErrorHandler] is the default ErrorHandler of every bulwark middleware: it logs the
//     refusal once under an OWASP logging-vocabulary event name, then calls WriteError.
//   - Safe output. [JSON] writes JSON that cannot break out of a script element, and never a
//     partial body. [Policy] sanitizes untrusted HTML with bluemonday.
//   - Security headers. [Headers] sends a strict header set (the zero value is the API
//     profile) and strips headers that disclose the server's software; the document profile
//     adds a per-response CSP nonce (see [NonceFromContext]).
//   - Request plumbing. [RequestID] gives every request an id that errors and logs share, and
//     [Recover] turns a panic into a generic 500.
//
// Suggested order, outermost first: RequestID, Recover, Headers, then the rest of bulwark.
// RequestID first so that a panic's log and response carry the id; Recover before Headers so
// that its 500 still gets the security headers Headers set on the shared header map.
//
// # Security notes for operators
//
// Error bodies carry a generic title, an optional detail the code chose to show, and the
// request id. The cause is only in the log. Logs record method, path (never the query
// string), client address, status and cause; never headers, cookies or bodies. Keep it that
// way in your own handlers: never log a request's Authorization header or query string.
//
// Strict-Transport-Security is only sent on requests that arrived over TLS (browsers ignore
// it otherwise). Behind a TLS-terminating proxy r.TLS is nil, so set
// [HeadersOptions].IsTLS to a check that trusts X-Forwarded-Proto only from that proxy, or
// leave HSTS to the proxy. HSTSPreload is refused unless the header meets the preload list's
// rules; once a domain is preloaded, every subdomain must serve HTTPS for years.
//
// The API profile's Content-Security-Policy ("default-src 'none'; frame-ancestors 'none'")
// makes a browser load and run nothing from a response, so an API response that reflects
// input cannot become a page that runs script. X-Frame-Options is not sent: CSP
// frame-ancestors replaces it in every current browser. Responses default to
// Cache-Control: no-store, so no shared cache keeps personal data or a page's nonce.
//
// A CSP nonce only helps if the attacker cannot learn it before injecting markup: never cache
// pages that carry one, never put it anywhere but nonce attributes, and keep sanitizing
// untrusted HTML; the nonce is the second line of defence, not the first.
//
// The HTML policies sanitize for HTML output only. Sanitize after other processing (such as
// Markdown rendering) and right before output; store the user's original text.
//
// [Recover] logs the panic value and the stack at Error level: a panic value built from
// request data may hold personal data, so treat those logs as sensitive. If the response had
// already started, the connection is aborted, so clients see a broken response instead of a
// complete-looking truncated one.
//
// An incoming request id is only kept when it comes from a configured trusted proxy and is
// well formed; otherwise clients could choose, or forge, the id their requests are logged by.
package encode
