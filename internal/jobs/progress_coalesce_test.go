package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// rowWrites records when the job rows were updated.
type rowWrites struct {
	mu sync.Mutex
	at []time.Time
}

func (w *rowWrites) hook(c *ent.Client) {
	c.OcrInvoiceJob.Use(func(next ent.Mutator) ent.Mutator {
		return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
			v, err := next.Mutate(ctx, m)
			if m.Op().Is(ent.OpUpdate) && err == nil {
				w.mu.Lock()
				w.at = append(w.at, time.Now())
				w.mu.Unlock()
			}
			return v, err
		})
	})
}

func (w *rowWrites) since(t time.Time) []time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []time.Time
	for _, a := range w.at {
		if !a.Before(t) {
			out = append(out, a)
		}
	}
	return out
}

// TestProgressWritesCoalesced: a run publishes every progress at once but writes the
// job's row at most once per ProgressWriteEvery (the start counts as a write); the
// latest progress reaches the row when the interval has passed, and never after the
// write that ends the run. A coalesced write refused because the job was cancelled
// meanwhile makes the run's next Progress fail with FailedPrecondition.
func TestProgressWritesCoalesced(t *testing.T) {
	const every = 400 * time.Millisecond
	rs := redistest.Start(t)
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rc.Close() })
	hub := progress.NewHub(rc, progress.HubOptions{Logger: quiet, Buffer: 64})
	t.Cleanup(func() { _ = hub.Close() })
	select {
	case <-hub.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("hub not subscribed")
	}
	qc := tasks.NewClient(asynq.RedisClientOpt{Addr: rs.Addr})
	t.Cleanup(func() { _ = qc.Close() })

	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		var w rowWrites
		w.hook(c)
		s := jobs.NewService(c, qc, jobs.Options{Logger: quiet, ProgressWriteEvery: every,
			Events: progress.NewPublisher(rc, progress.PublisherOptions{})})
		if err := s.EnsureBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		events, stop := hub.Subscribe(ctx, "")
		defer stop()
		j, err := s.CreateJob(ctx, validInput("COAL-1"))
		if err != nil {
			t.Fatal(err)
		}
		started := time.Now()
		run, err := s.StartRun(ctx, j.ID, jobs.AnyRun, jobs.Worker{})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 10; i++ {
			if err := run.Progress(ctx, invoice.Progress{Percentage: i * 9, CurrentStep: "step", TotalSteps: 4}); err != nil {
				t.Fatal(err)
			}
		}
		// Every progress is published, in order.
		want := 1
		for want <= 10 {
			ev := nextEvent(t, events)
			if ev.JobID != j.ID || ev.Status != string(ocrinvoicejob.StatusProcessing) || ev.Progress.CurrentStep != "step" {
				continue
			}
			if ev.Progress.Percentage != want*9 {
				t.Fatalf("event %d: %d %%, want %d %%", want, ev.Progress.Percentage, want*9)
			}
			want++
		}
		if n := len(w.since(started)); n != 1 && time.Since(started) < every {
			t.Fatalf("%d row writes within the interval after the start, want 1 (the start)", n)
		}
		// The latest progress reaches the row once the interval has passed, in one write.
		deadline := time.Now().Add(5 * time.Second)
		for {
			cur, err := s.GetJob(ctx, j.ID)
			if err != nil {
				t.Fatal(err)
			}
			if cur.Progress.Percentage == 90 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("row still at %+v", cur.Progress)
			}
			time.Sleep(20 * time.Millisecond)
		}
		writes := w.since(started)
		if len(writes) != 2 || writes[1].Sub(writes[0]) < every {
			t.Fatalf("row writes %v; want 2 (the start, the progress at least %s later)", writes, every)
		}
		// Progress then completion within the interval: the completion is the last write.
		if err := run.Progress(ctx, invoice.Progress{Percentage: 95, CurrentStep: "step", TotalSteps: 4}); err != nil {
			t.Fatal(err)
		}
		if _, err := run.Complete(ctx, jobs.CompleteInput{Pages: 1}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * every)
		if n := len(w.since(started)); n != 3 {
			t.Fatalf("row writes %d, want 3 (the start, the coalesced progress, the completion)", n)
		}
		done, err := s.GetJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if done.Status != ocrinvoicejob.StatusCompleted || done.Progress.Percentage != 100 {
			t.Fatalf("after completion: %s %+v", done.Status, done.Progress)
		}

		// A cancel meanwhile: the coalesced write is refused and the run told.
		j2, err := s.CreateJob(ctx, validInput("COAL-2"))
		if err != nil {
			t.Fatal(err)
		}
		run2, err := s.StartRun(ctx, j2.ID, jobs.AnyRun, jobs.Worker{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CancelJob(ctx, j2.ID); err != nil {
			t.Fatal(err)
		}
		if err := run2.Progress(ctx, invoice.Progress{Percentage: 10, CurrentStep: "step", TotalSteps: 4}); err != nil {
			t.Fatalf("coalesced progress: %v, want nil (not written yet)", err)
		}
		time.Sleep(every + every/2)
		if err := run2.Progress(ctx, invoice.Progress{Percentage: 20, CurrentStep: "step", TotalSteps: 4}); !jobs.IsNotProcessing(err) {
			t.Fatalf("progress after a refused coalesced write: %v, want FailedPrecondition", err)
		}
		cancelled, err := s.GetJob(ctx, j2.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cancelled.Status != ocrinvoicejob.StatusCancelled {
			t.Fatalf("job %s, want cancelled", cancelled.Status)
		}
	})
}
