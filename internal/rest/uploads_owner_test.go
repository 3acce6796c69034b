package rest

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent/upload"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// newQuotaUploadEnv is the REST API with uploads over a fresh store, its service
// limited by quota.
func newQuotaUploadEnv(t *testing.T, quota jobs.UploadQuota) (*env, *uploads.Store) {
	t.Helper()
	c := databasetest.Open(t)
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	svc := jobs.NewService(c, nil, jobs.Options{Logger: logger, UploadQuota: quota})
	ctx := context.Background()
	if err := svc.EnsureBuiltins(ctx); err != nil {
		t.Fatal(err)
	}
	g, err := svc.GetTemplate(ctx, jobs.BuiltinTemplateName)
	if err != nil {
		t.Fatal(err)
	}
	store, err := uploads.New(filepath.Join(t.TempDir(), "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, c: c, svc: svc, generic: g.ID, logs: logs, clock: &testClock{}}
	e.serve(NewHandler(svc, logger, WithUploads(store, 0)))
	return e, store
}

func (e *env) uploadPDF(lines ...string) string {
	e.t.Helper()
	pdf := testdocs.PDF(testdocs.Page{Lines: lines})
	r := e.upload(part{field: "file", filename: "invoice.pdf", data: pdf}).must(e.t, http.StatusCreated)
	return r.data()["documentUrl"].(string)
}

// TestUploadsAcrossOwners: B cannot run a job on A's upload, whatever way it names it
// (create, update, a batch): the answer is byte for byte the one for an upload that
// does not exist; the same bytes uploaded by both are one file and usable by both.
func TestUploadsAcrossOwners(t *testing.T) {
	e, store := newQuotaUploadEnv(t, jobs.UploadQuota{})
	a, b := e.as(t, &submitterA), e.as(t, &submitterB)
	const jobsPath, groupsPath = "/api/v1/ocr-invoice-jobs", "/api/v1/ocr-job-groups"

	secret := a.uploadPDF("Invoice A-SECRET", "Total 999.00")
	shared := a.uploadPDF("Invoice SHARED")
	if again := b.uploadPDF("Invoice SHARED"); again != shared {
		t.Fatalf("B's upload of the same bytes: %s, want %s", again, shared)
	}
	if n := len(storedFiles(t, store)); n != 2 {
		t.Fatalf("%d files, want 2", n)
	}
	random := "upload://" + strings.Repeat("7", 64)
	bJob := b.do("POST", jobsPath, e.jobBodyFor("B-OWN", map[string]any{"documentUrl": shared})).must(t, http.StatusCreated).data()

	// Every way of naming an upload, with A's key and with a key nobody has: the same
	// answer, byte for byte (the request id is the same too).
	cases := []struct {
		name         string
		method, path string
		body         func(url string) any
		field        string
	}{
		{"create", "POST", jobsPath, func(url string) any {
			return e.jobBodyFor("B-STEAL", map[string]any{"documentUrl": url})
		}, "documentUrl"},
		{"update", "PUT", jobsPath + "/" + bJob["_id"].(string), func(url string) any {
			return e.jobBodyFor("B-OWN", map[string]any{"documentUrl": url})
		}, "documentUrl"},
		{"batch", "POST", groupsPath, func(url string) any {
			return map[string]any{"name": "b-batch", "documents": []map[string]any{
				{"documentUrl": shared, "documentName": "ok.pdf"},
				{"documentUrl": url, "documentName": "stolen.pdf"},
			}}
		}, "documents[1].documentUrl"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := e.as(t, &submitterB)
			other := b.do(tc.method, tc.path, tc.body(secret), "X-Request-Id", "same-"+tc.name)
			none := b.do(tc.method, tc.path, tc.body(random), "X-Request-Id", "same-"+tc.name)
			if other.status != http.StatusNotFound || other.errCode() != "NOT_FOUND" || !slices.Equal(other.errFields(), []string{tc.field}) {
				t.Fatalf("B names A's upload: %d %s", other.status, other.raw)
			}
			if !bytes.Equal(other.raw, none.raw) || other.status != none.status {
				t.Fatalf("A's upload:\n  %d %s\nan upload that does not exist:\n  %d %s", other.status, other.raw, none.status, none.raw)
			}
			if strings.Contains(string(other.raw), secret[len("upload://"):][:12]) {
				t.Fatalf("the answer names A's key: %s", other.raw)
			}
		})
	}
	if n, _ := e.c.OcrJobGroup.Query().Count(context.Background()); n != 0 {
		t.Fatalf("%d groups stored", n)
	}
	if j := b.do("GET", jobsPath+"/"+bJob["_id"].(string), nil).must(t, http.StatusOK).data(); j["documentUrl"] != shared {
		t.Fatalf("B's job names %v", j["documentUrl"])
	}
	// A uses both of its uploads; B the one it uploaded too, also in a batch.
	a.do("POST", jobsPath, e.jobBodyFor("A-1", map[string]any{"documentUrl": secret})).must(t, http.StatusCreated)
	a.do("POST", jobsPath, e.jobBodyFor("A-2", map[string]any{"documentUrl": shared})).must(t, http.StatusCreated)
	b.do("POST", groupsPath, map[string]any{"name": "b-ok", "documents": []map[string]any{{"documentUrl": shared, "documentName": "ok.pdf"}}}).must(t, http.StatusCreated)
	owners, err := e.c.Upload.Query().Where(upload.Key(secret[len("upload://"):])).Select(upload.FieldOwner).Strings(context.Background())
	if err != nil || !slices.Equal(owners, []string{"team-a"}) {
		t.Fatalf("owners of A's upload: %v %v", owners, err)
	}
}

// TestUploadQuotaOverREST: over the owner's count or bytes, an upload is 413
// QUOTA_EXCEEDED naming the quota, the usage and the field; the owner's own bytes again
// cost nothing; another owner has its own quota.
func TestUploadQuotaOverREST(t *testing.T) {
	e, store := newQuotaUploadEnv(t, jobs.UploadQuota{Count: 1})
	a, b := e.as(t, &submitterA), e.as(t, &submitterB)
	first := a.uploadPDF("Invoice Q-1")
	second := testdocs.PDF(testdocs.Page{Lines: []string{"Invoice Q-2"}})
	r := a.upload(part{field: "file", filename: "q2.pdf", data: second})
	if r.status != http.StatusRequestEntityTooLarge || r.errCode() != "QUOTA_EXCEEDED" || !slices.Equal(r.errFields(), []string{"file"}) {
		t.Fatalf("over the count quota: %d %s", r.status, r.raw)
	}
	if msg := r.errMessage(); !strings.Contains(msg, "keeps 1 uploads") || !strings.Contains(msg, "OCRINVOICE_UPLOAD_QUOTA_COUNT=1") {
		t.Fatalf("message %q names neither the usage nor the quota", msg)
	}
	if n := len(storedFiles(t, store)); n != 1 {
		t.Fatalf("%d files after a refused upload, want 1", n)
	}
	if again := a.uploadPDF("Invoice Q-1"); again != first {
		t.Fatalf("re-upload: %s", again)
	}
	b.upload(part{field: "file", filename: "q2.pdf", data: second}).must(t, http.StatusCreated)
}
