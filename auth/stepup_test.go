package auth_test

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/auth"
	"github.com/bulwark-go/bulwark/encode"
)

func asPrincipal(p *auth.Principal) *http.Request {
	r := httptest.NewRequest("POST", "https://api.test/account/mfa", nil)
	if p != nil {
		r = r.WithContext(auth.NewContext(r.Context(), *p))
	}
	return r
}

// Step-up (issue 7 item 7; ASVS5 6.8.4, 10.3.4, 7.5.1; RFC 9470 §3): a second factor in
// "amr" and a recent "auth_time", or 401 insufficient_user_authentication.
func TestRequireMFA(t *testing.T) {
	now := time.Now()
	const (
		noFactor = `Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="urn:example:mfa", max_age="300"`
		tooOld   = `Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", acr_values="urn:example:mfa", max_age="300"`
	)
	var gotErr error
	mw, err := auth.RequireMFA(auth.MFAOptions{
		MaxAge: 5 * time.Minute, ACRValues: "urn:example:mfa",
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			gotErr = err
			encode.WriteError(w, r, err)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(echo)
	for _, tt := range []struct {
		name      string
		p         *auth.Principal
		want      int
		challenge string
		reason    error
	}{
		{"otp, fresh", &auth.Principal{Subject: "alice", AMR: []string{"pwd", "otp"}, AuthTime: now.Add(-time.Minute)}, 200, "", nil},
		{"mfa, fresh", &auth.Principal{Subject: "alice", AMR: []string{"mfa"}, AuthTime: now.Add(-4 * time.Minute)}, 200, "", nil},
		{"password only", &auth.Principal{Subject: "alice", AMR: []string{"pwd"}, AuthTime: now}, 401, noFactor, auth.ErrNoSecondFactor},
		{"no amr", &auth.Principal{Subject: "alice", AuthTime: now}, 401, noFactor, auth.ErrNoSecondFactor},
		{"case differs", &auth.Principal{Subject: "alice", AMR: []string{"OTP"}, AuthTime: now}, 401, noFactor, auth.ErrNoSecondFactor},
		{"too old", &auth.Principal{Subject: "alice", AMR: []string{"otp"}, AuthTime: now.Add(-6 * time.Minute)}, 401, tooOld, auth.ErrAuthTooOld},
		{"no auth_time", &auth.Principal{Subject: "alice", AMR: []string{"otp"}}, 401, tooOld, auth.ErrAuthTooOld},
		{"auth_time in the future", &auth.Principal{Subject: "alice", AMR: []string{"otp"}, AuthTime: now.Add(time.Hour)}, 401, tooOld, auth.ErrAuthTooOld},
		{"no principal", nil, 401, "Bearer", auth.ErrNoCredentials},
	} {
		gotErr = nil
		w := serve(h, asPrincipal(tt.p))
		if w.Code != tt.want {
			t.Errorf("%s: status = %d, want %d", tt.name, w.Code, tt.want)
			continue
		}
		if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
			t.Errorf("%s: WWW-Authenticate = %q, want %q", tt.name, got, tt.challenge)
		}
		if tt.want == 401 {
			if want := `{"type":"about:blank","title":"Unauthorized","status":401}`; w.Body.String() != want {
				t.Errorf("%s: body = %q, want the generic %q", tt.name, w.Body.String(), want)
			}
			if !errors.Is(gotErr, tt.reason) {
				t.Errorf("%s: error = %v, want %v", tt.name, gotErr, tt.reason)
			}
		}
	}
}

// The zero value: "otp" or "mfa", 15 minutes, no acr_values; Methods configurable.
func TestRequireMFADefaultsAndMethods(t *testing.T) {
	mw, err := auth.RequireMFA(auth.MFAOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	w := serve(mw(echo), asPrincipal(&auth.Principal{AMR: []string{"pwd"}, AuthTime: time.Now()}))
	if want := `Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", max_age="900"`; w.Header().Get("WWW-Authenticate") != want {
		t.Errorf("WWW-Authenticate = %q, want %q", w.Header().Get("WWW-Authenticate"), want)
	}
	if w := serve(mw(echo), asPrincipal(&auth.Principal{AMR: []string{"otp"}, AuthTime: time.Now().Add(-14 * time.Minute)})); w.Code != 200 {
		t.Errorf("14 minutes old: status = %d, want 200", w.Code)
	}
	hwk, _ := auth.RequireMFA(auth.MFAOptions{Methods: []string{"hwk"}, Logger: slog.New(slog.DiscardHandler)})
	for amr, want := range map[string]int{"hwk": 200, "otp": 401} {
		if w := serve(hwk(echo), asPrincipal(&auth.Principal{AMR: []string{amr}, AuthTime: time.Now()})); w.Code != want {
			t.Errorf("Methods [hwk], amr %s: status = %d, want %d", amr, w.Code, want)
		}
	}
	for _, bad := range []auth.MFAOptions{
		{MaxAge: -time.Second}, {MaxAge: 48 * time.Hour}, {Methods: []string{""}}, {ACRValues: `a"b`},
	} {
		if _, err := auth.RequireMFA(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// End to end: a token issued with amr otp and a fresh auth_time passes step-up behind New.
func TestRequireMFAWithIssuedTokens(t *testing.T) {
	s := newSigner(t, active(keys().ec))
	mw, err := auth.New(auth.Options{
		Issuers: []auth.Issuer{{Issuer: issIssuer, Audience: issAudience, Keys: s.VerificationKeys()}},
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	step, _ := auth.RequireMFA(auth.MFAOptions{Logger: slog.New(slog.DiscardHandler)})
	h := mw(step(echo))
	for _, tt := range []struct {
		amr  []string
		age  time.Duration
		want int
	}{{[]string{"pwd", "otp"}, time.Minute, 200}, {[]string{"pwd"}, time.Minute, 401}, {[]string{"pwd", "otp"}, time.Hour, 401}} {
		c := aliceClaims()
		c.AMR, c.AuthTime = tt.amr, time.Now().Add(-tt.age)
		at, err := s.Issue(t.Context(), c, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		w := serve(h, bearerRequest(at.Token))
		if w.Code != tt.want {
			t.Errorf("amr %v, age %v: status = %d, want %d", tt.amr, tt.age, w.Code, tt.want)
		}
		if tt.want == 401 && !strings.Contains(w.Header().Get("WWW-Authenticate"), "insufficient_user_authentication") {
			t.Errorf("amr %v: WWW-Authenticate = %q", tt.amr, w.Header().Get("WWW-Authenticate"))
		}
	}
}
