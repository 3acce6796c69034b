package graph

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
)

// unavailableKey holds, in a request's context, the *atomic.Bool that
// markUnavailable sets when the answer is an outage (see unavailableStatus).
type unavailableKey struct{}

// markUnavailable is a response middleware: it records in the request's context that
// the response says only that a dependency is down: at least one error is UNAVAILABLE and
// there is no data (data null, or every field of it null). unavailableStatus then
// answers it with HTTP 503.
func markUnavailable(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	mark, _ := ctx.Value(unavailableKey{}).(*atomic.Bool)
	if mark != nil && resp != nil && outage(resp) {
		mark.Store(true)
	}
	return resp
}

// outage reports whether resp carries an UNAVAILABLE error and no data.
func outage(resp *graphql.Response) bool {
	unavailable := false
	for _, e := range resp.Errors {
		if code, _ := e.Extensions["code"].(string); code == string(apperr.KindUnavailable) {
			unavailable = true
			break
		}
	}
	if !unavailable {
		return false
	}
	if len(resp.Data) == 0 || string(resp.Data) == "null" {
		return true
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(resp.Data, &fields); err != nil {
		return false
	}
	for _, v := range fields {
		if string(v) != "null" {
			return false
		}
	}
	return true
}

// unavailableStatus answers with HTTP 503 and Retry-After (apperr.RetryAfterUnavailable)
// a GET or POST whose GraphQL response markUnavailable marked, instead of gqlgen's 200:
// a client that reads only the status learns of the outage from the first failing
// request. WebSocket and SSE requests, whose status is written before any operation
// runs, are passed through unchanged.
func unavailableStatus(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" || isSSE(r) {
			next.ServeHTTP(w, r)
			return
		}
		mark := new(atomic.Bool)
		next.ServeHTTP(&outageWriter{ResponseWriter: w, mark: mark},
			r.WithContext(context.WithValue(r.Context(), unavailableKey{}, mark)))
	})
}

// outageWriter turns the 200 of a response marked as an outage into a 503.
type outageWriter struct {
	http.ResponseWriter
	mark  *atomic.Bool
	wrote bool
}

func (w *outageWriter) WriteHeader(code int) {
	if !w.wrote && code == http.StatusOK && w.mark.Load() {
		code = http.StatusServiceUnavailable
		if w.Header().Get("Retry-After") == "" {
			w.Header().Set("Retry-After", strconv.Itoa(apperr.RetryAfterUnavailable))
		}
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *outageWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the server's writer (read and write
// deadlines, flushing).
func (w *outageWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// openTx is what transactioner opens a mutation's transaction with: the opener's error
// becomes an application error (an outage is UNAVAILABLE), recorded in *failed, where
// entgql would answer its text without a code.
func openTx(opener entgql.TxOpener, failed *error) entgql.TxOpener {
	return entgql.TxOpenerFunc(func(ctx context.Context) (context.Context, driver.Tx, error) {
		txCtx, tx, err := opener.OpenTx(ctx)
		if err != nil {
			*failed = apperr.Internal(fmt.Errorf("begin transaction: %w", err))
		}
		return txCtx, tx, err
	})
}

// txFailedResponse is the response to a mutation whose transaction could not be opened:
// err as presented by the error presenter (code, public message, request id). A
// response middleware always runs with a response context.
func txFailedResponse(ctx context.Context, err error) *graphql.Response {
	graphql.AddError(ctx, err)
	return &graphql.Response{Errors: graphql.GetErrors(ctx)}
}
