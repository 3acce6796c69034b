package rest

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/worker/validate"
)

const mergePatch = "application/merge-patch+json"

// newReviewEnv is newEnv whose service re-validates corrected data with the worker's
// checks, as the composition root wires it.
func newReviewEnv(t *testing.T, c *ent.Client) *env {
	t.Helper()
	e := newEnv(t, c, nil)
	e.svc = jobs.NewService(c, nil, jobs.Options{Logger: slog.New(slog.NewTextHandler(e.logs, nil)), Now: e.clock.Now, Revalidate: validate.Revalidate})
	e.serve(NewHandler(e.svc, slog.New(slog.NewTextHandler(e.logs, nil))))
	return e
}

// completedJob creates a job as the env's principal and completes it (completeJob: total
// 119 = 100 + 19, one line of 2 x 50).
func (e *env) completedJob(number string) string {
	e.t.Helper()
	id := e.createJob(number, nil)["_id"].(string)
	completeJob(e.t, e.c, id)
	return id
}

func (e *env) patch(id, body string, hdr ...string) resp {
	e.t.Helper()
	return e.do("PATCH", "/api/v1/ocr-invoice-jobs/"+id+"/extracted-data", body, append([]string{"Content-Type", mergePatch}, hdr...)...)
}

func getPath(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

// TestCorrectJob: a merge patch corrects a completed job's data. The job keeps the
// machine's data, records one correction per changed value (who, when, old, new), marks
// the corrected path's evidence and confidence, validates again (a total that no longer
// adds up is an error, fixing it makes the data valid again), keeps the search columns in
// step, and answers the new version as the ETag; If-Match and ?version guard against
// changes the client did not see; approval ends the review.
func TestCorrectJob(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newReviewEnv(t, c)
		sub := e.as(t, &submitterA)
		id := sub.completedJob("REV-1")

		g := sub.do("GET", "/api/v1/ocr-invoice-jobs/"+id, nil).must(t, http.StatusOK).data()
		if g["reviewStatus"] != "unreviewed" || g["dataVersion"] != 0.0 || fmt.Sprint(g["corrections"]) != "[]" || fmt.Sprint(g["evidence"]) != "map[]" {
			t.Fatalf("before review: reviewStatus %v, dataVersion %v, corrections %v, evidence %v", g["reviewStatus"], g["dataVersion"], g["corrections"], g["evidence"])
		}

		r := sub.patch(id, `{"invoice":{"amounts":{"total":200}}}`, "If-Match", `"0"`).must(t, http.StatusOK)
		if r.header.Get("ETag") != `"1"` {
			t.Errorf("ETag = %q, want \"1\"", r.header.Get("ETag"))
		}
		d := r.data()
		if d["reviewStatus"] != "corrected" || d["dataVersion"] != 1.0 {
			t.Errorf("reviewStatus %v, dataVersion %v; want corrected, 1", d["reviewStatus"], d["dataVersion"])
		}
		if v := getPath(d, "extractedData", "invoice", "amounts", "total"); v != 200.0 {
			t.Errorf("extractedData total = %v, want 200", v)
		}
		if v := getPath(d, "machineData", "invoice", "amounts", "total"); v != 119.0 {
			t.Errorf("machineData total = %v, want the machine's 119", v)
		}
		cs, _ := d["corrections"].([]any)
		if len(cs) != 1 {
			t.Fatalf("corrections = %v, want one", d["corrections"])
		}
		c0 := cs[0].(map[string]any)
		if c0["path"] != "invoice.amounts.total" || c0["old"] != 119.0 || c0["new"] != 200.0 || c0["by"] != "team-a" || c0["keyId"] != submitterA.KeyID {
			t.Errorf("correction = %v", c0)
		}
		if at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(c0["at"])); err != nil || time.Since(at) > time.Minute {
			t.Errorf("correction at = %v (%v)", c0["at"], err)
		}
		ev := getPath(d, "evidence", "invoice.amounts.total").(map[string]any)
		if ev["source"] != "correction" || ev["confidence"] != 1.0 || ev["page"] != 0.0 || ev["text"] != "200" {
			t.Errorf("evidence = %v", ev)
		}
		if v := getPath(d, "confidence", "fields", "invoice.amounts.total"); v != 1.0 {
			t.Errorf("confidence of the corrected total = %v, want 1", v)
		}
		if valid := getPath(d, "validationResults", "isValid"); valid != false {
			t.Errorf("validation after total 200 (100 + 19): isValid %v, want false: %v", valid, d["validationResults"])
		}
		if !strings.Contains(fmt.Sprint(getPath(d, "validationResults", "errors")), "invoice.amounts.total") {
			t.Errorf("validation errors %v do not name invoice.amounts.total", getPath(d, "validationResults", "errors"))
		}

		// A stale version changes nothing.
		for _, hdr := range [][]string{{"If-Match", `"0"`}, nil} {
			query := ""
			if hdr == nil {
				query = "?version=0"
			}
			st := sub.do("PATCH", "/api/v1/ocr-invoice-jobs/"+id+"/extracted-data"+query, `{"invoice":{"number":"LOST"}}`, append([]string{"Content-Type", mergePatch}, hdr...)...)
			if st.status != http.StatusConflict || st.errCode() != "CONFLICT" || !strings.Contains(st.errMessage(), "version 1") {
				t.Errorf("stale version: %d %s %q", st.status, st.errCode(), st.errMessage())
			}
		}

		// Back to 119 (application/json is accepted too): valid again, a second correction.
		r = sub.do("PATCH", "/api/v1/ocr-invoice-jobs/"+id+"/extracted-data?version=1",
			`{"invoice":{"amounts":{"total":119},"supplier":{"name":"Acme Corrected GmbH"}}}`).must(t, http.StatusOK)
		d = r.data()
		if d["dataVersion"] != 2.0 || r.header.Get("ETag") != `"2"` || len(d["corrections"].([]any)) != 3 {
			t.Errorf("second correction: dataVersion %v, ETag %q, corrections %v", d["dataVersion"], r.header.Get("ETag"), d["corrections"])
		}
		if valid := getPath(d, "validationResults", "isValid"); valid != true {
			t.Errorf("validation after total 119 again: isValid %v, want true: %v", valid, d["validationResults"])
		}
		if l := sub.do("GET", "/api/v1/ocr-invoice-jobs?search=corrected", nil).must(t, http.StatusOK); l.total() != 1 {
			t.Errorf("search for the corrected supplier name found %d jobs, want 1", l.total())
		}

		// A patch that changes nothing records nothing.
		r = sub.patch(id, `{"invoice":{"amounts":{"total":119}}}`).must(t, http.StatusOK)
		if r.data()["dataVersion"] != 2.0 || len(r.data()["corrections"].([]any)) != 3 {
			t.Errorf("no-op patch: dataVersion %v, %d corrections", r.data()["dataVersion"], len(r.data()["corrections"].([]any)))
		}

		// Lines: a line added and one changed through a whole list.
		r = sub.patch(id, `{"lineItems":[{"description":"Widget","quantity":2,"unitPrice":50,"amount":100},{"description":"Freight","quantity":1,"unitPrice":0,"amount":0}]}`).must(t, http.StatusOK)
		if n := len(getPath(r.data(), "extractedData", "lineItems").([]any)); n != 2 {
			t.Errorf("%d lines after the patch, want 2", n)
		}
		if ev := getPath(r.data(), "evidence", "lineItems[1].description"); ev == nil {
			t.Errorf("no evidence for the added line's description")
		}

		// Approval: approved, a new version; again: nothing changes.
		a := sub.do("POST", "/api/v1/ocr-invoice-jobs/"+id+"/approve", nil, "If-Match", `"3"`).must(t, http.StatusOK)
		if a.data()["reviewStatus"] != "approved" || a.data()["dataVersion"] != 4.0 || a.header.Get("ETag") != `"4"` {
			t.Errorf("approve: reviewStatus %v, dataVersion %v, ETag %q", a.data()["reviewStatus"], a.data()["dataVersion"], a.header.Get("ETag"))
		}
		a = sub.do("POST", "/api/v1/ocr-invoice-jobs/"+id+"/approve", nil).must(t, http.StatusOK)
		if a.data()["dataVersion"] != 4.0 {
			t.Errorf("second approval moved dataVersion to %v", a.data()["dataVersion"])
		}
		if st := sub.do("POST", "/api/v1/ocr-invoice-jobs/"+id+"/approve?version=3", nil); st.status != http.StatusConflict {
			t.Errorf("approve at a stale version: %d, want 409", st.status)
		}
		// Corrected after approval: corrected again.
		if d := sub.patch(id, `{"invoice":{"purchaseOrder":"PO-9"}}`, "If-Match", `"4"`).must(t, http.StatusOK).data(); d["reviewStatus"] != "corrected" {
			t.Errorf("corrected after approval: reviewStatus %v", d["reviewStatus"])
		}
	})
}

