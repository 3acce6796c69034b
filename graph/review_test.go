package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/live/livetest"
	"github.com/ocrinvoice/ocrinvoice/worker/validate"
)

// newReviewEnv is newEnv whose service re-validates corrected data with the worker's
// checks, as the composition root wires it.
func newReviewEnv(t *testing.T, c *ent.Client) *env {
	t.Helper()
	e := newEnv(t, c, acceptAll{}, graph.Config{})
	e.svc = jobs.NewService(c, acceptAll{}, jobs.Options{Logger: slog.New(slog.NewTextHandler(e.log, nil)), Revalidate: validate.Revalidate})
	e.h = graph.NewHandler(e.svc, graph.Config{Logger: slog.New(slog.NewTextHandler(e.log, nil))})
	return e
}

// completed creates a job as e's principal and completes it with data whose total adds
// up (100 + 20 = 120) and the evidence of its total.
func (e *env) completed(n string) string {
	e.t.Helper()
	id := e.createJob(n, nil).ID
	ctx := context.Background()
	if _, err := e.svc.StartProcessing(ctx, id); err != nil {
		e.t.Fatal(err)
	}
	data := &invoice.ExtractedData{Invoice: invoice.Invoice{Number: "INV-1", Date: "2024-03-01",
		Amounts: invoice.Amounts{Subtotal: invoice.Float(100), Tax: invoice.Float(20), Total: invoice.Float(120), Currency: "EUR"}}}
	ev := map[string]invoice.Evidence{"invoice.amounts.total": {Page: 1, Box: &invoice.Box{X0: 0.6, Y0: 0.7, X1: 0.8, Y1: 0.72}, Text: "120,00", Source: invoice.SourceOCR, Confidence: 0.8}}
	if _, err := e.svc.Complete(ctx, id, jobs.CompleteInput{Pages: 1, ExtractedData: data, Evidence: ev,
		Confidence:   &invoice.Confidence{Overall: 0.8, Fields: map[string]float64{"invoice.amounts.total": 0.8}},
		DocumentInfo: &invoice.DocumentInfo{Pages: 1, Format: "pdf", Source: invoice.SourceOCR}}); err != nil {
		e.t.Fatal(err)
	}
	return id
}

const correctJob = `mutation($id: ID!, $fields: [FieldValueInput!]!, $v: Int) {
  correctOcrInvoiceJob(id: $id, fields: $fields, ifVersion: $v) {
    id reviewStatus dataVersion
    corrections { path old new by keyId at }
    validationResults { isValid errors { field } }
    extractedData { invoice { amounts { total } } lineItems { description amount } }
    fields { path value machineValue confidence source evidence { page box { x0 y0 x1 y1 } text source confidence } }
  }
}`

type reviewedJob struct {
	ID           string
	ReviewStatus string
	DataVersion  int
	Corrections  []struct {
		Path, By, KeyID string
		Old, New        any
		At              string
	}
	ValidationResults struct {
		IsValid bool
		Errors  []struct{ Field string }
	}
	MachineData struct {
		Invoice struct{ Amounts struct{ Total float64 } }
	}
	ExtractedData struct {
		Invoice   struct{ Amounts struct{ Total float64 } }
		LineItems []struct{ Description string }
	}
	Fields []struct {
		Path         string
		Value        any
		MachineValue any
		Confidence   *float64
		Source       string
		Evidence     *struct {
			Page       int
			Box        *struct{ X0, Y0, X1, Y1 float64 }
			Text       string
			Source     string
			Confidence float64
		}
	}
}

func (j reviewedJob) field(path string) (int, bool) {
	for i, f := range j.Fields {
		if f.Path == path {
			return i, true
		}
	}
	return 0, false
}

