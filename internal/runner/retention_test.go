package runner_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/runner"
)

// TestDocumentRetention: a Keep of 0 deletes nothing however old the jobs; with a
// Keep of 90 days, the runner's resync deletes the document of a job finished 91 days
// ago (file and record; the job marked, its data kept) and leaves the document of a
// job still processing, however old, and of one finished within the 90 days.
func TestDocumentRetention(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		h := newUploadHarness(t, c)
		ctx := context.Background()
		a := owner("team-a")
		job := func(n string, b []byte) (*ent.OcrInvoiceJob, string) {
			t.Helper()
			u := h.upload(a, b)
			j, err := h.svc.CreateJob(a, jobs.JobInput{JobNumber: n, DocumentName: n + ".pdf", DocumentURL: u.URL, Template: jobs.BuiltinTemplateName})
			if err != nil {
				t.Fatal(err)
			}
			return j, u.Key
		}
		set := func(j *ent.OcrInvoiceJob, st ocrinvoicejob.Status) {
			t.Helper()
			now := h.clock.Now()
			err := c.OcrInvoiceJob.UpdateOneID(j.ID).SetStatus(st).SetStartedAt(now).SetCompletedAt(now).
				SetExtractedData(&invoice.ExtractedData{Invoice: invoice.Invoice{Number: "N-" + j.JobNumber}}).Exec(ctx)
			if err != nil {
				t.Fatal(err)
			}
		}
		done, doneKey := job("DONE", []byte("%PDF-1.4 done long ago"))
		running, runningKey := job("RUNNING", []byte("%PDF-1.4 still processing"))
		set(done, ocrinvoicejob.StatusCompleted)
		if err := c.OcrInvoiceJob.UpdateOneID(running.ID).SetStatus(ocrinvoicejob.StatusProcessing).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		h.clock.Add(60 * 24 * time.Hour)
		recent, recentKey := job("RECENT", []byte("%PDF-1.4 done a month ago"))
		set(recent, ocrinvoicejob.StatusCancelled)
		h.clock.Add(31 * 24 * time.Hour)

		off := &runner.DocumentRetention{Jobs: h.svc, Store: h.store, Now: h.clock.Now, Logger: quiet}
		if res, err := off.Sweep(ctx); err != nil || len(res.Keys) != 0 || !h.stored(doneKey) {
			t.Fatalf("Keep 0: %+v %v, stored %v", res, err, h.stored(doneKey))
		}

		var expiredMu sync.Mutex
		var expired []string
		ret := &runner.DocumentRetention{Jobs: h.svc, Store: h.store, Keep: 90 * 24 * time.Hour, Now: h.clock.Now, Logger: quiet,
			OnExpired: func(keys []string) {
				expiredMu.Lock()
				defer expiredMu.Unlock()
				expired = append(expired, keys...)
			}}
		r := &runner.Runner{Reconciler: h.rec, Jobs: h.svc, Resync: 20 * time.Millisecond, Logger: quiet, Retention: ret}
		rctx, cancel := context.WithCancel(ctx)
		stopped := make(chan struct{})
		go func() { defer close(stopped); r.Run(rctx) }()
		defer func() { cancel(); <-stopped }()
		waitFor(t, "the document past retention to go", 10*time.Second, func() bool { return !h.stored(doneKey) })

		cur, err := c.OcrInvoiceJob.Get(ctx, done.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.DocumentDeletedAt == nil || cur.Status != ocrinvoicejob.StatusCompleted || cur.ExtractedData == nil || cur.ExtractedData.Invoice.Number != "N-DONE" {
			t.Fatalf("job after retention: deleted at %v, %s, data %+v", cur.DocumentDeletedAt, cur.Status, cur.ExtractedData)
		}
		waitFor(t, "OnExpired to name the deleted document", 10*time.Second, func() bool {
			expiredMu.Lock()
			defer expiredMu.Unlock()
			return slices.Equal(expired, []string{doneKey})
		})
		if o := h.owners(doneKey); len(o) != 0 {
			t.Fatalf("records left: %v", o)
		}
		for name, k := range map[string]string{"processing": runningKey, "recent": recentKey} {
			if !h.stored(k) || len(h.owners(k)) != 1 {
				t.Errorf("the %s job's document went", name)
			}
		}
		for _, j := range []*ent.OcrInvoiceJob{running, recent} {
			if cur, _ := c.OcrInvoiceJob.Get(ctx, j.ID); cur.DocumentDeletedAt != nil {
				t.Errorf("job %s marked", j.JobNumber)
			}
		}
	})
}
