package extract

import (
	"context"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// Bad input: documents no invoice rule was made for must come back within the task's
// time with empty fields and a finding that says what is missing, never a panic or a
// hang. The documents are real PDFs read through the real reader (pdftotext), so that
// the extractor sees what it would see in production.

// badInputBudget bounds one extraction of a bad document. The queue gives a whole task
// 15 minutes; extraction is a small part of it and takes about a second on these
// documents (BenchmarkExtractNumbers and the others measure it), twenty times that under
// the race detector, so the bound only catches a hang or a blow-up.
const badInputBudget = 2 * time.Minute

var (
	readerOnce sync.Once
	reader     *ocr.Reader
	readerErr  error
)

// readPDF reads a PDF with a shared one-slot reader (text layers only where the test
// says so).
func readPDF(t testing.TB, pdf []byte, mode ocr.Mode) *layout.Document {
	t.Helper()
	readerOnce.Do(func() { reader, readerErr = ocr.NewReader(ocr.Config{Slots: 1}) })
	if readerErr != nil {
		t.Fatal(readerErr)
	}
	doc, err := reader.ReadBytes(context.Background(), pdf, "bad.pdf", ocr.Options{Mode: mode})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return doc
}

// timedExtract extracts doc and fails when it takes longer than badInputBudget or
// panics (a panic fails the test with its stack anyway; this names the case).
func timedExtract(t testing.TB, doc *layout.Document) (Result, time.Duration) {
	t.Helper()
	done := make(chan struct{})
	var res Result
	var err error
	start := time.Now()
	go func() {
		defer close(done)
		res, err = Extract(doc, Options{Now: time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)})
	}()
	select {
	case <-done:
	case <-time.After(badInputBudget):
		t.Fatalf("extraction still running after %v", badInputBudget)
	}
	if err != nil {
		t.Fatal(err)
	}
	return res, time.Since(start)
}

// densePDF writes A3 pages of lines in Helvetica at size pt, lead pt apart, which lets
// a page hold more text than testdocs.PDF's 11 pt lines. Runs of two or more spaces
// advance to the column the text after them has in the line (0.6 of size per
// character), so tables keep their columns.
func densePDF(size, lead float64, pages ...[]string) []byte {
	var objs []string
	add := func(body string) int { objs = append(objs, body); return len(objs) }
	catalog := add("")
	pagesObj := add("")
	font := add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	var kids []string
	for _, lines := range pages {
		var sb strings.Builder
		fmt.Fprintf(&sb, "BT /F1 %g Tf\n", size)
		for i, l := range lines {
			// Each cell (text between runs of two or more spaces) starts at the column
			// its position in the line gives, so that tables keep their columns.
			for col := 0; col < len(l); {
				for col < len(l) && l[col] == ' ' {
					col++
				}
				end := strings.Index(l[col:], "  ")
				if end < 0 {
					end = len(l) - col
				}
				if end > 0 {
					fmt.Fprintf(&sb, "1 0 0 1 %.1f %.1f Tm (%s) Tj\n", 20+float64(col)*size*0.6, 1191-20-size-float64(i)*lead, l[col:col+end])
				}
				col += end
			}
		}
		sb.WriteString("ET")
		c := add(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", sb.Len(), sb.String()))
		pg := add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 842 1191] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>", pagesObj, font, c))
		kids = append(kids, fmt.Sprintf("%d 0 R", pg))
	}
	objs[catalog-1] = fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pagesObj)
	objs[pagesObj-1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids))
	return testdocs.RawPDF(catalog, objs)
}

// numberCells is n numbers: amounts in two notations, integers and percentages.
func numberCells(n int) []string {
	out := make([]string, n)
	for i := range out {
		switch i % 4 {
		case 0:
			out[i] = fmt.Sprintf("%d.%02d", (i*7919)%100000, i%100)
		case 1:
			out[i] = fmt.Sprint((i * 104729) % 1000000)
		case 2:
			out[i] = fmt.Sprintf("%d,%02d", (i*31)%1000, (i*7)%100)
		default:
			out[i] = fmt.Sprintf("%d%%", i%100)
		}
	}
	return out
}

