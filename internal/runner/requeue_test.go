package runner_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/runner"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// discardRedisLog silences go-redis's dial errors in the tests that take Redis down.
type discardRedisLog struct{}

func (discardRedisLog) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(discardRedisLog{}) }

func input(n string) jobs.JobInput {
	return jobs.JobInput{JobNumber: n, DocumentName: n + ".pdf", DocumentURL: "https://files.example.com/" + n + ".pdf", Template: jobs.BuiltinTemplateName}
}

// TestRequeuerRestoresLostTasks runs the sweep against a real Redis that loses its data
// (FLUSHALL on the test's own private server, as a restart without persistence does)
// and a real database, with an injected clock.
func TestRequeuerRestoresLostTasks(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		srv := redistest.Start(t)
		q := tasks.NewClient(asynq.RedisClientOpt{Addr: srv.Addr})
		t.Cleanup(func() { _ = q.Close() })
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
		t.Cleanup(func() { _ = rdb.Close() })

		clock := time.Now().UTC()
		now := func() time.Time { return clock }
		s := jobs.NewService(c, q, jobs.Options{Logger: quiet, Now: now})
		if err := s.EnsureBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		r := &runner.Requeuer{Jobs: s, Tasks: q, Interval: time.Minute, ProcessingGrace: 20 * time.Minute, Now: now, Logger: quiet}
		sweep := func(want int) {
			t.Helper()
			n, err := r.Sweep(ctx)
			if err != nil || n != want {
				t.Fatalf("sweep re-enqueued %d (%v), want %d", n, err, want)
			}
		}
		has := func(id string) bool {
			t.Helper()
			// The task of the job's current run (a lost worker moves it to the next).
			j, err := s.GetJob(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			ok, err := q.HasJobRunTask(ctx, id, j.TaskRun)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}

		queued, err := s.CreateJob(ctx, input("R-1"))
		if err != nil || queued.Status != ocrinvoicejob.StatusQueued || !has(queued.ID) {
			t.Fatalf("create: %v %v", queued, err)
		}
		// A job created while the queue is down stays created, with no task.
		down := tasks.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond})
		t.Cleanup(func() { _ = down.Close() })
		created, err := jobs.NewService(c, down, jobs.Options{Logger: quiet, Now: now, EnqueueTimeout: time.Second}).CreateJob(ctx, input("R-2"))
		if err != nil || created.Status != ocrinvoicejob.StatusCreated {
			t.Fatalf("create with Redis down: %v %v", created, err)
		}
		processing, err := s.CreateJob(ctx, input("R-3"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartProcessing(ctx, processing.ID); err != nil {
			t.Fatal(err)
		}

		// Fresh jobs are not raced: the API may be enqueueing them right now.
		sweep(0)
		if has(created.ID) {
			t.Fatal("a fresh created job was enqueued before the interval passed")
		}

		// Redis loses everything.
		if err := rdb.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(2 * time.Minute)
		sweep(2) // the queued and the created job; the processing one is still in its grace
		if !has(queued.ID) || !has(created.ID) || has(processing.ID) {
			t.Fatalf("after sweep: queued %v created %v processing %v", has(queued.ID), has(created.ID), has(processing.ID))
		}
		if j, _ := s.GetJob(ctx, created.ID); j.Status != ocrinvoicejob.StatusQueued {
			t.Fatalf("re-enqueued created job is %s, want queued", j.Status)
		}
		sweep(0) // tasks exist now: nothing twice

		// A processing job silent past its grace, without a task, gets one back.
		clock = clock.Add(30 * time.Minute)
		sweep(1)
		if !has(processing.ID) {
			t.Fatal("silent processing job without a task was not re-enqueued")
		}
		// Finished jobs are never touched.
		if err := rdb.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CancelJob(ctx, queued.ID); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Hour)
		sweep(2) // created (now queued) and processing; not the cancelled one
		if has(queued.ID) {
			t.Fatal("a cancelled job was re-enqueued")
		}
	})
}

