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
