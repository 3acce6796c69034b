package jobs

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// Run is one processing run of a job, from StartRun to its end: the job as the start
// left it and its template, which the run's writes use instead of reading them again.
// Each write (Progress, Complete, Fail) is one UPDATE conditional on the job still
// being processing on the run's task run (and, for the writes that end the run, on the
// same start), and publishes the job's event (see Options.Events) once it succeeded.
// Progress is the exception: its row writes are coalesced (see Run.Progress), so a run
// writes its row once per state change plus at most once per
// Options.ProgressWriteEvery, while every progress is published.
// A write the job no longer takes (cancelled, given to another run, restarted) is
// refused with FailedPrecondition (IsNotProcessing). A Run is safe for concurrent use.
type Run struct {
	s *Service
	// number is the task run the Run was started for, AnyRun for any.
	number int
	tpl    *ent.OcrTemplate

	// wmu serialises the run's row writes, so that a coalesced progress write never
	// lands after (or races) the write that ends the run. Taken before mu.
	wmu sync.Mutex

	mu sync.Mutex
	// job is the row as this run last wrote it, with the progress it last published.
	job *ent.OcrInvoiceJob
	// publishFailed is set after the run's first failed event publish, so that a dead
	// Redis costs one warning per run, not one per page.
	publishFailed bool
	// lastWrite is when this run last wrote the job's row (zero: never, e.g. a Run of
	// currentRun, whose first progress is written at once).
	lastWrite time.Time
	// pending is progress published but not written yet, pendingAt its time; flush
	// writes it when ProgressWriteEvery has passed since lastWrite. flushGen tells the
	// armed timer from one that was stopped or replaced.
	pending   *invoice.Progress
	pendingAt time.Time
	flush     *time.Timer
	flushGen  int
	// closed is set when the run starts to end: no progress is written after it.
	closed bool
	// refusal is why a coalesced progress write was refused (IsNotProcessing); the next
	// Progress returns it, so that the worker stops the run.
	refusal error
}

// Job returns a copy of the job as the run last wrote it.
func (r *Run) Job() *ent.OcrInvoiceJob {
	r.mu.Lock()
	defer r.mu.Unlock()
	cp := *r.job
	return &cp
}

// Template returns the job's template, read when the run started (nil for a Run of
// LoseRun, which needs none).
func (r *Run) Template() *ent.OcrTemplate { return r.tpl }

// Number returns the task run the Run was started for (AnyRun: whichever the job is on).
func (r *Run) Number() int { return r.number }

// StartRun moves a created or queued job to "processing" for the task of run (the job's
// task run it was enqueued for, see internal/tasks.TaskID; AnyRun skips the check) by
// worker w, sets startedAt and returns the Run, which holds the job and its template.
// A job already "processing" (its task was redelivered after a worker died) is
// restarted: startedAt is reset. A task of another run than the job's is stale and
// refused with FailedPrecondition, so that a task the queue redelivers after its run was
// given to another task never runs the job twice. The start appends an attempt (outcome
// running) to the job's attempts; an attempt still running from an earlier delivery of
// the same task is closed as interrupted. The start is published as an event.
// Errors: NotFound; FailedPrecondition (stale, or a state the table does not let start,
// e.g. cancelled: the task must be dropped); Internal when the template cannot be read.
func (s *Service) StartRun(ctx context.Context, id string, run int, w Worker) (*Run, error) {
	cur, err := s.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if !allows(opStart, cur.Status, ocrinvoicejob.StatusProcessing) {
		return nil, forbidden(string(opStart), cur.Status)
	}
	if run != AnyRun && cur.TaskRun != run {
		return nil, staleRun(run, cur.TaskRun)
	}
	tpl, err := s.client.OcrTemplate.Get(ctx, cur.TemplateID)
	if err != nil {
		return nil, internal("load job template", err)
	}
	started, err := s.startFrom(ctx, cur, run, w)
	if err != nil {
		return nil, err
	}
	r := &Run{s: s, number: run, tpl: tpl, job: started, lastWrite: time.Now()}
	r.publish(ctx, started, "")
	return r, nil
}

