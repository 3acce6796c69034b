package app

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
	"github.com/ocrinvoice/ocrinvoice/worker"
	"github.com/ocrinvoice/ocrinvoice/worker/fetch"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
	"github.com/ocrinvoice/ocrinvoice/worker/webhook"
)

// newTaskHandler builds the OCR pipeline of the worker: an OCR reader with one engine
// slot per concurrent task, the guarded fetcher and the asynq handler. The returned
// close releases the OCR engines; call it after the asynq server has stopped. Uploaded
// documents (upload://KEY) are read from the upload store under the data directory,
// which the API process must share.
func (a *App) newTaskHandler(beats *tasks.Heartbeats) (asynq.Handler, func() error, error) {
	mem := a.cfg.OCRMemoryLimit
	if mem == 0 {
		mem = -1 // no limit
	} else if !ocr.MemoryLimitSupported() {
		a.logger.Warn("prlimit (util-linux) is not installed: poppler runs without OCRINVOICE_OCR_MEMORY_LIMIT")
	}
	reader, err := ocr.NewReader(ocr.Config{Slots: a.cfg.WorkerConcurrency, ToolMemoryLimit: mem})
	if err != nil {
		return nil, nil, fmt.Errorf("start OCR engines: %w", err)
	}
	h := worker.NewHandler(worker.Config{
		Jobs:         a.svc,
		Reader:       reader,
		Fetcher:      fetch.New(fetch.Options{Allow: a.cfg.FetchAllow, Uploads: a.uploads, MaxUploadBytes: a.cfg.UploadMaxBytes}),
		Logger:       a.logger,
		Heartbeats:   beats,
		NoCrossCheck: !a.cfg.EInvoiceCrossCheck,
	})
	return h, reader.Close, nil
}

// newWebhookHandler builds the handler of webhook:deliver tasks: signed with
// OCRINVOICE_WEBHOOK_SECRET (unsigned, with a warning, when it is empty) and sent through
// the fetcher's address guard and allow-list (OCRINVOICE_FETCH_ALLOW_CIDRS).
func (a *App) newWebhookHandler() asynq.Handler {
	if a.cfg.WebhookSecret == "" {
		a.logger.Warn("OCRINVOICE_WEBHOOK_SECRET is unset: webhooks are sent unsigned (no X-Ocrinvoice-Signature)")
	}
	return webhook.NewHandler(webhook.Config{
		Jobs:   a.svc,
		Secret: a.cfg.WebhookSecret,
		Guard:  fetch.Guard{Allow: a.cfg.FetchAllow},
		Logger: a.logger.With(slog.String("component", "webhook")),
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
