package main

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// postMultipart sends body with the given Content-Type to path and returns the status and
// the response body.
func (p *process) postMultipart(t *testing.T, path, contentType string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest("POST", "http://"+p.addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// waitJob polls the job until it is completed or failed, at most limit.
func (p *process) waitJob(t *testing.T, id string, limit time.Duration) map[string]any {
	t.Helper()
	return waitKeyed(t, p, "", id, limit)
}

// TestUploadEndToEnd runs API and worker in one process: a text-layer PDF uploaded
// through REST becomes a job that completes with the invoice's data, read by the worker
// from the upload store (no network); the GraphQL upload reaches the same store; a job
// naming an upload that does not exist is refused with 404 naming documentUrl.
func TestUploadEndToEnd(t *testing.T) {
	env := testEnv(t, nil)
	p := start(t, env, "all", "--concurrency", "1")
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})

	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "invoice.pdf")
	fw.Write(pdf)
	mw.Close()
	code, b := p.postMultipart(t, "/api/v1/uploads", mw.FormDataContentType(), buf.Bytes())
	if code != http.StatusCreated {
		t.Fatalf("upload: %d %s", code, b)
	}
	var up struct {
		Data struct {
			DocumentURL  string `json:"documentUrl"`
			SHA256       string `json:"sha256"`
			DocumentName string `json:"documentName"`
		} `json:"data"`
	}
	decode(t, b, &up)
	if _, err := os.Stat(filepath.Join(env("OCRINVOICE_DATA_DIR"), "uploads", up.Data.SHA256)); err != nil {
		t.Fatalf("upload not under the data directory: %v", err)
	}

	code, b = p.request(t, "POST", "/api/v1/ocr-invoice-jobs", fmt.Sprintf(
		`{"jobNumber": "E2E-UP-1", "documentName": %q, "documentUrl": %q, "template": "generic"}`, up.Data.DocumentName, up.Data.DocumentURL))
	if code != http.StatusCreated {
		t.Fatalf("create job: %d %s", code, b)
	}
	var created struct {
		Data map[string]any `json:"data"`
	}
	decode(t, b, &created)
	job := p.waitJob(t, created.Data["_id"].(string), 60*time.Second)
	if job["status"] != "completed" {
		t.Fatalf("job %v: %v", job["status"], job["errorLog"])
	}
	code, b = p.request(t, "GET", "/api/v1/ocr-invoice-jobs/"+created.Data["_id"].(string)+"/results", "")
	var res struct {
		Data struct {
			ExtractedData struct {
				Invoice struct {
					Number  string `json:"number"`
					Amounts struct {
						Total *float64 `json:"total"`
					} `json:"amounts"`
				} `json:"invoice"`
			} `json:"extractedData"`
		} `json:"data"`
	}
	decode(t, b, &res)
	inv := res.Data.ExtractedData.Invoice
	if code != 200 || inv.Number != "INV-2024-0042" || inv.Amounts.Total == nil || *inv.Amounts.Total != 238 {
		t.Fatalf("results %d %s", code, b)
	}

	t.Run("GraphQL upload reaches the same store", func(t *testing.T) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("operations", `{"query":"mutation($f: Upload!) { uploadDocument(file: $f) { documentURL } }","variables":{"f":null}}`)
		_ = mw.WriteField("map", `{"0":["variables.f"]}`)
		fw, _ := mw.CreateFormFile("0", "again.pdf")
		fw.Write(pdf)
		mw.Close()
		code, b := p.postMultipart(t, "/graphql", mw.FormDataContentType(), buf.Bytes())
		if code != 200 || !strings.Contains(string(b), `"documentURL":"`+up.Data.DocumentURL+`"`) {
			t.Fatalf("GraphQL upload: %d %s", code, b)
		}
	})
	t.Run("a missing upload is refused at creation", func(t *testing.T) {
		code, b := p.request(t, "POST", "/api/v1/ocr-invoice-jobs", fmt.Sprintf(
			`{"jobNumber": "E2E-UP-2", "documentName": "gone.pdf", "documentUrl": "upload://%s", "template": "generic"}`, strings.Repeat("0", 64)))
		var env struct {
			Error struct {
				Code    string `json:"code"`
				Details []struct {
					Field string `json:"field"`
				} `json:"details"`
			} `json:"error"`
		}
		decode(t, b, &env)
		if code != http.StatusNotFound || env.Error.Code != "NOT_FOUND" || len(env.Error.Details) != 1 || env.Error.Details[0].Field != "documentUrl" {
			t.Fatalf("create job on a missing upload: %d %s", code, b)
		}
	})
}
