package jobs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// scaleJobs is the number of jobs the scale benchmarks seed.
const scaleJobs = 100_000

// extractedJSON is the extracted data of a completed job: a header and eight line items
// (about 1 KB of JSON), so that JSON paths are read from a document of realistic size.
const extractedJSON = `{"invoice":{"number":"INV-%[1]d","date":"2024-03-01","dueDate":"2024-03-31",
"supplier":{"name":"Supplier %[2]d GmbH","address":"Hauptstrasse %[2]d, 10115 Berlin","taxId":"DE%[1]09d"},
"customer":{"name":"Customer %[3]d AG","address":"Marktplatz 1, 80331 Muenchen"},
"amounts":{"subtotal":%[4]d,"tax":19,"total":%[5]d,"currency":"EUR"}},
"lineItems":[{"description":"Consulting services, March","quantity":1,"unitPrice":100,"amount":100},
{"description":"Travel expenses","quantity":2,"unitPrice":45.5,"amount":91},
{"description":"Licence fee","quantity":1,"unitPrice":250,"amount":250},
{"description":"Support hours","quantity":12,"unitPrice":80,"amount":960},
{"description":"Hardware rental","quantity":3,"unitPrice":30,"amount":90},
{"description":"Training session","quantity":1,"unitPrice":400,"amount":400},
{"description":"Shipping","quantity":1,"unitPrice":12.9,"amount":12.9},
{"description":"Discount","quantity":1,"unitPrice":-20,"amount":-20}]}`

