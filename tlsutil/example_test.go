package tlsutil_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/bulwark-go/bulwark/tlsutil"
)

func ExampleIntermediate() {
	cfg := tlsutil.Intermediate()
	// Set the certificate source, for example a Reloader:
	// cfg.GetCertificate = reloader.GetCertificate
	fmt.Println(tls.VersionName(cfg.MinVersion))
	for _, s := range cfg.CipherSuites {
		fmt.Println(tls.CipherSuiteName(s))
	}
	fmt.Println(cfg.CurvePreferences)
	// Output:
	// TLS 1.2
	// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
	// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
	// TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
	// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
	// TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
	// TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
	// [X25519MLKEM768 X25519 CurveP256 CurveP384]
}

func ExampleModern() {
	cfg := tlsutil.Modern()
	fmt.Println(tls.VersionName(cfg.MinVersion), len(cfg.CipherSuites))
	// Output: TLS 1.3 0
}

func ExampleWithClientAuth() {
	clientCAs := x509.NewCertPool() // in production: the CA that issues your clients' certificates
	cfg, err := tlsutil.WithClientAuth(tlsutil.Intermediate(), tlsutil.ClientAuthOptions{CAs: clientCAs})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.ClientAuth)
	// Output: RequireAndVerifyClientCert
}

func ExampleClientIdentity() {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := tlsutil.ClientIdentity(r)
		if !ok {
			http.Error(w, "client certificate required", http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, "hello", id.CommonName)
	})
	// A plain request has no verified client certificate.
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	fmt.Println(w.Code)
	// Output: 401
}

func ExampleRequireHTTPS() {
	requireHTTPS, err := tlsutil.RequireHTTPS(tlsutil.Options{
		// Only your own load balancers may say a request was HTTPS.
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		OnLeakedCredential: func(r *http.Request) {
			// Revoke the token in r.Header.Get("Authorization") here.
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	h := requireHTTPS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "notes")
	}))

	plain := httptest.NewRequest("GET", "http://api.example/notes", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, plain)
	fmt.Println(w.Code, w.Header().Get("Content-Type"))

	viaProxy := httptest.NewRequest("GET", "http://api.example/notes", nil)
	viaProxy.RemoteAddr = "10.0.0.7:41000"
	viaProxy.Header.Set("X-Forwarded-Proto", "https")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, viaProxy)
	fmt.Println(w.Code, w.Header().Get("Strict-Transport-Security"))
	// Output:
	// 403 application/problem+json
	// 200 max-age=63072000; includeSubDomains
}

func ExampleIsHTTPS() {
	opts := tlsutil.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	isHTTPS, err := tlsutil.IsHTTPS(opts)
	if err != nil {
		log.Fatal(err)
	}
	// Pass isHTTPS to encode.HeadersOptions{IsTLS: isHTTPS} so both packages agree.
	forged := httptest.NewRequest("GET", "http://api.example/", nil)
	forged.RemoteAddr = "203.0.113.9:5000" // not a trusted proxy
	forged.Header.Set("X-Forwarded-Proto", "https")
	fmt.Println(isHTTPS(forged))
	// Output: false
}

