package mfa_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth/mfa"
)

// TestMemoryStore: Advance accepts only steps above the recorded one until it expires;
// a full store refuses new keys (fail closed) until entries expire.
func TestMemoryStore(t *testing.T) {
	ctx := context.Background()
	if _, err := mfa.NewMemoryStore(mfa.MemoryOptions{MaxEntries: -1}); err == nil {
		t.Error("NewMemoryStore(-1) = nil error")
	}
	s, err := mfa.NewMemoryStore(mfa.MemoryOptions{MaxEntries: 2})
	if err != nil {
		t.Fatal(err)
	}
	ttl := time.Minute
	for _, tt := range []struct {
		key  string
		step int64
		at   time.Duration
		want bool
		err  error
	}{
		{"a", 10, 0, true, nil},
		{"a", 10, 0, false, nil},          // same step: replay
		{"a", 9, time.Second, false, nil}, // earlier step
		{"a", 11, time.Second, true, nil},
		{"b", 1, time.Second, true, nil},
		{"c", 1, 2 * time.Second, false, mfa.ErrStoreFull},
		{"a", 12, 3 * time.Second, true, nil}, // known keys still advance when full
		{"b", 1, 62 * time.Second, true, nil}, // b expired at 61 s: forgotten
		{"c", 1, 64 * time.Second, true, nil}, // a expired at 63 s: swept
	} {
		got, err := s.Advance(ctx, tt.key, tt.step, t0.Add(tt.at), ttl)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("Advance(%s, %d, +%v) = %v, %v; want %v, %v", tt.key, tt.step, tt.at, got, err, tt.want, tt.err)
		}
	}
	if s.Len() > 2 {
		t.Errorf("Len = %d, want at most 2", s.Len())
	}
}

func TestMemoryStoreBounded(t *testing.T) {
	ctx := context.Background()
	s, _ := mfa.NewMemoryStore(mfa.MemoryOptions{MaxEntries: 100})
	full := 0
	for i := range 1000 {
		if _, err := s.Advance(ctx, fmt.Sprint(i), 1, t0, time.Minute); errors.Is(err, mfa.ErrStoreFull) {
			full++
		}
	}
	if s.Len() != 100 || full != 900 {
		t.Errorf("Len = %d, refused %d; want 100 and 900", s.Len(), full)
	}
}
