package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bulwark-go/bulwark/auth"
	"github.com/redis/go-redis/v9"
)

// RevocationStore is an [auth.RevocationStore] (give it to auth.Options.Revocation) and an
// [auth.FamilyRevoker] (give it to auth.RefreshOptions.Revocation) on Redis. It is safe
// for concurrent use and starts no goroutine.
type RevocationStore struct{ base }

var (
	_ auth.RevocationStore = (*RevocationStore)(nil)
	_ auth.FamilyRevoker   = (*RevocationStore)(nil)
)

// NewRevocationStore returns a RevocationStore for opts. It reports every bad field with
// [errors.Join], never panics, and does not contact Redis.
func NewRevocationStore(opts Options) (*RevocationStore, error) {
	b, err := newBase(opts)
	if err != nil {
		return nil, err
	}
	return &RevocationStore{b}, nil
}

// revoke sets KEYS[1] to ARGV[1] with a TTL of ARGV[2] ms, keeping the larger value and
// the longer TTL if the key exists, so that a second revocation never weakens the first.
// Values are milliseconds (below 2^53) or 1, exact in Lua's doubles.
var revoke = redis.NewScript(`
local v = ARGV[1]
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) > tonumber(v) then v = cur end
local ttl = tonumber(ARGV[2])
local left = redis.call('PTTL', KEYS[1])
if left > ttl then ttl = left end
redis.call('SET', KEYS[1], v, 'PX', ttl)
return 1
`)

func (s *RevocationStore) put(ctx context.Context, key, value string, until time.Time) error {
	ms := time.Until(until).Milliseconds()
	if ms < 1 {
		return nil // expired already: nothing is left to revoke
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	if err := revoke.Run(ctx, s.client, []string{key}, value, strconv.FormatInt(ms, 10)).Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrRedis, err)
	}
	return nil
}

func tokenKey(issuer, jti string) string { return strconv.Itoa(len(issuer)) + ":" + issuer + jti }

// RevokeToken revokes the token of issuer with id jti until expiry, its "exp". For a
// logout, pass the principal's Issuer, TokenID and Expiry.
func (s *RevocationStore) RevokeToken(ctx context.Context, issuer, jti string, expiry time.Time) error {
	if jti == "" {
		return errors.New("redisstore: RevokeToken: empty token id")
	}
	return s.put(ctx, s.key("t:", tokenKey(issuer, jti)), "1", expiry)
}

// RevokeFamily revokes every access token whose "sid" is family, until until.
func (s *RevocationStore) RevokeFamily(ctx context.Context, family string, until time.Time) error {
	if family == "" {
		return errors.New("redisstore: RevokeFamily: empty family")
	}
	return s.put(ctx, s.key("f:", family), "1", until)
}

// RevokeSubject revokes every token of the principal whose [auth.Principal.Key] is
// subjectKey issued before notBefore (see [auth.IssuedBefore]), until until, by which
// every such token has expired.
func (s *RevocationStore) RevokeSubject(ctx context.Context, subjectKey string, notBefore, until time.Time) error {
	if subjectKey == "" {
		return errors.New("redisstore: RevokeSubject: empty subject key")
	}
	return s.put(ctx, s.key("s:", subjectKey), strconv.FormatInt(notBefore.UnixMilli(), 10), until)
}

// Revoked implements [auth.RevocationStore]: one round trip (a pipeline of GETs, which a
// Cluster client splits by node) for the token id, the session and the subject.
func (s *RevocationStore) Revoked(ctx context.Context, p auth.Principal) (bool, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	var tok, fam, sub *redis.StringCmd
	_, err := s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		if p.TokenID != "" {
			tok = pipe.Get(ctx, s.key("t:", tokenKey(p.Issuer, p.TokenID)))
		}
		if p.SessionID != "" {
			fam = pipe.Get(ctx, s.key("f:", p.SessionID))
		}
		sub = pipe.Get(ctx, s.key("s:", p.Key()))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("%w: %w", ErrRedis, err)
	}
	for _, c := range []*redis.StringCmd{tok, fam} {
		if c == nil {
			continue
		}
		switch err := c.Err(); {
		case err == nil:
			return true, nil
		case !errors.Is(err, redis.Nil):
			return false, fmt.Errorf("%w: %w", ErrRedis, err)
		}
	}
	ms, err := sub.Int64()
	switch {
	case errors.Is(err, redis.Nil):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("%w: %w", ErrRedis, err)
	}
	return auth.IssuedBefore(p, time.UnixMilli(ms)), nil
}
