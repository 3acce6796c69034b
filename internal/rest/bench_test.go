package rest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// The benchmarks compare each REST operation with the same operation done directly with the
// ent client (the floor), on SQLite with benchJobs jobs seeded once per process.
const benchJobs = 100_000

var (
	benchOnce    sync.Once
	benchDir     string
	benchClient  *ent.Client
	benchHandler http.Handler
	benchSvc     *jobs.Service
	benchTpl     string
	benchErr     error
	benchSeq     atomic.Int64
)

func benchSetup(b *testing.B) (*ent.Client, http.Handler) {
	b.Helper()
	benchOnce.Do(func() {
		start := time.Now()
		benchErr = seedBench()
		if benchErr == nil {
			fmt.Fprintf(os.Stderr, "seeded %d jobs in %s\n", benchJobs, time.Since(start).Round(time.Millisecond))
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchClient, benchHandler
}

func seedBench() error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "ocrinvoice-rest-bench-")
	if err != nil {
		return fmt.Errorf("make bench dir: %w", err)
	}
	benchDir = dir
	c, err := database.Open(ctx, "sqlite:"+filepath.Join(dir, "bench.db"))
	if err != nil {
		return fmt.Errorf("open bench database: %w", err)
	}
	benchClient = c
	if err := database.Migrate(ctx, c); err != nil {
		return fmt.Errorf("migrate bench database: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc := jobs.NewService(c, nil, jobs.Options{Logger: logger})
	if err := svc.EnsureBuiltins(ctx); err != nil {
		return fmt.Errorf("ensure builtins: %w", err)
	}
	tpl, err := svc.GetTemplate(ctx, jobs.BuiltinTemplateName)
	if err != nil {
		return err
	}
	benchTpl = tpl.ID
	benchHandler = authenticated(NewHandler(svc, logger), &testAdmin)
	benchSvc = svc

	statuses := []ocrinvoicejob.Status{"created", "queued", "processing", "completed", "failed", "cancelled"}
	prios := []ocrinvoicejob.Priority{"low", "medium", "high", "urgent"}
	suppliers := []string{"Acme Supplies", "Globex Corporation", "Initech", "Umbrella plc", "Stark Industries"}
	sources := []string{"scanner", "email", "api"}
	base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	const batch = 500
	tx, err := c.Tx(ctx)
	if err != nil {
		return err
	}
	for from := 0; from < benchJobs; from += batch {
		bs := make([]*ent.OcrInvoiceJobCreate, 0, batch)
		for i := from; i < from+batch && i < benchJobs; i++ {
			st := statuses[i%len(statuses)]
			cr := tx.OcrInvoiceJob.Create().
				SetJobNumber(fmt.Sprintf("BENCH-%06d", i)).
				SetDocumentName(fmt.Sprintf("invoice_%06d.pdf", i)).
				SetDocumentURL(fmt.Sprintf("https://invoices.example.com/%06d.pdf", i)).
				SetDocumentType("pdf").SetTemplateID(benchTpl).
				SetStatus(st).SetPriority(prios[i%len(prios)]).
				SetMetadata(map[string]any{"source": sources[i%len(sources)], "batch": i % 100}).
				SetCreatedAt(base.Add(time.Duration(i) * time.Minute)).SetUpdatedAt(base.Add(time.Duration(i) * time.Minute))
			if st == "completed" {
				total := float64(i%1000) + 0.99
				sup := suppliers[i%len(suppliers)]
				cr.SetExtractedData(&invoice.ExtractedData{Invoice: invoice.Invoice{
					Number: fmt.Sprintf("INV-%06d", i), Supplier: invoice.Supplier{Name: sup},
					Customer: invoice.Customer{Name: "Customer " + sup}, Amounts: invoice.Amounts{Total: &total, Currency: "EUR"}}}).
					SetInvoiceNumber(fmt.Sprintf("INV-%06d", i)).SetSupplierName(sup).SetCustomerName("Customer " + sup).
					SetProcessingTime(float64(i%60) + 0.5).SetCost(0.05)
			}
			bs = append(bs, cr)
		}
		if _, err := tx.OcrInvoiceJob.CreateBulk(bs...).Save(ctx); err != nil {
			_ = tx.Rollback()
			return fmt.Errorf("seed jobs: %w", err)
		}
	}
	return tx.Commit()
}

func cleanupBench() {
	if benchClient != nil {
		_ = benchClient.Close()
	}
	if benchDir != "" {
		_ = os.RemoveAll(benchDir)
	}
}

// listCase is one list request and the same query written with ent directly.
type listCase struct {
	name  string
	query url.Values
	where func() []predicate.OcrInvoiceJob
}

var benchListCases = []listCase{
	{"plain", url.Values{}, func() []predicate.OcrInvoiceJob { return nil }},
	{"filter", url.Values{"filter": {`{"status":"completed","priority":{"$in":["high","urgent"]}}`}},
		func() []predicate.OcrInvoiceJob {
			return []predicate.OcrInvoiceJob{ocrinvoicejob.StatusEQ("completed"), ocrinvoicejob.PriorityIn("high", "urgent")}
		}},
	{"filter_json_path", url.Values{"filter": {`{"extractedData.invoice.amounts.total":{"$gt":900}}`}},
		func() []predicate.OcrInvoiceJob {
			return []predicate.OcrInvoiceJob{func(s *sql.Selector) {
				s.Where(sqljson.ValueGT(ocrinvoicejob.FieldExtractedData, 900, sqljson.DotPath("invoice.amounts.total")))
			}}
		}},
	{"search", url.Values{"search": {"globex"}},
		func() []predicate.OcrInvoiceJob { return []predicate.OcrInvoiceJob{jobs.SearchJobs("globex")} }},
}

// BenchmarkListJobs: a page of 50 of benchJobs jobs, newest first, with the total count.
// "rest" is GET /api/v1/ocr-invoice-jobs through the handler (parse, filter translation, query,
// DTOs, JSON); "ent" is the same count and page queried with the ent client (the floor).
func BenchmarkListJobs(b *testing.B) {
	c, h := benchSetup(b)
	ctx := context.Background()
	for _, lc := range benchListCases {
		lc.query.Set("limit", "50")
		target := "/api/v1/ocr-invoice-jobs?" + lc.query.Encode()
		var restTotal int
		b.Run(lc.name+"/rest", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
			body := rec.Body.String()
			_, _ = fmt.Sscan(body[strings.LastIndex(body, `"total":`)+len(`"total":`):], &restTotal)
		})
		b.Run(lc.name+"/ent", func(b *testing.B) {
			b.ReportAllocs()
			var total int
			for b.Loop() {
				q := c.OcrInvoiceJob.Query().Where(lc.where()...)
				// COUNT(*), as jobs.Service does: ent's Count() is COUNT(id), which SQLite
				// cannot answer from a narrow index.
				n, err := q.Clone().Aggregate(ent.Count()).Int(ctx)
				if err != nil {
					b.Fatal(err)
				}
				list, err := q.Order(ocrinvoicejob.ByCreatedAt(sql.OrderDesc()), ocrinvoicejob.ByID(sql.OrderDesc())).Limit(50).All(ctx)
				if err != nil || (len(list) == 0 && n > 0) {
					b.Fatalf("list: %v", err)
				}
				total = n
			}
			if restTotal != 0 && total != restTotal {
				b.Errorf("ent counted %d, REST %d: the two sides differ", total, restTotal)
			}
		})
	}
}

// BenchmarkCreateJob: one job created through POST /api/v1/ocr-invoice-jobs (decode,
// validation, template lookup, duplicate check, insert, DTO, JSON; no queue), through
// jobs.Service.CreateJob (the same without HTTP and JSON), and as one insert with the ent
// client (the floor).
func BenchmarkCreateJob(b *testing.B) {
	c, h := benchSetup(b)
	ctx := context.Background()
	b.Run("rest", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := benchSeq.Add(1)
			body := fmt.Sprintf(`{"jobNumber":"BC-REST-%d","documentName":"a.pdf","documentUrl":"https://invoices.example.com/a.pdf","template":%q,"priority":"high","metadata":{"source":"bench"}}`, n, benchTpl)
			req := httptest.NewRequest("POST", "/api/v1/ocr-invoice-jobs", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
		}
	})
	b.Run("service", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := benchSeq.Add(1)
			_, err := benchSvc.CreateJob(ctx, jobs.JobInput{JobNumber: fmt.Sprintf("BC-SVC-%d", n), DocumentName: "a.pdf",
				DocumentURL: "https://invoices.example.com/a.pdf", Template: benchTpl, Priority: "high",
				Metadata: map[string]any{"source": "bench"}})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := benchSeq.Add(1)
			_, err := c.OcrInvoiceJob.Create().SetJobNumber(fmt.Sprintf("BC-ENT-%d", n)).SetDocumentName("a.pdf").
				SetDocumentURL("https://invoices.example.com/a.pdf").SetDocumentType("pdf").SetTemplateID(benchTpl).
				SetPriority("high").SetMetadata(map[string]any{"source": "bench"}).Save(ctx)
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