// gridPDF writes one page of cells in Helvetica 8 pt on a grid of cols columns 45 pt
// apart and rows 10 pt apart, with no label anywhere: a spreadsheet printed on one
// (tall) page.
func gridPDF(cells []string, cols int) []byte {
	rows := (len(cells) + cols - 1) / cols
	w, h := 40+45*cols, 40+10*rows
	var sb strings.Builder
	sb.WriteString("BT /F1 8 Tf\n")
	for i, c := range cells {
		fmt.Fprintf(&sb, "1 0 0 1 %d %d Tm (%s) Tj\n", 20+45*(i%cols), h-28-10*(i/cols), c)
	}
	sb.WriteString("ET")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>", w, h),
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", sb.Len(), sb.String()),
	}
	return testdocs.RawPDF(1, objs)
}

// badChars reports text no field may carry: replacement, control, private-use and
// bidirectional formatting characters.
func badChars(s string) bool {
	for _, r := range s {
		if r == unicode.ReplacementChar || unicode.IsControl(r) || unicode.Is(unicode.Co, r) || unicode.Is(unicode.Bidi_Control, r) {
			return true
		}
	}
	return false
}

// stringFields lists the extracted string fields by path.
func stringFields(d invoice.ExtractedData) map[string]string {
	inv := d.Invoice
	m := map[string]string{
		"number": inv.Number, "date": inv.Date, "dueDate": inv.DueDate,
		"supplier.name": inv.Supplier.Name, "supplier.address": inv.Supplier.Address, "supplier.taxId": inv.Supplier.TaxID,
		"customer.name": inv.Customer.Name, "customer.address": inv.Customer.Address, "currency": inv.Amounts.Currency,
	}
	for i, li := range d.LineItems {
		m[fmt.Sprintf("lineItems[%d].description", i)] = li.Description
	}
	return m
}

// finding returns the first validation finding on field, if any.
func finding(v invoice.ValidationResults, field string) (invoice.ValidationError, bool) {
	for _, e := range v.Errors {
		if e.Field == field {
			return e, true
		}
	}
	return invoice.ValidationError{}, false
}

// TestBadInputTenThousandNumbers: a page of 10,000 unlabelled numbers has no invoice
// data. Extraction must finish, find no amounts, and say so.
func TestBadInputTenThousandNumbers(t *testing.T) {
	doc := readPDF(t, gridPDF(numberCells(10000), 25), ocr.ModeText)
	words := 0
	for _, l := range doc.Pages[0].Lines {
		words += len(l.Words)
	}
	if len(doc.Pages) != 1 || words != 10000 {
		t.Fatalf("read %d pages, %d words; want one page of 10,000", len(doc.Pages), words)
	}
	res, took := timedExtract(t, doc)
	t.Logf("%d words extracted in %v", words, took)
	am := res.Data.Invoice.Amounts
	if am.Total != nil || am.Subtotal != nil || am.Tax != nil || res.Data.Invoice.AmountDue != nil {
		t.Errorf("amounts read from unlabelled numbers: total %v subtotal %v tax %v due %v",
			num(am.Total), num(am.Subtotal), num(am.Tax), num(res.Data.Invoice.AmountDue))
	}
	if res.Data.Invoice.Number != "" {
		t.Errorf("invoice number %q read from unlabelled numbers", res.Data.Invoice.Number)
	}
	f, ok := finding(res.Validation, "invoice.amounts.total")
	if !ok || !strings.Contains(f.Message, "missing: total, subtotal, tax") {
		t.Errorf("no finding naming the missing amounts: %+v", res.Validation.Errors)
	}
}