// startFrom is start, once more from "queued" when cur was read "created" and the
// enqueue that put the task on the queue marked the job queued before the UPDATE: the
// task is the one the worker holds, and refusing it would leave the job to the requeue
// sweep for a minute.
func (s *Service) startFrom(ctx context.Context, cur *ent.OcrInvoiceJob, run int, w Worker) (*ent.OcrInvoiceJob, error) {
	started, err := s.start(ctx, cur, run, w)
	if err == nil || cur.Status != ocrinvoicejob.StatusCreated {
		return started, err
	}
	now, gerr := s.GetJob(ctx, cur.ID)
	if gerr != nil || now.Status != ocrinvoicejob.StatusQueued || now.TaskRun != cur.TaskRun {
		return nil, err
	}
	return s.start(ctx, now, run, w)
}

// start is the UPDATE of StartRun for the task of run: cur, as read, moves to processing
// when it has not changed meanwhile. It returns cur as the UPDATE left it.
func (s *Service) start(ctx context.Context, cur *ent.OcrInvoiceJob, run int, w Worker) (*ent.OcrInvoiceJob, error) {
	now := s.clock()
	out := *cur
	out.Status = ocrinvoicejob.StatusProcessing
	out.StartedAt = &now
	out.Progress = invoice.Progress{Percentage: 0, CurrentStep: "started"}
	out.Attempts = startAttempt(cur.Attempts, now, w)
	out.UpdatedAt = now
	n, err := s.client.OcrInvoiceJob.Update().
		Where(ocrinvoicejob.ID(cur.ID), ocrinvoicejob.StatusEQ(cur.Status), ocrinvoicejob.TaskRun(cur.TaskRun)).
		SetStatus(out.Status).
		SetStartedAt(now).
		SetProgress(out.Progress).
		SetAttempts(out.Attempts).
		SetUpdatedAt(now).
		Save(ctx)
	if err != nil {
		return nil, mapDBError("start job", err)
	}
	if n == 0 {
		return nil, s.refused(ctx, cur.ID, run, opStart)
	}
	return &out, nil
}

// StartProcessing is StartRun for any run by an unnamed worker, returning the job as
// started: for callers that do not keep the Run (tests, tools).
func (s *Service) StartProcessing(ctx context.Context, id string) (*ent.OcrInvoiceJob, error) {
	r, err := s.StartRun(ctx, id, AnyRun, Worker{})
	if err != nil {
		return nil, err
	}
	return r.Job(), nil
}

// currentRun returns the Run of job id as stored, on whichever run it is, for the
// operations called by job id rather than on a Run. Errors: NotFound.
func (s *Service) currentRun(ctx context.Context, id string, withTemplate bool) (*Run, error) {
	cur, err := s.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	r := &Run{s: s, number: AnyRun, job: cur}
	if withTemplate && holdsRun(cur.Status) {
		if r.tpl, err = s.client.OcrTemplate.Get(ctx, cur.TemplateID); err != nil {
			return nil, internal("load job template", err)
		}
	}
	return r, nil
}

// refused explains why an UPDATE conditional on job id's state (and, unless AnyRun, on
// task run run) changed no row: NotFound; FailedPrecondition naming a stale run, the
// status the table does not let o leave, or a restart meanwhile.
func (s *Service) refused(ctx context.Context, id string, run int, o op) error {
	j, err := s.GetJob(ctx, id)
	if err != nil {
		return err
	}
	if run != AnyRun && j.TaskRun != run {
		return staleRun(run, j.TaskRun)
	}
	if o == opStart || !holdsRun(j.Status) {
		return forbidden(string(o), j.Status)
	}
	return apperr.FailedPrecondition("the job was restarted meanwhile")
}