// TestCorrectJobBadInput: every bad correction is refused with the status and the field
// that say why, and changes nothing.
func TestCorrectJobBadInput(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newReviewEnv(t, c)
		sub := e.as(t, &submitterA)
		id := sub.completedJob("BAD-1")
		pending := sub.createJob("BAD-2", nil)["_id"].(string)
		otherOwner := e.as(t, &submitterB)
		viewer := e.as(t, &viewerA)
		before := sub.do("GET", "/api/v1/ocr-invoice-jobs/"+id, nil).must(t, http.StatusOK).raw

		for _, tc := range []struct {
			name   string
			as     *env
			job    string // the job id, followed by /extracted-data?... when the query matters
			body   string
			hdr    []string
			status int
			field  string
		}{
			{"unknown path", sub, id, `{"invoice":{"nmber":"X"}}`, nil, http.StatusBadRequest, "invoice.nmber"},
			{"unknown top-level member", sub, id, `{"total":1}`, nil, http.StatusBadRequest, "total"},
			{"wrong type", sub, id, `{"invoice":{"amounts":{"total":"a lot"}}}`, nil, http.StatusBadRequest, "invoice.amounts.total"},
			{"wrong type in a line", sub, id, `{"lineItems":[{"quantity":"two"}]}`, nil, http.StatusBadRequest, "lineItems[0].quantity"},
			{"bad date", sub, id, `{"invoice":{"date":"02/01/2023"}}`, nil, http.StatusBadRequest, "invoice.date"},
			{"malformed JSON", sub, id, `{"invoice":{"number":`, nil, http.StatusBadRequest, ""},
			{"not an object", sub, id, `[{"invoice":{}}]`, nil, http.StatusBadRequest, ""},
			{"not JSON", sub, id, `number=1`, []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType, ""},
			{"weak If-Match", sub, id, `{}`, []string{"If-Match", `W/"0"`}, http.StatusBadRequest, "If-Match"},
			{"bad version", sub, id + "/extracted-data?version=x", `{}`, nil, http.StatusBadRequest, "version"},
			{"If-Match and version disagree", sub, id + "/extracted-data?version=1", `{}`, []string{"If-Match", `"0"`}, http.StatusBadRequest, "version"},
			{"unknown parameter", sub, id + "/extracted-data?force=1", `{}`, nil, http.StatusBadRequest, "force"},
			{"too large", sub, id, `{"invoice":{"number":"` + strings.Repeat("x", jobs.MaxPatchBytes) + `"}}`, nil, http.StatusRequestEntityTooLarge, ""},
			{"not completed", sub, pending, `{"invoice":{"number":"X"}}`, nil, http.StatusUnprocessableEntity, "status"},
			{"another owner's job", otherOwner, id, `{"invoice":{"number":"X"}}`, nil, http.StatusNotFound, ""},
			{"viewer", viewer, id, `{"invoice":{"number":"X"}}`, nil, http.StatusForbidden, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				hdr := append([]string{"Content-Type", mergePatch}, tc.hdr...)
				path := "/api/v1/ocr-invoice-jobs/" + tc.job
				if !strings.Contains(tc.job, "/") {
					path += "/extracted-data"
				}
				r := tc.as.do("PATCH", path, tc.body, hdr...)
				if r.status != tc.status {
					t.Fatalf("status %d, want %d: %.300s", r.status, tc.status, r.raw)
				}
				if tc.field != "" && !containsString(r.errFields(), tc.field) {
					t.Errorf("error details name %v, want %q: %s", r.errFields(), tc.field, r.errMessage())
				}
				if tc.field != "" && tc.status == http.StatusBadRequest && !strings.Contains(r.errMessage(), tc.field) {
					t.Errorf("message %q does not name %q", r.errMessage(), tc.field)
				}
			})
		}
		if st := otherOwner.do("POST", "/api/v1/ocr-invoice-jobs/"+id+"/approve", nil); st.status != http.StatusNotFound {
			t.Errorf("approve another owner's job: %d, want 404", st.status)
		}
		if st := viewer.do("POST", "/api/v1/ocr-invoice-jobs/"+id+"/approve", nil); st.status != http.StatusForbidden {
			t.Errorf("approve as a viewer: %d, want 403", st.status)
		}
		after := sub.do("GET", "/api/v1/ocr-invoice-jobs/"+id, nil).must(t, http.StatusOK).raw
		if string(before) != string(after) {
			t.Errorf("refused corrections changed the job:\n%s\n%s", before, after)
		}
	})
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestCorrectionsCap: a job keeps at most jobs.MaxCorrections corrections; a correction
// that would go past it is a 422 that changes nothing, one that reaches it exactly is taken.
func TestCorrectionsCap(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newReviewEnv(t, c)
		id := e.completedJob("CAP-1")
		old := make([]invoice.Correction, jobs.MaxCorrections-1)
		for i := range old {
			old[i] = invoice.Correction{Path: "invoice.number", Old: fmt.Sprint(i), New: fmt.Sprint(i + 1), By: "x", At: time.Now().UTC()}
		}
		if err := c.OcrInvoiceJob.UpdateOneID(id).SetCorrections(old).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		r := e.patch(id, `{"invoice":{"number":"A","purchaseOrder":"B"}}`)
		if r.status != http.StatusUnprocessableEntity || !containsString(r.errFields(), "corrections") || !strings.Contains(r.errMessage(), "1000") {
			t.Fatalf("past the cap: %d %v %q", r.status, r.errFields(), r.errMessage())
		}
		d := e.patch(id, `{"invoice":{"number":"A"}}`).must(t, http.StatusOK).data()
		if n := len(d["corrections"].([]any)); n != jobs.MaxCorrections {
			t.Errorf("%d corrections, want %d", n, jobs.MaxCorrections)
		}
		if r := e.patch(id, `{"invoice":{"number":"B"}}`); r.status != http.StatusUnprocessableEntity {
			t.Errorf("at the cap: %d, want 422", r.status)
		}
		if g := e.do("GET", "/api/v1/ocr-invoice-jobs/"+id, nil).must(t, http.StatusOK).data(); getPath(g, "extractedData", "invoice", "number") != "A" {
			t.Errorf("number = %v after the refused correction, want A", getPath(g, "extractedData", "invoice", "number"))
		}
	})
}

