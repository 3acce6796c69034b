// Package app is the composition root of ocrinvoice: from one config.Config it builds
// the process. It opens the long-lived dependencies (the data directory; Redis, a private
// redis-server when REDIS_URL is unset; the database and its migration; the queue
// client, the progress publisher, the jobs service with its built-in templates and the
// API key store) and the parts a role asks for:
//
//	API     the HTTP server on Config.Addr: GraphQL (graph), REST (internal/rest), live
//	        streams (internal/live), the queue dashboard, probes and metrics
//	Worker  the queue worker (OCR tasks through worker, webhook deliveries through
//	        worker/webhook), the sweeps of lost jobs and owed webhooks and, with
//	        Config.Runner, the batch runner (group reconcilers, upload janitor, document
//	        retention); without API, a probe listener on Config.HealthAddr when set
//
// The division of work: app decides which parts exist and configures each from the
// Config (it is the one place that fills graph.Config and server.Options);
// internal/server composes the HTTP surface (routes, middleware, limits) from the
// handlers app gives it and knows nothing of the domain; cmd/ocrinvoice parses flags
// and picks the parts.
//
// The lifecycle follows WTF Dial's Main: New opens everything and binds the listener
// (so that a bind error ends the process before it takes any task), Run runs the parts
// until its context ends and stops them in order, Close releases what New opened, last
// opened first.
package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/config"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/server"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// Parts are what a process runs. The commands of cmd/ocrinvoice: serve runs API, worker
// runs Worker, all runs API, Worker and BootstrapAdminKey.
type Parts struct {
	// API serves the HTTP API on Config.Addr.
	API bool
	// Worker processes queued tasks, sweeps lost jobs and owed webhooks, and runs the
	// batch runner when Config.Runner is set. Without API it serves /healthz, /readyz
	// and /metrics on Config.HealthAddr when that is set.
	Worker bool
	// BootstrapAdminKey, with API, creates an admin API key and prints it on
	// Options.Stdout when authentication is on, Config.BootstrapAdminKey is set and the
	// database holds no active admin key (what `make run` needs). Without it, an API
	// whose database holds no key at all warns that every request will be refused.
	BootstrapAdminKey bool
}

// Options are what the process gets from its caller besides the Config.
type Options struct {
	Parts Parts
	// Logger receives every log line of the process; nil: Config.Logger(os.Stderr).
	Logger *slog.Logger
	// Stdout is where BootstrapAdminKey prints the key it created; nil: os.Stdout.
	Stdout io.Writer
	// OnListen, when set, is told the bound address of the HTTP listener (the API's,
	// or the worker's probes) once it is bound; tests use it with port 0.
	OnListen func(addr string)
}

// App is one ocrinvoice process. Build it with New, run it with Run, release it with
// Close.
type App struct {
	cfg    config.Config
	parts  Parts
	logger *slog.Logger
	stdout io.Writer
	listen func(addr string)

	redisOpt asynq.RedisConnOpt    // queue connection options
	redis    redis.UniversalClient // readiness pings, limits, progress events, leases
	queue    *tasks.Client         // enqueuer used by the service
	events   *progress.Publisher   // job progress events, on the queue's Redis
	db       *ent.Client
	svc      *jobs.Service
	keys     *apikeys.Store // API keys (used when cfg.Auth is "apikey")
	uploads  *uploads.Store // uploaded documents under the data directory

	http *server.Server // the API, or the worker's probe listener; nil: neither

	closers []func() error // run last-in first-out by Close
}

// New builds the process of opts.Parts from cfg, in this order: the data directory,
// Redis, the database and its migration, the queue client and the service with its
// built-in templates; then the HTTP listener (the API's, or the worker's probes), bound
// but not yet served; then, for the API, the first admin key or the warning that there
// is none (Parts.BootstrapAdminKey). On error it releases what it had opened.
//
// A private redis-server is started with a context that ignores cancellation: draining
// workers still talk to it after the signal that starts the shutdown. Close stops it
// last.
func New(ctx context.Context, cfg config.Config, opts Options) (_ *App, err error) {
	a := &App{cfg: cfg, parts: opts.Parts, logger: opts.Logger, stdout: opts.Stdout, listen: opts.OnListen}
	if a.logger == nil {
		a.logger = cfg.Logger(os.Stderr)
	}
	if a.stdout == nil {
		a.stdout = os.Stdout
	}
	if a.listen == nil {
		a.listen = func(string) {}
	}
	defer func() {
		if err != nil {
			_ = a.Close()
		}
	}()
	if a.parts.Worker && !a.parts.API && cfg.RedisURL == "" {
		a.logger.Warn("REDIS_URL is unset: this worker uses a private Redis no API process can reach; run `ocrinvoice all` or set REDIS_URL")
	}
	if err := a.openDeps(ctx); err != nil {
		return nil, err
	}
	switch {
	case a.parts.API:
		if err := a.listenAPI(ctx); err != nil {
			return nil, err
		}
		return a, a.checkAPIKeys(ctx)
	case a.parts.Worker && cfg.HealthAddr != "":
		return a, a.listenProbes()
	}
	return a, nil
}

// Addr is the bound address of the HTTP listener, nil when the process has none.
func (a *App) Addr() net.Addr {
	if a.http == nil {
		return nil
	}
	return a.http.Addr()
}

// Run runs the parts until ctx is cancelled or one of them fails, then stops them. On
// cancellation the API server stops accepting, ends its live streams and drains while
// the worker finishes or hands back its tasks, concurrently; a worker's probe listener
// keeps answering until the worker has stopped. One part failing stops the others. It
// returns nil after a clean stop; call Close afterwards in any case.
func (a *App) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	var w *queueWorker
	if a.parts.Worker {
		var err error
		if w, err = a.startWorker(gctx, a.registry()); err != nil {
			return err
		}
	}
	serveCtx, stopServing := gctx, context.CancelFunc(func() {})
	if !a.parts.API {
		serveCtx, stopServing = context.WithCancel(context.WithoutCancel(gctx))
	}
	defer stopServing()
	if a.http != nil {
		g.Go(func() error { return a.http.Serve(serveCtx) })
	}
	g.Go(func() error {
		<-gctx.Done()
		err := w.stop()
		stopServing()
		return err
	})
	return g.Wait()
}

// registry is where the worker's metrics go: the HTTP listener's, nil without one.
func (a *App) registry() prometheus.Registerer {
	if a.http == nil {
		return nil
	}
	return a.http.Registry()
}

// Close releases what New opened, last opened first: the unserved listener, the live
// Watcher, the progress Hub and the queue dashboard (with the API), the queue client,
// the database, the Redis connections and the private redis-server. Failures are logged
// and returned together. It is safe to call more than once.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.logger.Warn("Shutdown step failed", slog.String("error", err.Error()))
			errs = append(errs, err)
		}
	}
	a.closers = nil
	return errors.Join(errs...)
}