// seedScale inserts n jobs in bulk (batches of 1,000 in one transaction each), a sixth
// in each status, with metadata of five keys and extracted data as above.
func seedScale(b *testing.B, c *ent.Client, n int) {
	b.Helper()
	ctx := context.Background()
	svc := jobs.NewService(c, nil, jobs.Options{})
	if err := svc.EnsureBuiltins(ctx); err != nil {
		b.Fatal(err)
	}
	tpl, err := svc.GetTemplate(ctx, jobs.BuiltinTemplateName)
	if err != nil {
		b.Fatal(err)
	}
	statuses := []ocrinvoicejob.Status{"created", "queued", "processing", "completed", "failed", "cancelled"}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	start := time.Now()
	const batch = 1000
	for from := 0; from < n; from += batch {
		tx, err := c.Tx(ctx)
		if err != nil {
			b.Fatal(err)
		}
		builders := make([]*ent.OcrInvoiceJobCreate, 0, batch)
		for i := from; i < min(from+batch, n); i++ {
			var data invoice.ExtractedData
			if err := json.Unmarshal(fmt.Appendf(nil, extractedJSON, i, i%500, i%2000, 100+i%900, 119+i%900), &data); err != nil {
				b.Fatal(err)
			}
			at := base.Add(time.Duration(i) * time.Minute)
			builders = append(builders, tx.OcrInvoiceJob.Create().
				SetJobNumber(fmt.Sprintf("J-%07d", i)).
				SetDocumentName(fmt.Sprintf("invoice-%d.pdf", i)).
				SetDocumentURL(fmt.Sprintf("https://files.example.com/%d.pdf", i)).
				SetTemplateID(tpl.ID).
				SetStatus(statuses[i%len(statuses)]).
				SetExtractedData(&data).
				SetInvoiceNumber(data.Invoice.Number).
				SetSupplierName(data.Invoice.Supplier.Name).
				SetCustomerName(data.Invoice.Customer.Name).
				SetCreatedBy(fmt.Sprintf("team-%d", i%20)).
				SetCreatedAt(at).SetUpdatedAt(at).
				SetMetadata(map[string]any{
					"source": []string{"email", "upload", "api", "scanner"}[i%4], "department": fmt.Sprintf("dept-%d", i%37),
					"batch": i / 1000, "priority": i%5 == 0, "reference": fmt.Sprintf("REF-%06d", i),
				}))
		}
		if err := tx.OcrInvoiceJob.CreateBulk(builders...).Exec(ctx); err != nil {
			_ = tx.Rollback()
			b.Fatalf("seed jobs %d..: %v", from, err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d jobs in %v", n, time.Since(start).Round(time.Millisecond))
}

// repeat joins n copies of format (given the copy's index) with commas.
func repeat(n int, format string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(format, i)
	}
	return strings.Join(parts, ",")
}

// worstAcceptedFilters are the dearest filters the default budget accepts
// (DefaultFilterCostLimit, 200), each at or near it: $ne conditions hold for every row,
// so the count reads every path of every row; the search matches no row, so the page
// query reads them all too.
var worstAcceptedFilters = []struct{ name, filter, search string }{
	{"13 metadata paths", `{"$and":[` + repeat(13, `{"metadata.k%d":{"$ne":"nope"}}`) + `]}`, ""},
	{"1 extractedData path and 16 columns", `{"$and":[{"extractedData.invoice.supplier.name":{"$ne":"nope"}},` +
		repeat(16, `{"errorLog":{"$ne":"nope%d"}}`) + `]}`, ""},
	{"search and 6 metadata paths", `{"$and":[` + repeat(6, `{"metadata.k%d":{"$ne":"nope"}}`) + `]}`, "zzzz"},
	{"66 columns", `{"$and":[` + repeat(66, `{"errorLog":{"$ne":"nope%d"}}`) + `]}`, ""},
}

// BenchmarkWorstAcceptedFilter lists 100,000 jobs through jobs.Service with the worst
// filters the default cost budget accepts (worstAcceptedFilters), on SQLite and (with
// TEST_DATABASE_URL) on PostgreSQL. The target is at most 2 s per request at the
// database, the API's statement deadline (OCRINVOICE_DB_STATEMENT_TIMEOUT). db-ms/op is
// the database time of one list request (page and count), as the query budget charges
// it; over-deadline/op the share of requests above 2 s. Run it with `make bench-scale`.
func BenchmarkWorstAcceptedFilter(b *testing.B) {
	run := func(b *testing.B, c *ent.Client) {
		seedScale(b, c, scaleJobs)
		svc := jobs.NewService(c, nil, jobs.Options{})
		for _, f := range worstAcceptedFilters {
			b.Run(f.name, func(b *testing.B) {
				where, err := svc.JobFilter(f.filter, f.search)
				if err != nil {
					b.Fatalf("the filter is refused: %v", err)
				}
				// No API deadline here, so that a run past it is measured rather than cut
				// short; over-deadline/op counts the requests above 2 s.
				m := new(database.Meter)
				ctx := database.WithMeter(context.Background(), m)
				over := 0
				for b.Loop() {
					before := m.Spent()
					if _, _, err := svc.ListJobs(ctx, jobs.ListJobsParams{Where: where}); err != nil {
						b.Fatalf("list: %v", err)
					}
					if m.Spent()-before > database.DefaultAPIStatementTimeout {
						over++
					}
				}
				b.ReportMetric(float64(m.Spent().Milliseconds())/float64(b.N), "db-ms/op")
				b.ReportMetric(float64(over)/float64(b.N), "over-deadline/op")
			})
		}
	}
	b.Run("sqlite", func(b *testing.B) {
		run(b, databasetest.OpenWith(b, "sqlite:"+filepath.Join(b.TempDir(), "scale.db"), database.Options{}))
	})
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv(databasetest.EnvPostgresURL) == "" {
			b.Skipf("%s is not set; skipping PostgreSQL", databasetest.EnvPostgresURL)
		}
		run(b, databasetest.OpenWith(b, databasetest.PostgresURL(b), database.Options{}))
	})
}

