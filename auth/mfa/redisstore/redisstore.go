// Package redisstore keeps the replay state of [mfa.Verifier] in Redis, so that a code
// accepted by one server is refused by every other server of the fleet (RFC 6238 §5.2,
// ASVS5 6.5.1).
//
// Each [Store.Advance] is one EVALSHA of a four-line Lua script (EVAL once after a SCRIPT
// FLUSH or a failover), so the compare and the set are one atomic step on the server: two
// servers racing on one code cannot both accept it. The state per user is one string, the
// last accepted time step, with a TTL a little past the time that step stops being
// acceptable, so Redis drops it on its own. Keys look like "mfa:<hash>": the user id is
// hashed (SHA-256, 128 bits), so user ids and recovery-code hashes never reach Redis.
//
// # When Redis fails
//
// Advance returns an error wrapping [ErrRedis], and the Verifier refuses the code
// (fail closed, ASVS5 16.5.3): accepting codes without the shared state would let a code
// observed by an attacker be replayed at another server. Timeout bounds how long a slow
// Redis can hold a login.
package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bulwark-go/bulwark/internal/redisclient"

	"github.com/bulwark-go/bulwark/auth/mfa"
	"github.com/redis/go-redis/v9"
)

// Defaults of [Options].
const (
	DefaultPrefix  = "mfa:"
	DefaultTimeout = 500 * time.Millisecond
)

// ErrRedis wraps the Redis error that made Advance fail.
var ErrRedis = errors.New("redisstore: redis unavailable")

// Options configures [New]. Client is required; the zero value of every other field is the
// strict choice.
type Options struct {
	// Client is the Redis connection: a *redis.Client, a Sentinel failover client or a
	// *redis.ClusterClient. Its ContextTimeoutEnabled option must be set, or Timeout could not
	// bound a slow Redis; New checks this for the clients it knows. Required.
	Client redis.UniversalClient
	// Prefix starts every key. If empty, DefaultPrefix. Give each application its own prefix
	// when several share one Redis and could have the same user ids.
	Prefix string
	// Timeout bounds one Advance. If zero, DefaultTimeout; it must not be negative.
	Timeout time.Duration
}

// Store is an [mfa.Store] on Redis. It is safe for concurrent use and starts no goroutine.
type Store struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
}

var _ mfa.Store = (*Store)(nil)

// New returns a Store for opts. It reports every bad field with [errors.Join], never
// panics, and does not contact Redis.
func New(opts Options) (*Store, error) {
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
		return nil, err
	}
	s := &Store{client: opts.Client, prefix: opts.Prefix, timeout: opts.Timeout}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	return s, nil
}

// advance sets the key to ARGV[1] with a TTL of ARGV[2] ms unless it holds a step at least
// as large. Steps are below 2^53, so exact in Lua's doubles.
var advance = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// Advance implements [mfa.Store]. It ignores now: the TTL runs on the Redis server's clock.
func (s *Store) Advance(ctx context.Context, key string, step int64, _ time.Time, ttl time.Duration) (bool, error) {
	ms := ttl.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	n, err := advance.Run(ctx, s.client, []string{s.key(key)}, strconv.FormatInt(step, 10), strconv.FormatInt(ms, 10)).Int64()
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrRedis, err)
	}
	return n == 1, nil
}

// key hashes the Verifier's key (purpose, user id and, for recovery codes, the code's hash).
func (s *Store) key(k string) string {
	sum := sha256.Sum256([]byte(k))
	return s.prefix + base64.RawURLEncoding.EncodeToString(sum[:16])
}
