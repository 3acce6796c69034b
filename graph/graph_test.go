package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// logBuffer collects log output so tests can check what internal errors logged.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

type gqlResponse struct {
	Status int
	Data   json.RawMessage `json:"data"`
	Errors []gqlError      `json:"errors"`
}

func (r *gqlResponse) code(i int) string {
	if i >= len(r.Errors) {
		return ""
	}
	c, _ := r.Errors[i].Extensions["code"].(string)
	return c
}

// env is a GraphQL handler over a fresh database. Its requests run as the principal as
// (auth.Local unless changed with as), put into the request context the way the
// server's authentication middleware does; nil: anonymous.
type env struct {
	t   *testing.T
	h   http.Handler
	svc *jobs.Service
	c   *ent.Client
	log *logBuffer
	who *auth.Principal
}

// as returns a copy of e whose requests run as p (nil: anonymous).
func (e *env) as(p *auth.Principal) *env {
	c := *e
	c.who = p
	return &c
}

func newEnv(t *testing.T, c *ent.Client, enq jobs.Enqueuer, cfg graph.Config) *env {
	t.Helper()
	lb := &logBuffer{}
	logger := slog.New(slog.NewTextHandler(lb, nil))
	svc := jobs.NewService(c, enq, jobs.Options{Logger: logger, EnqueueTimeout: 2 * time.Second})
	if err := svc.EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg.Logger = logger
	return &env{t: t, h: graph.NewHandler(svc, cfg), svc: svc, c: c, log: lb, who: &auth.Local}
}

// do POSTs a GraphQL request and decodes the response; any HTTP status is accepted.
func (e *env) do(query string, vars map[string]any) *gqlResponse {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return e.serve(req)
}

func (e *env) serve(req *http.Request) *gqlResponse {
	e.t.Helper()
	w := httptest.NewRecorder()
	if e.who != nil {
		req = req.WithContext(auth.WithPrincipal(req.Context(), *e.who))
	}
	e.h.ServeHTTP(w, req)
	r := &gqlResponse{Status: w.Code}
	if err := json.Unmarshal(w.Body.Bytes(), r); err != nil {
		e.t.Fatalf("decode response (HTTP %d) %q: %v", w.Code, w.Body.String(), err)
	}
	return r
}

// ok runs a request that must succeed and decodes data into out.
func (e *env) ok(query string, vars map[string]any, out any) {
	e.t.Helper()
	r := e.do(query, vars)
	if len(r.Errors) > 0 || r.Status != http.StatusOK {
		e.t.Fatalf("HTTP %d, errors %+v for\n%s", r.Status, r.Errors, query)
	}
	if out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			e.t.Fatalf("decode data %s: %v", r.Data, err)
		}
	}
}

// fails runs a request that must fail with the given extensions.code, and returns it.
func (e *env) fails(query string, vars map[string]any, code string) *gqlResponse {
	e.t.Helper()
	r := e.do(query, vars)
	if len(r.Errors) == 0 {
		e.t.Fatalf("no error, want %s; data %s", code, r.Data)
	}
	for i := range r.Errors {
		if r.code(i) == "" {
			e.t.Errorf("error %+v has no extensions.code", r.Errors[i])
		}
	}
	if r.code(0) != code {
		e.t.Fatalf("code = %q (%+v), want %s", r.code(0), r.Errors, code)
	}
	return r
}

const createJob = `mutation($in: CreateOcrInvoiceJobInput!) {
  createOcrInvoiceJob(input: $in) { id jobNumber documentName documentUrl documentType status priority templateID groupID currency cost retryCount metadata createdAt updatedAt template { name } }
}`

type jobOut struct {
	ID           string         `json:"id"`
	JobNumber    string         `json:"jobNumber"`
	DocumentName string         `json:"documentName"`
	DocumentURL  string         `json:"documentUrl"`
	DocumentType string         `json:"documentType"`
	Status       string         `json:"status"`
	Priority     string         `json:"priority"`
	TemplateID   string         `json:"templateID"`
	GroupID      *string        `json:"groupID"`
	Currency     string         `json:"currency"`
	Cost         float64        `json:"cost"`
	RetryCount   int            `json:"retryCount"`
	Metadata     map[string]any `json:"metadata"`
	CreatedAt    time.Time      `json:"createdAt"`
	Template     struct{ Name string }
}

func jobVars(n string, extra map[string]any) map[string]any {
	in := map[string]any{"jobNumber": n, "documentName": n + ".pdf", "documentUrl": "https://files.example.com/" + n + ".pdf", "template": "generic"}
	for k, v := range extra {
		in[k] = v
	}
	return map[string]any{"in": in}
}

func (e *env) createJob(n string, extra map[string]any) jobOut {
	e.t.Helper()
	var out struct{ CreateOcrInvoiceJob jobOut }
	e.ok(createJob, jobVars(n, extra), &out)
	return out.CreateOcrInvoiceJob
}

