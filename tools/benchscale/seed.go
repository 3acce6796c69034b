package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// The bulk loader writes n jobs straight into the database, as the service would have
// stored them after processing: several owners, every status, and for the jobs that got
// that far extracted data with invoice numbers, supplier and customer names and amounts
// (the columns search reads are filled as the pipeline fills them). Rows go in with
// multi-row INSERTs of seedBatch rows, each batch in one transaction, on SQLite and
// PostgreSQL alike; the database's own triggers and indexes (from the migrations) are
// kept up by those INSERTs as by any other.

// seedBatch is the number of rows of one multi-row INSERT and transaction.
const seedBatch = 500

// Owners, supplier and customer names the rows are spread over.
var (
	seedOwners    = []string{"acme-finance", "globex-ap", "initech", "umbrella-eu", "stark-procure", "wayne-ops", "hooli-billing", "tyrell-ar"}
	supplierStems = []string{"Müller Logistik", "Nordwind Energie", "Acme Office Supply", "Bäckerei Schmidt", "Papeterie Dubois",
		"Rossi Trasporti", "Fjord Shipping", "Kowalski Elektro", "Van Dijk Catering", "Silva Consultoria", "Hoffmann Druck",
		"Blue Ridge Software", "Atlas Facility Services", "Oakwood Timber", "Sakura Components", "Keller Steuerberatung"}
	supplierForms = []string{"GmbH", "AG", "Ltd", "SARL", "S.p.A.", "B.V.", "Inc.", "KG"}
	customerNames = []string{"Globex Corporation", "Initech GmbH", "Umbrella Europe B.V.", "Stark Industries", "Wayne Enterprises",
		"Hooli Inc.", "Tyrell Corporation", "Acme Holding AG"}
	seedStatuses   = []ocrinvoicejob.Status{"completed", "completed", "completed", "completed", "failed", "queued", "processing", "created", "cancelled", "completed"}
	seedPriorities = []ocrinvoicejob.Priority{"low", "medium", "medium", "medium", "high", "urgent"}
	seedCurrencies = []string{"EUR", "EUR", "USD", "GBP", "CHF"}
)

// seedSupplier is the supplier name of row i (128 distinct names).
func seedSupplier(i int) string {
	s := (i * 7919) % (len(supplierStems) * len(supplierForms))
	return supplierStems[s%len(supplierStems)] + " " + supplierForms[s/len(supplierStems)]
}

// seedInvoiceNumber is the invoice number printed on row i's document.
func seedInvoiceNumber(i int) string { return fmt.Sprintf("INV-%d-%06d", 2020+i%5, i) }

// seedJobNumber is row i's job number.
func seedJobNumber(i int) string { return fmt.Sprintf("JOB-%08d", i) }

// Seed writes rows jobs into the database at url (migrated first), numbered from 0, and
// reports progress to log. It refuses a database that already holds jobs.
func Seed(ctx context.Context, url string, rows int, log io.Writer) error {
	c, err := database.OpenWith(ctx, url, database.Options{})
	if err != nil {
		return fmt.Errorf("open %s: %w", redact(url), err)
	}
	defer c.Close()
	if err := database.Migrate(ctx, c); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	svc := jobs.NewService(c, nil, jobs.Options{})
	if err := svc.EnsureBuiltins(ctx); err != nil {
		return fmt.Errorf("built-in templates: %w", err)
	}
	tpl, err := svc.GetTemplate(ctx, jobs.BuiltinTemplateName)
	if err != nil {
		return err
	}
	if n, err := c.OcrInvoiceJob.Query().Count(ctx); err != nil || n > 0 {
		return fmt.Errorf("the database holds %d jobs already (%v): seed an empty one", n, err)
	}
	start := time.Now()
	base := time.Now().UTC().Add(-time.Duration(rows) * 30 * time.Second).Truncate(time.Second)
	for from := 0; from < rows; from += seedBatch {
		if err := seedRange(ctx, c, tpl.ID, base, from, min(from+seedBatch, rows)); err != nil {
			return fmt.Errorf("seed jobs %d..: %w", from, err)
		}
		if done := min(from+seedBatch, rows); done%100_000 == 0 || done == rows {
			el := time.Since(start)
			fmt.Fprintf(log, "seeded %d jobs in %v (%.0f rows/s)\n", done, el.Round(time.Millisecond), float64(done)/el.Seconds())
		}
	}
	return nil
}

