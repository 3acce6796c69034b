package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// benchRows is how many jobs the list benchmarks run over.
const benchRows = 100_000

var (
	benchOnce sync.Once
	benchDir  string
	benchSvc  *jobs.Service
	benchDB   *ent.Client // benchSvc's
	benchErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchSvc != nil {
		_ = benchDB.Close()
	}
	if benchDir != "" {
		_ = os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchService returns a service over a SQLite database seeded once per process with
// benchRows jobs: statuses and priorities spread evenly, every tenth job completed with
// extracted invoice data (suppliers cycle through 50 names).
func benchService(b *testing.B) *jobs.Service {
	b.Helper()
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "ocrinvoice-bench-*")
		if benchErr != nil {
			return
		}
		ctx := context.Background()
		c, err := database.Open(ctx, "sqlite:"+filepath.Join(benchDir, "bench.db"))
		if err != nil {
			benchErr = err
			return
		}
		benchDB = c
		if benchErr = database.Migrate(ctx, c); benchErr != nil {
			return
		}
		benchSvc = jobs.NewService(c, nil, jobs.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if benchErr = benchSvc.EnsureBuiltins(ctx); benchErr != nil {
			return
		}
		tpl, err := benchSvc.GetTemplate(ctx, jobs.BuiltinTemplateName)
		if err != nil {
			benchErr = err
			return
		}
		start := time.Now()
		benchErr = seedJobs(ctx, c, tpl.ID, benchRows)
		if keep := os.Getenv("OCRINVOICE_BENCH_KEEP_DB"); keep != "" && benchErr == nil {
			benchErr = copyFile(filepath.Join(benchDir, "bench.db"), keep)
		}
		fmt.Fprintf(os.Stderr, "seeded %d jobs in %v\n", benchRows, time.Since(start).Round(time.Millisecond))
	})
	if benchErr != nil {
		b.Fatalf("seed benchmark database: %v", benchErr)
	}
	return benchSvc
}

