package runner

import (
	"context"
	"log/slog"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// WebhookSweeper queues the webhooks that jobs still owe: a job that reached a terminal
// state with a callback URL is marked in the same UPDATE (webhook_pending_at), and the
// mark is cleared once the webhook's task is in the queue. A mark that outlives a sweep
// interval means that enqueue failed (Redis was down) or never ran (the process died
// first); the sweeper queues it. Task ids are derived from the job, its status and
// retryCount, so a webhook queued before is not queued twice and several replicas may
// sweep at once. Zero fields take the defaults in brackets.
type WebhookSweeper struct {
	Jobs *jobs.Service
	// Interval between sweeps [30 s]. Marks younger than Grace are left alone, so that an
	// enqueue in progress right now is not raced.
	Interval time.Duration
	// Grace is how old a mark must be before the sweep queues its webhook [10 s].
	Grace time.Duration
	// Batch bounds the webhooks queued per sweep [500].
	Batch  int
	Now    func() time.Time
	Logger *slog.Logger
}

func (w *WebhookSweeper) defaults() {
	if w.Interval <= 0 {
		w.Interval = 30 * time.Second
	}
	if w.Grace <= 0 {
		w.Grace = 10 * time.Second
	}
	if w.Batch <= 0 {
		w.Batch = 500
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.Logger == nil {
		w.Logger = slog.Default()
	}
}

// Sweep queues, once, the owed webhooks whose mark is older than Grace, and returns how
// many it settled. It stops at the first enqueue that fails (Redis still down): the rest
// wait for the next sweep.
func (w *WebhookSweeper) Sweep(ctx context.Context) (int, error) {
	w.defaults()
	n, err := w.Jobs.SendOwedWebhooks(ctx, w.Now().Add(-w.Grace), w.Batch)
	if n > 0 {
		w.Logger.Warn("Queued webhooks whose enqueue had failed", slog.Int("webhooks", n))
	}
	return n, err
}

// Run sweeps at once and then every Interval until ctx ends.
func (w *WebhookSweeper) Run(ctx context.Context) {
	w.defaults()
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		if _, err := w.Sweep(ctx); err != nil && ctx.Err() == nil {
			w.Logger.Warn("Webhook sweep incomplete; trying again later", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
