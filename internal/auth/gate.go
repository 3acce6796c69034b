package auth

import "context"

// FailureGate limits the failed authentications of one client where the key arrives
// after the HTTP request was let through: a GraphQL WebSocket sends its key in
// connection_init, which the HTTP server never sees. The server puts the gate of the
// request's client address into the upgrade request's context (WithFailureGate); the
// code that authenticates the key later asks Allow before the key is looked up and tells
// Failed after a key did not authenticate, so such keys draw from the same per-address
// budget as keys in headers.
type FailureGate interface {
	// Allow reports whether the client may present a key now; when not, retryAfter is
	// how many seconds until it may.
	Allow(ctx context.Context) (retryAfter int, ok bool)
	// Failed records a key that did not authenticate; false once the client is over
	// its budget (retryAfter seconds).
	Failed(ctx context.Context) (retryAfter int, ok bool)
}

type gateKey struct{}

// WithFailureGate returns ctx carrying g (see FailureGate).
func WithFailureGate(ctx context.Context, g FailureGate) context.Context {
	return context.WithValue(ctx, gateKey{}, g)
}

// FailureGateOf returns the gate of ctx, if the server set one.
func FailureGateOf(ctx context.Context) (FailureGate, bool) {
	g, ok := ctx.Value(gateKey{}).(FailureGate)
	return g, ok
}