func TestCreateJobAndEnqueueContract(t *testing.T) {
	srv := redistest.Start(t)
	q := tasks.NewClient(asynq.RedisClientOpt{Addr: srv.Addr})
	defer q.Close()
	ins := asynq.NewInspector(asynq.RedisClientOpt{Addr: srv.Addr})
	defer ins.Close()
	down := tasks.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: 500 * time.Millisecond})
	defer down.Close()

	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		t.Run("redis up", func(t *testing.T) {
			e := newEnv(t, c, q, graph.Config{})
			j := e.createJob("G-1", map[string]any{"priority": "high", "metadata": map[string]any{"dept": "finance"}, "createdBy": "60f7b1b3e4b0e8b3f8b3f8b6"})
			if j.Status != "queued" || j.DocumentType != "pdf" || j.Priority != "high" || j.Template.Name != "generic" || j.Currency != "USD" || j.Metadata["dept"] != "finance" || len(j.ID) != 24 {
				t.Fatalf("job = %+v", j)
			}
			if j.CreatedAt.Location() != time.UTC {
				t.Errorf("createdAt %v is not UTC", j.CreatedAt)
			}
			if info, err := ins.GetTaskInfo(tasks.QueueHigh, j.ID); err != nil || info.Type != tasks.TypeOCRInvoice {
				t.Fatalf("task = %+v, %v", info, err)
			}
		})
		t.Run("redis down", func(t *testing.T) {
			e := newEnv(t, c, down, graph.Config{})
			j := e.createJob("G-2", nil)
			if j.Status != "created" {
				t.Fatalf("status = %s, want created", j.Status)
			}
			if !strings.Contains(e.log.String(), "enqueue failed") {
				t.Errorf("enqueue failure not logged: %s", e.log.String())
			}
		})
	})
}

func TestMutationErrors(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil, graph.Config{})
		j := e.createJob("E-1", nil)
		count := func() int { return c.OcrInvoiceJob.Query().CountX(context.Background()) }
		before := count()

		r := e.fails(createJob, jobVars("E-1", nil), "CONFLICT")
		if !strings.Contains(r.Errors[0].Message, "E-1") {
			t.Errorf("conflict message %q does not name the jobNumber", r.Errors[0].Message)
		}
		tests := []struct {
			name  string
			vars  map[string]any
			code  string
			field string
		}{
			{"unknown template", jobVars("E-2", map[string]any{"template": "ghost"}), "BAD_USER_INPUT", "template"},
			{"bad url", jobVars("E-3", map[string]any{"documentUrl": "ftp://x/y.pdf"}), "BAD_USER_INPUT", "documentUrl"},
			{"empty jobNumber", jobVars("", nil), "BAD_USER_INPUT", "jobNumber"},
			{"unknown group", jobVars("E-4", map[string]any{"group": "0123456789abcdef01234567"}), "BAD_USER_INPUT", "group"},
			{"bad enum", jobVars("E-5", map[string]any{"priority": "asap"}), "GRAPHQL_VALIDATION_FAILED", ""},
			{"unknown input field", jobVars("E-6", map[string]any{"status": "completed"}), "GRAPHQL_VALIDATION_FAILED", ""},
			{"wrong type", jobVars("E-7", map[string]any{"metadata": "not an object"}), "BAD_USER_INPUT", ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.fails(createJob, tt.vars, tt.code)
				if tt.field != "" {
					details, _ := json.Marshal(r.Errors[0].Extensions["details"])
					if !strings.Contains(string(details), `"field":"`+tt.field+`"`) {
						t.Errorf("details %s do not name %s", details, tt.field)
					}
				}
			})
		}
		if n := count(); n != before {
			t.Fatalf("rejected mutations stored %d jobs", n-before)
		}

		const cancel = `mutation($id: ID!) { cancelOcrInvoiceJob(id: $id) { id status } }`
		const retry = `mutation($id: ID!) { retryOcrInvoiceJob(id: $id) { id status retryCount } }`
		e.fails(retry, map[string]any{"id": j.ID}, "FAILED_PRECONDITION")
		var out struct{ CancelOcrInvoiceJob jobOut }
		e.ok(cancel, map[string]any{"id": j.ID}, &out)
		if out.CancelOcrInvoiceJob.Status != "cancelled" {
			t.Fatalf("cancel -> %s", out.CancelOcrInvoiceJob.Status)
		}
		e.fails(cancel, map[string]any{"id": j.ID}, "FAILED_PRECONDITION")
		var rout struct{ RetryOcrInvoiceJob jobOut }
		e.ok(retry, map[string]any{"id": j.ID}, &rout)
		if rout.RetryOcrInvoiceJob.Status != "created" || rout.RetryOcrInvoiceJob.RetryCount != 1 {
			t.Fatalf("retry -> %+v (no enqueuer: stays created)", rout.RetryOcrInvoiceJob)
		}
		e.fails(cancel, map[string]any{"id": "0123456789abcdef01234567"}, "NOT_FOUND")
		e.fails(cancel, map[string]any{"id": "nope"}, "BAD_USER_INPUT")
	})
}

