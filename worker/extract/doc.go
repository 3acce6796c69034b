package extract

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// The extractor works on its own geometric model of a document: words from every line
// of a page are regrouped into visual rows (words whose vertical centres fall in the
// same band), and each row is cut into segments where the horizontal gap between two
// words is wider than about one line height. A label and its value are then "the same
// segment", "the next segment to the right" or "a segment below that overlaps the
// label horizontally" — the same for text layers (whose readers split columns into
// separate lines) and for OCR.

type word struct {
	text string
	box  layout.Box
	conf float64
	// line numbers the reader's line the word came in (1, 2, ... on its page; 0: none).
	line int
}

type segment struct {
	words []word
	text  string
	offs  []int // byte offset of each word in text
	box   layout.Box
}

type row struct {
	page  int
	segs  []segment
	box   layout.Box
	text  string // segments joined by three spaces
	index int    // position in doc.rows
}

type doc struct {
	rows  []row
	pages int
	text  string // all rows joined by "\n"
	dec   DecimalSep
	order DateOrder
	lang  string
	// unit is the median row height, the document's notion of one line.
	unit float64
	// sections caches sectionRows.
	sections map[int]string
	// rules are the generic rules switched off (evaluation only; nil: all apply).
	rules ruleSet
	// due caches findDueDate.
	due *dueDate
}

// conf returns the mean word confidence of the segment's words overlapping bytes [a,b).
func (s segment) conf(a, b int) float64 {
	sum, n := 0.0, 0
	for i, w := range s.words {
		ws := s.offs[i]
		we := ws + len(w.text)
		if ws < b && we > a {
			sum += w.conf
			n++
		}
	}
	if n == 0 {
		return 1
	}
	return sum / float64(n)
}

// span returns the horizontal extent of bytes [a,b) of the segment text.
func (s segment) span(a, b int) (float64, float64) {
	x0, x1 := s.box.X1, s.box.X0
	for i, w := range s.words {
		ws := s.offs[i]
		we := ws + len(w.text)
		if ws < b && we > a {
			x0 = min(x0, w.box.X0)
			x1 = max(x1, w.box.X1)
		}
	}
	if x0 > x1 {
		return s.box.X0, s.box.X1
	}
	return x0, x1
}

func newSegment(ws []word) segment {
	ws = readingOrder(ws)
	s := segment{words: ws}
	var b strings.Builder
	for i, w := range ws {
		if i > 0 {
			b.WriteByte(' ')
		}
		s.offs = append(s.offs, b.Len())
		b.WriteString(w.text)
		if i == 0 {
			s.box = w.box
		} else {
			s.box.X0 = min(s.box.X0, w.box.X0)
			s.box.Y0 = min(s.box.Y0, w.box.Y0)
			s.box.X1 = max(s.box.X1, w.box.X1)
			s.box.Y1 = max(s.box.Y1, w.box.Y1)
		}
	}
	s.text = b.String()
	return s
}

// buildDoc turns a layout.Document into rows and segments.
func buildDoc(d *layout.Document) *doc {
	out := &doc{pages: len(d.Pages)}
	var heights []float64
	for pi, p := range d.Pages {
		var ws []word
		for li, l := range p.Lines {
			first := len(ws)
			for _, w := range l.Words {
				t := strings.TrimSpace(w.Text)
				if t == "" || !utf8.ValidString(t) || w.Box.Y1 <= w.Box.Y0 {
					continue
				}
				// Text set vertically (margin notes) would interleave with the rows.
				if len([]rune(t)) > 2 && w.Box.Y1-w.Box.Y0 > 2*(w.Box.X1-w.Box.X0) {
					continue
				}
				if p.Source == layout.SourceTextLayer && len(ws) > first && touchingPart(ws[len(ws)-1], w.Box, t) {
					// A text layer can cut a word where the glyphs are placed one by one
					// ("Liefer" "ant GmbH"): the parts touch.
					pw := &ws[len(ws)-1]
					pw.text += t
					pw.box.X1 = w.Box.X1
					continue
				}
				ws = append(ws, word{text: t, box: w.Box, conf: layout.Clamp01(w.Confidence), line: li + 1})
			}
		}
		if len(ws) == 0 && strings.TrimSpace(p.Text) != "" {
			ws = wordsFromText(p.Text)
		}
		rows := groupRows(ws)
		for _, r := range rows {
			r.page = pi + 1
			r.index = len(out.rows)
			heights = append(heights, r.box.Y1-r.box.Y0)
			out.rows = append(out.rows, r)
		}
	}
	sort.Float64s(heights)
	out.unit = 10
	if len(heights) > 0 {
		out.unit = heights[len(heights)/2]
	}
	var b strings.Builder
	for i, r := range out.rows {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(r.text)
	}
	out.text = b.String()
	return out
}

