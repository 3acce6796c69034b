// Package runner holds the reconcile loops that keep the queue in step with the
// database, which is the source of truth: Redis only holds what can be rebuilt from it.
//
// Requeuer is the job-level loop: a job that should have a task (created, queued, or
// processing without a sign of life) but whose task is missing from Redis — because
// Redis restarted empty, or a worker died and its task went with the data — gets its
// task back. A processing job in that state lost its worker as well: the run counts as
// a failed attempt (retryCount + 1), and once retryCount has reached tasks.MaxRetry the
// job fails instead. Task ids are job ids, so a task that exists after all is never
// duplicated and several replicas may run the loop at once.
package runner

import (
	"context"
	"log/slog"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// TaskLookup tells whether the queue holds a job's task.
type TaskLookup interface {
	HasJobTask(ctx context.Context, jobID string) (bool, error)
}

// Requeuer re-enqueues jobs whose tasks were lost. Zero fields take the defaults in
// brackets.
type Requeuer struct {
	Jobs  *jobs.Service
	Tasks TaskLookup
	// Interval between sweeps [30 s]; it is also how long a created or queued job must
	// have been left unchanged before it is looked at, so that a job being enqueued by
	// the API right now is not raced.
	Interval time.Duration
	// ProcessingGrace is how long a processing job may stay silent (no progress
	// written) before its task is looked for [task timeout + 1 min].
	ProcessingGrace time.Duration
	// Batch bounds the jobs looked at per sweep [500].
	Batch  int
	Now    func() time.Time
	Logger *slog.Logger
}

func (r *Requeuer) defaults() {
	if r.Interval <= 0 {
		r.Interval = 30 * time.Second
	}
	if r.ProcessingGrace <= 0 {
		r.ProcessingGrace = tasks.Timeout + time.Minute
	}
	if r.Batch <= 0 {
		r.Batch = 500
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
}

// Sweep looks once at the jobs that should have a task and re-enqueues those whose task
// is missing; a processing one is first failed by the retry rules (see workerLost), and
// not re-enqueued when that failed it for good. It returns how many it re-enqueued. A job it cannot check or enqueue
// (Redis down) is left for the next sweep.
func (r *Requeuer) Sweep(ctx context.Context) (int, error) {
	r.defaults()
	now := r.Now()
	js, err := r.Jobs.JobsExpectingTasks(ctx, now.Add(-r.Interval), now.Add(-r.ProcessingGrace), r.Batch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, j := range js {
		has, err := r.Tasks.HasJobTask(ctx, j.ID)
		if err != nil {
			return n, err
		}
		if has {
			continue
		}
		if j.Status == ocrinvoicejob.StatusProcessing {
			// Its worker died with the task: that run counts as a failed attempt.
			again, err := r.workerLost(ctx, j)
			if err != nil {
				return n, err
			}
			if again == nil {
				continue // failed for good, or no longer processing
			}
			j = again
		}
		if err := r.Jobs.Reenqueue(ctx, j); err != nil {
			return n, err
		}
		n++
		r.Logger.Warn("Re-enqueued a job whose task was missing from the queue",
			slog.String("job_id", j.ID), slog.String("status", string(j.Status)), slog.Int("retry_count", j.RetryCount),
			slog.Time("updated_at", j.UpdatedAt))
	}
	return n, nil
}

// workerLost applies the retry rules to a processing job whose task and worker are gone:
// with retryCount at tasks.MaxRetry already, the job fails for good ("worker lost;
// retries exhausted") and nil is returned; otherwise the attempt is counted (retryCount
// + 1, an errorLog line "worker lost", back to queued) and the job is returned to be
// enqueued. A job that left processing meanwhile (its worker was alive after all) is
// left alone: nil, nil.
func (r *Requeuer) workerLost(ctx context.Context, j *ent.OcrInvoiceJob) (*ent.OcrInvoiceJob, error) {
	permanent := j.RetryCount >= tasks.MaxRetry
	reason := "worker lost"
	if permanent {
		reason = "worker lost; retries exhausted"
	}
	out, err := r.Jobs.Fail(ctx, j.ID, reason, permanent)
	switch {
	case jobs.IsNotProcessing(err):
		return nil, nil
	case err != nil:
		return nil, err
	case permanent:
		r.Logger.Warn("Failed a job whose worker was lost, its retries exhausted",
			slog.String("job_id", j.ID), slog.Int("retry_count", j.RetryCount))
		return nil, nil
	}
	return out, nil
}

// Run sweeps at once and then every Interval until ctx ends.
func (r *Requeuer) Run(ctx context.Context) {
	r.defaults()
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		if _, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
			r.Logger.Warn("Requeue sweep incomplete; trying again later", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
