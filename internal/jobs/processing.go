package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// The methods in this file are for the worker that processes a job's task.

// MaxErrorLogBytes bounds a job's error log; older lines are dropped first.
const MaxErrorLogBytes = 16 << 10

// Worker describes the worker process that starts a run.
type Worker struct {
	// Name is unique among the running worker processes ("hostname:pid").
	Name string
	// Heartbeat tells that the worker keeps the run's heartbeat in Redis while it runs
	// (internal/tasks.Heartbeats): only such runs are judged by their heartbeat.
	Heartbeat bool
}

// AnyRun passed as a run to the *Run methods skips the run check.
const AnyRun = -1

// MaxAttempts bounds a job's attempts list; the oldest are dropped first.
const MaxAttempts = 50

// staleRun is the FailedPrecondition of a task or worker whose run is not the job's.
func staleRun(run, current int) error {
	return apperr.FailedPrecondition(fmt.Sprintf("run %d of the job's task is stale: the job is on run %d", run, current),
		apperr.Detail{Field: "taskRun", Message: "stale"})
}

// startAttempt returns prev with a new running attempt appended: a still running last
// attempt (its delivery ended without an outcome) is closed as interrupted first.
func startAttempt(prev []invoice.JobAttempt, now time.Time, w Worker) []invoice.JobAttempt {
	out := endAttempt(prev, now, invoice.AttemptInterrupted, "")
	next := 1
	if len(out) > 0 {
		next = out[len(out)-1].Number + 1
	}
	out = append(out, invoice.JobAttempt{Number: next, Worker: w.Name, StartedAt: now, Outcome: invoice.AttemptRunning, Heartbeat: w.Heartbeat})
	if len(out) > MaxAttempts {
		out = out[len(out)-MaxAttempts:]
	}
	return out
}

// maxAttemptErrorBytes bounds the reason stored with an attempt.
const maxAttemptErrorBytes = 1 << 10

// endAttempt returns a copy of prev whose last attempt, when it is running, has ended
// at now with outcome and reason.
func endAttempt(prev []invoice.JobAttempt, now time.Time, outcome, reason string) []invoice.JobAttempt {
	out := slices.Clone(prev)
	if len(out) == 0 || out[len(out)-1].Outcome != invoice.AttemptRunning {
		return out
	}
	reason = strings.Join(strings.Fields(reason), " ")
	if len(reason) > maxAttemptErrorBytes {
		reason = strings.ToValidUTF8(reason[:maxAttemptErrorBytes], "")
	}
	last := &out[len(out)-1]
	at := now
	last.EndedAt = &at
	last.Outcome = outcome
	last.Error = reason
	return out
}

// MetadataDuplicateOf is the metadata key under which a completed job names the
// earliest other completed job of the same owner (createdBy) that read the same
// document (same SHA-256) with the same template. The job is still processed and billed: nothing is skipped silently.
const MetadataDuplicateOf = "duplicateOf"

// earlierDuplicate returns the id of the earliest completed job, other than cur, whose
// document had the given SHA-256 and that used cur's template; "" when there is none or
// the lookup fails (the result is informative, so a failure is only logged).
func (s *Service) earlierDuplicate(ctx context.Context, cur *ent.OcrInvoiceJob, sha string) string {
	if sha == "" {
		return ""
	}
	prev, err := s.client.OcrInvoiceJob.Query().
		Where(ocrinvoicejob.DocumentSha256(sha), ocrinvoicejob.TemplateID(cur.TemplateID),
			ocrinvoicejob.CreatedBy(cur.CreatedBy), // never point at another owner's job
			ocrinvoicejob.StatusEQ(ocrinvoicejob.StatusCompleted), ocrinvoicejob.IDNEQ(cur.ID)).
		Order(ent.Asc(ocrinvoicejob.FieldCreatedAt), ent.Asc(ocrinvoicejob.FieldID)).
		First(ctx)
	if err != nil {
		if !ent.IsNotFound(err) {
			s.log.Warn("Could not look for an earlier job with the same document", slog.String("job_id", cur.ID), slog.Any("error", err))
		}
		return ""
	}
	return prev.ID
}

func roundSeconds(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }

// appendErrorLog adds one line and keeps the log under MaxErrorLogBytes by dropping
// the oldest lines.
func appendErrorLog(prev string, at time.Time, reason string) string {
	reason = strings.Join(strings.Fields(reason), " ")
	if reason == "" {
		reason = "unknown error"
	}
	line := fmt.Sprintf("%s %s", at.UTC().Format(time.RFC3339), reason)
	if len(line) > MaxErrorLogBytes/2 {
		line = strings.ToValidUTF8(line[:MaxErrorLogBytes/2], "")
	}
	out := line
	if prev != "" {
		out = prev + "\n" + line
	}
	for len(out) > MaxErrorLogBytes {
		i := strings.IndexByte(out, '\n')
		if i < 0 {
			break
		}
		out = out[i+1:]
	}
	return out
}

