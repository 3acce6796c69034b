package graph

import (
	"context"
	"errors"
	"log/slog"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/reqid"
)

// WebSocket close codes of a refused connection_init (graphql-transport-ws uses 4403
// for "Forbidden"; graphql-ws clients read the connection_error message sent first).
const (
	wsCloseForbidden   = 4403
	wsCloseUnavailable = 1011 // internal error: the key could not be checked now
	wsCloseTooMany     = 4429 // too many failed authentications from this address
)

// Messages of a refused connection_init, short enough for a WebSocket close reason
// (123 bytes).
const (
	wsNeedKey    = "an API key is required: send {\"Authorization\": \"Bearer <key>\"} in connection_init"
	wsBadKey     = "invalid or revoked API key"
	wsCannotTell = "cannot check the API key now; try again"
	// A rate limit, as for keys in headers (429 RATE_LIMITED).
	wsTooManyFailures = "RATE_LIMITED: too many invalid API keys from this address; try again later"
)

// wsInit authenticates a GraphQL WebSocket when its connection_init arrives, and
// returns the context every operation of the connection runs with:
//   - an upgrade request that already carries a principal (the server authenticated its
//     Authorization header) keeps it; the payload is not read;
//   - without an authenticator (authentication off) the connection runs as auth.Local;
//   - otherwise the key of the payload (auth.TokenFromInitPayload) is authenticated and
//     its principal used; a bad key refuses the connection, and so does a missing one
//     when required (without required, a connection without a key runs as auth.Local).
//
// The key the connection was authenticated with (of the payload, or of the upgrade
// request's headers) stays in the context: keyRevocation checks it again for every
// operation and every subscription event, so that a revoked key stops working on open
// connections too.
//
// A refused connection gets a connection_error (graphql-ws) and is closed with 4403 and
// the reason (1011 when the key store does not answer).
func wsInit(authn auth.Authenticator, required bool, log *slog.Logger) transport.WebsocketInitFunc {
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		if _, ok := auth.FromContext(ctx); ok {
			if authn != nil {
				ctx = withWSKey(ctx, wsCredential{fromHeader: true})
			}
			return ctx, nil, nil
		}
		if authn == nil {
			return auth.WithPrincipal(ctx, auth.Local), nil, nil
		}
		key := auth.TokenFromInitPayload(payload)
		if key == "" {
			if !required {
				return auth.WithPrincipal(ctx, auth.Local), nil, nil
			}
			return refuseWS(ctx, log, wsCloseForbidden, wsNeedKey, nil)
		}
		// Keys sent here draw from the per-address budget of failed authentications
		// that the server applies to keys in headers (auth.FailureGate).
		gate, gated := auth.FailureGateOf(ctx)
		if gated {
			if _, ok := gate.Allow(ctx); !ok {
				return refuseWS(ctx, log, wsCloseTooMany, wsTooManyFailures, nil)
			}
		}
		p, err := authn.Authenticate(ctx, key)
		switch {
		case err == nil:
			return withWSKey(auth.WithPrincipal(ctx, p), wsCredential{key: key}), nil, nil
		case apperr.KindOf(err) == apperr.KindUnauthenticated:
			if gated {
				if _, ok := gate.Failed(ctx); !ok {
					return refuseWS(ctx, log, wsCloseTooMany, wsTooManyFailures, nil)
				}
			}
			return refuseWS(ctx, log, wsCloseForbidden, wsBadKey, nil)
		default:
			return refuseWS(ctx, log, wsCloseUnavailable, wsCannotTell, err)
		}
	}
}

func refuseWS(ctx context.Context, log *slog.Logger, code int, msg string, cause error) (context.Context, *transport.InitPayload, error) {
	attrs := []any{slog.String("reason", msg)}
	if id := reqid.From(ctx); id != "" {
		attrs = append(attrs, slog.String("request_id", id))
	}
	if cause != nil {
		log.WarnContext(ctx, "GraphQL WebSocket refused", append(attrs, slog.Any("error", cause))...)
	} else {
		log.DebugContext(ctx, "GraphQL WebSocket refused", attrs...)
	}
	ctx = transport.WithWebsocketCloseCode(ctx, code)
	ctx = transport.AppendCloseReason(ctx, msg)
	return ctx, nil, errors.New(msg)
}
