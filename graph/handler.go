package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/ocrinvoice/ocrinvoice/graph/generated"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// Config of the GraphQL server. Zero values select the defaults.
type Config struct {
	// Introspection enables __schema and __type queries (GraphiQL needs it).
	Introspection bool
	// ComplexityLimit bounds the complexity of one operation. Default 1000.
	ComplexityLimit int
	// DepthLimit bounds how deeply fields may nest. Default 12.
	DepthLimit int
	// Logger receives internal errors. Default slog.Default().
	Logger *slog.Logger
}

// MaxRequestBytes bounds a GraphQL request body; a larger one is refused.
const MaxRequestBytes = 1 << 20

// Defaults of Config.
const (
	DefaultComplexityLimit = 1000
	DefaultDepthLimit      = 12
)

// mutationsThatEnqueue must not run inside the GraphQL transaction: they commit their
// row before they enqueue its task, which a transaction spanning the whole operation
// would defeat (the worker could look for a row not yet committed).
var mutationsThatEnqueue = []string{"createOcrInvoiceJob", "updateOcrInvoiceJob", "cancelOcrInvoiceJob", "retryOcrInvoiceJob"}

// NewSchema returns the executable schema over svc.
func NewSchema(svc *jobs.Service, log *slog.Logger) *handler.Server {
	if log == nil {
		log = slog.Default()
	}
	return handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{svc: svc, client: svc.Client(), log: log}}))
}

// NewHandler returns the GraphQL endpoint (GET and POST, application/json) over svc.
// Mutations run in one database transaction (entgql.Transactioner), except those that
// enqueue tasks, which are atomic on their own and enqueue after committing. Every
// error carries an extensions.code; internal errors are logged and shown as
// "internal error".
func NewHandler(svc *jobs.Service, cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ComplexityLimit <= 0 {
		cfg.ComplexityLimit = DefaultComplexityLimit
	}
	if cfg.DepthLimit <= 0 {
		cfg.DepthLimit = DefaultDepthLimit
	}
	srv := NewSchema(svc, cfg.Logger)
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	srv.Use(extension.FixedComplexityLimit(cfg.ComplexityLimit))
	srv.Use(depthLimit{Max: cfg.DepthLimit})
	srv.Use(transactioner{entgql.Transactioner{
		TxOpener:   svc.Client(),
		SkipTxFunc: entgql.SkipIfHasFields(mutationsThatEnqueue...),
	}})
	srv.AroundFields(classifyResolverErrors)
	srv.SetErrorPresenter(errorPresenter(cfg.Logger))
	srv.SetRecoverFunc(recoverFunc(cfg.Logger))
	return checkBody(srv)
}

// transactioner is entgql.Transactioner made safe for responses that have no operation
// (a body that is not JSON, for instance): entgql's reads the operation context
// unconditionally, which panics there.
type transactioner struct{ entgql.Transactioner }

func (t transactioner) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	return t.Transactioner.InterceptResponse(ctx, next)
}

// checkBody answers requests whose body is over MaxRequestBytes (413, code TOO_LARGE)
// or, for POST, not JSON (400, code BAD_REQUEST) itself, so that clients get a short,
// coded error instead of gqlgen's, which echoes the body back.
func checkBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeError(w, http.StatusRequestEntityTooLarge, "TOO_LARGE", fmt.Sprintf("request body is larger than %d bytes", MaxRequestBytes))
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "could not read the request body")
			return
		case strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") && !json.Valid(body):
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "the request body is not valid JSON")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": code}}},
	})
}
