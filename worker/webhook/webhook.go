// Package webhook delivers the webhooks of finished jobs: the handler of the
// `webhook:deliver` task POSTs the job, in the REST contract's shape (the data of GET
// /api/v1/ocr-invoice-jobs/{id}), to the job's callbackUrl (or its group's), signed with
// HMAC-SHA256 (see Sign and Verify).
//
// Every request goes through the same address guard as document fetching
// (fetch.Guard): a callback that resolves to a loopback, private, link-local, ... address
// is refused unless OCRINVOICE_FETCH_ALLOW_CIDRS opens it. Redirects are not followed:
// a redirect could only lead to a host the client did not name, and the guard would have
// to be re-applied to it; a receiver must give its final URL.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/contract"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/redact"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
	"github.com/ocrinvoice/ocrinvoice/worker/fetch"
)

// Headers of every delivery.
const (
	// HeaderEvent names the event: job.completed, job.failed or job.cancelled; for a
	// person's review of a completed job's data job.corrected or job.approved.
	HeaderEvent = "X-Ocrinvoice-Event"
	// HeaderDelivery is the delivery id (the task id, webhook:<jobId>:<status>:<retryCount>,
	// followed by :v<dataVersion> for a review):
	// the same for every attempt of one delivery, so receivers can drop duplicates.
	HeaderDelivery = "X-Ocrinvoice-Delivery"
	// HeaderSignature is "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>",
	// present when the worker has a secret (OCRINVOICE_WEBHOOK_SECRET).
	HeaderSignature = "X-Ocrinvoice-Signature"
	// UserAgent is the User-Agent of every delivery.
	UserAgent = "ocrinvoice-webhook"
)

// DefaultTimeout bounds one delivery attempt: connecting, sending and reading the answer.
const DefaultTimeout = 10 * time.Second

// Config wires a Handler.
type Config struct {
	Jobs *jobs.Service
	// Secret signs deliveries; empty sends them unsigned (no HeaderSignature).
	Secret string
	// Guard decides which addresses may be reached (the fetcher's rules and allow-list).
	Guard  fetch.Guard
	Logger *slog.Logger
	// Timeout bounds one attempt; default DefaultTimeout.
	Timeout time.Duration
	// Now is the clock of the signature timestamps; default time.Now.
	Now func() time.Time
}

// Handler processes `webhook:deliver` tasks. It is safe for concurrent use.
type Handler struct {
	jobs   *jobs.Service
	secret string
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
}

// NewHandler returns the webhook task handler.
func NewHandler(cfg Config) *Handler {
	h := &Handler{jobs: cfg.Jobs, secret: cfg.Secret, log: cfg.Logger, now: cfg.Now}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	h.client = &http.Client{
		Transport: cfg.Guard.Transport(),
		Timeout:   timeout,
		// Redirects are not followed; the 3xx answer is the result (a permanent failure).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return h
}

// Event returns the event name of a terminal status ("job.completed", ...) or of a
// review status ("job.corrected", "job.approved").
func Event(status string) string { return "job." + status }

// ProcessTask delivers one webhook. The contract with asynq:
//   - a bad payload, a job that no longer exists, a callback URL that is invalid or
//     refused by the address guard, a redirect, or a 4xx answer other than 408 and 429:
//     permanent, SkipRetry (logged);
//   - a network error, a timeout, a 408, 429 or 5xx answer: the error is returned and
//     asynq retries with backoff (tasks.WebhookRetryDelay);
//   - a delivery that is no longer current (the job has been retried or re-run since it
//     reached the payload's state, its data was reviewed again since the review the
//     payload names, or it has no callback URL any more): dropped, nil;
//   - a 2xx answer: delivered, nil.
//
// The body is the job as it is when the attempt is made, which for a current delivery
// is the terminal state it announces. Each attempt is signed afresh (a new timestamp).
//
// The error returned, which asynq keeps as the task's last error (the queue dashboard
// shows it), and every log line name the callback URL redacted (redact.URL).
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	return redact.Error(h.deliver(ctx, t))
}