// itemTable is an invoice with n line items over as many pages as they need, the
// table's header repeated on each page, and the totals after the last row. It returns
// the pages and the items' net sum.
func itemTable(n, perPage int) ([][]string, float64) {
	head := []string{"Northwind Traders Ltd.", "INVOICE", "Invoice No.: INV-2024-0500", "Invoice Date: 15.03.2024", ""}
	header := fmt.Sprintf("%-40s%-10s%-15s%s", "Description", "Qty", "Unit Price", "Amount")
	var pages [][]string
	page := append(append([]string{}, head...), header)
	sum := 0.0
	for i := range n {
		if len(page) == perPage {
			pages = append(pages, page)
			page = []string{header}
		}
		qty := 1 + i%5
		price := 10 + float64(i%17) + 0.25
		amount := float64(qty) * price
		sum += amount
		page = append(page, fmt.Sprintf("%-40s%-10d%-15.2f%.2f", itemDescription(i), qty, price, amount))
	}
	sum = math.Round(sum*100) / 100
	tax := math.Round(sum*19) / 100
	page = append(page, "", fmt.Sprintf("Subtotal: %.2f EUR", sum), fmt.Sprintf("VAT 19%%: %.2f EUR", tax), fmt.Sprintf("Total: %.2f EUR", sum+tax))
	return append(pages, page), sum
}

// itemDescription is the description of item i of itemTable: a few words, as real item
// lines have. (Rows of two or three words on a page without other text defeat the
// extractor's column split, which takes the page's median word gap as its measure of a
// space: that is a limit of item tables continued over pages, not of long tables.)
func itemDescription(i int) string {
	return fmt.Sprintf("Spare part %04d, steel, %s", i+1, []string{"zinc plated", "black", "stainless", "heavy duty"}[i%4])
}

// TestBadInputFiveHundredRows: a 500-row item table over ten pages gives all 500 items
// with their amounts, and the totals.
func TestBadInputFiveHundredRows(t *testing.T) {
	pages, sum := itemTable(500, 52)
	pdf := densePDF(9, 14, pages...)
	doc := readPDF(t, pdf, ocr.ModeText)
	res, took := timedExtract(t, doc)
	t.Logf("%d pages, %d items in %v", len(doc.Pages), len(res.Data.LineItems), took)
	if got := len(res.Data.LineItems); got != 500 {
		t.Fatalf("%d line items, want 500", got)
	}
	got := 0.0
	for i, li := range res.Data.LineItems {
		if li.Amount == nil || li.Quantity == nil || li.UnitPrice == nil {
			t.Fatalf("item %d incomplete: %+v", i, li)
		}
		if want := itemDescription(i); li.Description != want {
			t.Fatalf("item %d description %q, want %q", i, li.Description, want)
		}
		got += *li.Amount
	}
	if math.Abs(got-sum) > 0.005 {
		t.Errorf("items add up to %.2f, want %.2f", got, sum)
	}
	am := res.Data.Invoice.Amounts
	if am.Subtotal == nil || math.Abs(*am.Subtotal-sum) > 0.005 || am.Total == nil {
		t.Errorf("subtotal %v total %v, want subtotal %.2f and a total", num(am.Subtotal), num(am.Total), sum)
	}
}

