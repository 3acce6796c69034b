package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hibiken/asynqmon"

	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/config"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/ratelimit"
	"github.com/ocrinvoice/ocrinvoice/internal/rest"
	"github.com/ocrinvoice/ocrinvoice/internal/server"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// runServe runs the HTTP API (GraphQL, REST, probes, metrics) until ctx is cancelled.
// Start-up: data directory, Redis, database and migration, built-in templates, then the
// listener (so a bind error ends the command before it claims to serve).
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(config.CmdServe, args, getenv, stdout)
	if err != nil {
		if errors.Is(err, errHelpShown) {
			return nil
		}
		return err
	}
	logger := cfg.Logger(stderr)
	d, err := openDeps(ctx, cfg, logger)
	if err != nil {
		return err
	}
	// Shutdown order: the server stops accepting, ends live streams (OnShutdown) and
	// drains; then d.close releases the live Watcher, the progress Hub, the queue
	// client, the database and Redis, in that order.
	defer d.close()
	srv, err := listenAPI(ctx, d)
	if err != nil {
		return err
	}
	if cfg.Auth == "apikey" {
		if n, err := d.keys.CountActive(ctx, ""); err == nil && n == 0 {
			logger.Warn("No API key exists yet, so every API request will be refused (401): create the first with 'ocrinvoice apikey create --name admin --role admin'")
		}
	}
	return srv.Serve(ctx)
}

// listenAPI builds the HTTP server over d's service and binds its address. Serve it with
// srv.Serve(ctx); it shuts down when ctx is cancelled.
func listenAPI(ctx context.Context, d *deps) (*server.Server, error) {
	extra := map[string]http.Handler{}
	if d.cfg.QueueDashboard != "off" {
		dash := asynqmon.New(asynqmon.Options{
			RootPath:     monitorPath,
			RedisConnOpt: d.redisOpt,
			ReadOnly:     d.cfg.QueueDashboard != "on",
		})
		d.closers = append(d.closers, dash.Close) // closed before the queue's Redis goes
		extra[monitorPath+"/"] = dash
		extra[legacyMonitorPath+"/"] = redirectPrefix(legacyMonitorPath, monitorPath)
	}
	// Uploaded documents live under the data directory, where workers read them.
	store, err := uploads.New(d.cfg.UploadDir())
	if err != nil {
		return nil, err
	}
	watcher := startLive(ctx, d)
	// One budget per key across every API replica, in the queue's Redis: HTTP requests
	// (the server) and the operations of GraphQL WebSockets (graph) draw from it.
	rates := ratelimit.NewRedis(d.redis, "")
	srv, err := server.New(server.Options{
		Addr:   d.cfg.Addr,
		Logger: d.logger,
		GraphQL: graph.NewHandler(d.svc, graph.Config{
			Introspection:    d.cfg.GraphQLIntrospection,
			ComplexityLimit:  d.cfg.GraphQLComplexityLimit,
			DepthLimit:       d.cfg.GraphQLDepthLimit,
			Logger:           d.logger,
			Uploads:          store,
			UploadMaxBytes:   d.cfg.UploadMaxBytes,
			Live:             watcher,
			WebSocketOrigins: d.cfg.WebSocketOrigins,
			Authenticator:    authenticator(d),
			RequireAuth:      d.cfg.Auth == "apikey",
			APIKeys:          d.keys,
			OperationLimiter: operationLimiter(d, rates),
			MaxAliases:       graphMaxAliases(d.cfg.GraphQLMaxAliases),
			MaxFields:        d.cfg.GraphQLMaxFields,
			MaxQueryBytes:    d.cfg.GraphQLMaxQueryBytes,
			MaxNodes:         d.cfg.GraphQLMaxNodes,
			MaxResponseBytes: d.cfg.GraphQLMaxResponseSize,
			// Persisted queries are shared by every API replica through the queue's Redis.
			APQCache: graph.NewRedisAPQCache(d.redis, graph.APQCacheOptions{Logger: d.logger}),
		}),
		REST: rest.NewHandler(d.svc, d.logger, rest.WithUploads(store, d.cfg.UploadMaxBytes),
			rest.WithEvents(watcher), rest.WithAuthenticator(authenticator(d))),
		Checks:            readinessChecks(d),
		Extra:             extra,
		Auth:              authenticator(d),
		CORSOrigins:       d.cfg.CORSOrigins,
		RateLimit:         d.cfg.RateLimit,
		RateLimiter:       rates,
		RateBurst:         d.cfg.RateBurst,
		AuthFailureRate:   d.cfg.AuthFailureRate, // counted in rates too, per client address
		AuthFailureBurst:  d.cfg.AuthFailureBurst,
		AnonymousRate:     d.cfg.AnonymousRate, // also counted in rates, per client address
		AnonymousBurst:    d.cfg.AnonymousBurst,
		TrustedProxies:    d.cfg.TrustedProxies,
		UploadConcurrency: d.cfg.UploadConcurrency,
		UploadLeases:      ratelimit.NewLeases(d.redis, ""), // counted once across the replicas
		QueryTimeout:      d.cfg.DBStatementTimeout,
		QueryBudget:       d.cfg.QueryBudget,
		QueryBudgetBurst:  d.cfg.QueryBudgetBurst,
		ShutdownTimeout:   d.cfg.ShutdownTimeout,
		// Live streams would hold the drain until its timeout: end them first.
		OnShutdown: watcher.Close,
	})
	if err != nil {
		return nil, err
	}
	if err := srv.Listen(); err != nil {
		return nil, err
	}
	addr := srv.Addr().String()
	monitor := "off"
	if d.cfg.QueueDashboard != "off" {
		monitor = "http://" + addr + monitorPath + "/ (" + d.cfg.QueueDashboard + ")"
	}
	d.logger.Info("API ready",
		slog.String("graphql", "http://"+addr+"/graphql"),
		slog.String("playground", "http://"+addr+"/playground"),
		slog.String("rest", "http://"+addr+"/api/v1/ocr-invoice-jobs"),
		slog.String("monitor", monitor))
	listenHook(ctx)(addr)
	return srv, nil
}

