package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/config"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
	"github.com/ocrinvoice/ocrinvoice/worker/fetch"
)

// errHelpShown is returned by loadConfig after it printed a command's help.
var errHelpShown = errors.New("help shown")

// loadConfig reads the configuration of cmd from args and getenv. On -h/--help it prints
// the command's flags and environment variables to stdout and returns errHelpShown.
func loadConfig(cmd string, args []string, getenv func(string) string, stdout io.Writer) (config.Config, error) {
	cfg, err := config.LoadCommand(cmd, args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		config.Usage(stdout, cmd, commands()[cmd].summary)
		return cfg, errHelpShown
	}
	if err != nil {
		return cfg, fmt.Errorf("%s: %w", cmd, err)
	}
	return cfg, nil
}

// deps are the long-lived parts a command shares: the Redis the queue lives in (maybe a
// private redis-server), the database and the domain service. close releases them in the
// reverse order of opening.
type deps struct {
	cfg    config.Config
	logger *slog.Logger

	redisOpt asynq.RedisConnOpt    // queue connection options
	redis    redis.UniversalClient // for readiness pings
	queue    *tasks.Client         // enqueuer used by the service
	events   *progress.Publisher   // job progress events, on the queue's Redis
	db       *ent.Client
	svc      *jobs.Service
	keys     *apikeys.Store // API keys (used when cfg.Auth is "apikey")

	closers []func() error // run last-in first-out by close
}

// openDeps prepares everything a serving command needs, in this order: the data
// directory; Redis (a private redis-server when REDIS_URL is unset); the database, its
// schema migration; the queue client and the service with its built-in templates. On
// error it releases what it had opened.
//
// The private redis-server is started with a context that ignores cancellation: it must
// outlive the signal that starts the shutdown, because draining workers still talk to
// it. close stops it last.
func openDeps(ctx context.Context, cfg config.Config, logger *slog.Logger) (_ *deps, err error) {
	d := &deps{cfg: cfg, logger: logger}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	for _, w := range cfg.Warnings {
		logger.Warn("Configuration: " + w)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w", cfg.DataDir, err)
	}

	redisURL := cfg.RedisURL
	if redisURL == "" {
		rs, err := redisproc.Start(context.WithoutCancel(ctx), "")
		if err != nil {
			// ErrNotInstalled already names the package to install and REDIS_URL.
			return nil, fmt.Errorf("REDIS_URL is unset, so start a private redis-server: %w", err)
		}
		d.closers = append(d.closers, func() error {
			logger.Info("Stopping private redis-server", slog.String("addr", rs.Addr))
			return rs.Stop()
		})
		redisURL = rs.URL()
		logger.Info("Started private redis-server (set REDIS_URL to use your own)",
			slog.String("addr", rs.Addr), slog.String("redis_url", redisURL))
	}
	d.redisOpt, err = asynq.ParseRedisURI(redisURL)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	rc, ok := d.redisOpt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, fmt.Errorf("unsupported Redis connection %T", d.redisOpt)
	}
	d.redis = rc
	d.closers = append(d.closers, rc.Close)

	if d.db, err = openDatabase(ctx, cfg, logger); err != nil {
		return nil, err
	}
	d.closers = append(d.closers, d.db.Close)

	d.queue = tasks.NewClient(d.redisOpt)
	d.closers = append(d.closers, d.queue.Close)
	d.events = progress.NewPublisher(rc, progress.PublisherOptions{})
	d.svc = jobs.NewService(d.db, d.queue, jobs.Options{
		Logger: logger, PricePerPage: cfg.PricePerPage, PriceFactors: cfg.PriorityPriceFactors, Events: d.events,
		Webhooks: d.queue,
		// Literal private addresses the worker would refuse are refused at creation.
		AddressCheck:    fetch.Guard{Allow: cfg.FetchAllow}.Check,
		UploadQuota:     jobs.UploadQuota{Bytes: cfg.UploadQuotaBytes, Count: cfg.UploadQuotaCount},
		FilterCostLimit: filterCostLimit(cfg.FilterCostLimit),
	})
	if err := d.svc.EnsureBuiltins(ctx); err != nil {
		return nil, fmt.Errorf("create built-in templates: %w", err)
	}
	if err := backfillUploads(ctx, d); err != nil {
		return nil, err
	}
	d.keys = apikeys.New(d.db, logger)
	if cfg.Auth == "none" {
		logger.Warn("Authentication is off (OCRINVOICE_AUTH=none): every request is an admin; use it on a private machine only")
	}
	return d, nil
}

// openDatabase opens the configured database and migrates its schema.
func openDatabase(ctx context.Context, cfg config.Config, logger *slog.Logger) (*ent.Client, error) {
	db, err := database.OpenWith(ctx, cfg.DatabaseURL, database.Options{
		MaxConns: cfg.DBMaxConns, MaxIdleConns: cfg.DBMaxIdleConns, StatementTimeout: cfg.DBWorkerStatementTimeout,
	})
	if err != nil {
		return nil, err
	}
	if err := database.Migrate(ctx, db); err != nil {
		_ = db.Close()
		return nil, err
	}
	kind := "postgres"
	if p, ok := cfg.SQLitePath(); ok {
		kind = "sqlite:" + p
	}
	logger.Info("Database ready", slog.String("database", kind))
	return db, nil
}

// filterCostLimit is jobs.Options.FilterCostLimit for OCRINVOICE_FILTER_COST_LIMIT,
// whose 0 means no limit (jobs' 0 is its default).
func filterCostLimit(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// close releases everything openDeps opened, last opened first: queue client, database,
// Redis connections, then the private redis-server. Errors are logged; close is safe to
// call more than once.
func (d *deps) close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		if err := d.closers[i](); err != nil {
			d.logger.Warn("Shutdown step failed", slog.String("error", err.Error()))
		}
	}
	d.closers = nil
}

// listenHookKey carries a callback told the bound HTTP address; tests use it to find a
// server started on port 0.
type listenHookKey struct{}

// withListenHook returns a context whose serve/all commands call fn with the bound address.
func withListenHook(ctx context.Context, fn func(addr string)) context.Context {
	return context.WithValue(ctx, listenHookKey{}, fn)
}

func listenHook(ctx context.Context) func(string) {
	if fn, ok := ctx.Value(listenHookKey{}).(func(string)); ok {
		return fn
	}
	return func(string) {}
}

// backfillUploads gives the uploads that jobs named before uploads had owners a record
// for each job's owner (jobs.Service.BackfillUploads), so that those owners keep using
// them; once done, it finds nothing to do.
func backfillUploads(ctx context.Context, d *deps) error {
	store, err := uploads.New(d.cfg.UploadDir())
	if err != nil {
		return err
	}
	n, err := d.svc.BackfillUploads(ctx, store)
	if err != nil {
		return fmt.Errorf("record the owners of earlier uploads: %w", err)
	}
	if n > 0 {
		d.logger.Info("Recorded the owners of uploads stored before uploads had owners", slog.Int("records", n))
	}
	return nil
}
