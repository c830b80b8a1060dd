package mfa_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pquerna/otp"

	"github.com/bulwark-go/bulwark/auth/mfa"
)

func TestNewOptions(t *testing.T) {
	sealer := newSealer(t)
	allow := (&limiter{}).allow
	for _, tt := range []struct {
		name   string
		opts   mfa.Options
		fields []string // each must be named in the error; none means valid
	}{
		{"zero", mfa.Options{}, []string{"Issuer", "Sealer", "Allow"}},
		{"minimal", mfa.Options{Issuer: "Example", Sealer: sealer, Allow: allow}, nil},
		{"unsafe no limit", mfa.Options{Issuer: "Example", Sealer: sealer, UnsafeNoAttemptLimit: true}, nil},
		{"issuer with colon", mfa.Options{Issuer: "Ex:ample", Sealer: sealer, Allow: allow}, []string{"Issuer"}},
		{"issuer with newline", mfa.Options{Issuer: "Ex\nample", Sealer: sealer, Allow: allow}, []string{"Issuer"}},
		{"everything bad", mfa.Options{
			Issuer: "Example", Sealer: sealer, Allow: allow,
			Algorithm: "MD5", Digits: 7, SecretSize: 16, RecoveryCodes: 65,
		}, []string{"Algorithm", "Digits", "SecretSize", "RecoveryCodes"}},
		{"sha256 8 digits", mfa.Options{Issuer: "Example", Sealer: sealer, Allow: allow, Algorithm: mfa.SHA256, Digits: 8, SecretSize: 32}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := mfa.New(tt.opts)
			if len(tt.fields) == 0 {
				if err != nil || v == nil {
					t.Fatalf("New = %v, %v; want a Verifier", v, err)
				}
				return
			}
			if err == nil {
				t.Fatal("New = nil error, want one")
			}
			for _, f := range tt.fields {
				if !strings.Contains(err.Error(), "Options."+f) {
					t.Errorf("New error %q does not name Options.%s", err, f)
				}
			}
		})
	}
}

// TestEnroll checks the key URL (parsed back), the secret size (RFC 4226 §4 R6: 160 bits
// by default) and the QR code.
func TestEnroll(t *testing.T) {
	v, _ := newVerifier(t, nil)
	e, err := v.Enroll("u1", "Zoë O'Brien+mfa@example.com")
	if err != nil {
		t.Fatal(err)
	}
	k, err := mfa.ParseKeyURL(e.URL)
	if err != nil {
		t.Fatalf("ParseKeyURL(Enroll URL): %v", err)
	}
	if k.Issuer != "Bulwark Test" || k.Account != "Zoë O'Brien+mfa@example.com" {
		t.Errorf("issuer, account = %q, %q; want the enrolled ones", k.Issuer, k.Account)
	}
	if len(k.Secret) != 20 || k.Algorithm != mfa.SHA1 || k.Digits != 6 || k.Period != 30*time.Second {
		t.Errorf("key = %d bytes %s/%d/%v, want 20 bytes SHA1/6/30s", len(k.Secret), k.Algorithm, k.Digits, k.Period)
	}
	// pquerna/otp, which authenticator-app code is often built on, reads the same names.
	if pk, err := otp.NewKeyFromURL(e.URL); err != nil || pk.Issuer() != k.Issuer || pk.AccountName() != k.Account || pk.Secret() != e.Secret {
		t.Errorf("pquerna/otp reads %q: %v", e.URL, err)
	}
	if strings.Contains(e.URL, " ") || strings.Contains(e.URL, "+mfa") {
		t.Errorf("URL %q has an unescaped space or '+'", e.URL)
	}
	if e.Secret == "" || !strings.Contains(e.URL, "secret="+e.Secret+"&") {
		t.Errorf("Secret is not the URL's secret")
	}
	if strings.Contains(e.Pending, e.Secret) {
		t.Errorf("Pending contains the plain secret")
	}
	img, err := e.PNG(0)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil || cfg.Width != 256 || cfg.Height != 256 {
		t.Errorf("PNG = %v, %dx%d; want a 256x256 PNG", err, cfg.Width, cfg.Height)
	}
	if _, err := e.PNG(10_000); !errors.Is(err, mfa.ErrInvalidInput) {
		t.Errorf("PNG(10000) = %v, want ErrInvalidInput", err)
	}

	e2, _ := v.Enroll("u1", "a@example.com")
	if e2.Secret == e.Secret {
		t.Error("two enrolments share a secret")
	}
	for _, account := range []string{"", "a:b", "a\x00b", " a", strings.Repeat("a", 257)} {
		if _, err := v.Enroll("u1", account); !errors.Is(err, mfa.ErrInvalidInput) {
			t.Errorf("Enroll(account %q) = %v, want ErrInvalidInput", account, err)
		}
	}
	if _, err := v.Enroll("", "a@example.com"); !errors.Is(err, mfa.ErrInvalidInput) {
		t.Errorf("Enroll(empty user) = %v, want ErrInvalidInput", err)
	}
}

