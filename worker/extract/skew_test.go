package extract

import (
	"testing"

	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// TestSkewedLineStaysOneRow: on a skewed scan the words of one reader line climb across
// the page; they stay one row (so "10 Mar" and "2018" make a date), while the same
// offset between words of different lines still makes two rows.
func TestSkewedLineStaysOneRow(t *testing.T) {
	word := func(text string, x0, y0 float64) layout.Word {
		return layout.Word{Text: text, Box: layout.Box{X0: x0, Y0: y0, X1: x0 + 60, Y1: y0 + 30}, Confidence: 0.9}
	}
	line := func(ws ...layout.Word) layout.Line {
		l := layout.Line{Words: ws, Box: ws[0].Box}
		for _, w := range ws {
			l.Box.Y0, l.Box.Y1 = min(l.Box.Y0, w.Box.Y0), max(l.Box.Y1, w.Box.Y1)
			l.Box.X1 = max(l.Box.X1, w.Box.X1)
		}
		return l
	}
	// "2018" sits 21 px (0.7 of a word's height) above "10" and "Mar".
	skewed := line(word("10", 100, 121), word("Mar", 170, 121), word("2018", 240, 100), word("18:24", 310, 100))
	doc := &layout.Document{Pages: []layout.Page{{Number: 1, Width: 1000, Height: 1400, Source: layout.SourceOCR, Lines: []layout.Line{skewed}}}}
	if rows := buildDoc(doc).rows; len(rows) != 1 || rows[0].text != "10 Mar 2018 18:24" {
		t.Errorf("one skewed line gave rows %q", rowTexts(rows))
	}
	apart := []layout.Line{line(word("10", 100, 121), word("Mar", 170, 121)), line(word("2018", 240, 100), word("18:24", 310, 100))}
	doc.Pages[0].Lines = apart
	if rows := buildDoc(doc).rows; len(rows) != 2 {
		t.Errorf("two lines with the same offset gave rows %q", rowTexts(rows))
	}
}

func rowTexts(rows []row) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.text
	}
	return out
}

// TestCommaJoinsItsRow: a comma OCR reads as a word of its own hangs below the letters'
// centre; it stays in their row, so "August 3 , 2014" is one date, and a comma that
// sits below a row without touching it starts no row of its own next to it either.
func TestCommaJoinsItsRow(t *testing.T) {
	w := func(text string, x0, y0, x1, y1 float64) layout.Word {
		return layout.Word{Text: text, Box: layout.Box{X0: x0, Y0: y0, X1: x1, Y1: y1}, Confidence: 0.9}
	}
	// As Tesseract put them: the comma is a line of its own, 17 px below the text.
	text := layout.Line{Words: []layout.Word{w("Invoice", 876, 442, 960, 462), w("Date:", 968, 442, 1024, 462),
		w("August", 1753, 442, 1835, 467), w("3", 1845, 442, 1859, 462), w("2014", 1883, 442, 1942, 462)}}
	comma := layout.Line{Words: []layout.Word{w(",", 1869, 459, 1873, 468)}}
	doc := &layout.Document{Pages: []layout.Page{{Number: 1, Width: 2000, Height: 2800, Source: layout.SourceOCR, Lines: []layout.Line{text, comma}}}}
	rows := buildDoc(doc).rows
	if len(rows) != 1 || rows[0].text != "Invoice Date:   August 3 , 2014" {
		t.Fatalf("rows %q", rowTexts(rows))
	}
	res, err := Extract(doc, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Data.Invoice.Date != "2014-08-03" {
		t.Errorf("date %q", res.Data.Invoice.Date)
	}
}