func TestUpdateJobPatch(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil, graph.Config{})
		j := e.createJob("P-1", map[string]any{"createdBy": "alice", "metadata": map[string]any{"a": 1}})
		e.createJob("P-2", nil)
		const update = `mutation($id: ID!, $in: UpdateOcrInvoiceJobInput!) { updateOcrInvoiceJob(id: $id, input: $in) { id jobNumber documentName createdBy priority metadata status } }`
		var out struct {
			UpdateOcrInvoiceJob struct {
				JobNumber, DocumentName, Priority, Status string
				CreatedBy                                 *string
				Metadata                                  map[string]any
			}
		}
		e.ok(update, map[string]any{"id": j.ID, "in": map[string]any{"documentName": "renamed.pdf", "priority": "urgent", "clearMetadata": true}}, &out)
		got := out.UpdateOcrInvoiceJob
		if got.DocumentName != "renamed.pdf" || got.Priority != "urgent" || got.JobNumber != "P-1" || got.CreatedBy == nil || *got.CreatedBy != "alice" || got.Metadata != nil {
			t.Fatalf("patched job = %+v", got)
		}
		e.fails(update, map[string]any{"id": j.ID, "in": map[string]any{"jobNumber": "P-2"}}, "CONFLICT")
		e.fails(update, map[string]any{"id": j.ID, "in": map[string]any{"documentUrl": "not a url"}}, "BAD_USER_INPUT")
		if _, err := e.svc.StartProcessing(context.Background(), j.ID); err != nil {
			t.Fatal(err)
		}
		e.fails(update, map[string]any{"id": j.ID, "in": map[string]any{"documentUrl": "https://x.example/new.pdf"}}, "FAILED_PRECONDITION")
	})
}

