package graph

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
)

// OperationLimiter decides whether principal p may start one more operation now, and
// if not, how long until it may. Config.OperationLimiter applies it to the operations of
// GraphQL WebSockets, which the server's per-request limit sees only once, at the
// upgrade.
type OperationLimiter func(ctx context.Context, p auth.Principal) (ok bool, retryAfter time.Duration)

// wsRateLimit counts every operation of a WebSocket connection against its key's
// request rate (the HTTP server counts each HTTP request itself). An operation over the
// rate is refused with RATE_LIMITED and extensions.retryAfter (whole seconds).
type wsRateLimit struct{ allow OperationLimiter }

var _ graphql.OperationInterceptor = wsRateLimit{}

func (wsRateLimit) ExtensionName() string { return "WebSocketRateLimit" }

func (wsRateLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (l wsRateLimit) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if l.allow == nil {
		return next(ctx)
	}
	if _, ws := ctx.Value(wsKeyKey{}).(wsCredential); !ws {
		return next(ctx)
	}
	p, ok := auth.FromContext(ctx)
	if !ok || p.KeyID == "" {
		return next(ctx)
	}
	if ok, retry := l.allow(ctx, p); !ok {
		secs := max(1, int(math.Ceil(retry.Seconds())))
		resp := keyError(ctx, apperr.RateLimited(fmt.Sprintf("rate limit exceeded; retry in %d s", secs)))
		resp.Errors[0].Extensions["retryAfter"] = secs
		return graphql.OneShot(resp)
	}
	return next(ctx)
}
