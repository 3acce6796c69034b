package main

import (
	"bytes"
	"fmt"
	"image/png"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker/einvoice/export"
)

// TestPageImagesEndToEnd runs API and worker with keys of two owners: team-a's two-page
// PDF completes, its pages come back as PNGs of the width asked for, cached under the
// data directory; page 3, a width over the cap and team-b's request are refused, and a
// standalone e-invoice XML job has no pages.
func TestPageImagesEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	keyA := createKey(t, dir, "--name", "team-a", "--role", "submitter")
	keyB := createKey(t, dir, "--name", "team-b", "--role", "submitter")
	p := start(t, testEnv(t, map[string]string{"OCRINVOICE_AUTH": "apikey", "OCRINVOICE_DATA_DIR": dir}), "all", "--concurrency", "1")

	ubl, err := export.Write(testdocs.InvoiceData(), export.UBL)
	if err != nil {
		t.Fatal(err)
	}
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines}, testdocs.Page{Lines: []string{"Page two", "Terms: 30 days net"}})
	var ids []string
	for i, doc := range []struct {
		name, docType string
		data          []byte
	}{{"two.pdf", "pdf", pdf}, {"invoice.xml", "xml", ubl}} {
		code, b := p.uploadNamed(t, keyA, doc.name, doc.data)
		var up struct{ Data struct{ DocumentURL string } }
		decode(t, b, &up)
		if code != http.StatusCreated {
			t.Fatalf("upload %s: %d %s", doc.name, code, b)
		}
		body := fmt.Sprintf(`{"jobNumber": "PG-%d", "documentName": %q, "documentUrl": %q, "documentType": %q, "template": "generic"}`, i, doc.name, up.Data.DocumentURL, doc.docType)
		code, b = p.authRequest(t, keyA, "POST", "/api/v1/ocr-invoice-jobs", body)
		var created struct{ Data map[string]any }
		decode(t, b, &created)
		if code != http.StatusCreated {
			t.Fatalf("create job for %s: %d %s", doc.name, code, b)
		}
		ids = append(ids, created.Data["_id"].(string))
	}
	for _, id := range ids {
		if j := waitKeyed(t, p, keyA, id, 60*time.Second); j["status"] != "completed" {
			t.Fatalf("job %s: %v (%v)", id, j["status"], j["errorLog"])
		}
	}
	pages := "/api/v1/ocr-invoice-jobs/" + ids[0] + "/pages/"
	var first []byte
	for n := 1; n <= 2; n++ {
		resp, b := p.send(t, keyA, "GET", fmt.Sprintf("%s%d?width=800", pages, n), "")
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("page %d: %d %q %.300s", n, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width != 800 || cfg.Height != 1035 {
			t.Errorf("page %d: %dx%d (%v), want 800x1035", n, cfg.Width, cfg.Height, err)
		}
		if n == 1 {
			first = b
		} else if bytes.Equal(first, b) {
			t.Error("pages 1 and 2 are the same image")
		}
	}
	cached, _ := filepath.Glob(filepath.Join(dir, "pages", "*.png"))
	if len(cached) != 2 {
		t.Errorf("cache under the data directory holds %v, want the 2 pages", cached)
	}
	for _, tc := range []struct {
		key, path string
		status    int
		says      string
	}{
		{keyA, pages + "3", http.StatusNotFound, "the document has 2 pages"},
		{keyA, pages + "1?width=4000", http.StatusBadRequest, "2000"},
		{keyA, pages + "0", http.StatusBadRequest, "from 1"},
		{keyB, pages + "1", http.StatusNotFound, "not found"},
		{keyA, "/api/v1/ocr-invoice-jobs/" + ids[1] + "/pages/1", http.StatusUnprocessableEntity, "XML"},
	} {
		if code, b := p.authRequest(t, tc.key, "GET", tc.path, ""); code != tc.status || !strings.Contains(string(b), tc.says) {
			t.Errorf("GET %s: %d %s, want %d saying %q", tc.path, code, b, tc.status, tc.says)
		}
	}
}
