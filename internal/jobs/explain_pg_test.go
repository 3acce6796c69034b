package jobs

import (
	"context"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// explainJobs is the number of jobs TestListPlansPostgres seeds: enough that
// PostgreSQL's planner prefers an index wherever one serves, as it would at 1M.
const explainJobs = 50_000

// seedPostgresJobs inserts n jobs with one INSERT ... SELECT over generate_series: 20
// owners ("team-0".."team-19"), the six statuses in turn, a minute apart, with
// extracted invoice numbers and supplier names and their extracted data; then ANALYZE.
func seedPostgresJobs(t testing.TB, c *ent.Client, n int) {
	t.Helper()
	ctx := context.Background()
	tpl := c.OcrTemplate.Create().SetName("explain").SaveX(ctx)
	_, err := c.ExecContext(ctx, `INSERT INTO ocr_invoice_jobs (id, created_at, updated_at, job_number, document_name,
		document_url, progress, template_id, status, created_by, invoice_number, supplier_name, customer_name, extracted_data)
	SELECT lpad(to_hex(i), 24, '0'), ts, ts, 'J-' || lpad(i::text, 7, '0'), 'invoice-' || i || '.pdf',
		'https://files.example.com/' || i || '.pdf', '{}', $1,
		(ARRAY['created','queued','processing','completed','failed','cancelled'])[i % 6 + 1], 'team-' || (i % 20),
		'INV-' || i, 'Supplier ' || (i % 500) || ' GmbH', 'Customer ' || (i % 2000) || ' AG',
		jsonb_build_object('invoice', jsonb_build_object('number', 'INV-' || i,
			'supplier', jsonb_build_object('name', 'Supplier ' || (i % 500) || ' GmbH'),
			'amounts', jsonb_build_object('total', 100 + i % 900)))
	FROM generate_series(1, $2::int) AS i, LATERAL (SELECT timestamptz '2024-01-01' + i * interval '1 minute' AS ts) AS t`,
		tpl.ID, n)
	if err != nil {
		t.Fatalf("seed %d jobs: %v", n, err)
	}
	if _, err := c.ExecContext(ctx, `ANALYZE ocr_invoice_jobs`); err != nil {
		t.Fatal(err)
	}
}

// explain returns PostgreSQL's plan of the SQL that q runs.
func explain(t *testing.T, ctx context.Context, c *ent.Client, q *ent.OcrInvoiceJobQuery, count bool) string {
	t.Helper()
	var plan []string
	_, err := q.Modify(func(s *sql.Selector) {
		text, args := s.Clone().Query()
		if count {
			text = "SELECT COUNT(*) FROM (" + text + ") AS counted"
		}
		rows, err := c.QueryContext(ctx, "EXPLAIN "+text, args...)
		if err != nil {
			t.Fatalf("explain %s %v: %v", text, args, err)
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, line)
		}
		s.Where(sql.False()) // the query itself need not read rows
	}).All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) == 0 {
		t.Fatal("no plan")
	}
	return strings.Join(plan, "\n")
}

// TestListPlansPostgres: with 50,000 jobs, the common list queries (an owner's list,
// by status, sorted by createdAt both ways, searched, filtered on an extracted value)
// and their counts are planned without a sequential scan of the jobs table, and the
// indexes meant for them are used: the owner and status list indexes, the pg_trgm
// index of search, the GIN index of extracted data. The totals of unfiltered and
// status-filtered lists read the counters, not the jobs.
func TestListPlansPostgres(t *testing.T) {
	c := databasetest.OpenPostgres(t)
	svc := NewService(c, nil, Options{}) // installs the owner scope
	start := time.Now()
	seedPostgresJobs(t, c, explainJobs)
	t.Logf("seeded %d jobs in %v", explainJobs, time.Since(start))
	ctx := context.Background()
	owner := auth.WithPrincipal(ctx, auth.Principal{Role: auth.RoleSubmitter, Owner: "team-7"})
	byCreated := []ocrinvoicejob.OrderOption{ocrinvoicejob.ByCreatedAt(sql.OrderDesc()), ocrinvoicejob.ByID(sql.OrderDesc())}
	asc, err := JobOrder("createdAt", "asc")
	if err != nil {
		t.Fatal(err)
	}
	asc = append(asc, ocrinvoicejob.ByID(sql.OrderDesc()))
	filter := func(f, search string) []predicate.OcrInvoiceJob {
		where, err := svc.JobFilter(f, search)
		if err != nil {
			t.Fatal(err)
		}
		return where
	}
	for _, tc := range []struct {
		name  string
		ctx   context.Context
		where []predicate.OcrInvoiceJob
		order []ocrinvoicejob.OrderOption
		count bool   // the count of the list rather than its page
		uses  string // an index the plan must name
	}{
		{"owner's list", owner, nil, byCreated, false, ""},
		{"owner's list ascending", owner, nil, asc, false, ""},
		{"owner's list by status", owner, filter(`{"status":"failed"}`, ""), byCreated, false, "ocrinvoicejob_created_by_status_created_at_id"},
		{"list by status", ctx, filter(`{"status":"failed"}`, ""), byCreated, false, ""},
		{"list", ctx, nil, byCreated, false, "ocrinvoicejob_created_at"},
		{"owner's search", owner, filter("", "INV-4242"), byCreated, false, database.JobSearchTrigramIndex},
		{"owner's search count", owner, filter("", "INV-4242"), nil, true, database.JobSearchTrigramIndex},
		{"search", ctx, filter("", "supplier 42 gmbh"), byCreated, false, ""},
		{"search count", ctx, filter("", "supplier 42 gmbh"), nil, true, database.JobSearchTrigramIndex},
		{"extractedData count", ctx, filter(`{"extractedData.invoice.number":"INV-4242"}`, ""), nil, true, database.JobExtractedDataIndex},
		{"extractedData and owner", owner, filter(`{"extractedData.invoice.supplier.name":"Supplier 7 GmbH"}`, ""), byCreated, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := c.OcrInvoiceJob.Query().Where(tc.where...)
			if !tc.count {
				q = q.Order(tc.order...).Limit(51)
			}
			plan := explain(t, tc.ctx, c, q, tc.count)
			if strings.Contains(plan, "Seq Scan on ocr_invoice_jobs") {
				t.Errorf("sequential scan of the jobs table:\n%s", plan)
			}
			if tc.uses != "" && !strings.Contains(plan, tc.uses) {
				t.Errorf("the plan does not use %s:\n%s", tc.uses, plan)
			}
		})
	}
	// The counted totals: read from the counters, exact.
	for _, tc := range []struct {
		ctx      context.Context
		statuses []string
		want     int
	}{{ctx, nil, explainJobs}, {owner, nil, explainJobs / 20}, {owner, []string{"failed", "queued"}, 834}} {
		page, err := svc.ListJobPage(tc.ctx, ListJobsParams{Limit: 1, Counted: true, Statuses: tc.statuses,
			Where: filter(map[bool]string{true: `{"status":{"$in":["failed","queued"]}}`}[tc.statuses != nil], "")})
		if err != nil {
			t.Fatal(err)
		}
		want := c.OcrInvoiceJob.Query().Where(filter(map[bool]string{true: `{"status":{"$in":["failed","queued"]}}`}[tc.statuses != nil], "")...).CountX(tc.ctx)
		if page.Total != want || want != tc.want {
			t.Errorf("counted total %d, rows %d, want %d", page.Total, want, tc.want)
		}
	}
}
