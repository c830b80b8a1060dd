package auth_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulwark-go/bulwark/auth"
)

func newRevocationStore(t testing.TB, max int) *auth.MemoryRevocationStore {
	t.Helper()
	s, err := auth.NewMemoryRevocationStore(auth.MemoryRevocationOptions{MaxEntries: max})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The store satisfies the validator's RevocationStore and the Refresher's FamilyRevoker.
var (
	_ auth.RevocationStore = (*auth.MemoryRevocationStore)(nil)
	_ auth.FamilyRevoker   = (*auth.MemoryRevocationStore)(nil)
)

// Logout revokes the token by (iss, jti) until its expiry: the validator refuses it, and
// the user's other tokens keep working (ASVS5 7.4.1, CS-JSON_Web_Token denylist).
func TestRevokeToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := newSigner(t, active(keys().ec))
		store := newRevocationStore(t, 0)
		h := validatorFor(t, s, store)
		a, _ := s.Issue(ctx, aliceClaims(), time.Now())
		b, _ := s.Issue(ctx, aliceClaims(), time.Now())

		p, _ := principalOf(t, s, a.Token)
		if err := store.RevokeToken(ctx, p.Issuer, p.TokenID, p.Expiry); err != nil {
			t.Fatal(err)
		}
		wantInvalidToken(t, serve(h, bearerRequest(a.Token)), a.Token)
		if w := serve(h, bearerRequest(b.Token)); w.Code != http.StatusOK {
			t.Errorf("other token: status = %d, want 200", w.Code)
		}
		// The entry goes once the token has expired: nothing is left to revoke.
		time.Sleep(time.Until(p.Expiry))
		if revoked, _ := store.Revoked(ctx, p); revoked {
			t.Error("revocation outlived the token's exp")
		}
	})
}

// Disabling an account ends every token it holds: tokens issued before the subject's
// not-before are refused, tokens issued after it are not (ASVS5 7.4.2).
func TestRevokeSubject(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := newSigner(t, active(keys().ec))
		store := newRevocationStore(t, 0)
		h := validatorFor(t, s, store)
		before, _ := s.Issue(ctx, aliceClaims(), time.Now())
		bob := aliceClaims()
		bob.Subject = "bob"
		bobs, _ := s.Issue(ctx, bob, time.Now())

		p, _ := principalOf(t, s, before.Token)
		if err := store.RevokeSubject(ctx, p.Key(), time.Now(), time.Now().Add(s.AccessTTL())); err != nil {
			t.Fatal(err)
		}
		wantInvalidToken(t, serve(h, bearerRequest(before.Token)), before.Token)
		if w := serve(h, bearerRequest(bobs.Token)); w.Code != http.StatusOK {
			t.Errorf("another subject: status = %d, want 200", w.Code)
		}
		time.Sleep(time.Second) // iat has whole seconds: a login one second later works
		after, _ := s.Issue(ctx, aliceClaims(), time.Now())
		if w := serve(h, bearerRequest(after.Token)); w.Code != http.StatusOK {
			t.Errorf("token issued after the not-before: status = %d, want 200", w.Code)
		}
		// A second, earlier not-before never undoes the first.
		_ = store.RevokeSubject(ctx, p.Key(), time.Now().Add(-time.Hour), time.Now().Add(time.Minute))
		wantInvalidToken(t, serve(h, bearerRequest(before.Token)), before.Token)
	})
}

// Access tokens carrying a revoked family's sid are refused.
func TestRevokeFamily(t *testing.T) {
	ctx := context.Background()
	s := newSigner(t, active(keys().ec))
	store := newRevocationStore(t, 0)
	h := validatorFor(t, s, store)
	c := aliceClaims()
	c.SessionID = "family-1"
	a, _ := s.Issue(ctx, c, time.Now())
	c.SessionID = "family-2"
	b, _ := s.Issue(ctx, c, time.Now())
	if err := store.RevokeFamily(ctx, "family-1", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantInvalidToken(t, serve(h, bearerRequest(a.Token)), a.Token)
	if w := serve(h, bearerRequest(b.Token)); w.Code != http.StatusOK {
		t.Errorf("other family: status = %d, want 200", w.Code)
	}
}

// A full store refuses new revocations instead of dropping live ones, and makes room
// once entries expire.
func TestRevocationStoreBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := newRevocationStore(t, 2)
		exp := time.Now().Add(time.Minute)
		for _, jti := range []string{"a", "b"} {
			if err := store.RevokeToken(ctx, issIssuer, jti, exp); err != nil {
				t.Fatal(err)
			}
		}
		if err := store.RevokeToken(ctx, issIssuer, "c", exp); !errors.Is(err, auth.ErrStoreFull) {
			t.Errorf("third entry: err = %v, want ErrStoreFull", err)
		}
		for _, jti := range []string{"a", "b"} {
			if r, _ := store.Revoked(ctx, auth.Principal{Issuer: issIssuer, TokenID: jti}); !r {
				t.Errorf("%s is no longer revoked", jti)
			}
		}
		time.Sleep(time.Minute)
		if err := store.RevokeToken(ctx, issIssuer, "c", time.Now().Add(time.Minute)); err != nil {
			t.Errorf("after expiry: %v", err)
		}
	})
	if _, err := auth.NewMemoryRevocationStore(auth.MemoryRevocationOptions{MaxEntries: -1}); err == nil {
		t.Error("negative MaxEntries accepted")
	}
}

// Revocation keys cannot collide across issuers: ("ab", "c") is not ("a", "bc").
func TestRevocationKeysPerIssuer(t *testing.T) {
	ctx := context.Background()
	store := newRevocationStore(t, 0)
	_ = store.RevokeToken(ctx, "ab", "c", time.Now().Add(time.Minute))
	if r, _ := store.Revoked(ctx, auth.Principal{Issuer: "a", TokenID: "bc"}); r {
		t.Error(`("a", "bc") revoked by ("ab", "c")`)
	}
	if r, _ := store.Revoked(ctx, auth.Principal{Issuer: "ab", TokenID: "c"}); !r {
		t.Error(`("ab", "c") not revoked`)
	}
}
