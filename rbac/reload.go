package rbac

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"
)

// loadFile reads, parses and compiles a policy file.
func loadFile(name string) (*compiled, [32]byte, error) {
	data, err := readPolicyFile(name)
	if err != nil {
		return nil, [32]byte{}, err
	}
	sum := sha256.Sum256(data)
	p, err := ParsePolicy(name, data)
	if err != nil {
		return nil, sum, err
	}
	c, err := compile(p)
	return c, sum, err
}

func readPolicyFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("rbac: reading policy: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPolicyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("rbac: reading policy: %w", err)
	}
	if len(data) > maxPolicyBytes {
		return nil, &PolicyError{File: name, Detail: fmt.Sprintf("policy is larger than %d bytes", maxPolicyBytes), Err: ErrSyntax}
	}
	return data, nil
}

// Reload reads Options.File again and, if its content changed and is a valid policy,
// swaps it in atomically: requests being checked finish with the old policy, later ones use
// the new. If the file cannot be read or is invalid, the policy in use is kept, the reason
// is logged at Error as authz_policy_invalid (once per distinct bad content) and returned.
// A successful change is logged at Warn as authz_change.
//
// Reload compares a SHA-256 of the content, not the modification time, so an edit within
// the clock's resolution is still seen and an unchanged file costs one read. Replace the
// file atomically (write a temporary file, then rename it): a half-written file is refused
// and picked up once complete. Reload is safe to call concurrently with checks and with
// itself; it returns [ErrNoFile] if the Authorizer was built from Options.Policy.
func (a *Authorizer) Reload() error {
	if a.file == "" {
		return ErrNoFile
	}
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	data, err := readPolicyFile(a.file)
	if err != nil {
		a.logger.LogAttrs(context.Background(), slog.LevelError, "authz_policy_invalid",
			slog.String("file", a.file), slog.String("error", err.Error()), slog.String("action", "kept the policy in use"))
		return err
	}
	sum := sha256.Sum256(data)
	if sum == a.fileSum {
		return nil
	}
	if sum == a.badSum {
		return a.badErr
	}
	p, err := ParsePolicy(a.file, data)
	var c *compiled
	if err == nil {
		c, err = compile(p)
	}
	if err != nil {
		a.badSum, a.badErr = sum, err
		a.logger.LogAttrs(context.Background(), slog.LevelError, "authz_policy_invalid",
			slog.String("file", a.file), slog.String("error", err.Error()), slog.String("action", "kept the policy in use"))
		return err
	}
	a.cur.Store(c)
	a.fileSum = sum
	a.logChange(a.file, c)
	return nil
}

// Run calls [Authorizer.Reload] every Options.ReloadInterval until ctx is done, then returns
// ctx's error. Reload failures are logged and keep the policy in use; Run goes on. Start it
// in its own goroutine: go authz.Run(ctx). It returns [ErrNoFile] at once without a file.
func (a *Authorizer) Run(ctx context.Context) error {
	if a.file == "" {
		return ErrNoFile
	}
	t := time.NewTicker(a.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			_ = a.Reload() // logged by Reload
		}
	}
}
