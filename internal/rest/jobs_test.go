package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read testdata: %v", err)
	}
	return b
}

// contractAdditions are the keys the API adds after the contract's own, by path below
// $.data: the review of a job's data and the supplier profile it used (issue 15), and the wider invoice field set. The contract's keys keep their names, shapes and order.
var contractAdditions = map[string][]string{
	"$.data":                         {"evidence", "corrections", "reviewStatus", "dataVersion", "machineData", "supplierProfile"}, // the job
	"extractedData.invoice":          {"documentType", "amountDue", "taxBreakdown", "servicePeriod", "purchaseOrder", "references", "payment", "allowances"},
	"extractedData.invoice.supplier": {"email", "phone", "website", "country"},
	"extractedData.invoice.customer": {"taxId", "country"},
	"extractedData.lineItems[0]":     {"taxRate"},
	"extractedData.invoice.amounts":  {"discount"},
}

// compareKeyOrder checks that got has the keys of want, in want's order, recursively (the
// first element of arrays), allowing the listed extra keys at the top level only.
func compareKeyOrder(t *testing.T, path string, want, got []byte, extra map[string]string) {
	t.Helper()
	wt, gt := bytes.TrimSpace(want), bytes.TrimSpace(got)
	if len(wt) == 0 || len(gt) == 0 || bytes.Equal(gt, []byte("null")) {
		return
	}
	switch wt[0] {
	case '{':
		if gt[0] != '{' {
			t.Errorf("%s: got %.40s, want an object", path, gt)
			return
		}
		wk, gk := keysInOrder(t, wt), keysInOrder(t, gt)
		if len(wk) == 0 { // the contract shows "{ }": a free-form object
			return
		}
		exp := []string{}
		for _, k := range wk {
			exp = append(exp, k)
			for e, after := range extra {
				if after == k {
					exp = append(exp, e)
				}
			}
		}
		if path == "$.data.confidence.fields" { // a map: keys are field paths, not names
			return
		}
		// Fields added to the contract follow its own, in a documented order.
		// "$.data" names the job's own additions: only the job's comparisons (which pass
		// extra) have them, not the results document's.
		if path != "$.data" || extra != nil {
			exp = append(exp, contractAdditions[strings.TrimPrefix(path, "$.data.")]...)
		}
		if !slices.Equal(gk, exp) {
			t.Errorf("%s: keys %v, want %v", path, gk, exp)
			return
		}
		for _, k := range wk {
			compareKeyOrder(t, path+"."+k, rawField(t, wt, k), rawField(t, gt, k), nil)
		}
	case '[':
		var wa, ga []json.RawMessage
		_ = json.Unmarshal(wt, &wa)
		if err := json.Unmarshal(gt, &ga); err != nil {
			t.Errorf("%s: got %.40s, want an array", path, gt)
			return
		}
		if len(wa) > 0 && len(ga) > 0 {
			compareKeyOrder(t, path+"[0]", wa[0], ga[0], nil)
		}
	}
}

// completeJob gives a job every server-owned value, as the worker would.
func completeJob(t *testing.T, c *ent.Client, id string) {
	t.Helper()
	start := time.Date(2023, 1, 15, 8, 0, 0, 0, time.UTC)
	end := start.Add(5 * time.Minute)
	_, err := c.OcrInvoiceJob.UpdateOneID(id).
		SetStatus("completed").
		SetProgress(invoice.Progress{Percentage: 100, CurrentStep: "store", TotalSteps: 6}).
		SetStartedAt(start).SetCompletedAt(end).SetProcessingTime(45.6).
		SetDocumentInfo(&invoice.DocumentInfo{Pages: 1, Size: 52344, Format: "pdf", Resolution: "300x300", Language: "eng"}).
		SetExtractedData(&invoice.ExtractedData{
			Invoice: invoice.Invoice{Number: "INV-7", Date: "2023-01-02", DueDate: "2023-02-01",
				Supplier: invoice.Supplier{Name: "Acme Supplies", Address: "1 Road", TaxID: "DE123"},
				Customer: invoice.Customer{Name: "Globex", Address: "2 Street"},
				Amounts:  invoice.Amounts{Subtotal: invoice.Float(100), Tax: invoice.Float(19), Total: invoice.Float(119), Currency: "EUR"}},
			LineItems: []invoice.LineItem{{Description: "Widget", Quantity: invoice.Float(2), UnitPrice: invoice.Float(50), Amount: invoice.Float(100)}},
		}).
		SetConfidence(&invoice.Confidence{Overall: 0.9, Fields: map[string]float64{"invoice.number": 0.95}}).
		SetValidationResults(&invoice.ValidationResults{IsValid: true, Errors: []invoice.ValidationError{{Field: "invoice.dueDate", Message: "late", Severity: invoice.SeverityWarning}}}).
		SetCost(0.05).SetErrorLog("retried once").SetRetryCount(1).
		Save(context.Background())
	if err != nil {
		t.Fatalf("complete job: %v", err)
	}
}

