package runner_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/upload"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/runner"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

func owner(name string) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{KeyID: "k-" + name, Name: name, Role: auth.RoleSubmitter, Owner: name})
}

// uploadHarness is a service, a store and a group reconciler over a real database and a
// private Redis, on a fake clock.
type uploadHarness struct {
	t     *testing.T
	c     *ent.Client
	svc   *jobs.Service
	q     *tasks.Client
	store *uploads.Store
	clock *fakeClock
	rec   *runner.GroupReconciler
}

func newUploadHarness(t *testing.T, c *ent.Client) *uploadHarness {
	t.Helper()
	srv := redistest.Start(t)
	q := tasks.NewClient(asynq.RedisClientOpt{Addr: srv.Addr})
	t.Cleanup(func() { _ = q.Close() })
	clock := &fakeClock{t: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
	svc := jobs.NewService(c, q, jobs.Options{Logger: quiet, Now: clock.Now})
	if err := svc.EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}
	store, err := uploads.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &uploadHarness{t: t, c: c, svc: svc, q: q, store: store, clock: clock,
		rec: &runner.GroupReconciler{Jobs: svc, Uploads: store, Now: clock.Now, Logger: quiet}}
}

func (h *uploadHarness) upload(ctx context.Context, b []byte) uploads.Upload {
	h.t.Helper()
	u, err := h.svc.StoreUpload(ctx, h.store, bytes.NewReader(b), 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return u
}

func (h *uploadHarness) owners(key string) []string {
	h.t.Helper()
	o, err := h.c.Upload.Query().Where(upload.Key(key)).Select(upload.FieldOwner).Strings(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	slices.Sort(o)
	return o
}

func (h *uploadHarness) stored(key string) bool {
	_, _, ok := h.store.Stat(key)
	return ok
}

// createGroup creates a group of ctx's owner with ttlSecondsAfterFinished 0 on url.
func (h *uploadHarness) createGroup(ctx context.Context, name, url string) string {
	h.t.Helper()
	g, err := h.svc.CreateGroup(ctx, jobs.GroupInput{Name: name, Spec: invoice.GroupSpec{TTLSecondsAfterFinished: ptr[int64](0)},
		Documents: []jobs.GroupDocument{{DocumentURL: url, DocumentName: name + ".pdf"}}})
	if err != nil {
		h.t.Fatalf("create group %s: %v", name, err)
	}
	return g.ID
}

// finishAndDelete releases the group's job, completes it as a worker would, and
// reconciles until the group is deleted after its TTL of 0.
func (h *uploadHarness) finishAndDelete(id string) {
	h.t.Helper()
	bg := context.Background()
	if _, err := h.rec.Reconcile(bg, id); err != nil {
		h.t.Fatal(err)
	}
	now := h.clock.Now()
	n, err := h.c.OcrInvoiceJob.Update().Where(ocrinvoicejob.GroupID(id)).
		SetStatus(ocrinvoicejob.StatusCompleted).SetStartedAt(now).SetCompletedAt(now).Save(bg)
	if err != nil || n != 1 {
		h.t.Fatalf("complete the job: %d %v", n, err)
	}
	for range 3 {
		if _, err := h.rec.Reconcile(bg, id); err != nil {
			h.t.Fatal(err)
		}
	}
	if _, err := h.svc.GetGroup(bg, id); err == nil {
		h.t.Fatalf("group %s is still there after its TTL", id)
	}
}

// TestGroupTTLReleasesOnlyItsOwnersUploads: team-a and team-b upload the same bytes;
// team-b's group on it finishes with ttlSecondsAfterFinished 0 and is deleted: team-a's
// record and the file stay, and team-a still runs a job on it. When team-a's group on it
// is deleted too, nothing references the file and it goes.
func TestGroupTTLReleasesOnlyItsOwnersUploads(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		h := newUploadHarness(t, c)
		a, b := owner("team-a"), owner("team-b")
		pdf := []byte("%PDF-1.4 the same invoice, uploaded by two teams")
		ua, ub := h.upload(a, pdf), h.upload(b, pdf)
		if ua.Key != ub.Key || !slices.Equal(h.owners(ua.Key), []string{"team-a", "team-b"}) {
			t.Fatalf("uploads %s %s, owners %v", ua.Key, ub.Key, h.owners(ua.Key))
		}
		other := h.upload(b, []byte("%PDF-1.4 only team-b's"))

		h.finishAndDelete(h.createGroup(b, "b-batch", ub.URL))
		if !h.stored(ua.Key) {
			t.Fatal("team-b's group deletion removed the file team-a uploaded")
		}
		if got := h.owners(ua.Key); !slices.Equal(got, []string{"team-a"}) {
			t.Fatalf("owners after team-b's group went: %v, want team-a only", got)
		}
		// team-b's other upload is untouched (its group did not name it).
		if !h.stored(other.Key) || !slices.Equal(h.owners(other.Key), []string{"team-b"}) {
			t.Fatal("an upload the group did not name was released")
		}
		// team-b no longer names it; team-a still runs jobs on it, in two groups.
		if _, err := h.svc.CreateJob(b, jobs.JobInput{JobNumber: "B-AFTER", DocumentName: "b.pdf", DocumentURL: ub.URL, Template: jobs.BuiltinTemplateName}); err == nil {
			t.Fatal("team-b still names the upload it released")
		}
		a1, a2 := h.createGroup(a, "a-batch-1", ua.URL), h.createGroup(a, "a-batch-2", ua.URL)

		// While a job of team-a's (a-batch-2) names it, its record stays.
		h.finishAndDelete(a1)
		if !h.stored(ua.Key) || !slices.Equal(h.owners(ua.Key), []string{"team-a"}) {
			t.Fatal("team-a's upload went although a job of team-a names it")
		}
		// The last reference goes: so does the file.
		h.finishAndDelete(a2)
		if h.stored(ua.Key) || len(h.owners(ua.Key)) != 0 {
			t.Fatalf("nothing references the upload, yet stored %v, owners %v", h.stored(ua.Key), h.owners(ua.Key))
		}
		if !h.stored(other.Key) {
			t.Fatal("team-b's other upload went")
		}
	})
}

