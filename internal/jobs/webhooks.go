package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrjobgroup"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
)

// WebhookEnqueuer queues the delivery of one job's webhook; internal/tasks.Client
// implements it. status is the terminal status reached and attempt the job's
// retryCount then; version is 0 for the transition to that status and the job's
// data_version for a review of its data (a correction or an approval). The three
// identify the change, so the same one queued twice must be delivered once
// (EnqueueWebhook treats "already queued" as success), while a job retried later and
// finished again, or corrected again, is a new delivery.
type WebhookEnqueuer interface {
	EnqueueWebhook(ctx context.Context, jobID, status string, attempt, version int) error
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

// webhookOwed tells whether job cur, about to reach a terminal state, owes a webhook:
// webhooks are on and it has a callback URL, its own or its group's. When the group
// cannot be read it answers true: the sweep then decides, rather than a webhook being lost.
func (s *Service) webhookOwed(ctx context.Context, cur *ent.OcrInvoiceJob) bool {
	if s.webhooks == nil {
		return false
	}
	target, err := s.CallbackURL(ctx, cur)
	return err != nil || target != ""
}

// enqueueWebhook queues the webhook of a job that has just reached a terminal state (or
// whose data a person has just corrected or approved) and owes one (WebhookPendingAt set by the transition), then clears WebhookPendingAt. Like
// notify it never fails the operation, which is committed: when the enqueue fails
// (Redis down) the mark stays and SendOwedWebhooks queues the webhook later.
func (s *Service) enqueueWebhook(ctx context.Context, j *ent.OcrInvoiceJob) {
	if s.webhooks == nil || !IsTerminal(j.Status) || j.WebhookPendingAt == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	if err := s.sendOwedWebhook(ctx, j); err != nil {
		s.log.WarnContext(ctx, "Webhook not queued yet; the webhook sweep queues it later", slog.String("job_id", j.ID),
			slog.String("status", string(j.Status)), slog.Any("error", err))
	}
}

// sendOwedWebhook enqueues the webhook of terminal job j, whose WebhookPendingAt is set,
// and clears the mark; with no callback URL (any more) it only clears the mark.
// The task id is derived from the job, its status, retryCount and, for a review, its
// data_version (tasks.WebhookTaskID, webhookVersion):
// a webhook queued before whose mark could not be cleared is not queued twice.
func (s *Service) sendOwedWebhook(ctx context.Context, j *ent.OcrInvoiceJob) error {
	target, err := s.CallbackURL(ctx, j)
	if err != nil {
		return err
	}
	if target != "" {
		ectx, cancel := context.WithTimeout(ctx, s.enqueueTimeout)
		defer cancel()
		if err := s.webhooks.EnqueueWebhook(ectx, j.ID, string(j.Status), j.RetryCount, webhookVersion(j)); err != nil {
			return apperr.Unavailable(fmt.Sprintf("enqueue webhook of job %s", j.ID), err)
		}
	}
	// Only this transition's mark: a job retried and finished again meanwhile owes its
	// own webhook. updated_at is kept: this is bookkeeping, not a change of the job.
	_, err = s.client.OcrInvoiceJob.Update().
		Where(ocrinvoicejob.ID(j.ID), ocrinvoicejob.StatusEQ(j.Status), ocrinvoicejob.RetryCount(j.RetryCount),
			ocrinvoicejob.WebhookPendingAt(*j.WebhookPendingAt)).
		ClearWebhookPendingAt().
		SetUpdatedAt(j.UpdatedAt).
		Save(ctx)
	if err != nil {
		return internal(fmt.Sprintf("clear owed webhook of job %s", j.ID), err)
	}
	return nil
}

// SendOwedWebhooks queues the webhooks still owed by terminal jobs whose mark is older
// than before (their enqueue failed, or the process died before it), at most limit of
// them, oldest first, and returns how many it queued or found moot (no callback URL).
// It stops at the first enqueue that fails (Redis still down), leaving the rest for the
// next call. Errors: Unavailable (queue unreachable), Internal (database).
func (s *Service) SendOwedWebhooks(ctx context.Context, before time.Time, limit int) (int, error) {
	if s.webhooks == nil {
		return 0, nil
	}
	js, err := s.client.OcrInvoiceJob.Query().
		Where(ocrinvoicejob.WebhookPendingAtLT(before),
			ocrinvoicejob.StatusIn(ocrinvoicejob.StatusCompleted, ocrinvoicejob.StatusFailed, ocrinvoicejob.StatusCancelled)).
		Order(ent.Asc(ocrinvoicejob.FieldWebhookPendingAt), ent.Asc(ocrinvoicejob.FieldID)).
		Limit(limit).
		All(ctx)
	if err != nil {
		return 0, internal("list owed webhooks", err)
	}
	n := 0
	for _, j := range js {
		if err := s.sendOwedWebhook(ctx, j); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