// TestJobContractExample creates a job with the contract's example body and compares the
// envelope and every key (names and order) with the contract's example response.
func TestJobContractExample(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		enq, _ := redisEnqueuer(t)
		e := newEnv(t, c, enq)
		grp := e.do("POST", "/api/v1/ocr-job-groups", map[string]any{"name": "batch-1"}).must(t, http.StatusCreated).data()

		var body map[string]any
		if err := json.Unmarshal(readTestdata(t, "contract_job_request.json"), &body); err != nil {
			t.Fatal(err)
		}
		body["template"] = e.generic
		body["group"] = grp["_id"]
		body["documentUrl"] = "https://invoices.example.com/invoice_2023_001.pdf"
		r := e.do("POST", "/api/v1/ocr-invoice-jobs", body).must(t, http.StatusCreated)
		if got := keysInOrder(t, r.raw); !slices.Equal(got, []string{"success", "data"}) {
			t.Errorf("envelope keys %v, want [success data]", got)
		}
		if r.header.Get("Location") != "/api/v1/ocr-invoice-jobs/"+r.data()["_id"].(string) {
			t.Errorf("Location = %q", r.header.Get("Location"))
		}
		want := readTestdata(t, "contract_job_response.json")
		extra := map[string]string{"documentUrl": "documentName", "callbackUrl": "createdBy", "attempts": "retryCount"}
		compareKeyOrder(t, "$.data", rawField(t, want, "data"), rawField(t, r.raw, "data"), extra)

		d := r.data()
		for k, v := range map[string]any{
			"jobNumber": "OCR-2023-001", "documentName": "invoice_2023_001.pdf", "documentType": "pdf",
			"template": e.generic, "group": grp["_id"], "status": "queued", "priority": "low",
			"cost": 0.0, "currency": "USD", "retryCount": 0.0, "createdBy": "60f7b1b3e4b0e8b3f8b3f8b6",
			"startedAt": nil, "completedAt": nil, "processingTime": nil, "documentInfo": nil,
			"extractedData": nil, "confidence": nil, "validationResults": nil, "errorLog": nil,
		} {
			if !jsonEqual(d[k], v) {
				t.Errorf("data.%s = %#v, want %#v", k, d[k], v)
			}
		}
		if m, ok := d["metadata"].(map[string]any); !ok || len(m) != 0 {
			t.Errorf("metadata = %#v, want {}", d["metadata"])
		}
		if _, err := time.Parse(time.RFC3339, d["createdAt"].(string)); err != nil {
			t.Errorf("createdAt %v is not RFC 3339: %v", d["createdAt"], err)
		}

		// Once completed every value is present: compare the whole tree, then the results.
		id := d["_id"].(string)
		completeJob(t, c, id)
		g := e.do("GET", "/api/v1/ocr-invoice-jobs/"+id, nil).must(t, http.StatusOK)
		compareKeyOrder(t, "$.data", rawField(t, want, "data"), rawField(t, g.raw, "data"), extra)
		if got := g.data()["startedAt"]; got != "2023-01-15T08:00:00Z" {
			t.Errorf("startedAt = %v, want 2023-01-15T08:00:00Z", got)
		}
		res := e.do("GET", "/api/v1/ocr-invoice-jobs/"+id+"/results", nil).must(t, http.StatusOK)
		compareKeyOrder(t, "$.data", rawField(t, readTestdata(t, "contract_results_response.json"), "data"), rawField(t, res.raw, "data"), nil)
		if pt := res.data()["processingTime"]; pt != 45.6 {
			t.Errorf("results processingTime = %v, want 45.6", pt)
		}
		total := res.data()["extractedData"].(map[string]any)["invoice"].(map[string]any)["amounts"].(map[string]any)["total"]
		if total != 119.0 {
			t.Errorf("results total = %v, want 119", total)
		}

		l := e.do("GET", "/api/v1/ocr-invoice-jobs", nil).must(t, http.StatusOK)
		// nextCursor (keyset pages) is additive, after the contract's keys.
		if got, want := keysInOrder(t, l.raw), append(keysInOrder(t, readTestdata(t, "contract_list_response.json")), "nextCursor"); !slices.Equal(got, want) {
			t.Errorf("list envelope keys %v, want %v", got, want)
		}
		if l.total() != 1 || len(l.list()) != 1 {
			t.Errorf("list total %d, %d items; want 1, 1", l.total(), len(l.list()))
		}
	})
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestJobLifecycle: create (queued on Redis), get, GET-modify-PUT, cancel, retry, and the 422s.
func TestJobLifecycle(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		enq, _ := redisEnqueuer(t)
		e := newEnv(t, c, enq)
		j := e.createJob("LIFE-1", map[string]any{"priority": "urgent", "metadata": map[string]any{"source": "scanner"}})
		id := j["_id"].(string)
		if j["status"] != "queued" || j["priority"] != "urgent" || j["documentType"] != "pdf" {
			t.Errorf("created job = %v", j)
		}

		// GET-modify-PUT: read-only fields sent back are ignored.
		g := e.do("GET", "/api/v1/ocr-invoice-jobs/"+id, nil).must(t, http.StatusOK).data()
		g["documentName"] = "renamed.pdf"
		g["metadata"] = map[string]any{"source": "email", "n": 2}
		g["status"] = "completed" // read-only: ignored
		g["cost"] = 99            // read-only: ignored
		g["results"] = map[string]any{"x": 1}
		u := e.do("PUT", "/api/v1/ocr-invoice-jobs/"+id, g).must(t, http.StatusOK).data()
		if u["documentName"] != "renamed.pdf" || u["cost"] != 0.0 || u["_id"] != id {
			t.Errorf("after PUT: %v", u)
		}
		if u["status"] == "completed" {
			t.Errorf("PUT changed the read-only status")
		}
		if m := u["metadata"].(map[string]any); m["source"] != "email" || m["n"] != 2.0 {
			t.Errorf("metadata after PUT = %v", m)
		}

		// PUT semantics: an omitted optional field returns to its default.
		body := e.jobBodyFor("LIFE-1", nil)
		u = e.do("PUT", "/api/v1/ocr-invoice-jobs/"+id, body).must(t, http.StatusOK).data()
		if u["priority"] != "medium" || len(u["metadata"].(map[string]any)) != 0 {
			t.Errorf("after PUT without priority/metadata: priority %v metadata %v", u["priority"], u["metadata"])
		}

		cancelled := e.do("POST", "/api/v1/ocr-invoice-jobs/"+id+"/cancel", nil).must(t, http.StatusOK).data()
		if cancelled["status"] != "cancelled" {
			t.Errorf("cancel -> %v", cancelled["status"])
		}
		r := e.do("POST", "/api/v1/ocr-invoice-jobs/"+id+"/cancel", nil).must(t, http.StatusUnprocessableEntity)
		if r.errCode() != "FAILED_PRECONDITION" {
			t.Errorf("second cancel code %s", r.errCode())
		}
		retried := e.do("POST", "/api/v1/ocr-invoice-jobs/"+id+"/retry", nil).must(t, http.StatusOK).data()
		if retried["status"] != "queued" {
			t.Errorf("retry -> %v", retried["status"])
		}
		r = e.do("POST", "/api/v1/ocr-invoice-jobs/"+id+"/retry", nil).must(t, http.StatusUnprocessableEntity)
		if r.errCode() != "FAILED_PRECONDITION" {
			t.Errorf("retry of a queued job: code %s", r.errCode())
		}

		// Changing the document of a processing job is a 422 and changes nothing.
		if _, err := c.OcrInvoiceJob.UpdateOneID(id).SetStatus("processing").Save(context.Background()); err != nil {
			t.Fatal(err)
		}
		before := e.do("GET", "/api/v1/ocr-invoice-jobs/"+id, nil).must(t, http.StatusOK).raw
		r = e.do("PUT", "/api/v1/ocr-invoice-jobs/"+id, e.jobBodyFor("LIFE-1", map[string]any{"documentUrl": "https://invoices.example.com/other.pdf"})).
			must(t, http.StatusUnprocessableEntity)
		if r.errCode() != "FAILED_PRECONDITION" {
			t.Errorf("PUT on processing job: code %s", r.errCode())
		}
		after := e.do("GET", "/api/v1/ocr-invoice-jobs/"+id, nil).must(t, http.StatusOK).raw
		if !bytes.Equal(before, after) {
			t.Errorf("a refused PUT changed the job:\n%s\n%s", before, after)
		}
	})
}

