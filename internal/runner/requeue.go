// Package runner holds the reconcile loops that keep the queue in step with the
// database, which is the source of truth: Redis only holds what can be rebuilt from it.
//
// Requeuer is the job-level loop. Its fast part (SweepDead, every DeadCheckInterval)
// notices dead workers in seconds: a worker keeps a heartbeat key in Redis per running
// job (internal/tasks.Heartbeats), and a processing job whose heartbeat has been missing
// for a while lost its worker. The run counts as a failed attempt (retryCount + 1, an
// errorLog line "worker lost", an attempt with outcome worker_lost), the job moves to
// its next task run and that run's task is enqueued at once under an id of its own, as
// asynq still holds the dead worker's task until its lease expires; when asynq delivers
// that task again, the job refuses it (stale run). The worker, should it be alive after
// all, is asked through asynq to stop and finds its writes refused in any case. Once retryCount has reached tasks.MaxRetry the
// job fails instead.
//
// Its slow part (Sweep, every Interval) gives a job that should have a task (created,
// queued, or processing without a sign of life) its task back when the task is missing
// from Redis, because Redis restarted empty or a worker died and its task went with the
// data; a processing job in that state lost its worker as well and is treated like one
// whose heartbeat stopped. Task ids are fixed by job and run, so a task that exists
// after all is never duplicated and several replicas may run the loop at once: the
// database changes are conditional on the run, so one replica wins.
package runner

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// TaskLookup tells whether the queue holds the task of a job's run, and takes the task
// of a lost run off the queue.
type TaskLookup interface {
	HasJobRunTask(ctx context.Context, jobID string, run int) (bool, error)
	// JobRunTaskWaiting tells whether the task waits in a queue (pending, scheduled,
	// retry): handed back by its worker, it will run again.
	JobRunTaskWaiting(ctx context.Context, jobID string, run int) (bool, error)
	// DeleteJobRunTask deletes the task, or when it is running asks its worker to stop.
	DeleteJobRunTask(ctx context.Context, jobID string, run int, priority string) error
}

