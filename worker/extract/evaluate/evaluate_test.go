package evaluate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

func rec(t *testing.T, line string) Record {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "truth.jsonl"), []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := LoadTruth(dir)
	if err != nil || len(rs) != 1 {
		t.Fatalf("LoadTruth: %v %v", rs, err)
	}
	return rs[0]
}

func TestScore(t *testing.T) {
	f := invoice.Float
	cases := []struct {
		name  string
		truth string
		pred  invoice.ExtractedData
		want  map[string]bool
	}{
		{"ids ignore spaces and case", `{"invoice":{"number":"AB 12","supplier":{"taxId":"DE 123"}}}`,
			invoice.ExtractedData{Invoice: invoice.Invoice{Number: "ab12", Supplier: invoice.Supplier{TaxID: "de123"}}},
			map[string]bool{"invoice.number": true, "invoice.supplier.taxId": true}},
		{"names drop punctuation", `{"invoice":{"supplier":{"name":"Coolblue B.V."},"customer":{"name":"Herrn\nMax  Muster"}}}`,
			invoice.ExtractedData{Invoice: invoice.Invoice{Supplier: invoice.Supplier{Name: "COOLBLUE BV"}, Customer: invoice.Customer{Name: "herrn max muster"}}},
			map[string]bool{"invoice.supplier.name": true, "invoice.customer.name": true}},
		{"amounts within a cent", `{"invoice":{"amounts":{"total":10.0,"tax":1.0,"subtotal":9.0}}}`,
			invoice.ExtractedData{Invoice: invoice.Invoice{Amounts: invoice.Amounts{Total: f(10.01), Tax: f(1.02)}}},
			map[string]bool{"invoice.amounts.total": true, "invoice.amounts.tax": false, "invoice.amounts.subtotal": false}},
		{"structured address", `{"invoice":{"supplier":{"address":{"line1":"x","postcode":"80333","city":"München"}}}}`,
			invoice.ExtractedData{Invoice: invoice.Invoice{Supplier: invoice.Supplier{Address: "Straße 1, DE 80333 München"}}},
			map[string]bool{"invoice.supplier.address": true}},
		{"free-text address", `{"invoice":{"supplier":{"address":"NO.53, JALAN SAGU 18, 81100 JOHOR BAHRU, JOHOR."}}}`,
			invoice.ExtractedData{Invoice: invoice.Invoice{Supplier: invoice.Supplier{Address: "Jalan Sagu,81100 Johor"}}},
			map[string]bool{"invoice.supplier.address": false}},
		{"line items count and amounts", `{"invoice":{},"lineItems":[{"amount":5.0},{"amount":7.5}]}`,
			invoice.ExtractedData{LineItems: []invoice.LineItem{{Amount: f(7.5)}, {Amount: f(5)}}},
			map[string]bool{"lineItems": true}},
		{"line items wrong count", `{"invoice":{},"lineItems":[{"amount":5.0}]}`,
			invoice.ExtractedData{LineItems: []invoice.LineItem{{Amount: f(5)}, {Amount: f(5)}}},
			map[string]bool{"lineItems": false}},
		{"wider fields from the e-invoice extras", `{"invoice":{"customer":{"vatId":"DE 811907980"},"orderReference":"PO 7","amounts":{"total":100.0,"duePayable":60.0}},"meta":{"typeCode":"381"}}`,
			invoice.ExtractedData{Invoice: invoice.Invoice{Customer: invoice.Customer{TaxID: "de811907980"}, PurchaseOrder: "po7",
				Amounts: invoice.Amounts{Total: f(100)}, AmountDue: f(100), DocumentType: invoice.DocCreditNote}},
			map[string]bool{"invoice.customer.taxId": true, "invoice.purchaseOrder": true, "invoice.amounts.total": true, "invoice.amountDue": false, "invoice.documentType": true}},
		{"unknown truth fields are not scored", `{"invoice":{"date":"2020-01-02"}}`,
			invoice.ExtractedData{Invoice: invoice.Invoice{Date: "2020-01-02", Number: "x"}},
			map[string]bool{"invoice.date": true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			outs := Score(rec(t, c.truth), c.pred)
			got := map[string]bool{}
			for _, o := range outs {
				got[o.Field] = o.Correct
			}
			if len(got) != len(c.want) {
				t.Fatalf("scored %v, want %v", got, c.want)
			}
			for k, v := range c.want {
				if g, ok := got[k]; !ok || g != v {
					t.Errorf("%s = %v (scored %v), want %v", k, g, ok, v)
				}
			}
		})
	}
}

