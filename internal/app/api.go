package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hibiken/asynqmon"

	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
	"github.com/ocrinvoice/ocrinvoice/internal/pages"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/ratelimit"
	"github.com/ocrinvoice/ocrinvoice/internal/rest"
	"github.com/ocrinvoice/ocrinvoice/internal/server"
	"github.com/ocrinvoice/ocrinvoice/web"
	"github.com/ocrinvoice/ocrinvoice/worker/fetch"
)

// The queue dashboard lives at monitorPath; legacyMonitorPath, where it used to be,
// redirects there so that old links keep working.
const (
	monitorPath       = "/monitor"
	legacyMonitorPath = "/queues"
)

// hubReadyWait bounds how long the API waits for its progress subscription before it
// starts serving anyway (Redis may come later; the Hub keeps trying).
const hubReadyWait = 5 * time.Second

// listenAPI builds the HTTP API over the service and binds its address; Run serves it.
// Shutdown order (Close, last registered first): the unserved listener, the live
// Watcher, the progress Hub, the queue dashboard, then the dependencies.
func (a *App) listenAPI(ctx context.Context) error {
	extra := a.dashboard()
	watcher := a.startLive(ctx)
	// One budget per key across every API replica, in the queue's Redis: HTTP requests
	// (the server) and the operations of GraphQL WebSockets (graph) draw from it.
	rates := ratelimit.NewRedis(a.redis, "")
	renderer, err := a.pageRenderer()
	if err != nil {
		return err
	}
	srv, err := server.New(a.serverOptions(watcher, rates, extra, renderer))
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	a.http = srv
	a.closers = append(a.closers, srv.Close)
	addr := srv.Addr().String()
	monitor := "off"
	if a.cfg.QueueDashboard != "off" {
		monitor = "http://" + addr + monitorPath + "/ (" + a.cfg.QueueDashboard + ")"
	}
	a.logger.Info("API ready",
		slog.String("graphql", "http://"+addr+"/graphql"),
		slog.String("playground", "http://"+addr+"/playground"),
		slog.String("rest", "http://"+addr+"/api/v1/ocr-invoice-jobs"),
		slog.String("monitor", monitor))
	a.listen(addr)
	return nil
}

// pageRenderer draws the pages of job documents for viewers (GET .../pages/{n}), cached
// under the data directory (config.PageCacheDir). Documents are read as the worker reads
// them: uploads from the upload store, URLs through the fetcher's address guard and
// allow-list; poppler runs under OCRINVOICE_OCR_MEMORY_LIMIT.
func (a *App) pageRenderer() (*pages.Renderer, error) {
	mem := a.cfg.OCRMemoryLimit
	if mem == 0 {
		mem = -1 // no limit
	}
	return pages.New(pages.Options{
		Dir:           a.cfg.PageCacheDir(),
		MaxCacheBytes: a.cfg.PageCacheBytes,
		Fetcher:       fetch.New(fetch.Options{Allow: a.cfg.FetchAllow, Uploads: a.uploads, MaxUploadBytes: a.cfg.UploadMaxBytes}),
		MemoryLimit:   mem,
		Logger:        a.logger.With(slog.String("component", "pages")),
	})
}

// serverOptions are the HTTP server's options: the GraphQL and REST handlers over the
// service, the readiness checks, the extra routes and every limit of the Config.
func (a *App) serverOptions(watcher *live.Watcher, rates *ratelimit.Redis, extra map[string]http.Handler, renderer *pages.Renderer) server.Options {
	cfg := a.cfg
	return server.Options{
		Addr:    cfg.Addr,
		Logger:  a.logger,
		GraphQL: graph.NewHandler(a.svc, a.graphConfig(watcher, rates)),
		REST: rest.NewHandler(a.svc, a.logger, rest.WithUploads(a.uploads, cfg.UploadMaxBytes),
			rest.WithEvents(watcher), rest.WithAuthenticator(a.authenticator()), rest.WithPages(renderer)),
		Web:               web.Handler(),
		Checks:            a.readinessChecks(),
		Extra:             extra,
		Auth:              a.authenticator(),
		CORSOrigins:       cfg.CORSOrigins,
		RateLimit:         cfg.RateLimit,
		RateLimiter:       rates,
		RateBurst:         cfg.RateBurst,
		AuthFailureRate:   cfg.AuthFailureRate, // counted in rates too, per client address
		AuthFailureBurst:  cfg.AuthFailureBurst,
		AnonymousRate:     cfg.AnonymousRate, // also counted in rates, per client address
		AnonymousBurst:    cfg.AnonymousBurst,
		TrustedProxies:    cfg.TrustedProxies,
		UploadConcurrency: cfg.UploadConcurrency,
		UploadLeases:      ratelimit.NewLeases(a.redis, ""), // counted once across the replicas
		QueryTimeout:      cfg.DBStatementTimeout,
		QueryBudget:       cfg.QueryBudget,
		QueryBudgetBurst:  cfg.QueryBudgetBurst,
		ShutdownTimeout:   cfg.ShutdownTimeout,
		// Live streams would hold the drain until its timeout: end them first.
		OnShutdown: watcher.Close,
	}
}

