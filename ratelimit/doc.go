// Package ratelimit limits how often, and how many at once, clients may call an HTTP API, on
// one server (in memory) or across a fleet (Redis, in the redisstore subpackage).
//
// It stops: brute force and credential stuffing ([Guard], [Login]), scraping and quota
// exhaustion ([New], OWASP API4:2023, API6:2023), and overload ([Concurrency]).
//
// # Rate limits
//
// [New] checks each request against one or more [Policy] values ("100 per minute, burst 20",
// see [ParsePolicy]) with the generic cell rate algorithm: a token bucket kept as one
// timestamp per key, in exact integer nanoseconds. All policies of a limiter are evaluated
// together and charged all or none. A refused client gets 429 with an exact Retry-After
// (time left, not the window), RateLimit and RateLimit-Policy headers
// (draft-ietf-httpapi-ratelimit-headers-10) and an RFC 9457 problem body of type
// quota-exceeded.
//
// # Keys
//
// By default the key is the client address as the shared resolver in internal/forwarded
// sees it: the TCP peer, or, only behind Options.TrustedProxies, the right-most address a
// trusted proxy vouches for in X-Forwarded-For (or Forwarded). IPv6 addresses are grouped by
// /64. [PatternKey] keys by the matched ServeMux route, [HeaderKey] by an API key, and any
// func (such as an authenticated subject) works. A request whose key cannot be determined is
// counted under Options.FallbackKey, never let through.
//
// # Security notes for operators
//
//   - Configure TrustedProxies exactly: with none, every client behind your load balancer
//     shares the balancer's address; with too many, clients can pick their own key by
//     sending X-Forwarded-For.
//   - Key by API key or subject only after authentication has checked it: before that,
//     each invented value is a fresh bucket. Put an address-keyed limiter in front.
//   - Size MemoryOptions.MaxKeys above the number of keys active within your longest
//     Period. When the store is full, keys whose quota is full again are dropped first
//     (losing nothing); only then the entry that owes least is forgotten.
//   - The memory store's hashes are seeded per process, so clients cannot craft colliding
//     keys; its limits are per process. Behind several servers use redisstore, or divide
//     the limit by the number of servers.
//   - On Redis, choose fail-closed (503, the default) or fail-open to a local limit
//     (redisstore.Options.FailOpen); either way it is logged and recovers by itself.
//   - Logs never carry raw keys: a refusal is logged as "ratelimit_exceeded" (a ban as
//     "ratelimit_banned") with the first 64 bits of the key's SHA-256. Low-entropy keys
//     such as IPv4 addresses can be recovered from such a hash; the log line carries the
//     client address anyway.
//   - UnsafeSkip and UnsafeShadowMode turn protection off for some or all requests; never
//     base UnsafeSkip on anything a client controls.
//   - Rate limits slow attackers down but do not authenticate anyone (RL-draft §8):
//     combine [Guard] with real authentication.
package ratelimit
