package ratelimit

import (
	"strconv"
	"time"
)

// The response fields of draft-ietf-httpapi-ratelimit-headers-10 (RL-draft §3, §4), and the
// legacy trio many clients still read. Keys are in canonical form so that they can be
// assigned to an http.Header map directly.
const (
	headerRateLimit       = "Ratelimit"
	headerRateLimitPolicy = "Ratelimit-Policy"
	headerLegacyLimit     = "X-Ratelimit-Limit"
	headerLegacyRemaining = "X-Ratelimit-Remaining"
	headerLegacyReset     = "X-Ratelimit-Reset"
	headerRetryAfter      = "Retry-After"
)

// This file is the only place that knows the draft's syntax, so that a new draft revision
// changes one file (SECURITY-STANDARDS §12: the field syntax changed across revisions).

// formatPolicy returns the RateLimit-Policy value: one item per policy, an sf-string name with
// the quota q (Limit) and window w (Period in whole seconds, rounded up), e.g.
// `"p0";q=100;w=60, "daily";q=1000;w=86400`. It never changes for a limiter (RL-draft §3:
// SHOULD be stable), so New computes it once.
func formatPolicy(ps []Policy) string {
	var b []byte
	for i, p := range ps {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendName(b, p.Name)
		b = append(b, ";q="...)
		b = strconv.AppendInt(b, p.Limit, 10)
		b = append(b, ";w="...)
		b = strconv.AppendInt(b, seconds(p.Period), 10)
	}
	return string(b)
}

// appendRateLimit appends the RateLimit value: one item per policy with the remaining quota r
// and the seconds t until more quota comes back, e.g. `"p0";r=0;t=3`.
func appendRateLimit(b []byte, ps []Policy, rs []Result) []byte {
	for i, p := range ps {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendName(b, p.Name)
		b = append(b, ";r="...)
		b = strconv.AppendInt(b, max(rs[i].Remaining, 0), 10)
		b = append(b, ";t="...)
		b = strconv.AppendInt(b, seconds(rs[i].Reset), 10)
	}
	return b
}

// appendName appends an sf-string. Policy.Validate admits only names that need no escape.
func appendName(b []byte, name string) []byte {
	b = append(b, '"')
	b = append(b, name...)
	return append(b, '"')
}

// seconds rounds d up to whole seconds, as delay-seconds must be (RFC 9110 §10.2.3): a client
// told to wait 1 s after 0.2 s would otherwise come back too early.
func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// tightest returns the index of the result to show in single-valued fields: the refusing
// policy that asks to wait longest, or else the one with the least remaining quota.
func tightest(rs []Result) int {
	best := 0
	for i, r := range rs {
		b := rs[best]
		switch {
		case !r.Allowed && (b.Allowed || r.RetryAfter > b.RetryAfter):
			best = i
		case r.Allowed && b.Allowed && r.Remaining < b.Remaining:
			best = i
		}
	}
	return best
}