func TestQueries(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil, graph.Config{})
		ctx := context.Background()
		var made []jobOut
		for i := 0; i < 5; i++ {
			extra := map[string]any{}
			if i%2 == 0 {
				extra["priority"] = "low"
			}
			made = append(made, e.createJob(fmt.Sprintf("Q-%d", i), extra))
		}
		// Complete one job so that results and search over extracted data have something.
		done := made[2]
		if _, err := e.svc.StartProcessing(ctx, done.ID); err != nil {
			t.Fatal(err)
		}
		total := 42.5
		if _, err := e.svc.Complete(ctx, done.ID, jobs.CompleteInput{Pages: 1,
			ExtractedData: &invoice.ExtractedData{Invoice: invoice.Invoice{Number: "INV-777", Supplier: invoice.Supplier{Name: "Globex Ltd", Email: "billing@globex.example"},
				Amounts:      invoice.Amounts{Total: &total, Currency: "EUR", Discount: invoice.Float(2.5)},
				DocumentType: invoice.DocInvoice, AmountDue: invoice.Float(40),
				TaxBreakdown:  []invoice.TaxRate{{Rate: invoice.Float(19), Base: invoice.Float(30), Amount: invoice.Float(5.7)}},
				ServicePeriod: invoice.Period{From: "2024-01-01", To: "2024-01-31"},
				References:    []invoice.Reference{{Kind: invoice.RefContract, Value: "C-1"}},
				Payment:       invoice.Payment{IBAN: "DE89370400440532013000"}},
				LineItems: []invoice.LineItem{{Description: "Widget", Quantity: invoice.Float(2)}}},
			Confidence:        &invoice.Confidence{Overall: 0.8, Fields: map[string]float64{"invoice.number": 0.9, "invoice.date": 0.5}},
			ValidationResults: &invoice.ValidationResults{IsValid: false, Errors: []invoice.ValidationError{{Field: "invoice.date", Message: "missing", Severity: invoice.SeverityError}}},
		}); err != nil {
			t.Fatal(err)
		}

		t.Run("ocrInvoiceJob and results", func(t *testing.T) {
			var out struct {
				OcrInvoiceJob struct {
					Status        string
					Progress      struct{ Percentage int }
					ExtractedData struct {
						Invoice struct {
							Number   string
							Supplier struct{ Name string }
							Amounts  struct {
								Total    *float64
								Subtotal *float64
							}
						}
						LineItems []struct {
							Description string
							UnitPrice   *float64
						}
					}
					Confidence struct {
						Overall float64
						Fields  []struct {
							Field string
							Value float64
						}
					}
				}
				OcrInvoiceJobResults struct {
					ValidationResults struct {
						IsValid bool
						Errors  []struct{ Field, Severity string }
					}
					ProcessingTime *float64
				}
			}
			e.ok(`query($id: ID!) {
  ocrInvoiceJob(id: $id) { status progress { percentage } extractedData { invoice { number supplier { name } amounts { total subtotal } } lineItems { description unitPrice } } confidence { overall fields { field value } } }
  ocrInvoiceJobResults(id: $id) { validationResults { isValid errors { field severity } } processingTime }
}`, map[string]any{"id": done.ID}, &out)
			j := out.OcrInvoiceJob
			if j.Status != "completed" || j.Progress.Percentage != 100 || j.ExtractedData.Invoice.Number != "INV-777" || *j.ExtractedData.Invoice.Amounts.Total != 42.5 || j.ExtractedData.Invoice.Amounts.Subtotal != nil {
				t.Fatalf("job = %+v", j)
			}
			if len(j.Confidence.Fields) != 2 || j.Confidence.Fields[0].Field != "invoice.date" {
				t.Errorf("confidence fields = %+v, want 2 sorted by path", j.Confidence.Fields)
			}
			res := out.OcrInvoiceJobResults
			if res.ValidationResults.IsValid || res.ValidationResults.Errors[0].Severity != "error" || res.ProcessingTime == nil {
				t.Errorf("results = %+v", res)
			}
		})

		t.Run("wider invoice fields", func(t *testing.T) {
			var out struct {
				OcrInvoiceJob struct {
					ExtractedData struct {
						Invoice struct {
							DocumentType  string
							AmountDue     *float64
							Amounts       struct{ Discount *float64 }
							TaxBreakdown  []struct{ Rate, Base, Amount *float64 }
							ServicePeriod struct{ From, To string }
							PurchaseOrder string
							References    []struct{ Kind, Value string }
							Payment       struct {
								Iban    string
								DueDays *int
							}
							Supplier struct{ Email, Phone string }
							Customer struct{ TaxID string }
						}
					}
				}
			}
			e.ok(`query($id: ID!) { ocrInvoiceJob(id: $id) { extractedData { invoice {
  documentType amountDue amounts { discount } taxBreakdown { rate base amount } servicePeriod { from to } purchaseOrder
  references { kind value } payment { iban bic terms dueDays } supplier { email phone website } customer { taxId } } } } }`,
				map[string]any{"id": done.ID}, &out)
			inv := out.OcrInvoiceJob.ExtractedData.Invoice
			if inv.DocumentType != "invoice" || *inv.AmountDue != 40 || *inv.Amounts.Discount != 2.5 || len(inv.TaxBreakdown) != 1 || *inv.TaxBreakdown[0].Amount != 5.7 ||
				inv.ServicePeriod.To != "2024-01-31" || inv.PurchaseOrder != "" || len(inv.References) != 1 || inv.References[0].Kind != "contract" ||
				inv.Payment.Iban != "DE89370400440532013000" || inv.Payment.DueDays != nil || inv.Supplier.Email != "billing@globex.example" {
				t.Errorf("invoice = %+v", inv)
			}
		})

		t.Run("node and nodes", func(t *testing.T) {
			grp, err := e.svc.CreateGroup(ctx, jobs.GroupInput{Name: "batch"})
			if err != nil {
				t.Fatal(err)
			}
			var out struct {
				Node  map[string]any
				Nodes []map[string]any
			}
			e.ok(`query($id: ID!, $ids: [ID!]!) {
  node(id: $id) { __typename id ... on OcrInvoiceJob { jobNumber } }
  nodes(ids: $ids) { __typename id ... on OcrTemplate { name } ... on OcrJobGroup { name } }
}`, map[string]any{"id": made[0].ID, "ids": []string{made[0].TemplateID, grp.ID}}, &out)
			if out.Node["__typename"] != "OcrInvoiceJob" || out.Node["jobNumber"] != "Q-0" {
				t.Errorf("node = %v", out.Node)
			}
			if len(out.Nodes) != 2 || out.Nodes[0]["name"] != "generic" || out.Nodes[1]["__typename"] != "OcrJobGroup" {
				t.Errorf("nodes = %v", out.Nodes)
			}
			e.fails(`{ node(id: "0123456789abcdef01234567") { id } }`, nil, "NOT_FOUND")
			e.fails(`{ node(id: "bogus") { id } }`, nil, "BAD_USER_INPUT")
			e.fails(`{ ocrInvoiceJob(id: "0123456789abcdef01234567") { id } }`, nil, "NOT_FOUND")
		})

		type conn struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   *string
			}
			Edges []struct {
				Node struct{ JobNumber string }
			}
		}
		list := func(t *testing.T, args string, vars map[string]any) (conn, []string) {
			t.Helper()
			var out struct{ OcrInvoiceJobs conn }
			e.ok(`query($after: Cursor) { ocrInvoiceJobs(`+args+`) { totalCount pageInfo { hasNextPage endCursor } edges { node { jobNumber } } } }`, vars, &out)
			var nums []string
			for _, ed := range out.OcrInvoiceJobs.Edges {
				nums = append(nums, ed.Node.JobNumber)
			}
			return out.OcrInvoiceJobs, nums
		}
		t.Run("pagination", func(t *testing.T) {
			c1, nums := list(t, `first: 2, after: $after, orderBy: [{field: JOB_NUMBER, direction: ASC}]`, nil)
			if c1.TotalCount != 5 || !c1.PageInfo.HasNextPage || strings.Join(nums, ",") != "Q-0,Q-1" {
				t.Fatalf("page 1 = %+v %v", c1, nums)
			}
			c2, nums := list(t, `first: 2, after: $after, orderBy: [{field: JOB_NUMBER, direction: ASC}]`, map[string]any{"after": *c1.PageInfo.EndCursor})
			if strings.Join(nums, ",") != "Q-2,Q-3" || !c2.PageInfo.HasNextPage {
				t.Fatalf("page 2 = %v", nums)
			}
			c3, nums := list(t, `first: 2, after: $after, orderBy: [{field: JOB_NUMBER, direction: ASC}]`, map[string]any{"after": *c2.PageInfo.EndCursor})
			if strings.Join(nums, ",") != "Q-4" || c3.PageInfo.HasNextPage {
				t.Fatalf("page 3 = %v", nums)
			}
			_, nums = list(t, `last: 2, after: $after, orderBy: [{field: JOB_NUMBER, direction: ASC}]`, nil)
			if strings.Join(nums, ",") != "Q-3,Q-4" {
				t.Fatalf("last 2 = %v", nums)
			}
			_, nums = list(t, `after: $after, orderBy: [{field: JOB_NUMBER, direction: DESC}]`, nil)
			if strings.Join(nums, ",") != "Q-4,Q-3,Q-2,Q-1,Q-0" {
				t.Fatalf("desc = %v", nums)
			}
			e.fails(`{ ocrInvoiceJobs(first: 101) { totalCount } }`, nil, "BAD_USER_INPUT")
			e.fails(`{ ocrInvoiceJobs(first: -1) { totalCount } }`, nil, "BAD_USER_INPUT")
			e.fails(`{ ocrInvoiceJobs(first: 1, last: 1) { totalCount } }`, nil, "BAD_USER_INPUT")
			e.fails(`{ ocrInvoiceJobs(first: 1, after: "garbage") { totalCount } }`, nil, "BAD_USER_INPUT")
			e.fails(`{ ocrInvoiceJobs(orderBy: [{field: NOPE}]) { totalCount } }`, nil, "GRAPHQL_VALIDATION_FAILED")
		})
		t.Run("where and search", func(t *testing.T) {
			tests := []struct {
				where string
				want  string
			}{
				{`{priority: low}`, "Q-0,Q-2,Q-4"},
				{`{status: completed}`, "Q-2"},
				{`{statusIn: [created, queued]}`, "Q-0,Q-1,Q-3,Q-4"},
				{`{jobNumberHasPrefix: "Q-1"}`, "Q-1"},
				{`{search: "globex"}`, "Q-2"},
				{`{search: "inv-777"}`, "Q-2"},
				{`{search: "q-3"}`, "Q-3"},
				{`{search: "q", priority: medium}`, "Q-1,Q-3"},
				{`{or: [{search: "Q-1"}, {search: "GLOBEX"}]}`, "Q-1,Q-2"},
				{`{not: {priority: low}}`, "Q-1,Q-3"},
				{`{hasTemplateWith: {name: "generic"}, search: "nothing-like-this"}`, ""},
			}
			for _, tt := range tests {
				t.Run(tt.where, func(t *testing.T) {
					c, nums := list(t, `after: $after, where: `+tt.where+`, orderBy: [{field: JOB_NUMBER}]`, nil)
					if got := strings.Join(nums, ","); got != tt.want || c.TotalCount != len(nums) {
						t.Errorf("got %q (total %d), want %q", got, c.TotalCount, tt.want)
					}
				})
			}
		})
		t.Run("templates and groups lists", func(t *testing.T) {
			var out struct {
				OcrTemplates struct {
					TotalCount int
					Edges      []struct{ Node struct{ Name string } }
				}
				OcrJobGroups struct{ TotalCount int }
				OcrTemplate  struct{ Name string }
			}
			e.ok(`{ ocrTemplates(where: {search: "GENER"}, orderBy: [{field: NAME, direction: DESC}]) { totalCount edges { node { name } } }
  ocrJobGroups(where: {search: "batch"}) { totalCount }
  ocrTemplate(id: "generic") { name } }`, nil, &out)
			if out.OcrTemplates.TotalCount != 1 || out.OcrTemplates.Edges[0].Node.Name != "generic" || out.OcrJobGroups.TotalCount != 1 || out.OcrTemplate.Name != "generic" {
				t.Fatalf("out = %+v", out)
			}
		})
	})
}

