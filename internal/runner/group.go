package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/conditions"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// Condition reasons of a group.
const (
	ReasonJobsRunning          = "JobsRunning"
	ReasonJobSuspended         = "JobSuspended"
	ReasonJobResumed           = "JobResumed"
	ReasonAllJobsSucceeded     = "AllJobsSucceeded"
	ReasonWithinBackoffLimit   = "CompletedWithinBackoffLimit"
	ReasonBackoffLimitExceeded = "BackoffLimitExceeded"
	ReasonDeadlineExceeded     = "DeadlineExceeded"
	ReasonJobsCancelled        = "JobsCancelled"
	ReasonRetried              = "Retried"
	ReasonFinished             = "Finished"
)

// Result says when a reconciler wants to look at its object again: RequeueAfter 0 means
// only on the next event or periodic resync.
type Result struct {
	RequeueAfter time.Duration
}

// GroupReconciler converges one job group, the way a Kubernetes Job controller does:
// it loads the group and its jobs, classifies them (created = pending; queued and
// processing = active; completed = succeeded; failed; cancelled), acts, recomputes the
// whole status and writes it once if it changed. It never branches on what woke it.
//
// Rules, first match wins, for a group not finished yet:
//   - more failed jobs than spec.backoffLimit: phase Failed, condition Failed
//     (BackoffLimitExceeded), remaining jobs cancelled;
//   - spec.activeDeadlineSeconds passed since status.startTime (not while suspended):
//     Failed (DeadlineExceeded), remaining jobs cancelled;
//   - every job finished: with none cancelled, phase Complete, condition Complete
//     (AllJobsSucceeded, or CompletedWithinBackoffLimit when some failed but no more than
//     backoffLimit: a failed job has used its own task retries, so it is final and counts
//     against the limit, like a failed pod of an indexed Job); with some cancelled (by
//     cancelOcrJobGroup or one by one), Failed (JobsCancelled);
//   - spec.suspend: nothing released, phase Suspended, condition Suspended (queued and
//     processing jobs finish: unlike a pod, an OCR run in progress is not thrown away);
//   - otherwise: created jobs, oldest first, are enqueued until spec.parallelism (0: no
//     limit) of the group's jobs are queued or processing; phase Running. startTime is set
//     at the first release, and again when the group is resumed (the deadline clock
//     restarts, as for a resumed Kubernetes Job).
//
// A finished group (Complete or Failed) stays so while all its jobs are finished; when
// it has unfinished jobs again (retryFailedOcrJobGroup), its Complete and Failed
// conditions turn False (Retried), startTime and completionTime are cleared, and the
// rules above apply afresh: failures are counted from the jobs' statuses, so retried jobs
// no longer count. ttlSecondsAfterFinished after completionTime, the group, its jobs and
// the references of its jobs' owners to the uploads they named are deleted; an uploaded
// file goes when no owner holds it and no job names it any more.
type GroupReconciler struct {
	Jobs *jobs.Service
	// Uploads, when set, is where the files of deleted groups' upload:// documents are
	// removed from (when nothing else references them).
	Uploads *uploads.Store
	// Now is the clock [time.Now].
	Now    func() time.Time
	Logger *slog.Logger
}

func (r *GroupReconciler) now() time.Time {
	if r.Now == nil {
		return time.Now().UTC().Truncate(time.Microsecond)
	}
	return r.Now().UTC().Truncate(time.Microsecond)
}

func (r *GroupReconciler) log() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}

// Reconcile converges group id once. A group that does not exist (deleted) is no error.
// Errors: the database's or the queue's; the caller retries later.
func (r *GroupReconciler) Reconcile(ctx context.Context, id string) (Result, error) {
	now := r.now()
	g, err := r.Jobs.GetGroup(ctx, id)
	if apperr.KindOf(err) == apperr.KindNotFound {
		return Result{}, nil
	}
	if err != nil {
		return Result{}, err
	}
	obs, err := r.Jobs.GroupStatusOf(ctx, g)
	if err != nil {
		return Result{}, err
	}
	c := r.newConvergence(ctx, now, g, obs)
	c.restartIfRetried()
	c.act()
	return c.finish()
}

// convergence is one Reconcile of one group: the status observed from its jobs, the
// status it computes from it (st) and what acting cost.
type convergence struct {
	r    *GroupReconciler
	ctx  context.Context
	now  time.Time
	g    *ent.OcrJobGroup
	spec invoice.GroupSpec
	// prev is the stored status, obs the one the group's jobs tell now.
	prev, obs invoice.GroupStatus
	// st is the status being computed: obs, with prev's conditions and times.
	st invoice.GroupStatus
	// unfinished counts the jobs not finished yet; finished tells a group that was
	// Complete or Failed and still is.
	unfinished int
	finished   bool
	res        Result
	actErr     error
}

