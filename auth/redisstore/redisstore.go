// Package redisstore keeps the shared state of bulwark's token issuing in Redis, so that
// every server of a fleet sees it: the revocations the validator of [auth.New] checks
// ([RevocationStore]: revoked token ids, revoked sessions, per-subject not-before times)
// and the refresh-token families of an [auth.Refresher] ([RefreshStore]). A logout on one
// server is refused by every other at once (ASVS5 7.4.1).
//
// Both work over a go-redis v9 [redis.UniversalClient]: a single server, Sentinel, or a
// Cluster (every script touches one key, so no hash tags are needed). Every write is one
// atomic server-side step (a Lua script, EVALSHA with EVAL as fallback), and every key has
// a TTL: a revocation lives until the tokens it revokes have expired, a refresh family
// until its idle end (its absolute end once revoked), so Redis cleans up by itself. Keys
// hold hashes (SHA-256, 128 bits) of token ids, session ids and subjects, never the
// values, and refresh families hold only hashes of their tokens.
//
// # When Redis fails
//
// Every method returns an error wrapping [ErrRedis]. The validator then answers 503 and
// the Refresher refuses the refresh: both fail closed (ASVS5 16.5.3), since accepting
// tokens without the revocation list would bring revoked tokens back. Options.Timeout
// bounds how long a slow Redis can hold a request.
package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"time"

	"github.com/bulwark-go/bulwark/internal/redisclient"
	"github.com/redis/go-redis/v9"
)

// Defaults of [Options].
const (
	DefaultPrefix  = "bulwark:auth:"
	DefaultTimeout = 500 * time.Millisecond
)

// ErrRedis wraps the Redis error that made an operation fail.
var ErrRedis = errors.New("redisstore: redis unavailable")

// Options configures [NewRevocationStore] and [NewRefreshStore]. Client is required; the
// zero value of every other field is the strict choice.
type Options struct {
	// Client is the Redis connection: a *redis.Client, a Sentinel failover client or a
	// *redis.ClusterClient. Its ContextTimeoutEnabled option must be set, or Timeout could
	// not bound a slow Redis; the constructors check this for the clients they know.
	// Required.
	Client redis.UniversalClient
	// Prefix starts every key. If empty, DefaultPrefix. Give each application its own
	// prefix when several share one Redis.
	Prefix string
	// Timeout bounds one operation. If zero, DefaultTimeout; it must not be negative.
	Timeout time.Duration
}

type base struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
}

func newBase(opts Options) (base, error) {
	var errs []error
	if opts.Client == nil {
		errs = append(errs, errors.New("redisstore: Options.Client is required"))
	} else if !redisclient.ContextTimeouts(opts.Client) {
		errs = append(errs, errors.New("redisstore: Options.Client must set ContextTimeoutEnabled, or Timeout cannot bound a slow Redis"))
	}
	if opts.Timeout < 0 {
		errs = append(errs, errors.New("redisstore: Options.Timeout is negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return base{}, err
	}
	b := base{client: opts.Client, prefix: opts.Prefix, timeout: opts.Timeout}
	if b.prefix == "" {
		b.prefix = DefaultPrefix
	}
	if b.timeout == 0 {
		b.timeout = DefaultTimeout
	}
	return b, nil
}

// key is the Redis key of value in the namespace kind: a 128-bit hash, so that neither
// token ids nor subjects nor session ids reach Redis.
func (b base) key(kind, value string) string {
	sum := sha256.Sum256([]byte(value))
	return b.prefix + kind + base64.RawURLEncoding.EncodeToString(sum[:16])
}

func (b base) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, b.timeout)
}
