package ratelimit_test

import (
	"errors"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/ratelimit"
)

var policyTable = []struct {
	in   string
	want ratelimit.Policy // zero: an error
}{
	{"100 per minute, burst 20", ratelimit.Policy{Limit: 100, Period: time.Minute, Burst: 20}},
	{"100 per minute", ratelimit.Policy{Limit: 100, Period: time.Minute}},
	{"5 per 15 minutes", ratelimit.Policy{Limit: 5, Period: 15 * time.Minute}},
	{"10 per 1s", ratelimit.Policy{Limit: 10, Period: time.Second}},
	{"1000 per day,burst 50", ratelimit.Policy{Limit: 1000, Period: 24 * time.Hour, Burst: 50}},
	{" 3 per second ", ratelimit.Policy{Limit: 3, Period: time.Second}},
	{"2 per 1m30s", ratelimit.Policy{Limit: 2, Period: 90 * time.Second}},
	{"", ratelimit.Policy{}},
	{"100", ratelimit.Policy{}},
	{"0 per minute", ratelimit.Policy{}},
	{"-1 per minute", ratelimit.Policy{}},
	{"01 per minute", ratelimit.Policy{}},
	{"1 per fortnight", ratelimit.Policy{}},
	{"1 per 0s", ratelimit.Policy{}},
	{"1 per -1s", ratelimit.Policy{}},
	{"1 per 1ns", ratelimit.Policy{}},
	{"1 per 101 days", ratelimit.Policy{}},
	{"1 per minute, 20", ratelimit.Policy{}},
	{"1 per minute, burst 0", ratelimit.Policy{}},
	{"9999999999 per minute", ratelimit.Policy{}},
	{"99999999999999999999 per minute", ratelimit.Policy{}},
	{"1 per 99999999999 days", ratelimit.Policy{}},
}

func TestParsePolicy(t *testing.T) {
	for _, tt := range policyTable {
		got, err := ratelimit.ParsePolicy(tt.in)
		if tt.want == (ratelimit.Policy{}) {
			if err == nil {
				t.Errorf("ParsePolicy(%q) = %+v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParsePolicy(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	if _, err := ratelimit.ParsePolicy("nonsense"); !errors.Is(err, ratelimit.ErrPolicySyntax) {
		t.Errorf("err = %v, want ErrPolicySyntax", err)
	}
}

// FuzzParsePolicy: no panic, and whatever parses prints back to the same policy.
func FuzzParsePolicy(f *testing.F) {
	for _, tt := range policyTable {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ratelimit.ParsePolicy(s)
		if err != nil {
			return
		}
		q, err := ratelimit.ParsePolicy(p.String())
		if err != nil || q != p {
			t.Fatalf("ParsePolicy(%q) = %+v; its String %q parses to %+v, %v", s, p, p.String(), q, err)
		}
		p.Name = "x"
		if err := p.Validate(); err != nil {
			t.Fatalf("ParsePolicy(%q) returned an invalid policy: %v", s, err)
		}
	})
}
