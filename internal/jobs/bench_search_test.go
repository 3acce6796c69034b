package jobs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// envBenchJobs names the variable that enables BenchmarkSearchCountScale and sets its
// number of jobs (`make bench-scale` sets 1000000).
const envBenchJobs = "OCRINVOICE_BENCH_JOBS"

// seedSQLiteJobs is seedPostgresJobs for SQLite: one INSERT ... SELECT over a recursive
// series (the search and counter triggers run for each row, as for any insert).
func seedSQLiteJobs(tb testing.TB, c *ent.Client, n int) {
	tb.Helper()
	ctx := context.Background()
	tpl := c.OcrTemplate.Create().SetName("bench-search").SaveX(ctx)
	_, err := c.ExecContext(ctx, `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
	INSERT INTO ocr_invoice_jobs (id, created_at, updated_at, job_number, document_name, document_url, progress,
		template_id, status, priority, review_status, data_version, cost, currency, retry_count, task_run,
		created_by, invoice_number, supplier_name, customer_name, extracted_data)
	SELECT printf('%024x', i), datetime('2024-01-01', '+' || i || ' minutes'), datetime('2024-01-01', '+' || i || ' minutes'),
		'J-' || printf('%07d', i), 'invoice-' || i || '.pdf', 'https://files.example.com/' || i || '.pdf', '{}', ?,
		(CASE i % 6 WHEN 0 THEN 'created' WHEN 1 THEN 'queued' WHEN 2 THEN 'processing' WHEN 3 THEN 'completed'
			WHEN 4 THEN 'failed' ELSE 'cancelled' END), 'medium', 'unreviewed', 0, 0, 'USD', 0, 0,
		'team-' || (i % 20), 'INV-' || i, 'Supplier ' || (i % 500) || ' GmbH', 'Customer ' || (i % 2000) || ' AG',
		json_object('invoice', json_object('number', 'INV-' || i, 'supplier', json_object('name', 'Supplier ' || (i % 500) || ' GmbH'),
			'amounts', json_object('total', 100 + i % 900)))
	FROM s`, n, tpl.ID)
	if err != nil {
		tb.Fatalf("seed %d jobs: %v", n, err)
	}
	if _, err := c.ExecContext(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkSearchCountScale measures, over OCRINVOICE_BENCH_JOBS jobs on SQLite and
// (with TEST_DATABASE_URL) PostgreSQL, one list page of 50 through Service.ListJobPage
// for a caller scoped to one of 20 owners: searched (a 9-character term through the
// trigram index, a 2-character term through the short-term path, and the former
// column-by-column LIKE search for comparison), and unfiltered and status-filtered with
// the counted total (and with COUNT(*) for comparison). "get" is the floor: one job
// read by id in the same run; read each result as a ratio to it.
func BenchmarkSearchCountScale(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv(envBenchJobs))
	if n <= 0 {
		b.Skipf("%s is not set (make bench-scale sets it)", envBenchJobs)
	}
	run := func(b *testing.B, c *ent.Client, seed func(testing.TB, *ent.Client, int)) {
		start := time.Now()
		seed(b, c, n)
		b.Logf("seeded %d jobs in %v", n, time.Since(start).Round(time.Millisecond))
		svc := NewService(c, nil, Options{})
		ctx := auth.WithPrincipal(context.Background(), auth.Principal{Role: auth.RoleSubmitter, Owner: "team-7"})
		id := fmt.Sprintf("%024x", n/2+7-(n/2)%20) // a job of team-7
		b.Run("get", func(b *testing.B) {
			for b.Loop() {
				if _, err := svc.GetJob(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
		formerSearch := func(term string) []predicate.OcrInvoiceJob {
			return []predicate.OcrInvoiceJob{ocrinvoicejob.Or(
				ocrinvoicejob.JobNumberContainsFold(term), ocrinvoicejob.DocumentNameContainsFold(term),
				ocrinvoicejob.InvoiceNumberContainsFold(term), ocrinvoicejob.SupplierNameContainsFold(term),
				ocrinvoicejob.CustomerNameContainsFold(term))}
		}
		search := func(term string) []predicate.OcrInvoiceJob { return []predicate.OcrInvoiceJob{SearchJobs(term)} }
		status := func() []predicate.OcrInvoiceJob {
			where, err := svc.JobFilter(`{"status":"failed"}`, "")
			if err != nil {
				b.Fatal(err)
			}
			return where
		}
		for _, tc := range []struct {
			name string
			p    ListJobsParams
		}{
			{"search=inv-42427/indexed", ListJobsParams{Where: search("inv-42427")}},
			{"search=inv-42427/former-like", ListJobsParams{Where: formerSearch("inv-42427")}},
			{"search=supplier 7 gmbh/indexed", ListJobsParams{Where: search("supplier 7 gmbh")}},
			{"search=supplier 7 gmbh/former-like", ListJobsParams{Where: formerSearch("supplier 7 gmbh")}},
			{"search=zz/short", ListJobsParams{Where: search("zz")}},
			{"list/counted", ListJobsParams{Counted: true}},
			{"list/count-rows", ListJobsParams{}},
			{"list+status/counted", ListJobsParams{Where: status(), Counted: true, Statuses: []string{"failed"}}},
			{"list+status/count-rows", ListJobsParams{Where: status()}},
		} {
			b.Run(tc.name, func(b *testing.B) {
				for b.Loop() {
					if _, err := svc.ListJobPage(ctx, tc.p); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	b.Run("sqlite", func(b *testing.B) {
		run(b, databasetest.OpenWith(b, "sqlite:"+filepath.Join(b.TempDir(), "search.db"), database.Options{}), seedSQLiteJobs)
	})
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv(databasetest.EnvPostgresURL) == "" {
			b.Skipf("%s is not set; skipping PostgreSQL", databasetest.EnvPostgresURL)
		}
		run(b, databasetest.OpenWith(b, databasetest.PostgresURL(b), database.Options{}), seedPostgresJobs)
	})
}
