// Package testredis starts a throwaway redis-server for a test: on a free loopback port, with
// no persistence, in the test's temporary directory, stopped when the test ends.
//
// If redis-server is not installed, the test is skipped with a message saying so, except when
// the CI environment variable is set: there a missing server fails the test, so that CI never
// passes by skipping the tests that matter.
package testredis

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// startTimeout bounds how long redis-server may take to say it is ready.
const startTimeout = 10 * time.Second

// Server is a running redis-server owned by one test.
type Server struct {
	// Addr is the host:port clients connect to. It stays the same across Restart.
	Addr string

	tb   testing.TB
	bin  string
	dir  string
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Start starts redis-server and registers its stop with tb.Cleanup.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("testredis: redis-server is not installed, and CI must run the Redis tests: %v", err)
		}
		tb.Skip("testredis: redis-server is not installed; install it (apt-get install redis-server) to run this test")
	}
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir()}
	tb.Cleanup(s.Stop)
	// A free port can be taken by someone else between our probe and redis-server's bind;
	// try a few ports before giving up.
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			tb.Fatalf("testredis: %v", err)
		}
		s.port = port
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	tb.Fatalf("testredis: %v", lastErr)
	return nil
}

// Restart starts the server again on the same address after Stop, for tests of a store that
// must recover when Redis comes back. The data is gone, as after a real restart without
// persistence.
func (s *Server) Restart() {
	s.tb.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.tb.Fatalf("testredis: restart: %v", err)
	}
}

// Stop stops the server and waits for it to exit. It is safe to call more than once.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(os.Interrupt)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func (s *Server) start() error {
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--protected-mode", "yes",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--logfile", "",
		"--daemonize", "no",
		"--enable-debug-command", "local", // lets fault tests use DEBUG SLEEP
	)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	ready := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		// Read redis-server's log until it says it is ready, then keep draining it so that
		// it never blocks on a full pipe.
		sc := bufio.NewScanner(out)
		var tail []string
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			if !signalled {
				tail = append(tail, line)
				if strings.Contains(line, "Ready to accept connections") {
					ready <- nil
					signalled = true
				}
			}
		}
		if !signalled {
			ready <- fmt.Errorf("redis-server exited before it was ready:\n%s", strings.Join(tail, "\n"))
		}
		_ = cmd.Wait()
		close(done)
	}()
	select {
	case err := <-ready:
		if err != nil {
			<-done
			return err
		}
	case <-time.After(startTimeout):
		_ = cmd.Process.Kill()
		<-done
		return errors.New("redis-server was not ready in time")
	}
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
