package tlsutil

import (
	"context"
	"errors"
	"fmt"
)

// ErrHostPolicy is returned by the function from [HostPolicy] for a host that is not allowed.
var ErrHostPolicy = errors.New("tlsutil: host not allowed by the ACME host policy")

// HostPolicy returns an ACME host policy, for autocert.Manager.HostPolicy, that allows
// exactly hosts (ignoring case and a trailing dot). Without one, anyone who points a DNS name
// at the server could make it request certificates for that name, spending the account's
// rate limit. It reports hosts that are not DNS names as an error; IP addresses are refused,
// since public ACME CAs do not issue for them through autocert. The policy is safe for
// concurrent use.
func HostPolicy(hosts []string) (func(ctx context.Context, host string) error, error) {
	var errs []error
	allowed := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		n, ok := normalizeHost(h)
		if !ok || !validDNSName(n) {
			errs = append(errs, fmt.Errorf("tlsutil: ACME host %q is not a DNS name", h))
			continue
		}
		allowed[n] = true
	}
	if len(hosts) == 0 {
		errs = append(errs, errors.New("tlsutil: the ACME host policy needs at least one host"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return func(_ context.Context, host string) error {
		if n, ok := normalizeHost(host); ok && allowed[n] {
			return nil
		}
		return ErrHostPolicy
	}, nil
}