// graphConfig is the GraphQL handler's configuration: its limits, uploads, live
// subscriptions, authentication and rate limit of WebSocket operations.
func (a *App) graphConfig(watcher *live.Watcher, rates *ratelimit.Redis) graph.Config {
	cfg := a.cfg
	return graph.Config{
		Introspection:    cfg.GraphQLIntrospection,
		ComplexityLimit:  cfg.GraphQLComplexityLimit,
		DepthLimit:       cfg.GraphQLDepthLimit,
		Logger:           a.logger,
		Uploads:          a.uploads,
		UploadMaxBytes:   cfg.UploadMaxBytes,
		Live:             watcher,
		WebSocketOrigins: cfg.WebSocketOrigins,
		Authenticator:    a.authenticator(),
		RequireAuth:      cfg.Auth == "apikey",
		APIKeys:          a.keys,
		OperationLimiter: a.operationLimiter(rates),
		MaxAliases:       graphMaxAliases(cfg.GraphQLMaxAliases),
		MaxFields:        cfg.GraphQLMaxFields,
		MaxQueryBytes:    cfg.GraphQLMaxQueryBytes,
		MaxNodes:         cfg.GraphQLMaxNodes,
		MaxResponseBytes: cfg.GraphQLMaxResponseSize,
		// Persisted queries are shared by every API replica through the queue's Redis.
		APQCache: graph.NewRedisAPQCache(a.redis, graph.APQCacheOptions{Logger: a.logger}),
	}
}

// dashboard returns the queue dashboard's routes (none when OCRINVOICE_QUEUE_DASHBOARD is
// off) and registers its shutdown, before the queue's Redis goes.
func (a *App) dashboard() map[string]http.Handler {
	extra := map[string]http.Handler{}
	if a.cfg.QueueDashboard == "off" {
		return extra
	}
	dash := asynqmon.New(asynqmon.Options{
		RootPath:     monitorPath,
		RedisConnOpt: a.redisOpt,
		ReadOnly:     a.cfg.QueueDashboard != "on",
	})
	a.closers = append(a.closers, dash.Close)
	extra[monitorPath+"/"] = dash
	extra[legacyMonitorPath+"/"] = redirectPrefix(legacyMonitorPath, monitorPath)
	return extra
}

// authenticator is what the HTTP server checks keys with: the key store, or nil (every
// request a local admin) when OCRINVOICE_AUTH=none.
func (a *App) authenticator() auth.Authenticator {
	if a.cfg.Auth == "none" {
		return nil
	}
	return a.keys
}