// TestRunFolder runs a synthetic folder: plain-text documents, an excluded record and
// an image that the text path skips.
func TestRunFolder(t *testing.T) {
	cfg := Config{
		Read: "text",
		ReadDoc: func(context.Context, string) (*layout.Document, error) {
			t.Fatal("no document needs a reader")
			return nil, nil
		},
		Extract: func(d *layout.Document) (invoice.ExtractedData, error) {
			r, err := extract.Extract(d, extract.Options{})
			return r.Data, err
		},
		Parallel: 2,
	}
	tb, err := Run(context.Background(), filepath.Join("testdata", "folder"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if tb.Documents != 2 || tb.Excluded != 1 || tb.Skipped != 1 || tb.Failed != 0 {
		t.Fatalf("counts: %+v", tb)
	}
	acc := map[string]FieldStat{}
	for _, f := range tb.Fields {
		acc[f.Field] = f
	}
	// en.txt's truth has a wrong date on purpose: one of two dates is right.
	if d := acc["invoice.date"]; d.Truths != 2 || d.Correct != 1 {
		t.Errorf("date: %+v", d)
	}
	if n := acc["invoice.number"]; n.Truths != 2 || n.Correct != 2 {
		t.Errorf("number: %+v", n)
	}
	if a := acc["invoice.supplier.address"]; a.Truths != 1 || a.Correct != 1 {
		t.Errorf("address: %+v", a)
	}
	if tb.Mean != 0 {
		t.Errorf("mean = %v, want 0 (no field has 5 truths)", tb.Mean)
	}
	var sb strings.Builder
	tb.Print(&sb)
	if !strings.Contains(sb.String(), "invoice.number") {
		t.Errorf("printed table lacks fields:\n%s", sb.String())
	}
	if _, err := json.Marshal(tb); err != nil {
		t.Fatal(err)
	}
}

func TestFolders(t *testing.T) {
	got, err := Folders("testdata")
	if err != nil || len(got) != 2 || filepath.Base(got[0]) != "folder" || filepath.Base(got[1]) != "synthetic" {
		t.Errorf("Folders(testdata) = %v, %v", got, err)
	}
	if _, err := Folders(t.TempDir()); err == nil {
		t.Error("empty folder: no error")
	}
}

// sharedData returns the development data folder or skips.
func sharedData(t *testing.T) string {
	dir := os.Getenv("OCRINVOICE_SHARED_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "..", "shared", "data")
	}
	dir = filepath.Join(dir, "invoices-dev")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared data not found at %s (set OCRINVOICE_SHARED_DATA): %v", dir, err)
	}
	return dir
}

func runShared(t *testing.T, folder string, mode ocr.Mode, lang string, limit int) *Table {
	t.Helper()
	r, err := ocr.NewReader(ocr.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	cfg := Config{
		Read: string(mode),
		ReadDoc: func(ctx context.Context, path string) (*layout.Document, error) {
			return r.Read(ctx, path, ocr.Options{Mode: mode, Languages: lang})
		},
		Extract: func(d *layout.Document) (invoice.ExtractedData, error) {
			res, err := extract.Extract(d, extract.Options{})
			return res.Data, err
		},
		Parallel: 2,
		Limit:    limit,
	}
	tb, err := Run(context.Background(), filepath.Join(sharedData(t), folder), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	tb.Print(&sb)
	t.Log("\n" + sb.String())
	return tb
}

// TestSharedTextFloors asserts the accuracy floors of the text path on the development
// data (generic rules only, no templates).
func TestSharedTextFloors(t *testing.T) {
	for _, c := range []struct {
		folder string
		floor  float64
	}{{"zugferd-corpus", 0.85}, {"invoice2data-compare", 0.85}} {
		t.Run(c.folder, func(t *testing.T) {
			tb := runShared(t, c.folder, ocr.ModeText, "eng", 0)
			if tb.Failed > 0 {
				t.Errorf("%d documents failed: %+v", tb.Failed, tb.Wrong)
			}
			if tb.Mean < c.floor {
				t.Errorf("%s text mean %.3f < floor %.2f", c.folder, tb.Mean, c.floor)
			}
		})
	}
}

// TestSharedOCRFloors asserts the OCR floors. OCR costs minutes on a small machine, so
// it runs only when OCRINVOICE_EVAL_OCR is set (to "all", or to a number of documents
// per folder, e.g. 20) and never with -short.
func TestSharedOCRFloors(t *testing.T) {
	v := os.Getenv("OCRINVOICE_EVAL_OCR")
	if v == "" || testing.Short() {
		t.Skip("set OCRINVOICE_EVAL_OCR=all (or a per-folder document count) to run the OCR evaluation")
	}
	limit := 0
	if v != "all" {
		if _, err := fmt.Sscan(v, &limit); err != nil {
			t.Fatalf("OCRINVOICE_EVAL_OCR=%q: want all or a number", v)
		}
	}
	for _, c := range []struct {
		folder, lang string
		floor        float64
	}{{"sroie-zzzdavid", "eng", 0.70}, {"invoice2data-compare", "eng", 0.75}, {"zugferd-corpus", "eng+deu", 0.75}} {
		t.Run(c.folder, func(t *testing.T) {
			tb := runShared(t, c.folder, ocr.ModeOCR, c.lang, limit)
			if tb.Mean < c.floor {
				t.Errorf("%s OCR mean %.3f < floor %.2f", c.folder, tb.Mean, c.floor)
			}
		})
	}
}
