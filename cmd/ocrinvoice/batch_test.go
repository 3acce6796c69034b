package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// createBatch posts a group with its documents and returns its id.
func (p *process) createBatch(t *testing.T, body map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(body)
	code, out := p.request(t, "POST", "/api/v1/ocr-job-groups", string(b))
	if code != http.StatusCreated {
		t.Fatalf("create group: %d %s", code, out)
	}
	var env struct {
		Data map[string]any `json:"data"`
	}
	decode(t, out, &env)
	return fmt.Sprint(env.Data["_id"])
}

// groupStatus returns the group's status block through REST.
func (p *process) groupStatus(t *testing.T, id string) map[string]any {
	t.Helper()
	code, b := p.request(t, "GET", "/api/v1/ocr-job-groups/"+id, "")
	if code != 200 {
		t.Fatalf("GET group %s: %d %s", id, code, b)
	}
	var env struct {
		Data struct {
			Status map[string]any `json:"status"`
		} `json:"data"`
	}
	decode(t, b, &env)
	return env.Data.Status
}

// countJobs returns how many jobs of group id match the status filter (a JSON value).
func (p *process) countJobs(t *testing.T, id, status string) int {
	t.Helper()
	q := url.Values{"filter": {`{"group":"` + id + `","status":` + status + `}`}, "limit": {"1"}}
	code, b := p.request(t, "GET", "/api/v1/ocr-invoice-jobs?"+q.Encode(), "")
	if code != 200 {
		t.Fatalf("list jobs: %d %s", code, b)
	}
	var env struct {
		Total int `json:"total"`
	}
	decode(t, b, &env)
	return env.Total
}

// hasCondition reports whether a status block has the condition typ with that status
// and reason.
func hasCondition(st map[string]any, typ, status, reason string) bool {
	list, _ := st["conditions"].([]any)
	for _, c := range list {
		if m, _ := c.(map[string]any); m["type"] == typ && m["status"] == status && m["reason"] == reason {
			return true
		}
	}
	return false
}

// TestBatchEndToEnd runs `ocrinvoice all` (API, worker, batch runner) on real Redis and
// SQLite with 4 worker slots. A group of 20 text-layer invoices with parallelism 3 never
// has more than 3 jobs queued or processing when sampled through the API, and completes
// with exact counts; a group whose documents answer 404 stops at its backoffLimit with
// Failed / BackoffLimitExceeded and its other jobs cancelled.
func TestBatchEndToEnd(t *testing.T) {
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	var fetched atomic.Int32
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/missing/") {
			http.NotFound(w, r)
			return
		}
		fetched.Add(1)
		time.Sleep(150 * time.Millisecond) // so that jobs overlap and sampling can see them
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write(pdf)
	}))
	t.Cleanup(docs.Close)
	p := start(t, testEnv(t, map[string]string{
		"OCRINVOICE_FETCH_ALLOW_CIDRS":  "127.0.0.0/8",
		"OCRINVOICE_WORKER_CONCURRENCY": "4",
		"OCRINVOICE_RUNNER_RESYNC":      "1s",
		// It samples the group three requests at a time, every 20 ms, without a key.
		"OCRINVOICE_ANONYMOUS_RATE": "0",
	}), "all")

	documents := func(n int, path string) []map[string]any {
		out := make([]map[string]any, n)
		for i := range out {
			out[i] = map[string]any{"documentUrl": fmt.Sprintf("%s/%s/%d.pdf", docs.URL, path, i), "documentName": fmt.Sprintf("invoice-%d.pdf", i)}
		}
		return out
	}
	id := p.createBatch(t, map[string]any{"name": "twenty", "spec": map[string]any{"parallelism": 3}, "documents": documents(20, "ok")})
	deadline := time.Now().Add(120 * time.Second)
	maxProcessing, maxActive, samples := 0, 0, 0
	var st map[string]any
	for {
		processing := p.countJobs(t, id, `"processing"`)
		active := p.countJobs(t, id, `{"$in":["queued","processing"]}`)
		maxProcessing, maxActive, samples = max(maxProcessing, processing), max(maxActive, active), samples+1
		if processing > 3 || active > 3 {
			t.Fatalf("%d processing, %d queued or processing, parallelism 3", processing, active)
		}
		st = p.groupStatus(t, id)
		if st["phase"] == "Complete" || st["phase"] == "Failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("group still %v: %v\n%s", st["phase"], st, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d samples, at most %d processing and %d active at once; status %v", samples, maxProcessing, maxActive, st)
	if st["phase"] != "Complete" || st["total"] != 20.0 || st["succeeded"] != 20.0 || st["failed"] != 0.0 || st["cancelled"] != 0.0 || st["active"] != 0.0 || st["progress"] != 100.0 {
		t.Fatalf("status %v", st)
	}
	if maxProcessing < 2 {
		t.Errorf("never more than %d job processing at once: the parallelism was not used", maxProcessing)
	}
	if n := fetched.Load(); n != 20 {
		t.Errorf("documents fetched %d times for 20 jobs", n)
	}
	if !hasCondition(st, "Complete", "True", "AllJobsSucceeded") {
		t.Errorf("conditions %v", st["conditions"])
	}

	bad := p.createBatch(t, map[string]any{"name": "missing", "spec": map[string]any{"parallelism": 2, "backoffLimit": 2}, "documents": documents(8, "missing")})
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		st = p.groupStatus(t, bad)
		if st["phase"] == "Failed" || st["phase"] == "Complete" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("group still %v: %v\n%s", st["phase"], st, p.stderr)
		}
	}
	if st["phase"] != "Failed" || !hasCondition(st, "Failed", "True", "BackoffLimitExceeded") {
		t.Fatalf("status %v", st)
	}
	// Three failures exceed the limit of 2; the fourth may have failed in the same moment.
	if f := st["failed"].(float64); f < 3 || f > 4 || st["failed"].(float64)+st["cancelled"].(float64) != 8 || st["active"] != 0.0 {
		t.Fatalf("failed %v cancelled %v of 8", st["failed"], st["cancelled"])
	}
	t.Logf("404 group: %v", st)
	_ = p.stop(t)
}
