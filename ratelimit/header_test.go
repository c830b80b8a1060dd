package ratelimit_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/ratelimit"
)

// sfItem is one item of an RFC 9651 List whose value is an sf-string and whose parameters are
// integers, the shape of both RateLimit fields (RL-draft §3, §4).
type sfItem struct {
	name   string
	params map[string]int64
}

var sfItemRE = regexp.MustCompile(`^"([\x20\x21\x23-\x5b\x5d-\x7e]*)"((?:;[a-z*][a-z0-9_.*-]*=[0-9]{1,15})*)$`)

// parseSFList is a strict reader for the fields this package writes: it fails on anything else.
func parseSFList(s string) ([]sfItem, bool) {
	var items []sfItem
	for _, member := range strings.Split(s, ", ") {
		m := sfItemRE.FindStringSubmatch(member)
		if m == nil {
			return nil, false
		}
		it := sfItem{name: m[1], params: map[string]int64{}}
		for _, p := range strings.Split(m[2], ";")[1:] {
			k, v, _ := strings.Cut(p, "=")
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, false
			}
			it.params[k] = n
		}
		items = append(items, it)
	}
	return items, true
}

// FuzzHeaders: for any valid policy and any number of requests, both fields parse as
// structured-field lists, name the policy, carry q, w, r and t as non-negative integers that
// agree with the policy, and on a 429 Retry-After is not earlier than t (RL-draft §6).
func FuzzHeaders(f *testing.F) {
	f.Add("default", int64(100), int64(60_000), int64(20), uint8(25))
	f.Add("p", int64(3), int64(1000), int64(0), uint8(5))
	f.Add("x!#$%&'()*+-./:<=>?@[]^_`{|}~", int64(1), int64(1), int64(1), uint8(3))
	f.Fuzz(func(t *testing.T, name string, limit, periodMS, burst int64, n uint8) {
		p := ratelimit.Policy{Name: name, Limit: limit, Period: time.Duration(periodMS) * time.Millisecond, Burst: burst}
		if p.Validate() != nil {
			return
		}
		synctest.Test(t, func(t *testing.T) {
			h := mustNew(t, ratelimit.Options{Policies: []ratelimit.Policy{p}, Logger: discard()})
			for i := range int(n%40) + 1 {
				w := get(h, "192.0.2.1:1")
				pol, ok1 := parseSFList(w.Header().Get("RateLimit-Policy"))
				rl, ok2 := parseSFList(w.Header().Get("RateLimit"))
				if !ok1 || !ok2 || len(pol) != 1 || len(rl) != 1 {
					t.Fatalf("request %d: unparsable fields %q, %q", i, w.Header().Get("RateLimit-Policy"), w.Header().Get("RateLimit"))
				}
				wantW := int64((p.Period + time.Second - 1) / time.Second)
				if pol[0].name != name || rl[0].name != name || pol[0].params["q"] != limit || pol[0].params["w"] != wantW {
					t.Fatalf("policy %+v: fields %+v, %+v", p, pol, rl)
				}
				r, tt := rl[0].params["r"], rl[0].params["t"]
				if r < 0 || r > p.Capacity() || tt < 0 || tt > wantW+1 {
					t.Fatalf("policy %+v request %d: r=%d t=%d out of range", p, i, r, tt)
				}
				if w.Code == http.StatusTooManyRequests {
					ra, err := strconv.ParseInt(w.Header().Get("Retry-After"), 10, 64)
					if err != nil || ra < tt || r != 0 {
						t.Fatalf("429 with Retry-After %q, r=%d, t=%d", w.Header().Get("Retry-After"), r, tt)
					}
				}
			}
		})
	})
}
