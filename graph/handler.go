package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/ocrinvoice/ocrinvoice/graph/generated"
	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// Config of the GraphQL server. Zero values select the defaults.
type Config struct {
	// Introspection enables __schema and __type queries (GraphiQL needs it). Off, they
	// are refused with INTROSPECTION_DISABLED, and validation errors suggest no names
	// ("Did you mean ...?"), which would reveal the schema piece by piece.
	Introspection bool
	// ComplexityLimit bounds the estimated cost of one operation: the fields it
	// resolves, each counted once per object it is resolved on, pages counted at their
	// first or last (else the default page size) and nodes(ids:) at its number of ids
	// (see costLimit). Default DefaultComplexityLimit.
	ComplexityLimit int
	// MaxNodes bounds the estimated number of objects one operation returns, counted
	// the same way (a page of 100 jobs with their templates is about 300). Default
	// DefaultMaxNodes.
	MaxNodes int
	// MaxResponseBytes bounds the data of one answer (of one subscription event): over
	// it, the data is dropped and the answer is RESPONSE_TOO_LARGE. Default
	// DefaultMaxResponseBytes.
	MaxResponseBytes int
	// DepthLimit bounds how deeply fields may nest. Default 12.
	DepthLimit int
	// Logger receives internal errors. Default slog.Default().
	Logger *slog.Logger
	// Uploads stores documents sent to the uploadDocument mutation; nil makes it answer
	// UNAVAILABLE.
	Uploads *uploads.Store
	// UploadMaxBytes bounds one uploaded document. Default uploads.DefaultMaxBytes.
	UploadMaxBytes int64
	// Live serves the subscriptions; nil makes them answer UNAVAILABLE. When it closes,
	// every subscription ends and WebSocket connections are closed. It caps the
	// subscriptions open at once: per WebSocket connection (live.Options.PerConnection)
	// and per API key, over every transport (live.Options.PerKey); a subscription over a
	// cap is refused with RATE_LIMITED and extensions.details[0].field naming the cap
	// (live.CapPerConnection, live.CapPerKey), and the connection stays usable.
	Live *live.Watcher
	// WebSocketOrigins are host patterns (path.Match syntax, e.g. "app.example.com" or
	// "*.example.com") of the web origins whose pages may open a GraphQL WebSocket.
	// A same-origin page and a client that sends no Origin (not a browser) may always;
	// every other origin is refused (403), so a cross-site page cannot subscribe with
	// the user's cookies.
	WebSocketOrigins []string
	// KeepAlive is how often an idle subscription is pinged: a "ka" message over
	// graphql-ws, a ping over graphql-transport-ws (a peer that answers no pong for two
	// intervals is disconnected), a comment over SSE. Default DefaultKeepAlive.
	KeepAlive time.Duration
	// InitTimeout is how long a WebSocket may stay open without connection_init.
	// Default DefaultInitTimeout.
	InitTimeout time.Duration

	// Authenticator checks the API key a WebSocket sends in its connection_init payload
	// when the upgrade request carried no principal (see wsInit). nil: authentication is
	// off, and such a connection runs as auth.Local. POST, GET and SSE requests are
	// authenticated by the server's middleware, which puts the principal in the request
	// context; an operation whose context has none is refused (UNAUTHENTICATED). It also
	// checks again, for every operation of a WebSocket and every event of a subscription,
	// the key they were authenticated with, so that a revoked key stops them (see
	// keyRevocation); it should be the server's authenticator.
	Authenticator auth.Authenticator
	// RequireAuth refuses a WebSocket whose upgrade carried no principal and whose
	// connection_init has no key (with an Authenticator). Without it such a connection
	// runs as auth.Local. A bad key is refused either way.
	RequireAuth bool
	// OperationLimiter, when set, is asked before every operation of a WebSocket
	// connection authenticated with a key (HTTP requests are limited by the server); an
	// operation it refuses is RATE_LIMITED with extensions.retryAfter.
	OperationLimiter OperationLimiter
	// APIKeys backs the apiKeys query and the createApiKey / revokeApiKey mutations
	// (admin only); nil makes them answer UNAVAILABLE.
	APIKeys *apikeys.Store
	// MaxAliases bounds the aliases of one operation, fragments counted where they are
	// spread. Default DefaultMaxAliases; negative: no alias is allowed.
	MaxAliases int
	// MaxFields bounds the field selections of one operation, fragments counted where
	// they are spread. Default DefaultMaxFields.
	MaxFields int
	// MaxQueryBytes bounds the length of the query text, also of one that an automatic
	// persisted query's hash resolves to. Default DefaultMaxQueryBytes.
	MaxQueryBytes int
	// APQCache stores automatic persisted queries (see NewRedisAPQCache, shared by
	// every replica). nil: an in-memory LRU of this process.
	APQCache graphql.Cache[string]
}

