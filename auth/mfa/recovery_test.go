package mfa_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth/mfa"
)

var recoveryCodeRE = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$`)

// TestRecoveryCodes: ASVS5 6.5.2 (stored only as salted argon2id hashes), 6.5.4 (80 bits per
// code, from 16 characters of a 32-character alphabet), 6.5.1 (each works once).
func TestRecoveryCodes(t *testing.T) {
	ctx := context.Background()
	v, l := newVerifier(t, nil)
	codes, stored, err := v.NewRecoveryCodes()
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 || mfa.RecoveryCodesLeft(stored) != 10 {
		t.Fatalf("%d codes, %d stored; want 10 and 10", len(codes), mfa.RecoveryCodesLeft(stored))
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if !recoveryCodeRE.MatchString(c) {
			t.Errorf("code %q is not 16 characters of Crockford base32 in groups of four", c)
		}
		if seen[c] {
			t.Errorf("code %q twice", c)
		}
		seen[c] = true
		if strings.Contains(stored, c) || strings.Contains(stored, strings.ReplaceAll(c, "-", "")) {
			t.Errorf("stored set contains code %q in clear", c)
		}
	}
	if !strings.HasPrefix(stored, "$bulwark-recovery$v=1$m=64,t=1,p=1$") {
		t.Errorf("stored = %q, want the Hasher's parameters", stored)
	}

	// Each code works once, typed loosely: lower case, no dashes, O for 0, I or L for 1.
	now := t0
	for i, c := range codes {
		typed := c
		switch i % 3 {
		case 0:
			typed = strings.ToLower(c)
		case 1:
			typed = strings.ReplaceAll(strings.ReplaceAll(c, "0", "O"), "1", "l")
		case 2:
			typed = strings.ReplaceAll(c, "-", " ")
		}
		next, err := v.Recover(ctx, "u", stored, typed, now)
		if err != nil {
			t.Fatalf("Recover(code %d as %q) = %v", i, typed, err)
		}
		if mfa.RecoveryCodesLeft(next) != len(codes)-i-1 {
			t.Fatalf("after %d uses, %d left", i+1, mfa.RecoveryCodesLeft(next))
		}
		// Against the new set the code is unknown; against the old one the Store refuses it.
		if _, err := v.Recover(ctx, "u", next, c, now); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("Recover(used code, new set) = %v, want ErrInvalidCode", err)
		}
		if _, err := v.Recover(ctx, "u", stored, c, now.Add(time.Hour)); !errors.Is(err, mfa.ErrReplayed) {
			t.Errorf("Recover(used code, old set) = %v, want ErrReplayed", err)
		}
		stored = next
	}
	if !strings.HasSuffix(stored, "$") || mfa.RecoveryCodesLeft(stored) != 0 {
		t.Errorf("empty set = %q", stored)
	}
	if l.succeeded != 10 {
		t.Errorf("Succeeded called %d times, want 10", l.succeeded)
	}
}

func TestRecoverRefusals(t *testing.T) {
	ctx := context.Background()
	v, l := newVerifier(t, func(o *mfa.Options) { o.RecoveryCodes = 3 })
	codes, stored, err := v.NewRecoveryCodes()
	if err != nil || len(codes) != 3 {
		t.Fatalf("NewRecoveryCodes = %d codes, %v", len(codes), err)
	}
	for _, c := range []string{"", "0000-0000-0000-0000", codes[0] + "0", codes[0][:18], "U" + codes[0][1:], codes[0] + "\x00", strings.Repeat("-", 100)} {
		if _, err := v.Recover(ctx, "u", stored, c, t0); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("Recover(%q) = %v, want ErrInvalidCode", c, err)
		}
	}
	// Another user's set does not help: the code names nothing in it.
	_, otherStored, _ := v.NewRecoveryCodes()
	if _, err := v.Recover(ctx, "u", otherStored, codes[0], t0); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Errorf("Recover(code of another set) = %v, want ErrInvalidCode", err)
	}
	l.deny = true
	if _, err := v.Recover(ctx, "u", stored, codes[0], t0); !errors.Is(err, mfa.ErrLimited) {
		t.Errorf("Recover while limited = %v, want ErrLimited", err)
	}
	l.deny = false
	for _, bad := range []string{"", "garbage", stored[:len(stored)-3], strings.Replace(stored, "m=64", "m=0064", 1)} {
		if _, err := v.Recover(ctx, "u", bad, codes[0], t0); !errors.Is(err, mfa.ErrRecoveryFormat) {
			t.Errorf("Recover(stored %q) = %v, want ErrRecoveryFormat", bad, err)
		}
	}
	if _, err := v.Recover(ctx, "u", stored, codes[0], t0); err != nil {
		t.Errorf("Recover(right code) after refusals = %v, want nil", err)
	}
}
