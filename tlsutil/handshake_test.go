package tlsutil_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/bulwark-go/bulwark/tlsutil"
)

// mozillaCurves are the groups of MOZ-TLS 6.0.
var mozillaCurves = []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256, tls.CurveP384}

func withCert(cfg *tls.Config, c tls.Certificate) *tls.Config {
	cfg.Certificates = []tls.Certificate{c}
	return cfg
}

// refusedByServer reports whether err is a TLS alert sent by the server, so that a test
// knows the handshake failed because of the server's configuration and not the client's.
func refusedByServer(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}

type handshakeCase struct {
	name       string
	min, max   uint16
	suites     []uint16
	curves     []tls.CurveID
	want       map[string]bool // by server certificate type
	wantSuites []uint16        // acceptable negotiated suites; nil means the offered one
}

var (
	both   = map[string]bool{"ECDSA": true, "RSA": true}
	none   = map[string]bool{}
	ecOnly = map[string]bool{"ECDSA": true}
	rsOnly = map[string]bool{"RSA": true}
	tls13  = []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256}
)

// intermediateCases is the handshake matrix of MOZ-TLS 6.0 intermediate, ASVS5 12.1.1 and
// 12.1.2: protocol x suite x server certificate type.
var intermediateCases = []handshakeCase{
	{name: "TLS1.0 only", min: tls.VersionTLS10, max: tls.VersionTLS10, want: none},
	{name: "TLS1.1 only", min: tls.VersionTLS11, max: tls.VersionTLS11, want: none},
	{name: "TLS1.2 ECDHE-ECDSA-AES128-GCM-SHA256", min: tls.VersionTLS12, max: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, want: ecOnly},
	{name: "TLS1.2 ECDHE-ECDSA-AES256-GCM-SHA384", min: tls.VersionTLS12, max: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}, want: ecOnly},
	{name: "TLS1.2 ECDHE-ECDSA-CHACHA20-POLY1305", min: tls.VersionTLS12, max: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}, want: ecOnly},
	{name: "TLS1.2 ECDHE-RSA-AES128-GCM-SHA256", min: tls.VersionTLS12, max: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, want: rsOnly},
	{name: "TLS1.2 ECDHE-RSA-AES256-GCM-SHA384", min: tls.VersionTLS12, max: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}, want: rsOnly},
	{name: "TLS1.2 ECDHE-RSA-CHACHA20-POLY1305", min: tls.VersionTLS12, max: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}, want: rsOnly},
	{name: "TLS1.2 ECDHE CBC-SHA only (Go default list)", min: tls.VersionTLS12, max: tls.VersionTLS12, suites: []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA}, want: none},
	{name: "TLS1.2 ECDHE CBC-SHA256 only", min: tls.VersionTLS12, max: tls.VersionTLS12, suites: []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256}, want: none},
	{name: "TLS1.2 RSA key exchange only (GCM and CBC)", min: tls.VersionTLS12, max: tls.VersionTLS12, suites: []uint16{
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA}, want: none},
	{name: "TLS1.2 3DES and RC4 only", min: tls.VersionTLS12, max: tls.VersionTLS12, suites: []uint16{
		tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA, tls.TLS_ECDHE_ECDSA_WITH_RC4_128_SHA}, want: none},
	{name: "TLS1.2 X25519 only", min: tls.VersionTLS12, max: tls.VersionTLS12, curves: []tls.CurveID{tls.X25519}, want: both,
		wantSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}},
	{name: "TLS1.2 P-521 only", min: tls.VersionTLS12, max: tls.VersionTLS12, curves: []tls.CurveID{tls.CurveP521}, want: none},
	{name: "TLS1.3 default client", min: tls.VersionTLS13, max: tls.VersionTLS13, want: both, wantSuites: tls13},
	{name: "TLS1.3 P-256 only", min: tls.VersionTLS13, max: tls.VersionTLS13, curves: []tls.CurveID{tls.CurveP256}, want: both, wantSuites: tls13},
	{name: "TLS1.3 P-521 only", min: tls.VersionTLS13, max: tls.VersionTLS13, curves: []tls.CurveID{tls.CurveP521}, want: none},
	{name: "TLS1.0-1.3 client negotiates 1.3", min: tls.VersionTLS10, max: tls.VersionTLS13, want: both, wantSuites: tls13},
}

// modernCases is MOZ-TLS 6.0 modern: TLS 1.3 only.
var modernCases = []handshakeCase{
	{name: "TLS1.2 ECDHE-ECDSA-AES128-GCM-SHA256", min: tls.VersionTLS12, max: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, want: none},
	{name: "TLS1.2 ECDHE-RSA-AES128-GCM-SHA256", min: tls.VersionTLS12, max: tls.VersionTLS12, suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, want: none},
	{name: "TLS1.2 any suite", min: tls.VersionTLS12, max: tls.VersionTLS12, want: none},
	{name: "TLS1.3 default client", min: tls.VersionTLS13, max: tls.VersionTLS13, want: both, wantSuites: tls13},
}

