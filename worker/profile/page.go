package profile

import (
	"math"
	"sort"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// page is one page of a document prepared for learning and applying rules: its lines
// with their words folded, and its size for page-relative boxes.
type page struct {
	n      int
	w, h   float64
	source layout.Source
	last   bool // the document's last page
	lines  []line
}

type line struct {
	words []layout.Word
	folds []string // fold(words[i].Text)
	box   layout.Box
}

// height is the line's height, at least a small positive number.
func (l line) height() float64 { return max(l.box.Y1-l.box.Y0, 1e-6) }

// Pages a profile reads: the first headPages and the last tailPages of a longer
// document, so that learning and applying stay cheap on a document of hundreds of
// pages (header fields are on the first pages, totals on the last).
const (
	headPages = 8
	tailPages = 2
)

// readPages is the part of ld a profile reads (see headPages), and the page number in
// ld of each of its pages.
func readPages(ld *layout.Document) (*layout.Document, []int) {
	if ld == nil {
		return &layout.Document{}, nil
	}
	sub := *ld
	sub.Pages = nil
	var nums []int
	for i, p := range ld.Pages {
		if i >= headPages && i < len(ld.Pages)-tailPages {
			continue
		}
		sub.Pages = append(sub.Pages, p)
		nums = append(nums, i+1)
	}
	return &sub, nums
}

// locator finds values on the pages a profile reads, with extract's Locator; the
// evidence it returns has ld's page numbers.
type locator struct {
	l    *extract.Locator
	nums []int
}

func newLocator(ld *layout.Document) *locator {
	sub, nums := readPages(ld)
	return &locator{l: extract.NewLocator(sub), nums: nums}
}

func (l *locator) locate(path string, v any) (extract.Match, bool) {
	m, ok := l.l.Locate(path, v)
	if !ok {
		return m, false
	}
	if m.Page >= 1 && m.Page <= len(l.nums) {
		m.Page = l.nums[m.Page-1]
	}
	return m, true
}

// prepare folds the words of the pages of ld a profile reads. Pages without a size are
// sized by their words.
func prepare(ld *layout.Document) []page {
	if ld == nil {
		return nil
	}
	out := make([]page, 0, min(len(ld.Pages), headPages+tailPages))
	for i, p := range ld.Pages {
		if i >= headPages && i < len(ld.Pages)-tailPages {
			continue
		}
		pg := page{n: p.Number, w: p.Width, h: p.Height, source: p.Source, last: i == len(ld.Pages)-1}
		if pg.n <= 0 {
			pg.n = i + 1
		}
		var maxX, maxY float64
		for _, l := range rows(p.Lines) {
			ln := line{words: l, folds: make([]string, len(l)), box: l[0].Box}
			for k, w := range l {
				ln.folds[k] = fold(w.Text)
				ln.box = union(ln.box, w.Box)
			}
			maxX, maxY = max(maxX, ln.box.X1), max(maxY, ln.box.Y1)
			pg.lines = append(pg.lines, ln)
		}
		if !(pg.w > 0) || math.IsInf(pg.w, 0) {
			pg.w = max(maxX, 1)
		}
		if !(pg.h > 0) || math.IsInf(pg.h, 0) {
			pg.h = max(maxY, 1)
		}
		out = append(out, pg)
	}
	return out
}

// rows joins a page's lines into the rows a reader sees: a text layer often breaks one
// printed row into several lines (a label and its value in two columns); lines whose
// vertical middles each lie within the other's height are one row, its words left to
// right. Rows are top to bottom.
func rows(lines []layout.Line) [][]layout.Word {
	type row struct {
		box   layout.Box
		words []layout.Word
	}
	var rs []*row
	for _, l := range lines {
		if len(l.Words) == 0 {
			continue
		}
		bx := l.Words[0].Box
		for _, w := range l.Words[1:] {
			bx = union(bx, w.Box)
		}
		mid := (bx.Y0 + bx.Y1) / 2
		var into *row
		for _, r := range rs {
			rmid := (r.box.Y0 + r.box.Y1) / 2
			if mid >= r.box.Y0 && mid <= r.box.Y1 && rmid >= bx.Y0 && rmid <= bx.Y1 {
				into = r
				break
			}
		}
		if into == nil {
			rs = append(rs, &row{box: bx, words: append([]layout.Word(nil), l.Words...)})
			continue
		}
		into.box = union(into.box, bx)
		into.words = append(into.words, l.Words...)
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].box.Y0 < rs[j].box.Y0 })
	out := make([][]layout.Word, len(rs))
	for i, r := range rs {
		sort.SliceStable(r.words, func(a, b int) bool { return r.words[a].Box.X0 < r.words[b].Box.X0 })
		out[i] = r.words
	}
	return out
}

