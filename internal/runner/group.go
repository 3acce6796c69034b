package runner

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
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
	prev := g.Status
	spec := g.Spec
	st := obs
	st.Conditions = append([]conditions.Condition{}, prev.Conditions...)
	st.StartTime, st.CompletionTime = prev.StartTime, prev.CompletionTime
	setCond := func(typ string, status conditions.Status, reason, msg string) {
		st.Conditions, _ = conditions.Set(st.Conditions, conditions.Condition{Type: typ, Status: status, Reason: reason, Message: msg}, now)
	}
	unsetCond := func(typ, reason, msg string) {
		if conditions.Find(st.Conditions, typ) != nil {
			setCond(typ, conditions.False, reason, msg)
		}
	}
	finishedJobs := st.Succeeded + st.Failed + st.Cancelled
	unfinished := st.Total - finishedJobs
	finished := prev.Phase == invoice.GroupPhaseComplete || prev.Phase == invoice.GroupPhaseFailed
	if finished && unfinished > 0 {
		// Retried (or jobs were added): start over.
		st.StartTime, st.CompletionTime = nil, nil
		unsetCond(conditions.TypeComplete, ReasonRetried, "the group has unfinished jobs again")
		unsetCond(conditions.TypeFailed, ReasonRetried, "the group has unfinished jobs again")
		finished = false
	}

	var res Result
	var actErr error
	fail := func(reason, msg string) {
		if unfinished > 0 {
			n, err := r.Jobs.CancelGroupJobs(ctx, id)
			if err != nil {
				actErr = err
			}
			if n > 0 {
				r.log().Info("Cancelled the remaining jobs of a failed group", slog.String("group_id", id), slog.String("reason", reason), slog.Int("jobs", n))
			}
			// Count again: the cancellations changed the numbers.
			if again, err := r.Jobs.GroupStatusOf(ctx, g); err == nil {
				st.Total, st.Active, st.Succeeded, st.Failed, st.Cancelled, st.Progress = again.Total, again.Active, again.Succeeded, again.Failed, again.Cancelled, again.Progress
			} else if actErr == nil {
				actErr = err
			}
		}
		st.Phase = invoice.GroupPhaseFailed
		setCond(conditions.TypeFailed, conditions.True, reason, msg)
		unsetCond(conditions.TypeProgress, ReasonFinished, "the group has failed")
		if st.CompletionTime == nil {
			st.CompletionTime = &now
		}
	}

	var deadline *time.Time
	if spec.ActiveDeadlineSeconds != nil && st.StartTime != nil {
		d := st.StartTime.Add(time.Duration(*spec.ActiveDeadlineSeconds) * time.Second)
		deadline = &d
	}
	switch {
	case finished:
		st.Phase = prev.Phase
	case st.Failed > spec.BackoffLimit:
		fail(ReasonBackoffLimitExceeded, fmt.Sprintf("%d jobs failed, more than the backoffLimit of %d", st.Failed, spec.BackoffLimit))
	case deadline != nil && !spec.Suspend && !now.Before(*deadline):
		fail(ReasonDeadlineExceeded, fmt.Sprintf("the group ran longer than activeDeadlineSeconds (%d s)", *spec.ActiveDeadlineSeconds))
	case st.Total > 0 && unfinished == 0 && st.Cancelled > 0:
		fail(ReasonJobsCancelled, fmt.Sprintf("%d of %d jobs were cancelled", st.Cancelled, st.Total))
	case st.Total > 0 && unfinished == 0:
		st.Phase = invoice.GroupPhaseComplete
		if st.Failed == 0 {
			setCond(conditions.TypeComplete, conditions.True, ReasonAllJobsSucceeded, fmt.Sprintf("all %d jobs succeeded", st.Total))
		} else {
			setCond(conditions.TypeComplete, conditions.True, ReasonWithinBackoffLimit,
				fmt.Sprintf("%d jobs succeeded, %d failed (backoffLimit %d)", st.Succeeded, st.Failed, spec.BackoffLimit))
		}
		unsetCond(conditions.TypeProgress, ReasonFinished, "every job has finished")
		if st.CompletionTime == nil {
			if obs.CompletionTime != nil {
				st.CompletionTime = obs.CompletionTime
			} else {
				st.CompletionTime = &now
			}
		}
	case spec.Suspend:
		st.Phase = invoice.GroupPhaseSuspended
		setCond(conditions.TypeSuspended, conditions.True, ReasonJobSuspended, "spec.suspend is set: no more jobs are released")
		unsetCond(conditions.TypeProgress, ReasonJobSuspended, "the group is suspended")
	default:
		if conditions.IsTrue(st.Conditions, conditions.TypeSuspended) {
			setCond(conditions.TypeSuspended, conditions.False, ReasonJobResumed, "the group was resumed")
			st.StartTime = nil // the deadline clock restarts
		}
		if st.Total == 0 {
			st.Phase = invoice.GroupPhasePending
			break
		}
		if st.StartTime == nil {
			st.StartTime = &now
		}
		n, err := r.release(ctx, g, st.Active, unfinished-st.Active)
		st.Active += n
		if err != nil {
			actErr = err
		}
		st.Phase = invoice.GroupPhaseRunning
		setCond(conditions.TypeProgress, conditions.True, ReasonJobsRunning, "the group's jobs are being released and processed")
		if spec.ActiveDeadlineSeconds != nil {
			res.RequeueAfter = max(st.StartTime.Add(time.Duration(*spec.ActiveDeadlineSeconds)*time.Second).Sub(now), time.Millisecond)
		}
	}

	if !sameStatus(prev, st) {
		if _, err := r.Jobs.SetGroupStatus(ctx, id, st); err != nil {
			return Result{}, err
		}
	}
	if actErr != nil {
		return res, actErr
	}
	if (st.Phase == invoice.GroupPhaseComplete || st.Phase == invoice.GroupPhaseFailed) && spec.TTLSecondsAfterFinished != nil && st.CompletionTime != nil {
		at := st.CompletionTime.Add(time.Duration(*spec.TTLSecondsAfterFinished) * time.Second)
		if now.Before(at) {
			return Result{RequeueAfter: at.Sub(now)}, nil
		}
		return Result{}, r.deleteGroup(ctx, id)
	}
	return res, nil
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
	list, err := r.Jobs.Client().OcrInvoiceJob.Query().
		Where(ocrinvoicejob.GroupID(g.ID), ocrinvoicejob.StatusEQ(ocrinvoicejob.StatusCreated)).
		Order(ent.Asc(ocrinvoicejob.FieldCreatedAt), ent.Asc(ocrinvoicejob.FieldID)).
		Limit(slots).
		All(ctx)
	if err != nil {
		return 0, fmt.Errorf("list created jobs of group %s: %w", g.ID, err)
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