// TestRequeuerWorkerLost: a processing job whose task is gone (its worker died with it)
// is counted as a failed attempt and re-enqueued, tasks.MaxRetry times; the next time
// it fails for good. A processing job whose task still exists is left alone.
func TestRequeuerWorkerLost(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		srv := redistest.Start(t)
		q := tasks.NewClient(asynq.RedisClientOpt{Addr: srv.Addr})
		t.Cleanup(func() { _ = q.Close() })
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
		t.Cleanup(func() { _ = rdb.Close() })
		clock := time.Now().UTC()
		now := func() time.Time { return clock }
		s := jobs.NewService(c, q, jobs.Options{Logger: quiet, Now: now})
		if err := s.EnsureBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		r := &runner.Requeuer{Jobs: s, Tasks: q, Interval: time.Minute, ProcessingGrace: 20 * time.Minute, Now: now, Logger: quiet}
		lost, err := s.CreateJob(ctx, input("L-1"))
		if err != nil {
			t.Fatal(err)
		}
		alive, err := s.CreateJob(ctx, input("L-2"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartProcessing(ctx, alive.ID); err != nil {
			t.Fatal(err)
		}
		for attempt := 1; attempt <= tasks.MaxRetry+1; attempt++ {
			// A worker takes the job, then dies with its task.
			if _, err := s.StartProcessing(ctx, lost.ID); err != nil {
				t.Fatal(err)
			}
			cur, err := s.GetJob(ctx, lost.ID)
			if err != nil {
				t.Fatal(err)
			}
			if err := q.DeleteJobRunTask(ctx, lost.ID, cur.TaskRun, string(lost.Priority)); err != nil {
				t.Fatal(err)
			}
			clock = clock.Add(30 * time.Minute)
			n, err := r.Sweep(ctx)
			if err != nil {
				t.Fatal(err)
			}
			j, err := s.GetJob(ctx, lost.ID)
			if err != nil {
				t.Fatal(err)
			}
			// Each lost run moves the job to the next run, whose task has an id of its own.
			if j.TaskRun != attempt {
				t.Fatalf("attempt %d: job on task run %d", attempt, j.TaskRun)
			}
			has, err := q.HasJobRunTask(ctx, lost.ID, j.TaskRun)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Count(j.ErrorLog, "worker lost")
			if attempt <= tasks.MaxRetry {
				if n != 1 || j.Status != ocrinvoicejob.StatusQueued || j.RetryCount != attempt || !has || lines != attempt {
					t.Fatalf("attempt %d: re-enqueued %d, job %s retryCount %d task %v errorLog %q", attempt, n, j.Status, j.RetryCount, has, j.ErrorLog)
				}
				continue
			}
			if n != 0 || j.Status != ocrinvoicejob.StatusFailed || j.RetryCount != tasks.MaxRetry || has ||
				!strings.HasSuffix(j.ErrorLog, "worker lost; retries exhausted") || j.CompletedAt == nil {
				t.Fatalf("last attempt: re-enqueued %d, job %s retryCount %d task %v errorLog %q", n, j.Status, j.RetryCount, has, j.ErrorLog)
			}
		}
		// The job whose task exists (its worker is alive) was never touched.
		if j, _ := s.GetJob(ctx, alive.ID); j.Status != ocrinvoicejob.StatusProcessing || j.RetryCount != 0 || j.ErrorLog != "" {
			t.Fatalf("live job: %s retryCount %d errorLog %q", j.Status, j.RetryCount, j.ErrorLog)
		}
	})
}

// TestRequeuerRedisDown: a sweep that cannot reach Redis reports it and changes nothing.
func TestRequeuerRedisDown(t *testing.T) {
	c := databasetest.Open(t)
	ctx := context.Background()
	down := tasks.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = down.Close() })
	clock := time.Now().UTC()
	now := func() time.Time { return clock }
	s := jobs.NewService(c, down, jobs.Options{Logger: quiet, Now: now, EnqueueTimeout: time.Second})
	if err := s.EnsureBuiltins(ctx); err != nil {
		t.Fatal(err)
	}
	j, err := s.CreateJob(ctx, input("D-1"))
	if err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Hour)
	r := &runner.Requeuer{Jobs: s, Tasks: down, Now: now, Logger: quiet}
	if n, err := r.Sweep(ctx); err == nil || n != 0 {
		t.Fatalf("sweep with Redis down: %d, %v; want an error", n, err)
	}
	if got, _ := s.GetJob(ctx, j.ID); got.Status != ocrinvoicejob.StatusCreated {
		t.Fatalf("job is %s after a failed sweep, want created", got.Status)
	}
}
