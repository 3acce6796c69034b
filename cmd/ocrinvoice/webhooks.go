package main

import (
	"errors"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
	"github.com/ocrinvoice/ocrinvoice/worker"
	"github.com/ocrinvoice/ocrinvoice/worker/fetch"
	"github.com/ocrinvoice/ocrinvoice/worker/webhook"
)

// newWebhookHandler builds the handler of webhook:deliver tasks: signed with
// OCRINVOICE_WEBHOOK_SECRET (unsigned, with a warning, when it is empty) and sent through
// the fetcher's address guard and allow-list (OCRINVOICE_FETCH_ALLOW_CIDRS).
func newWebhookHandler(d *deps) asynq.Handler {
	if d.cfg.WebhookSecret == "" {
		d.logger.Warn("OCRINVOICE_WEBHOOK_SECRET is unset: webhooks are sent unsigned (no X-Ocrinvoice-Signature)")
	}
	return webhook.NewHandler(webhook.Config{
		Jobs:   d.svc,
		Secret: d.cfg.WebhookSecret,
		Guard:  fetch.Guard{Allow: d.cfg.FetchAllow},
		Logger: d.logger.With(slog.String("component", "webhook")),
	})
}

// storeDownRetryDelay is how soon a job task that found the database unreachable
// (worker.ErrStoreDown) runs again: such a run does not use up a retry (isTaskFailure),
// so it is tried every few seconds until the database is back.
const storeDownRetryDelay = 2 * time.Second

// isTaskFailure is the worker's asynq IsFailure: a run that could not reach the job store
// (worker.ErrStoreDown) is retried without counting against the task's retries, so that
// a database outage does not use up the retries of the jobs it interrupts.
func isTaskFailure(err error) bool { return !errors.Is(err, worker.ErrStoreDown) }

// retryDelay is the worker's asynq RetryDelayFunc: a task whose worker died (lease
// expired) runs again after a second; one that found the job store down after
// storeDownRetryDelay; a failed webhook delivery backs off from
// OCRINVOICE_WEBHOOK_RETRY_DELAY, doubling (tasks.WebhookRetryDelay); other failures back
// off as asynq does by default.
func retryDelay(webhookBase time.Duration) asynq.RetryDelayFunc {
	return func(n int, err error, t *asynq.Task) time.Duration {
		switch {
		case errors.Is(err, asynq.ErrLeaseExpired):
			return time.Second
		case errors.Is(err, worker.ErrStoreDown):
			return storeDownRetryDelay
		case t.Type() == tasks.TypeWebhookDeliver:
			return tasks.WebhookRetryDelay(n, webhookBase)
		default:
			return asynq.DefaultRetryDelayFunc(n, err, t)
		}
	}
}
