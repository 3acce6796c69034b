package runner_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/conditions"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/runner"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// fakeClock is the clock of a test: it moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// groupHarness is one group under test: a real database, a real private Redis behind
// the queue, a fake clock shared by the service and the reconciler.
type groupHarness struct {
	t     *testing.T
	ctx   context.Context
	c     *ent.Client
	svc   *jobs.Service
	q     *tasks.Client
	clock *fakeClock
	rec   *runner.GroupReconciler
	store *uploads.Store
	id    string
	res   runner.Result
}

func (h *groupHarness) reconcile() invoice.GroupStatus {
	h.t.Helper()
	res, err := h.rec.Reconcile(h.ctx, h.id)
	if err != nil {
		h.t.Fatalf("reconcile: %v", err)
	}
	h.res = res
	g, err := h.svc.GetGroup(h.ctx, h.id)
	if err != nil {
		h.t.Fatalf("get group after reconcile: %v", err)
	}
	return g.Status
}

func (h *groupHarness) jobs(st ...ocrinvoicejob.Status) []*ent.OcrInvoiceJob {
	h.t.Helper()
	js, err := h.c.OcrInvoiceJob.Query().Where(ocrinvoicejob.GroupID(h.id), ocrinvoicejob.StatusIn(st...)).
		Order(ent.Asc(ocrinvoicejob.FieldCreatedAt), ent.Asc(ocrinvoicejob.FieldID)).All(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	return js
}

// finish moves n of the group's queued jobs to st, as a worker would.
func (h *groupHarness) finish(n int, st ocrinvoicejob.Status) {
	h.t.Helper()
	js := h.jobs(ocrinvoicejob.StatusQueued)
	if len(js) < n {
		h.t.Fatalf("%d queued jobs, want at least %d", len(js), n)
	}
	for _, j := range js[:n] {
		now := h.clock.Now()
		if err := h.c.OcrInvoiceJob.UpdateOne(j).SetStatus(st).SetStartedAt(now).SetCompletedAt(now).SetUpdatedAt(now).Exec(h.ctx); err != nil {
			h.t.Fatal(err)
		}
		_ = h.q.DeleteJobTask(h.ctx, j.ID, string(j.Priority))
	}
}

func (h *groupHarness) tasks() int {
	h.t.Helper()
	n := 0
	for _, j := range h.jobs(ocrinvoicejob.StatusCreated, ocrinvoicejob.StatusQueued, ocrinvoicejob.StatusProcessing) {
		ok, err := h.q.HasJobTask(h.ctx, j.ID)
		if err != nil {
			h.t.Fatal(err)
		}
		if ok {
			n++
		}
	}
	return n
}

func expect(t *testing.T, st invoice.GroupStatus, phase string, total, active, succeeded, failed, cancelled int) {
	t.Helper()
	if st.Phase != phase || st.Total != total || st.Active != active || st.Succeeded != succeeded || st.Failed != failed || st.Cancelled != cancelled {
		t.Fatalf("status %s total %d active %d succeeded %d failed %d cancelled %d; want %s %d %d %d %d %d",
			st.Phase, st.Total, st.Active, st.Succeeded, st.Failed, st.Cancelled, phase, total, active, succeeded, failed, cancelled)
	}
}

func expectCond(t *testing.T, st invoice.GroupStatus, typ string, status conditions.Status, reason string) conditions.Condition {
	t.Helper()
	c := conditions.Find(st.Conditions, typ)
	if c == nil || c.Status != status || c.Reason != reason {
		t.Fatalf("condition %s = %+v, want %s %s (all: %+v)", typ, c, status, reason, st.Conditions)
	}
	return *c
}

func ptr[T any](v T) *T { return &v }

// TestGroupReconciler calls Reconcile directly, step by step, with a fake clock.
func TestGroupReconciler(t *testing.T) {
	cases := []struct {
		name string
		spec invoice.GroupSpec
		docs int
		run  func(t *testing.T, h *groupHarness)
	}{
		{"parallelism", invoice.GroupSpec{Parallelism: 2}, 5, func(t *testing.T, h *groupHarness) {
			st := h.reconcile()
			expect(t, st, invoice.GroupPhaseRunning, 5, 2, 0, 0, 0)
			if h.tasks() != 2 || st.StartTime == nil || !st.StartTime.Equal(h.clock.Now()) {
				t.Fatalf("tasks %d, startTime %v", h.tasks(), st.StartTime)
			}
			expectCond(t, st, conditions.TypeProgress, conditions.True, runner.ReasonJobsRunning)
			again := h.reconcile() // level-triggered: nothing new to do
			expect(t, again, invoice.GroupPhaseRunning, 5, 2, 0, 0, 0)
			h.finish(1, ocrinvoicejob.StatusCompleted)
			expect(t, h.reconcile(), invoice.GroupPhaseRunning, 5, 2, 1, 0, 0)
			h.finish(2, ocrinvoicejob.StatusCompleted)
			expect(t, h.reconcile(), invoice.GroupPhaseRunning, 5, 2, 3, 0, 0)
			h.finish(2, ocrinvoicejob.StatusCompleted)
			st = h.reconcile()
			expect(t, st, invoice.GroupPhaseComplete, 5, 0, 5, 0, 0)
			expectCond(t, st, conditions.TypeComplete, conditions.True, runner.ReasonAllJobsSucceeded)
			expectCond(t, st, conditions.TypeProgress, conditions.False, runner.ReasonFinished)
			if st.CompletionTime == nil || st.Progress != 100 || h.res.RequeueAfter != 0 {
				t.Fatalf("completion %v progress %d requeue %v", st.CompletionTime, st.Progress, h.res.RequeueAfter)
			}
		}},
		{"no parallelism limit", invoice.GroupSpec{}, 4, func(t *testing.T, h *groupHarness) {
			expect(t, h.reconcile(), invoice.GroupPhaseRunning, 4, 4, 0, 0, 0)
		}},
		{"backoff limit", invoice.GroupSpec{Parallelism: 3, BackoffLimit: 1}, 6, func(t *testing.T, h *groupHarness) {
			h.reconcile()
			h.finish(1, ocrinvoicejob.StatusFailed)
			st := h.reconcile() // one failure is within the limit
			expect(t, st, invoice.GroupPhaseRunning, 6, 3, 0, 1, 0)
			h.finish(1, ocrinvoicejob.StatusFailed)
			st = h.reconcile()
			expect(t, st, invoice.GroupPhaseFailed, 6, 0, 0, 2, 4)
			c := expectCond(t, st, conditions.TypeFailed, conditions.True, runner.ReasonBackoffLimitExceeded)
			if h.tasks() != 0 || st.CompletionTime == nil {
				t.Fatalf("tasks left %d, completion %v", h.tasks(), st.CompletionTime)
			}
			h.clock.Add(time.Minute)
			st = h.reconcile() // finished stays finished; the time of the condition stays
			if got := expectCond(t, st, conditions.TypeFailed, conditions.True, runner.ReasonBackoffLimitExceeded); !got.LastTransitionTime.Equal(c.LastTransitionTime) {
				t.Fatalf("lastTransitionTime moved: %v -> %v", c.LastTransitionTime, got.LastTransitionTime)
			}
		}},
		{"failures within the backoff limit complete", invoice.GroupSpec{BackoffLimit: 1}, 3, func(t *testing.T, h *groupHarness) {
			h.reconcile()
			h.finish(2, ocrinvoicejob.StatusCompleted)
			h.finish(1, ocrinvoicejob.StatusFailed)
			st := h.reconcile()
			expect(t, st, invoice.GroupPhaseComplete, 3, 0, 2, 1, 0)
			expectCond(t, st, conditions.TypeComplete, conditions.True, runner.ReasonWithinBackoffLimit)
		}},
		{"deadline", invoice.GroupSpec{Parallelism: 1, ActiveDeadlineSeconds: ptr[int64](60)}, 3, func(t *testing.T, h *groupHarness) {
			st := h.reconcile()
			expect(t, st, invoice.GroupPhaseRunning, 3, 1, 0, 0, 0)
			if h.res.RequeueAfter != time.Minute {
				t.Fatalf("requeue after %v, want the deadline in 1m", h.res.RequeueAfter)
			}
			h.clock.Add(59 * time.Second)
			h.reconcile()
			if h.res.RequeueAfter != time.Second {
				t.Fatalf("requeue after %v, want 1s", h.res.RequeueAfter)
			}
			h.clock.Add(time.Second)
			st = h.reconcile()
			expect(t, st, invoice.GroupPhaseFailed, 3, 0, 0, 0, 3)
			expectCond(t, st, conditions.TypeFailed, conditions.True, runner.ReasonDeadlineExceeded)
		}},
		{"suspend and resume", invoice.GroupSpec{Parallelism: 2, Suspend: true, ActiveDeadlineSeconds: ptr[int64](600)}, 3, func(t *testing.T, h *groupHarness) {
			st := h.reconcile()
			expect(t, st, invoice.GroupPhaseSuspended, 3, 0, 0, 0, 0)
			expectCond(t, st, conditions.TypeSuspended, conditions.True, runner.ReasonJobSuspended)
			if h.tasks() != 0 || st.StartTime != nil {
				t.Fatalf("suspended group released %d jobs, startTime %v", h.tasks(), st.StartTime)
			}
			h.clock.Add(time.Hour) // suspended time does not count against the deadline
			if _, err := h.svc.ResumeGroup(h.ctx, h.id); err != nil {
				t.Fatal(err)
			}
			st = h.reconcile()
			expect(t, st, invoice.GroupPhaseRunning, 3, 2, 0, 0, 0)
			c := expectCond(t, st, conditions.TypeSuspended, conditions.False, runner.ReasonJobResumed)
			if !c.LastTransitionTime.Equal(h.clock.Now()) || !st.StartTime.Equal(h.clock.Now()) {
				t.Fatalf("resumed at %v: condition moved at %v, startTime %v", h.clock.Now(), c.LastTransitionTime, st.StartTime)
			}
			if _, err := h.svc.SuspendGroup(h.ctx, h.id); err != nil {
				t.Fatal(err)
			}
			h.finish(2, ocrinvoicejob.StatusCompleted)
			st = h.reconcile() // in-flight jobs finished; the last one is not released
			expect(t, st, invoice.GroupPhaseSuspended, 3, 0, 2, 0, 0)
			if h.tasks() != 0 {
				t.Fatalf("%d tasks while suspended", h.tasks())
			}
		}},
		{"ttl after finished", invoice.GroupSpec{TTLSecondsAfterFinished: ptr[int64](30)}, 2, func(t *testing.T, h *groupHarness) {
			h.reconcile()
			h.finish(2, ocrinvoicejob.StatusCompleted)
			st := h.reconcile()
			expect(t, st, invoice.GroupPhaseComplete, 2, 0, 2, 0, 0)
			if h.res.RequeueAfter != 30*time.Second {
				t.Fatalf("requeue after %v, want 30s", h.res.RequeueAfter)
			}
			h.clock.Add(30 * time.Second)
			h.reconcile2Gone(t)
		}},
		{"cancel", invoice.GroupSpec{Parallelism: 2}, 4, func(t *testing.T, h *groupHarness) {
			h.reconcile()
			h.finish(1, ocrinvoicejob.StatusCompleted)
			if _, n, err := h.svc.CancelGroup(h.ctx, h.id); err != nil || n != 3 {
				t.Fatalf("cancel: %d %v", n, err)
			}
			st := h.reconcile()
			expect(t, st, invoice.GroupPhaseFailed, 4, 0, 1, 0, 3)
			expectCond(t, st, conditions.TypeFailed, conditions.True, runner.ReasonJobsCancelled)
			if h.tasks() != 0 {
				t.Fatalf("%d tasks after cancel", h.tasks())
			}
		}},
		{"retry failed", invoice.GroupSpec{Parallelism: 2, BackoffLimit: 0}, 3, func(t *testing.T, h *groupHarness) {
			h.reconcile()
			h.finish(1, ocrinvoicejob.StatusCompleted)
			h.finish(1, ocrinvoicejob.StatusFailed)
			st := h.reconcile()
			expect(t, st, invoice.GroupPhaseFailed, 3, 0, 1, 1, 1)
			h.clock.Add(time.Minute)
			if _, n, err := h.svc.RetryFailedGroup(h.ctx, h.id); err != nil || n != 2 {
				t.Fatalf("retry-failed: %d %v", n, err)
			}
			st = h.reconcile()
			expect(t, st, invoice.GroupPhaseRunning, 3, 2, 1, 0, 0)
			expectCond(t, st, conditions.TypeFailed, conditions.False, runner.ReasonRetried)
			if !st.StartTime.Equal(h.clock.Now()) || st.CompletionTime != nil || h.tasks() != 2 {
				t.Fatalf("after retry: startTime %v completion %v tasks %d", st.StartTime, st.CompletionTime, h.tasks())
			}
			for _, j := range h.jobs(ocrinvoicejob.StatusQueued) {
				if j.RetryCount != 1 {
					t.Fatalf("retried job has retryCount %d", j.RetryCount)
				}
			}
			h.finish(2, ocrinvoicejob.StatusCompleted)
			st = h.reconcile()
			expect(t, st, invoice.GroupPhaseComplete, 3, 0, 3, 0, 0)
			expectCond(t, st, conditions.TypeComplete, conditions.True, runner.ReasonAllJobsSucceeded)
		}},
	}
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		srv := redistest.Start(t)
		q := tasks.NewClient(asynq.RedisClientOpt{Addr: srv.Addr})
		t.Cleanup(func() { _ = q.Close() })
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
				svc := jobs.NewService(c, q, jobs.Options{Logger: quiet, Now: clock.Now})
				if err := svc.EnsureBuiltins(ctx); err != nil {
					t.Fatal(err)
				}
				store, err := uploads.New(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				docs := make([]jobs.GroupDocument, tc.docs)
				for i := range docs {
					docs[i] = jobs.GroupDocument{DocumentURL: fmt.Sprintf("https://files.example.com/%d.pdf", i), DocumentName: fmt.Sprintf("%d.pdf", i)}
				}
				h := &groupHarness{t: t, ctx: ctx, c: c, svc: svc, q: q, clock: clock, store: store,
					rec: &runner.GroupReconciler{Jobs: svc, Uploads: store, Now: clock.Now, Logger: quiet}}
				if tc.name == "ttl after finished" {
					h.withUploads(docs)
				}
				g, err := svc.CreateGroup(ctx, jobs.GroupInput{Name: tc.name, Spec: tc.spec, Documents: docs})
				if err != nil {
					t.Fatal(err)
				}
				h.id = g.ID
				tc.run(t, h)
			})
		}
	})
}

