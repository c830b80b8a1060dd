package tlsutil_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/tlsutil"
)

// TestNewServerDefaults covers API4:2023: every timeout and the header size are bounded.
func TestNewServerDefaults(t *testing.T) {
	cfg := tlsutil.Intermediate()
	cfg.Certificates = []tls.Certificate{newCA(t, "ca").pair(t, leafSpec{serial: 1})}
	srv, err := tlsutil.NewServer(tlsutil.ServerOptions{Handler: okHandler, TLSConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		got, want time.Duration
	}{
		{"ReadHeaderTimeout", srv.ReadHeaderTimeout, tlsutil.DefaultReadHeaderTimeout},
		{"ReadTimeout", srv.ReadTimeout, tlsutil.DefaultReadTimeout},
		{"WriteTimeout", srv.WriteTimeout, tlsutil.DefaultWriteTimeout},
		{"IdleTimeout", srv.IdleTimeout, tlsutil.DefaultIdleTimeout},
	} {
		if tt.got != tt.want || tt.got <= 0 {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	if srv.MaxHeaderBytes != tlsutil.DefaultMaxHeaderBytes {
		t.Errorf("MaxHeaderBytes = %d, want %d", srv.MaxHeaderBytes, tlsutil.DefaultMaxHeaderBytes)
	}
	if srv.Addr != ":https" || srv.TLSConfig == cfg || srv.TLSConfig.MinVersion != tls.VersionTLS12 || srv.ErrorLog == nil {
		t.Errorf("Addr %q, TLSConfig cloned %v, MinVersion %x, ErrorLog %v", srv.Addr, srv.TLSConfig != cfg, srv.TLSConfig.MinVersion, srv.ErrorLog)
	}
}

func TestNewServerErrors(t *testing.T) {
	withCertCfg := tlsutil.Intermediate()
	withCertCfg.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return nil, nil }
	weak := withCertCfg.Clone()
	weak.MinVersion = tls.VersionTLS11
	for _, tt := range []struct {
		name string
		opts tlsutil.ServerOptions
	}{
		{"no handler", tlsutil.ServerOptions{TLSConfig: withCertCfg}},
		{"no TLS config", tlsutil.ServerOptions{Handler: okHandler}},
		{"no certificate", tlsutil.ServerOptions{Handler: okHandler, TLSConfig: tlsutil.Intermediate()}},
		{"TLS 1.1 allowed", tlsutil.ServerOptions{Handler: okHandler, TLSConfig: weak}},
		{"plain and TLS", tlsutil.ServerOptions{Handler: okHandler, TLSConfig: withCertCfg, PlainHTTP: true}},
		{"negative timeout", tlsutil.ServerOptions{Handler: okHandler, PlainHTTP: true, ReadHeaderTimeout: -1}},
		{"negative header size", tlsutil.ServerOptions{Handler: okHandler, PlainHTTP: true, MaxHeaderBytes: -1}},
	} {
		if _, err := tlsutil.NewServer(tt.opts); err == nil {
			t.Errorf("%s: err = nil, want an error", tt.name)
		}
	}
}

// serve runs srv on a loopback listener until the test ends.
func serve(t *testing.T, srv *http.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tlsutil.Serve(ctx, srv, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// TestSlowloris: a client that trickles its headers is cut off by ReadHeaderTimeout, however
// often it sends a byte (API4:2023). The deadline is absolute, so trickling never extends it.
func TestSlowloris(t *testing.T) {
	const timeout = 200 * time.Millisecond
	srv, err := tlsutil.NewServer(tlsutil.ServerOptions{
		Handler: okHandler, PlainHTTP: true, ReadHeaderTimeout: timeout, Logger: discardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, srv)
	start := time.Now() // before Dial: the server's header deadline may start as soon as it accepts
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second)) // bound the test if the server never cuts
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: localhost\r\n"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	trickled := make(chan struct{})
	go func() { // one header byte every 20 ms, until the server hangs up
		defer close(trickled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("X")); err != nil {
					return
				}
			}
		}
	}()
	_, err = conn.Read(make([]byte, 1024)) // returns when the server closes the connection
	elapsed := time.Since(start)
	close(stop)
	<-trickled
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("server still holding the connection after %v", elapsed)
	}
	if elapsed < timeout || elapsed > 5*time.Second {
		t.Errorf("connection closed after %v, want just after %v", elapsed, timeout)
	}
}

// TestSlowTLSHandshake: a client that opens a TLS connection and sends nothing is cut off too
// (net/http bounds the handshake by the shortest of the read and write timeouts).
func TestSlowTLSHandshake(t *testing.T) {
	const timeout = 200 * time.Millisecond
	cfg := tlsutil.Intermediate()
	cfg.Certificates = []tls.Certificate{newCA(t, "ca").pair(t, leafSpec{serial: 1})}
	srv, err := tlsutil.NewServer(tlsutil.ServerOptions{
		Handler: okHandler, TLSConfig: cfg, ReadHeaderTimeout: timeout, Logger: discardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, srv)
	start := time.Now() // before Dial: the server's deadline may start as soon as it accepts
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	elapsed := time.Since(start)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("server still holding the silent connection after %v", elapsed)
	}
	if elapsed < timeout || elapsed > 5*time.Second {
		t.Errorf("silent TLS connection closed after %v, want just after %v", elapsed, timeout)
	}
}

// TestGracefulShutdown: cancelling the context lets a request in flight finish, then Serve
// returns nil.
func TestGracefulShutdown(t *testing.T) {
	inHandler, release := make(chan struct{}), make(chan struct{})
	srv, err := tlsutil.NewServer(tlsutil.ServerOptions{
		PlainHTTP: true, Logger: discardLogger(),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(inHandler)
			<-release
			io.WriteString(w, "finished")
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tlsutil.Serve(ctx, srv, ln) }()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-inHandler
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Serve returned %v while a request was in flight", err)
	default:
	}
	close(release)
	if r := <-got; r.err != nil || r.body != "finished" {
		t.Errorf("in-flight request: %q, %v; want finished", r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve after shutdown: %v, want nil", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("listener still accepting after shutdown")
	}
}

// TestFraming pins ASVS5 4.2.1 on the hardened server: net/http frames a request with both
// Transfer-Encoding: chunked and Content-Length by the chunked encoding alone, and rejects
// differing Content-Length values, so requests cannot be smuggled past a proxy that disagrees.
func TestFraming(t *testing.T) {
	srv, err := tlsutil.NewServer(tlsutil.ServerOptions{
		PlainHTTP: true, Logger: discardLogger(),
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.Write(b)
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, srv)
	for _, tt := range []struct {
		name, request string
		want          int
		wantBody      string
	}{
		{"chunked wins over Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 200, "hello"},
		{"two different Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400, ""},
		{"oversized headers", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 70<<10) + "\r\n\r\n", 431, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			go io.WriteString(conn, tt.request)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want || (tt.want == 200 && string(body) != tt.wantBody) {
				t.Errorf("status %d body %q, want %d %q", resp.StatusCode, body, tt.want, tt.wantBody)
			}
		})
	}
}
