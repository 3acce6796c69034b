package evaluate

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// The synthetic set (testdata/synthetic, made by worker/extract/synth) holds the kinds of
// invoices extraction finds hard: agency commission, three VAT rates, separator and
// policy numbers, wrapped names, credit notes, two-page tables, US and European formats.
// Its floors are the number of documents each field gets right with the present
// extraction, less a small slack; a change that loses more fails here. Raise a floor
// when extraction gets better.

// syntheticTextFloors are the least correct documents per field on the text path (22
// PDFs; deterministic, so one document of slack).
var syntheticTextFloors = map[string]int{
	"invoice.number": 19, "invoice.date": 21, "invoice.dueDate": 18,
	"invoice.supplier.name": 21, "invoice.supplier.address": 20, "invoice.supplier.taxId": 14,
	"invoice.customer.name": 21, "invoice.customer.address": 19,
	"invoice.amounts.subtotal": 17, "invoice.amounts.tax": 17, "invoice.amounts.total": 21, "invoice.amounts.currency": 21,
	"lineItems": 21, "invoice.customer.taxId": 2, "invoice.amountDue": 20, "invoice.purchaseOrder": 4, "invoice.documentType": 21,
}

// syntheticOCRFloors are the same for the noisy 200 DPI scans (22 images; two documents
// of slack, as Tesseract's reading may vary slightly between versions).
var syntheticOCRFloors = map[string]int{
	"invoice.number": 17, "invoice.date": 19, "invoice.dueDate": 15,
	"invoice.supplier.name": 13, "invoice.supplier.address": 15, "invoice.supplier.taxId": 12,
	"invoice.customer.name": 8, "invoice.customer.address": 14,
	"invoice.amounts.subtotal": 16, "invoice.amounts.tax": 14, "invoice.amounts.total": 20, "invoice.amounts.currency": 20,
	"lineItems": 13, "invoice.customer.taxId": 1, "invoice.amountDue": 19, "invoice.purchaseOrder": 2, "invoice.documentType": 19,
}

// runSynthetic evaluates the synthetic set with the real reader in mode, over the
// records whose file contains match.
func runSynthetic(t *testing.T, mode ocr.Mode, match string) *Table {
	t.Helper()
	r, err := ocr.NewReader(ocr.Config{Slots: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	cfg := Config{
		Read: string(mode),
		ReadDoc: func(ctx context.Context, path string) (*layout.Document, error) {
			return r.Read(ctx, path, ocr.Options{Mode: mode})
		},
		Extract: func(d *layout.Document) (invoice.ExtractedData, error) {
			res, err := extract.Extract(d, extract.Options{})
			return res.Data, err
		},
		Parallel: 2,
		Match:    match,
	}
	start := time.Now()
	tb, err := Run(context.Background(), filepath.Join("testdata", "synthetic"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	tb.Print(&sb)
	t.Logf("%s in %s\n%s", mode, time.Since(start).Round(time.Millisecond), sb.String())
	return tb
}

func checkFloors(t *testing.T, tb *Table, docs int, floors map[string]int) {
	t.Helper()
	if tb.Documents != docs || tb.Failed != 0 {
		t.Errorf("%d documents scored, %d failed, want %d and 0: %+v", tb.Documents, tb.Failed, docs, tb.Wrong)
	}
	got := map[string]FieldStat{}
	for _, f := range tb.Fields {
		got[f.Field] = f
	}
	for field, floor := range floors {
		f, ok := got[field]
		if !ok {
			t.Errorf("%s: not scored", field)
			continue
		}
		if f.Correct < floor {
			t.Errorf("%s: %d of %d correct, floor %d", field, f.Correct, f.Truths, floor)
		}
	}
}

// TestSyntheticText scores the text path (pdftotext) on the synthetic PDFs.
func TestSyntheticText(t *testing.T) {
	tb := runSynthetic(t, ocr.ModeText, "pdf/")
	checkFloors(t, tb, 22, syntheticTextFloors)
}

// TestSyntheticOCR scores the OCR path (Tesseract) on the noisy 200 DPI scans of the
// synthetic set; about 50 s of CPU, so it is skipped with -short.
func TestSyntheticOCR(t *testing.T) {
	if testing.Short() {
		t.Skip("OCR of 22 scans takes about a minute; skipped with -short")
	}
	tb := runSynthetic(t, ocr.ModeOCR, "scan/")
	checkFloors(t, tb, 22, syntheticOCRFloors)
}
