package live_test

import (
	"context"
	"io"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeQueue accepts every task, so that created jobs become queued.
type fakeQueue struct{}

func (fakeQueue) EnqueueJob(context.Context, string, string) error    { return nil }
func (fakeQueue) DeleteJobTask(context.Context, string, string) error { return nil }

// env is a service publishing its events to a private Redis, a Hub on that Redis and a
// Watcher over both.
type env struct {
	svc   *jobs.Service
	pub   *progress.Publisher
	hub   *progress.Hub
	watch *live.Watcher
	db    *ent.Client
	rc    *redis.Client
}

func newEnv(t testing.TB, opts live.Options) *env {
	t.Helper()
	return newEnvOn(t, databasetest.Open(t), opts)
}

// newEnvOn is newEnv over the database client db.
func newEnvOn(t testing.TB, db *ent.Client, opts live.Options) *env {
	t.Helper()
	rs := redistest.Start(t)
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rc.Close() })
	pub := progress.NewPublisher(rc, progress.PublisherOptions{})
	svc := jobs.NewService(db, fakeQueue{}, jobs.Options{Logger: quiet, Events: pub})
	if err := svc.EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}
	hub := progress.NewHub(rc, progress.HubOptions{Logger: quiet})
	t.Cleanup(func() { _ = hub.Close() })
	select {
	case <-hub.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("hub not ready")
	}
	opts.Logger = quiet
	w := live.New(svc, hub, opts)
	t.Cleanup(w.Close)
	return &env{svc: svc, pub: pub, hub: hub, watch: w, db: db, rc: rc}
}

func (e *env) createJob(t testing.TB, number, group string) *ent.OcrInvoiceJob {
	t.Helper()
	j, err := e.svc.CreateJob(context.Background(), jobs.JobInput{
		JobNumber: number, DocumentName: "a.pdf", DocumentURL: "https://example.com/a.pdf",
		Template: jobs.BuiltinTemplateName, Group: group,
	})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// progressTo writes p to the job, which the service publishes, as a worker's run does.
func (e *env) progressTo(t *testing.T, j *ent.OcrInvoiceJob, pct int, step string) {
	t.Helper()
	p := invoice.Progress{Percentage: pct, CurrentStep: step, TotalSteps: 6}
	if err := e.svc.SetProgress(context.Background(), j.ID, p); err != nil {
		t.Fatal(err)
	}
}

// start starts the job's run (published by the service).
func (e *env) start(t *testing.T, j *ent.OcrInvoiceJob) {
	t.Helper()
	if _, err := e.svc.StartProcessing(context.Background(), j.ID); err != nil {
		t.Fatal(err)
	}
}

// fail fails the job's run for good (published by the service, with the reason).
func (e *env) fail(t *testing.T, j *ent.OcrInvoiceJob, reason string) {
	t.Helper()
	if _, err := e.svc.Fail(context.Background(), j.ID, reason, true); err != nil {
		t.Fatal(err)
	}
}

func next[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v, ok := <-ch:
		if !ok {
			t.Fatal("stream closed")
		}
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("nothing streamed within 5s")
	}
	var zero T
	return zero
}

