package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
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

// StartProcessing moves a created or queued job to "processing" and sets startedAt.
// A job already "processing" (its task was redelivered after a worker died) is
// restarted: startedAt is reset. Errors: NotFound, FailedPrecondition for any other
// state (e.g. cancelled: the task must be dropped). It does not look at the job's task
// run: the worker uses StartRun.
func (s *Service) StartProcessing(ctx context.Context, id string) (*ent.OcrInvoiceJob, error) {
	return s.StartRun(ctx, id, AnyRun, Worker{})
}

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

// StartRun is StartProcessing for the task of run (the job's task run it was enqueued
// for, see internal/tasks.TaskID) by worker w: a task of
// another run than the job's is stale and refused with FailedPrecondition, so that a
// task the queue redelivers after its run was given to another task never runs the job
// twice. The start appends an attempt (outcome running) to the job's attempts; an
// attempt still running from an earlier delivery of the same task is closed as
// interrupted.
func (s *Service) StartRun(ctx context.Context, id string, run int, w Worker) (*ent.OcrInvoiceJob, error) {
	cur, err := s.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	from := []ocrinvoicejob.Status{ocrinvoicejob.StatusCreated, ocrinvoicejob.StatusQueued, ocrinvoicejob.StatusProcessing}
	if !containsStatus(from, cur.Status) {
		return nil, forbidden("start", cur.Status)
	}
	if run != AnyRun && cur.TaskRun != run {
		return nil, staleRun(run, cur.TaskRun)
	}
	now := s.clock()
	n, err := s.client.OcrInvoiceJob.Update().
		Where(ocrinvoicejob.ID(id), ocrinvoicejob.StatusEQ(cur.Status), ocrinvoicejob.TaskRun(cur.TaskRun)).
		SetStatus(ocrinvoicejob.StatusProcessing).
		SetStartedAt(now).
		SetProgress(invoice.Progress{Percentage: 0, CurrentStep: "started"}).
		SetAttempts(startAttempt(cur.Attempts, now, w)).
		SetUpdatedAt(now).
		Save(ctx)
	if err != nil {
		return nil, mapDBError("start job", err)
	}
	if n == 0 {
		j, err := s.GetJob(ctx, id)
		if err != nil {
			return nil, err
		}
		if run != AnyRun && j.TaskRun != run {
			return nil, staleRun(run, j.TaskRun)
		}
		return nil, forbidden("start", j.Status)
	}
	return s.GetJob(ctx, id)
}

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

func containsStatus(list []ocrinvoicejob.Status, st ocrinvoicejob.Status) bool {
	for _, s := range list {
		if s == st {
			return true
		}
	}
	return false
}

// SetProgress records the progress of a processing job; percentage is clamped to
// 0..100. Errors: NotFound, FailedPrecondition when the job is not processing (e.g.
// it was cancelled: the handler should stop).
func (s *Service) SetProgress(ctx context.Context, id string, p invoice.Progress) error {
	return s.SetRunProgress(ctx, id, AnyRun, p)
}

// SetRunProgress is SetProgress for the worker that started run (StartRun): when the
// job is on another run (the worker was presumed dead and the job given to another
// task), the write is refused with FailedPrecondition and the worker should stop.
func (s *Service) SetRunProgress(ctx context.Context, id string, run int, p invoice.Progress) error {
	p.Percentage = min(max(p.Percentage, 0), 100)
	upd := s.client.OcrInvoiceJob.Update().
		Where(ocrinvoicejob.ID(id), ocrinvoicejob.StatusEQ(ocrinvoicejob.StatusProcessing))
	if run != AnyRun {
		upd.Where(ocrinvoicejob.TaskRun(run))
	}
	n, err := upd.
		SetProgress(p).
		SetUpdatedAt(s.clock()).
		Save(ctx)
	if err != nil {
		return mapDBError("set job progress", err)
	}
	if n == 0 {
		j, err := s.GetJob(ctx, id)
		if err != nil {
			return err
		}
		if run != AnyRun && j.TaskRun != run {
			return staleRun(run, j.TaskRun)
		}
		return forbidden("report progress of", j.Status)
	}
	return nil
}