// TestBadInputNoAmounts: an invoice with a number, a date and parties but no amount at
// all keeps its other fields, has no amounts, and a finding names the missing ones.
func TestBadInputNoAmounts(t *testing.T) {
	lines := []string{
		"Northwind Traders Ltd.",
		"12 Harbour Road, Bristol BS1 4AB",
		"",
		"INVOICE",
		"Invoice No.: INV-2024-0077",
		"Invoice Date: 15.03.2024",
		"",
		"Bill to:",
		"Contoso Pharmaceuticals",
		"",
		"Services as agreed in our contract.",
		"Amounts will be confirmed separately.",
	}
	doc := readPDF(t, testdocs.PDF(testdocs.Page{Lines: lines}), ocr.ModeText)
	res, _ := timedExtract(t, doc)
	inv := res.Data.Invoice
	if inv.Number != "INV-2024-0077" || inv.Date != "2024-03-15" {
		t.Errorf("number %q date %q, want INV-2024-0077 and 2024-03-15", inv.Number, inv.Date)
	}
	if inv.Amounts.Total != nil || inv.Amounts.Subtotal != nil || inv.Amounts.Tax != nil || inv.AmountDue != nil || len(res.Data.LineItems) != 0 {
		t.Errorf("amounts %+v due %v items %d from a document without any", inv.Amounts, num(inv.AmountDue), len(res.Data.LineItems))
	}
	f, ok := finding(res.Validation, "invoice.amounts.total")
	if !ok {
		t.Fatalf("no finding on invoice.amounts.total: %+v", res.Validation.Errors)
	}
	if f.Message != "no amounts were found; missing: total, subtotal, tax" || f.Severity != invoice.SeverityWarning {
		t.Errorf("finding %+v, want a warning naming total, subtotal and tax", f)
	}
	if _, ok := res.Confidence.Fields["invoice.amounts.total"]; ok {
		t.Error("a confidence for a total that was not found")
	}
}

// TestBadInputRightToLeft: Hebrew and Arabic invoices with Latin digits, their text layer
// drawn right to left with an embedded font as producers do. The reader keeps the text
// layer (it is real text), and extraction neither panics nor puts broken characters or
// invented amounts in the fields.
func TestBadInputRightToLeft(t *testing.T) {
	ttf, err := os.ReadFile("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
	if err != nil {
		t.Skipf("DejaVu Sans not installed (apt-get install fonts-dejavu-core): %v", err)
	}
	rtl := func(r rune) bool { return unicode.In(r, unicode.Hebrew, unicode.Arabic) }
	hebrew := []string{
		"חברת האור בע\"מ",
		"רחוב הרצל 12, תל אביב",
		"",
		"חשבונית מס 4711",
		"תאריך 12/03/2024",
		"",
		"תיאור           כמות      מחיר      סכום",
		"ייעוץ            2       500.00    1000.00",
		"",
		"סה\"כ לפני מע\"מ                 1000.00",
		"מע\"מ 17%                        170.00",
		"סה\"כ לתשלום                    1170.00",
	}
	arabic := []string{
		"شركة النور للتجارة",
		"شارع الملك فهد 12، الرياض",
		"",
		"فاتورة ضريبية رقم 4711",
		"التاريخ 2024-03-12",
		"",
		"الوصف           الكمية     السعر      المبلغ",
		"استشارات          2       500.00    1000.00",
		"",
		"المجموع قبل الضريبة             1000.00",
		"ضريبة القيمة المضافة 15%          150.00",
		"الإجمالي المستحق                 1150.00",
	}
	for _, tc := range []struct {
		name   string
		lines  []string
		totals []float64 // amounts printed on the page
	}{
		{"hebrew", hebrew, []float64{500, 1000, 170, 1170}},
		{"arabic", arabic, []float64{500, 1000, 150, 1150}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pdf, err := testdocs.TrueTypePDF{TTF: ttf, ToUnicode: true, RTL: rtl}.Build(tc.lines)
			if err != nil {
				t.Fatal(err)
			}
			doc := readPDF(t, pdf, ocr.ModeAuto)
			if p := doc.Pages[0]; p.Source != layout.SourceTextLayer || len(doc.Warnings) > 0 {
				t.Errorf("page read from %q, warnings %q: the right-to-left text layer was refused", p.Source, doc.Warnings)
			}
			text := doc.Pages[0].Text
			if !strings.Contains(text, "4711") || !strings.Contains(text, "1000.00") {
				t.Errorf("Latin digits lost by the reader: %q", text)
			}
			res, _ := timedExtract(t, doc)
			for path, v := range stringFields(res.Data) {
				if badChars(v) {
					t.Errorf("%s = %q carries broken characters", path, v)
				}
			}
			printed := func(p *float64) bool {
				for _, v := range tc.totals {
					if p != nil && math.Abs(*p-v) < 0.005 {
						return true
					}
				}
				return p == nil
			}
			am := res.Data.Invoice.Amounts
			for name, p := range map[string]*float64{"total": am.Total, "subtotal": am.Subtotal, "tax": am.Tax, "amountDue": res.Data.Invoice.AmountDue} {
				if !printed(p) {
					t.Errorf("%s = %v is not an amount printed on the page", name, *p)
				}
			}
			// Words drawn right to left come back in reading order: the supplier's name
			// is the first line as written, not its mirror image.
			if n := res.Data.Invoice.Supplier.Name; n != "" && n != tc.lines[0] {
				t.Errorf("supplier name %q, want %q or nothing", n, tc.lines[0])
			}
			if !strings.Contains(documentText(doc), tc.lines[0]) {
				t.Errorf("page text lacks the first line %q in reading order:\n%s", tc.lines[0], documentText(doc))
			}
			if d := res.Data.Invoice.Date; d != "" && d != "2024-03-12" {
				t.Errorf("date %q, want 2024-03-12 or nothing", d)
			}
			if am.Total == nil {
				if _, ok := finding(res.Validation, "invoice.amounts.total"); !ok {
					t.Errorf("no total and no finding saying so: %+v", res.Validation.Errors)
				}
			}
			t.Logf("number %q date %q supplier %q total %v findings %+v", res.Data.Invoice.Number, res.Data.Invoice.Date,
				res.Data.Invoice.Supplier.Name, num(am.Total), res.Validation.Errors)
		})
	}
}

