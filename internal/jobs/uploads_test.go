package jobs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/upload"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/redact"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// uploadClock is a settable clock for the service.
type uploadClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *uploadClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *uploadClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newUploadService(t *testing.T, c *ent.Client, quota jobs.UploadQuota) (*jobs.Service, *uploads.Store, *uploadClock) {
	t.Helper()
	clock := &uploadClock{t: time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)}
	s := jobs.NewService(c, nil, jobs.Options{Logger: quiet, Now: clock.Now, UploadQuota: quota})
	if err := s.EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}
	store, err := uploads.New(filepath.Join(t.TempDir(), "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	return s, store, clock
}

func doc(name string) []byte { return []byte("%PDF-1.4 " + name) }

func storeDoc(t *testing.T, ctx context.Context, s *jobs.Service, store *uploads.Store, b []byte) uploads.Upload {
	t.Helper()
	u, err := s.StoreUpload(ctx, store, bytes.NewReader(b), 0)
	if err != nil {
		t.Fatalf("StoreUpload: %v", err)
	}
	return u
}

func uploadJob(n, url string) jobs.JobInput {
	return jobs.JobInput{JobNumber: n, DocumentName: n + ".pdf", DocumentURL: url, Template: jobs.BuiltinTemplateName}
}

// rowsOf returns the owners holding key, sorted.
func rowsOf(t *testing.T, c *ent.Client, key string) []string {
	t.Helper()
	owners, err := c.Upload.Query().Where(upload.Key(key)).Select(upload.FieldOwner).Strings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(owners)
	return owners
}

// publicError is what a client sees of err: status, code, message, details.
func publicError(err error) string {
	e := apperr.As(err)
	if e == nil {
		return fmt.Sprintf("not an application error: %v", err)
	}
	return fmt.Sprintf("%d %s %q %+v", apperr.HTTPStatus(err), apperr.GraphQLCode(err), e.PublicMessage(), e.Details)
}

// TestUploadsBelongToOwners: an upload is recorded for the owner of the key that sent
// it (the same bytes once per owner, one file); a job may name only an upload its owner
// holds, and another owner's upload gets exactly the answer of one that does not exist,
// for a single job, an update and every document of a batch.
func TestUploadsBelongToOwners(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s, store, _ := newUploadService(t, c, jobs.UploadQuota{})
		a, b := as(auth.RoleSubmitter, "team-a"), as(auth.RoleSubmitter, "team-b")
		ctx := context.Background()

		shared := storeDoc(t, a, s, store, doc("shared"))
		storeDoc(t, a, s, store, doc("shared")) // again: still one row
		if again := storeDoc(t, b, s, store, doc("shared")); again != shared {
			t.Fatalf("B's upload of the same bytes: %+v, want %+v", again, shared)
		}
		if got := rowsOf(t, c, shared.Key); !slices.Equal(got, []string{"team-a", "team-b"}) {
			t.Fatalf("owners of the shared upload: %v", got)
		}
		secret := storeDoc(t, a, s, store, doc("team a's secret invoice"))
		if got := rowsOf(t, c, secret.Key); !slices.Equal(got, []string{"team-a"}) {
			t.Fatalf("owners of A's upload: %v", got)
		}
		random := "upload://" + strings.Repeat("5", 64)

		// B names A's upload and a key nobody has: the same 404.
		_, errA := s.CreateJob(b, uploadJob("B-ON-A", secret.URL))
		_, errRandom := s.CreateJob(b, uploadJob("B-ON-RANDOM", random))
		wantKind(t, errA, apperr.KindNotFound, "documentUrl")
		if publicError(errA) != publicError(errRandom) {
			t.Fatalf("another owner's upload:\n  %s\na missing one:\n  %s", publicError(errA), publicError(errRandom))
		}
		if n, _ := c.OcrInvoiceJob.Query().Count(ctx); n != 0 {
			t.Fatalf("%d jobs stored", n)
		}

		// A names its own; B names the one it uploaded too.
		ja, err := s.CreateJob(a, uploadJob("A-1", secret.URL))
		if err != nil {
			t.Fatal(err)
		}
		jb, err := s.CreateJob(b, uploadJob("B-1", shared.URL))
		if err != nil {
			t.Fatal(err)
		}
		for owner, key := range map[string]string{"team-a": secret.Key, "team-b": shared.Key} {
			u, err := c.Upload.Query().Where(upload.Owner(owner), upload.Key(key)).Only(ctx)
			if err != nil || u.UsedAt == nil {
				t.Errorf("%s's row of %s: %+v, %v; want used_at set", owner, redact.UploadKey(key), u, err)
			}
		}
		if u, _ := c.Upload.Query().Where(upload.Owner("team-a"), upload.Key(shared.Key)).Only(ctx); u == nil || u.UsedAt != nil {
			t.Errorf("A's row of the shared upload: %+v, want unused (only B's job names it)", u)
		}

		t.Run("update to another owner's upload", func(t *testing.T) {
			in := uploadJob("B-1", secret.URL)
			_, err := s.UpdateJob(b, jb.ID, in)
			wantKind(t, err, apperr.KindNotFound, "documentUrl")
			in.DocumentURL = random
			_, errRandom := s.UpdateJob(b, jb.ID, in)
			if publicError(err) != publicError(errRandom) {
				t.Fatalf("another owner's upload:\n  %s\na missing one:\n  %s", publicError(err), publicError(errRandom))
			}
			if j, _ := c.OcrInvoiceJob.Get(ctx, jb.ID); j.DocumentURL != shared.URL {
				t.Fatalf("B's job now names %s", j.DocumentURL)
			}
			// A's own update to its own upload is fine.
			if _, err := s.UpdateJob(a, ja.ID, uploadJob("A-1", shared.URL)); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("batch naming another owner's upload", func(t *testing.T) {
			docs := []jobs.GroupDocument{
				{DocumentURL: shared.URL, DocumentName: "ok.pdf"},
				{DocumentURL: secret.URL, DocumentName: "a.pdf"},
				{DocumentURL: "https://files.example.com/x.pdf", DocumentName: "x.pdf"},
				{DocumentURL: random, DocumentName: "r.pdf"},
			}
			_, err := s.CreateGroup(b, jobs.GroupInput{Name: "b-batch", Documents: docs})
			wantKind(t, err, apperr.KindNotFound, "documents[1].documentUrl")
			e := apperr.As(err)
			if len(e.Details) != 2 || e.Details[1].Field != "documents[3].documentUrl" || e.Details[0].Message != e.Details[1].Message {
				t.Fatalf("details %+v, want documents[1] and documents[3] alike", e.Details)
			}
			if n, _ := c.OcrJobGroup.Query().Count(ctx); n != 0 {
				t.Fatalf("%d groups stored", n)
			}
			// A's row of the shared upload is not marked used by B's refused batch.
			if u, _ := c.Upload.Query().Where(upload.Owner("team-a"), upload.Key(shared.Key)).Only(ctx); u == nil {
				t.Fatal("A's row of the shared upload is gone")
			}
			g, err := s.CreateGroup(a, jobs.GroupInput{Name: "a-batch", Documents: docs[:3]})
			if err != nil {
				t.Fatalf("A's batch of its own uploads: %v", err)
			}
			if g.Status.Total != 3 {
				t.Fatalf("A's batch: %+v", g.Status)
			}
		})
		t.Run("an admin hands its own upload to the job's owner", func(t *testing.T) {
			adm := auth.WithPrincipal(ctx, auth.Principal{KeyID: "k-ops", Name: "ops", Role: auth.RoleAdmin, Owner: "ops"})
			mine := storeDoc(t, adm, s, store, doc("the admin's"))
			in := uploadJob("FOR-C", mine.URL)
			in.CreatedBy = "team-c"
			if _, err := s.CreateJob(adm, in); err != nil {
				t.Fatal(err)
			}
			if got := rowsOf(t, c, mine.Key); !slices.Equal(got, []string{"ops", "team-c"}) {
				t.Fatalf("owners after the hand-over: %v", got)
			}
			// Not an upload of another owner, though.
			in = uploadJob("FOR-C-2", secret.URL)
			in.CreatedBy = "team-c"
			_, err := s.CreateJob(adm, in)
			wantKind(t, err, apperr.KindNotFound, "documentUrl")
			// Without authentication (the process, the local principal) uploads are
			// owner "", handed to whatever createdBy the caller sets.
			local := storeDoc(t, ctx, s, store, doc("no auth"))
			in = uploadJob("LOCAL", local.URL)
			in.CreatedBy = "someone"
			if _, err := s.CreateJob(ctx, in); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("a refused job leaves the upload unused", func(t *testing.T) {
			fresh := storeDoc(t, b, s, store, doc("fresh"))
			if _, err := s.CreateJob(b, uploadJob("B-1", fresh.URL)); apperr.KindOf(err) != apperr.KindConflict {
				t.Fatalf("duplicate jobNumber: %v", err)
			}
			u, err := c.Upload.Query().Where(upload.Owner("team-b"), upload.Key(fresh.Key)).Only(ctx)
			if err != nil || u.UsedAt != nil {
				t.Fatalf("row after a refused job: %+v, %v; want used_at unset", u, err)
			}
		})
	})
}

// TestUploadQuota: an upload that would take its owner over the count or the bytes of
// its quota is QUOTA_EXCEEDED (413) naming the quota and the usage, and leaves nothing;
// bytes the owner holds already cost nothing; other owners are not affected.
func TestUploadQuota(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		one, two, three := doc("quota one"), doc("quota two"), doc("quota three is a longer document")
		ctx := context.Background()
		a, b := as(auth.RoleSubmitter, "team-a"), as(auth.RoleSubmitter, "team-b")

		t.Run("count", func(t *testing.T) {
			s, store, _ := newUploadService(t, c, jobs.UploadQuota{Count: 2})
			defer c.Upload.Delete().ExecX(ctx)
			storeDoc(t, a, s, store, one)
			storeDoc(t, a, s, store, two)
			_, err := s.StoreUpload(a, store, bytes.NewReader(three), 0)
			if apperr.KindOf(err) != apperr.KindQuotaExceeded || apperr.HTTPStatus(err) != http.StatusRequestEntityTooLarge {
				t.Fatalf("third upload: %v (%s)", err, apperr.KindOf(err))
			}
			msg := apperr.As(err).PublicMessage()
			if !strings.Contains(msg, "keeps 2 uploads") || !strings.Contains(msg, "OCRINVOICE_UPLOAD_QUOTA_COUNT=2") {
				t.Fatalf("message %q names neither the usage nor the quota", msg)
			}
			if _, _, ok := store.Stat(sumKey(three)); ok || len(rowsOf(t, c, sumKey(three))) != 0 {
				t.Fatal("a refused upload left something")
			}
			storeDoc(t, a, s, store, one) // held already: free
			storeDoc(t, b, s, store, three)
		})
		t.Run("bytes", func(t *testing.T) {
			limit := int64(len(one) + len(two))
			s, store, _ := newUploadService(t, c, jobs.UploadQuota{Bytes: limit})
			defer c.Upload.Delete().ExecX(ctx)
			storeDoc(t, a, s, store, one)
			storeDoc(t, a, s, store, two)
			storeDoc(t, a, s, store, two)
			_, err := s.StoreUpload(a, store, bytes.NewReader(three), 0)
			if apperr.KindOf(err) != apperr.KindQuotaExceeded {
				t.Fatalf("upload over the bytes: %v", err)
			}
			msg := apperr.As(err).PublicMessage()
			if !strings.Contains(msg, fmt.Sprintf("take %d bytes of its %d bytes quota", limit, limit)) || !strings.Contains(msg, fmt.Sprintf("OCRINVOICE_UPLOAD_QUOTA_BYTES=%d", limit)) {
				t.Fatalf("message %q names neither the usage nor the quota", msg)
			}
			if _, _, ok := store.Stat(sumKey(three)); ok || len(rowsOf(t, c, sumKey(three))) != 0 {
				t.Fatal("a refused upload left something")
			}
			storeDoc(t, b, s, store, one)
			storeDoc(t, b, s, store, two)
		})
		t.Run("unlimited", func(t *testing.T) {
			s, store, _ := newUploadService(t, c, jobs.UploadQuota{})
			defer c.Upload.Delete().ExecX(ctx)
			for i := range 5 {
				storeDoc(t, a, s, store, doc(fmt.Sprint("unlimited ", i)))
			}
		})
	})
}

func sumKey(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestBackfillUploads: uploads stored before uploads had owners (files, jobs naming
// them, no rows) get a row per owner whose job names them, when the file is there; a
// second run adds nothing; afterwards each owner uses its own, and no other owner's.
func TestBackfillUploads(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s, store, _ := newUploadService(t, c, jobs.UploadQuota{})
		ctx := context.Background()
		tpl, err := s.GetTemplate(ctx, jobs.BuiltinTemplateName)
		if err != nil {
			t.Fatal(err)
		}
		old, err := store.Put(ctx, bytes.NewReader(doc("uploaded last year")), 0)
		if err != nil {
			t.Fatal(err)
		}
		gone := "upload://" + strings.Repeat("9", 64)
		// Jobs as the old code stored them: straight rows, no upload records.
		for i, j := range []struct{ owner, url string }{{"team-a", old.URL}, {"team-a", old.URL}, {"team-b", old.URL}, {"team-a", gone}, {"team-c", "https://files.example.com/x.pdf"}} {
			c.OcrInvoiceJob.Create().SetJobNumber(fmt.Sprint("OLD-", i)).SetDocumentName("x.pdf").SetDocumentURL(j.url).
				SetDocumentType(ocrinvoicejob.DocumentTypePdf).SetTemplateID(tpl.ID).SetCreatedBy(j.owner).
				SetStatus(ocrinvoicejob.StatusCompleted).ExecX(ctx)
		}
		n, err := s.BackfillUploads(ctx, store)
		if err != nil || n != 2 {
			t.Fatalf("BackfillUploads = %d, %v; want 2 rows", n, err)
		}
		if got := rowsOf(t, c, old.Key); !slices.Equal(got, []string{"team-a", "team-b"}) {
			t.Fatalf("owners: %v", got)
		}
		u, err := c.Upload.Query().Where(upload.Owner("team-a"), upload.Key(old.Key)).Only(ctx)
		if err != nil || u.Size != old.Size || u.ContentType != "application/pdf" || u.UsedAt == nil {
			t.Fatalf("backfilled row %+v, %v", u, err)
		}
		if n, err := s.BackfillUploads(ctx, store); err != nil || n != 0 {
			t.Fatalf("second BackfillUploads = %d, %v; want nothing to do", n, err)
		}
		if _, err := s.CreateJob(as(auth.RoleSubmitter, "team-b"), uploadJob("B-NEW", old.URL)); err != nil {
			t.Fatalf("team-b after the backfill: %v", err)
		}
		_, err = s.CreateJob(as(auth.RoleSubmitter, "team-c"), uploadJob("C-NEW", old.URL))
		wantKind(t, err, apperr.KindNotFound, "documentUrl")
	})
}
