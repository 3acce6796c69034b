package runner_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
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
	"github.com/ocrinvoice/ocrinvoice/internal/runner"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

func waitFor(t *testing.T, what string, limit time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// slowReconciler counts reconciles per id and how many run at once for one id.
type slowReconciler struct {
	mu      sync.Mutex
	calls   map[string]int
	running map[string]int
	overlap bool
	hold    time.Duration
	started chan string
}

func (s *slowReconciler) Reconcile(ctx context.Context, id string) (runner.Result, error) {
	s.mu.Lock()
	s.calls[id]++
	s.running[id]++
	if s.running[id] > 1 {
		s.overlap = true
	}
	s.mu.Unlock()
	select {
	case s.started <- id:
	default:
	}
	time.Sleep(s.hold)
	s.mu.Lock()
	s.running[id]--
	s.mu.Unlock()
	return runner.Result{}, nil
}

func (s *slowReconciler) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

// TestRunnerCoalesces: triggers while a group is being reconciled run it once more
// afterwards, never twice at once; triggers of other groups run beside it.
func TestRunnerCoalesces(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		// started is large enough that no start is dropped (Reconcile sends without blocking).
		rec := &slowReconciler{calls: map[string]int{}, running: map[string]int{}, hold: 200 * time.Millisecond, started: make(chan string, 1024)}
		r := &runner.Runner{Reconciler: rec, Jobs: jobs.NewService(c, nil, jobs.Options{Logger: quiet}), Resync: time.Hour, Workers: 3, Logger: quiet}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); r.Run(ctx) }()
		defer func() { cancel(); <-done }()
		waitFor(t, "the runner", time.Second, func() bool { r.Trigger("warmup"); return rec.count("warmup") > 0 })
		r.Trigger("a")
		// Wait until a has started (warm-up reconciles may still start meanwhile).
		for started := false; !started; {
			select {
			case id := <-rec.started:
				started = id == "a"
			case <-time.After(5 * time.Second):
				t.Fatal("the reconcile of a did not start")
			}
		}
		for range 50 {
			r.Trigger("a") // during the reconcile of a: one more afterwards
		}
		r.Trigger("b")
		waitFor(t, "b beside a", time.Second, func() bool { return rec.count("b") == 1 })
		waitFor(t, "a once more", 2*time.Second, func() bool { return rec.count("a") == 2 })
		time.Sleep(300 * time.Millisecond)
		rec.mu.Lock()
		defer rec.mu.Unlock()
		if rec.calls["a"] != 2 || rec.overlap {
			t.Fatalf("a reconciled %d times (want 2), overlap %v", rec.calls["a"], rec.overlap)
		}
	})
}

