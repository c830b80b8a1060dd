package encode

import (
	"context"
	"net/http"
)

type requestIDKey struct{}

type nonceKey struct{}

// NewRequestIDContext returns a copy of ctx that carries the request id.
func NewRequestIDContext(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDFromContext returns the request id stored by [RequestID], and whether there was one.
func RequestIDFromContext(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(requestIDKey{}).(string)
	return id, ok && id != ""
}

// NewNonceContext returns a copy of ctx that carries a CSP nonce.
func NewNonceContext(ctx context.Context, nonce string) context.Context {
	return context.WithValue(ctx, nonceKey{}, nonce)
}

// NonceFromContext returns the Content-Security-Policy nonce of this response, stored by
// [Headers] in the document profile, and whether there was one. Put it in the nonce attribute
// of every script and style element the page itself writes:
//
//	<script nonce="{{.Nonce}}" src="/app.js"></script>
func NonceFromContext(ctx context.Context) (string, bool) {
	n, ok := ctx.Value(nonceKey{}).(string)
	return n, ok && n != ""
}

func contextOf(r *http.Request) context.Context {
	if r == nil {
		return context.Background()
	}
	return r.Context()
}
