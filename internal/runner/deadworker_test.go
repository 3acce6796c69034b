package runner_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/runner"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// TestSweepDeadRequeuesSilentRuns runs the dead-worker sweep against a real Redis and a
// real database with an injected clock. A processing job whose heartbeat is missing on
// two sweeps MissingFor apart lost its worker: its run is counted (retryCount 1, errorLog
// and attempts say worker lost), the lost run's task is taken off the queue and the next
// run's task is enqueued at once. Left alone: a job whose worker beats, a job that just
// started (StartGrace), a job whose heartbeat came back between two sweeps (Redis
// restarted empty), a job whose worker keeps no heartbeat, a job whose task waits in the
// queue (handed back by its worker), and the lost job once its new
// run beats. A job whose retries are used up fails. A second replica sweeping beside the
// first does nothing twice.
func TestSweepDeadRequeuesSilentRuns(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		srv := redistest.Start(t)
		q := tasks.NewClient(asynq.RedisClientOpt{Addr: srv.Addr})
		t.Cleanup(func() { _ = q.Close() })
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
		t.Cleanup(func() { _ = rdb.Close() })
		beats := &tasks.Heartbeats{Redis: rdb, Interval: time.Hour, TTL: time.Hour} // kept alive by hand

		clock := time.Now().UTC()
		now := func() time.Time { return clock }
		s := jobs.NewService(c, q, jobs.Options{Logger: quiet, Now: now})
		if err := s.EnsureBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		newRequeuer := func() *runner.Requeuer {
			return &runner.Requeuer{Jobs: s, Tasks: q, Heartbeats: beats, StartGrace: 10 * time.Second,
				MissingFor: 3 * time.Second, Now: now, Logger: quiet}
		}
		r, replica := newRequeuer(), newRequeuer()
		sweep := func(r *runner.Requeuer, want int) {
			t.Helper()
			n, err := r.SweepDead(ctx)
			if err != nil || n != want {
				t.Fatalf("dead sweep re-enqueued %d (%v), want %d", n, err, want)
			}
		}
		runs := map[string]*jobs.Run{} // by job id
		start := func(n string) *ent.OcrInvoiceJob {
			t.Helper()
			j, err := s.CreateJob(ctx, input(n))
			if err != nil {
				t.Fatal(err)
			}
			run, err := s.StartRun(ctx, j.ID, 0, jobs.Worker{Name: "w:" + n, Heartbeat: true})
			if err != nil {
				t.Fatal(err)
			}
			j, runs[j.ID] = run.Job(), run
			// Its worker took the task off the queue (asynq holds it as active, under a
			// lease that outlives a dead worker by a minute; here it is simply gone).
			if err := q.DeleteJobRunTask(ctx, j.ID, 0, string(j.Priority)); err != nil {
				t.Fatal(err)
			}
			return j
		}
		get := func(id string) *ent.OcrInvoiceJob {
			t.Helper()
			j, err := s.GetJob(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return j
		}

		alive := start("H-alive")
		stopAlive, err := beats.Beat(ctx, alive.ID, 0, "w:alive")
		if err != nil {
			t.Fatal(err)
		}
		defer stopAlive()
		dead := start("H-dead") // never beats: its worker died at once
		quietJob, err := s.CreateJob(ctx, input("H-quiet"))
		if err != nil {
			t.Fatal(err)
		}
		quietRun, err := s.StartRun(ctx, quietJob.ID, 0, jobs.Worker{Name: "w:quiet"}) // heartbeats off
		if err != nil {
			t.Fatal(err)
		}
		quietJob = quietRun.Job()
		blink := start("H-blink")
		stopBlink, err := beats.Beat(ctx, blink.ID, 0, "w:blink")
		if err != nil {
			t.Fatal(err)
		}
		defer stopBlink()
		// A run whose worker handed its task back (the database was down, it shut down):
		// no heartbeat, but the task waits in the queue to run again on the same run.
		handedBack := start("H-handed-back")
		if err := q.EnqueueJobRun(ctx, handedBack.ID, 0, string(handedBack.Priority), 0); err != nil {
			t.Fatal(err)
		}
		spent := start("H-spent")
		for range tasks.MaxRetry {
			if _, err := runs[spent.ID].Fail(ctx, "transient", false); err != nil {
				t.Fatal(err)
			}
			run, err := s.StartRun(ctx, spent.ID, 0, jobs.Worker{Name: "w:spent", Heartbeat: true})
			if err != nil {
				t.Fatal(err)
			}
			spent, runs[spent.ID] = run.Job(), run
		}

		clock = clock.Add(5 * time.Second)
		sweep(r, 0) // every job is within its start grace
		clock = clock.Add(10 * time.Second)
		fresh := start("H-fresh") // started now, no heartbeat yet
		// Redis loses blink's key (as a restart without persistence loses every key).
		if err := rdb.Del(ctx, tasks.HeartbeatKey(blink.ID, 0)).Err(); err != nil {
			t.Fatal(err)
		}
		sweep(r, 0) // dead, blink and spent seen missing once: not yet
		clock = clock.Add(2 * time.Second)
		sweep(r, 0) // not missing for MissingFor yet
		// blink's worker refreshes its key.
		if err := rdb.Set(ctx, tasks.HeartbeatKey(blink.ID, 0), "w:blink", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(2 * time.Second)
		sweep(replica, 0) // the other replica sees dead and spent missing for the first time
		sweep(r, 1)       // dead re-enqueued; spent failed for good
		clock = clock.Add(4 * time.Second)
		sweep(replica, 0) // dead is on its next run: the other replica does nothing twice

		d := get(dead.ID)
		if d.Status != ocrinvoicejob.StatusQueued || d.RetryCount != 1 || d.TaskRun != 1 ||
			!strings.HasSuffix(d.ErrorLog, " worker lost") || len(d.Attempts) != 1 ||
			d.Attempts[0].Outcome != invoice.AttemptWorkerLost || d.Attempts[0].Worker != "w:H-dead" {
			t.Fatalf("dead job: %s retry %d run %d errorLog %q attempts %+v", d.Status, d.RetryCount, d.TaskRun, d.ErrorLog, d.Attempts)
		}
		// The lost run's task is not in the queue; the next run's task is.
		for run, want := range []bool{false, true} {
			if has, err := q.HasJobRunTask(ctx, dead.ID, run); err != nil || has != want {
				t.Fatalf("task of run %d: %v %v", run, has, err)
			}
		}
		sp := get(spent.ID)
		if sp.Status != ocrinvoicejob.StatusFailed || sp.RetryCount != tasks.MaxRetry ||
			!strings.HasSuffix(sp.ErrorLog, "worker lost; retries exhausted") || sp.Attempts[len(sp.Attempts)-1].Outcome != invoice.AttemptWorkerLost {
			t.Fatalf("spent job: %s retry %d errorLog %q attempts %+v", sp.Status, sp.RetryCount, sp.ErrorLog, sp.Attempts)
		}
		if has, _ := q.HasJobRunTask(ctx, spent.ID, sp.TaskRun); has {
			t.Fatal("a job that failed for good was re-enqueued")
		}
		for _, j := range []*ent.OcrInvoiceJob{alive, blink, fresh, quietJob, handedBack} {
			if got := get(j.ID); got.Status != ocrinvoicejob.StatusProcessing || got.RetryCount != 0 || got.TaskRun != 0 || got.ErrorLog != "" {
				t.Fatalf("job %s: %s retry %d run %d errorLog %q", j.JobNumber, got.Status, got.RetryCount, got.TaskRun, got.ErrorLog)
			}
		}

		// The new run starts and beats: the sweeps leave it alone.
		if _, err := s.StartRun(ctx, dead.ID, 1, jobs.Worker{Name: "w:B", Heartbeat: true}); err != nil {
			t.Fatal(err)
		}
		stopB, err := beats.Beat(ctx, dead.ID, 1, "w:B")
		if err != nil {
			t.Fatal(err)
		}
		defer stopB()
		clock = clock.Add(time.Minute)
		if err := rdb.Set(ctx, tasks.HeartbeatKey(fresh.ID, 0), "w:fresh", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		sweep(r, 0)
		clock = clock.Add(time.Minute)
		sweep(r, 0)
		if got := get(dead.ID); got.Status != ocrinvoicejob.StatusProcessing || got.TaskRun != 1 {
			t.Fatalf("beating run 1: %s run %d", got.Status, got.TaskRun)
		}
	})
}
