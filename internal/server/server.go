// Package server composes the HTTP face of ocrinvoice: the GraphQL endpoint and its
// playground, the REST compatibility API and its OpenAPI document, Prometheus metrics,
// liveness and readiness probes, a request log and panic recovery, all on one
// http.Server with timeouts.
//
// Every request passes, outermost first, through: the request id and request log
// (observe), panic recovery, security and CORS headers (a CORS preflight is answered
// there), then the routes. Protected routes add the limit of failed authentications per
// client address, authentication, the per-key rate limit and, for uploads, the per-key
// upload concurrency limit (protect):
//
//	/graphql                 API key (a WebSocket upgrade without one passes: it authenticates in connection_init)
//	/api/v1/...              API key
//	Extra routes             API key of an admin, challenged with HTTP Basic so a browser prompts
//	/, /app/..., /playground, /openapi.json, /healthz, /readyz, /metrics   public (a key sent there is not checked)
//
// Every response carries X-Request-Id, the security headers (nosniff, DENY framing, no
// referrer, a Content-Security-Policy, no-store on API answers, HSTS over TLS) and
// Vary: Origin; error bodies written here take the shape of the surface and never
// carry a stack trace.
//
// The package knows HTTP, not the domain: internal/app builds the GraphQL and REST handlers
// (graph.NewHandler, rest.NewHandler) and the readiness checks and passes them in.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/playground"

	"github.com/ocrinvoice/ocrinvoice/internal/auth"
)

// HTTP server limits. WriteTimeout bounds ordinary responses; a streaming handler (GraphQL
// subscriptions over SSE or WebSocket) lifts it for its own response with
// http.NewResponseController(w).SetWriteDeadline(time.Time{}). Document uploads (REST
// POST /api/v1/uploads, GraphQL multipart requests) lift ReadTimeout and WriteTimeout the
// same way for their own request, to uploads.TransferTime; body size limits are per
// handler (1 MiB for JSON, the upload limit for uploads).
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = 2 * time.Minute // request bodies (uploads extend it for themselves)
	WriteTimeout      = 2 * time.Minute
	IdleTimeout       = 2 * time.Minute
	MaxHeaderBytes    = 1 << 20
	checkTimeout      = 2 * time.Second
)

// Check is one readiness dependency. Func returns nil when the dependency answers; it
// receives a context that expires after a couple of seconds.
type Check struct {
	Name string // reported in the /readyz body, e.g. "database", "redis"
	Func func(ctx context.Context) error
}

