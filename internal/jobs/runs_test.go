package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

func outcomes(j *ent.OcrInvoiceJob) string {
	var out []string
	for _, a := range j.Attempts {
		out = append(out, a.Outcome)
	}
	return strings.Join(out, ",")
}

// TestStaleRunRefused: once a run's worker is taken for lost (LoseRun), the job is on the
// next task run. The lost run's task, delivered again, cannot start the job, and the lost
// run's worker, alive after all, can neither report progress nor store results nor fail
// the job; the new run's task can. The attempts record each run's outcome. Against a real
// queue, the new run's task has an id of its own beside the old one.
func TestStaleRunRefused(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		q := startQueue(t)
		s := newService(t, c, q)
		j, err := s.CreateJob(ctx, validInput("RUN-1"))
		if err != nil {
			t.Fatal(err)
		}
		run0, err := s.StartRun(ctx, j.ID, 0, jobs.Worker{Name: "host-a:1"})
		if err != nil {
			t.Fatal(err)
		}
		a := run0.Job()
		if a.TaskRun != 0 || outcomes(a) != invoice.AttemptRunning || a.Attempts[0].Worker != "host-a:1" || a.Attempts[0].Number != 1 {
			t.Fatalf("start run 0: %+v", a)
		}
		// A run of another number is stale before anything happened.
		if _, err := s.StartRun(ctx, j.ID, 1, jobs.Worker{Name: "host-b:2"}); apperr.KindOf(err) != apperr.KindFailedPrecondition || !jobs.IsNotProcessing(err) {
			t.Fatalf("start of a future run: %v, want FailedPrecondition", err)
		}
		// A LoseRun that saw another start time (the job was restarted since) is refused.
		if _, err := s.LoseRun(ctx, j.ID, 0, a.StartedAt.Add(-time.Second), "worker lost", false); !jobs.IsNotProcessing(err) {
			t.Fatalf("LoseRun with a stale start time: %v, want FailedPrecondition", err)
		}
		lost, err := s.LoseRun(ctx, j.ID, 0, *a.StartedAt, "worker lost", false)
		if err != nil {
			t.Fatal(err)
		}
		if lost.Status != ocrinvoicejob.StatusQueued || lost.TaskRun != 1 || lost.RetryCount != 1 ||
			!strings.HasSuffix(lost.ErrorLog, " worker lost") || outcomes(lost) != "worker_lost" ||
			lost.Attempts[0].EndedAt == nil || lost.Attempts[0].Error != "worker lost" {
			t.Fatalf("after LoseRun: %s run %d retry %d errorLog %q attempts %+v", lost.Status, lost.TaskRun, lost.RetryCount, lost.ErrorLog, lost.Attempts)
		}
		// A second replica's LoseRun of the same run finds it gone.
		if _, err := s.LoseRun(ctx, j.ID, 0, *a.StartedAt, "worker lost", false); !jobs.IsNotProcessing(err) {
			t.Fatalf("second LoseRun of run 0: %v, want FailedPrecondition", err)
		}
		if err := s.Reenqueue(ctx, lost); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{j.ID, tasks.TaskID(j.ID, 1)} {
			if q.taskQueue(t, id) == "" {
				t.Fatalf("no task %s in the queue", id)
			}
		}

		// The old task is delivered again: refused, the job stays queued.
		if _, err := s.StartRun(ctx, j.ID, 0, jobs.Worker{Name: "host-c:3"}); !jobs.IsNotProcessing(err) || !strings.Contains(err.Error(), "stale") {
			t.Fatalf("start of the lost run: %v, want a stale-run FailedPrecondition", err)
		}
		if cur, _ := s.GetJob(ctx, j.ID); cur.Status != ocrinvoicejob.StatusQueued || len(cur.Attempts) != 1 {
			t.Fatalf("after the refused start: %s with %d attempts", cur.Status, len(cur.Attempts))
		}
		run1, err := s.StartRun(ctx, j.ID, 1, jobs.Worker{Name: "host-b:2"})
		if err != nil {
			t.Fatal(err)
		}
		if b := run1.Job(); outcomes(b) != "worker_lost,running" || b.Attempts[1].Number != 2 {
			t.Fatalf("start run 1: %+v", b)
		}
		// The worker of run 0 was alive after all: each of its writes is refused. Its
		// progress is coalesced (not written within ProgressWriteEvery of its start), so
		// the refusal comes with the first progress written, at the latest the one after
		// the interval.
		var perr error
		for deadline := time.Now().Add(10 * jobs.DefaultProgressWriteEvery); perr == nil && time.Now().Before(deadline); time.Sleep(jobs.DefaultProgressWriteEvery / 5) {
			perr = run0.Progress(ctx, invoice.Progress{Percentage: 90})
		}
		if !jobs.IsNotProcessing(perr) {
			t.Fatalf("progress of the lost run: %v", perr)
		}
		if _, err := run0.Complete(ctx, jobs.CompleteInput{Pages: 1}); !jobs.IsNotProcessing(err) {
			t.Fatalf("results of the lost run: %v", err)
		}
		if _, err := run0.Fail(ctx, "boom", true); !jobs.IsNotProcessing(err) {
			t.Fatalf("failure of the lost run: %v", err)
		}
		if cur, _ := s.GetJob(ctx, j.ID); cur.Status != ocrinvoicejob.StatusProcessing || cur.Progress.Percentage != 0 || cur.RetryCount != 1 {
			t.Fatalf("after the lost run's writes: %s %+v retry %d", cur.Status, cur.Progress, cur.RetryCount)
		}
		// Run 1's own writes go through.
		if err := run1.Progress(ctx, invoice.Progress{Percentage: 50, CurrentStep: "read"}); err != nil {
			t.Fatal(err)
		}
		done, err := run1.Complete(ctx, jobs.CompleteInput{Pages: 1})
		if err != nil || done.Status != ocrinvoicejob.StatusCompleted || outcomes(done) != "worker_lost,completed" ||
			done.Attempts[1].Worker != "host-b:2" || done.Attempts[1].EndedAt == nil {
			t.Fatalf("complete run 1: %v %+v", err, done)
		}
	})
}