func TestHandshakeMatrix(t *testing.T) {
	ca := newCA(t, "handshake CA")
	ecdsaCert := ca.pair(t, leafSpec{serial: 10})
	rsaCert := ca.pair(t, leafSpec{serial: 11, rsa: true})
	for _, profile := range []struct {
		name  string
		cfg   func() *tls.Config
		cases []handshakeCase
	}{
		{"Intermediate", tlsutil.Intermediate, intermediateCases},
		{"Modern", tlsutil.Modern, modernCases},
	} {
		servers := map[string]string{}
		for certType, c := range map[string]tls.Certificate{"ECDSA": ecdsaCert, "RSA": rsaCert} {
			servers[certType] = startTLS(t, withCert(profile.cfg(), c), nil).Listener.Addr().String()
		}
		for _, tt := range profile.cases {
			for _, certType := range []string{"ECDSA", "RSA"} {
				name := fmt.Sprintf("%s/%s/%s cert", profile.name, tt.name, certType)
				t.Run(name, func(t *testing.T) {
					client := &tls.Config{
						RootCAs: ca.pool, ServerName: "localhost",
						MinVersion: tt.min, MaxVersion: tt.max,
						CipherSuites: tt.suites, CurvePreferences: tt.curves,
					}
					state, err := dialTLS(servers[certType], client)
					want := tt.want[certType]
					switch {
					case want && err != nil:
						t.Fatalf("handshake failed: %v, want success", err)
					case !want && err == nil:
						t.Fatalf("handshake succeeded with %s %s, want failure",
							tls.VersionName(state.Version), tls.CipherSuiteName(state.CipherSuite))
					case !want:
						if !refusedByServer(err) {
							t.Fatalf("handshake error %v is not an alert from the server", err)
						}
						t.Logf("MATRIX | %s | %s | %s cert | refused (%v)", profile.name, tt.name, certType, err)
						return
					}
					wantSuites := tt.wantSuites
					if wantSuites == nil {
						wantSuites = tt.suites
					}
					if !slices.Contains(wantSuites, state.CipherSuite) {
						t.Errorf("suite = %s, want one of %v", tls.CipherSuiteName(state.CipherSuite), suiteNames(wantSuites))
					}
					if !slices.Contains(mozillaCurves, state.CurveID) {
						t.Errorf("group = %v, want one of %v", state.CurveID, mozillaCurves)
					}
					if tt.max == tls.VersionTLS13 && state.Version != tls.VersionTLS13 {
						t.Errorf("version = %s, want TLS 1.3 (ASVS5 12.1.1 prefers 1.3)", tls.VersionName(state.Version))
					}
					if got := keyType(state.PeerCertificates[0]); got != certType {
						t.Errorf("certificate type = %s, want %s", got, certType)
					}
					t.Logf("MATRIX | %s | %s | %s cert | ok: %s %s %v", profile.name, tt.name, certType,
						tls.VersionName(state.Version), tls.CipherSuiteName(state.CipherSuite), state.CurveID)
				})
			}
		}
	}
}

// TestHandshakeIgnoresTLS10GODEBUG: GO-TLS says GODEBUG=tls10server=1 lowers Go's default
// server minimum; the explicit MinVersion must win (ASVS5 12.1.1).
func TestHandshakeIgnoresTLS10GODEBUG(t *testing.T) {
	t.Setenv("GODEBUG", "tls10server=1,tlsrsakex=1,tls3des=1")
	ca := newCA(t, "godebug CA")
	srv := startTLS(t, withCert(tlsutil.Intermediate(), ca.pair(t, leafSpec{serial: 1, rsa: true})), nil)
	for _, client := range []*tls.Config{
		{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11},
		{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}},
	} {
		client.RootCAs, client.ServerName = ca.pool, "localhost"
		if _, err := dialTLS(srv.Listener.Addr().String(), client); err == nil || !refusedByServer(err) {
			t.Errorf("client %s..%s %v with GODEBUG: err = %v, want a refusal from the server",
				tls.VersionName(client.MinVersion), tls.VersionName(client.MaxVersion), suiteNames(client.CipherSuites), err)
		}
	}
}

