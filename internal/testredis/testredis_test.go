package testredis_test

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bulwark-go/bulwark/internal/testredis"
)

// do sends one command in RESP and returns the first line of the reply.
func do(t *testing.T, addr string, args ...string) (string, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	if _, err := c.Write([]byte(b.String())); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

func TestStartStopRestart(t *testing.T) {
	s := testredis.Start(t)
	if !strings.HasPrefix(s.Addr, "127.0.0.1:") {
		t.Fatalf("Addr = %q, want a loopback address", s.Addr)
	}
	if got, err := do(t, s.Addr, "PING"); err != nil || got != "+PONG" {
		t.Fatalf("PING = %q, %v; want +PONG", got, err)
	}
	if got, err := do(t, s.Addr, "SET", "k", "v"); err != nil || got != "+OK" {
		t.Fatalf("SET = %q, %v", got, err)
	}
	// No persistence: nothing is written to disk by a save.
	if got, _ := do(t, s.Addr, "CONFIG", "GET", "save"); got != "*2" {
		t.Errorf("CONFIG GET save = %q", got)
	}

	s.Stop()
	if _, err := do(t, s.Addr, "PING"); err == nil {
		t.Fatal("PING after Stop succeeded; the server is still running")
	}
	s.Stop() // idempotent

	s.Restart()
	if got, err := do(t, s.Addr, "PING"); err != nil || got != "+PONG" {
		t.Fatalf("PING after Restart = %q, %v", got, err)
	}
	if got, _ := do(t, s.Addr, "GET", "k"); got != "$-1" {
		t.Errorf("GET k after restart = %q, want nil (no persistence)", got)
	}
}

func TestTwoServersAreIndependent(t *testing.T) {
	a, b := testredis.Start(t), testredis.Start(t)
	if a.Addr == b.Addr {
		t.Fatalf("both servers on %s", a.Addr)
	}
	if _, err := do(t, a.Addr, "SET", "only", "a"); err != nil {
		t.Fatal(err)
	}
	if got, _ := do(t, b.Addr, "GET", "only"); got != "$-1" {
		t.Errorf("GET on the other server = %q, want nil", got)
	}
}

func TestCleanupStopsServer(t *testing.T) {
	var addr string
	t.Run("owner", func(t *testing.T) {
		addr = testredis.Start(t).Addr
	})
	if _, err := do(t, addr, "PING"); err == nil {
		t.Error("the server outlived the test that started it")
	}
}