// TestCorrectionRacesReRun: a re-run (a PUT that changes the document) starts a new
// version, unreviewed, without the machine data: a correction made against the version
// read before is a 409, and one without a version a 422 until the job completes again.
func TestCorrectionRacesReRun(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newReviewEnv(t, c)
		id := e.completedJob("RACE-1")
		d := e.patch(id, `{"invoice":{"number":"INV-8"}}`, "If-Match", `"0"`).must(t, http.StatusOK).data()
		if d["dataVersion"] != 1.0 {
			t.Fatalf("dataVersion %v", d["dataVersion"])
		}
		u := e.do("PUT", "/api/v1/ocr-invoice-jobs/"+id, e.jobBodyFor("RACE-1", map[string]any{"documentUrl": "https://invoices.example.com/other.pdf"})).
			must(t, http.StatusOK).data()
		if u["reviewStatus"] != "unreviewed" || u["dataVersion"] != 2.0 || u["machineData"] != nil || fmt.Sprint(u["evidence"]) != "map[]" {
			t.Errorf("after the re-run: reviewStatus %v, dataVersion %v, machineData %v, evidence %v", u["reviewStatus"], u["dataVersion"], u["machineData"], u["evidence"])
		}
		if n := len(u["corrections"].([]any)); n != 1 {
			t.Errorf("the re-run dropped the audit trail: %d corrections", n)
		}
		if r := e.patch(id, `{"invoice":{"number":"INV-9"}}`, "If-Match", `"1"`); r.status != http.StatusConflict {
			t.Errorf("correction at the version before the re-run: %d, want 409", r.status)
		}
		if r := e.patch(id, `{"invoice":{"number":"INV-9"}}`); r.status != http.StatusUnprocessableEntity {
			t.Errorf("correction of the re-running job: %d, want 422", r.status)
		}
	})
}
