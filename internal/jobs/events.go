package jobs

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
)

// EventPublisher sends job events; *progress.Publisher implements it (a nil one
// publishes nothing).
type EventPublisher interface {
	Publish(ctx context.Context, ev progress.Event) error
}

// EventOf is the progress event describing job j as it is now: its status, its progress,
// its group, its owner (createdBy), its data version and message. At is the job's
// updatedAt.
func EventOf(j *ent.OcrInvoiceJob, message string) progress.Event {
	ev := progress.Event{JobID: j.ID, Status: string(j.Status), Progress: j.Progress, Message: message, At: j.UpdatedAt,
		Owner: progress.OwnerOf(j.CreatedBy), DataVersion: j.DataVersion}
	if j.GroupID != nil {
		ev.GroupID = *j.GroupID
	}
	return ev
}

// StateEvent is the event describing job j as stored, for a consumer that starts
// following the job: EventOf(j, message) where the message of a failed job is its last
// failure reason (the newest errorLog line, without its timestamp).
func StateEvent(j *ent.OcrInvoiceJob) progress.Event {
	msg := ""
	if j.Status == ocrinvoicejob.StatusFailed && j.ErrorLog != "" {
		msg = j.ErrorLog[strings.LastIndexByte(j.ErrorLog, '\n')+1:]
		// Lines are "<RFC 3339 time> <reason>" (appendErrorLog).
		if ts, reason, ok := strings.Cut(msg, " "); ok {
			if _, err := time.Parse(time.RFC3339, ts); err == nil {
				msg = reason
			}
		}
	}
	return EventOf(j, msg)
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