// BenchmarkPoolScale measures PostgreSQL list throughput through jobs.Service at 8 and
// 64 concurrent clients over 100,000 jobs, with the pool of OpenWith's defaults
// ("capped": DefaultMaxConns open, as many kept idle) and with the pool as it was before
// ("uncapped": no limit on open connections, database/sql's two idle ones). queries/s
// is the throughput; the target is capped c=64 >= capped c=8. It skips without
// TEST_DATABASE_URL. Run it with `make bench-scale`.
func BenchmarkPoolScale(b *testing.B) {
	if os.Getenv(databasetest.EnvPostgresURL) == "" {
		b.Skipf("%s is not set; skipping the PostgreSQL pool benchmark", databasetest.EnvPostgresURL)
	}
	url := databasetest.PostgresURL(b)
	seedScale(b, databasetest.OpenWith(b, url, database.Options{}), scaleJobs)
	filter := `{"status":"completed"}`
	for _, pool := range []struct {
		name string
		opts database.Options
	}{
		{"capped", database.Options{}},
		{"uncapped", database.Options{MaxConns: 1 << 20, MaxIdleConns: 2}},
	} {
		c := databasetest.OpenWith(b, url, pool.opts)
		svc := jobs.NewService(c, nil, jobs.Options{})
		where, err := svc.JobFilter(filter, "")
		if err != nil {
			b.Fatal(err)
		}
		for _, clients := range []int{8, 64} {
			b.Run(fmt.Sprintf("%s/c=%d", pool.name, clients), func(b *testing.B) {
				// RunParallel starts parallelism x GOMAXPROCS goroutines.
				procs := runtime.GOMAXPROCS(0)
				b.SetParallelism(max(1, clients/procs))
				ctx := context.Background() // throughput, not deadlines: waits for a connection count
				start := time.Now()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, _, err := svc.ListJobs(ctx, jobs.ListJobsParams{Where: where, Limit: 20}); err != nil {
							b.Errorf("list: %v", err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "queries/s")
			})
		}
	}
}

// BenchmarkSortAndRegexScale measures a page of 50 (with its count) over 100,000 jobs
// sorted by createdAt (an index), by priority and status (ranked by a CASE expression,
// which no index serves), and filtered with $regex (Go's engine per row on SQLite,
// PostgreSQL's ~ on the rewritten pattern), on SQLite and, with TEST_DATABASE_URL, on
// PostgreSQL. Run it with `make bench-scale`.
func BenchmarkSortAndRegexScale(b *testing.B) {
	run := func(b *testing.B, c *ent.Client) {
		seedScale(b, c, scaleJobs)
		svc := jobs.NewService(c, nil, jobs.Options{})
		for _, tc := range []struct{ name, sort, filter string }{
			{"sort=createdAt", "createdAt", ""},
			{"sort=priority", "priority", ""},
			{"sort=-status", "-status", ""},
			{"sort=priority+status=failed", "priority", `{"status":"failed"}`},
			{"regex=documentName", "", `{"documentName":{"$regex":"^INVOICE-9\\d{3}\\.pdf$","$options":"i"}}`},
			{"regex=(a+)+$", "", `{"jobNumber":{"$regex":"(a+)+$"}}`},
		} {
			b.Run(tc.name, func(b *testing.B) {
				where, err := svc.JobFilter(tc.filter, "")
				if err != nil {
					b.Fatal(err)
				}
				order, err := jobs.JobOrder(tc.sort, "")
				if err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if _, _, err := svc.ListJobs(context.Background(), jobs.ListJobsParams{Where: where, Order: order}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	b.Run("sqlite", func(b *testing.B) {
		run(b, databasetest.OpenWith(b, "sqlite:"+filepath.Join(b.TempDir(), "scale.db"), database.Options{}))
	})
	b.Run("postgres", func(b *testing.B) {
		if os.Getenv(databasetest.EnvPostgresURL) == "" {
			b.Skipf("%s is not set; skipping PostgreSQL", databasetest.EnvPostgresURL)
		}
		run(b, databasetest.OpenWith(b, databasetest.PostgresURL(b), database.Options{}))
	})
}