// operationLimiter counts the operations of GraphQL WebSockets against their key's
// request rate (OCRINVOICE_RATE_LIMIT and _BURST, or the key's own), in the same Redis
// budget as its HTTP requests. Without a rate it limits nothing; when Redis does not
// answer, the operation is let through (the HTTP side falls back to a local bucket;
// a WebSocket's operations are not worth refusing over Redis being down).
func (a *App) operationLimiter(rates *ratelimit.Redis) graph.OperationLimiter {
	return func(ctx context.Context, p auth.Principal) (bool, time.Duration) {
		rps := a.cfg.RateLimit
		if p.RateLimit > 0 {
			rps = p.RateLimit
		}
		if rps <= 0 {
			return true, 0
		}
		ok, retry, err := rates.Allow(ctx, p.KeyID, rps, max(1, a.cfg.RateBurst))
		if err != nil {
			a.logger.DebugContext(ctx, "Cannot rate-limit a WebSocket operation", slog.String("key_id", p.KeyID), slog.Any("error", err))
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

// startLive starts the process's one progress Hub on the queue's Redis and the Watcher
// that serves live streams over it, and registers their shutdown: on shutdown the
// server's OnShutdown closes the Watcher first (every stream ends, WebSockets close),
// then the HTTP server drains, then Close closes the Watcher (again, a no-op), the Hub,
// and the rest in its order. It waits up to hubReadyWait for the Hub's subscription, so
// that a subscriber of the API's first moments gets its events.
func (a *App) startLive(ctx context.Context) *live.Watcher {
	hub := progress.NewHub(a.redis, progress.HubOptions{Logger: a.logger})
	a.closers = append(a.closers, hub.Close) // before the queue's Redis goes
	select {
	case <-hub.Ready():
	case <-time.After(hubReadyWait):
		a.logger.Warn("Progress events subscription not confirmed yet; live streams start when Redis answers")
	case <-ctx.Done():
	}
	// The per-key count of live streams is shared by every API replica through the
	// queue's Redis.
	w := live.New(a.svc, hub, live.Options{
		Logger:        a.logger,
		PerConnection: streamCap(a.cfg.SubscriptionsPerConnection),
		PerKey:        streamCap(a.cfg.SubscriptionsPerKey),
		Redis:         a.redis,
	})
	a.closers = append(a.closers, func() error { w.Close(); return nil }) // before the Hub
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
func (a *App) readinessChecks() []server.Check {
	return []server.Check{
		{Name: "database", Func: func(ctx context.Context) error { return database.Ping(ctx, a.db) }},
		{Name: "redis", Func: func(ctx context.Context) error { return a.redis.Ping(ctx).Err() }},
	}
}

// listenProbes binds the worker's probe listener (/healthz, /readyz, /metrics) on
// Config.HealthAddr; Run serves it until the worker has stopped.
func (a *App) listenProbes() error {
	probes, err := server.New(server.Options{
		Addr: a.cfg.HealthAddr, Logger: a.logger, Checks: a.readinessChecks(), ShutdownTimeout: a.cfg.ShutdownTimeout,
	})
	if err != nil {
		return err
	}
	if err := probes.Listen(); err != nil {
		return err
	}
	a.http = probes
	a.closers = append(a.closers, probes.Close)
	a.listen(probes.Addr().String())
	return nil
}

// checkAPIKeys runs when the API is bound: with authentication on, it creates the first
// admin key (Parts.BootstrapAdminKey), or warns when no key exists at all.
func (a *App) checkAPIKeys(ctx context.Context) error {
	if a.cfg.Auth != "apikey" {
		return nil
	}
	if a.parts.BootstrapAdminKey {
		return a.bootstrapAdminKey(ctx)
	}
	if n, err := a.keys.CountActive(ctx, ""); err == nil && n == 0 {
		a.logger.Warn("No API key exists yet, so every API request will be refused (401): create the first with 'ocrinvoice apikey create --name admin --role admin'")
	}
	return nil
}

// bootstrapAdminKey gives a fresh `make run` a way in: when the database holds no active
// admin key (and Config.BootstrapAdminKey is set), it creates one and prints it on
// stdout, this once (only its hash is stored). Later starts find the key and print
// nothing; a lost key is replaced with `ocrinvoice apikey create --role admin` (and the
// old one revoked).
func (a *App) bootstrapAdminKey(ctx context.Context) error {
	if !a.cfg.BootstrapAdminKey {
		return nil
	}
	n, err := a.keys.CountActive(ctx, auth.RoleAdmin)
	if err != nil {
		return fmt.Errorf("look for an admin API key: %w", err)
	}
	if n > 0 {
		return nil
	}
	c, err := a.keys.Create(ctx, apikeys.CreateInput{Name: "bootstrap-admin", Role: auth.RoleAdmin})
	if err != nil {
		return fmt.Errorf("create the first admin API key: %w", err)
	}
	a.logger.Info("Created the first admin API key; it is printed once on standard output",
		slog.String("key_id", c.APIKey.ID))
	addr := a.http.Addr().String()
	fmt.Fprintf(a.stdout, `
No admin API key existed, so one was created. It is shown only this once; keep it:

    %s

Send it as a bearer token, for example:

    curl -H 'Authorization: Bearer %s' http://%s/api/v1/ocr-invoice-jobs

Paste it into the review app (http://%s/) or the GraphQL playground's prompt (http://%s/playground).
Create keys for people and programs with: ocrinvoice apikey create --name NAME --role submitter

`, c.Key, c.Key, addr, addr, addr)
	return nil
}
