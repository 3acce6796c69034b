package worker

import (
	"context"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker/einvoice/export"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// testdocs.PDF prints 11 pt lines 14 pt apart from the top left of a 612x792 pt page:
// line i's baseline is 52 + 14i pt from the top.
func pdfLineY(i int) float64 { return (52 + 14*float64(i)) / 792 }

// onLine reports whether a box is on line i of a testdocs.PDF page.
func onLine(b *invoice.Box, i int) bool {
	return b != nil && b.Y0 < pdfLineY(i) && b.Y1 > pdfLineY(i)-6.0/792 && b.Y0 > pdfLineY(i)-14.0/792
}

// TestEInvoiceEvidence: the values of a hybrid PDF's XML have evidence with source
// einvoice and confidence 1, on the page where its text layer prints them (the total
// beside "Total:", each line's amount on its own line) and on Page 0 where it does not
// (the country, the unit code); a standalone XML, or a PDF whose pages were not read
// for the cross-check, has every value on Page 0.
func TestEInvoiceEvidence(t *testing.T) {
	r := newProcessReader(t)
	data := acmeInvoice()
	xml := mustXML(t, data, export.CII)
	pdf := testdocs.HybridPDF([]testdocs.File{{Name: "factur-x.xml", MIME: "text/xml", Data: xml}}, testdocs.Page{Lines: testdocs.InvoiceLines})
	out, err := Process(context.Background(), r, Input{Data: pdf, Name: "hybrid.pdf"}, Steps{})
	if err != nil {
		t.Fatal(err)
	}
	if out.Info.Source != invoice.SourceEInvoice {
		t.Fatalf("source %q", out.Info.Source)
	}
	ev := out.Result.Evidence
	for _, f := range invoice.Fields(out.Result.Data) {
		if f.Value == nil || f.Value == "" {
			continue
		}
		e, ok := ev[f.Path]
		if !ok || e.Source != invoice.SourceEInvoice || e.Confidence != 1 {
			t.Errorf("%s: evidence %+v %v", f.Path, e, ok)
		}
	}
	for path, line := range map[string]int{
		"invoice.number": 5, "invoice.date": 6, "invoice.dueDate": 7, "invoice.supplier.name": 0, "invoice.supplier.taxId": 2,
		"invoice.customer.name": 10, "invoice.amounts.subtotal": 17, "invoice.amounts.tax": 18, "invoice.amounts.total": 19,
		"invoice.amountDue": 19, "lineItems[0].amount": 14, "lineItems[1].amount": 15, "lineItems[1].quantity": 15,
		"lineItems[0].description": 14,
	} {
		if e := ev[path]; e.Page != 1 || !onLine(e.Box, line) {
			t.Errorf("%s: %+v box %+v, want page 1 line %d (y %.4f)", path, e, e.Box, line, pdfLineY(line))
		}
	}
	if e := ev["invoice.amounts.total"]; e.Text != "238.00" || e.Box.X0 < 0.1 {
		t.Errorf("total: %+v %+v", e, e.Box)
	}
	for _, path := range []string{"invoice.supplier.country", "lineItems[0].unitCode", "invoice.taxBreakdown[0].category"} {
		if e, ok := ev[path]; !ok || e.Page != 0 || e.Box != nil || e.Text == "" {
			t.Errorf("%s: %+v %v, want Page 0 with the value", path, e, ok)
		}
	}

	for name, run := range map[string]func() (*Outcome, error){
		"standalone xml": func() (*Outcome, error) {
			return Process(context.Background(), r, Input{Data: xml, Name: "invoice.xml"}, Steps{})
		},
		"no cross-check": func() (*Outcome, error) {
			return Process(context.Background(), r, Input{Data: pdf, Name: "hybrid.pdf"}, Steps{NoCrossCheck: true})
		},
	} {
		out, err := run()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(out.Result.Evidence) < 20 {
			t.Errorf("%s: %d evidence entries", name, len(out.Result.Evidence))
		}
		for path, e := range out.Result.Evidence {
			if e.Page != 0 || e.Box != nil || e.Source != invoice.SourceEInvoice || e.Confidence != 1 || e.Text == "" {
				t.Errorf("%s: %s: %+v", name, path, e)
			}
		}
	}
}

// TestProcessEvidence: a PDF read from its text layer has evidence for its fields with
// source text; the same page scanned (OCR) has source ocr.
func TestProcessEvidence(t *testing.T) {
	r := newProcessReader(t)
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	out, err := Process(context.Background(), r, Input{Data: pdf, Name: "plain.pdf"}, Steps{})
	if err != nil {
		t.Fatal(err)
	}
	e := out.Result.Evidence["invoice.amounts.total"]
	if e.Source != invoice.SourceText || e.Page != 1 || !onLine(e.Box, 19) || e.Text != "238.00" {
		t.Errorf("total: %+v %+v", e, e.Box)
	}
	if e := out.Result.Evidence["invoice.number"]; e.Source != invoice.SourceText || !onLine(e.Box, 5) {
		t.Errorf("number: %+v %+v", e, e.Box)
	}

	// OCR of the rendered page: the same places in page-relative coordinates.
	scan, err := Process(context.Background(), r, Input{Data: pdf, Name: "plain.pdf"}, Steps{Read: ocr.Options{Mode: ocr.ModeOCR}})
	if err != nil {
		t.Fatal(err)
	}
	for path, line := range map[string]int{"invoice.amounts.total": 19, "invoice.number": 5, "invoice.date": 6} {
		e, ok := scan.Result.Evidence[path]
		if !ok || e.Source != invoice.SourceOCR || e.Page != 1 || !onLine(e.Box, line) || e.Confidence != scan.Result.Confidence.Fields[path] {
			t.Errorf("OCR %s: %+v %+v, want page 1 line %d, source ocr, confidence %v", path, e, e.Box, line, scan.Result.Confidence.Fields[path])
		}
		if t0 := out.Result.Evidence[path].Box; e.Box != nil && (abs(e.Box.X0-t0.X0) > 0.01 || abs(e.Box.X1-t0.X1) > 0.015) {
			t.Errorf("OCR %s: box %+v, text layer %+v", path, *e.Box, *t0)
		}
	}
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}