// deliver is ProcessTask before the redaction of its error.
func (h *Handler) deliver(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParseWebhookPayload(t)
	if err != nil {
		return err
	}
	delivery, ok := asynq.GetTaskID(ctx)
	if !ok {
		delivery = tasks.WebhookVersionTaskID(p.JobID, p.Status, p.Attempt, p.Version)
	}
	log := h.log.With(slog.String("job_id", p.JobID), slog.String("status", p.Status), slog.String("delivery", delivery))
	job, err := h.jobs.GetJob(ctx, p.JobID)
	switch {
	case apperr.KindOf(err) == apperr.KindNotFound || apperr.KindOf(err) == apperr.KindInvalid:
		log.Warn("Dropping webhook of a job that does not exist")
		return fmt.Errorf("webhook of job %s: %v: %w", p.JobID, err, asynq.SkipRetry)
	case err != nil:
		return fmt.Errorf("load job %s for its webhook: %w", p.JobID, err)
	}
	if string(job.Status) != p.Status || job.RetryCount != p.Attempt {
		log.Info("Dropping webhook superseded by a later run of the job",
			slog.String("status", string(job.Status)), slog.Int("retry_count", job.RetryCount))
		return nil
	}
	event := Event(p.Status)
	if p.Version > 0 {
		if job.DataVersion != p.Version {
			// A later change of the data sends its own webhook, with the data as it is then.
			log.Info("Dropping webhook superseded by a later change of the job's data",
				slog.Int("data_version", job.DataVersion))
			return nil
		}
		event = Event(string(job.ReviewStatus))
	}
	log = log.With(slog.String("event", event))
	target, err := h.jobs.CallbackURL(ctx, job)
	if err != nil {
		return fmt.Errorf("callback URL of job %s: %w", job.ID, err)
	}
	if target == "" {
		log.Info("Dropping webhook of a job that no longer has a callback URL")
		return nil
	}
	if err := jobs.ValidateCallbackURL(target); err != nil {
		log.Warn("Webhook refused: invalid callback URL", slog.String("reason", err.Error()))
		return fmt.Errorf("callback URL of job %s %v: %w", job.ID, err, asynq.SkipRetry)
	}
	log = log.With(slog.String("callback_url", redact.URL(target)))
	body, err := encode(job)
	if err != nil {
		return fmt.Errorf("encode webhook of job %s: %v: %w", job.ID, err, asynq.SkipRetry)
	}
	status, err := h.post(ctx, target, event, delivery, body)
	retried, _ := asynq.GetRetryCount(ctx)
	switch {
	case errors.Is(err, fetch.ErrRefused):
		log.Warn("Webhook refused by the address guard; not sent", slog.String("reason", err.Error()))
		return fmt.Errorf("webhook of job %s: %w: %w", job.ID, err, asynq.SkipRetry)
	case err != nil:
		log.Warn("Webhook delivery failed; will retry", slog.Int("retry", retried), slog.String("error", err.Error()))
		return fmt.Errorf("deliver webhook of job %s: %w", job.ID, err)
	case status >= 200 && status <= 299:
		log.Info("Webhook delivered", slog.Int("http_status", status), slog.Int("retry", retried))
		return nil
	case permanentStatus(status):
		log.Warn("Webhook rejected by the receiver; not retried", slog.Int("http_status", status), slog.Int("retry", retried))
		return fmt.Errorf("webhook of job %s: receiver answered HTTP %d: %w", job.ID, status, asynq.SkipRetry)
	default:
		log.Warn("Webhook delivery failed; will retry", slog.Int("http_status", status), slog.Int("retry", retried))
		return fmt.Errorf("deliver webhook of job %s: receiver answered HTTP %d", job.ID, status)
	}
}

// permanentStatus tells answers that retrying the same request cannot change: a
// redirect (not followed) and a 4xx other than 408 Request Timeout and 429 Too Many
// Requests.
func permanentStatus(code int) bool {
	switch {
	case code >= 300 && code <= 399:
		return true
	case code == http.StatusRequestTimeout, code == http.StatusTooManyRequests:
		return false
	default:
		return code >= 400 && code <= 499
	}
}

// encode is the body of a delivery: the job as the REST API returns it (no envelope).
func encode(j *ent.OcrInvoiceJob) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // as the REST API encodes
	if err := enc.Encode(contract.NewJob(j)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// post sends one attempt of event and returns the answer's status code.
func (h *Handler) post(ctx context.Context, target, event, delivery string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("%w: callback URL %s: %v", fetch.ErrRefused, redact.URL(target), unwrapURLError(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderEvent, event)
	req.Header.Set(HeaderDelivery, delivery)
	if h.secret != "" {
		req.Header.Set(HeaderSignature, Sign(h.secret, h.now(), body))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		err = unwrapURLError(err)
		if errors.Is(err, fetch.ErrRefused) {
			return 0, err
		}
		return 0, fmt.Errorf("POST %s: %w", redact.URL(target), err)
	}
	defer resp.Body.Close()
	// Read a little of the answer so the connection can be reused; its content is not used.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// unwrapURLError drops *url.Error's repetition of method and URL (the caller names the
// URL, redacted) and redacts any URL left in the message: receivers often put a token
// in the query.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return redact.Error(err)
}
