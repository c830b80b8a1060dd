package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/bulwark-go/bulwark/ratelimit"
	"github.com/redis/go-redis/v9"
)

// guardScript keeps one [ratelimit.Guard] record: a hash with the failures' GCRA state (tat),
// the end of the current ban (until) and the number of bans (level), in µs on the server's
// clock. ARGV[1] is "check" (returns the ban time left) or "fail", then the failure interval,
// MaxFailures × interval, Ban and MaxBan (µs); "fail" returns the ban it starts, or 0. The
// arithmetic is ratelimit's guardFail; the record expires once it could be forgotten.
const guardScript = `
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local s = redis.call('HMGET', KEYS[1], 'tat', 'until', 'level')
local tat, untl, level = tonumber(s[1]) or now, tonumber(s[2]) or 0, tonumber(s[3]) or 0
if untl > now then
  if ARGV[1] == 'check' then return untl - now end
  return 0
end
if ARGV[1] == 'check' then return 0 end
local interval, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local d = math.max(tat - now, 0) + interval
local ban = 0
if d > limit - interval then
  level = level + 1
  ban = math.min(ARGV[4] * 2 ^ (level - 1), tonumber(ARGV[5]))
  untl = now + ban
  tat = now
else
  tat = now + d
end
redis.call('HSET', KEYS[1], 'tat', tat, 'until', untl, 'level', level)
redis.call('PEXPIRE', KEYS[1], math.floor((math.max(tat, untl + ARGV[5]) - now) / 1000) + 1)
return ban
`

var guardLua = redis.NewScript(guardScript)

func (s *Store) guardKey(key string) string { return s.prefix + "guard:{" + hashKey(key) + "}" }

// Banned implements [ratelimit.GuardStore]. A ban Redis reported is remembered locally
// until it ends, so a banned client hammering costs no round trip.
func (s *Store) Banned(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	if s.bans != nil {
		if left := s.bans.banned(key, now); left > 0 {
			return left, nil
		}
	}
	if !s.up(now) {
		if !s.failOpen {
			return 0, errDown
		}
		return s.local.Banned(ctx, key, now)
	}
	left, err := s.guard(ctx, key, "check", ratelimit.GuardRule{})
	if err != nil {
		if !s.fail(ctx, now, err) {
			return 0, fmt.Errorf("%w: %w", ErrRedis, err)
		}
		return s.local.Banned(ctx, key, now)
	}
	s.ok(ctx)
	if left > 0 && s.bans != nil {
		s.bans.ban(key, now, left)
	}
	return left, nil
}

// Fail implements [ratelimit.GuardStore].
func (s *Store) Fail(ctx context.Context, key string, rule ratelimit.GuardRule, now time.Time) (time.Duration, error) {
	if !s.up(now) {
		if !s.failOpen {
			return 0, errDown
		}
		return s.local.Fail(ctx, key, rule, now)
	}
	ban, err := s.guard(ctx, key, "fail", rule)
	if err != nil {
		if !s.fail(ctx, now, err) {
			return 0, fmt.Errorf("%w: %w", ErrRedis, err)
		}
		return s.local.Fail(ctx, key, rule, now)
	}
	s.ok(ctx)
	if ban > 0 && s.bans != nil {
		s.bans.ban(key, now, ban)
	}
	return ban, nil
}

// Reset implements [ratelimit.GuardStore].
func (s *Store) Reset(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_ = s.local.Reset(ctx, key)
	if s.bans != nil {
		s.bans.forget(key)
	}
	if err := s.client.Del(ctx, s.guardKey(key)).Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrRedis, err)
	}
	return nil
}

func (s *Store) guard(ctx context.Context, key, op string, rule ratelimit.GuardRule) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	us := func(d time.Duration) string { return strconv.FormatInt((int64(d)+999)/1000, 10) }
	args := []any{op}
	if op == "fail" {
		interval := (rule.Window + time.Duration(rule.MaxFailures) - 1) / time.Duration(rule.MaxFailures)
		iv := (int64(interval) + 999) / 1000
		args = append(args, strconv.FormatInt(iv, 10), strconv.FormatInt(iv*rule.MaxFailures, 10), us(rule.Ban), us(rule.MaxBan))
	}
	v, err := guardLua.Run(ctx, s.client, []string{s.guardKey(key)}, args...).Int64()
	return time.Duration(v) * time.Microsecond, err
}
