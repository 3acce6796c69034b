package jobs_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// nextEvent returns the next event of ch or fails after a few seconds.
func nextEvent(t *testing.T, ch <-chan progress.Event) progress.Event {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatal("event channel closed")
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return progress.Event{}
}

// TestAPIStatusChangesArePublished: create, cancel and retry publish the job's new state
// (on one private Redis that holds both the queue and the events).
func TestAPIStatusChangesArePublished(t *testing.T) {
	rs := redistest.Start(t)
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rc.Close() })
	hub := progress.NewHub(rc, progress.HubOptions{Logger: quiet})
	t.Cleanup(func() { _ = hub.Close() })
	select {
	case <-hub.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("hub not subscribed")
	}
	qc := tasks.NewClient(asynq.RedisClientOpt{Addr: rs.Addr})
	t.Cleanup(func() { _ = qc.Close() })

	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := jobs.NewService(c, qc, jobs.Options{Logger: quiet, Events: progress.NewPublisher(rc, progress.PublisherOptions{})})
		if err := s.EnsureBuiltins(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		events, stop := hub.Subscribe(ctx, "")
		defer stop()

		in := validInput("EV-1")
		g, err := s.CreateGroup(ctx, jobs.GroupInput{Name: "events " + t.Name()})
		if err != nil {
			t.Fatal(err)
		}
		// Creating the group announces it (for the batch runner): a group event first.
		if e := nextEvent(t, events); e.JobID != "" || e.GroupID != g.ID || e.Status != progress.StatusGroupChanged {
			t.Errorf("group create event %+v, want %s for group %s", e, progress.StatusGroupChanged, g.ID)
		}
		in.Group = g.ID
		j, err := s.CreateJob(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if e := nextEvent(t, events); e.JobID != j.ID || e.Status != "queued" || e.GroupID != g.ID || !e.At.Equal(j.UpdatedAt) {
			t.Errorf("create event %+v, want queued in group %s at %v", e, g.ID, j.UpdatedAt)
		}
		if _, err := s.CancelJob(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		if e := nextEvent(t, events); e.JobID != j.ID || e.Status != "cancelled" || !e.Terminal() {
			t.Errorf("cancel event %+v", e)
		}
		if _, err := s.RetryJob(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		if e := nextEvent(t, events); e.JobID != j.ID || e.Status != "queued" || e.Progress.Percentage != 0 {
			t.Errorf("retry event %+v", e)
		}
		// A run's writes publish the job's state once each (the worker publishes none).
		run, err := s.StartRun(ctx, j.ID, jobs.AnyRun, jobs.Worker{})
		if err != nil {
			t.Fatal(err)
		}
		if e := nextEvent(t, events); e.JobID != j.ID || e.Status != "processing" || e.Progress.CurrentStep != "started" {
			t.Errorf("start event %+v", e)
		}
		if err := run.Progress(ctx, invoice.Progress{Percentage: 150, CurrentStep: "read", TotalSteps: 4}); err != nil {
			t.Fatal(err)
		}
		if e := nextEvent(t, events); e.Status != "processing" || e.Progress.Percentage != 100 || e.Progress.CurrentStep != "read" {
			t.Errorf("progress event %+v, want the clamped progress as stored", e)
		}
		done, err := run.Complete(ctx, jobs.CompleteInput{Pages: 1})
		if err != nil {
			t.Fatal(err)
		}
		if e := nextEvent(t, events); e.Status != "completed" || e.Progress.TotalSteps != 4 || !e.At.Equal(done.UpdatedAt) || !e.Terminal() {
			t.Errorf("complete event %+v", e)
		}
		// A failed cancel publishes nothing.
		if _, err := s.CancelJob(ctx, j.ID); err == nil {
			t.Fatal("cancel of a completed job succeeded")
		}
		select {
		case e := <-events:
			t.Errorf("unexpected event %+v", e)
		case <-time.After(300 * time.Millisecond):
		}
	})
}

// TestPublishFailureIsNotAnError: with the events' Redis gone, operations still succeed.
func TestPublishFailureIsNotAnError(t *testing.T) {
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = dead.Close() })
	c := databasetest.Open(t)
	s := jobs.NewService(c, nil, jobs.Options{Logger: quiet,
		Events: progress.NewPublisher(dead, progress.PublisherOptions{Timeout: 200 * time.Millisecond})})
	if err := s.EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	j, err := s.CreateJob(context.Background(), validInput("EV-DEAD"))
	if err != nil {
		t.Fatalf("create with events Redis down: %v", err)
	}
	if _, err := s.CancelJob(context.Background(), j.ID); err != nil {
		t.Fatalf("cancel with events Redis down: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("two operations took %s with the events Redis down", d)
	}
	// A nil publisher in the interface is fine too.
	var none *progress.Publisher
	s2 := jobs.NewService(c, nil, jobs.Options{Logger: quiet, Events: none})
	if _, err := s2.CreateJob(context.Background(), validInput("EV-NIL")); err != nil {
		t.Fatal(err)
	}
}