// TestPendingUntilConfirmed: a pending secret does not verify; Confirm accepts one code,
// which then counts as used (ASVS5 6.5.1).
func TestPendingUntilConfirmed(t *testing.T) {
	ctx := context.Background()
	v, _ := newVerifier(t, nil)
	e, err := v.Enroll("alice", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	k, _ := mfa.ParseKeyURL(e.URL)
	code := refTOTP(k.Algorithm, k.Secret, t0, k.Digits)
	if err := v.Verify(ctx, "alice", e.Pending, code, t0); !errors.Is(err, mfa.ErrSealed) {
		t.Errorf("Verify(pending) = %v, want ErrSealed", err)
	}
	wrong := refTOTP(k.Algorithm, k.Secret, t0.Add(-time.Hour), k.Digits)
	if _, err := v.Confirm(ctx, "alice", e.Pending, wrong, t0); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Errorf("Confirm(wrong code) = %v, want ErrInvalidCode", err)
	}
	if _, err := v.Confirm(ctx, "bob", e.Pending, code, t0); !errors.Is(err, mfa.ErrSealed) {
		t.Errorf("Confirm(other user) = %v, want ErrSealed", err)
	}
	active, err := v.Confirm(ctx, "alice", e.Pending, code, t0)
	if err != nil {
		t.Fatalf("Confirm = %v", err)
	}
	if err := v.Verify(ctx, "alice", active, code, t0); !errors.Is(err, mfa.ErrReplayed) {
		t.Errorf("Verify(confirming code) = %v, want ErrReplayed", err)
	}
	if _, err := v.Confirm(ctx, "alice", active, code, t0); !errors.Is(err, mfa.ErrSealed) {
		t.Errorf("Confirm(active) = %v, want ErrSealed", err)
	}
	next := t0.Add(30 * time.Second)
	if err := v.Verify(ctx, "alice", active, refTOTP(k.Algorithm, k.Secret, next, k.Digits), next); err != nil {
		t.Errorf("Verify(next code) = %v, want nil", err)
	}
}