// authenticator is what the HTTP server checks keys with: the key store, or nil (every
// request a local admin) when OCRINVOICE_AUTH=none.
func authenticator(d *deps) auth.Authenticator {
	if d.cfg.Auth == "none" {
		return nil
	}
	return d.keys
}

// operationLimiter counts the operations of GraphQL WebSockets against their key's
// request rate (OCRINVOICE_RATE_LIMIT and _BURST, or the key's own), in the same Redis
// budget as its HTTP requests. Without a rate it limits nothing; when Redis does not
// answer, the operation is let through (the HTTP side falls back to a local bucket;
// a WebSocket's operations are not worth refusing over Redis being down).
func operationLimiter(d *deps, rates *ratelimit.Redis) graph.OperationLimiter {
	return func(ctx context.Context, p auth.Principal) (bool, time.Duration) {
		rps := d.cfg.RateLimit
		if p.RateLimit > 0 {
			rps = p.RateLimit
		}
		if rps <= 0 {
			return true, 0
		}
		ok, retry, err := rates.Allow(ctx, p.KeyID, rps, max(1, d.cfg.RateBurst))
		if err != nil {
			d.logger.DebugContext(ctx, "Cannot rate-limit a WebSocket operation", slog.String("key_id", p.KeyID), slog.Any("error", err))
			return true, 0
		}
		return ok, retry
	}
}

// graphMaxAliases maps OCRINVOICE_GRAPHQL_MAX_ALIASES (0: no alias allowed) to
// graph.Config.MaxAliases (0: the default, negative: none).
func graphMaxAliases(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// hubReadyWait bounds how long the API waits for its progress subscription before it
// starts serving anyway (Redis may come later; the Hub keeps trying).
const hubReadyWait = 5 * time.Second

// startLive starts the process's one progress Hub on the queue's Redis and the Watcher
// that serves live streams over it, and registers their shutdown with d: on shutdown the
// server's OnShutdown closes the Watcher first (every stream ends, WebSockets close), then
// the HTTP server drains, then d.close closes the Watcher (again, a no-op), the Hub, and
// the rest of d in its order. It waits up to hubReadyWait for the Hub's subscription, so
// that a subscriber of the API's first moments gets its events.
func startLive(ctx context.Context, d *deps) *live.Watcher {
	hub := progress.NewHub(d.redis, progress.HubOptions{Logger: d.logger})
	d.closers = append(d.closers, hub.Close) // before the queue's Redis goes
	select {
	case <-hub.Ready():
	case <-time.After(hubReadyWait):
		d.logger.Warn("Progress events subscription not confirmed yet; live streams start when Redis answers")
	case <-ctx.Done():
	}
	// The per-key count of live streams is shared by every API replica through the
	// queue's Redis.
	w := live.New(d.svc, hub, live.Options{
		Logger:        d.logger,
		PerConnection: streamCap(d.cfg.SubscriptionsPerConnection),
		PerKey:        streamCap(d.cfg.SubscriptionsPerKey),
		Redis:         d.redis,
	})
	d.closers = append(d.closers, func() error { w.Close(); return nil }) // before the Hub
	return w
}

// streamCap maps OCRINVOICE_SUBSCRIPTIONS_PER_CONNECTION and _PER_KEY (0: no limit) to
// live.Options.PerConnection and PerKey (0: the default, negative: no cap).
func streamCap(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// The queue dashboard lives at monitorPath; legacyMonitorPath, where it used to be,
// redirects there so that old links keep working.
const (
	monitorPath       = "/monitor"
	legacyMonitorPath = "/queues"
)

// redirectPrefix answers requests under from with a permanent redirect to the same path
// (and query) under to.
func redirectPrefix(from, to string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := to + strings.TrimPrefix(r.URL.Path, from)
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
	})
}

// readinessChecks are what /readyz asks: the database and the queue's Redis answer.
func readinessChecks(d *deps) []server.Check {
	return []server.Check{
		{Name: "database", Func: func(ctx context.Context) error { return database.Ping(ctx, d.db) }},
		{Name: "redis", Func: func(ctx context.Context) error { return d.redis.Ping(ctx).Err() }},
	}
}