func closed[T any](t *testing.T, ch <-chan T) {
	t.Helper()
	select {
	case v, ok := <-ch:
		if ok {
			t.Fatalf("stream sent %+v, want it closed", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream not closed within 5s")
	}
}

func quietFor[T any](t *testing.T, ch <-chan T, d time.Duration) {
	t.Helper()
	select {
	case v, ok := <-ch:
		t.Fatalf("stream sent %+v (open %v), want nothing", v, ok)
	case <-time.After(d):
	}
}

func TestJobStreamFromStateToTerminal(t *testing.T) {
	e := newEnv(t, live.Options{})
	ctx := context.Background()
	j := e.createJob(t, "LIVE-1", "")
	evs, err := e.watch.Job(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ev := next(t, evs); ev.Status != "queued" || ev.JobID != j.ID || !ev.At.Equal(j.UpdatedAt) {
		t.Fatalf("first event %+v, want the stored state (queued at %v)", ev, j.UpdatedAt)
	}
	e.start(t, j)
	if ev := next(t, evs); ev.Status != "processing" {
		t.Fatalf("event %+v, want processing", ev)
	}
	e.progressTo(t, j, 50, "read")
	if ev := next(t, evs); ev.Progress.Percentage != 50 || ev.Progress.CurrentStep != "read" {
		t.Fatalf("event %+v, want 50%% read", ev)
	}
	// An event older than what was sent is dropped; a repeat too.
	old := progress.Event{JobID: j.ID, Status: "processing", Progress: invoice.Progress{Percentage: 10}, At: time.Now().Add(-time.Hour)}
	if err := e.pub.Publish(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := e.pub.Publish(ctx, progress.Event{JobID: j.ID, Status: "processing", Progress: invoice.Progress{Percentage: 50, CurrentStep: "read", TotalSteps: 6}}); err != nil {
		t.Fatal(err)
	}
	e.fail(t, j, "document not found")
	ev := next(t, evs)
	if ev.Status != "failed" || ev.Message != "document not found" {
		t.Fatalf("event %+v, want failed with the reason (old and repeated events dropped)", ev)
	}
	closed(t, evs)

	t.Run("a finished job yields one event", func(t *testing.T) {
		evs, err := e.watch.Job(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ev := next(t, evs); ev.Status != "failed" || ev.Message != "document not found" {
			t.Fatalf("event %+v, want failed with the reason from errorLog", ev)
		}
		closed(t, evs)
	})
	t.Run("unknown and malformed ids", func(t *testing.T) {
		if _, err := e.watch.Job(ctx, "0123456789abcdef01234567"); apperr.KindOf(err) != apperr.KindNotFound {
			t.Errorf("unknown job: %v, want NotFound", err)
		}
		if _, err := e.watch.Job(ctx, "nope"); apperr.KindOf(err) != apperr.KindInvalid {
			t.Errorf("malformed id: %v, want Invalid", err)
		}
	})
}

func TestJobStreamResyncsLostEvents(t *testing.T) {
	e := newEnv(t, live.Options{Resync: 100 * time.Millisecond})
	j := e.createJob(t, "LIVE-RESYNC", "")
	evs, err := e.watch.Job(context.Background(), j.ID)
	if err != nil {
		t.Fatal(err)
	}
	next(t, evs)
	// Changes without events, as when Redis was unreachable.
	if _, err := e.svc.StartProcessing(context.Background(), j.ID); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, evs); ev.Status != "processing" {
		t.Fatalf("event %+v, want processing read back from the database", ev)
	}
	if _, err := e.db.OcrInvoiceJob.UpdateOneID(j.ID).SetStatus(ocrinvoicejob.StatusCancelled).SetUpdatedAt(time.Now()).Save(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, evs); ev.Status != "cancelled" {
		t.Fatalf("event %+v, want cancelled", ev)
	}
	closed(t, evs)
}

func TestJobUpdatesFilterAndStatusChangesOnly(t *testing.T) {
	e := newEnv(t, live.Options{})
	ctx := context.Background()
	a := e.createJob(t, "UPD-A", "")
	b := e.createJob(t, "UPD-B", "")
	updates, err := e.watch.JobUpdates(ctx, prefixFilter(t, "UPD-A"))
	if err != nil {
		t.Fatal(err)
	}
	e.start(t, b) // not a match
	e.start(t, a)
	j := next(t, updates)
	if j.ID == a.ID && j.Status == ocrinvoicejob.StatusQueued {
		// A's own create event, published before the watch began, may reach the hub
		// after it on a loaded machine: the job read back is then still queued.
		j = next(t, updates)
	}
	if j.ID != a.ID || j.Status != ocrinvoicejob.StatusProcessing {
		t.Fatalf("update %s %s, want %s processing", j.JobNumber, j.Status, a.JobNumber)
	}
	e.progressTo(t, a, 40, "read") // same status: no update
	quietFor(t, updates, 300*time.Millisecond)
	e.fail(t, a, "broken")
	if j := next(t, updates); j.ID != a.ID || j.Status != ocrinvoicejob.StatusFailed || j.ErrorLog == "" {
		t.Fatalf("update %s %s, want the full failed job", j.JobNumber, j.Status)
	}

	every, err := e.watch.JobUpdates(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CancelJob(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if j := next(t, every); j.ID != b.ID || j.Status != ocrinvoicejob.StatusCancelled {
		t.Fatalf("update %s %s, want %s cancelled", j.JobNumber, j.Status, b.JobNumber)
	}
}

func TestGroupStatusStream(t *testing.T) {
	e := newEnv(t, live.Options{})
	ctx := context.Background()
	g, err := e.svc.CreateGroup(ctx, jobs.GroupInput{Name: "batch", Spec: invoice.GroupSpec{BackoffLimit: 1}})
	if err != nil {
		t.Fatal(err)
	}
	j1 := e.createJob(t, "GRP-1", g.ID)
	j2 := e.createJob(t, "GRP-2", g.ID)
	e.createJob(t, "NOT-IN-GROUP", "")
	sts, err := e.watch.Group(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st := next(t, sts); st.Phase != invoice.GroupPhasePending || st.Total != 2 || st.Active != 2 || st.Conditions == nil {
		t.Fatalf("first status %+v, want Pending with 2 active jobs", st)
	}
	e.start(t, j1)
	if st := next(t, sts); st.Phase != invoice.GroupPhaseRunning || st.StartTime == nil {
		t.Fatalf("status %+v, want Running with a start time", st)
	}
	e.progressTo(t, j1, 30, "read") // changes no count
	quietFor(t, sts, 300*time.Millisecond)
	e.fail(t, j1, "bad")
	if st := next(t, sts); st.Failed != 1 || st.Active != 1 || st.Progress != 50 || st.Phase != invoice.GroupPhaseRunning {
		t.Fatalf("status %+v, want one failed (within backoffLimit), 50%%, Running", st)
	}
	if _, err := e.svc.CancelJob(ctx, j2.ID); err != nil {
		t.Fatal(err)
	}
	if st := next(t, sts); st.Phase != invoice.GroupPhaseComplete || st.Cancelled != 1 || st.Progress != 100 || st.CompletionTime == nil {
		t.Fatalf("status %+v, want Complete at 100%% with a completion time", st)
	}
	if _, err := e.watch.Group(ctx, "0123456789abcdef01234567"); apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("unknown group: %v, want NotFound", err)
	}
}

func TestCloseEndsStreamsWithoutLeaks(t *testing.T) {
	e := newEnv(t, live.Options{})
	ctx := context.Background()
	j := e.createJob(t, "LEAK-1", "")
	settle := func(want int) int {
		var n int
		for i := 0; i < 100; i++ {
			if n = runtime.NumGoroutine(); n <= want {
				return n
			}
			time.Sleep(20 * time.Millisecond)
		}
		return n
	}
	before := settle(0)

	// Streams whose client goes away leave nothing behind.
	cctx, cancel := context.WithCancel(ctx)
	for i := 0; i < 50; i++ {
		evs, err := e.watch.Job(cctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		next(t, evs)
		if _, err := e.watch.JobUpdates(cctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	if n := settle(before); n > before {
		t.Errorf("%d goroutines after the clients left, %d before", n, before)
	}

	// Close ends open streams and refuses new ones.
	evs, err := e.watch.Job(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	next(t, evs)
	updates, _ := e.watch.JobUpdates(ctx, nil)
	e.watch.Close()
	closed(t, evs)
	closed(t, updates)
	if _, err := e.watch.Job(ctx, j.ID); apperr.KindOf(err) != apperr.KindUnavailable {
		t.Errorf("Job after Close: %v, want Unavailable", err)
	}
	if n := settle(before); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}

// TestJobUpdatesCarryReviews: a person's correction and approval of a completed job (the
// status stays completed, the data version moves) reach the job's update stream, each
// with the job as it now is.
func TestJobUpdatesCarryReviews(t *testing.T) {
	e := newEnv(t, live.Options{})
	ctx := context.Background()
	j := e.createJob(t, "REVIEWED", "")
	e.start(t, j)
	if _, err := e.svc.Complete(ctx, j.ID, jobs.CompleteInput{Pages: 1, ExtractedData: &invoice.ExtractedData{Invoice: invoice.Invoice{Number: "INV-1"}}}); err != nil {
		t.Fatal(err)
	}
	updates, err := e.watch.JobUpdates(ctx, prefixFilter(t, "REVIEWED"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CorrectJob(ctx, j.ID, jobs.CorrectInput{Patch: []byte(`{"invoice":{"number":"INV-2"}}`)}); err != nil {
		t.Fatal(err)
	}
	u := next(t, updates)
	if u.ReviewStatus == ocrinvoicejob.ReviewStatusUnreviewed {
		// The completion's own event may reach the hub after the watch began.
		u = next(t, updates)
	}
	if u.ID != j.ID || u.ReviewStatus != ocrinvoicejob.ReviewStatusCorrected || u.ExtractedData.Invoice.Number != "INV-2" {
		t.Fatalf("update %s %s %+v, want the corrected job", u.JobNumber, u.ReviewStatus, u.ExtractedData)
	}
	if _, err := e.svc.ApproveJob(ctx, j.ID, nil); err != nil {
		t.Fatal(err)
	}
	if u := next(t, updates); u.ReviewStatus != ocrinvoicejob.ReviewStatusApproved {
		t.Fatalf("update %s, want approved", u.ReviewStatus)
	}
}