func TestTemplateAndGroupMutations(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil, graph.Config{})
		var out struct {
			CreateOcrTemplate struct {
				ID, Name, Languages string
				Dpi                 int
				Spec                invoice.TemplateSpec
			}
		}
		e.ok(`mutation($spec: TemplateSpec) { createOcrTemplate(input: {name: "acme", languages: "eng+deu", dpi: 200, spec: $spec}) { id name languages dpi spec } }`,
			map[string]any{"spec": map[string]any{"issuer": "ACME", "keywords": []string{"ACME Corp"}, "fields": map[string]any{"invoice_number": map[string]any{"regex": []string{`No\.\s*(\d+)`}}}}}, &out)
		tpl := out.CreateOcrTemplate
		if tpl.Languages != "eng+deu" || tpl.Dpi != 200 || tpl.Spec.Issuer != "ACME" || tpl.Spec.Fields["invoice_number"].Regex[0] != `No\.\s*(\d+)` {
			t.Fatalf("template = %+v", tpl)
		}
		e.fails(`mutation { createOcrTemplate(input: {name: "acme"}) { id } }`, nil, "CONFLICT")
		e.fails(`mutation { createOcrTemplate(input: {name: "x", spec: {keywrds: ["typo"]}}) { id } }`, nil, "BAD_USER_INPUT")
		e.fails(`mutation { createOcrTemplate(input: {name: "x", dpi: 5}) { id } }`, nil, "BAD_USER_INPUT")

		var up struct {
			UpdateOcrTemplate struct{ Name, Languages string }
		}
		e.ok(`mutation($id: ID!) { updateOcrTemplate(id: $id, input: {languages: "fra"}) { name languages } }`, map[string]any{"id": tpl.ID}, &up)
		if up.UpdateOcrTemplate.Name != "acme" || up.UpdateOcrTemplate.Languages != "fra" {
			t.Fatalf("updated template = %+v", up)
		}
		e.fails(`mutation { updateOcrTemplate(id: "generic", input: {name: "renamed"}) { id } }`, nil, "FAILED_PRECONDITION")

		// The operation is one transaction: the second mutation's conflict undoes the first.
		e.fails(`mutation { a: createOcrTemplate(input: {name: "tx-1"}) { id } b: createOcrTemplate(input: {name: "acme"}) { id } }`, nil, "CONFLICT")
		if _, err := e.svc.GetTemplate(context.Background(), "tx-1"); err == nil {
			t.Fatal("template of a failed operation was committed")
		}

		var g struct {
			CreateOcrJobGroup struct {
				ID   string
				Spec struct {
					Parallelism int
					Template    string
					Priority    string
				}
				Status struct {
					Phase      string
					Conditions []any
				}
			}
		}
		e.ok(`mutation { createOcrJobGroup(input: {name: "batch", spec: {parallelism: 3, template: "acme", priority: "high"}}) { id spec { parallelism template priority } status { phase conditions { type } } } }`, nil, &g)
		if g.CreateOcrJobGroup.Spec.Parallelism != 3 || g.CreateOcrJobGroup.Spec.Template != tpl.ID || g.CreateOcrJobGroup.Status.Phase != "Pending" {
			t.Fatalf("group = %+v", g)
		}
		var ug struct{ UpdateOcrJobGroup struct{ Name string } }
		e.ok(`mutation($id: ID!) { updateOcrJobGroup(id: $id, input: {name: "renamed"}) { name } }`, map[string]any{"id": g.CreateOcrJobGroup.ID}, &ug)
		if ug.UpdateOcrJobGroup.Name != "renamed" {
			t.Fatalf("group update = %+v", ug)
		}
		e.fails(`mutation { createOcrJobGroup(input: {name: "b", spec: {parallelism: -1}}) { id } }`, nil, "BAD_USER_INPUT")
		// A job can join the group through GraphQL.
		j := e.createJob("GRP-1", map[string]any{"group": g.CreateOcrJobGroup.ID, "template": tpl.ID})
		if j.GroupID == nil || *j.GroupID != g.CreateOcrJobGroup.ID {
			t.Fatalf("job group = %v", j.GroupID)
		}

		// A batch: the group and its jobs in one call, nothing at all on a bad entry.
		var b struct {
			CreateOcrJobGroup struct {
				ID     string
				Status struct{ Total int }
				Jobs   struct {
					TotalCount int
					Edges      []struct {
						Node struct{ JobNumber, Status, Priority string }
					}
				}
			}
		}
		docs := []map[string]any{
			{"documentUrl": "https://files.example.com/a.pdf", "documentName": "a.pdf"},
			{"documentUrl": "https://files.example.com/b.pdf", "documentName": "b.pdf", "jobNumber": "BATCH-B", "metadata": map[string]any{"k": "v"}},
		}
		e.ok(`mutation($docs: [OcrJobGroupDocumentInput!]) { createOcrJobGroup(input: {name: "batch-2", spec: {priority: "urgent"}, documents: $docs}) { id status { total } jobs { totalCount edges { node { jobNumber status priority } } } } }`,
			map[string]any{"docs": docs}, &b)
		if b.CreateOcrJobGroup.Status.Total != 2 || b.CreateOcrJobGroup.Jobs.TotalCount != 2 {
			t.Fatalf("batch = %+v", b)
		}
		for _, ed := range b.CreateOcrJobGroup.Jobs.Edges {
			if ed.Node.Status != "created" || ed.Node.Priority != "urgent" {
				t.Errorf("batch job %+v", ed.Node)
			}
		}
		docs[0]["documentUrl"] = "nope"
		e.fails(`mutation($docs: [OcrJobGroupDocumentInput!]) { createOcrJobGroup(input: {name: "batch-3", documents: $docs}) { id } }`, map[string]any{"docs": docs}, "BAD_USER_INPUT")
		docs[0]["documentUrl"] = "https://files.example.com/c.pdf"
		e.fails(`mutation($docs: [OcrJobGroupDocumentInput!]) { createOcrJobGroup(input: {name: "batch-3", documents: $docs}) { id } }`, map[string]any{"docs": docs}, "CONFLICT")
		id := map[string]any{"id": b.CreateOcrJobGroup.ID}
		var sp struct {
			SuspendOcrJobGroup struct{ Spec struct{ Suspend bool } }
			ResumeOcrJobGroup  struct{ Spec struct{ Suspend bool } }
		}
		e.ok(`mutation($id: ID!) { suspendOcrJobGroup(id: $id) { spec { suspend } } }`, id, &sp)
		e.ok(`mutation($id: ID!) { resumeOcrJobGroup(id: $id) { spec { suspend } } }`, id, &sp)
		if !sp.SuspendOcrJobGroup.Spec.Suspend || sp.ResumeOcrJobGroup.Spec.Suspend {
			t.Errorf("suspend/resume = %+v", sp)
		}
		var cr struct {
			CancelOcrJobGroup      struct{ ID string }
			RetryFailedOcrJobGroup struct {
				Jobs struct {
					Edges []struct{ Node struct{ Status string } }
				}
			}
		}
		e.ok(`mutation($id: ID!) { cancelOcrJobGroup(id: $id) { id } }`, id, &cr)
		e.ok(`mutation($id: ID!) { retryFailedOcrJobGroup(id: $id) { jobs { edges { node { status } } } } }`, id, &cr)
		for _, ed := range cr.RetryFailedOcrJobGroup.Jobs.Edges {
			if ed.Node.Status != "created" {
				t.Errorf("after cancel and retry-failed: %+v", ed.Node)
			}
		}
	})
}