// TestCorrectAndApproveOverGraphQL: the job's fields carry value, confidence, source and
// evidence; correctOcrInvoiceJob sets values by path (one correction each, evidence and
// confidence of a correction, validation again, a new version), rejects an unknown path
// or a wrong type naming the path and a stale ifVersion as a CONFLICT, and
// approveOcrInvoiceJob ends the review. Viewers may not, other owners' jobs are not found.
func TestCorrectAndApproveOverGraphQL(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		base := newReviewEnv(t, c)
		a := base.as(&ownerA)
		id := a.completed("REV-G1")

		var q struct{ OcrInvoiceJob reviewedJob }
		a.ok(`query($id: ID!) { ocrInvoiceJob(id: $id) { reviewStatus dataVersion corrections { path } fields { path value confidence source evidence { page box { x0 y0 x1 y1 } text source confidence } } } }`, map[string]any{"id": id}, &q)
		j := q.OcrInvoiceJob
		i, ok := j.field("invoice.amounts.total")
		if j.ReviewStatus != "unreviewed" || j.DataVersion != 1 || len(j.Corrections) != 0 || !ok {
			t.Fatalf("completed job: %+v", j)
		}
		if f := j.Fields[i]; f.Value != 120.0 || f.Confidence == nil || *f.Confidence != 0.8 || f.Source != "ocr" || f.Evidence == nil ||
			f.Evidence.Page != 1 || f.Evidence.Box == nil || f.Evidence.Box.X1 != 0.8 || f.Evidence.Text != "120,00" {
			t.Errorf("total field %+v (evidence %+v)", f, f.Evidence)
		}
		if i, ok := j.field("invoice.number"); !ok || j.Fields[i].Value != "INV-1" || j.Fields[i].Evidence != nil || j.Fields[i].Source != "ocr" {
			t.Errorf("number field without evidence: %+v", j.Fields[i])
		}

		var out struct{ CorrectOcrInvoiceJob reviewedJob }
		a.ok(correctJob, map[string]any{"id": id, "v": 1, "fields": []map[string]any{
			{"path": "invoice.amounts.total", "value": 150},
			{"path": "lineItems[0]", "value": map[string]any{"description": "Extra line", "amount": 30}},
		}}, &out)
		r := out.CorrectOcrInvoiceJob
		if r.ReviewStatus != "corrected" || r.DataVersion != 2 || r.ExtractedData.Invoice.Amounts.Total != 150 {
			t.Errorf("corrected: %+v", r)
		}
		if len(r.Corrections) < 3 || r.Corrections[0].Path != "invoice.amounts.total" || r.Corrections[0].Old != 120.0 || r.Corrections[0].New != 150.0 ||
			r.Corrections[0].By != "team-a" || r.Corrections[0].KeyID != "ka" || r.Corrections[0].At == "" {
			t.Errorf("corrections %+v", r.Corrections)
		}
		if r.ValidationResults.IsValid {
			t.Errorf("a total of 150 for 100 + 20 validates")
		}
		if i, ok := r.field("invoice.amounts.total"); !ok || r.Fields[i].Source != "correction" || *r.Fields[i].Confidence != 1 || r.Fields[i].MachineValue != 120.0 ||
			r.Fields[i].Evidence == nil || r.Fields[i].Evidence.Page != 0 || r.Fields[i].Evidence.Box != nil {
			t.Errorf("corrected total field %+v", r.Fields[i])
		}
		if len(r.ExtractedData.LineItems) != 1 || r.ExtractedData.LineItems[0].Description != "Extra line" {
			t.Errorf("lines %+v", r.ExtractedData.LineItems)
		}

		for name, tc := range map[string]struct {
			fields []map[string]any
			v      any
			code   string
			path   string
		}{
			"unknown path":   {[]map[string]any{{"path": "invoice.totl", "value": 1}}, nil, "BAD_USER_INPUT", "invoice.totl"},
			"wrong type":     {[]map[string]any{{"path": "invoice.amounts.total", "value": "much"}}, nil, "BAD_USER_INPUT", "invoice.amounts.total"},
			"index past end": {[]map[string]any{{"path": "lineItems[5].amount", "value": 1}}, nil, "BAD_USER_INPUT", "lineItems[5].amount"},
			"stale version":  {[]map[string]any{{"path": "invoice.number", "value": "X"}}, 1, "CONFLICT", ""},
			"no fields":      {[]map[string]any{}, nil, "BAD_USER_INPUT", ""},
		} {
			t.Run(name, func(t *testing.T) {
				res := a.fails(correctJob, map[string]any{"id": id, "fields": tc.fields, "v": tc.v}, tc.code)
				if tc.path != "" && !strings.Contains(res.Errors[0].Message, tc.path) {
					t.Errorf("message %q does not name %s", res.Errors[0].Message, tc.path)
				}
			})
		}
		base.as(&viewer).fails(correctJob, map[string]any{"id": id, "fields": []map[string]any{{"path": "invoice.number", "value": "X"}}}, "FORBIDDEN")
		base.as(&viewer).fails(`mutation($id: ID!) { approveOcrInvoiceJob(id: $id) { id } }`, map[string]any{"id": id}, "FORBIDDEN")
		base.as(&ownerB).fails(correctJob, map[string]any{"id": id, "fields": []map[string]any{{"path": "invoice.number", "value": "X"}}}, "NOT_FOUND")
		base.as(&ownerB).fails(`mutation($id: ID!) { approveOcrInvoiceJob(id: $id) { id } }`, map[string]any{"id": id}, "NOT_FOUND")

		var ap struct{ ApproveOcrInvoiceJob reviewedJob }
		a.ok(`mutation($id: ID!) { approveOcrInvoiceJob(id: $id, ifVersion: 2) { reviewStatus dataVersion } }`, map[string]any{"id": id}, &ap)
		if ap.ApproveOcrInvoiceJob.ReviewStatus != "approved" || ap.ApproveOcrInvoiceJob.DataVersion != 3 {
			t.Errorf("approved: %+v", ap.ApproveOcrInvoiceJob)
		}
		a.fails(`mutation($id: ID!) { approveOcrInvoiceJob(id: $id, ifVersion: 2) { id } }`, map[string]any{"id": id}, "CONFLICT")

		// Review status filters the list.
		var l struct {
			OcrInvoiceJobs struct{ TotalCount int }
		}
		a.ok(`{ ocrInvoiceJobs(where: {reviewStatus: approved}) { totalCount } }`, nil, &l)
		if l.OcrInvoiceJobs.TotalCount != 1 {
			t.Errorf("%d approved jobs, want 1", l.OcrInvoiceJobs.TotalCount)
		}
		raw, _ := json.Marshal(r.Corrections)
		if !strings.Contains(string(raw), "Extra line") {
			t.Errorf("corrections of the line do not carry its new description: %s", raw)
		}
	})
}