func (r *GroupReconciler) newConvergence(ctx context.Context, now time.Time, g *ent.OcrJobGroup, obs invoice.GroupStatus) *convergence {
	c := &convergence{r: r, ctx: ctx, now: now, g: g, spec: g.Spec, prev: g.Status, obs: obs, st: obs}
	c.st.Conditions = append([]conditions.Condition{}, c.prev.Conditions...)
	c.st.StartTime, c.st.CompletionTime = c.prev.StartTime, c.prev.CompletionTime
	c.unfinished = c.st.Total - (c.st.Succeeded + c.st.Failed + c.st.Cancelled)
	c.finished = c.prev.Phase == invoice.GroupPhaseComplete || c.prev.Phase == invoice.GroupPhaseFailed
	return c
}

func (c *convergence) setCond(typ string, status conditions.Status, reason, msg string) {
	c.st.Conditions, _ = conditions.Set(c.st.Conditions, conditions.Condition{Type: typ, Status: status, Reason: reason, Message: msg}, c.now)
}

// unsetCond turns condition typ False when the status has it.
func (c *convergence) unsetCond(typ, reason, msg string) {
	if conditions.Find(c.st.Conditions, typ) != nil {
		c.setCond(typ, conditions.False, reason, msg)
	}
}

// restartIfRetried starts a finished group over when it has unfinished jobs again
// (retried, or jobs were added).
func (c *convergence) restartIfRetried() {
	if !c.finished || c.unfinished == 0 {
		return
	}
	c.st.StartTime, c.st.CompletionTime = nil, nil
	c.unsetCond(conditions.TypeComplete, ReasonRetried, "the group has unfinished jobs again")
	c.unsetCond(conditions.TypeFailed, ReasonRetried, "the group has unfinished jobs again")
	c.finished = false
}

// act applies the first rule that matches (see GroupReconciler).
func (c *convergence) act() {
	st, spec := &c.st, c.spec
	switch {
	case c.finished:
		st.Phase = c.prev.Phase
	case st.Failed > spec.BackoffLimit:
		c.fail(ReasonBackoffLimitExceeded, fmt.Sprintf("%d jobs failed, more than the backoffLimit of %d", st.Failed, spec.BackoffLimit))
	case c.deadlinePassed():
		c.fail(ReasonDeadlineExceeded, fmt.Sprintf("the group ran longer than activeDeadlineSeconds (%d s)", *spec.ActiveDeadlineSeconds))
	case st.Total > 0 && c.unfinished == 0 && st.Cancelled > 0:
		c.fail(ReasonJobsCancelled, fmt.Sprintf("%d of %d jobs were cancelled", st.Cancelled, st.Total))
	case st.Total > 0 && c.unfinished == 0:
		c.complete()
	case spec.Suspend:
		st.Phase = invoice.GroupPhaseSuspended
		c.setCond(conditions.TypeSuspended, conditions.True, ReasonJobSuspended, "spec.suspend is set: no more jobs are released")
		c.unsetCond(conditions.TypeProgress, ReasonJobSuspended, "the group is suspended")
	default:
		c.run()
	}
}

// deadlinePassed tells whether spec.activeDeadlineSeconds has passed since startTime
// (never while suspended).
func (c *convergence) deadlinePassed() bool {
	if c.spec.ActiveDeadlineSeconds == nil || c.st.StartTime == nil || c.spec.Suspend {
		return false
	}
	deadline := c.st.StartTime.Add(time.Duration(*c.spec.ActiveDeadlineSeconds) * time.Second)
	return !c.now.Before(deadline)
}

// fail makes the group Failed for reason, cancelling its unfinished jobs.
func (c *convergence) fail(reason, msg string) {
	if c.unfinished > 0 {
		c.cancelUnfinished(reason)
	}
	c.st.Phase = invoice.GroupPhaseFailed
	c.setCond(conditions.TypeFailed, conditions.True, reason, msg)
	c.unsetCond(conditions.TypeProgress, ReasonFinished, "the group has failed")
	if c.st.CompletionTime == nil {
		c.st.CompletionTime = &c.now
	}
}

// cancelUnfinished cancels the group's unfinished jobs and counts its jobs again.
func (c *convergence) cancelUnfinished(reason string) {
	id := c.g.ID
	n, err := c.r.Jobs.CancelGroupJobs(c.ctx, id)
	if err != nil {
		c.actErr = err
	}
	if n > 0 {
		c.r.log().Info("Cancelled the remaining jobs of a failed group", slog.String("group_id", id), slog.String("reason", reason), slog.Int("jobs", n))
	}
	// Count again: the cancellations changed the numbers.
	again, err := c.r.Jobs.GroupStatusOf(c.ctx, c.g)
	if err != nil {
		if c.actErr == nil {
			c.actErr = err
		}
		return
	}
	st := &c.st
	st.Total, st.Active, st.Succeeded, st.Failed, st.Cancelled, st.Progress = again.Total, again.Active, again.Succeeded, again.Failed, again.Cancelled, again.Progress
}