// TestWindow: RFC 6238 §5.2 and ASVS5 6.5.5. A code is accepted in its own step and the one
// after (one step back for delay); two steps later it is refused; a code of the next step
// is refused unless AcceptNextStep.
func TestWindow(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name     string
		edit     func(*mfa.Options)
		codeStep int64 // relative to the verification's step
		want     error
	}{
		{"current", nil, 0, nil},
		{"one back", nil, -1, nil},
		{"two back", nil, -2, mfa.ErrInvalidCode},
		{"one ahead", nil, 1, mfa.ErrInvalidCode},
		{"one ahead allowed", func(o *mfa.Options) { o.AcceptNextStep = true }, 1, nil},
		{"two ahead allowed next", func(o *mfa.Options) { o.AcceptNextStep = true }, 2, mfa.ErrInvalidCode},
		{"one back rejected", func(o *mfa.Options) { o.RejectPreviousStep = true }, -1, mfa.ErrInvalidCode},
		{"current only", func(o *mfa.Options) { o.RejectPreviousStep = true }, 0, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, within := range []time.Duration{0, 29 * time.Second} {
				v, _ := newVerifier(t, tt.edit)
				user := "u"
				active, k := enrol(t, v, user, t0.Add(-time.Hour))
				now := t0.Add(time.Duration(10+tt.codeStep) * time.Minute).Add(within)
				code := refTOTP(k.Algorithm, k.Secret, now.Add(time.Duration(tt.codeStep)*30*time.Second), k.Digits)
				err := v.Verify(ctx, user, active, code, now)
				if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
					t.Errorf("code of step %+d at +%v: Verify = %v, want %v", tt.codeStep, within, err, tt.want)
				}
			}
		})
	}
}

// TestReplay: RFC 6238 §5.2 one-time use and ASVS5 6.5.1. A code accepted once is refused,
// and so is any code of an earlier step, even within the window.
func TestReplay(t *testing.T) {
	ctx := context.Background()
	v, l := newVerifier(t, nil)
	active, k := enrol(t, v, "u", t0)
	now := t0.Add(10 * time.Minute)
	prev := refTOTP(k.Algorithm, k.Secret, now.Add(-30*time.Second), k.Digits)
	cur := refTOTP(k.Algorithm, k.Secret, now, k.Digits)
	if err := v.Verify(ctx, "u", active, cur, now); err != nil {
		t.Fatalf("first Verify = %v", err)
	}
	failed := l.failed
	if err := v.Verify(ctx, "u", active, cur, now.Add(5*time.Second)); !errors.Is(err, mfa.ErrReplayed) {
		t.Errorf("same code again = %v, want ErrReplayed", err)
	}
	if err := v.Verify(ctx, "u", active, prev, now); !errors.Is(err, mfa.ErrReplayed) {
		t.Errorf("earlier step after a later one = %v, want ErrReplayed", err)
	}
	if l.failed != failed+2 {
		t.Errorf("Failed called %d times for two replays, want 2", l.failed-failed)
	}
	// Another user's state is separate.
	active2, k2 := enrol(t, v, "u2", t0)
	if err := v.Verify(ctx, "u2", active2, refTOTP(k2.Algorithm, k2.Secret, now, k2.Digits), now); err != nil {
		t.Errorf("other user = %v, want nil", err)
	}
}

