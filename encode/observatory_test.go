package encode_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/encode"
)

// observatoryScore applies the MDN HTTP Observatory modifiers listed in SECURITY-STANDARDS §8.2
// (OBS) for the headers encode controls. Bonuses only count when the score without them is
// at least 90 (MINIMUM_SCORE_FOR_EXTRA_CREDIT). It returns the score and what moved it.
func observatoryScore(h http.Header) (int, []string) {
	base, bonus := 100, 0
	var why []string
	mod := func(n int, reason string) {
		if n > 0 {
			bonus += n
		} else {
			base += n
		}
		why = append(why, reason)
	}
	csp := h.Get("Content-Security-Policy")
	directives := map[string]string{}
	for _, d := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[strings.ToLower(name)] = value
	}
	switch {
	case csp == "":
		mod(-25, "csp missing")
	case strings.Contains(csp, "'unsafe-eval'"):
		mod(-10, "csp unsafe-eval")
	case strings.Contains(csp, "'unsafe-inline'"):
		mod(-20, "csp unsafe-inline")
	case strings.Contains(csp, "http:"):
		mod(-20, "csp allows http sources")
	case directives["default-src"] == "'none'":
		mod(10, "csp default-src 'none'")
	default:
		mod(5, "csp with only safe sources")
	}
	switch h.Get("Referrer-Policy") {
	case "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin":
		mod(5, "referrer-policy private")
	case "":
	default:
		mod(-5, "referrer-policy unsafe")
	}
	if h.Get("X-Content-Type-Options") != "nosniff" {
		mod(-5, "x-content-type-options missing")
	}
	switch {
	case directives["frame-ancestors"] != "":
		mod(5, "frame-ancestors")
	case strings.EqualFold(h.Get("X-Frame-Options"), "DENY"), strings.EqualFold(h.Get("X-Frame-Options"), "SAMEORIGIN"):
		mod(5, "x-frame-options")
	default:
		mod(-20, "framing allowed")
	}
	for _, c := range []struct {
		key  string
		good []string
	}{
		{"Cross-Origin-Resource-Policy", []string{"same-origin", "same-site"}},
		{"Cross-Origin-Embedder-Policy", []string{"require-corp", "credentialless"}},
		{"Cross-Origin-Opener-Policy", []string{"same-origin", "same-origin-allow-popups", "noopener-allow-popups"}},
	} {
		v := h.Get(c.key)
		switch {
		case v == "":
		case contains(c.good, v):
			mod(10, strings.ToLower(c.key))
		default:
			mod(-5, strings.ToLower(c.key)+" invalid")
		}
	}
	if h.Get("Access-Control-Allow-Origin") == "*" && h.Get("Access-Control-Allow-Credentials") == "true" {
		mod(-50, "cors wildcard with credentials")
	}
	if base >= 90 {
		return base + bonus, why
	}
	return base, why
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// OBS: the default header sets earn an A+ (>= 100) with no penalty at all.
func TestObservatoryGrade(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts encode.HeadersOptions
	}{
		{"api profile", encode.HeadersOptions{}},
		{"document profile", encode.HeadersOptions{Profile: encode.ProfileDocument}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			mustHeaders(t, tt.opts, okHandler).ServeHTTP(w, tlsRequest("GET", "/"))
			score, why := observatoryScore(w.Header())
			if score < 100 {
				t.Errorf("observatory score = %d (%v), want A+ (>= 100)", score, why)
			}
			for _, reason := range why {
				if strings.Contains(reason, "missing") || strings.Contains(reason, "unsafe") || strings.Contains(reason, "invalid") || strings.Contains(reason, "allowed") {
					t.Errorf("penalty %q on the default header set", reason)
				}
			}
		})
	}
}

// The scorer itself must tell a bad header set from a good one, or the test above proves nothing.
func TestObservatoryScorerPenalizes(t *testing.T) {
	bare := http.Header{}
	if score, _ := observatoryScore(bare); score >= 90 {
		t.Errorf("no headers scored %d, want below 90", score)
	}
	weak := http.Header{
		"Content-Security-Policy": {"default-src 'self' 'unsafe-inline'"},
		"Referrer-Policy":         {"unsafe-url"},
	}
	if score, _ := observatoryScore(weak); score >= 70 {
		t.Errorf("a weak header set scored %d, want below 70", score)
	}
}