// complete makes the group Complete: every job finished, none cancelled.
func (c *convergence) complete() {
	st := &c.st
	st.Phase = invoice.GroupPhaseComplete
	if st.Failed == 0 {
		c.setCond(conditions.TypeComplete, conditions.True, ReasonAllJobsSucceeded, fmt.Sprintf("all %d jobs succeeded", st.Total))
	} else {
		c.setCond(conditions.TypeComplete, conditions.True, ReasonWithinBackoffLimit,
			fmt.Sprintf("%d jobs succeeded, %d failed (backoffLimit %d)", st.Succeeded, st.Failed, c.spec.BackoffLimit))
	}
	c.unsetCond(conditions.TypeProgress, ReasonFinished, "every job has finished")
	if st.CompletionTime == nil {
		if c.obs.CompletionTime != nil {
			st.CompletionTime = c.obs.CompletionTime
		} else {
			st.CompletionTime = &c.now
		}
	}
}

// run releases created jobs under the group's parallelism: phase Running (Pending
// without jobs); a resumed group restarts its deadline clock.
func (c *convergence) run() {
	st := &c.st
	if conditions.IsTrue(st.Conditions, conditions.TypeSuspended) {
		c.setCond(conditions.TypeSuspended, conditions.False, ReasonJobResumed, "the group was resumed")
		st.StartTime = nil // the deadline clock restarts
	}
	if st.Total == 0 {
		st.Phase = invoice.GroupPhasePending
		return
	}
	if st.StartTime == nil {
		st.StartTime = &c.now
	}
	n, err := c.r.release(c.ctx, c.g, st.Active, c.unfinished-st.Active)
	st.Active += n
	if err != nil {
		c.actErr = err
	}
	st.Phase = invoice.GroupPhaseRunning
	c.setCond(conditions.TypeProgress, conditions.True, ReasonJobsRunning, "the group's jobs are being released and processed")
	if d := c.spec.ActiveDeadlineSeconds; d != nil {
		c.res.RequeueAfter = max(st.StartTime.Add(time.Duration(*d)*time.Second).Sub(c.now), time.Millisecond)
	}
}

// finish writes the status when it changed, then reports the error of acting, or
// deletes a finished group whose TTL has passed (or asks to be back when it will).
func (c *convergence) finish() (Result, error) {
	st, id := c.st, c.g.ID
	if !sameStatus(c.prev, st) {
		if _, err := c.r.Jobs.SetGroupStatus(c.ctx, id, st); err != nil {
			return Result{}, err
		}
	}
	if c.actErr != nil {
		return c.res, c.actErr
	}
	ttl := c.spec.TTLSecondsAfterFinished
	if (st.Phase == invoice.GroupPhaseComplete || st.Phase == invoice.GroupPhaseFailed) && ttl != nil && st.CompletionTime != nil {
		at := st.CompletionTime.Add(time.Duration(*ttl) * time.Second)
		if c.now.Before(at) {
			return Result{RequeueAfter: at.Sub(c.now)}, nil
		}
		return Result{}, c.r.deleteGroup(c.ctx, id)
	}
	return c.res, nil
}

// release enqueues up to the free parallelism slots of g's created jobs, oldest first,
// and returns how many it enqueued. It stops at the first enqueue that fails.
func (r *GroupReconciler) release(ctx context.Context, g *ent.OcrJobGroup, active, created int) (int, error) {
	slots := created
	if p := g.Spec.Parallelism; p > 0 {
		slots = min(created, p-active)
	}
	if slots <= 0 {
		return 0, nil
	}
	list, err := r.Jobs.CreatedJobsOfGroup(ctx, g.ID, slots)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, j := range list {
		if err := r.Jobs.Reenqueue(ctx, j); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// deleteGroup removes a group whose TTL has passed and its jobs, releases the uploads
// they named (each owner's reference goes when no job of that owner names it any more),
// and deletes the files that no owner and no job references.
func (r *GroupReconciler) deleteGroup(ctx context.Context, id string) error {
	keys, err := r.Jobs.DeleteGroup(ctx, id)
	if err != nil {
		return err
	}
	removed := 0
	if r.Uploads != nil && len(keys) > 0 {
		done, err := r.Jobs.RemoveUnreferencedUploads(ctx, r.Uploads, keys)
		removed = len(done)
		if err != nil {
			// The files stay; the unused-upload sweep looks at files nobody references.
			r.log().Warn("Could not remove the uploads of a deleted group", slog.String("group_id", id), slog.Any("error", err))
		}
	}
	r.log().Info("Deleted a finished group after its TTL", slog.String("group_id", id),
		slog.Int("uploads_released", len(keys)), slog.Int("uploads_removed", removed))
	return nil
}

// sameStatus reports whether two statuses would be stored the same.
func sameStatus(a, b invoice.GroupStatus) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}
