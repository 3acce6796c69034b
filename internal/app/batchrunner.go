package app

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ocrinvoice/ocrinvoice/internal/pages"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/runner"
)

// startBatchRunner runs the group reconcilers while this process holds the runner lease
// in the queue's Redis (one replica at a time), triggered by the progress events of
// every job and group (a Hub of its own) and a periodic resync, which also sweeps
// unused uploads (OCRINVOICE_UPLOAD_UNUSED_TTL) and deletes documents past retention
// (OCRINVOICE_RETENTION_DOCUMENTS). The returned stop ends the runner, waits for
// reconciles in progress, releases the lease, then closes the Hub. With reg set, the
// runner's metrics (runner.Metrics) are registered on it. With --runner=false it runs
// nothing.
func (a *App) startBatchRunner(ctx context.Context, reg prometheus.Registerer) (stop func()) {
	if !a.cfg.Runner {
		a.logger.Info("Batch runner off (--runner=false)")
		return func() {}
	}
	logger := a.logger.With(slog.String("component", "runner"))
	hub := progress.NewHub(a.redis, progress.HubOptions{Logger: logger})
	store := a.uploads
	r := &runner.Runner{
		Reconciler: &runner.GroupReconciler{Jobs: a.svc, Uploads: store, Logger: logger},
		Jobs:       a.svc,
		Events:     hub,
		Resync:     a.cfg.RunnerResync,
		Logger:     logger,
		Uploads:    &runner.UploadJanitor{Jobs: a.svc, Store: store, UnusedTTL: a.cfg.UploadUnusedTTL, Logger: logger},
		Retention: &runner.DocumentRetention{Jobs: a.svc, Store: store, Keep: a.cfg.RetentionDocuments, Logger: logger,
			// The API's cached page images of a deleted document go with it (the data
			// directory is shared, as the upload store is).
			OnExpired: func(keys []string) {
				if n, err := pages.RemoveDocuments(a.cfg.PageCacheDir(), keys); err != nil {
					logger.Warn("Page images of deleted documents not all removed", slog.Int("removed", n), slog.Any("error", err))
				}
			}},
	}
	lease := &runner.Lease{Redis: a.redis, TTL: a.cfg.RunnerLease, Logger: logger}
	if reg != nil {
		m := runner.NewMetrics(reg, a.queue, logger)
		r.OnReconcile, r.OnResync = m.Reconciled, m.Resynced
		lease.OnChange = func(held bool) {
			if !held {
				m.Reset()
			}
		}
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		lease.Run(rctx, r.Run)
	}()
	return func() {
		cancel()
		<-done
		_ = hub.Close()
	}
}