func TestServerLimitsAndTransports(t *testing.T) {
	c := databasetest.Open(t)
	e := newEnv(t, c, nil, graph.Config{DepthLimit: 4, ComplexityLimit: 60, MaxAliases: 100})
	t.Run("GET query", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(`{ ocrTemplates { totalCount } }`), nil)
		r := e.serve(req)
		if r.Status != http.StatusOK || len(r.Errors) != 0 || !strings.Contains(string(r.Data), `"totalCount":1`) {
			t.Fatalf("GET = %d %s %+v", r.Status, r.Data, r.Errors)
		}
	})
	t.Run("mutation over GET is refused", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(`mutation { createOcrTemplate(input: {name: "g"}) { id } }`), nil)
		if r := e.serve(req); len(r.Errors) == 0 {
			t.Fatal("mutation over GET was accepted")
		}
	})
	t.Run("depth limit", func(t *testing.T) {
		r := e.fails(`{ ocrInvoiceJobs { edges { node { template { jobs { totalCount } } } } } }`, nil, "DEPTH_LIMIT_EXCEEDED")
		_ = r
		e.ok(`{ ocrInvoiceJobs(first: 5) { edges { node { id } } } }`, nil, nil)
	})
	t.Run("depth limit sees through fragments", func(t *testing.T) {
		e.fails(`query { ocrInvoiceJobs { ...A } } fragment A on OcrInvoiceJobConnection { edges { node { template { id } } } }`, nil, "DEPTH_LIMIT_EXCEEDED")
	})
	t.Run("complexity limit", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("{")
		for i := 0; i < 70; i++ {
			fmt.Fprintf(&b, " a%d: ocrTemplates { totalCount }", i)
		}
		b.WriteString(" }")
		e.fails(b.String(), nil, "COMPLEXITY_LIMIT_EXCEEDED")
	})
	t.Run("introspection off by default", func(t *testing.T) {
		r := e.do(`{ __schema { queryType { name } } }`, nil)
		if len(r.Errors) == 0 {
			t.Fatal("introspection answered while disabled")
		}
		on := newEnv(t, c, nil, graph.Config{Introspection: true})
		on.ok(`{ __schema { queryType { name } } }`, nil, nil)
	})
	t.Run("oversized body is refused", func(t *testing.T) {
		big := `{"query":"{ ocrTemplates { totalCount } }","variables":{"pad":"` + strings.Repeat("x", 2*graph.MaxRequestBytes) + `"}}`
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(big))
		req.Header.Set("Content-Type", "application/json")
		r := e.serve(req)
		if r.Status != http.StatusRequestEntityTooLarge || r.code(0) != "TOO_LARGE" {
			t.Fatalf("oversized body: HTTP %d, errors %+v", r.Status, r.Errors)
		}
	})
	t.Run("malformed JSON", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query": `))
		req.Header.Set("Content-Type", "application/json")
		r := e.serve(req)
		if r.Status != http.StatusBadRequest || r.code(0) != "BAD_REQUEST" {
			t.Fatalf("malformed JSON: HTTP %d, errors %+v", r.Status, r.Errors)
		}
	})
	t.Run("syntax error", func(t *testing.T) {
		e.fails(`{ ocrInvoiceJobs { `, nil, "GRAPHQL_PARSE_FAILED")
	})
	t.Run("unknown field", func(t *testing.T) {
		e.fails(`{ ocrInvoiceJobs { nope } }`, nil, "GRAPHQL_VALIDATION_FAILED")
	})
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	c := databasetest.Open(t)
	e := newEnv(t, c, nil, graph.Config{})
	// Break the database underneath the service.
	if _, err := c.ExecContext(context.Background(), "DROP TABLE ocr_invoice_jobs"); err != nil {
		t.Fatal(err)
	}
	r := e.fails(`{ ocrInvoiceJobs { totalCount } }`, nil, "INTERNAL")
	if r.Errors[0].Message != "internal error" {
		t.Errorf("message = %q, want \"internal error\"", r.Errors[0].Message)
	}
	if body, _ := json.Marshal(r.Errors); strings.Contains(string(body), "no such table") {
		t.Errorf("response leaks the cause: %s", body)
	}
	if !strings.Contains(e.log.String(), "no such table") {
		t.Errorf("cause not logged: %s", e.log.String())
	}
}