// withUploads makes the documents uploads: the first one shared with a job outside the
// group, the second the group's alone.
func (h *groupHarness) withUploads(docs []jobs.GroupDocument) {
	h.t.Helper()
	for i := range docs {
		u, err := h.svc.StoreUpload(h.ctx, h.store, bytes.NewReader([]byte(fmt.Sprintf("%%PDF-1.4 document %d of %s", i, h.t.Name()))), 0)
		if err != nil {
			h.t.Fatal(err)
		}
		docs[i].DocumentURL = uploads.URL(u.Key)
	}
	if _, err := h.svc.CreateJob(h.ctx, jobs.JobInput{JobNumber: "outside-" + h.t.Name(), DocumentName: "a.pdf", DocumentURL: docs[0].DocumentURL, Template: jobs.BuiltinTemplateName}); err != nil {
		h.t.Fatal(err)
	}
}

// reconcile2Gone reconciles a group past its TTL: it and its jobs are deleted, and the
// upload only it named is removed; the shared one stays.
func (h *groupHarness) reconcile2Gone(t *testing.T) {
	t.Helper()
	urls := []string{}
	for _, j := range h.jobs(ocrinvoicejob.StatusCompleted) {
		urls = append(urls, j.DocumentURL)
	}
	if _, err := h.rec.Reconcile(h.ctx, h.id); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.GetGroup(h.ctx, h.id); err == nil {
		t.Fatal("group still there after its TTL")
	}
	if n := len(h.jobs(ocrinvoicejob.StatusCompleted)); n != 0 {
		t.Fatalf("%d jobs left", n)
	}
	for i, u := range urls {
		key, _ := uploads.KeyFromURL(u)
		f, err := h.store.Open(key)
		if f != nil {
			_ = f.Close()
		}
		shared := false
		if n, _ := h.c.OcrInvoiceJob.Query().Where(ocrinvoicejob.DocumentURL(u)).Count(h.ctx); n > 0 {
			shared = true
		}
		if shared != (err == nil) {
			t.Fatalf("upload %d: shared %v, still stored: %v", i, shared, err == nil)
		}
	}
	if _, err := h.rec.Reconcile(h.ctx, h.id); err != nil {
		t.Fatalf("reconcile of a deleted group: %v", err)
	}
}