func ExampleRedirectHandler() {
	redirect, err := tlsutil.RedirectHandler(tlsutil.RedirectOptions{
		CanonicalHost: "app.example",
		AllowedHosts:  []string{"www.app.example"},
		// ACME: acmeManager, // answers HTTP-01 challenges when ACME is on
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, host := range []string{"www.app.example", "evil.example"} {
		r := httptest.NewRequest("GET", "/login?next=%2Fhome", nil)
		r.Host = host
		w := httptest.NewRecorder()
		redirect.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("Location"))
	}
	// Output:
	// 301 https://www.app.example/login?next=%2Fhome
	// 301 https://app.example/login?next=%2Fhome
}

func ExampleNewReloader() {
	dir, err := os.MkdirTemp("", "certs")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := tlsutil.WriteDevCertificate(certFile, keyFile, tlsutil.DevCertOptions{}); err != nil {
		log.Fatal(err)
	}

	certs, err := tlsutil.NewReloader(tlsutil.ReloaderOptions{CertFile: certFile, KeyFile: keyFile})
	if err != nil {
		log.Fatal(err) // never start without a valid certificate
	}
	cfg := tlsutil.Intermediate()
	cfg.GetCertificate = certs.GetCertificate
	// go certs.Run(ctx) polls the files; call certs.Reload() on SIGHUP.
	fmt.Println(certs.Leaf().Subject.CommonName)
	// Output: bulwark development certificate
}

func ExampleNewExpiryWatcher() {
	leaf := &x509.Certificate{SerialNumber: big.NewInt(1), NotAfter: time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)}
	w, err := tlsutil.NewExpiryWatcher(tlsutil.ExpiryOptions{
		Certificate: func() *x509.Certificate { return leaf }, // e.g. reloader.Leaf
		OnExpiring: func(c *x509.Certificate, left time.Duration) {
			fmt.Printf("renew now: %.0f days left\n", left.Hours()/24)
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	// go w.Run(ctx) checks every 12 hours; Check takes the time explicitly.
	fmt.Println(w.Check(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)))
	fmt.Println(w.Check(time.Date(2026, 12, 30, 0, 0, 0, 0, time.UTC)))
	// Output:
	// false
	// renew now: 11 days left
	// true
}

func ExampleDevCertificate() {
	certPEM, keyPEM, err := tlsutil.DevCertificate(tlsutil.DevCertOptions{})
	if err != nil {
		log.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pair.Leaf.DNSNames, pair.Leaf.IPAddresses)
	// Output: [localhost] [127.0.0.1 ::1]
}

func ExampleWriteDevCertificate() {
	dir, err := os.MkdirTemp("", "dev")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	keyFile := filepath.Join(dir, "key.pem")
	if err := tlsutil.WriteDevCertificate(filepath.Join(dir, "cert.pem"), keyFile, tlsutil.DevCertOptions{}); err != nil {
		log.Fatal(err)
	}
	fi, err := os.Stat(keyFile)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(fi.Mode().Perm())
	// Output: -rw-------
}

func ExampleNewServer() {
	certPEM, keyPEM, err := tlsutil.DevCertificate(tlsutil.DevCertOptions{})
	if err != nil {
		log.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		log.Fatal(err)
	}
	cfg := tlsutil.Intermediate()
	cfg.Certificates = []tls.Certificate{pair}
	srv, err := tlsutil.NewServer(tlsutil.ServerOptions{Addr: ":8443", Handler: http.NotFoundHandler(), TLSConfig: cfg})
	if err != nil {
		log.Fatal(err)
	}
	// tlsutil.ListenAndServe(ctx, srv) serves until ctx is done or SIGINT/SIGTERM.
	fmt.Println(srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	// Output: 5s 30s 1m0s 2m0s 65536
}

func ExampleServe() {
	srv, err := tlsutil.NewServer(tlsutil.ServerOptions{
		PlainHTTP: true, // only for this example; real servers pass TLSConfig
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello")
		}),
	})
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- tlsutil.Serve(ctx, srv, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(string(body))

	stop() // as SIGTERM would
	fmt.Println(<-done)
	// Output:
	// hello
	// <nil>
}

func ExampleHostPolicy() {
	policy, err := tlsutil.HostPolicy([]string{"api.example", "www.api.example"})
	if err != nil {
		log.Fatal(err)
	}
	// m := &autocert.Manager{Prompt: autocert.AcceptTOS, HostPolicy: policy, Cache: autocert.DirCache(dir)}
	fmt.Println(policy(context.Background(), "API.example"))
	fmt.Println(policy(context.Background(), "evil.example"))
	// Output:
	// <nil>
	// tlsutil: host not allowed by the ACME host policy
}

func ExampleListenAndServe() {
	srv, err := tlsutil.NewServer(tlsutil.ServerOptions{
		Addr:      "127.0.0.1:0", // in production: ":443"
		PlainHTTP: true,          // only for this example; real servers pass TLSConfig
		Handler:   http.NotFoundHandler(),
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// Blocks until ctx is done or the process gets SIGINT or SIGTERM, then shuts down.
	fmt.Println(tlsutil.ListenAndServe(ctx, srv))
	// Output: <nil>
}

func ExampleNewACME() {
	dir, err := os.MkdirTemp("", "acme")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	m, err := tlsutil.NewACME(tlsutil.ACMEOptions{
		Hosts:    []string{"api.example"},
		CacheDir: filepath.Join(dir, "cache"), // created 0700; keep it across restarts
		Email:    "ops@api.example",
	})
	if err != nil {
		log.Fatal(err)
	}
	cfg := tlsutil.ACMEConfig(m) // for ServerOptions.TLSConfig
	// RedirectOptions{CanonicalHost: "api.example", ACME: m} answers HTTP-01 challenges.
	fmt.Println(cfg.NextProtos)
	fmt.Println(m.HostPolicy(context.Background(), "evil.example") != nil)
	// Output:
	// [h2 http/1.1 acme-tls/1]
	// true
}