// TestUploadJanitor: records that no job ever named go once older than the unused TTL,
// each owner's on its own clock; the file goes with the last record; used uploads and
// files a job names stay; a TTL of 0 keeps everything; files without records (stored
// before uploads had owners, never used) go once older than the TTL.
func TestUploadJanitor(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		h := newUploadHarness(t, c)
		ctx := context.Background()
		a, b := owner("team-a"), owner("team-b")
		jan := &runner.UploadJanitor{Jobs: h.svc, Store: h.store, UnusedTTL: 24 * time.Hour, Now: h.clock.Now, Logger: quiet}

		unused := h.upload(a, []byte("%PDF-1.4 uploaded, never used"))
		used := h.upload(a, []byte("%PDF-1.4 uploaded and used"))
		if _, err := h.svc.CreateJob(a, jobs.JobInput{JobNumber: "A-USED", DocumentName: "u.pdf", DocumentURL: used.URL, Template: jobs.BuiltinTemplateName}); err != nil {
			t.Fatal(err)
		}
		h.clock.Add(12 * time.Hour)
		h.upload(b, []byte("%PDF-1.4 uploaded, never used")) // team-b, twelve hours later
		// A file from before uploads had owners, named by no job: no record at all.
		legacy, err := h.store.Put(ctx, bytes.NewReader([]byte("%PDF-1.4 left over")), 0)
		if err != nil {
			t.Fatal(err)
		}

		if res, err := jan.Sweep(ctx); err != nil || res.Released != 0 || res.Removed != 0 || !res.Scanned {
			t.Fatalf("first sweep: %+v, %v; want nothing removed, the store walked", res, err)
		}
		// The legacy file is older than the TTL by its modification time only; so is the
		// used one's, which the walk must leave.
		old := h.clock.Now().Add(-48 * time.Hour)
		for _, k := range []string{legacy.Key, used.Key} {
			if err := os.Chtimes(filepath.Join(h.store.Dir(), k), old, old); err != nil {
				t.Fatal(err)
			}
		}

		h.clock.Add(12*time.Hour + time.Second) // team-a's upload is 24h1s old, team-b's 12h1s
		res, err := jan.Sweep(ctx)
		if err != nil || res.Released != 1 || res.Removed != 0 || res.Scanned {
			t.Fatalf("sweep past team-a's TTL: %+v, %v", res, err)
		}
		if got := h.owners(unused.Key); !slices.Equal(got, []string{"team-b"}) || !h.stored(unused.Key) {
			t.Fatalf("after team-a's record went: owners %v, stored %v; want team-b's record and the file", got, h.stored(unused.Key))
		}
		if _, err := h.svc.CreateJob(a, jobs.JobInput{JobNumber: "A-LATE", DocumentName: "u.pdf", DocumentURL: unused.URL, Template: jobs.BuiltinTemplateName}); err == nil {
			t.Fatal("team-a names an upload whose record went")
		}

		h.clock.Add(12 * time.Hour)
		jan.ScanEvery = time.Hour // due again
		res, err = jan.Sweep(ctx)
		if err != nil || res.Released != 1 || res.Removed != 2 || !res.Scanned {
			t.Fatalf("sweep past team-b's TTL: %+v, %v; want its record, its file and the legacy file", res, err)
		}
		if h.stored(unused.Key) || len(h.owners(unused.Key)) != 0 || h.stored(legacy.Key) {
			t.Fatal("unused uploads are still there")
		}
		if !h.stored(used.Key) || !slices.Equal(h.owners(used.Key), []string{"team-a"}) {
			t.Fatal("an upload a job names went")
		}

		// Uploading the same bytes again counts as a new upload for the TTL.
		again := []byte("%PDF-1.4 uploaded twice")
		ua := h.upload(a, again)
		h.clock.Add(20 * time.Hour)
		h.upload(a, again)
		h.clock.Add(5 * time.Hour)
		if _, err := jan.Sweep(ctx); err != nil || !slices.Equal(h.owners(ua.Key), []string{"team-a"}) || !h.stored(ua.Key) {
			t.Fatalf("25h after the first upload, 5h after the second: owners %v, stored %v, %v", h.owners(ua.Key), h.stored(ua.Key), err)
		}
		h.clock.Add(20 * time.Hour)
		if _, err := jan.Sweep(ctx); err != nil || len(h.owners(ua.Key)) != 0 || h.stored(ua.Key) {
			t.Fatalf("25h after the second upload: owners %v, stored %v, %v", h.owners(ua.Key), h.stored(ua.Key), err)
		}

		keep := &runner.UploadJanitor{Jobs: h.svc, Store: h.store, UnusedTTL: 0, Now: h.clock.Now, Logger: quiet}
		h.upload(b, []byte("%PDF-1.4 kept forever"))
		h.clock.Add(1000 * time.Hour)
		if res, err := keep.Sweep(ctx); err != nil || res != (runner.SweepResult{}) {
			t.Fatalf("TTL 0 sweep: %+v, %v", res, err)
		}
	})
}

// TestRunnerSweepsUploads: the runner's periodic resync runs the unused-upload sweep.
func TestRunnerSweepsUploads(t *testing.T) {
	h := newUploadHarness(t, databasetest.Open(t))
	u := h.upload(owner("team-a"), []byte("%PDF-1.4 forgotten"))
	h.clock.Add(2 * time.Hour)
	r := &runner.Runner{Reconciler: h.rec, Jobs: h.svc, Resync: 100 * time.Millisecond, Logger: quiet,
		Uploads: &runner.UploadJanitor{Jobs: h.svc, Store: h.store, UnusedTTL: time.Hour, Now: h.clock.Now, Logger: quiet}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for h.stored(u.Key) || len(h.owners(u.Key)) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the runner did not sweep the unused upload")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