// TestAttemptOutcomes: a retryable failure, a redelivery of the same task (its first
// delivery ended without an outcome), a permanent failure and a cancellation each end the
// running attempt with their outcome; numbers keep growing.
func TestAttemptOutcomes(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		s := newService(t, c, nil)
		j, err := s.CreateJob(ctx, validInput("ATT-1"))
		if err != nil {
			t.Fatal(err)
		}
		r1, err := s.StartRun(ctx, j.ID, 0, jobs.Worker{Name: "w:1"})
		if err != nil {
			t.Fatal(err)
		}
		f, err := r1.Fail(ctx, "fetch: 503 from https://x.example/doc.pdf", false)
		if err != nil || outcomes(f) != "retry" || f.Attempts[0].Error == "" {
			t.Fatalf("retryable failure: %v %+v", err, f)
		}
		if _, err := s.StartRun(ctx, j.ID, 0, jobs.Worker{Name: "w:1"}); err != nil {
			t.Fatal(err)
		}
		r3, err := s.StartRun(ctx, j.ID, 0, jobs.Worker{Name: "w:2"}) // redelivered after a shutdown
		if err != nil {
			t.Fatal(err)
		}
		if again := r3.Job(); outcomes(again) != "retry,interrupted,running" || again.Attempts[2].Number != 3 {
			t.Fatalf("redelivery: %+v", again)
		}
		failed, err := r3.Fail(ctx, "corrupt document", true)
		if err != nil || failed.Status != ocrinvoicejob.StatusFailed || outcomes(failed) != "retry,interrupted,failed" {
			t.Fatalf("permanent failure: %v %+v", err, failed)
		}
		if _, err := s.RetryJob(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartRun(ctx, j.ID, 0, jobs.Worker{Name: "w:3"}); err != nil {
			t.Fatal(err)
		}
		cancelled, err := s.CancelJob(ctx, j.ID)
		if err != nil || outcomes(cancelled) != "retry,interrupted,failed,cancelled" || cancelled.Attempts[3].Number != 4 {
			t.Fatalf("cancel: %v %+v", err, cancelled)
		}
		// The list is bounded, oldest dropped first.
		if _, err := s.RetryJob(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		for range jobs.MaxAttempts + 2 {
			if _, err := s.StartProcessing(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
		}
		cur, _ := s.GetJob(ctx, j.ID)
		if len(cur.Attempts) != jobs.MaxAttempts || cur.Attempts[len(cur.Attempts)-1].Number != 4+jobs.MaxAttempts+2 {
			t.Fatalf("%d attempts, last number %d", len(cur.Attempts), cur.Attempts[len(cur.Attempts)-1].Number)
		}
	})
}
