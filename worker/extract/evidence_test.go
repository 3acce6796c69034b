package extract

import (
	"math"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// densePDF draws 9 pt Helvetica on 842x1191 pt pages, each cell (text between runs of
// two spaces) at x = 20 + col*5.4 pt, line i's baseline 20 + 9 + 14*i pt from the top:
// where each value is printed is known exactly.
const (
	evSize, evLead   = 9.0, 14.0
	evPageW, evPageH = 842.0, 1191.0
)

// cellX is the page-relative left edge of the cell starting at column col.
func cellX(col int) float64 { return (20 + float64(col)*evSize*0.6) / evPageW }

// lineY is the page-relative baseline of line i.
func lineY(i int) float64 { return (20 + evSize + float64(i)*evLead) / evPageH }

// col is the column of s in line (its byte offset).
func col(t *testing.T, line, s string) int {
	t.Helper()
	i := strings.Index(line, s)
	if i < 0 {
		t.Fatalf("%q not in %q", s, line)
	}
	return i
}

// checkBox fails unless b is the box of text starting at column c on lines first..last.
func checkBox(t *testing.T, what string, b *invoice.Box, c, first, last int) {
	t.Helper()
	if b == nil {
		t.Errorf("%s: no box", what)
		return
	}
	// The box starts at the cell's left edge and spans the glyphs of its lines: from
	// above the first baseline (less than a font size) to about the last baseline.
	if math.Abs(b.X0-cellX(c)) > 0.004 || b.X1 <= b.X0 || b.X1 > 1 {
		t.Errorf("%s: box x %.4f..%.4f, want from %.4f", what, b.X0, b.X1, cellX(c))
	}
	if b.Y0 < lineY(first)-evSize*1.2/evPageH || b.Y0 > lineY(first) || b.Y1 < lineY(last)-evSize*0.3/evPageH || b.Y1 > lineY(last)+evSize*0.5/evPageH {
		t.Errorf("%s: box y %.4f..%.4f, want about %.4f..%.4f (lines %d..%d)", what, b.Y0, b.Y1, lineY(first)-evSize/evPageH, lineY(last), first, last)
	}
}

// evidenceLines is an invoice whose values are printed in the forms Locate must read:
// European and US amounts with currency signs, a negative in parentheses, a date in
// words and a US date, an id and an IBAN in groups, an address over two lines in a
// column with other text beside it, and a line amount equal to the total.
var evidenceLines = []string{
	"Muster Handel GmbH", // 0
	"Industriestrasse 8", // 1
	"70565 Stuttgart",    // 2
	"",                   // 3
	"Globex Corporation                              Invoice No.:  RE 2024/0042", // 4
	"Market Street 5                                 Date:  7. Mai 2024",         // 5
	"80331 Munich                                    Due date:  05/28/2024",      // 6
	"", // 7
	"Description             Qty     Unit price         Amount",   // 8
	"Consulting days           3        $400.00      $1,200.00",   // 9
	"Travel flat fee           1     1.234,56 EUR   1.234,56 EUR", // 10
	"", // 11
	"Credit for prior order                              (45.10)",  // 12
	"Total                                           1.234,56 EUR", // 13
	"", // 14
	"VAT ID:  DE 136 695 976     IBAN  DE89 3704 0044 0532 0130 00", // 15
}

// TestLocateForms: each value is found where it was drawn, whatever its printed form;
// the source is the text layer and the confidence that of its words.
func TestLocateForms(t *testing.T) {
	ld := readPDF(t, densePDF(evSize, evLead, evidenceLines), ocr.ModeText)
	l := NewLocator(ld)
	L := evidenceLines
	for _, c := range []struct {
		path        string
		value       any
		line, last  int
		start, text string
		label       string
	}{
		{"invoice.number", "RE-2024/0042", 4, 4, "RE 2024/0042", "RE 2024/0042", "Invoice No."},
		{"invoice.date", "2024-05-07", 5, 5, "7. Mai 2024", "7. Mai 2024", "Date"},
		{"invoice.dueDate", "2024-05-28", 6, 6, "05/28/2024", "05/28/2024", "Due date"},
		{"invoice.supplier.name", "MUSTER handel gmbh", 0, 0, "Muster", "Muster Handel GmbH", ""},
		{"invoice.supplier.address", "Industriestrasse 8, 70565 Stuttgart", 1, 2, "Industriestrasse", "Industriestrasse 8\n70565 Stuttgart", "Muster Handel GmbH"},
		{"invoice.customer.address", "Market Street 5\n80331 Munich", 5, 6, "Market", "Market Street 5\n80331 Munich", "Globex Corporation"},
		{"lineItems[0].amount", 1200.0, 9, 9, "$1,200.00", "$1,200.00", "$400.00"},
		{"lineItems[0].unitPrice", invoice.Float(400), 9, 9, "$400.00", "$400.00", "3"},
		{"invoice.amounts.discount", -45.10, 12, 12, "(45.10)", "(45.10)", "Credit for prior order"},
		{"invoice.amounts.total", 1234.56, 13, 13, "1.234,56 EUR", "1.234,56", "Total"},
		{"invoice.supplier.taxId", "DE136695976", 15, 15, "DE 136", "DE 136 695 976", "VAT ID"},
		{"invoice.payment.iban", "de89370400440532013000", 15, 15, "DE89", "DE89 3704 0044 0532 0130 00", "IBAN"},
		{"invoice.amounts.currency", "EUR", 13, 13, "1.234,56 EUR", "EUR", "1.234,56"},
	} {
		t.Run(c.path, func(t *testing.T) {
			m, ok := l.Locate(c.path, c.value)
			if !ok {
				t.Fatalf("%v not located", c.value)
			}
			if m.Page != 1 || m.Text != c.text || m.Source != invoice.SourceText || m.Confidence != 1 {
				t.Errorf("got page %d text %q source %q confidence %v, want 1 %q text 1", m.Page, m.Text, m.Source, m.Confidence, c.text)
			}
			b := *m.Box
			if c.path == "invoice.amounts.currency" {
				// "EUR" is inside its cell, whose left edge alone is known.
				b.X0 = cellX(col(t, L[c.line], c.start))
			}
			checkBox(t, c.path, &b, col(t, L[c.line], c.start), c.line, c.last)
			if c.label != "" && m.Label != c.label {
				t.Errorf("label %q, want %q", m.Label, c.label)
			}
		})
	}
	// The package functions give the same.
	ev, label, ok := LocateLabel(ld, "invoice.amounts.total", 1234.56)
	if !ok || label != "Total" || ev.Text != "1.234,56" {
		t.Errorf("LocateLabel: %+v %q %v", ev, label, ok)
	}
	if ev2, ok := Locate(ld, "invoice.amounts.total", 1234.56); !ok || *ev2.Box != *ev.Box {
		t.Errorf("Locate: %+v %v, want %+v", ev2, ok, ev)
	}
}

// TestLocateLabelledOccurrence: a value printed twice is taken where the field's label
// is: the total beside "Total", not the equal line amount above it; the line amount
// where the table is, not beside "Total".
func TestLocateLabelledOccurrence(t *testing.T) {
	ld := readPDF(t, densePDF(evSize, evLead, evidenceLines), ocr.ModeText)
	l := NewLocator(ld)
	tot, ok := l.Locate("invoice.amounts.total", 1234.56)
	if !ok || !tot.Labelled || tot.Label != "Total" {
		t.Fatalf("total: %+v", tot)
	}
	checkBox(t, "total", tot.Box, col(t, evidenceLines[13], "1.234,56"), 13, 13)
	line, ok := l.Locate("lineItems[1].amount", 1234.56)
	if !ok || line.Labelled {
		t.Fatalf("line amount: %+v", line)
	}
	if line.Box.Y0 > lineY(10) || line.Box.Y1 < lineY(10)-0.005 {
		t.Errorf("line amount on y %.4f..%.4f, want line 10 at %.4f", line.Box.Y0, line.Box.Y1, lineY(10))
	}
}

// TestLocateNotPrinted: a value that is not on the page, an empty value, a value of
// the wrong type, a field that is not printed as such, numbers that are no amounts
// (NaN, infinities), huge texts and invalid UTF-8 are not located, quickly; an unknown
// path is looked for as text.
func TestLocateNotPrinted(t *testing.T) {
	ld := readPDF(t, densePDF(evSize, evLead, evidenceLines), ocr.ModeText)
	for _, c := range []struct {
		path  string
		value any
	}{
		{"invoice.amounts.total", 999.99},
		{"invoice.date", "2023-01-01"},
		{"invoice.number", "NOT-ON-PAGE-7"},
		{"invoice.number", ""},
		{"invoice.amounts.total", nil},
		{"invoice.amounts.total", "abc"},
		{"invoice.date", 12.5},
		{"invoice.documentType", "invoice"},
		{"invoice.supplier.country", "DE"},
		{"invoice.customer.name", "Globex Corp Ltd of Somewhere Else"},
		{"invoice.amounts.total", math.NaN()},
		{"invoice.amounts.total", math.Inf(1)},
		{"lineItems[0].quantity", math.Inf(-1)},
		{"invoice.supplier.name", strings.Repeat("Muster Handel GmbH ", 50000)},
		{"lineItems[0].description", strings.Repeat("Consulting days, ", 5000)},
		{"invoice.number", "\x00\xff"},
		{"no such path", 1234.56},
	} {
		if ev, ok := Locate(ld, c.path, c.value); ok {
			t.Errorf("%s %v: located %+v", c.path, c.value, ev)
		}
	}
	if _, ok := Locate(ld, "no such path", "Globex Corporation"); !ok {
		t.Error("unknown path: a printed text not located")
	}
	if _, ok := Locate(nil, "invoice.number", "x"); ok {
		t.Error("nil document: located")
	}
	if _, ok := Locate(&layout.Document{}, "invoice.number", "x"); ok {
		t.Error("empty document: located")
	}
}

// TestLocateOCR: on an OCR page the box is the words' pixels over the page's, the
// source is OCR and the confidence the words' mean.
func TestLocateOCR(t *testing.T) {
	w := func(text string, x0, y0, x1, y1, conf float64) layout.Word {
		return layout.Word{Text: text, Box: layout.Box{X0: x0, Y0: y0, X1: x1, Y1: y1}, Confidence: conf}
	}
	line := func(ws ...layout.Word) layout.Line {
		b := ws[0].Box
		for _, x := range ws[1:] {
			b = union(b, x.Box)
		}
		return layout.Line{Words: ws, Box: b}
	}
	ld := &layout.Document{Format: "png", Pages: []layout.Page{{Number: 1, Width: 2000, Height: 3000, Source: layout.SourceOCR, Lines: []layout.Line{
		line(w("Invoice", 100, 200, 300, 240, 0.9), w("No.", 320, 200, 400, 240, 0.9), w("A-77", 440, 200, 560, 240, 0.8)),
		line(w("Grand", 100, 400, 260, 440, 0.9), w("Total", 280, 400, 420, 440, 0.9), w("1", 1400, 400, 1430, 440, 0.6), w("234.50", 1450, 400, 1600, 440, 0.7)),
	}}}}
	ev, label, ok := LocateLabel(ld, "invoice.amounts.total", 1234.5)
	if !ok {
		t.Fatal("total not located")
	}
	want := invoice.Box{X0: 0.7, Y0: 400.0 / 3000, X1: 0.8, Y1: 440.0 / 3000}
	if ev.Page != 1 || ev.Source != invoice.SourceOCR || math.Abs(ev.Confidence-0.65) > 1e-9 || ev.Text != "1 234.50" || label != "Grand Total" ||
		math.Abs(ev.Box.X0-want.X0) > 1e-4 || math.Abs(ev.Box.Y0-want.Y0) > 1e-4 || math.Abs(ev.Box.X1-want.X1) > 1e-4 || math.Abs(ev.Box.Y1-want.Y1) > 1e-4 {
		t.Errorf("got %+v box %+v label %q, want page 1 ocr 0.65 %q box %+v label Grand Total", ev, *ev.Box, label, "1 234.50", want)
	}
	if ev, ok := Locate(ld, "invoice.number", "a77"); !ok || ev.Text != "A-77" || ev.Confidence != 0.8 {
		t.Errorf("number: %+v %v", ev, ok)
	}
}

// TestExtractEvidence: Extract gives every non-empty field evidence: where it is
// printed, with the field's confidence, line items cell by cell on their own rows, the
// template's fields with source template, and a value not printed on Page 0.
func TestExtractEvidence(t *testing.T) {
	ld := readPDF(t, densePDF(evSize, evLead, evidenceLines), ocr.ModeText)
	res, err := Extract(ld, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range invoice.Fields(res.Data) {
		if empty(f.Value) {
			if _, ok := res.Evidence[f.Path]; ok {
				t.Errorf("%s: evidence for an empty field", f.Path)
			}
			continue
		}
		ev, ok := res.Evidence[f.Path]
		switch {
		case !ok:
			t.Errorf("%s (%v): no evidence", f.Path, f.Value)
			continue
		case ev.Source != invoice.SourceText:
			t.Errorf("%s: source %q", f.Path, ev.Source)
		case ev.Page == 0 && kindOf(f.Path) != evNone:
			t.Errorf("%s (%v): not located: %+v", f.Path, f.Value, ev)
		case ev.Page == 0 && (ev.Box != nil || ev.Text != valueText(f.Value)):
			t.Errorf("%s: not on a page, yet %+v", f.Path, ev)
		}
		if c, ok := fieldConfidence(res.Confidence.Fields, f.Path); ok && ev.Confidence != c {
			t.Errorf("%s: confidence %v, want the field's %v", f.Path, ev.Confidence, c)
		}
	}
	if len(res.Data.LineItems) < 2 {
		t.Fatalf("line items %+v", res.Data.LineItems)
	}
	// Each item's cells are on its own row, even where the same number is printed
	// elsewhere.
	for i, row := range []int{9, 10} {
		for _, cell := range []string{"description", "quantity", "unitPrice", "amount"} {
			p := "lineItems[" + string(rune('0'+i)) + "]." + cell
			ev := res.Evidence[p]
			if ev.Box == nil || ev.Box.Y0 > lineY(row) || ev.Box.Y1 < lineY(row)-0.005 {
				t.Errorf("%s: %+v, want on line %d", p, ev, row)
			}
		}
	}
	if ev := res.Evidence["lineItems[0].quantity"]; ev.Text != "3" || math.Abs(ev.Box.X0-cellX(col(t, evidenceLines[9], "3"))) > 0.004 {
		t.Errorf("quantity: %+v", ev)
	}
	if ev := res.Evidence["invoice.documentType"]; ev.Page != 0 || ev.Text != res.Data.Invoice.DocumentType {
		t.Errorf("document type: %+v", ev)
	}
	if ev := res.Evidence["invoice.amounts.total"]; ev.Confidence != res.Confidence.Fields["invoice.amounts.total"] || ev.Text != "1.234,56" {
		t.Errorf("total: %+v", ev)
	}
	if off, _ := Extract(ld, Options{NoEvidence: true}); off.Evidence != nil {
		t.Errorf("NoEvidence: %d entries", len(off.Evidence))
	}

	// A template's number: source template, still located on the page.
	spec := &invoice.TemplateSpec{Keywords: []string{"Globex"}, Fields: map[string]invoice.FieldRule{
		"invoice_number": {Regex: []string{`Invoice No\.:\s+(RE \d+/\d+)`}},
	}}
	tr, err := Extract(ld, Options{Spec: spec})
	if err != nil {
		t.Fatal(err)
	}
	if ev := tr.Evidence["invoice.number"]; ev.Source != invoice.SourceTemplate || ev.Page != 1 || ev.Text != "RE 2024/0042" {
		t.Errorf("template number: %+v (template %q, number %q)", ev, tr.Template, tr.Data.Invoice.Number)
	}
	if ev := tr.Evidence["invoice.date"]; ev.Source != invoice.SourceText {
		t.Errorf("generic date under a template: %+v", ev)
	}
}

// TestExtractEvidenceNotPrinted: a value extraction sets that is on no page (the
// currency a job's spec names) has evidence on Page 0 with the value as its text.
func TestExtractEvidenceNotPrinted(t *testing.T) {
	ld := FromText("Invoice No. 4711\nDate: 03.04.2024\nTotal 120.00\n")
	res, err := Extract(ld, Options{Spec: &invoice.TemplateSpec{Options: invoice.TemplateOptions{Currency: "CHF"}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Data.Invoice.Amounts.Currency != "CHF" {
		t.Fatalf("currency %q", res.Data.Invoice.Amounts.Currency)
	}
	ev, ok := res.Evidence["invoice.amounts.currency"]
	if !ok || ev.Page != 0 || ev.Box != nil || ev.Text != "CHF" || ev.Confidence != res.Confidence.Fields["invoice.amounts.currency"] {
		t.Errorf("currency evidence %+v %v", ev, ok)
	}
	if ev := res.Evidence["invoice.amounts.total"]; ev.Page != 1 || ev.Text != "120.00" || ev.Box == nil {
		t.Errorf("total evidence %+v", ev)
	}
}

// TestLocatePieces: a line item's description put together from cells printed apart
// (an article number in one column, the name in the next, a note on the row below) is
// the union of those cells; a description one of whose words is nowhere is not found.
func TestLocatePieces(t *testing.T) {
	lines := []string{
		"Pos  Art-Nr        Bezeichnung                Menge     Betrag", // 0
		"1    ART-4711      Kunstrasen gruen 3m           20     400,00", // 1
		"                   Farbe: dunkelgruen",                          // 2
		"2    ART-4712      Randstein                      5      50,00", // 3
	}
	ld := readPDF(t, densePDF(evSize, evLead, lines), ocr.ModeText)
	m, ok := NewLocator(ld).Locate("lineItems[0].description", "ART-4711 Kunstrasen gruen 3m Farbe: dunkelgruen")
	if !ok {
		t.Fatal("description not located")
	}
	checkBox(t, "description", m.Box, col(t, lines[1], "ART-4711"), 1, 2)
	if m.Text != "ART-4711\nKunstrasen gruen 3m\nFarbe: dunkelgruen" && m.Text != "ART-4711 Kunstrasen gruen 3m\nFarbe: dunkelgruen" {
		t.Errorf("text %q", m.Text)
	}
	if _, ok := NewLocator(ld).Locate("lineItems[0].description", "ART-4711 Kunstrasen blau"); ok {
		t.Error("a description with a word not printed was located")
	}
}

// TestLocateLabelText: the label is the text before the value on its row without a
// currency sign or code between them, but with the "HT"/"TTC" that tells a French net
// total from a gross one; else the text above the value.
func TestLocateLabelText(t *testing.T) {
	ld := FromText("Total HT          530,75\nTVA 20 %          106,15\nTotal TTC:   EUR  636,90\nFacture n°\nF-2024-17\n")
	for _, c := range []struct {
		path  string
		value any
		label string
	}{
		{"invoice.amounts.subtotal", 530.75, "Total HT"},
		{"invoice.amounts.tax", 106.15, "TVA 20 %"},
		{"invoice.amounts.total", 636.90, "Total TTC"},
		{"invoice.number", "F-2024-17", "Facture n°"},
	} {
		_, label, ok := LocateLabel(ld, c.path, c.value)
		if !ok || label != c.label {
			t.Errorf("%s: label %q %v, want %q", c.path, label, ok, c.label)
		}
	}
}