// Options configures a Server. Without GraphQL and REST handlers the server answers only
// /healthz, /readyz and /metrics (a worker's probe listener).
type Options struct {
	Addr   string       // listen address, host:port (port 0 picks a free port)
	Logger *slog.Logger // request log and lifecycle events; nil discards

	GraphQL http.Handler // served at /graphql, with GraphiQL at /playground and / redirecting there (without Web)
	// Web is the review app (package web): served at GET / and GET /app/..., public (the
	// page asks for an API key and sends it to the API itself). nil: / redirects to the
	// playground.
	Web  http.Handler
	REST http.Handler // serves the full paths /api/v1/... and /openapi.json
	// Extra routes mounted as given (pattern -> handler), e.g. a queue dashboard. With
	// Auth set they need an admin's key; without one they answer 401 with an HTTP Basic
	// challenge (the key is the password, the user name is ignored).
	Extra map[string]http.Handler

	// Auth authenticates the API key of a request to /graphql, /api/v1/... and the Extra
	// routes. nil turns authentication off: every request runs as auth.Local, without
	// rate limits.
	Auth auth.Authenticator

	// CORSOrigins are the web origins whose pages may call the API from a browser:
	// lowercase "scheme://host[:port]" values, or "*" for any. Empty (the default): CORS
	// is closed, no CORS header is sent and preflights are refused with 403.
	CORSOrigins []string

	// RateLimit is the requests per second allowed to one API key (0: no limit), with
	// bursts of RateBurst requests (0: the rate rounded up, at least 1). A key's own
	// Principal.RateLimit, when positive, replaces RateLimit. Over the limit: 429
	// RATE_LIMITED with Retry-After.
	RateLimit float64
	RateBurst int
	// RateLimiter, when set, decides RateLimit for all replicas together (e.g.
	// ratelimit.NewRedis on the shared Redis): a key gets its rate once in total instead
	// of once per replica. Each decision is bounded by half a second; when it fails (Redis
	// down), that request and those of the next second are limited by this process's own
	// buckets instead, as without a RateLimiter (so a key may get up to replicas x its
	// rate until Redis is back), and a warning is logged at most once a minute. nil: each
	// process limits on its own.
	RateLimiter RateLimiter
	// AuthFailureRate is the failed authentications (a key that does not authenticate:
	// unknown, revoked, malformed, a wrong secret) allowed per second from one client
	// address (0: no limit), with bursts of AuthFailureBurst (0: twice the rate rounded
	// up). Beyond it every request of the address that brings a key is answered 429
	// RATE_LIMITED with Retry-After, before the key is looked up, until Retry-After has
	// passed; requests of other addresses are not affected. Failures are counted by
	// RateLimiter when set (so the replicas share one budget per address; with its
	// fallback while it fails), else in process. The client address is the connection's
	// peer, or what X-Forwarded-For says when the peer is in TrustedProxies; an IPv6
	// client is counted by its /64.
	AuthFailureRate  float64
	AuthFailureBurst int
	// AnonymousRate is the requests per second allowed from one client address that
	// carry no API key (0: no limit), with bursts of AnonymousBurst (0: twice the rate
	// rounded up): requests to a protected route without a key (answered 401, or a
	// GraphQL WebSocket upgrade that authenticates later), every API request when Auth is
	// nil (no authentication: there is no key to limit), and the public pages
	// (/playground, /openapi.json). Probes and /metrics are not limited. Beyond it: 429
	// RATE_LIMITED with Retry-After. Counted like AuthFailureRate (RateLimiter when set,
	// per client address).
	AnonymousRate  float64
	AnonymousBurst int
	// TrustedProxies are the networks of the reverse proxies in front of the server,
	// whose X-Forwarded-For is believed (see AuthFailureRate, AnonymousRate). Empty (the default): the
	// header is ignored and the client address is the connection's peer.
	TrustedProxies []netip.Prefix
	// UploadConcurrency is the number of uploads (POST /api/v1/uploads, multipart POST
	// /graphql) one API key may have in flight (0: no limit); Principal.UploadConcurrency,
	// when positive, replaces it. Beyond: 429 RATE_LIMITED with Retry-After: 1. It is
	// counted by UploadLeases when set, else in each process (with N replicas a key may
	// then have up to N x UploadConcurrency uploads in flight).
	UploadConcurrency int
	// UploadLeases, when set, counts UploadConcurrency for all replicas together (e.g.
	// ratelimit.NewLeases on the shared Redis): each upload holds a lease renewed while
	// it streams, so the uploads of a replica that dies stop counting within 30 s. When
	// it fails (Redis down, slow past half a second) uploads are counted in process
	// instead, as for RateLimiter.
	UploadLeases UploadLeases
	// QueryTimeout is the deadline of each database statement of an API request
	// (database.WithStatementTimeout; 0: the database client's default). A statement
	// past it is cancelled and the request answered 503 UNAVAILABLE with Retry-After and
	// apperr.MsgQueryTimeout. WebSocket subscriptions, which authenticate after the
	// upgrade, keep the client's default.
	QueryTimeout time.Duration
	// QueryBudget is the database time, in seconds per second, one client may use (0:
	// no limit), with bursts of QueryBudgetBurst (0: ten seconds of the rate, at least
	// 1 s). A client is an API key, or a client address when authentication is off.
	// The time a request's statements spent is charged once it is answered; a client
	// whose budget is spent is answered 429 RATE_LIMITED with Retry-After until it has
	// refilled, while other clients go on. Separate from RateLimit (requests, not their
	// cost) and counted in each process: with N replicas a client may use up to N x
	// QueryBudget.
	QueryBudget      float64
	QueryBudgetBurst time.Duration

	Checks []Check // /readyz runs all of them; /healthz runs none

	// ShutdownTimeout bounds the drain of in-flight requests after the context given to
	// Serve is cancelled. Zero means 25 seconds.
	ShutdownTimeout time.Duration

	// OnShutdown runs once the server has stopped accepting connections, before it
	// drains the requests in flight: it should end long-lived responses (event streams,
	// WebSocket subscriptions), which would otherwise hold the drain until
	// ShutdownTimeout. It must not block for long.
	OnShutdown func()
}

// Server is the HTTP server. Use New, then Listen, then Serve.
type Server struct {
	opts    Options
	logger  *slog.Logger
	handler http.Handler
	metrics *metrics
	limits  *limiters
	budgets *queryBudgets
	cors    corsPolicy
	http    *http.Server
	ln      net.Listener
}