// TestCompleteUsesConfiguredFactors: the cost of a completed job uses the service's
// priority factors.
func TestCompleteUsesConfiguredFactors(t *testing.T) {
	c := databasetest.Open(t)
	s := jobs.NewService(c, nil, jobs.Options{Logger: quiet, PricePerPage: 0.1, PriceFactors: jobs.PriceFactors{"urgent": 5}})
	if err := s.EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for prio, want := range map[string]float64{"urgent": 1, "low": 0.16, "medium": 0.2} {
		in := validInput("FACTOR-" + prio)
		in.Priority = prio
		j, err := s.CreateJob(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartProcessing(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		j, err = s.Complete(ctx, j.ID, jobs.CompleteInput{Pages: 2})
		if err != nil {
			t.Fatal(err)
		}
		if j.Cost != want || j.Currency != "USD" {
			t.Errorf("%s: cost %v %s, want %v USD", prio, j.Cost, j.Currency, want)
		}
	}
}

// TestEInvoiceJobsCostTheirOwnPrice: a job read from an e-invoice's XML costs the
// e-invoice price (times the priority factor), whatever its page count; others their pages.
func TestEInvoiceJobsCostTheirOwnPrice(t *testing.T) {
	c := databasetest.Open(t)
	s := jobs.NewService(c, nil, jobs.Options{Logger: quiet, PricePerPage: 0.1, EInvoicePrice: 0.004})
	if err := s.EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		priority string
		in       jobs.CompleteInput
		want     float64
	}{
		{"XML-3PAGES", "medium", jobs.CompleteInput{Pages: 3, EInvoice: true}, 0.004},
		{"XML-URGENT", "urgent", jobs.CompleteInput{Pages: 1, EInvoice: true}, 0.008},
		{"PAGES-3", "medium", jobs.CompleteInput{Pages: 3}, 0.3},
	} {
		in := validInput(tc.name)
		in.Priority = tc.priority
		j, err := s.CreateJob(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartProcessing(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		if j, err = s.Complete(ctx, j.ID, tc.in); err != nil {
			t.Fatal(err)
		}
		if j.Cost != tc.want {
			t.Errorf("%s: cost %v, want %v", tc.name, j.Cost, tc.want)
		}
	}
}

// ordered records, in one list, the events published and the tasks enqueued.
type ordered struct {
	mu  sync.Mutex
	log []string
	enq jobs.Enqueuer
	pub jobs.EventPublisher
}

func (o *ordered) add(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.log = append(o.log, s)
}

func (o *ordered) Publish(ctx context.Context, ev progress.Event) error {
	o.add("event " + ev.Status)
	return o.pub.Publish(ctx, ev)
}

func (o *ordered) EnqueueJob(ctx context.Context, id, priority string) error {
	err := o.enq.EnqueueJob(ctx, id, priority)
	o.add(fmt.Sprintf("enqueue ok=%t", err == nil))
	return err
}

func (o *ordered) DeleteJobTask(ctx context.Context, id, priority string) error {
	return o.enq.DeleteJobTask(ctx, id, priority)
}

// TestQueuedIsPublishedBeforeTheTaskExists: a worker publishes "processing" as soon as it
// takes the task, so the "queued" event of a create must be out before the task is on
// the queue, or a subscriber sees queued after processing. When the enqueue fails the
// job goes back to created, and that is published too.
func TestQueuedIsPublishedBeforeTheTaskExists(t *testing.T) {
	rs := redistest.Start(t)
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rc.Close() })
	up := tasks.NewClient(asynq.RedisClientOpt{Addr: rs.Addr})
	t.Cleanup(func() { _ = up.Close() })
	down := tasks.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = down.Close() })

	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		for _, tc := range []struct {
			name   string
			q      *tasks.Client
			status string
			want   []string
		}{
			{"redis up", up, "queued", []string{"event queued", "enqueue ok=true"}},
			{"redis down", down, "created", []string{"event queued", "enqueue ok=false", "event created"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				o := &ordered{enq: tc.q, pub: progress.NewPublisher(rc, progress.PublisherOptions{})}
				s := jobs.NewService(c, o, jobs.Options{Logger: quiet, Events: o})
				if err := s.EnsureBuiltins(context.Background()); err != nil {
					t.Fatal(err)
				}
				j, err := s.CreateJob(context.Background(), validInput("ORDER-"+strings.ReplaceAll(tc.name, " ", "-")))
				if err != nil {
					t.Fatal(err)
				}
				if string(j.Status) != tc.status {
					t.Errorf("status %s, want %s", j.Status, tc.status)
				}
				stored, err := s.GetJob(context.Background(), j.ID)
				if err != nil {
					t.Fatal(err)
				}
				if stored.Status != j.Status || !stored.UpdatedAt.Equal(j.UpdatedAt) {
					t.Errorf("returned %s at %v, stored %s at %v", j.Status, j.UpdatedAt, stored.Status, stored.UpdatedAt)
				}
				if !slices.Equal(o.log, tc.want) {
					t.Errorf("order %q, want %q", o.log, tc.want)
				}
			})
		}
	})
}
