package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker/einvoice/export"
)

// uploadNamed uploads doc as name with key and answers the status and body.
func (p *process) uploadNamed(t *testing.T, key, name string, doc []byte) (int, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(doc)
	mw.Close()
	return p.keyedRequest(t, key, "POST", "/api/v1/uploads", mw.FormDataContentType(), "", buf.Bytes())
}

// TestEInvoiceEndToEnd runs API and worker with keys of two owners: a Factur-X style PDF
// and a standalone UBL invoice uploaded by team-a complete from their XML (source
// einvoice, priced per document, the line tax rates read); team-a exports the job as
// UBL and CII; team-b gets the 404 of a job that does not exist; XML that is not an
// e-invoice is refused at upload with 415.
func TestEInvoiceEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	keyA := createKey(t, dir, "--name", "team-a", "--role", "submitter")
	keyB := createKey(t, dir, "--name", "team-b", "--role", "submitter")
	p := start(t, testEnv(t, map[string]string{"OCRINVOICE_AUTH": "apikey", "OCRINVOICE_DATA_DIR": dir, "OCRINVOICE_EINVOICE_PRICE": "0.005"}),
		"all", "--concurrency", "1")

	data := testdocs.InvoiceData()
	cii, err := export.Write(data, export.CII)
	if err != nil {
		t.Fatal(err)
	}
	ubl, err := export.Write(data, export.UBL)
	if err != nil {
		t.Fatal(err)
	}
	hybrid := testdocs.HybridPDF([]testdocs.File{{Name: "factur-x.xml", MIME: "text/xml", Data: cii}}, testdocs.Page{Lines: testdocs.InvoiceLines})

	if code, b := p.uploadNamed(t, keyA, "page.xhtml", []byte(`<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>`)); code != http.StatusUnsupportedMediaType {
		t.Errorf("XHTML upload: %d %s", code, b)
	}
	var ids []string
	for i, doc := range []struct {
		name    string
		data    []byte
		docType string
	}{{"hybrid.pdf", hybrid, "pdf"}, {"invoice.xml", ubl, "xml"}} {
		code, b := p.uploadNamed(t, keyA, doc.name, doc.data)
		var up struct {
			Data struct{ DocumentURL, DocumentType string }
		}
		decode(t, b, &up)
		if code != http.StatusCreated || up.Data.DocumentType != doc.docType {
			t.Fatalf("upload %s: %d %s", doc.name, code, b)
		}
		body := fmt.Sprintf(`{"jobNumber": "EI-%d", "documentName": %q, "documentUrl": %q, "documentType": %q, "template": "generic"}`, i, doc.name, up.Data.DocumentURL, doc.docType)
		code, b = p.authRequest(t, keyA, "POST", "/api/v1/ocr-invoice-jobs", body)
		var created struct{ Data map[string]any }
		decode(t, b, &created)
		if code != http.StatusCreated {
			t.Fatalf("create job for %s: %d %s", doc.name, code, b)
		}
		ids = append(ids, created.Data["_id"].(string))
	}
	for i, id := range ids {
		j := waitKeyed(t, p, keyA, id, 60*time.Second)
		info, _ := j["documentInfo"].(map[string]any)
		if j["status"] != "completed" || info["source"] != "einvoice" || j["cost"] != 0.005 {
			t.Errorf("job %d: status %v source %v cost %v (error %v)", i, j["status"], info["source"], j["cost"], j["errorLog"])
		}
		items, _ := j["extractedData"].(map[string]any)["lineItems"].([]any)
		if len(items) != 2 || items[0].(map[string]any)["taxRate"] != 19.0 {
			t.Errorf("job %d: line items %v", i, items)
		}
	}

	for _, syn := range []string{"ubl", "cii"} {
		resp, b := p.send(t, keyA, "GET", "/api/v1/ocr-invoice-jobs/"+ids[0]+"/einvoice?syntax="+syn, "")
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), "."+syn+".xml") || !bytes.Contains(b, []byte("INV-2024-0042")) {
			t.Errorf("team-a exports %s: %d %q %.200s", syn, resp.StatusCode, resp.Header.Get("Content-Disposition"), b)
		}
	}
	code, other := p.authRequest(t, keyB, "GET", "/api/v1/ocr-invoice-jobs/"+ids[0]+"/einvoice", "")
	_, none := p.authRequest(t, keyB, "GET", "/api/v1/ocr-invoice-jobs/aaaaaaaaaaaaaaaaaaaaaaaa/einvoice", "")
	if code != http.StatusNotFound || strings.Contains(string(other), ids[0]) != strings.Contains(string(none), "aaaaaaaaaaaaaaaaaaaaaaaa") {
		t.Errorf("team-b exports team-a's job: %d %s (a job that does not exist: %s)", code, other, none)
	}
	q, _ := json.Marshal(map[string]any{"query": `query($id: ID!) { ocrInvoiceJob(id: $id) { einvoice(syntax: UBL) } }`, "variables": map[string]any{"id": ids[0]}})
	if _, b := p.authRequest(t, keyB, "POST", "/graphql", string(q)); bytes.Contains(b, []byte("INV-2024-0042")) || !bytes.Contains(b, []byte(`"ocrInvoiceJob":null`)) {
		t.Errorf("team-b's GraphQL export of team-a's job: %s", b)
	}
	if _, b := p.authRequest(t, keyA, "POST", "/graphql", string(q)); !bytes.Contains(b, []byte("INV-2024-0042")) {
		t.Errorf("team-a's GraphQL export: %.300s", b)
	}
}

// waitKeyed polls a job with key until it is completed or failed, at most limit.
func waitKeyed(t *testing.T, p *process, key, id string, limit time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		code, b := p.authRequest(t, key, "GET", "/api/v1/ocr-invoice-jobs/"+id, "")
		var env struct{ Data map[string]any }
		decode(t, b, &env)
		if code != http.StatusOK {
			t.Fatalf("GET job %s: %d %s", id, code, b)
		}
		if s := env.Data["status"]; s == "completed" || s == "failed" {
			return env.Data
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %v after %v\n%s", id, env.Data["status"], limit, p.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
