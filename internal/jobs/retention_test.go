package jobs_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// finishJob moves job id to st, finished at at, with extracted data naming its number.
func finishJob(t *testing.T, c *ent.Client, id string, st ocrinvoicejob.Status, at time.Time) {
	t.Helper()
	err := c.OcrInvoiceJob.UpdateOneID(id).SetStatus(st).SetStartedAt(at.Add(-time.Second)).SetCompletedAt(at).
		SetExtractedData(&invoice.ExtractedData{Invoice: invoice.Invoice{Number: "INV-" + id}}).
		Exec(context.Background())
	if err != nil {
		t.Fatal(err)
	}
}

// TestExpireDocuments: the stored documents of jobs finished before the cutoff are
// deleted (rows and files) and the jobs marked, keeping their extracted data; a
// document that another owner's recent job, an unfinished job or a recent upload still
// needs stays, and so does a document fetched from a URL. Running such a job again is a
// clear FailedPrecondition; a new job needs a new upload.
func TestExpireDocuments(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s, store, clock := newUploadService(t, c, jobs.UploadQuota{})
		a, b := as(auth.RoleSubmitter, "team-a"), as(auth.RoleSubmitter, "team-b")
		bg := context.Background()
		t0 := clock.Now()

		create := func(ctx context.Context, n, url string) *ent.OcrInvoiceJob {
			t.Helper()
			j, err := s.CreateJob(ctx, uploadJob(n, url))
			if err != nil {
				t.Fatalf("create %s: %v", n, err)
			}
			return j
		}
		old := storeDoc(t, a, s, store, doc("old"))
		failed := storeDoc(t, a, s, store, doc("failed"))
		shared := storeDoc(t, a, s, store, doc("shared"))
		storeDoc(t, b, s, store, doc("shared"))
		running := storeDoc(t, a, s, store, doc("running"))
		reup := storeDoc(t, a, s, store, doc("uploaded again"))

		jOld := create(a, "OLD", old.URL)
		jFailed := create(a, "FAILED", failed.URL)
		jSharedA := create(a, "SHARED-A", shared.URL)
		jSharedB := create(b, "SHARED-B", shared.URL)
		jRun1 := create(a, "RUN-1", running.URL)
		jRun2 := create(a, "RUN-2", running.URL)
		jReup := create(a, "REUP", reup.URL)
		jHTTP := create(a, "HTTP", "https://invoices.example.com/a.pdf")
		for _, j := range []*ent.OcrInvoiceJob{jOld, jSharedA, jRun1, jReup, jHTTP} {
			finishJob(t, c, j.ID, ocrinvoicejob.StatusCompleted, t0)
		}
		finishJob(t, c, jFailed.ID, ocrinvoicejob.StatusFailed, t0)
		for _, j := range []*ent.OcrInvoiceJob{jOld, jSharedA} {
			if err := c.OcrInvoiceJob.UpdateOneID(j.ID).SetDocumentLayout([]byte("layout")).Exec(bg); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.OcrInvoiceJob.UpdateOneID(jRun2.ID).SetStatus(ocrinvoicejob.StatusProcessing).Exec(bg); err != nil {
			t.Fatal(err)
		}

		clock.Add(85 * 24 * time.Hour)
		finishJob(t, c, jSharedB.ID, ocrinvoicejob.StatusCompleted, clock.Now()) // 5 days before the cutoff below
		storeDoc(t, b, s, store, doc("uploaded again"))                          // team-b uploads those bytes now
		clock.Add(10 * 24 * time.Hour)
		cutoff := clock.Now().Add(-90 * 24 * time.Hour)

		res, err := s.ExpireDocuments(bg, store, cutoff, 0)
		if err != nil {
			t.Fatal(err)
		}
		got := slices.Clone(res.Keys)
		slices.Sort(got)
		want := []string{old.Key, failed.Key}
		slices.Sort(want)
		if !slices.Equal(got, want) || res.Jobs != 2 || res.Files != 2 || res.Kept != 3 {
			t.Fatalf("expired %v (jobs %d, files %d, kept %d), want %v (2, 2, 3)", res.Keys, res.Jobs, res.Files, res.Kept, want)
		}
		for _, u := range []string{old.Key, failed.Key} {
			if _, _, ok := store.Stat(u); ok {
				t.Errorf("file %s still stored", u[:8])
			}
			if rows := rowsOf(t, c, u); len(rows) != 0 {
				t.Errorf("rows of %s left: %v", u[:8], rows)
			}
		}
		for _, u := range []string{shared.Key, running.Key, reup.Key} {
			if _, _, ok := store.Stat(u); !ok {
				t.Errorf("file %s was removed though something needs it", u[:8])
			}
		}
		if rows := rowsOf(t, c, shared.Key); !slices.Equal(rows, []string{"team-a", "team-b"}) {
			t.Errorf("rows of the shared upload: %v", rows)
		}
		marked := func(j *ent.OcrInvoiceJob) *time.Time {
			t.Helper()
			cur, err := c.OcrInvoiceJob.Get(bg, j.ID)
			if err != nil {
				t.Fatal(err)
			}
			return cur.DocumentDeletedAt
		}
		for _, j := range []*ent.OcrInvoiceJob{jOld, jFailed} {
			at := marked(j)
			if at == nil || !at.Equal(clock.Now()) {
				t.Errorf("job %s: documentDeletedAt %v, want %v", j.JobNumber, at, clock.Now())
			}
			cur, _ := c.OcrInvoiceJob.Get(bg, j.ID)
			if cur.ExtractedData == nil || cur.ExtractedData.Invoice.Number != "INV-"+j.ID || cur.Status == ocrinvoicejob.StatusCreated {
				t.Errorf("job %s lost its results: %+v %s", j.JobNumber, cur.ExtractedData, cur.Status)
			}
			if layoutOf(t, c, j.ID) != nil {
				t.Errorf("job %s keeps the layout of its deleted document", j.JobNumber)
			}
		}
		for _, j := range []*ent.OcrInvoiceJob{jSharedA, jSharedB, jRun1, jRun2, jReup, jHTTP} {
			if at := marked(j); at != nil {
				t.Errorf("job %s marked %v though its document stays", j.JobNumber, at)
			}
			if j.ID == jSharedA.ID && layoutOf(t, c, j.ID) == nil {
				t.Errorf("job %s lost its layout though its document stays", j.JobNumber)
			}
		}

		// Running it again is refused with a clear answer; the job stays as it was.
		_, err = s.RetryJob(a, jFailed.ID)
		wantKind(t, err, apperr.KindFailedPrecondition, "documentDeletedAt")
		if msg := apperr.As(err).PublicMessage(); !strings.Contains(msg, "OCRINVOICE_RETENTION_DOCUMENTS") {
			t.Errorf("retry message %q does not name the retention setting", msg)
		}
		in := uploadJob("OLD", old.URL)
		in.DocumentType = "png" // a re-run on the same document
		_, err = s.UpdateJob(a, jOld.ID, in)
		wantKind(t, err, apperr.KindFailedPrecondition, "documentDeletedAt")
		if cur, _ := c.OcrInvoiceJob.Get(bg, jFailed.ID); cur.Status != ocrinvoicejob.StatusFailed || cur.RetryCount != 0 {
			t.Errorf("refused retry changed the job: %s, retryCount %d", cur.Status, cur.RetryCount)
		}
		// A metadata change is no re-run and is still allowed.
		in = uploadJob("OLD", old.URL)
		in.Metadata = map[string]any{"archived": true}
		if _, err := s.UpdateJob(a, jOld.ID, in); err != nil {
			t.Errorf("metadata update of a job whose document is deleted: %v", err)
		}
		// The upload is gone for its owner: a new job needs it uploaded again.
		_, err = s.CreateJob(a, uploadJob("OLD-AGAIN", old.URL))
		wantKind(t, err, apperr.KindNotFound, "documentUrl")
		again := storeDoc(t, a, s, store, doc("old"))
		create(a, "OLD-AGAIN", again.URL)
		// A new document for the failed job clears the mark and runs it.
		fresh := storeDoc(t, a, s, store, doc("failed, rescanned"))
		if j, err := s.UpdateJob(a, jFailed.ID, uploadJob("FAILED", fresh.URL)); err != nil || j.DocumentDeletedAt != nil || j.Status != ocrinvoicejob.StatusCreated {
			t.Fatalf("new document for the job: %v, %+v", err, j)
		}

		// Nothing more to do until the shared document's recent job is old too.
		if res, err := s.ExpireDocuments(bg, store, cutoff, 0); err != nil || len(res.Keys) != 0 {
			t.Fatalf("second pass: %+v %v", res, err)
		}
		clock.Add(81 * 24 * time.Hour)
		res, err = s.ExpireDocuments(bg, store, clock.Now().Add(-90*24*time.Hour), 1)
		if err != nil || !slices.Equal(res.Keys, []string{shared.Key}) || res.Jobs != 2 {
			t.Fatalf("once every job on it is old: %+v %v", res, err)
		}
		if rows := rowsOf(t, c, shared.Key); len(rows) != 0 {
			t.Errorf("rows of the shared upload left: %v", rows)
		}
		if _, _, ok := store.Stat(shared.Key); ok {
			t.Error("shared file still stored")
		}
		if marked(jSharedA) == nil || marked(jSharedB) == nil {
			t.Error("jobs of the shared document not marked")
		}
	})
}