// CompleteInput is what a finished run produced.
type CompleteInput struct {
	DocumentInfo      *invoice.DocumentInfo
	ExtractedData     *invoice.ExtractedData
	Confidence        *invoice.Confidence
	ValidationResults *invoice.ValidationResults
	// Pages read; the cost is Service.Cost(Pages, price per page, priority).
	Pages int
	// SHA256 is the hex SHA-256 of the document bytes.
	SHA256 string
}

// Complete stores the results of a processing job and moves it to "completed":
// completedAt, processingTime (seconds since startedAt), cost (Pages x the template's
// price per page, or the service's, x the service's priority factor) and currency (the
// template's default currency). Errors: NotFound, FailedPrecondition when the job is
// no longer processing (e.g. cancelled meanwhile; the results are then dropped).
func (s *Service) Complete(ctx context.Context, id string, in CompleteInput) (*ent.OcrInvoiceJob, error) {
	return s.CompleteRun(ctx, id, AnyRun, in)
}

// CompleteRun is Complete for the worker that started run (StartRun): when the job is on
// another run, the results are refused (FailedPrecondition) and must be dropped. The
// job's running attempt ends as completed.
func (s *Service) CompleteRun(ctx context.Context, id string, run int, in CompleteInput) (*ent.OcrInvoiceJob, error) {
	cur, err := s.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if run != AnyRun && cur.TaskRun != run {
		return nil, staleRun(run, cur.TaskRun)
	}
	if cur.Status != ocrinvoicejob.StatusProcessing {
		return nil, forbidden("complete", cur.Status)
	}
	tpl, err := s.client.OcrTemplate.Get(ctx, cur.TemplateID)
	if err != nil {
		return nil, internal("load job template", err)
	}
	// A template's price applies to the jobs of owners who may use it; a job left on a
	// template that was unshared or given to another owner since pays the service's.
	price := tpl.PricePerPage
	if price <= 0 || !TemplateVisibleTo(tpl, cur.CreatedBy) {
		price = s.pricePerPage
	}
	now := s.clock()
	var elapsed float64
	if cur.StartedAt != nil {
		elapsed = max(now.Sub(*cur.StartedAt).Seconds(), 0)
	}
	dup := s.earlierDuplicate(ctx, cur, in.SHA256)
	return s.runTransition(ctx, cur, ocrinvoicejob.StatusCompleted, "complete", func(m *ent.OcrInvoiceJobMutation) {
		m.SetAttempts(endAttempt(cur.Attempts, now, invoice.AttemptCompleted, ""))
		if dup != "" {
			md := make(map[string]any, len(cur.Metadata)+1)
			maps.Copy(md, cur.Metadata)
			md[MetadataDuplicateOf] = dup
			m.SetMetadata(md)
		}
		m.SetCompletedAt(now)
		m.SetProcessingTime(roundSeconds(elapsed))
		m.SetProgress(invoice.Progress{Percentage: 100, CurrentStep: "completed", TotalSteps: cur.Progress.TotalSteps})
		if in.DocumentInfo != nil {
			m.SetDocumentInfo(in.DocumentInfo)
		}
		if in.ExtractedData != nil {
			m.SetExtractedData(in.ExtractedData)
			m.SetInvoiceNumber(in.ExtractedData.Invoice.Number)
			m.SetSupplierName(in.ExtractedData.Invoice.Supplier.Name)
			m.SetCustomerName(in.ExtractedData.Invoice.Customer.Name)
		}
		if in.Confidence != nil {
			m.SetConfidence(in.Confidence)
		}
		if in.ValidationResults != nil {
			m.SetValidationResults(in.ValidationResults)
		}
		if in.SHA256 != "" {
			m.SetDocumentSha256(in.SHA256)
		}
		m.SetCost(s.Cost(in.Pages, price, string(cur.Priority)))
		m.SetCurrency(tpl.DefaultCurrency)
	})
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

// Fail records a failed attempt: a line "RFC3339-time reason" is appended to errorLog.
// When permanent, the job moves to "failed" (completedAt set). Otherwise it goes back
// to "queued" and its retryCount grows, because asynq will deliver the task again;
// the handler must pass permanent=true on the last attempt (asynq.GetRetryCount ==
// asynq.GetMaxRetry) and for errors that retrying cannot fix.
// Errors: NotFound, FailedPrecondition when the job is not processing.
func (s *Service) Fail(ctx context.Context, id string, reason string, permanent bool) (*ent.OcrInvoiceJob, error) {
	return s.FailRun(ctx, id, AnyRun, reason, permanent)
}

// FailRun is Fail for the worker that started run (StartRun): when the job is on another
// run, the failure is refused (FailedPrecondition). The job's running attempt ends as
// failed (permanent) or retry, with the reason.
func (s *Service) FailRun(ctx context.Context, id string, run int, reason string, permanent bool) (*ent.OcrInvoiceJob, error) {
	outcome := invoice.AttemptRetry
	if permanent {
		outcome = invoice.AttemptFailed
	}
	return s.endRun(ctx, id, run, time.Time{}, "fail", reason, outcome, permanent, false)
}

// LoseRun records that the worker of the job's run stopped heart-beating while the job
// was processing: the attempt ends as worker_lost, errorLog gets the reason, and the job
// moves to a new task run (run + 1) so that the lost worker's task, should the queue
// deliver it again, and the worker itself, should it be alive after all, are refused.
// When permanent (its retries are used up) the job fails; otherwise it goes back to
// queued with retryCount + 1 and the caller enqueues the new run's task (Reenqueue).
// The change applies only while the job is processing on run and, when startedAt is not
// zero, since startedAt (not restarted meanwhile); otherwise FailedPrecondition.
func (s *Service) LoseRun(ctx context.Context, id string, run int, startedAt time.Time, reason string, permanent bool) (*ent.OcrInvoiceJob, error) {
	if run < 0 {
		return nil, apperr.Invalid("lose run: negative run")
	}
	outcome := invoice.AttemptWorkerLost
	return s.endRun(ctx, id, run, startedAt, "requeue", reason, outcome, permanent, true)
}

// endRun ends the processing run of job id with a failure: see FailRun and LoseRun.
func (s *Service) endRun(ctx context.Context, id string, run int, startedAt time.Time, action, reason, outcome string, permanent, nextRun bool) (*ent.OcrInvoiceJob, error) {
	cur, err := s.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if run != AnyRun && cur.TaskRun != run {
		return nil, staleRun(run, cur.TaskRun)
	}
	if cur.Status != ocrinvoicejob.StatusProcessing {
		return nil, forbidden(action, cur.Status)
	}
	if !startedAt.IsZero() && (cur.StartedAt == nil || !cur.StartedAt.Equal(startedAt)) {
		return nil, apperr.FailedPrecondition("the job was restarted meanwhile")
	}
	now := s.clock()
	log := appendErrorLog(cur.ErrorLog, now, reason)
	to := ocrinvoicejob.StatusQueued
	if permanent {
		to = ocrinvoicejob.StatusFailed
	}
	return s.runTransition(ctx, cur, to, action, func(m *ent.OcrInvoiceJobMutation) {
		if cur.StartedAt != nil {
			m.Where(ocrinvoicejob.StartedAt(*cur.StartedAt))
		}
		m.SetErrorLog(log)
		m.SetAttempts(endAttempt(cur.Attempts, now, outcome, reason))
		if nextRun {
			m.AddTaskRun(1)
		}
		if permanent {
			m.SetCompletedAt(now)
			if cur.StartedAt != nil {
				m.SetProcessingTime(roundSeconds(max(now.Sub(*cur.StartedAt).Seconds(), 0)))
			}
		} else {
			m.AddRetryCount(1)
		}
	})
}

// runTransition is transition from cur's status, applied only while the job is still on
// cur's task run (the changes of extra were computed from cur).
func (s *Service) runTransition(ctx context.Context, cur *ent.OcrInvoiceJob, to ocrinvoicejob.Status, action string, extra func(*ent.OcrInvoiceJobMutation)) (*ent.OcrInvoiceJob, error) {
	return s.transition(ctx, cur.ID, to, action, func(m *ent.OcrInvoiceJobMutation) {
		m.Where(ocrinvoicejob.StatusEQ(cur.Status), ocrinvoicejob.TaskRun(cur.TaskRun))
		extra(m)
	})
}

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
