package graph_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// newQuotaUploadEnv is newEnv with uploads over a fresh store and the service limited by
// quota.
func newQuotaUploadEnv(t *testing.T, c *ent.Client, quota jobs.UploadQuota) *env {
	t.Helper()
	store, err := uploads.New(filepath.Join(t.TempDir(), "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	lb := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(lb, nil))
	svc := jobs.NewService(c, acceptAll{}, jobs.Options{Logger: logger, EnqueueTimeout: 2 * time.Second, UploadQuota: quota})
	if err := svc.EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, h: graph.NewHandler(svc, graph.Config{Logger: logger, Uploads: store}), svc: svc, c: c, log: lb, who: nil}
}

// uploadAs uploads a PDF of lines and returns its documentURL.
func (e *env) uploadAs(lines ...string) string {
	e.t.Helper()
	r := e.serve(multipartRequest(e.t, uploadDocument, fileVar("invoice.pdf", testdocs.PDF(testdocs.Page{Lines: lines}))))
	var out struct{ UploadDocument uploadedOut }
	if len(r.Errors) > 0 || json.Unmarshal(r.Data, &out) != nil || out.UploadDocument.DocumentURL == "" {
		e.t.Fatalf("upload: HTTP %d %s %+v", r.Status, r.Data, r.Errors)
	}
	return out.UploadDocument.DocumentURL
}

// TestUploadsAcrossOwnersGraphQL: over GraphQL too, B's job, update or batch on A's
// upload gets NOT_FOUND, exactly as for an upload that does not exist.
func TestUploadsAcrossOwnersGraphQL(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		base := newQuotaUploadEnv(t, c, jobs.UploadQuota{})
		a, b := base.as(&ownerA), base.as(&ownerB)
		secret := a.uploadAs("Invoice GQL-SECRET")
		shared := a.uploadAs("Invoice GQL-SHARED")
		if again := b.uploadAs("Invoice GQL-SHARED"); again != shared {
			t.Fatalf("B's upload of the same bytes: %s", again)
		}
		random := "upload://" + strings.Repeat("3", 64)
		own := b.createJob("B-OWN", map[string]any{"documentUrl": shared})

		cases := []struct {
			name  string
			query string
			vars  func(url string) map[string]any
		}{
			{"create", createJob, func(url string) map[string]any {
				return jobVars("B-STEAL", map[string]any{"documentUrl": url})
			}},
			{"update", `mutation($id: ID!, $url: String!) { updateOcrInvoiceJob(id: $id, input: {documentUrl: $url}) { id } }`,
				func(url string) map[string]any { return map[string]any{"id": own.ID, "url": url} }},
			{"batch", `mutation($url: String!, $ok: String!) { createOcrJobGroup(input: {name: "b-batch", documents: [{documentUrl: $ok, documentName: "ok.pdf"}, {documentUrl: $url, documentName: "x.pdf"}]}) { id } }`,
				func(url string) map[string]any { return map[string]any{"url": url, "ok": shared} }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				other := b.fails(tc.query, tc.vars(secret), "NOT_FOUND")
				none := b.fails(tc.query, tc.vars(random), "NOT_FOUND")
				o, _ := json.Marshal(other.Errors)
				n, _ := json.Marshal(none.Errors)
				if string(o) != string(n) {
					t.Fatalf("A's upload:\n  %s\nan upload that does not exist:\n  %s", o, n)
				}
				if !strings.Contains(other.Errors[0].Message, "documentUrl") {
					t.Fatalf("the error does not name the field: %s", o)
				}
			})
		}
		if n, _ := c.OcrJobGroup.Query().Count(context.Background()); n != 0 {
			t.Fatalf("%d groups stored", n)
		}
		a.createJob("A-1", map[string]any{"documentUrl": secret})
	})
}

// TestUploadQuotaGraphQL: over its quota an upload is QUOTA_EXCEEDED and stores nothing.
func TestUploadQuotaGraphQL(t *testing.T) {
	e := newQuotaUploadEnv(t, databasetest.Open(t), jobs.UploadQuota{Bytes: 1}).as(&ownerA)
	r := e.serve(multipartRequest(t, uploadDocument, fileVar("a.pdf", testdocs.PDF(testdocs.Page{Lines: []string{"Invoice"}}))))
	if len(r.Errors) == 0 || r.code(0) != "QUOTA_EXCEEDED" || !strings.Contains(r.Errors[0].Message, "OCRINVOICE_UPLOAD_QUOTA_BYTES=1") {
		t.Fatalf("HTTP %d %+v, want QUOTA_EXCEEDED naming the quota", r.Status, r.Errors)
	}
	if n, _ := e.c.Upload.Query().Count(context.Background()); n != 0 {
		t.Fatalf("%d rows after a refused upload", n)
	}
}