// TestRunnerDrivesGroup: the runner releases a group's jobs under parallelism as job
// events arrive through a real Hub, and completes the group, with no resync at all.
func TestRunnerDrivesGroup(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		srv := redistest.Start(t)
		q := tasks.NewClient(asynq.RedisClientOpt{Addr: srv.Addr})
		t.Cleanup(func() { _ = q.Close() })
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
		t.Cleanup(func() { _ = rdb.Close() })
		pub := progress.NewPublisher(rdb, progress.PublisherOptions{})
		hub := progress.NewHub(rdb, progress.HubOptions{Logger: quiet})
		t.Cleanup(func() { _ = hub.Close() })
		<-hub.Ready()
		svc := jobs.NewService(c, q, jobs.Options{Logger: quiet, Events: pub})
		if err := svc.EnsureBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		r := &runner.Runner{Reconciler: &runner.GroupReconciler{Jobs: svc, Logger: quiet}, Jobs: svc, Events: hub, Resync: time.Hour, Logger: quiet}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); r.Run(rctx) }()
		defer func() { cancel(); <-done }()
		time.Sleep(100 * time.Millisecond) // the first resync found no group

		docs := make([]jobs.GroupDocument, 5)
		for i := range docs {
			docs[i] = jobs.GroupDocument{DocumentURL: fmt.Sprintf("https://files.example.com/%d.pdf", i), DocumentName: fmt.Sprintf("%d.pdf", i)}
		}
		g, err := svc.CreateGroup(ctx, jobs.GroupInput{Name: "driven", Spec: invoice.GroupSpec{Parallelism: 2}, Documents: docs})
		if err != nil {
			t.Fatal(err)
		}
		count := func(st ocrinvoicejob.Status) int {
			n, err := c.OcrInvoiceJob.Query().Where(ocrinvoicejob.GroupID(g.ID), ocrinvoicejob.StatusEQ(st)).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		for finished := 0; finished < 5; {
			waitFor(t, "jobs released", 5*time.Second, func() bool { return count(ocrinvoicejob.StatusQueued) == min(2, 5-finished) })
			if n := count(ocrinvoicejob.StatusQueued); n > 2 {
				t.Fatalf("%d queued, parallelism 2", n)
			}
			j, err := c.OcrInvoiceJob.Query().Where(ocrinvoicejob.GroupID(g.ID), ocrinvoicejob.StatusEQ(ocrinvoicejob.StatusQueued)).First(ctx)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			j, err = j.Update().SetStatus(ocrinvoicejob.StatusCompleted).SetStartedAt(now).SetCompletedAt(now).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			finished++
			if err := pub.Publish(ctx, jobs.EventOf(j, "")); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, "group complete", 5*time.Second, func() bool {
			g, err := svc.GetGroup(ctx, g.ID)
			return err == nil && g.Status.Phase == invoice.GroupPhaseComplete && g.Status.Succeeded == 5
		})
	})
}

// TestLease: of two runners at once only one holds the lease; cancelling the holder
// hands it to the other within the expiry; a holder whose lease is taken away stops.
func TestLease(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	const ttl = 600 * time.Millisecond
	var holders atomic.Int32
	var overlap atomic.Bool
	held := [2]atomic.Bool{}
	cancels := [2]context.CancelFunc{}
	dones := [2]chan struct{}{}
	for i := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		cancels[i], dones[i] = cancel, make(chan struct{})
		l := &runner.Lease{Redis: rdb, Key: "test:lease", TTL: ttl, Logger: quiet}
		go func() {
			defer close(dones[i])
			l.Run(ctx, func(ctx context.Context) {
				if holders.Add(1) > 1 {
					overlap.Store(true)
				}
				held[i].Store(true)
				<-ctx.Done()
				held[i].Store(false)
				holders.Add(-1)
			})
		}()
	}
	defer func() {
		for i := range 2 {
			cancels[i]()
			<-dones[i]
		}
	}()
	waitFor(t, "a holder", 2*time.Second, func() bool { return holders.Load() == 1 })
	time.Sleep(2 * ttl) // renewals keep it with the same holder
	first := 0
	if held[1].Load() {
		first = 1
	}
	if !held[first].Load() || held[1-first].Load() || overlap.Load() {
		t.Fatalf("held %v %v, overlap %v", held[0].Load(), held[1].Load(), overlap.Load())
	}
	start := time.Now()
	cancels[first]()
	<-dones[first]
	waitFor(t, "the hand-over", ttl, func() bool { return held[1-first].Load() })
	t.Logf("lease handed over in %v (expiry %v)", time.Since(start).Round(time.Millisecond), ttl)
	if overlap.Load() {
		t.Fatal("two holders at once")
	}
	// The lease taken away (e.g. it expired while the holder was paused): the holder stops.
	if err := rdb.Set(context.Background(), "test:lease", "someone-else", 0).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the holder to stop", ttl, func() bool { return !held[1-first].Load() })
	if v, _ := rdb.Get(context.Background(), "test:lease").Result(); v != "someone-else" {
		t.Fatalf("the lease of another was released: %q", v)
	}
}