// IsNotProcessing tells whether err says the job is not in a state to be worked on
// (e.g. cancelled), so a handler can tell "stop, the job was cancelled" from real
// failures.
func IsNotProcessing(err error) bool {
	return apperr.KindOf(err) == apperr.KindFailedPrecondition
}

// JobsExpectingTasks lists, oldest update first and at most limit, the jobs that should
// have a task in the queue and have not changed for a while: created or queued and not
// updated since before, or processing and not updated since processingBefore (a
// running task writes progress, so a processing job that stays silent that long has
// lost its worker). Whether their task really is missing is for the caller to check.
// Created jobs of a group are not listed: the group's reconciler releases them under
// its parallelism; its queued and processing jobs are, as they were released already.
func (s *Service) JobsExpectingTasks(ctx context.Context, before, processingBefore time.Time, limit int) ([]*ent.OcrInvoiceJob, error) {
	js, err := s.client.OcrInvoiceJob.Query().
		Where(ocrinvoicejob.Or(
			ocrinvoicejob.And(ocrinvoicejob.StatusEQ(ocrinvoicejob.StatusCreated), ocrinvoicejob.GroupIDIsNil(), ocrinvoicejob.UpdatedAtLT(before)),
			ocrinvoicejob.And(ocrinvoicejob.StatusEQ(ocrinvoicejob.StatusQueued), ocrinvoicejob.UpdatedAtLT(before)),
			ocrinvoicejob.And(ocrinvoicejob.StatusEQ(ocrinvoicejob.StatusProcessing), ocrinvoicejob.UpdatedAtLT(processingBefore)),
		)).
		Order(ent.Asc(ocrinvoicejob.FieldUpdatedAt), ent.Asc(ocrinvoicejob.FieldID)).
		Limit(limit).
		All(ctx)
	if err != nil {
		return nil, internal("list jobs expecting tasks", err)
	}
	return js, nil
}

// RunningJobs lists, oldest start first and at most limit, the processing jobs that
// started before startedBefore: the requeue sweep asks Redis whether the workers of
// those whose running attempt has a heartbeat (JobAttempt.Heartbeat) still beat.
func (s *Service) RunningJobs(ctx context.Context, startedBefore time.Time, limit int) ([]*ent.OcrInvoiceJob, error) {
	js, err := s.client.OcrInvoiceJob.Query().
		Where(ocrinvoicejob.StatusEQ(ocrinvoicejob.StatusProcessing), ocrinvoicejob.StartedAtLT(startedBefore)).
		Order(ent.Asc(ocrinvoicejob.FieldStartedAt), ent.Asc(ocrinvoicejob.FieldID)).
		Limit(limit).
		All(ctx)
	if err != nil {
		return nil, internal("list running jobs", err)
	}
	return js, nil
}

// RunEnqueuer is an Enqueuer that also handles the tasks of later runs of a job (see
// internal/tasks.TaskID), which internal/tasks.Client does. Without it, a job on a run
// after the first cannot be enqueued.
type RunEnqueuer interface {
	// EnqueueJobRun enqueues the task of the job's run, to be retried MaxRetry - retried
	// times.
	EnqueueJobRun(ctx context.Context, jobID string, run int, priority string, retried int) error
	// DeleteJobRunTask is DeleteJobTask for the task of the job's run.
	DeleteJobRunTask(ctx context.Context, jobID string, run int, priority string) error
}

// enqueueTask enqueues the task of j's current run; retried counts the attempts the run
// has used already.
func (s *Service) enqueueTask(ctx context.Context, j *ent.OcrInvoiceJob, retried int) error {
	if j.TaskRun == 0 {
		return s.enq.EnqueueJob(ctx, j.ID, string(j.Priority))
	}
	re, ok := s.enq.(RunEnqueuer)
	if !ok {
		return fmt.Errorf("the queue cannot enqueue run %d of job %s", j.TaskRun, j.ID)
	}
	return re.EnqueueJobRun(ctx, j.ID, j.TaskRun, string(j.Priority), retried)
}

// Reenqueue enqueues the task of a job whose task was lost (Redis restarted empty, a
// worker died with its lease) and moves a created job to queued. The task is that of
// the job's current run (its id is the job id on the first run), so a task that exists
// after all is not duplicated; the attempts counted in retryCount count toward the
// task's retries. Errors: Unavailable when there is no queue or it cannot be reached.
func (s *Service) Reenqueue(ctx context.Context, j *ent.OcrInvoiceJob) error {
	if s.enq == nil {
		return apperr.Unavailable("no job queue configured", nil)
	}
	if err := s.enqueueTask(ctx, j, j.RetryCount); err != nil {
		return apperr.Unavailable(fmt.Sprintf("enqueue task of job %s", j.ID), err)
	}
	if j.Status == ocrinvoicejob.StatusCreated {
		if _, err := s.markQueued(ctx, j.ID); err != nil {
			return internal("mark job queued", err)
		}
	}
	return nil
}