func TestConfigsAreFreshAndExplicit(t *testing.T) {
	a, b := tlsutil.Intermediate(), tlsutil.Intermediate()
	a.CipherSuites[0] = 0
	if b.CipherSuites[0] == 0 {
		t.Error("Intermediate returned shared CipherSuites")
	}
	for _, tt := range []struct {
		name string
		cfg  *tls.Config
		min  uint16
	}{
		{"Intermediate", tlsutil.Intermediate(), tls.VersionTLS12},
		{"Modern", tlsutil.Modern(), tls.VersionTLS13},
	} {
		if tt.cfg.MinVersion != tt.min {
			t.Errorf("%s: MinVersion = %s, want %s", tt.name, tls.VersionName(tt.cfg.MinVersion), tls.VersionName(tt.min))
		}
		if !slices.Equal(tt.cfg.CurvePreferences, mozillaCurves) {
			t.Errorf("%s: CurvePreferences = %v, want %v", tt.name, tt.cfg.CurvePreferences, mozillaCurves)
		}
		if tt.cfg.InsecureSkipVerify {
			t.Errorf("%s: InsecureSkipVerify is set", tt.name)
		}
		for _, s := range tt.cfg.CipherSuites {
			if !strings.Contains(tls.CipherSuiteName(s), "ECDHE") || !(strings.Contains(tls.CipherSuiteName(s), "GCM") || strings.Contains(tls.CipherSuiteName(s), "CHACHA20")) {
				t.Errorf("%s: suite %s is not ECDHE with AEAD", tt.name, tls.CipherSuiteName(s))
			}
		}
	}
}

// TestMutualTLS covers ASVS5 12.1.3: client certificates are verified before use, and the
// verified identity reaches the handler.
func TestMutualTLS(t *testing.T) {
	ca := newCA(t, "client CA")
	other := newCA(t, "other CA")
	serverCert := ca.pair(t, leafSpec{serial: 1})
	good := ca.pair(t, leafSpec{serial: 77, client: true, name: "svc-billing"})
	forged := other.pair(t, leafSpec{serial: 78, client: true, name: "svc-billing"})

	identityHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := tlsutil.ClientIdentity(r)
		if !ok {
			io.WriteString(w, "anonymous")
			return
		}
		fmt.Fprintf(w, "%s serial=%s issuer=%s", id.CommonName, id.SerialNumber, id.Issuer)
	})
	for _, tt := range []struct {
		name       string
		optional   bool
		clientCert *tls.Certificate
		want       string // "" means the request fails
	}{
		{"required, verified cert", false, &good, "svc-billing serial=4d issuer=client CA"},
		{"required, no cert", false, nil, ""},
		{"required, cert from another CA", false, &forged, ""},
		{"optional, no cert", true, nil, "anonymous"},
		{"optional, verified cert", true, &good, "svc-billing serial=4d issuer=client CA"},
		{"optional, cert from another CA", true, &forged, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := tlsutil.WithClientAuth(withCert(tlsutil.Intermediate(), serverCert),
				tlsutil.ClientAuthOptions{CAs: ca.pool, AllowNoClientCert: tt.optional})
			if err != nil {
				t.Fatal(err)
			}
			srv := startTLS(t, cfg, identityHandler)
			client := &tls.Config{RootCAs: ca.pool, ServerName: "localhost"}
			if tt.clientCert != nil {
				// Sent whatever CAs the server asks for, so that the server's check is tested.
				client.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
					return tt.clientCert, nil
				}
			}
			c := &http.Client{Transport: &http.Transport{TLSClientConfig: client}}
			defer c.CloseIdleConnections()
			resp, err := c.Get(srv.URL)
			if tt.want == "" {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("request succeeded with status %d, want a TLS failure", resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if string(body) != tt.want {
				t.Errorf("handler saw %q, want %q", body, tt.want)
			}
		})
	}
}

func TestWithClientAuthErrors(t *testing.T) {
	if _, err := tlsutil.WithClientAuth(nil, tlsutil.ClientAuthOptions{}); err == nil {
		t.Error("nil config and nil CAs: err = nil, want an error")
	}
	base := tlsutil.Intermediate()
	cfg, err := tlsutil.WithClientAuth(base, tlsutil.ClientAuthOptions{CAs: x509.NewCertPool()})
	if err != nil {
		t.Fatal(err)
	}
	if base.ClientAuth != tls.NoClientCert || cfg.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("ClientAuth: base %v, copy %v; want base untouched and copy RequireAndVerifyClientCert", base.ClientAuth, cfg.ClientAuth)
	}
}

func TestClientIdentityWithoutTLS(t *testing.T) {
	r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	if _, ok := tlsutil.ClientIdentity(r); ok {
		t.Error("ClientIdentity of a plain request: ok = true")
	}
	if _, ok := tlsutil.ClientIdentity(nil); ok {
		t.Error("ClientIdentity(nil): ok = true")
	}
}

func dialTLS(addr string, client *tls.Config) (tls.ConnectionState, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{}, "tcp", addr, client)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	return conn.ConnectionState(), nil
}

func suiteNames(ids []uint16) []string {
	var s []string
	for _, id := range ids {
		s = append(s, tls.CipherSuiteName(id))
	}
	return s
}

func keyType(c *x509.Certificate) string {
	switch c.PublicKeyAlgorithm {
	case x509.ECDSA:
		return "ECDSA"
	case x509.RSA:
		return "RSA"
	}
	return c.PublicKeyAlgorithm.String()
}