func union(a, b layout.Box) layout.Box {
	return layout.Box{X0: min(a.X0, b.X0), Y0: min(a.Y0, b.Y0), X1: max(a.X1, b.X1), Y1: max(a.Y1, b.Y1)}
}

// rel is b relative to the page (0..1, origin top-left).
func (p *page) rel(b layout.Box) invoice.Box {
	c := func(v float64) float64 { return math.Round(layout.Clamp01(v)*10000) / 10000 }
	return invoice.Box{X0: c(b.X0 / p.w), Y0: c(b.Y0 / p.h), X1: c(b.X1 / p.w), Y1: c(b.Y1 / p.h)}
}

// span is a run of words of one line: words[a:b].
type span struct {
	page, line int
	a, b       int
}

func (p *page) spanText(s span) string {
	var b strings.Builder
	for i, w := range p.lines[s.line].words[s.a:s.b] {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w.Text)
	}
	return b.String()
}

func (p *page) spanBox(s span) layout.Box {
	ws := p.lines[s.line].words
	bx := ws[s.a].Box
	for _, w := range ws[s.a+1 : s.b] {
		bx = union(bx, w.Box)
	}
	return bx
}

// maxWords is how many words a printed value of the kind may span.
func maxWords(k kind) int {
	switch k {
	case kindAmount, kindDate:
		return 3
	}
	return 4
}

// parsed is a value read from a span of words.
type parsed struct {
	v   value
	mdy bool // a date read month first
}

// parse reads a value of kind k from text; order "mdy" reads ambiguous numeric dates
// month first. ok is false when text is not such a value, or holds more than it.
func parse(k kind, text, order string) (parsed, bool) {
	text = strings.TrimSpace(text)
	switch k {
	case kindAmount:
		if strings.ContainsAny(text, "%") {
			return parsed{}, false
		}
		f, ok := extract.ParseAmount(strings.TrimRight(text, ":;,"), 0)
		if !ok {
			return parsed{}, false
		}
		return parsed{v: value{f: f, ok: true}}, true
	case kindDate:
		if !hasDigit(text) {
			return parsed{}, false
		}
		o := extract.DMY
		if order == "mdy" {
			o = extract.MDY
		}
		d, ok := extract.ParseDate(text, o)
		if !ok {
			return parsed{}, false
		}
		return parsed{v: value{s: d, ok: true}, mdy: order == "mdy"}, true
	}
	t := strings.Trim(text, ":;,.()[]#")
	if t == "" {
		return parsed{}, false
	}
	return parsed{v: value{s: t, ok: true}}, true
}

// skippable tells a word that may stand between a label and its value: punctuation, a
// currency code or sign.
func skippable(w string) bool {
	f := fold(w)
	if f == "" {
		return true
	}
	switch f {
	case "eur", "usd", "gbp", "chf", "inr", "rs", "rm", "myr", "jpy", "cny", "aud", "cad", "sek", "nok", "dkk", "pln", "czk", "huf", "ron", "sgd":
		return true
	}
	return false
}

// currencySigns maps currency signs printed on documents to their ISO 4217 codes.
var currencySigns = map[string]string{"€": "EUR", "$": "USD", "£": "GBP", "₹": "INR", "¥": "JPY"}
