package graph

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/reqid"
)

// wsKeyKey carries, in the context of a GraphQL WebSocket, the credential it was
// authenticated with (a wsCredential), so that every operation of the connection can
// check it again (see keyRevocation).
type wsKeyKey struct{}

// wsCredential is how a WebSocket connection was authenticated: key is the API key of
// its connection_init payload; fromHeader says the server authenticated the upgrade
// request instead, whose key is read again from the operation's headers (gqlgen passes
// the upgrade request's headers to every operation of the connection).
type wsCredential struct {
	key        string
	fromHeader bool
}

func withWSKey(ctx context.Context, c wsCredential) context.Context {
	return context.WithValue(ctx, wsKeyKey{}, c)
}

// operationKey returns the API key to check again for the operation of ctx, or "" when
// there is none (authentication off, no key, or a query or mutation over HTTP, which
// the server authenticated for this request only): the key of the connection_init
// payload of its WebSocket; or, for every operation of a WebSocket whose upgrade the
// server authenticated and for a subscription over another transport (SSE), the key of
// the request's headers, when it is the key of the context's principal.
func operationKey(ctx context.Context) string {
	c, ws := ctx.Value(wsKeyKey{}).(wsCredential)
	if ws && !c.fromHeader {
		return c.key
	}
	if !graphql.HasOperationContext(ctx) {
		return ""
	}
	oc := graphql.GetOperationContext(ctx)
	if !ws && (oc.Operation == nil || oc.Operation.Operation != ast.Subscription) {
		return ""
	}
	p, ok := auth.FromContext(ctx)
	if !ok || p.KeyID == "" || oc.Headers == nil {
		return ""
	}
	key := auth.TokenFromRequest(&http.Request{Header: oc.Headers})
	if id, _, err := auth.ParseKey(key); err != nil || id != p.KeyID {
		return ""
	}
	return key
}

// Messages of an operation refused because its connection's key no longer works.
const (
	msgKeyRevoked    = "the API key was revoked"
	msgCannotRecheck = "cannot check the API key now; try again"
)

// revocationState is per subscription: the key it checks, and whether the error that
// ends it, its key revoked, has been sent (gqlgen's WebSocket transport calls the response
// handler until it returns nil, so that error must be returned once, then nil).
type revocationState struct {
	key   string
	ended atomic.Bool
}

type revocationStateKey struct{}

// keyRevocation is the handler extension that makes revoking an API key reach the
// GraphQL WebSockets it authenticated (wsInit), which otherwise live on with the
// principal of their connection_init, and the subscriptions it opened over SSE, which
// the server authenticated once, when the request came:
//   - every operation a connection starts re-authenticates the key (apikeys.Store
//     answers from its cache, which Revoke clears at once in the revoking process and
//     which expires within apikeys.CacheTTL elsewhere); a key that no longer
//     authenticates refuses the operation with UNAUTHENTICATED "the API key was
//     revoked", one whose check fails (the database does not answer) with UNAVAILABLE;
//   - every event of a running subscription re-authenticates it too: a revoked key
//     replaces the event with that UNAUTHENTICATED error and ends the subscription
//     (complete). A check that fails lets the subscription go on (logged at debug): an
//     outage of the database does not cut every stream.
//
// An idle subscription learns of a revocation with its next event. Operations without a
// key to check (see operationKey: queries and mutations over HTTP, which the server
// authenticates per request; authentication off) are not touched.
type keyRevocation struct {
	authn auth.Authenticator
	log   *slog.Logger
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = keyRevocation{}

func (keyRevocation) ExtensionName() string                   { return "KeyRevocation" }
func (keyRevocation) Validate(graphql.ExecutableSchema) error { return nil }

func (k keyRevocation) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if k.authn == nil {
		return next(ctx)
	}
	key := operationKey(ctx)
	if key == "" {
		return next(ctx)
	}
	switch err := k.check(ctx, key); apperr.KindOf(err) {
	case "":
	case apperr.KindUnauthenticated:
		return graphql.OneShot(keyError(ctx, apperr.Unauthenticated(msgKeyRevoked)))
	default:
		k.log.DebugContext(ctx, "Could not check the API key of a GraphQL WebSocket", revocationAttrs(ctx, err)...)
		return graphql.OneShot(keyError(ctx, apperr.Unavailable(msgCannotRecheck, err)))
	}
	if op := graphql.GetOperationContext(ctx).Operation; op != nil && op.Operation == ast.Subscription {
		ctx = context.WithValue(ctx, revocationStateKey{}, &revocationState{key: key})
	}
	return next(ctx)
}

func (k keyRevocation) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	st, _ := ctx.Value(revocationStateKey{}).(*revocationState)
	if st == nil {
		return next(ctx)
	}
	if st.ended.Load() {
		return nil
	}
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	switch err := k.check(ctx, st.key); apperr.KindOf(err) {
	case "":
		return resp
	case apperr.KindUnauthenticated:
		st.ended.Store(true)
		k.log.DebugContext(ctx, "GraphQL subscription ended: its API key was revoked", revocationAttrs(ctx, nil)...)
		return keyError(ctx, apperr.Unauthenticated(msgKeyRevoked))
	default:
		k.log.DebugContext(ctx, "Could not check the API key of a GraphQL subscription; it goes on", revocationAttrs(ctx, err)...)
		return resp
	}
}

// check authenticates key again; a key that authenticates as another key than the
// context's principal (which cannot happen with apikeys.Store) counts as revoked.
func (k keyRevocation) check(ctx context.Context, key string) error {
	p, err := k.authn.Authenticate(ctx, key)
	if err != nil {
		return err
	}
	if cur, ok := auth.FromContext(ctx); !ok || cur.KeyID != p.KeyID {
		return apperr.Unauthenticated(msgKeyRevoked)
	}
	return nil
}

// keyError is the response of an operation refused (or a subscription ended) by
// keyRevocation.
func keyError(ctx context.Context, err *apperr.Error) *graphql.Response {
	return &graphql.Response{Errors: gqlerror.List{{
		Message:    err.PublicMessage(),
		Extensions: withRequestID(ctx, map[string]any{"code": apperr.GraphQLCode(err)}),
	}}}
}

func revocationAttrs(ctx context.Context, err error) []any {
	var a []any
	if p, ok := auth.FromContext(ctx); ok {
		a = append(a, slog.String("key_id", p.KeyID))
	}
	if id := reqid.From(ctx); id != "" {
		a = append(a, slog.String("request_id", id))
	}
	if err != nil {
		a = append(a, slog.Any("error", err))
	}
	return a
}