func seedJobs(ctx context.Context, c *ent.Client, templateID string, n int) error {
	statuses := []ocrinvoicejob.Status{"created", "queued", "processing", "completed", "failed", "cancelled"}
	priorities := []ocrinvoicejob.Priority{"low", "medium", "high", "urgent"}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const batch = 1000
	for from := 0; from < n; from += batch {
		tx, err := c.Tx(ctx)
		if err != nil {
			return err
		}
		builders := make([]*ent.OcrInvoiceJobCreate, 0, batch)
		for i := from; i < min(from+batch, n); i++ {
			at := base.Add(time.Duration(i) * time.Second)
			cr := tx.OcrInvoiceJob.Create().
				SetJobNumber(fmt.Sprintf("BENCH-%07d", i)).
				SetDocumentName(fmt.Sprintf("invoice_%07d.pdf", i)).
				SetDocumentURL(fmt.Sprintf("https://files.example.com/%07d.pdf", i)).
				SetDocumentType(ocrinvoicejob.DocumentTypePdf).
				SetTemplateID(templateID).
				SetStatus(statuses[i%len(statuses)]).
				SetPriority(priorities[(i/7)%len(priorities)]).
				SetCreatedAt(at).SetUpdatedAt(at)
			if i%10 == 3 {
				supplier := fmt.Sprintf("Supplier %02d Holdings", i%50)
				total := float64(i%1000) + 0.99
				cr.SetStatus(ocrinvoicejob.StatusCompleted).
					SetExtractedData(&invoice.ExtractedData{Invoice: invoice.Invoice{Number: fmt.Sprintf("INV-%d", i), Supplier: invoice.Supplier{Name: supplier}, Amounts: invoice.Amounts{Total: &total, Currency: "USD"}}}).
					SetInvoiceNumber(fmt.Sprintf("INV-%d", i)).
					SetSupplierName(supplier)
			}
			builders = append(builders, cr)
		}
		if err := tx.OcrInvoiceJob.CreateBulk(builders...).Exec(ctx); err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

func benchPost(b *testing.B, h http.Handler, query string, vars map[string]any) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req = req.WithContext(auth.WithPrincipal(req.Context(), auth.Local))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK || bytes.Contains(w.Body.Bytes(), []byte(`"errors"`)) {
		b.Fatalf("HTTP %d: %s", w.Code, w.Body.String())
	}
}

const benchListQuery = `query($where: OcrInvoiceJobWhereInput) {
  ocrInvoiceJobs(first: 50, where: $where, orderBy: [{field: CREATED_AT, direction: DESC}]) {
    totalCount
    edges { node { id jobNumber documentName status priority createdAt } }
  }
}`

// BenchmarkListJobs lists the newest 50 of 100,000 jobs through GraphQL and, as the
// floor, with the ent client directly (the same count and page queries).
func BenchmarkListJobs(b *testing.B) {
	svc := benchService(b)
	h := graph.NewHandler(svc, graph.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	c := benchDB
	ctx := context.Background()
	cases := []struct {
		name  string
		where map[string]any
		preds []func(*sql.Selector)
	}{
		{"all", nil, nil},
		{"filter", map[string]any{"status": "completed", "priorityIn": []string{"high", "urgent"}},
			[]func(*sql.Selector){ocrinvoicejob.StatusEQ("completed"), ocrinvoicejob.PriorityIn("high", "urgent")}},
		{"search", map[string]any{"search": "supplier 07"}, []func(*sql.Selector){jobs.SearchJobs("supplier 07")}},
	}
	for _, tc := range cases {
		b.Run(tc.name+"/graphql", func(b *testing.B) {
			vars := map[string]any{"where": tc.where}
			for b.Loop() {
				benchPost(b, h, benchListQuery, vars)
			}
		})
		b.Run(tc.name+"/ent", func(b *testing.B) {
			var preds []predicate.OcrInvoiceJob
			for _, p := range tc.preds {
				preds = append(preds, p)
			}
			for b.Loop() {
				q := c.OcrInvoiceJob.Query().Where(preds...)
				if _, err := q.Clone().Count(ctx); err != nil {
					b.Fatal(err)
				}
				// The same columns and order as the GraphQL query selects.
				list, err := q.Order(ocrinvoicejob.ByCreatedAt(sql.OrderDesc()), ocrinvoicejob.ByID()).Limit(51).
					Select(ocrinvoicejob.FieldID, ocrinvoicejob.FieldJobNumber, ocrinvoicejob.FieldDocumentName,
						ocrinvoicejob.FieldStatus, ocrinvoicejob.FieldPriority, ocrinvoicejob.FieldCreatedAt).All(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := json.Marshal(list); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCreateJob creates jobs (no queue) through GraphQL and, as the floor, with
// the ent client directly.
func BenchmarkCreateJob(b *testing.B) {
	svc := benchService(b)
	h := graph.NewHandler(svc, graph.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	tpl, err := svc.GetTemplate(context.Background(), jobs.BuiltinTemplateName)
	if err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	next := func(prefix string) string { return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), seq.Add(1)) }
	b.Run("graphql", func(b *testing.B) {
		for b.Loop() {
			n := next("GQL")
			benchPost(b, h, `mutation($in: CreateOcrInvoiceJobInput!) { createOcrInvoiceJob(input: $in) { id status } }`,
				map[string]any{"in": map[string]any{"jobNumber": n, "documentName": n + ".pdf", "documentUrl": "https://files.example.com/" + n + ".pdf", "template": "generic"}})
		}
	})
	b.Run("ent", func(b *testing.B) {
		ctx := context.Background()
		for b.Loop() {
			n := next("ENT")
			j, err := benchDB.OcrInvoiceJob.Create().SetJobNumber(n).SetDocumentName(n + ".pdf").
				SetDocumentURL("https://files.example.com/" + n + ".pdf").SetDocumentType("pdf").SetTemplateID(tpl.ID).Save(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(j); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// copyFile copies the seeded database for inspection (OCRINVOICE_BENCH_KEEP_DB=path).
func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}