// MaxRequestBytes bounds a GraphQL request body; a larger one is refused. A multipart
// request (a file upload) may be larger: up to Config.UploadMaxBytes plus
// MaxRequestBytes for the operation, the map and the multipart framing.
const MaxRequestBytes = 1 << 20

// uploadMemoryBytes is how much of a multipart request gqlgen keeps in memory; larger
// files go through a temporary file.
const uploadMemoryBytes = 4 << 20

// Defaults of Config. DefaultComplexityLimit lets a page of 100 jobs select every field
// of the job and of the objects it holds, its template's and group's too (a cost of
// about 19,200 since the job's fields, corrections and review status), but not two such
// pages in one operation. The cost of a page grows with
// its size: 1000, gqlgen's figure for a count that ignored page sizes, would refuse a
// page of 100 jobs with 10 fields.
const (
	DefaultComplexityLimit = 20_000
	DefaultDepthLimit      = 12
	DefaultKeepAlive       = 15 * time.Second
	DefaultInitTimeout     = 10 * time.Second
	DefaultMaxAliases      = 30
	DefaultMaxFields       = 500
	DefaultMaxQueryBytes   = 32768
)

// DefaultMaxNodes is the default of Config.MaxNodes: 49 pages of 100 jobs (201 objects
// each: the connection, its edges and their nodes), or 4 pages of 100 jobs with every
// object they hold (about 2,300 each). DefaultMaxResponseBytes is the default of
// Config.MaxResponseBytes.
const (
	DefaultMaxNodes         = 10_000
	DefaultMaxResponseBytes = 8 << 20
)

// mutationsThatEnqueue must not run inside the GraphQL transaction: they commit their
// row before they enqueue its task, which a transaction spanning the whole operation
// would defeat (the worker could look for a row not yet committed).
var mutationsThatEnqueue = []string{"createOcrInvoiceJob", "updateOcrInvoiceJob", "cancelOcrInvoiceJob", "retryOcrInvoiceJob"}

// mutationsWithoutRows write no row through the transaction: uploadDocument writes the
// document to disk and then its owner's row through the service's own client (a
// transaction would hold a connection, and SQLite's write lock, all the while).
var mutationsWithoutRows = []string{"uploadDocument"}

// mutationsOnKeys write one row through apikeys.Store, whose client is not the
// transaction's: inside a transaction they would wait for its lock (SQLite).
var mutationsOnKeys = []string{"createApiKey", "revokeApiKey"}

// mutationsThatNotify commit on their own (a batch in one transaction of its own) and
// then tell the runner through a group event, which must not arrive before the commit.
var mutationsThatNotify = []string{"createOcrJobGroup", "suspendOcrJobGroup", "resumeOcrJobGroup", "cancelOcrJobGroup", "retryFailedOcrJobGroup"}

// mutationsThatReview commit their row on their own (one UPDATE conditional on the job's
// data version) and then publish the change and enqueue its webhook, which must not
// arrive before the commit.
var mutationsThatReview = []string{"correctOcrInvoiceJob", "approveOcrInvoiceJob"}