// save runs the one UPDATE of a write of the run that moves its job to status to by
// operation o, with the changes of set. The job must be in a status the table lets o
// leave for to (processing) and on the run's task run; for the writes that end the run
// (sameStart) also still on the start the run made. No row matched: see refused.
func (r *Run) save(ctx context.Context, o op, to ocrinvoicejob.Status, sameStart bool, set func(*ent.OcrInvoiceJobMutation)) error {
	j := r.Job()
	upd := r.s.client.OcrInvoiceJob.Update().
		Where(ocrinvoicejob.ID(j.ID), ocrinvoicejob.StatusIn(sourcesOf(o, to)...))
	if r.number != AnyRun {
		upd.Where(ocrinvoicejob.TaskRun(r.number))
	}
	if sameStart {
		upd.Where(ocrinvoicejob.TaskRun(j.TaskRun))
		if j.StartedAt != nil {
			upd.Where(ocrinvoicejob.StartedAt(*j.StartedAt))
		}
	}
	set(upd.Mutation())
	if sameStart {
		// The write that ends the run: no progress is written after it, and one being
		// written now finishes first.
		r.closeProgress()
		r.wmu.Lock()
		defer r.wmu.Unlock()
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return mapDBError(string(o)+" job", err)
	}
	if n == 0 {
		return r.s.refused(ctx, j.ID, r.number, o)
	}
	return nil
}

// Progress records the progress of the run; the percentage is clamped to 0..100.
// The progress is published at once; the job's row is written at once only when
// Options.ProgressWriteEvery has passed since the run last wrote it (the start counts),
// otherwise the latest progress is written when that time has passed, unless the run
// ends first (its last write carries the final progress). So a short run writes no
// progress at all and a long one at most once per ProgressWriteEvery.
// Errors: FailedPrecondition when the job is not processing on the run any more (it
// was cancelled, or given to another run: the run should stop), noticed by this write
// or by a coalesced one before it.
func (r *Run) Progress(ctx context.Context, p invoice.Progress) error {
	if err := ctx.Err(); err != nil {
		return err // the run is stopping: nothing to publish
	}
	p.Percentage = min(max(p.Percentage, 0), 100)
	now := r.s.clock()
	every := r.s.progressEvery
	r.mu.Lock()
	if err := r.refusal; err != nil {
		r.mu.Unlock()
		return err
	}
	if wait := every - time.Since(r.lastWrite); every > 0 && !r.lastWrite.IsZero() && wait > 0 && !r.closed {
		r.pending, r.pendingAt = &p, now
		if r.flush == nil {
			r.armFlush(wait)
		}
		r.job.Progress, r.job.UpdatedAt = p, now
		j := *r.job
		r.mu.Unlock()
		r.publish(ctx, &j, "")
		return nil
	}
	r.pending = nil
	r.stopFlush()
	r.mu.Unlock()

	if err := r.writeProgress(ctx, p, now); err != nil {
		return err
	}
	r.mu.Lock()
	r.job.Progress, r.job.UpdatedAt = p, now
	j := *r.job
	r.mu.Unlock()
	r.publish(ctx, &j, "")
	return nil
}

// writeProgress is the UPDATE of progress p at now.
func (r *Run) writeProgress(ctx context.Context, p invoice.Progress, now time.Time) error {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return r.s.refused(ctx, r.Job().ID, r.number, opProgress)
	}
	err := r.save(ctx, opProgress, ocrinvoicejob.StatusProcessing, false, func(m *ent.OcrInvoiceJobMutation) {
		m.SetProgress(p)
		m.SetUpdatedAt(now)
	})
	if err == nil {
		r.mu.Lock()
		r.lastWrite = time.Now()
		r.mu.Unlock()
	}
	return err
}

// progressFlushTimeout bounds a coalesced progress write, which runs on no caller's
// context.
const progressFlushTimeout = 10 * time.Second

// armFlush (r.mu held) makes flushProgress run after wait.
func (r *Run) armFlush(wait time.Duration) {
	r.stopFlush()
	gen := r.flushGen
	r.flush = time.AfterFunc(wait, func() { r.flushProgress(gen) })
}

