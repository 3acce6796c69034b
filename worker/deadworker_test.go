package worker

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// TestPipelinePresumedDeadWorkerStops: the requeue sweep takes a running worker for
// lost (LoseRun, as when its heartbeat was missed) while the worker is alive and still
// reading; the sweep does not cancel the run's task (as when asynq's cancel message is
// lost). The worker's next write is refused: it stops, stores nothing and drops its
// heartbeat. The lost run's task, delivered again, is refused without a new attempt;
// the next run's task completes the job. The heartbeat key lives while a run does.
func TestPipelinePresumedDeadWorkerStops(t *testing.T) {
	var fetches atomic.Int32
	fixed := fixedDocs()
	e := newEnvWith(t, databasetest.Open(t), envOptions{allow: true, concurrency: 2,
		taskCheckInterval: 20 * time.Millisecond, progressEvery: time.Millisecond, heartbeats: true,
		routes: map[string]http.Handler{
			// Slow to read the first time (the lost run), quick afterwards.
			"/lost.pdf": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if fetches.Add(1) == 1 {
					_, _ = w.Write(fixed["/slow.pdf"])
					return
				}
				_, _ = w.Write(fixed["/invoice.pdf"])
			}),
		}})
	ctx := context.Background()
	rc := redis.NewClient(&redis.Options{Addr: e.redis.Addr})
	t.Cleanup(func() { _ = rc.Close() })
	beating := func(id string, run int) bool {
		t.Helper()
		n, err := rc.Exists(ctx, tasks.HeartbeatKey(id, run)).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	j := e.create(t, "SLOW-LOST", "/lost.pdf")
	deadline := time.Now().Add(30 * time.Second)
	for {
		cur, err := e.svc.GetJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Status == ocrinvoicejob.StatusProcessing && strings.HasPrefix(cur.Progress.CurrentStep, "read") {
			j = cur
			break
		}
		if time.Now().After(deadline) || cur.Status != ocrinvoicejob.StatusQueued && cur.Status != ocrinvoicejob.StatusProcessing {
			t.Fatalf("job did not reach the read step: %s %+v", cur.Status, cur.Progress)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !beating(j.ID, 0) {
		t.Fatal("no heartbeat while the job runs")
	}
	lost, err := e.svc.LoseRun(ctx, j.ID, 0, *j.StartedAt, "worker lost", false)
	if err != nil {
		t.Fatal(err)
	}
	// The worker notices at its next write, stops and drops its heartbeat.
	deadline = time.Now().Add(10 * time.Second)
	for beating(j.ID, 0) {
		if time.Now().After(deadline) {
			t.Fatal("the presumed-dead worker kept its heartbeat: it did not stop")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	got, err := e.svc.GetJob(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != ocrinvoicejob.StatusQueued || got.ExtractedData != nil || got.TaskRun != 1 || len(got.Attempts) != 1 ||
		got.Progress != lost.Progress {
		t.Fatalf("after the lost run stopped: %s run %d extracted %v progress %+v attempts %+v", got.Status, got.TaskRun, got.ExtractedData, got.Progress, got.Attempts)
	}

	// The lost run's task comes back (asynq recovered it): refused, nothing recorded.
	if err := e.tasks.EnqueueJob(ctx, j.ID, string(j.Priority)); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for {
		has, err := e.tasks.HasJobTask(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !has {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lost run's task was not taken")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got, _ := e.svc.GetJob(ctx, j.ID); got.Status != ocrinvoicejob.StatusQueued || len(got.Attempts) != 1 {
		t.Fatalf("the lost run's task ran the job: %s attempts %+v", got.Status, got.Attempts)
	}

	if err := e.svc.Reenqueue(ctx, got); err != nil {
		t.Fatal(err)
	}
	done := e.wait(t, j.ID, 60*time.Second)
	if done.Status != ocrinvoicejob.StatusCompleted || done.RetryCount != 1 || len(done.Attempts) != 2 ||
		done.Attempts[0].Outcome != invoice.AttemptWorkerLost || done.Attempts[1].Outcome != invoice.AttemptCompleted {
		t.Fatalf("run 1: %s retry %d attempts %+v (log %q)", done.Status, done.RetryCount, done.Attempts, done.ErrorLog)
	}
	// The handler drops its heartbeat as it returns, just after the job's final write.
	for hbDeadline := time.Now().Add(3 * time.Second); beating(j.ID, 1); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(hbDeadline) {
			t.Fatal("heartbeat of run 1 outlived its run")
		}
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("document fetched %d times, want 2 (the lost run, run 1)", n)
	}
}

// TestPipelineLostRunCancelled: when the sweep takes a live worker's run for lost, it
// also cancels the run's task through asynq (DeleteJobRunTask, as runner.Requeuer does):
// the worker stops at once, in the middle of a page, and stores nothing.
func TestPipelineLostRunCancelled(t *testing.T) {
	e := newEnvWith(t, databasetest.Open(t), envOptions{allow: true, concurrency: 2,
		taskCheckInterval: 20 * time.Millisecond, progressEvery: time.Hour, heartbeats: true})
	ctx := context.Background()
	rc := redis.NewClient(&redis.Options{Addr: e.redis.Addr})
	t.Cleanup(func() { _ = rc.Close() })
	j := e.create(t, "SLOW-CANCEL", "/slow.pdf")
	deadline := time.Now().Add(30 * time.Second)
	for {
		cur, err := e.svc.GetJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Status == ocrinvoicejob.StatusProcessing && strings.HasPrefix(cur.Progress.CurrentStep, "read") {
			j = cur
			break
		}
		if time.Now().After(deadline) || cur.Status != ocrinvoicejob.StatusQueued && cur.Status != ocrinvoicejob.StatusProcessing {
			t.Fatalf("job did not reach the read step: %s %+v", cur.Status, cur.Progress)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := e.svc.LoseRun(ctx, j.ID, 0, *j.StartedAt, "worker lost", false); err != nil {
		t.Fatal(err)
	}
	if err := e.tasks.DeleteJobRunTask(ctx, j.ID, 0, string(j.Priority)); err != nil {
		t.Fatal(err)
	}
	// Page progress is written once an hour here: only the cancellation stops the run.
	deadline = time.Now().Add(10 * time.Second)
	for {
		n, err := rc.Exists(ctx, tasks.HeartbeatKey(j.ID, 0)).Result()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the lost run did not stop after its task was cancelled")
		}
		time.Sleep(20 * time.Millisecond)
	}
	got, err := e.svc.GetJob(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != ocrinvoicejob.StatusQueued || got.TaskRun != 1 || got.ExtractedData != nil || len(got.Attempts) != 1 {
		t.Fatalf("after the cancelled lost run: %s run %d extracted %v attempts %+v", got.Status, got.TaskRun, got.ExtractedData, got.Attempts)
	}
}