// multipartMutations are what a multipart request may run. A multipart/form-data POST is
// a "simple" request that any web page can make a browser send cross-site without a
// CORS preflight; limiting it to uploads keeps every other mutation behind the JSON
// content type, which needs one.
var multipartMutations = []string{"uploadDocument"}

// NewSchema returns the executable schema over svc, with uploadDocument storing into
// cfg.Uploads, subscriptions served by cfg.Live and API keys managed in cfg.APIKeys (only
// cfg's Logger, Uploads, UploadMaxBytes, Live and APIKeys are read). It has no
// transport, limit or operation policy: NewHandler adds those.
func NewSchema(svc *jobs.Service, cfg Config) *handler.Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.UploadMaxBytes <= 0 {
		cfg.UploadMaxBytes = uploads.DefaultMaxBytes
	}
	return handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: &Resolver{
		svc: svc, log: cfg.Logger, uploads: cfg.Uploads, uploadMax: cfg.UploadMaxBytes,
		live: cfg.Live, apiKeys: cfg.APIKeys,
	}, Directives: generated.DirectiveRoot{AliasOf: aliasOf}}))
}

// NewHandler returns the GraphQL endpoint over svc: GET and POST (application/json, and
// multipart/form-data for uploadDocument, per the GraphQL multipart request spec);
// subscriptions over WebSocket (graphql-transport-ws, and graphql-ws for older clients)
// and over Server-Sent Events (a JSON POST with Accept: text/event-stream), both exempt
// from the server's read and write timeouts. Mutations run in one database transaction
// (entgql.Transactioner), except those that enqueue tasks, which are atomic on their own
// and enqueue after committing, and uploadDocument, which writes its one row itself. Every error
// carries an extensions.code (and extensions.requestId when the request has an id);
// internal errors are logged and shown as "internal error". A GET or POST answered only
// with errors, one of them UNAVAILABLE (the database or Redis is down), is HTTP 503 with
// Retry-After.
//
// Every operation is checked against the operation policy (operationPolicy: the least
// role of each root field) with the principal of its context; a WebSocket gets its
// principal from the upgrade request or from its connection_init (cfg.Authenticator).
// Operations are bounded by depth, aliases, fields, query length, and by their estimated
// cost and number of objects, list sizes counted (costLimit); answers by their size
// (responseSizeLimit). The query text may be sent as an automatic persisted query
// (cfg.APQCache).
func NewHandler(svc *jobs.Service, cfg Config) http.Handler {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ComplexityLimit <= 0 {
		cfg.ComplexityLimit = DefaultComplexityLimit
	}
	if cfg.MaxNodes <= 0 {
		cfg.MaxNodes = DefaultMaxNodes
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if cfg.DepthLimit <= 0 {
		cfg.DepthLimit = DefaultDepthLimit
	}
	if cfg.UploadMaxBytes <= 0 {
		cfg.UploadMaxBytes = uploads.DefaultMaxBytes
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = DefaultKeepAlive
	}
	if cfg.InitTimeout <= 0 {
		cfg.InitTimeout = DefaultInitTimeout
	}
	if cfg.MaxAliases == 0 {
		cfg.MaxAliases = DefaultMaxAliases
	}
	if cfg.MaxFields <= 0 {
		cfg.MaxFields = DefaultMaxFields
	}
	if cfg.MaxQueryBytes <= 0 {
		cfg.MaxQueryBytes = DefaultMaxQueryBytes
	}
	if cfg.APQCache == nil {
		cfg.APQCache = lru.New[string](1000)
	}
	maxMultipart := cfg.UploadMaxBytes + MaxRequestBytes
	srv := NewSchema(svc, cfg)
	// gqlgen serves a request with the first transport that supports it: WebSocket takes
	// upgrades only; SSE must come before POST, which would take its JSON POST too.
	srv.AddTransport(transport.Websocket{
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{
			OriginPatterns: cfg.WebSocketOrigins,
		}},
		KeepAlivePingInterval: cfg.KeepAlive,
		PingPongInterval:      cfg.KeepAlive,
		InitTimeout:           cfg.InitTimeout,
		InitFunc:              wsInit(cfg.Authenticator, cfg.RequireAuth, cfg.Logger),
		ErrorFunc: func(ctx context.Context, err error) {
			cfg.Logger.DebugContext(ctx, "GraphQL WebSocket error", slog.Any("error", err))
		},
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.SSE{KeepAlivePingInterval: cfg.KeepAlive})
	srv.AddTransport(transport.POST{})
	srv.AddTransport(transport.MultipartForm{MaxUploadSize: maxMultipart, MaxMemory: uploadMemoryBytes})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	// Outermost: it must see the final response, also one that the transactioner makes.
	srv.AroundResponses(markUnavailable)
	// Extensions run in the order they are added: the query text is bounded before and
	// after persisted queries resolve it; the operation policy comes before any limit
	// so that a caller without the role learns nothing more about the operation.
	if cfg.Introspection {
		srv.Use(extension.Introspection{})
	} else {
		srv.SetDisableSuggestion(true)
		srv.SetValidationRulesFn(rulesWithoutSuggestions)
	}
	srv.Use(persistedQueries{apq: extension.AutomaticPersistedQuery{Cache: cfg.APQCache}, maxBytes: cfg.MaxQueryBytes})
	srv.Use(authorize{})
	if !cfg.Introspection {
		srv.Use(noIntrospection{})
	}
	srv.Use(keyRevocation{authn: cfg.Authenticator, log: cfg.Logger})
	srv.Use(wsRateLimit{allow: cfg.OperationLimiter})
	// The selection limits stop counting at their bound; the depth and cost walks
	// expand every fragment, which a document of fragments spreading fragments makes
	// exponential. So they run only on what the selection limits have let through.
	srv.Use(selectionLimits{MaxAliases: cfg.MaxAliases, MaxFields: cfg.MaxFields})
	srv.Use(depthLimit{Max: cfg.DepthLimit})
	srv.Use(costLimit{MaxCost: cfg.ComplexityLimit, MaxNodes: cfg.MaxNodes, DefaultPage: jobs.DefaultLimit})
	srv.Use(transactioner{entgql.Transactioner{
		TxOpener:   svc,
		SkipTxFunc: entgql.SkipIfHasFields(slices.Concat(mutationsThatEnqueue, mutationsWithoutRows, mutationsThatNotify, mutationsOnKeys, mutationsThatReview)...),
	}})
	// Inside the transaction: a mutation whose answer is too large is rolled back.
	srv.Use(responseSizeLimit{max: cfg.MaxResponseBytes, log: cfg.Logger})
	srv.AroundOperations(onlyUploadsOverMultipart)
	srv.AroundFields(classifyResolverErrors)
	srv.SetErrorPresenter(errorPresenter(cfg.Logger))
	srv.SetRecoverFunc(recoverFunc(cfg.Logger))
	var closing <-chan struct{}
	if cfg.Live != nil {
		closing = cfg.Live.Done()
	}
	return streams(refuseSingleConnection(unavailableStatus(checkBody(batches(sseEventIDs(srv), cfg.OperationLimiter), maxMultipart))), closing)
}

// isSSE tells a request that gqlgen's SSE transport serves (the same test as its
// Supports).
func isSSE(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return r.Method == http.MethodPost && mt == "application/json" && strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// streams prepares long-lived requests: a WebSocket upgrade or an SSE request is exempt
// from the server's read and write deadlines (it lives as long as its subscriptions), and
// a WebSocket's context ends when closing is closed (the server shuts down), which makes
// gqlgen close the connection. A WebSocket's context is one live connection
// (live.WithConnection), whose subscriptions count together against the Watcher's cap
// per connection. The request body of an SSE request is still bounded by checkBody.
func streams(next http.Handler, closing <-chan struct{}) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws := r.Header.Get("Upgrade") != ""
		if !ws && !isSSE(r) {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		_ = rc.SetWriteDeadline(time.Time{})
		if ws {
			r = r.WithContext(live.WithConnection(r.Context()))
		}
		if ws && closing != nil {
			ctx, cancel := context.WithCancel(r.Context())
			defer cancel()
			go func() {
				select {
				case <-closing:
					cancel()
				case <-ctx.Done():
				}
			}()
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// multipartKey marks the context of a request that arrived as multipart/form-data.
type multipartKey struct{}

// onlyUploadsOverMultipart refuses a multipart request whose operation is anything but
// mutations in multipartMutations (see there why).
func onlyUploadsOverMultipart(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if ctx.Value(multipartKey{}) == nil {
		return next(ctx)
	}
	op := graphql.GetOperationContext(ctx).Operation
	ok := op != nil && op.Operation == ast.Mutation && len(op.SelectionSet) > 0
	if ok {
		for _, sel := range op.SelectionSet {
			f, isField := sel.(*ast.Field)
			ok = ok && isField && (slices.Contains(multipartMutations, f.Name) || f.Name == "__typename")
		}
	}
	if ok {
		return next(ctx)
	}
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
		Message:    "a multipart request may only run " + strings.Join(multipartMutations, ", ") + "; send other operations as application/json",
		Extensions: withRequestID(ctx, map[string]any{"code": "BAD_REQUEST"}),
	}}})
}