// stopFlush (r.mu held) stops the armed flush; one already running finds itself
// outdated and does nothing.
func (r *Run) stopFlush() {
	if r.flush != nil {
		r.flush.Stop()
		r.flush = nil
	}
	r.flushGen++
}

// closeProgress stops progress writes: the run is ending.
func (r *Run) closeProgress() {
	r.mu.Lock()
	r.closed = true
	r.pending = nil
	r.stopFlush()
	r.mu.Unlock()
}

// flushProgress writes the pending progress, when the flush armed as gen is still the
// current one and the run has not started to end.
func (r *Run) flushProgress(gen int) {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	r.mu.Lock()
	if gen != r.flushGen || r.closed || r.pending == nil {
		r.mu.Unlock()
		return
	}
	r.flush = nil
	if wait := r.s.progressEvery - time.Since(r.lastWrite); wait > 0 {
		r.armFlush(wait) // an immediate write came in between
		r.mu.Unlock()
		return
	}
	p, now := *r.pending, r.pendingAt
	r.pending = nil
	r.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), progressFlushTimeout)
	defer cancel()
	err := r.save(ctx, opProgress, ocrinvoicejob.StatusProcessing, false, func(m *ent.OcrInvoiceJobMutation) {
		m.SetProgress(p)
		m.SetUpdatedAt(now)
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err == nil:
		r.lastWrite = time.Now()
	case IsNotProcessing(err):
		r.refusal = err
	default:
		r.s.log.Warn("Could not write job progress", slog.String("job_id", r.job.ID), slog.Any("error", err))
	}
}

// Holds reports whether the job, read again now, is still processing on the run: false
// when it was cancelled or given to another run meanwhile, with the job as stored.
// A worker whose run was interrupted asks it to tell a cancelled job from a shutdown.
func (r *Run) Holds(ctx context.Context) (bool, *ent.OcrInvoiceJob, error) {
	j, err := r.s.GetJob(ctx, r.job.ID)
	if err != nil {
		return false, nil, err
	}
	return holdsRun(j.Status) && (r.number == AnyRun || j.TaskRun == r.number), j, nil
}

// publish sends the event of job j (as this run wrote it) with message. A failure is
// logged, as a warning the first time in the run; the change is committed either way.
func (r *Run) publish(ctx context.Context, j *ent.OcrInvoiceJob, message string) {
	if r.s.events == nil {
		return
	}
	err := r.s.events.Publish(context.WithoutCancel(ctx), EventOf(j, message))
	if err == nil {
		return
	}
	r.mu.Lock()
	first := !r.publishFailed
	r.publishFailed = true
	r.mu.Unlock()
	level := slog.LevelDebug
	if first {
		level = slog.LevelWarn
	}
	r.s.log.Log(ctx, level, "Could not publish job event", slog.String("job_id", j.ID),
		slog.String("status", string(j.Status)), slog.Any("error", err))
}

// ended finishes a write that moved the run's job to a terminal or queued state: the
// run holds out from now on, its webhook is queued when owed, its event published.
func (r *Run) ended(ctx context.Context, out *ent.OcrInvoiceJob, message string) *ent.OcrInvoiceJob {
	r.mu.Lock()
	r.job = out
	r.mu.Unlock()
	if IsTerminal(out.Status) {
		r.s.enqueueWebhook(ctx, out)
	}
	r.publish(ctx, out, message)
	cp := *out
	return &cp
}

// copyMetadata returns md with key set to v, md unchanged.
func copyMetadata(md map[string]any, key string, v any) map[string]any {
	out := make(map[string]any, len(md)+1)
	maps.Copy(out, md)
	out[key] = v
	return out
}

// elapsed returns the seconds from startedAt to now, rounded to the millisecond; 0
// without a start.
func elapsed(startedAt *time.Time, now time.Time) float64 {
	if startedAt == nil {
		return 0
	}
	return roundSeconds(max(now.Sub(*startedAt).Seconds(), 0))
}
