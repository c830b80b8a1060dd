package tlsutil_test

import (
	"context"
	"errors"
	"testing"

	"github.com/bulwark-go/bulwark/tlsutil"
)

func TestHostPolicy(t *testing.T) {
	policy, err := tlsutil.HostPolicy([]string{"api.example", "WWW.Api.Example."})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		host string
		ok   bool
	}{
		{"api.example", true},
		{"www.api.example", true},
		{"API.EXAMPLE.", true},
		{"evil.example", false},
		{"sub.api.example", false},
		{"api.example:443", false},
		{"127.0.0.1", false},
		{"", false},
		{"api.example\r\n", false},
	} {
		err := policy(context.Background(), tt.host)
		if (err == nil) != tt.ok || !tt.ok && !errors.Is(err, tlsutil.ErrHostPolicy) {
			t.Errorf("policy(%q) = %v, want allowed %v", tt.host, err, tt.ok)
		}
	}
	for _, hosts := range [][]string{nil, {"ok.example", "bad host"}, {"192.0.2.1"}, {"*.example"}} {
		if _, err := tlsutil.HostPolicy(hosts); err == nil {
			t.Errorf("HostPolicy(%q): err = nil, want an error", hosts)
		}
	}
}