// TestJobUpdatedSubscriptionCarriesCorrections: a correction and an approval made with
// the mutations reach an ocrInvoiceJobUpdated subscriber over WebSocket, each with the
// job's new review status, version and data.
func TestJobUpdatedSubscriptionCarriesCorrections(t *testing.T) {
	e := newLiveEnv(t, graph.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id := e.createJob(t, "SUB-REV-1")
	if _, err := e.svc.StartProcessing(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Complete(ctx, id, jobs.CompleteInput{Pages: 1, ExtractedData: &invoice.ExtractedData{Invoice: invoice.Invoice{Number: "INV-1"}}}); err != nil {
		t.Fatal(err)
	}
	ws, _, err := livetest.DialWS(ctx, e.wsURL(), livetest.TransportWS, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ws.Subscribe(ctx, "upd", `subscription { ocrInvoiceJobUpdated(where: {jobNumberHasPrefix: "SUB-REV-"}) { id reviewStatus dataVersion extractedData { invoice { number } } } }`, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // let the subscription start
	post := func(query string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"id": id}})
		resp, err := http.Post(e.srv.URL+"/graphql", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || strings.Contains(string(b), `"errors"`) {
			t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
		}
	}
	// wait reads updates until one shows the review status (an update of the completion
	// may come first when its event reached the hub late).
	wait := func(want string) string {
		t.Helper()
		for {
			rs, err := ws.Collect(ctx, "upd", func(livetest.Response) bool { return true })
			if err != nil {
				t.Fatalf("waiting for %s: %v", want, err)
			}
			if s := string(rs[0].Data); strings.Contains(s, `"reviewStatus":"`+want+`"`) {
				return s
			}
		}
	}
	post(`mutation($id: ID!) { correctOcrInvoiceJob(id: $id, fields: [{path: "invoice.number", value: "INV-2"}]) { id } }`)
	if s := wait("corrected"); !strings.Contains(s, `"dataVersion":2`) || !strings.Contains(s, `"number":"INV-2"`) {
		t.Errorf("correction update %s", s)
	}
	post(`mutation($id: ID!) { approveOcrInvoiceJob(id: $id) { id } }`)
	if s := wait("approved"); !strings.Contains(s, `"dataVersion":3`) {
		t.Errorf("approval update %s", s)
	}
}
