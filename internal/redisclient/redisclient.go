// Package redisclient holds what bulwark's Redis stores (ratelimit, auth, auth/mfa) check
// about the client they are given, so that they agree.
package redisclient

import "github.com/redis/go-redis/v9"

// ContextTimeouts reports whether c bounds each command by its context's deadline. Without
// ContextTimeoutEnabled, go-redis ignores the deadline, and a store's timeout could not bound
// a slow Redis. Clients of a type it does not know (a test double, a wrapper) are trusted.
func ContextTimeouts(c redis.UniversalClient) bool {
	switch c := c.(type) {
	case interface{ Options() *redis.Options }:
		return c.Options().ContextTimeoutEnabled
	case interface{ Options() *redis.ClusterOptions }:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}
