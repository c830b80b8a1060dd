package ratelimit

import "time"

// Result is the outcome of one [Policy] for one request.
type Result struct {
	// Allowed reports whether this policy let the request through. A request is admitted only
	// when every policy allows it.
	Allowed bool
	// Remaining is how many more requests of cost one the policy allows right now.
	Remaining int64
	// Reset is the time until the policy next gives back quota (the "t" of the RateLimit
	// header), or zero when the quota is full.
	Reset time.Duration
	// RetryAfter is, when the request was refused, the exact time until the same request
	// would conform. It is zero when allowed.
	RetryAfter time.Duration
}

// gcra decides one request of cost units under a policy with emission interval t (ns) and
// capacity burst, for a key whose theoretical arrival time is tat, at now. All values are
// nanoseconds on the same clock; the arithmetic is exact integer arithmetic. It returns the new
// theoretical arrival time (unchanged when refused) and the result.
//
// The state is the delay d = tat - now the key owes (never below zero): d = 0 means a full
// bucket, and each request adds cost × t. A request conforms if the new delay stays within
// burst × t (the GCRA limit test "t >= TAT - τ" in delay form).
func gcra(tat, now, t, burst, cost int64) (int64, Result) {
	d := tat - now
	if d < 0 {
		d = 0
	}
	limit := burst * t
	nd := d + cost*t
	if nd > limit {
		r := report(d, t, limit)
		r.RetryAfter = time.Duration(nd - limit)
		return tat, r
	}
	r := report(nd, t, limit)
	r.Allowed = true
	return now + nd, r
}

// report fills Remaining and Reset for a key that owes delay d.
func report(d, t, limit int64) Result {
	if d > limit { // only after a clock jump backwards or a policy change
		return Result{Remaining: 0, Reset: time.Duration(d - limit + t)}
	}
	rem := (limit - d) / t
	var reset int64
	if d > 0 {
		// Quota unit rem+1 comes back when the delay falls to limit - (rem+1)×t.
		reset = d - limit + (rem+1)*t
	}
	return Result{Remaining: rem, Reset: time.Duration(reset)}
}
