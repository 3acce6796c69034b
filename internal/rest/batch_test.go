package rest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

func documents(n int, prefix string) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"documentUrl": fmt.Sprintf("https://files.example.com/%s-%d.pdf", prefix, i), "documentName": fmt.Sprintf("%s-%d.pdf", prefix, i)}
	}
	return out
}

// TestGroupBatches: POST /ocr-job-groups with documents creates the group and its jobs
// at once (created, not enqueued, the group's template and priority, generated job
// numbers), or nothing at all; and the suspend, resume, cancel, retry-failed actions.
func TestGroupBatches(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil)
		docs := documents(3, "b")
		docs[1]["jobNumber"] = "OWN-1"
		docs[2]["metadata"] = map[string]any{"page": "x"}
		g := e.do("POST", "/api/v1/ocr-job-groups", map[string]any{
			"name": "batch", "spec": map[string]any{"parallelism": 2, "priority": "high"}, "documents": docs,
		}).must(t, http.StatusCreated).data()
		id := g["_id"].(string)
		if st := g["status"].(map[string]any); st["total"] != 3.0 || st["phase"] != "Pending" {
			t.Errorf("status %v", st)
		}
		l := e.do("GET", "/api/v1/ocr-invoice-jobs?sort=jobNumber&order=asc&"+url.Values{"filter": {`{"group":"` + id + `"}`}}.Encode(), nil).must(t, http.StatusOK)
		if nums := numbersOf(l.list(), "jobNumber"); !slices.Equal(nums, []any{id + "-1", id + "-3", "OWN-1"}) {
			t.Errorf("job numbers %v", nums)
		}
		for _, j := range l.list() {
			if j["status"] != "created" || j["priority"] != "high" || j["template"] != e.generic || j["documentType"] != "pdf" {
				t.Errorf("job %v", j)
			}
		}

		before := e.countJobs()
		bad := documents(3, "c")
		bad[1]["documentUrl"] = "ftp://x/y.pdf"
		r := e.do("POST", "/api/v1/ocr-job-groups", map[string]any{"name": "bad", "documents": bad}).must(t, http.StatusBadRequest)
		if f := r.errFields(); !slices.Contains(f, "documents[1].documentUrl") {
			t.Errorf("fields %v (%s)", f, r.errMessage())
		}
		dup := documents(3, "d")
		dup[2]["jobNumber"] = "OWN-1"
		r = e.do("POST", "/api/v1/ocr-job-groups", map[string]any{"name": "dup", "documents": dup}).must(t, http.StatusConflict)
		if f := r.errFields(); !slices.Equal(f, []string{"documents[2].jobNumber"}) {
			t.Errorf("fields %v", f)
		}
		dup[2]["jobNumber"], dup[0]["jobNumber"] = "SAME", "SAME"
		e.do("POST", "/api/v1/ocr-job-groups", map[string]any{"name": "dup", "documents": dup}).must(t, http.StatusConflict)
		e.do("POST", "/api/v1/ocr-job-groups", map[string]any{"name": "big", "documents": documents(jobs.MaxGroupDocuments+1, "e")}).must(t, http.StatusRequestEntityTooLarge)
		if n := e.countJobs(); n != before {
			t.Errorf("%d jobs after refused batches, want %d", n, before)
		}
		l = e.do("GET", "/api/v1/ocr-job-groups", nil).must(t, http.StatusOK)
		if l.total() != 1 {
			t.Errorf("%d groups after refused batches", l.total())
		}
		e.do("PUT", "/api/v1/ocr-job-groups/"+id, map[string]any{"name": "x", "documents": docs}).must(t, http.StatusBadRequest)

		if s := e.do("POST", "/api/v1/ocr-job-groups/"+id+"/suspend", nil).must(t, http.StatusOK).data()["spec"].(map[string]any); s["suspend"] != true {
			t.Errorf("suspend: spec %v", s)
		}
		if s := e.do("POST", "/api/v1/ocr-job-groups/"+id+"/resume", nil).must(t, http.StatusOK).data()["spec"].(map[string]any); s["suspend"] != false {
			t.Errorf("resume: spec %v", s)
		}
		e.do("POST", "/api/v1/ocr-job-groups/"+id+"/cancel", nil).must(t, http.StatusOK)
		l = e.do("GET", "/api/v1/ocr-invoice-jobs?"+url.Values{"filter": {`{"group":"` + id + `","status":"cancelled"}`}}.Encode(), nil).must(t, http.StatusOK)
		if l.total() != 3 {
			t.Errorf("%d cancelled after cancel", l.total())
		}
		e.do("POST", "/api/v1/ocr-job-groups/"+id+"/retry-failed", nil).must(t, http.StatusOK)
		l = e.do("GET", "/api/v1/ocr-invoice-jobs?"+url.Values{"filter": {`{"group":"` + id + `","status":"created"}`}}.Encode(), nil).must(t, http.StatusOK)
		if l.total() != 3 || l.list()[0]["retryCount"] != 1.0 {
			t.Errorf("%d created after retry-failed", l.total())
		}
		e.do("POST", "/api/v1/ocr-job-groups/ffffffffffffffffffffffff/suspend", nil).must(t, http.StatusNotFound)
	})
}
