package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/runner"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// startBatchRunner runs the group reconcilers while this process holds the runner lease
// in the queue's Redis (one replica at a time), triggered by the progress events of
// every job and group (a Hub of its own) and a periodic resync, which also sweeps
// unused uploads (OCRINVOICE_UPLOAD_UNUSED_TTL) and deletes documents past retention
// (OCRINVOICE_RETENTION_DOCUMENTS). The returned stop ends
// the runner, waits for reconciles in progress, releases the lease, then closes the Hub.
// With reg set, the runner's metrics (runner.Metrics) are registered on it.
func startBatchRunner(ctx context.Context, d *deps, reg prometheus.Registerer) (stop func(), err error) {
	if !d.cfg.Runner {
		d.logger.Info("Batch runner off (--runner=false)")
		return func() {}, nil
	}
	store, err := uploads.New(d.cfg.UploadDir())
	if err != nil {
		return nil, fmt.Errorf("open upload store for the batch runner: %w", err)
	}
	logger := d.logger.With(slog.String("component", "runner"))
	hub := progress.NewHub(d.redis, progress.HubOptions{Logger: logger})
	r := &runner.Runner{
		Reconciler: &runner.GroupReconciler{Jobs: d.svc, Uploads: store, Logger: logger},
		Jobs:       d.svc,
		Events:     hub,
		Resync:     d.cfg.RunnerResync,
		Logger:     logger,
		Uploads:    &runner.UploadJanitor{Jobs: d.svc, Store: store, UnusedTTL: d.cfg.UploadUnusedTTL, Logger: logger},
		Retention:  &runner.DocumentRetention{Jobs: d.svc, Store: store, Keep: d.cfg.RetentionDocuments, Logger: logger},
	}
	lease := &runner.Lease{Redis: d.redis, TTL: d.cfg.RunnerLease, Logger: logger}
	if reg != nil {
		m := runner.NewMetrics(reg, d.queue, logger)
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
	}, nil
}
