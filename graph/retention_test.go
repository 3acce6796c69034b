package graph_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// TestDocumentDeletedAt: a job whose document went with the retention period answers
// documentDeletedAt (null before), keeps its data, and its retry is FAILED_PRECONDITION
// naming the setting.
func TestDocumentDeletedAt(t *testing.T) {
	e, store := newUploadEnv(t, 0)
	ctx := auth.WithPrincipal(context.Background(), auth.Local)
	u, err := e.svc.StoreUpload(ctx, store, bytes.NewReader(testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})), 0)
	if err != nil {
		t.Fatal(err)
	}
	j, err := e.svc.CreateJob(ctx, jobs.JobInput{JobNumber: "GQL-RET-1", DocumentName: "a.pdf", DocumentURL: u.URL, Template: jobs.BuiltinTemplateName})
	if err != nil {
		t.Fatal(err)
	}
	finished := time.Now().Add(-48 * time.Hour)
	if err := e.c.OcrInvoiceJob.UpdateOneID(j.ID).SetStatus(ocrinvoicejob.StatusFailed).SetCompletedAt(finished).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	const q = `query($id: ID!) { node(id: $id) { ... on OcrInvoiceJob { status documentDeletedAt } } }`
	var out struct {
		Node struct {
			Status            string  `json:"status"`
			DocumentDeletedAt *string `json:"documentDeletedAt"`
		} `json:"node"`
	}
	e.ok(q, map[string]any{"id": j.ID}, &out)
	if out.Node.DocumentDeletedAt != nil {
		t.Fatalf("documentDeletedAt %q before the retention", *out.Node.DocumentDeletedAt)
	}
	res, err := e.svc.ExpireDocuments(context.Background(), store, time.Now().Add(time.Minute), 0) // the upload row is recent too
	if err != nil || res.Jobs != 1 {
		t.Fatalf("expire: %+v %v", res, err)
	}
	e.ok(q, map[string]any{"id": j.ID}, &out)
	if out.Node.DocumentDeletedAt == nil || out.Node.Status != "FAILED" && out.Node.Status != "failed" {
		t.Fatalf("after the retention: %+v", out.Node)
	}
	if _, err := time.Parse(time.RFC3339, *out.Node.DocumentDeletedAt); err != nil {
		t.Fatalf("documentDeletedAt %q: %v", *out.Node.DocumentDeletedAt, err)
	}
	r := e.fails(`mutation($id: ID!) { retryOcrInvoiceJob(id: $id) { id } }`, map[string]any{"id": j.ID}, "FAILED_PRECONDITION")
	if !strings.Contains(r.Errors[0].Message, "OCRINVOICE_RETENTION_DOCUMENTS") {
		t.Fatalf("retry error %q does not name the setting", r.Errors[0].Message)
	}
}
