package ratelimit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bounds of a [Policy]. They keep every product of the GCRA arithmetic inside 2^53
// nanoseconds (about 104 days), so that the integer nanoseconds of the memory store and the
// Lua numbers of the Redis store give the same answers.
const (
	MaxLimit  = 1_000_000_000
	MaxPeriod = 100 * 24 * time.Hour
	// maxWindow bounds Burst × interval, the longest delay a key can owe.
	maxWindow = int64(1) << 53
)

// Policy is one rate: Limit requests per Period, with bursts of up to Burst requests at once.
// It is a GCRA (generic cell rate algorithm), the same as a token bucket that holds Burst
// tokens and gains one every Period/Limit: a client may send Burst requests back to back, then
// Limit per Period. The zero Policy is invalid; [ParsePolicy] reads the usual notation.
type Policy struct {
	// Name labels the policy in the RateLimit and RateLimit-Policy headers and in logs. If
	// empty, New names policies "p0", "p1", ... in order. Printable ASCII only.
	Name string
	// Limit is the number of requests allowed per Period, from 1 to MaxLimit.
	Limit int64
	// Period is the window of Limit, from 1 ms to MaxPeriod.
	Period time.Duration
	// Burst is how many requests may arrive at once. If zero, Limit.
	Burst int64
}

// interval returns the emission interval, Period/Limit rounded up to a whole nanosecond.
// Rounding up means a limit can only ever be slightly stricter than configured, never looser;
// the error is below one nanosecond per request.
func (p Policy) interval() int64 {
	if p.Limit <= 0 {
		return 0
	}
	n := int64(p.Period)
	return (n + p.Limit - 1) / p.Limit
}

// burst returns Burst, or Limit if Burst is zero.
func (p Policy) burst() int64 {
	if p.Burst == 0 {
		return p.Limit
	}
	return p.Burst
}

// Interval returns the emission interval of p: the time one request's quota takes to come
// back, Period/Limit rounded up to a whole nanosecond. Stores use it.
func (p Policy) Interval() time.Duration { return time.Duration(p.interval()) }

// Capacity returns the effective burst of p: Burst, or Limit if Burst is zero.
func (p Policy) Capacity() int64 { return p.burst() }

// Validate reports what is wrong with p, naming each bad field, or nil.
func (p Policy) Validate() error {
	var errs []error
	for _, pr := range p.problems() {
		errs = append(errs, fmt.Errorf("ratelimit: policy %q: %s", p.Name, pr))
	}
	return errors.Join(errs...)
}

func (p Policy) problems() []string {
	var out []string
	if p.Limit < 1 || p.Limit > MaxLimit {
		out = append(out, fmt.Sprintf("Limit %d out of range 1..%d", p.Limit, MaxLimit))
	}
	if p.Period < time.Millisecond || p.Period > MaxPeriod {
		out = append(out, fmt.Sprintf("Period %v out of range 1ms..%v", p.Period, MaxPeriod))
	}
	if p.Burst < 0 || p.Burst > MaxLimit {
		out = append(out, fmt.Sprintf("Burst %d out of range 0..%d", p.Burst, MaxLimit))
	}
	if !validName(p.Name) {
		out = append(out, `Name must be 1..64 printable ASCII characters without '"' or '\'`)
	}
	// Both factors are bounded above once the checks pass, so the product fits in an int64.
	if len(out) == 0 && p.burst()*p.interval() > maxWindow {
		out = append(out, fmt.Sprintf("Burst × Period/Limit exceeds %v", time.Duration(maxWindow)))
	}
	return out
}

// validName accepts names that an RFC 9651 sf-string carries without escapes and that a
// log or Redis key shows as they are.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// String returns p in the notation of [ParsePolicy], without the name:
// "100 per 1m0s" or "100 per 1m0s, burst 20".
func (p Policy) String() string {
	s := strconv.FormatInt(p.Limit, 10) + " per " + p.Period.String()
	if p.Burst != 0 {
		s += ", burst " + strconv.FormatInt(p.Burst, 10)
	}
	return s
}

// ErrPolicySyntax is returned (wrapped) by [ParsePolicy] for text it cannot read.
var ErrPolicySyntax = errors.New("ratelimit: invalid policy syntax")

// ParsePolicy reads a policy written as
//
//	<limit> per <period>[, burst <n>]
//
// where period is a unit ("second", "minute", "hour", "day", optionally plural and preceded by
// a count, as in "5 minutes") or a Go duration ("90s"). Examples: "100 per minute, burst 20",
// "5 per 15 minutes", "10 per 1s". The result has no Name and is validated.
func ParsePolicy(s string) (Policy, error) {
	bad := func(why string) (Policy, error) {
		return Policy{}, fmt.Errorf("%w: %s", ErrPolicySyntax, why)
	}
	if len(s) > 128 {
		return bad("longer than 128 bytes")
	}
	rate, burstText, hasBurst := strings.Cut(s, ",")
	limitText, periodText, ok := strings.Cut(strings.TrimSpace(rate), " per ")
	if !ok {
		return bad(`want "<limit> per <period>"`)
	}
	var p Policy
	var err error
	if p.Limit, err = parseCount(limitText); err != nil {
		return bad("limit: " + err.Error())
	}
	if p.Period, err = parsePeriod(strings.TrimSpace(periodText)); err != nil {
		return bad("period: " + err.Error())
	}
	if hasBurst {
		n, ok := strings.CutPrefix(strings.TrimSpace(burstText), "burst ")
		if !ok {
			return bad(`want ", burst <n>" after the rate`)
		}
		if p.Burst, err = parseCount(n); err != nil {
			return bad("burst: " + err.Error())
		}
	}
	p.Name = "p" // Validate wants a name; ParsePolicy leaves naming to the caller.
	if err := p.Validate(); err != nil {
		return Policy{}, err
	}
	p.Name = ""
	return p, nil
}

// parseCount reads a positive decimal integer without sign or leading zeros.
func parseCount(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" || s[0] < '1' || s[0] > '9' || len(s) > 10 {
		return 0, errors.New("want a positive integer")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errors.New("want a positive integer")
	}
	return n, nil
}

var units = map[string]time.Duration{
	"second": time.Second, "seconds": time.Second, "sec": time.Second, "s": time.Second,
	"minute": time.Minute, "minutes": time.Minute, "min": time.Minute,
	"hour": time.Hour, "hours": time.Hour, "h": time.Hour,
	"day": 24 * time.Hour, "days": 24 * time.Hour,
}

func parsePeriod(s string) (time.Duration, error) {
	if d, ok := units[s]; ok {
		return d, nil
	}
	if n, unit, ok := strings.Cut(s, " "); ok {
		d, ok := units[strings.TrimSpace(unit)]
		if !ok {
			return 0, errors.New("unknown unit")
		}
		k, err := parseCount(n)
		if err != nil || k > int64(MaxPeriod/d) {
			return 0, errors.New("bad count")
		}
		return time.Duration(k) * d, nil
	}
	if s == "" || s[0] < '1' || s[0] > '9' {
		return 0, errors.New("want a unit or a positive Go duration")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("want a unit or a positive Go duration")
	}
	return d, nil
}