// TestReplayConcurrent: of many concurrent submissions of one code, exactly one succeeds.
func TestReplayConcurrent(t *testing.T) {
	v, _ := newVerifier(t, nil)
	active, k := enrol(t, v, "u", t0)
	now := t0.Add(time.Minute)
	code := refTOTP(k.Algorithm, k.Secret, now, k.Digits)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 16 {
		wg.Go(func() {
			if v.Verify(context.Background(), "u", active, code, now) == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("%d of 16 concurrent submissions accepted, want 1", ok)
	}
}

// TestLimiter: RFC 4226 §7.3, NIST SP 800-63B-4 §3.2.2, API4:2023. When Allow refuses, no
// code is checked (the right code stays unused); when it fails, Verify fails closed.
func TestLimiter(t *testing.T) {
	ctx := context.Background()
	v, l := newVerifier(t, nil)
	active, k := enrol(t, v, "u", t0)
	now := t0.Add(time.Minute)
	code := refTOTP(k.Algorithm, k.Secret, now, k.Digits)

	l.deny = true
	err := v.Verify(ctx, "u", active, code, now)
	if !errors.Is(err, mfa.ErrLimited) || mfa.RetryAfter(err) != 42*time.Second {
		t.Fatalf("Verify while limited = %v (retry %v), want ErrLimited after 42s", err, mfa.RetryAfter(err))
	}
	if l.failed != 0 {
		t.Errorf("Failed called %d times while limited, want 0", l.failed)
	}
	l.deny, l.err = false, errors.New("redis down")
	if err := v.Verify(ctx, "u", active, code, now); !errors.Is(err, mfa.ErrUnavailable) {
		t.Errorf("Verify with a broken limiter = %v, want ErrUnavailable", err)
	}
	l.err = nil
	wrong := string('0'+(code[0]-'0'+1)%10) + code[1:]
	if err := v.Verify(ctx, "u", active, wrong, now); !errors.Is(err, mfa.ErrInvalidCode) {
		t.Errorf("wrong code = %v, want ErrInvalidCode", err)
	}
	if l.failed != 1 {
		t.Errorf("Failed called %d times for a wrong code, want 1", l.failed)
	}
	if err := v.Verify(ctx, "u", active, code, now); err != nil {
		t.Errorf("Verify of the code refused while limited = %v, want nil (it was never checked)", err)
	}
	if l.succeeded != 2 { // Confirm and Verify
		t.Errorf("Succeeded called %d times, want 2", l.succeeded)
	}
}

func TestMalformedCodes(t *testing.T) {
	ctx := context.Background()
	v, _ := newVerifier(t, nil)
	active, k := enrol(t, v, "u", t0)
	now := t0.Add(time.Minute)
	code := refTOTP(k.Algorithm, k.Secret, now, k.Digits)
	for _, c := range []string{"", "12345", "1234567", "12345a", "١٢٣٤٥٦", code + "0", "+" + code[1:], "-" + code[1:]} {
		if err := v.Verify(ctx, "u", active, c, now); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("Verify(%q) = %v, want ErrInvalidCode", c, err)
		}
	}
	if err := v.Verify(ctx, "u", active, code[:3]+" "+code[3:], now); err != nil {
		t.Errorf("Verify with a space in the middle = %v, want nil", err)
	}
	if err := v.Verify(ctx, "u", "garbage", code, now); !errors.Is(err, mfa.ErrSealed) {
		t.Errorf("Verify(garbage secret) = %v, want ErrSealed", err)
	}
	if err := v.Verify(ctx, "", active, code, now); !errors.Is(err, mfa.ErrInvalidInput) {
		t.Errorf("Verify(empty user) = %v, want ErrInvalidInput", err)
	}
}

// TestStoreFailure: a store that errors or is full makes Verify fail closed
// (ASVS5 16.5.3).
func TestStoreFailure(t *testing.T) {
	ctx := context.Background()
	store, err := mfa.NewMemoryStore(mfa.MemoryOptions{MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := newVerifier(t, func(o *mfa.Options) { o.Store = store })
	a1, k1 := enrol(t, v, "u1", t0) // fills the store
	_ = a1
	e, _ := v.Enroll("u2", "u2@example.com")
	k2, _ := mfa.ParseKeyURL(e.URL)
	if _, err := v.Confirm(ctx, "u2", e.Pending, refTOTP(k2.Algorithm, k2.Secret, t0, 6), t0); !errors.Is(err, mfa.ErrUnavailable) || !errors.Is(err, mfa.ErrStoreFull) {
		t.Errorf("Confirm with a full store = %v, want ErrUnavailable wrapping ErrStoreFull", err)
	}
	// Once u1's entry has expired, there is room again.
	later := t0.Add(10 * time.Minute)
	if _, err := v.Confirm(ctx, "u2", e.Pending, refTOTP(k2.Algorithm, k2.Secret, later, 6), later); err != nil {
		t.Errorf("Confirm after expiry = %v, want nil", err)
	}
	_ = k1
}

// TestVerifyServerClock uses the synctest fake clock: a code read at time.Now() still
// verifies 30 s later (one step back), and is refused a minute later (ASVS5 6.5.5, 6.5.8).
func TestVerifyServerClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		v, _ := newVerifier(t, nil)
		active, k := enrol(t, v, "u", time.Now().Add(-time.Hour))
		time.Sleep(time.Until(time.Now().Truncate(30 * time.Second).Add(30 * time.Second))) // start of a step
		code := refTOTP(k.Algorithm, k.Secret, time.Now(), k.Digits)
		time.Sleep(59 * time.Second)
		if err := v.Verify(ctx, "u", active, code, time.Now()); err != nil {
			t.Errorf("Verify 59 s after the step began = %v, want nil", err)
		}
		code = refTOTP(k.Algorithm, k.Secret, time.Now(), k.Digits)
		time.Sleep(61 * time.Second)
		if err := v.Verify(ctx, "u", active, code, time.Now()); !errors.Is(err, mfa.ErrInvalidCode) {
			t.Errorf("Verify 61 s later = %v, want ErrInvalidCode", err)
		}
	})
}