func seedRange(ctx context.Context, c *ent.Client, templateID string, base time.Time, from, to int) error {
	tx, err := c.Tx(ctx)
	if err != nil {
		return err
	}
	builders := make([]*ent.OcrInvoiceJobCreate, 0, to-from)
	for i := from; i < to; i++ {
		builders = append(builders, seedRow(tx, templateID, base, i))
	}
	if err := tx.OcrInvoiceJob.CreateBulk(builders...).Exec(ctx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// seedRow is the create of job i: created 30 s after job i-1.
func seedRow(tx *ent.Tx, templateID string, base time.Time, i int) *ent.OcrInvoiceJobCreate {
	at := base.Add(time.Duration(i) * 30 * time.Second)
	status := seedStatuses[i%len(seedStatuses)]
	supplier, number := seedSupplier(i), seedInvoiceNumber(i)
	slug := strings.ToLower(strings.NewReplacer(" ", "-", ".", "").Replace(supplier))
	cur := seedCurrencies[i%len(seedCurrencies)]
	b := tx.OcrInvoiceJob.Create().
		SetJobNumber(seedJobNumber(i)).
		SetDocumentName(fmt.Sprintf("%s-%s.pdf", slug, number)).
		SetDocumentURL(fmt.Sprintf("https://files.example.com/inbox/%d/%s.pdf", i/1000, number)).
		SetDocumentType("pdf").
		SetTemplateID(templateID).
		SetStatus(status).
		SetPriority(seedPriorities[i%len(seedPriorities)]).
		SetCreatedBy(seedOwners[i%len(seedOwners)]).
		SetCurrency(cur).
		SetCreatedAt(at).
		SetMetadata(map[string]any{"source": []string{"email", "upload", "api", "scanner"}[i%4], "costCenter": fmt.Sprintf("CC-%03d", i%120)})
	switch status {
	case "completed":
		net := float64(100+(i*37)%9000) + float64(i%100)/100
		tax := float64(int(net*19)) / 100
		customer := customerNames[i%len(customerNames)]
		data := invoice.ExtractedData{}
		raw := fmt.Appendf(nil, `{"invoice":{"number":%q,"date":%q,"dueDate":%q,
"supplier":{"name":%q,"address":"Hauptstrasse %d, 10115 Berlin","taxId":"DE%09d"},
"customer":{"name":%q,"address":"Marktplatz 1, 80331 München"},
"amounts":{"subtotal":%.2f,"tax":%.2f,"total":%.2f,"currency":%q}},
"lineItems":[{"description":"Consulting services","quantity":1,"unitPrice":%.2f,"amount":%.2f}]}`,
			number, at.Format("2006-01-02"), at.AddDate(0, 0, 30).Format("2006-01-02"),
			supplier, 1+i%200, i, customer, net, tax, net+tax, cur, net, net)
		if err := json.Unmarshal(raw, &data); err != nil {
			panic(fmt.Sprintf("seed row %d: %v", i, err)) // a bug in the template above
		}
		done := at.Add(time.Duration(2+i%40) * time.Second)
		b.SetExtractedData(&data).SetInvoiceNumber(number).SetSupplierName(supplier).SetCustomerName(customer).
			SetStartedAt(at.Add(time.Second)).SetCompletedAt(done).SetProcessingTime(done.Sub(at).Seconds()).
			SetCost(0.01 * float64(1+i%3)).SetUpdatedAt(done)
	case "failed":
		b.SetErrorLog("fetch document: 404 Not Found").SetStartedAt(at.Add(time.Second)).SetCompletedAt(at.Add(3 * time.Second)).
			SetRetryCount(3).SetUpdatedAt(at.Add(3 * time.Second))
	default:
		b.SetUpdatedAt(at)
	}
	return b
}