// TestBadInputGarbageLayerFinding: a PDF whose text layer the reader refused carries the
// reader's note into the validation findings.
func TestBadInputGarbageLayerFinding(t *testing.T) {
	doc := &layout.Document{Format: "pdf", Pages: []layout.Page{{Number: 1, Source: layout.SourceOCR}},
		Warnings: []string{"page 1: the PDF text layer is not readable text (x); the page was read by OCR"}}
	res, _ := timedExtract(t, doc)
	f, ok := finding(res.Validation, "document")
	if !ok || f.Message != doc.Warnings[0] || f.Severity != invoice.SeverityWarning {
		t.Errorf("findings %+v, want the reader's warning on field document", res.Validation.Errors)
	}
	if len(res.Warnings) != 1 || res.Warnings[0] != doc.Warnings[0] {
		t.Errorf("Result.Warnings = %q", res.Warnings)
	}
}

// BenchmarkExtractItemTable measures extraction of item tables of growing length, read
// once through the reader: time per row must stay about flat (no quadratic blow-up).
func BenchmarkExtractItemTable(b *testing.B) {
	for _, n := range []int{50, 100, 200, 500, 1000} {
		pages, _ := itemTable(n, 52)
		doc := readPDF(b, densePDF(9, 14, pages...), ocr.ModeText)
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Extract(doc, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/row")
		})
	}
}

// BenchmarkFindLabels measures the label search over documents of growing length
// where every row carries a label (a statement with a total per line): time per row
// must stay about flat.
func BenchmarkFindLabels(b *testing.B) {
	for _, n := range []int{1000, 4000, 16000} {
		var sb strings.Builder
		for i := range n {
			fmt.Fprintf(&sb, "Total %d.00\n", i)
		}
		d := buildDoc(FromText(sb.String()))
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			for b.Loop() {
				if len(d.findLabels(totalLabels)) != n {
					b.Fatal("labels missed")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/row")
		})
	}
}

// BenchmarkExtractNumbers measures extraction of one page of unlabelled numbers of
// growing count.
func BenchmarkExtractNumbers(b *testing.B) {
	for _, n := range []int{1000, 2500, 5000, 10000} {
		doc := readPDF(b, gridPDF(numberCells(n), 25), ocr.ModeText)
		b.Run(fmt.Sprintf("numbers=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Extract(doc, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/number")
		})
	}
}
