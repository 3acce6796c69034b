package app

import (
	"context"
	"fmt"
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
	"github.com/ocrinvoice/ocrinvoice/worker/validate"
)

// openDeps opens what every part shares, in this order: the data directory; Redis; the
// database and its schema; the queue client, the progress publisher and the service
// with its built-in templates; the upload store (recording the owners of earlier
// uploads); the API key store. Each is registered with Close as it opens.
func (a *App) openDeps(ctx context.Context) error {
	for _, w := range a.cfg.Warnings {
		a.logger.Warn("Configuration: " + w)
	}
	if err := os.MkdirAll(a.cfg.DataDir, 0o750); err != nil {
		return fmt.Errorf("create data directory %s: %w", a.cfg.DataDir, err)
	}
	if err := a.openRedis(ctx); err != nil {
		return err
	}
	db, err := OpenDatabase(ctx, a.cfg, a.logger)
	if err != nil {
		return err
	}
	a.db = db
	a.closers = append(a.closers, db.Close)
	if err := a.openService(ctx); err != nil {
		return err
	}
	if a.uploads, err = uploads.New(a.cfg.UploadDir()); err != nil {
		return err
	}
	if err := a.backfillUploads(ctx); err != nil {
		return err
	}
	a.keys = apikeys.New(a.db, a.logger)
	if a.cfg.Auth == "none" {
		a.logger.Warn("Authentication is off (OCRINVOICE_AUTH=none): every request is an admin; use it on a private machine only")
	}
	return nil
}

// openRedis connects to REDIS_URL, or starts a private redis-server when it is unset.
func (a *App) openRedis(ctx context.Context) error {
	redisURL := a.cfg.RedisURL
	if redisURL == "" {
		rs, err := redisproc.Start(context.WithoutCancel(ctx), "")
		if err != nil {
			// ErrNotInstalled already names the package to install and REDIS_URL.
			return fmt.Errorf("REDIS_URL is unset, so start a private redis-server: %w", err)
		}
		a.closers = append(a.closers, func() error {
			a.logger.Info("Stopping private redis-server", slog.String("addr", rs.Addr))
			return rs.Stop()
		})
		redisURL = rs.URL()
		a.logger.Info("Started private redis-server (set REDIS_URL to use your own)",
			slog.String("addr", rs.Addr), slog.String("redis_url", redisURL))
	}
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		return fmt.Errorf("parse REDIS_URL: %w", err)
	}
	rc, ok := opt.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return fmt.Errorf("unsupported Redis connection %T", opt)
	}
	a.redisOpt, a.redis = opt, rc
	a.closers = append(a.closers, rc.Close)
	return nil
}

// openService builds the queue client, the progress publisher and the jobs service, and
// makes sure the built-in templates exist.
func (a *App) openService(ctx context.Context) error {
	cfg := a.cfg
	a.queue = tasks.NewClient(a.redisOpt)
	a.closers = append(a.closers, a.queue.Close)
	a.events = progress.NewPublisher(a.redis, progress.PublisherOptions{})
	a.svc = jobs.NewService(a.db, a.queue, jobs.Options{
		Logger: a.logger, PricePerPage: cfg.PricePerPage, EInvoicePrice: cfg.EInvoicePrice, PriceFactors: cfg.PriorityPriceFactors, Events: a.events,
		Webhooks: a.queue,
		// Literal private addresses the worker would refuse are refused at creation.
		AddressCheck:    fetch.Guard{Allow: cfg.FetchAllow}.Check,
		UploadQuota:     jobs.UploadQuota{Bytes: cfg.UploadQuotaBytes, Count: cfg.UploadQuotaCount},
		FilterCostLimit: filterCostLimit(cfg.FilterCostLimit),
		Revalidate:      validate.Revalidate,
		Learner:         supplierLearner(),
		CursorKey:       cfg.CursorKey(),
	})
	if err := a.svc.EnsureBuiltins(ctx); err != nil {
		return fmt.Errorf("create built-in templates: %w", err)
	}
	return nil
}

// OpenDatabase opens the database of cfg and migrates its schema. The commands that
// need the database alone (migrate, apikey) use it too.
func OpenDatabase(ctx context.Context, cfg config.Config, logger *slog.Logger) (*ent.Client, error) {
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

// backfillUploads gives the uploads that jobs named before uploads had owners a record
// for each job's owner (jobs.Service.BackfillUploads), so that those owners keep using
// them; once done, it finds nothing to do.
func (a *App) backfillUploads(ctx context.Context) error {
	n, err := a.svc.BackfillUploads(ctx, a.uploads)
	if err != nil {
		return fmt.Errorf("record the owners of earlier uploads: %w", err)
	}
	if n > 0 {
		a.logger.Info("Recorded the owners of uploads stored before uploads had owners", slog.Int("records", n))
	}
	return nil
}