func TestImport(t *testing.T) {
	v, _ := newVerifier(t, nil)
	good := mfa.KeyURL{Secret: make([]byte, 20), Algorithm: mfa.SHA1, Digits: 6, Period: 30 * time.Second}
	if _, err := v.Import("u", good); err != nil {
		t.Errorf("Import(good) = %v", err)
	}
	for _, edit := range []func(*mfa.KeyURL){
		func(k *mfa.KeyURL) { k.Secret = make([]byte, 15) },
		func(k *mfa.KeyURL) { k.Algorithm = "MD5" },
		func(k *mfa.KeyURL) { k.Digits = 7 },
		func(k *mfa.KeyURL) { k.Period = 1500 * time.Millisecond },
		func(k *mfa.KeyURL) { k.Period = 0 },
	} {
		k := good
		edit(&k)
		if _, err := v.Import("u", k); !errors.Is(err, mfa.ErrInvalidInput) {
			t.Errorf("Import(%+v) = %v, want ErrInvalidInput", k, err)
		}
	}
}

// TestProblem: every code failure is the same 401; replays are logged as authn_token_reuse.
func TestProblem(t *testing.T) {
	for _, tt := range []struct {
		err    error
		status int
		event  string
	}{
		{mfa.ErrInvalidCode, http.StatusUnauthorized, "authn_login_fail"},
		{mfa.ErrReplayed, http.StatusUnauthorized, "authn_token_reuse"},
		{mfa.ErrLimited, http.StatusTooManyRequests, "authn_login_fail_max"},
		{mfa.ErrUnavailable, http.StatusServiceUnavailable, "authn_login_fail"},
		{mfa.ErrSealed, http.StatusInternalServerError, "authn_login_fail"},
	} {
		e, event := mfa.Problem(tt.err)
		if e.Status != tt.status || event != tt.event || e.Detail != "" || !errors.Is(e, tt.err) {
			t.Errorf("Problem(%v) = %d %q detail %q, want %d %q, no detail", tt.err, e.Status, event, e.Detail, tt.status, tt.event)
		}
	}
	if e, _ := mfa.Problem(nil); e != nil {
		t.Errorf("Problem(nil) = %v, want nil", e)
	}
}

// TestNoSecretsInErrors: no error text contains the code or the secret (CS-Logging).
func TestNoSecretsInErrors(t *testing.T) {
	ctx := context.Background()
	v, l := newVerifier(t, nil)
	active, k := enrol(t, v, "u", t0)
	code := refTOTP(k.Algorithm, k.Secret, t0, k.Digits)
	var errs []error
	errs = append(errs, v.Verify(ctx, "u", active, code, t0))                 // replay
	errs = append(errs, v.Verify(ctx, "u", active, code, t0.Add(time.Hour)))  // too old
	errs = append(errs, v.Verify(ctx, "u", active[:len(active)-2], code, t0)) // broken secret
	l.err = errors.New("limiter down")
	errs = append(errs, v.Verify(ctx, "u", active, code, t0))
	for _, err := range errs {
		if err == nil {
			t.Fatal("want an error")
		}
		if s := err.Error(); strings.Contains(s, code) || strings.Contains(s, active) {
			t.Errorf("error %q contains the code or the sealed secret", s)
		}
	}
}