// TestSchemaNames pins the names clients code against: entgql's input, order and enum
// names and the hand-written query and mutation fields.
func TestSchemaNames(t *testing.T) {
	e := newEnv(t, databasetest.Open(t), nil, graph.Config{Introspection: true})
	var out struct {
		Schema struct {
			Types []struct {
				Name        string
				Fields      []struct{ Name string }
				EnumValues  []struct{ Name string }
				InputFields []struct{ Name string }
			}
		} `json:"__schema"`
	}
	e.ok(`{ __schema { types { name fields { name } enumValues { name } inputFields { name } } } }`, nil, &out)
	names := map[string][]string{}
	for _, ty := range out.Schema.Types {
		var members []string
		for _, f := range ty.Fields {
			members = append(members, f.Name)
		}
		for _, v := range ty.EnumValues {
			members = append(members, v.Name)
		}
		for _, f := range ty.InputFields {
			members = append(members, f.Name)
		}
		names[ty.Name] = members
	}
	want := map[string][]string{
		"Query":                    {"node", "nodes", "ocrInvoiceJobs", "ocrTemplates", "ocrJobGroups", "ocrInvoiceJob", "ocrInvoiceJobResults"},
		"Mutation":                 {"createOcrInvoiceJob", "updateOcrInvoiceJob", "cancelOcrInvoiceJob", "retryOcrInvoiceJob", "createOcrTemplate", "updateOcrTemplate", "createOcrJobGroup", "updateOcrJobGroup", "uploadDocument"},
		"UploadedDocument":         {"documentUrl", "sha256", "size", "documentName", "documentType"},
		"CreateOcrInvoiceJobInput": {"jobNumber", "documentName", "documentUrl", "documentType", "template", "group", "priority", "createdBy", "metadata", "callbackUrl"},
		"OcrInvoiceJobOrderField":  {"CREATED_AT", "UPDATED_AT", "JOB_NUMBER", "STATUS", "PRIORITY"},
		"OcrInvoiceJobStatus":      {"created", "queued", "processing", "completed", "failed", "cancelled"},
		"OcrInvoiceJobPriority":    {"low", "medium", "high", "urgent"},
		"OcrInvoiceJobWhereInput":  {"search", "status", "priorityIn", "jobNumberContainsFold"},
		"OcrInvoiceJobConnection":  {"totalCount", "pageInfo", "edges"},
		"OcrInvoiceJob":            {"id", "jobNumber", "progress", "extractedData", "confidence", "validationResults", "cost", "currency", "errorLog", "retryCount", "createdAt", "updatedAt"},
	}
	for typ, members := range want {
		have := strings.Join(names[typ], " ")
		for _, m := range members {
			if !strings.Contains(" "+have+" ", " "+m+" ") {
				t.Errorf("%s has no %s (has: %s)", typ, m, have)
			}
		}
	}
	// Server-owned fields are not client input.
	for _, m := range names["CreateOcrInvoiceJobInput"] {
		if m == "status" || m == "cost" || m == "extractedData" || m == "createdAt" {
			t.Errorf("CreateOcrInvoiceJobInput exposes server-owned %s", m)
		}
	}
}