// New builds the server and its routes. It does no I/O. Errors: an invalid CORS origin,
// a negative or NaN rate limit (requests or failed authentications), a negative burst or
// upload concurrency.
func New(opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = 25 * time.Second
	}
	if r := opts.RateLimit; r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		return nil, fmt.Errorf("rate limit %v: want 0 (off) or a positive number of requests per second", r)
	}
	if opts.RateBurst < 0 || opts.UploadConcurrency < 0 {
		return nil, fmt.Errorf("rate burst %d, upload concurrency %d: want 0 or more", opts.RateBurst, opts.UploadConcurrency)
	}
	if r := opts.AuthFailureRate; r < 0 || math.IsNaN(r) || math.IsInf(r, 0) || opts.AuthFailureBurst < 0 {
		return nil, fmt.Errorf("failed authentication rate %v, burst %d: want 0 (off) or a positive rate and a burst of 0 or more", r, opts.AuthFailureBurst)
	}
	if r := opts.AnonymousRate; r < 0 || math.IsNaN(r) || math.IsInf(r, 0) || opts.AnonymousBurst < 0 {
		return nil, fmt.Errorf("anonymous request rate %v, burst %d: want 0 (off) or a positive rate and a burst of 0 or more", r, opts.AnonymousBurst)
	}
	if q := opts.QueryBudget; q < 0 || math.IsNaN(q) || math.IsInf(q, 0) || opts.QueryBudgetBurst < 0 || opts.QueryTimeout < 0 {
		return nil, fmt.Errorf("query budget %v, burst %v, timeout %v: want 0 (off) or positive values", q, opts.QueryBudgetBurst, opts.QueryTimeout)
	}
	cors, err := newCORSPolicy(opts.CORSOrigins)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, logger: opts.Logger, metrics: newMetrics(), cors: cors}
	s.limits = newLimiters(time.Now, s.metrics)
	s.budgets = newQueryBudgets(time.Now)
	s.limits.shared, s.limits.leases, s.limits.logger = opts.RateLimiter, opts.UploadLeases, opts.Logger
	mux := http.NewServeMux()
	if opts.GraphQL != nil {
		mux.Handle("/graphql", s.protect(surfaceGraphQL, opts.GraphQL))
		pg, err := playground.New("/graphql")
		if err != nil {
			return nil, err
		}
		mux.Handle("GET /playground", s.anonymous(pg.Page()))
		mux.Handle("GET "+playground.AssetPrefix+"{name}", s.anonymous(pg.Assets()))
		if opts.Web == nil {
			mux.Handle("GET /{$}", s.anonymous(http.RedirectHandler("/playground", http.StatusFound)))
		}
	}
	if opts.Web != nil {
		mux.Handle("GET /{$}", s.anonymous(opts.Web))
		mux.Handle("GET /app/", s.anonymous(opts.Web))
	}
	if opts.REST != nil {
		mux.Handle("/api/v1/", s.protect(surfaceREST, opts.REST))
		mux.Handle("/openapi.json", s.anonymous(opts.REST))
	}
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	for pattern, h := range opts.Extra {
		mux.Handle(pattern, s.protect(surfaceDashboard, dashboardCSP(h)))
	}
	s.handler = s.observe(s.recoverPanics(s.headers(mux)))
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(opts.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// Handler returns the complete handler (routes and middleware), for in-process tests.
func (s *Server) Handler() http.Handler { return s.handler }

// Listen binds the address. It is separate from Serve so that a bind error (port in use,
// bad address) surfaces before anything else starts.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.opts.Addr, err)
	}
	s.ln = ln
	return nil
}

// Addr returns the bound address; valid after Listen.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Serve answers requests until ctx is cancelled, then shuts down gracefully: it stops
// accepting connections, runs Options.OnShutdown, closes idle connections and waits for
// in-flight requests, at most
// ShutdownTimeout, after which remaining connections are closed. It returns nil after a
// clean shutdown, or the error that stopped the server. Listen must have succeeded.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		return errors.New("serve HTTP: Listen was not called")
	}
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	s.logger.Info("HTTP server listening", slog.String("addr", s.ln.Addr().String()))

	select {
	case err := <-errc:
		return fmt.Errorf("serve HTTP: %w", err)
	case <-ctx.Done():
	}
	s.logger.Info("HTTP server shutting down", slog.Duration("timeout", s.opts.ShutdownTimeout))
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	// Shutdown closes the listeners first, then calls OnShutdown (in its own goroutine),
	// then waits for the connections to go idle.
	if s.opts.OnShutdown != nil {
		s.http.RegisterOnShutdown(s.opts.OnShutdown)
	}
	err := s.http.Shutdown(sctx)
	if err != nil {
		// Drain took too long: cut the remaining connections rather than hang.
		_ = s.http.Close()
		err = fmt.Errorf("drain HTTP requests: %w", err)
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = fmt.Errorf("serve HTTP: %w", serr)
	}
	s.logger.Info("HTTP server stopped")
	return err
}

// Close releases the listener of a server that was bound but will not be served (start-up
// failed elsewhere). Serve's shutdown needs no Close.
func (s *Server) Close() error {
	if s.ln == nil {
		return nil
	}
	err := s.ln.Close()
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