// TestCreateJobRedisDown: with the queue unreachable the job is stored "created" and the
// answer is still 201.
func TestCreateJobRedisDown(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		srv := redisEnqueuerAddrDown(t)
		e := newEnv(t, c, srv)
		j := e.createJob("DOWN-1", nil)
		if j["status"] != "created" {
			t.Errorf("status %v, want created", j["status"])
		}
	})
}

// redisEnqueuerAddrDown returns a tasks.Client on a port where no Redis listens.
func redisEnqueuerAddrDown(t *testing.T) *tasks.Client {
	t.Helper()
	srv := redistestAddrStopped(t)
	cl := tasks.NewClient(srv)
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

// TestJobAttemptsAndErrorLog: a job that failed once and completed on the retry shows no
// errorLog, and its attempts (in REST too) keep the failure.
func TestJobAttemptsAndErrorLog(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil)
		ctx := context.Background()
		id := e.createJob("ATTEMPTS-1", nil)["_id"].(string)
		if _, err := e.svc.StartProcessing(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Fail(ctx, id, "download https://example.com/x.pdf: HTTP 503", false); err != nil {
			t.Fatal(err)
		}
		mid := e.do("GET", "/api/v1/ocr-invoice-jobs/"+id, nil).must(t, http.StatusOK).data()
		if log, _ := mid["errorLog"].(string); !strings.Contains(log, "HTTP 503") {
			t.Errorf("errorLog after the failed attempt = %#v, want the failure", mid["errorLog"])
		}
		if _, err := e.svc.StartProcessing(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Complete(ctx, id, jobs.CompleteInput{Pages: 1}); err != nil {
			t.Fatal(err)
		}
		d := e.do("GET", "/api/v1/ocr-invoice-jobs/"+id, nil).must(t, http.StatusOK).data()
		if d["status"] != "completed" || d["errorLog"] != nil {
			t.Errorf("after the retry completed: status %v, errorLog %#v; want completed, null", d["status"], d["errorLog"])
		}
		atts, _ := d["attempts"].([]any)
		if len(atts) != 2 {
			t.Fatalf("attempts = %#v, want 2", d["attempts"])
		}
		first, second := atts[0].(map[string]any), atts[1].(map[string]any)
		if first["number"] != 1.0 || first["outcome"] != "retry" || !strings.Contains(fmt.Sprint(first["error"]), "HTTP 503") || first["endedAt"] == nil {
			t.Errorf("first attempt = %v", first)
		}
		if second["number"] != 2.0 || second["outcome"] != "completed" || second["error"] != nil || second["endedAt"] == nil {
			t.Errorf("second attempt = %v", second)
		}
		if got := keysInOrder(t, mustJSON(t, first)); len(got) != 6 {
			t.Errorf("attempt keys %v", got)
		}
		// A new job has an empty list, never null.
		fresh := e.createJob("ATTEMPTS-2", nil)
		if a, ok := fresh["attempts"].([]any); !ok || len(a) != 0 {
			t.Errorf("attempts of a new job = %#v, want []", fresh["attempts"])
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestJobPutGroup: a PUT that omits group keeps the job's group ("group": null leaves
// it), and a job of a suspended group is never queued, by its creation or by an update.
func TestJobPutGroup(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		enq, _ := redisEnqueuer(t)
		e := newEnv(t, c, enq)
		path := "/api/v1/ocr-invoice-jobs/"
		gid := e.do("POST", "/api/v1/ocr-job-groups", map[string]any{"name": "put-group"}).must(t, http.StatusCreated).data()["_id"].(string)
		e.do("POST", "/api/v1/ocr-job-groups/"+gid+"/suspend", nil).must(t, http.StatusOK)

		j := e.createJob("PUTG-1", map[string]any{"group": gid, "priority": "low"})
		id := j["_id"].(string)
		if j["status"] != "created" || j["group"] != gid {
			t.Fatalf("job created in a suspended group: status %v group %v, want created in %s", j["status"], j["group"], gid)
		}
		// A minimal PUT (no group, no priority): the group stays, priority takes its
		// default, and the job is not queued.
		u := e.do("PUT", path+id, e.jobBodyFor("PUTG-1", map[string]any{"documentName": "renamed.pdf"})).must(t, http.StatusOK).data()
		if u["group"] != gid || u["status"] != "created" || u["priority"] != "medium" || u["documentName"] != "renamed.pdf" {
			t.Errorf("after a PUT without group: group %v status %v priority %v name %v; want %s created medium renamed.pdf",
				u["group"], u["status"], u["priority"], u["documentName"], gid)
		}
		// A re-run (new document) in the suspended group is not queued either.
		u = e.do("PUT", path+id, e.jobBodyFor("PUTG-1", map[string]any{"documentUrl": "https://invoices.example.com/other.pdf", "priority": "urgent"})).must(t, http.StatusOK).data()
		if u["group"] != gid || u["status"] != "created" || u["priority"] != "urgent" {
			t.Errorf("after a re-run PUT: group %v status %v priority %v", u["group"], u["status"], u["priority"])
		}
		if n, err := e.svc.CreatedJobsOfGroup(context.Background(), gid, 10); err != nil || len(n) != 1 {
			t.Errorf("created jobs of the group: %d, %v; want 1 for its reconciler", len(n), err)
		}
		// Leaving takes "group": null; out of the group, the job is queued.
		u = e.do("PUT", path+id, e.jobBodyFor("PUTG-1", map[string]any{"group": nil})).must(t, http.StatusOK).data()
		if u["group"] != nil || u["status"] != "queued" {
			t.Errorf(`after "group": null: group %v status %v; want null, queued`, u["group"], u["status"])
		}
		// Joining names it; omitting it again keeps it.
		g2 := e.do("POST", "/api/v1/ocr-job-groups", map[string]any{"name": "put-group-2"}).must(t, http.StatusCreated).data()["_id"].(string)
		e.do("PUT", path+id, e.jobBodyFor("PUTG-1", map[string]any{"group": g2})).must(t, http.StatusOK)
		u = e.do("PUT", path+id, e.jobBodyFor("PUTG-1", nil)).must(t, http.StatusOK).data()
		if u["group"] != g2 {
			t.Errorf("group after a PUT without group = %v, want %s", u["group"], g2)
		}
		// Bad values are still refused, naming the field.
		for _, bad := range []any{"nope", 7, missingGroupID, map[string]any{}} {
			r := e.do("PUT", path+id, e.jobBodyFor("PUTG-1", map[string]any{"group": bad})).must(t, http.StatusBadRequest)
			if f := r.errFields(); !slices.Contains(f, "group") {
				t.Errorf("group %#v: fields %v, want group", bad, f)
			}
		}
	})
}

const missingGroupID = "0123456789abcdef01234567"
