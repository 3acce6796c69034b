package graph

import (
	"context"
	"errors"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/reqid"
)

// Codes of errors that do not come from internal/jobs.
const (
	codeValidationFailed = "GRAPHQL_VALIDATION_FAILED"
	codeBadUserInput     = "BAD_USER_INPUT"
	codeInternal         = "INTERNAL"
)

// classifyResolverErrors is a field middleware that makes every error a resolver
// returns an *apperr.Error: pagination errors entgql reports as *gqlerror.Error are the
// client's (Invalid); anything else unexpected is Internal. Argument decoding happens
// before this middleware, so the presenter can tell those errors apart.
func classifyResolverErrors(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	if err == nil || apperr.As(err) != nil {
		return res, err
	}
	var gqlErr *gqlerror.Error
	if errors.As(err, &gqlErr) {
		return res, apperr.Invalid(gqlErr.Message)
	}
	return res, apperr.Internal(err)
}

// errorPresenter puts an extensions.code on every error and never shows internals:
//   - application errors: the code of their kind (BAD_USER_INPUT, NOT_FOUND, CONFLICT,
//     FAILED_PRECONDITION, INTERNAL, ...), their public message, and extensions.details
//     naming the offending fields;
//   - errors gqlgen made itself (parse, validation, complexity, depth): their code, or
//     GRAPHQL_VALIDATION_FAILED;
//   - any other error wraps an argument that could not be decoded: BAD_USER_INPUT.
//
// Every error carries extensions.requestId when the request has an id (reqid.From).
// Internal errors are logged in full.
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		withRequestID(ctx, gqlErr.Extensions)
		if ae := apperr.As(err); ae != nil {
			gqlErr.Message = ae.PublicMessage()
			gqlErr.Extensions["code"] = apperr.GraphQLCode(ae)
			if len(ae.Details) > 0 && ae.Kind != apperr.KindInternal {
				gqlErr.Extensions["details"] = ae.Details
			}
			if ae.Kind == apperr.KindInternal || ae.Kind == apperr.KindUnavailable {
				log.ErrorContext(ctx, "GraphQL request failed", slog.String("path", gqlErr.Path.String()), slog.String("error", ae.Error()))
			}
			return gqlErr
		}
		if gqlErr.Err == nil {
			if _, ok := gqlErr.Extensions["code"]; !ok {
				gqlErr.Extensions["code"] = codeValidationFailed
			}
			return gqlErr
		}
		gqlErr.Extensions["code"] = codeBadUserInput
		return gqlErr
	}
}

// withRequestID adds the request id of ctx, when it has one, to the extensions ext of
// an error, and returns ext.
func withRequestID(ctx context.Context, ext map[string]any) map[string]any {
	if id := reqid.From(ctx); id != "" {
		ext["requestId"] = id
	}
	return ext
}

// recoverFunc turns a panic in a resolver into an internal error, logged with its value.
func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "GraphQL resolver panicked", slog.Any("panic", p))
		return apperr.Internal(errors.New("resolver panicked"))
	}
}
