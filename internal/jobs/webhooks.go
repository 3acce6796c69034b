package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrjobgroup"
)

// WebhookEnqueuer queues the delivery of one job's webhook; internal/tasks.Client
// implements it. status is the terminal status reached and attempt the job's
// retryCount then: the pair identifies the terminal transition, so the same one
// queued twice must be delivered once (EnqueueWebhook treats "already queued" as
// success), while a job retried later and finished again is a new delivery.
type WebhookEnqueuer interface {
	EnqueueWebhook(ctx context.Context, jobID, status string, attempt int) error
}

// CallbackURL returns where the webhooks of job j go: its own callbackUrl, else its
// group's, else "" (no webhook). Errors: Internal when the group cannot be read.
func (s *Service) CallbackURL(ctx context.Context, j *ent.OcrInvoiceJob) (string, error) {
	if j.CallbackURL != "" || j.GroupID == nil || *j.GroupID == "" {
		return j.CallbackURL, nil
	}
	g, err := s.client.OcrJobGroup.Query().Where(ocrjobgroup.ID(*j.GroupID)).Select(ocrjobgroup.FieldCallbackURL).Only(ctx)
	if ent.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", internal(fmt.Sprintf("read callbackUrl of group %s", *j.GroupID), err)
	}
	return g.CallbackURL, nil
}

// enqueueWebhook queues the webhook of a job that has just reached a terminal state,
// when it has a callback URL. Like notify it never fails the operation, which is
// committed: a failure (Redis down) is logged and that webhook is not sent.
func (s *Service) enqueueWebhook(ctx context.Context, j *ent.OcrInvoiceJob) {
	if s.webhooks == nil || !IsTerminal(j.Status) {
		return
	}
	ctx = context.WithoutCancel(ctx)
	target, err := s.CallbackURL(ctx, j)
	if err != nil {
		s.log.ErrorContext(ctx, "Webhook not queued: callback URL unknown", slog.String("job_id", j.ID),
			slog.String("status", string(j.Status)), slog.Any("error", err))
		return
	}
	if target == "" {
		return
	}
	ectx, cancel := context.WithTimeout(ctx, s.enqueueTimeout)
	defer cancel()
	if err := s.webhooks.EnqueueWebhook(ectx, j.ID, string(j.Status), j.RetryCount); err != nil {
		s.log.ErrorContext(ctx, "Webhook not queued", slog.String("job_id", j.ID),
			slog.String("status", string(j.Status)), slog.Any("error", err))
	}
}
