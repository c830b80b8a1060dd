package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bulwark-go/bulwark/auth"
	"github.com/redis/go-redis/v9"
)

// RefreshStore is an [auth.RefreshStore] on Redis: one hash per family holding the SHA-256
// of its current token, the truncated hashes of the last [auth.RefreshHistory] rotated-out
// tokens, its idle and absolute ends, and its claims. It is safe for concurrent use and
// starts no goroutine.
type RefreshStore struct{ base }

var _ auth.RefreshStore = (*RefreshStore)(nil)

// NewRefreshStore returns a RefreshStore for opts. It reports every bad field with
// [errors.Join], never panics, and does not contact Redis.
func NewRefreshStore(opts Options) (*RefreshStore, error) {
	b, err := newBase(opts)
	if err != nil {
		return nil, err
	}
	return &RefreshStore{b}, nil
}

// create stores a family unless it exists. ARGV: current hash, idle end (ms), absolute end
// (ms), claims. The key lives until the idle end; a rotation moves it on.
var create = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'cur', ARGV[1], 'idle', ARGV[2], 'exp', ARGV[3], 'data', ARGV[4], 'hist', '')
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
`)

// rotate is the compare-and-swap of a refresh. ARGV: presented hash (32 bytes), next hash,
// now (ms), next idle end (ms), history length. Returns {1, claims} on success, {2, claims}
// on reuse of a rotated-out token (and marks the family revoked, kept until its absolute
// end), {0} otherwise.
var rotate = redis.NewScript(`
local f = redis.call('HMGET', KEYS[1], 'cur', 'idle', 'exp', 'rev', 'hist', 'data')
if not f[1] then return {0} end
local now = tonumber(ARGV[3])
if now >= tonumber(f[3]) then return {0} end
if f[1] ~= ARGV[1] then
  local short = string.sub(ARGV[1], 1, 16)
  local hist = f[5] or ''
  for i = 1, #hist, 16 do
    if string.sub(hist, i, i + 15) == short then
      redis.call('HSET', KEYS[1], 'rev', '1')
      redis.call('PEXPIREAT', KEYS[1], f[3])
      return {2, f[6]}
    end
  end
  return {0}
end
if f[4] or now >= tonumber(f[2]) then return {0} end
local hist = (f[5] or '') .. string.sub(ARGV[1], 1, 16)
local max = tonumber(ARGV[5]) * 16
if #hist > max then hist = string.sub(hist, #hist - max + 1) end
local idle = ARGV[4]
if tonumber(idle) > tonumber(f[3]) then idle = f[3] end
redis.call('HSET', KEYS[1], 'cur', ARGV[2], 'idle', idle, 'hist', hist)
redis.call('PEXPIREAT', KEYS[1], idle)
return {1, f[6]}
`)

// revokeFamily marks the family revoked and keeps it until its absolute end, so that its
// tokens keep being recognized and refused.
var revokeFamily = redis.NewScript(`
local exp = redis.call('HGET', KEYS[1], 'exp')
if not exp then return 0 end
redis.call('HSET', KEYS[1], 'rev', '1')
redis.call('PEXPIREAT', KEYS[1], exp)
return 1
`)

func (s *RefreshStore) familyKey(family string) string { return s.key("r:", family) }

// Create implements [auth.RefreshStore].
func (s *RefreshStore) Create(ctx context.Context, f auth.RefreshFamily, hash [32]byte, idle time.Time) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("redisstore: refresh family: %w", err)
	}
	if idle.After(f.Expires) {
		idle = f.Expires
	}
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	n, err := create.Run(ctx, s.client, []string{s.familyKey(f.ID)}, hash[:],
		ms(idle), ms(f.Expires), data).Int64()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRedis, err)
	}
	if n != 1 {
		return errors.New("redisstore: refresh family exists")
	}
	return nil
}

// Rotate implements [auth.RefreshStore].
func (s *RefreshStore) Rotate(ctx context.Context, family string, old, next [32]byte, now, idle time.Time) (auth.RefreshFamily, error) {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	res, err := rotate.Run(ctx, s.client, []string{s.familyKey(family)}, old[:], next[:],
		ms(now), ms(idle), strconv.Itoa(auth.RefreshHistory)).Slice()
	if err != nil {
		return auth.RefreshFamily{}, fmt.Errorf("%w: %w", ErrRedis, err)
	}
	status, _ := res[0].(int64)
	if status == 0 {
		return auth.RefreshFamily{}, auth.ErrRefreshInvalid
	}
	var f auth.RefreshFamily
	if len(res) < 2 {
		return f, errors.New("redisstore: refresh family without claims")
	}
	data, _ := res[1].(string)
	if err := json.Unmarshal([]byte(data), &f); err != nil {
		return auth.RefreshFamily{}, fmt.Errorf("redisstore: refresh family: %w", err)
	}
	if status == 2 {
		return f, auth.ErrRefreshReused
	}
	return f, nil
}

// Revoke implements [auth.RefreshStore]. Revoking an unknown family is not an error.
func (s *RefreshStore) Revoke(ctx context.Context, family string) error {
	ctx, cancel := s.withTimeout(ctx)
	defer cancel()
	if err := revokeFamily.Run(ctx, s.client, []string{s.familyKey(family)}).Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrRedis, err)
	}
	return nil
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