// HeartbeatLookup tells which job runs have a live heartbeat (internal/tasks.Heartbeats).
type HeartbeatLookup interface {
	Alive(ctx context.Context, refs []tasks.RunRef) ([]bool, error)
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
	Batch int
	// Heartbeats, when set, turns on the dead-worker sweep (SweepDead).
	Heartbeats HeartbeatLookup
	// DeadCheckInterval between two dead-worker sweeps [tasks.DefaultHeartbeatInterval].
	DeadCheckInterval time.Duration
	// StartGrace is how long a job must have been processing before its heartbeat is
	// looked at [tasks.DefaultHeartbeatTTL], so that clocks a little apart do not race a
	// run that just started.
	StartGrace time.Duration
	// MissingFor is how long a heartbeat must have been missing (seen missing by sweeps
	// that far apart) before the worker counts as lost [1.5 x
	// tasks.DefaultHeartbeatInterval]: more than a heartbeat interval, so that a Redis
	// that restarted empty (every key gone until the workers' next refresh) does not
	// condemn live workers. The heartbeat's TTL plus MissingFor plus DeadCheckInterval
	// bound how long a dead worker goes unnoticed.
	MissingFor time.Duration
	Now        func() time.Time
	Logger     *slog.Logger

	// missing remembers when a sweep first found a run's heartbeat missing.
	missing map[tasks.RunRef]time.Time
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
	if r.DeadCheckInterval <= 0 {
		r.DeadCheckInterval = tasks.DefaultHeartbeatInterval
	}
	if r.StartGrace <= 0 {
		r.StartGrace = tasks.DefaultHeartbeatTTL
	}
	if r.MissingFor <= 0 {
		r.MissingFor = tasks.DefaultHeartbeatInterval * 3 / 2
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
		has, err := r.Tasks.HasJobRunTask(ctx, j.ID, j.TaskRun)
		if err != nil {
			return n, err
		}
		if has {
			continue
		}
		if jobs.IsRunning(j.Status) {
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

// workerLost applies the retry rules to a processing job whose worker is gone (see
// jobs.LoseRun): with retryCount at tasks.MaxRetry already, the job fails for good
// ("worker lost; retries exhausted") and nil is returned; otherwise the attempt is
// counted (retryCount + 1, an errorLog line "worker lost", back to queued on the next
// task run) and the job is returned to be enqueued. A job that left processing or its
// run meanwhile (its worker was alive after all, or another replica was first) is left
// alone: nil, nil.
func (r *Requeuer) workerLost(ctx context.Context, j *ent.OcrInvoiceJob) (*ent.OcrInvoiceJob, error) {
	permanent := j.RetryCount >= tasks.MaxRetry
	reason := "worker lost"
	if permanent {
		reason = "worker lost; retries exhausted"
	}
	var started time.Time
	if j.StartedAt != nil {
		started = *j.StartedAt
	}
	out, err := r.Jobs.LoseRun(ctx, j.ID, j.TaskRun, started, reason, permanent)
	switch {
	case jobs.IsNotProcessing(err):
		return nil, nil
	case err != nil:
		return nil, err
	}
	// The lost run's task: should its worker be alive after all, asynq cancels the run
	// now rather than at its next write; should asynq hold it for a retry already, it is
	// deleted. A task delivered anyway is refused (stale run), so this is best effort.
	if derr := r.Tasks.DeleteJobRunTask(ctx, j.ID, j.TaskRun, string(j.Priority)); derr != nil && ctx.Err() == nil {
		r.Logger.Warn("Could not remove the task of a lost run", slog.String("job_id", j.ID), slog.Int("run", j.TaskRun), slog.Any("error", derr))
	}
	switch {
	case permanent:
		r.Logger.Warn("Failed a job whose worker was lost, its retries exhausted",
			slog.String("job_id", j.ID), slog.Int("retry_count", j.RetryCount))
		return nil, nil
	}
	return out, nil
}

// SweepDead looks once at the jobs that have been processing for StartGrace or longer,
// on a run whose worker keeps a heartbeat (its running attempt says so: a worker with
// heartbeats off is left to Sweep), and asks Redis for their heartbeats. A job whose heartbeat was missing in an earlier
// sweep at least MissingFor ago and still is lost its worker: the run is failed by the
// retry rules (see workerLost) and the job's next run enqueued at once. It returns how many jobs it
// re-enqueued; a job it could not enqueue (Redis down) is queued without a task, for
// Sweep to find. Without Heartbeats it does nothing.
func (r *Requeuer) SweepDead(ctx context.Context) (int, error) {
	r.defaults()
	if r.Heartbeats == nil {
		return 0, nil
	}
	now := r.Now()
	js, err := r.Jobs.RunningJobs(ctx, now.Add(-r.StartGrace), r.Batch)
	if err != nil {
		return 0, err
	}
	// Only runs whose worker keeps a heartbeat are judged by it: a worker with
	// heartbeats off (or of a version without them) is left to the slow sweep.
	js = slices.DeleteFunc(js, func(j *ent.OcrInvoiceJob) bool {
		n := len(j.Attempts)
		return n == 0 || j.Attempts[n-1].Outcome != invoice.AttemptRunning || !j.Attempts[n-1].Heartbeat
	})
	refs := make([]tasks.RunRef, len(js))
	for i, j := range js {
		refs[i] = tasks.RunRef{JobID: j.ID, Run: j.TaskRun}
	}
	alive, err := r.Heartbeats.Alive(ctx, refs)
	if err != nil {
		return 0, err
	}
	seen := make(map[tasks.RunRef]time.Time, len(r.missing))
	n := 0
	for i, j := range js {
		if alive[i] {
			continue
		}
		first, ok := r.missing[refs[i]]
		if !ok {
			first = now
		}
		if now.Sub(first) < r.MissingFor {
			seen[refs[i]] = first
			continue
		}
		// A run whose task waits in the queue was handed back by a live worker (a retry
		// after the database was unreachable, a shutdown): it is taken up again on the
		// same run, and nobody died.
		waiting, err := r.Tasks.JobRunTaskWaiting(ctx, j.ID, j.TaskRun)
		if err != nil {
			seen[refs[i]] = first
			r.missing = seen
			return n, err
		}
		if waiting {
			continue
		}
		again, err := r.workerLost(ctx, j)
		if err != nil {
			seen[refs[i]] = first
			r.missing = seen
			return n, err
		}
		if again == nil {
			continue
		}
		if err := r.Jobs.Reenqueue(ctx, again); err != nil {
			r.missing = seen
			return n, err
		}
		n++
		r.Logger.Warn("Re-enqueued a job whose worker stopped heart-beating",
			slog.String("job_id", j.ID), slog.Int("lost_run", j.TaskRun), slog.Int("retry_count", again.RetryCount))
	}
	r.missing = seen
	return n, nil
}

// Run sweeps at once and then every Interval until ctx ends; with Heartbeats set, the
// dead-worker sweep runs every DeadCheckInterval beside it.
func (r *Requeuer) Run(ctx context.Context) {
	r.defaults()
	done := make(chan struct{})
	if r.Heartbeats != nil {
		go func() {
			defer close(done)
			every(ctx, r.DeadCheckInterval, func() {
				if _, err := r.SweepDead(ctx); err != nil && ctx.Err() == nil {
					r.Logger.Warn("Dead-worker sweep incomplete; trying again later", slog.Any("error", err))
				}
			})
		}()
	} else {
		close(done)
	}
	every(ctx, r.Interval, func() {
		if _, err := r.Sweep(ctx); err != nil && ctx.Err() == nil {
			r.Logger.Warn("Requeue sweep incomplete; trying again later", slog.Any("error", err))
		}
	})
	<-done
}

// every calls fn at once and then every d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