// transactioner is entgql.Transactioner made safe for responses that have no operation
// (a body that is not JSON, for instance): entgql's reads the operation context
// unconditionally, which panics there. A transaction that cannot be opened (the database
// is down) is answered as an application error (UNAVAILABLE for an outage), not with
// entgql's uncoded message, which would show the driver's error.
type transactioner struct{ entgql.Transactioner }

func (t transactioner) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	var failed error
	tr := t.Transactioner
	tr.TxOpener = openTx(tr.TxOpener, &failed)
	resp := tr.InterceptResponse(ctx, next)
	if failed != nil {
		return txFailedResponse(ctx, failed)
	}
	return resp
}

// checkBody answers requests whose body is over MaxRequestBytes (413, code TOO_LARGE)
// or, for POST, not JSON (400, code BAD_REQUEST) itself, so that clients get a short,
// coded error instead of gqlgen's, which echoes the body back. A multipart request
// (an upload) is streamed to gqlgen's multipart transport, which bounds it at
// maxMultipart; one that declares a larger body is refused here (413).
func checkBody(next http.Handler, maxMultipart int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
			if r.ContentLength > maxMultipart {
				writeError(w, r, http.StatusRequestEntityTooLarge, "TOO_LARGE", fmt.Sprintf("request body is larger than %d bytes", maxMultipart))
				return
			}
			// Lift the server's read and write timeouts for this request only, so that a
			// large document on a slow link is not cut off.
			rc := http.NewResponseController(w)
			deadline := time.Now().Add(uploads.TransferTime)
			_ = rc.SetReadDeadline(deadline)
			_ = rc.SetWriteDeadline(deadline)
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), multipartKey{}, true)))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeError(w, r, http.StatusRequestEntityTooLarge, "TOO_LARGE", fmt.Sprintf("request body is larger than %d bytes", MaxRequestBytes))
			return
		case err != nil:
			writeError(w, r, http.StatusBadRequest, "BAD_REQUEST", "could not read the request body")
			return
		case strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") && !json.Valid(body):
			writeError(w, r, http.StatusBadRequest, "BAD_REQUEST", "the request body is not valid JSON")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func writeError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": withRequestID(r.Context(), map[string]any{"code": code})}},
	})
}
