package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// TestOCRMemoryLimitFailsJob: with OCRINVOICE_OCR_MEMORY_LIMIT too small for poppler,
// a PDF job fails for good at once (retryCount 0) with an errorLog that says a tool ran
// out of memory under the limit, and the worker goes on (the process still answers and
// a second job gets the same answer rather than a crashed worker).
func TestOCRMemoryLimitFailsJob(t *testing.T) {
	if !ocr.MemoryLimitSupported() {
		t.Skip("prlimit (util-linux) is not installed")
	}
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write(pdf)
	}))
	t.Cleanup(docs.Close)
	p := start(t, testEnv(t, map[string]string{
		"OCRINVOICE_FETCH_ALLOW_CIDRS": "127.0.0.0/8",
		"OCRINVOICE_OCR_MEMORY_LIMIT":  "16777216",
	}), "all")
	for i := range 2 {
		code, b := p.request(t, "POST", "/api/v1/ocr-invoice-jobs", fmt.Sprintf(
			`{"jobNumber": "MEM-%d", "documentName": "invoice.pdf", "documentUrl": %q, "template": "generic"}`, i, docs.URL+"/invoice.pdf"))
		if code != http.StatusCreated {
			t.Fatalf("create job: %d %s", code, b)
		}
		var env struct {
			Data map[string]any `json:"data"`
		}
		decode(t, b, &env)
		id := fmt.Sprint(env.Data["_id"])
		var job map[string]any
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			_, b := p.request(t, "GET", "/api/v1/ocr-invoice-jobs/"+id, "")
			var got struct {
				Data map[string]any `json:"data"`
			}
			decode(t, b, &got)
			job = got.Data
			if job["status"] == "failed" || job["status"] == "completed" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job still %v; log:\n%s", job["status"], p.stderr)
			}
		}
		log := fmt.Sprint(job["errorLog"])
		if job["status"] != "failed" || fmt.Sprint(job["retryCount"]) != "0" ||
			!strings.Contains(log, "ran out of memory under its limit of 16 MiB") {
			t.Fatalf("job %d: status %v, retryCount %v, errorLog %q; want failed at once, out of memory", i, job["status"], job["retryCount"], log)
		}
		t.Logf("job %d failed: %s", i, log)
	}
	if code, _ := p.request(t, "GET", "/readyz", ""); code != http.StatusOK {
		t.Errorf("readyz after the failed jobs = %d", code)
	}
}