// touchingPart reports whether the word t at box continues word w: it starts in lower
// case right after a letter, on the same line, closer than a seventh of the line height.
func touchingPart(w word, box layout.Box, t string) bool {
	h := w.box.Y1 - w.box.Y0
	gap := box.X0 - w.box.X1
	if gap < -0.05*h || gap > 0.15*h || abs(box.Y0-w.box.Y0) > 0.2*h || abs(box.Y1-w.box.Y1) > 0.2*h {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(w.text)
	next, _ := utf8.DecodeRuneInString(t)
	return unicode.IsLetter(last) && unicode.IsLower(next)
}

// groupRows clusters words into rows by vertical overlap and cuts each row into segments.
func groupRows(ws []word) []row {
	if len(ws) == 0 {
		return nil
	}
	sort.SliceStable(ws, func(i, j int) bool {
		ci := (ws[i].box.Y0 + ws[i].box.Y1) / 2
		cj := (ws[j].box.Y0 + ws[j].box.Y1) / 2
		if ci != cj {
			return ci < cj
		}
		return ws[i].box.X0 < ws[j].box.X0
	})
	type band struct {
		y0, y1 float64
		ws     []word
		lines  map[int]bool
	}
	var bands []*band
	for _, w := range ws {
		c := (w.box.Y0 + w.box.Y1) / 2
		h := w.box.Y1 - w.box.Y0
		// A comma or full stop read as a word of its own is far lower than the
		// letters and hangs below their centre: it belongs to the band it touches.
		mark := isMarkWord(w.text)
		placed := false
		// Only the last few bands can take the word: words are sorted by centre. A word
		// the reader put on the same line as the band's words may sit further off centre:
		// the line of a skewed scan climbs or falls across the page.
		for i := len(bands) - 1; i >= 0 && i >= len(bands)-3; i-- {
			b := bands[i]
			bc := (b.y0 + b.y1) / 2
			bh := b.y1 - b.y0
			tol := 0.5
			if w.line > 0 && b.lines[w.line] {
				tol = 0.9
			}
			if abs(c-bc) <= tol*min(h, bh) || mark && w.box.Y0 < b.y1 && abs(c-bc) <= tol*bh {
				b.ws = append(b.ws, w)
				b.y0 = min(b.y0, w.box.Y0)
				b.y1 = max(b.y1, w.box.Y1)
				b.lines[w.line] = true
				placed = true
				break
			}
		}
		if !placed {
			bands = append(bands, &band{y0: w.box.Y0, y1: w.box.Y1, ws: []word{w}, lines: map[int]bool{w.line: true}})
		}
	}
	rows := make([]row, 0, len(bands))
	// Each row's typical word height decides what a wide gap is. The page's typical
	// space (the median gap between neighbouring words, in heights) raises the bar
	// where a reader's word boxes leave wide spaces, as OCR boxes do.
	heights := make([]float64, len(bands))
	var ratios []float64
	for bi, b := range bands {
		sort.SliceStable(b.ws, func(i, j int) bool { return b.ws[i].box.X0 < b.ws[j].box.X0 })
		b.ws = mergeSplitDecimals(b.ws)
		hs := make([]float64, len(b.ws))
		for i, w := range b.ws {
			hs[i] = w.box.Y1 - w.box.Y0
		}
		sort.Float64s(hs)
		// OCR boxes hug the glyphs ("mme" is lower than "Mü"): use the line's full
		// height when it is larger.
		h := max(hs[len(hs)/2], 0.8*(b.y1-b.y0))
		heights[bi] = h
		for i := 1; i < len(b.ws); i++ {
			if g := b.ws[i].box.X0 - b.ws[i-1].box.X1; g > 0 && h > 0 {
				ratios = append(ratios, g/h)
			}
		}
	}
	factor := 0.9
	if len(ratios) >= 8 {
		sort.Float64s(ratios)
		factor = max(factor, 1.8*ratios[len(ratios)/2])
	}
	for bi, b := range bands {
		h := heights[bi]
		var segs []segment
		start := 0
		for i := 1; i <= len(b.ws); i++ {
			if i == len(b.ws) || b.ws[i].box.X0-b.ws[i-1].box.X1 > factor*h {
				segs = append(segs, newSegment(b.ws[start:i]))
				start = i
			}
		}
		r := row{segs: segs, box: layout.Box{X0: segs[0].box.X0, Y0: b.y0, X1: segs[len(segs)-1].box.X1, Y1: b.y1}}
		parts := make([]string, len(segs))
		for i, s := range segs {
			parts[i] = s.text
		}
		r.text = strings.Join(parts, "   ")
		rows = append(rows, r)
	}
	return rows
}

// isMarkWord tells whether t is punctuation alone, one or two of , . ; : that OCR
// read as a word of its own.
func isMarkWord(t string) bool {
	return t != "" && len(t) <= 2 && strings.Trim(t, ",.;:") == ""
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// wordsFromText lays out plain text on a monospace grid (a character is 0.5 wide, a
// line 1 high), so that column gaps of two or more spaces become segment breaks.
func wordsFromText(text string) []word {
	var ws []word
	for li, line := range strings.Split(text, "\n") {
		col := 0
		start := -1
		var cur []rune
		flush := func() {
			if start >= 0 {
				ws = append(ws, word{text: string(cur), conf: 1, box: layout.Box{
					X0: float64(start) * 0.5, X1: float64(col) * 0.5, Y0: float64(li), Y1: float64(li) + 0.9}})
			}
			start, cur = -1, cur[:0]
		}
		for _, r := range line {
			if r == ' ' || r == '\t' || r == '\f' || r == '\r' {
				flush()
			} else {
				if start < 0 {
					start = col
				}
				cur = append(cur, r)
			}
			col++
		}
		flush()
	}
	return ws
}

// FromText builds a layout.Document of one page from plain text (for example
// `pdftotext -layout` output), placing characters on a monospace grid. It is meant for
// callers that have text but no word boxes, and for tests.
func FromText(text string) *layout.Document {
	pages := strings.Split(text, "\f")
	d := &layout.Document{Format: "txt"}
	for i, pt := range pages {
		if strings.TrimSpace(pt) == "" && i == len(pages)-1 && i > 0 {
			continue
		}
		ws := wordsFromText(pt)
		p := layout.Page{Number: i + 1, Source: layout.SourceTextLayer, Text: pt}
		lines := map[float64][]layout.Word{}
		var ys []float64
		for _, w := range ws {
			if _, ok := lines[w.box.Y0]; !ok {
				ys = append(ys, w.box.Y0)
			}
			lines[w.box.Y0] = append(lines[w.box.Y0], layout.Word{Text: w.text, Box: w.box, Confidence: 1})
		}
		for _, y := range ys {
			lw := lines[y]
			p.Lines = append(p.Lines, layout.Line{Words: lw, Box: layout.Box{X0: lw[0].Box.X0, Y0: y, X1: lw[len(lw)-1].Box.X1, Y1: y + 0.9}})
		}
		p.Width = 80
		p.Height = float64(strings.Count(pt, "\n") + 1)
		d.Pages = append(d.Pages, p)
	}
	return d
}

var (
	reEndsDecimalSep = regexp.MustCompile(`\d[.,]$`)
	reTwoDigits      = regexp.MustCompile(`^\d{2}\b`)
)

// mergeSplitDecimals joins amounts that OCR split after the decimal separator
// ("79." "35" -> "79.35") when the two words nearly touch.
func mergeSplitDecimals(ws []word) []word {
	out := ws[:0:0]
	for i := 0; i < len(ws); i++ {
		w := ws[i]
		if i+1 < len(ws) && reEndsDecimalSep.MatchString(w.text) && reTwoDigits.MatchString(ws[i+1].text) {
			n := ws[i+1]
			h := w.box.Y1 - w.box.Y0
			if n.box.X0-w.box.X1 < 0.8*h {
				w.text += n.text
				w.box.X1 = n.box.X1
				w.box.Y0 = min(w.box.Y0, n.box.Y0)
				w.box.Y1 = max(w.box.Y1, n.box.Y1)
				w.conf = min(w.conf, n.conf)
				i++
			}
		}
		out = append(out, w)
	}
	return out
}
