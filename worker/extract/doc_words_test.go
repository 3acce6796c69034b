package extract

import (
	"testing"

	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// TestTouchingWordParts: a text layer that places glyphs one by one can cut a word in
// two touching parts ("Liefer" "ant"); they are read as one word, while words set apart
// by a space, capitalised parts and OCR words stay as they are.
func TestTouchingWordParts(t *testing.T) {
	word := func(s string, x0, x1 float64) layout.Word {
		return layout.Word{Text: s, Box: layout.Box{X0: x0, X1: x1, Y0: 294.5, Y1: 303.3}, Confidence: 1}
	}
	line := []layout.Word{word("Liefer", 44.0, 68.2), word("ant", 69.3, 82.3), word("GmbH", 85.3, 113.5), word("Nord", 113.8, 130)}
	for _, c := range []struct {
		source layout.Source
		want   string
	}{
		{layout.SourceTextLayer, "Lieferant GmbH Nord"},
		{layout.SourceOCR, "Liefer ant GmbH Nord"},
	} {
		d := buildDoc(&layout.Document{Pages: []layout.Page{{Number: 1, Source: c.source, Width: 600, Height: 800,
			Lines: []layout.Line{{Words: line}}}}})
		if len(d.rows) != 1 || d.rows[0].text != c.want {
			t.Errorf("%s: rows %+v, want one row %q", c.source, d.rows, c.want)
		}
	}
}
