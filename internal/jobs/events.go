package jobs

import (
	"context"
	"log/slog"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
)

// EventPublisher sends job events; *progress.Publisher implements it (a nil one
// publishes nothing).
type EventPublisher interface {
	Publish(ctx context.Context, ev progress.Event) error
}

// EventOf is the progress event describing job j as it is now: its status, its progress,
// its group, and message. At is the job's updatedAt.
func EventOf(j *ent.OcrInvoiceJob, message string) progress.Event {
	ev := progress.Event{JobID: j.ID, Status: string(j.Status), Progress: j.Progress, Message: message, At: j.UpdatedAt}
	if j.GroupID != nil {
		ev.GroupID = *j.GroupID
	}
	return ev
}

// notify publishes j's state after a committed status change. It never fails the
// operation: events are notifications, the database is the record. The caller's
// cancellation does not stop it (the change happened); the publisher's own timeout
// bounds it.
func (s *Service) notify(ctx context.Context, j *ent.OcrInvoiceJob, message string) {
	if s.events == nil || j == nil {
		return
	}
	if err := s.events.Publish(context.WithoutCancel(ctx), EventOf(j, message)); err != nil {
		s.log.WarnContext(ctx, "Could not publish job event", slog.String("job_id", j.ID),
			slog.String("status", string(j.Status)), slog.Any("error", err))
	}
}
