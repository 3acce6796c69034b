package extract

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract/vocab"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// Evidence is where a field's value is printed: the page, the box on it, the words as
// printed and their source, so that a person checks a value at a glance and a supplier
// profile learns where that supplier prints it.
//
// A value is looked for by what it means, not by how it is written: an amount in any
// of the number formats (1.234,56 / 1,234.56 / 1234.56 / 1 234,56, with currency signs,
// negative as -x, x- or (x)), a date in any printed form that reads as the same
// YYYY-MM-DD (either day-month order), a number (quantity, rate) with or without its
// "%", and text, identifiers and codes ignoring case, spaces and punctuation, over
// several lines when the value wraps (an address: the union of its lines' boxes).
// When a value is printed more than once, the occurrence next to one of the field's
// own labels wins ("Total" for the total, not an equal line amount); among equals the
// first, or for the invoice totals the last (totals follow the items).

// Match is one value found on a page by a Locator.
type Match struct {
	// Evidence has the page (1-based), the page-relative box, the words as printed, the
	// page's source (invoice.SourceText or invoice.SourceOCR) and the words' mean
	// confidence.
	invoice.Evidence
	// Label is the text printed before the value: the words before it on its row, else
	// the segment of the row above that overlaps it, trimmed of a trailing colon; "" when
	// there is none. Learners key a supplier's layout on it.
	Label string
	// Labelled reports that Label is one of the field's own labels (e.g. "Gesamtbetrag"
	// for invoice.amounts.total).
	Labelled bool

	rows []int // the rows the value's words are on, first to last
}

// Locator finds where values are printed on one document. Build it once per document
// with NewLocator and ask it about every field: the words are indexed once, and
// amounts, numbers and dates are parsed once, on the first question about each kind.
// A Locator is not safe for concurrent use.
type Locator struct {
	d    *doc
	dims []pageDim
	sq   [][][]string // squashed words by row and segment

	// amounts, numbers and dates of each segment, parsed on first need.
	amounts segIndex[amountSpan]
	numbers segIndex[numberSpan]
	dates   segIndex[dateSpan]

	weights map[string]float64 // labelWeight by field and text
	negs    map[string]bool    // negativeLabel by field and text
}

// pageDim is a page's size in the unit of its word boxes, and its evidence source.
type pageDim struct {
	w, h   float64
	source string
}

// numberSpan is a plain number (a quantity, a rate) found in a segment's text.
type numberSpan struct {
	value      float64
	start, end int
	percent    bool
}

// NewLocator indexes ld's words for Locate. A nil or empty document gives a Locator
// that finds nothing.
func NewLocator(ld *layout.Document) *Locator {
	if ld == nil {
		ld = &layout.Document{}
	}
	d := buildDoc(ld)
	d.dec = detectDecimalSep(d.text)
	return newLocator(d, ld)
}

// newLocator indexes a doc built from ld (extraction's own, so that it is built once).
func newLocator(d *doc, ld *layout.Document) *Locator {
	l := &Locator{d: d, dims: make([]pageDim, len(ld.Pages)), sq: make([][][]string, len(d.rows))}
	for i, p := range ld.Pages {
		l.dims[i] = pageDim{w: p.Width, h: p.Height, source: invoice.SourceText}
		if p.Source == layout.SourceOCR {
			l.dims[i].source = invoice.SourceOCR
		}
	}
	// Pages without a size (text laid out on a grid) are as large as their words.
	for _, r := range d.rows {
		if pg := ld.Pages[r.page-1]; pg.Width <= 0 || pg.Height <= 0 {
			pd := &l.dims[r.page-1]
			pd.w, pd.h = max(pd.w, r.box.X1), max(pd.h, r.box.Y1)
		}
	}
	for ri, r := range d.rows {
		l.sq[ri] = make([][]string, len(r.segs))
		for si, s := range r.segs {
			ws := make([]string, len(s.words))
			for k, w := range s.words {
				ws[k] = squash(w.text)
			}
			l.sq[ri][si] = ws
		}
	}
	return l
}

// Locate finds where the value of the field at path (an invoice.Fields path such as
// "invoice.amounts.total" or "lineItems[3].amount") is printed on ld's pages. value is
// the field's value as invoice.Fields gives it (string, float64, bool or nil; *float64,
// *int and int are accepted too). It reports false when the value is empty, is not
// printed as such (a document type, a country code, a VAT category, a unit code) or is
// not on the pages.
//
// Locate builds a Locator for each call; to look up many fields of one document, use
// NewLocator once and its Locate method.
func Locate(ld *layout.Document, path string, value any) (invoice.Evidence, bool) {
	m, ok := NewLocator(ld).Locate(path, value)
	return m.Evidence, ok
}

// LocateLabel is Locate that also returns the label printed before the value (see
// Match.Label).
func LocateLabel(ld *layout.Document, path string, value any) (invoice.Evidence, string, bool) {
	m, ok := NewLocator(ld).Locate(path, value)
	return m.Evidence, m.Label, ok
}

// Locate finds where the value of the field at path is printed; see the package
// function Locate.
func (l *Locator) Locate(path string, value any) (Match, bool) {
	return l.locate(path, value, near{row: -1, after: -1})
}

// near steers the choice among several occurrences: toward a row the value is known
// to be on (row), and below a row it must follow (after); -1 for none.
type near struct {
	row, after int
	// band: the rows of a line item found so far; a cell on one of them, or next to
	// them, wins.
	band []int
	// rightOf: a number cell of a line item stands right of its description (not the
	// position number before it); 0 for none.
	rightOf float64
	// noLabel leaves Match.Label empty (evidence alone does not need it).
	noLabel bool
}

// occurrence is one place a value is printed: word ranges, in reading order.
type occurrence struct {
	parts []wordRange
	exact bool // the value starts and ends at word boundaries
	sign  bool // an amount printed with the value's sign
	pct   bool // a number printed with "%"
}

type wordRange struct{ row, seg, k0, k1 int } // words k0..k1-1 of a segment

// evKind is how a value is looked for.
type evKind int

const (
	evNone evKind = iota // not printed as such
	evText
	evAmount
	evNumber
	evDate
	evCurrency
)

// kindOf is how the value at path is looked for.
func kindOf(path string) evKind {
	leaf := path[strings.LastIndexByte(path, '.')+1:]
	switch leaf {
	case "country", "documentType", "category", "unitCode", "kind", "charge", "reasonCode":
		return evNone
	case "currency":
		return evCurrency
	}
	switch invoice.FieldKind(path) {
	case invoice.KindAmount:
		return evAmount
	case invoice.KindNumber:
		return evNumber
	case invoice.KindDate:
		return evDate
	case invoice.KindBool:
		return evNone
	}
	return evText
}

func (l *Locator) locate(path string, value any, nr near) (Match, bool) {
	var occs []occurrence
	switch kindOf(path) {
	case evAmount:
		if v, ok := toFloat(value); ok {
			occs = l.findAmount(v)
		}
	case evNumber:
		if v, ok := toFloat(value); ok {
			occs = l.findNumber(v)
		}
	case evDate:
		if s, ok := value.(string); ok && s != "" {
			occs = l.findDate(s)
		}
	case evCurrency:
		if s, ok := value.(string); ok && s != "" {
			occs = l.findCurrency(s)
		}
	case evText:
		s, ok := value.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return Match{}, false
		}
		occs = l.findText(squash(s))
		if len(occs) == 0 {
			occs = l.findLines(s)
		}
		if len(occs) == 0 {
			occs = l.findPieces(s)
		}
	}
	if len(occs) == 0 {
		return Match{}, false
	}
	key := genericPath(path)
	late := strings.HasPrefix(key, "invoice.amounts.") || key == "invoice.amountDue"
	leaf := key[strings.LastIndexByte(key, '.')+1:]
	rate := leaf == "rate" || leaf == "taxRate" || leaf == "percent"
	// Score what is cheap first; labels (regular expressions) only for the occurrences
	// that a label could still make win.
	type scored struct {
		o     occurrence
		rows  []int
		score float64
	}
	cs := make([]scored, len(occs))
	for i, o := range occs {
		rows := occRows(o)
		score := 0.0
		if o.exact {
			score += 0.3
		}
		if o.sign {
			score += 0.2
		}
		if o.pct && rate {
			score += 0.5
		}
		if nr.row >= 0 && containsInt(rows, nr.row) {
			score += 1.5
		}
		if nr.after >= 0 && rows[0] > nr.after {
			score += 0.5
		}
		for _, b := range nr.band {
			if containsInt(rows, b) {
				score += 2
				break
			}
			if abs(float64(rows[0]-b)) <= 2 {
				score += 0.5
				break
			}
		}
		if nr.rightOf > 0 {
			if fw := l.d.rows[o.parts[0].row].segs[o.parts[0].seg].words[o.parts[0].k0]; fw.box.X0 >= nr.rightOf {
				score += 0.3
			}
		}
		// Ties: the first occurrence, the last for the invoice totals.
		if late {
			score += 1e-6 * float64(rows[0])
		} else {
			score -= 1e-6 * float64(rows[0])
		}
		cs[i] = scored{o, rows, score}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].score > cs[j].score })
	maxBonus := 0.0
	if len(fieldLabels[key]) > 0 {
		maxBonus = 2
	}
	best, bestScore := -1, math.Inf(-1)
	for i, c := range cs {
		if c.score+maxBonus < bestScore {
			break
		}
		if len(cs) == 1 || len(fieldLabels[key]) == 0 && len(notLabels[key]) == 0 {
			best = i // no label can change the order
			break
		}
		_, w, neg := l.label(key, c.o.parts[0])
		score := c.score + 2*w
		if neg {
			score--
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	m := l.match(cs[best].o, key, !nr.noLabel)
	m.rows = cs[best].rows
	return m, true
}

// occRows are the rows an occurrence's words are on, first to last.
func occRows(o occurrence) []int {
	rows := make([]int, 0, 1)
	for _, pr := range o.parts {
		if len(rows) == 0 || rows[len(rows)-1] != pr.row {
			rows = append(rows, pr.row)
		}
	}
	return rows
}

// label returns the label of the value starting at the word range: the text before it
// on its row when that is one of the field's labels, else the text above when that is,
// else the text before it, else the text above. w is the weight of the field's label
// found (0: none), neg reports a label of another field instead.
func (l *Locator) label(key string, at wordRange) (text string, w float64, neg bool) {
	same, above := l.labels(at)
	if w = l.labelWeight(key, same); w > 0 {
		return same, w, false
	}
	if w = l.labelWeight(key, above); w > 0 {
		return above, w, false
	}
	if same != "" {
		return same, 0, l.negativeLabel(key, same)
	}
	return above, 0, l.negativeLabel(key, above)
}

// labelWeight is the weight of the heaviest of the field's labels text holds (0: none),
// remembered per field and text.
func (l *Locator) labelWeight(key, text string) float64 {
	if text == "" || len(fieldLabels[key]) == 0 {
		return 0
	}
	if !hasLetter(text) && !(strings.Contains(text, "%") && key == "invoice.taxBreakdown[].rate") {
		return 0
	}
	ck := key + "\x00" + text
	if w, ok := l.weights[ck]; ok {
		return w
	}
	w := labelWeight(key, text)
	if l.weights == nil {
		l.weights = map[string]float64{}
	}
	l.weights[ck] = w
	return w
}

// negativeLabel is the package's negativeLabel, remembered per field and text.
func (l *Locator) negativeLabel(key, text string) bool {
	if text == "" || len(notLabels[key]) == 0 || !hasLetter(text) {
		return false
	}
	ck := key + "\x00" + text
	if v, ok := l.negs[ck]; ok {
		return v
	}
	v := negativeLabel(key, text)
	if l.negs == nil {
		l.negs = map[string]bool{}
	}
	l.negs[ck] = v
	return v
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// match turns an occurrence into evidence: box, text, confidence, label.
func (l *Locator) match(o occurrence, key string, withLabel bool) Match {
	first := o.parts[0]
	r := l.d.rows[first.row]
	dim := l.dims[r.page-1]
	var box layout.Box
	var texts []string
	sum, n := 0.0, 0
	for i, pr := range o.parts {
		s := l.d.rows[pr.row].segs[pr.seg]
		var ts []string
		for k := pr.k0; k < pr.k1; k++ {
			w := s.words[k]
			if i == 0 && k == pr.k0 {
				box = w.box
			} else {
				box = union(box, w.box)
			}
			ts = append(ts, w.text)
			sum += w.conf
			n++
		}
		texts = append(texts, strings.Join(ts, " "))
	}
	m := Match{Evidence: invoice.Evidence{
		Page:       r.page,
		Box:        relBox(box, dim),
		Text:       joinParts(texts, o.parts),
		Source:     dim.source,
		Confidence: layout.Clamp01(sum / float64(max(n, 1))),
	}}
	if withLabel {
		var w float64
		m.Label, w, _ = l.label(key, first)
		m.Labelled = w > 0
	}
	return m
}

// joinParts joins the texts of an occurrence's parts: a space within a row, a newline
// between rows.
func joinParts(texts []string, parts []wordRange) string {
	var b strings.Builder
	for i, t := range texts {
		if i > 0 {
			if parts[i].row == parts[i-1].row {
				b.WriteByte(' ')
			} else {
				b.WriteByte('\n')
			}
		}
		b.WriteString(t)
	}
	return b.String()
}

func union(a, b layout.Box) layout.Box {
	return layout.Box{X0: min(a.X0, b.X0), Y0: min(a.Y0, b.Y0), X1: max(a.X1, b.X1), Y1: max(a.Y1, b.Y1)}
}

// relBox is box in page-relative coordinates (0..1, origin top-left, as layout boxes).
func relBox(b layout.Box, dim pageDim) *invoice.Box {
	if dim.w <= 0 || dim.h <= 0 {
		return &invoice.Box{}
	}
	c := func(v, size float64) float64 { return math.Round(layout.Clamp01(v/size)*1e4) / 1e4 }
	return &invoice.Box{X0: c(b.X0, dim.w), Y0: c(b.Y0, dim.h), X1: c(b.X1, dim.w), Y1: c(b.Y1, dim.h)}
}

// labels returns the text before the value's first word on its row (the words before
// it in its segment, else the previous segment) and the segment of the row above that
// overlaps the value horizontally.
func (l *Locator) labels(at wordRange) (same, above string) {
	r := l.d.rows[at.row]
	s := r.segs[at.seg]
	if at.k0 > 0 {
		same = trimLabel(s.text[:s.offs[at.k0]])
	}
	// A currency sign before the amount is no label ("Total  $ 279.84").
	for k := at.seg - 1; same == "" && k >= 0; k-- {
		same = trimLabel(r.segs[k].text)
	}
	if at.row > 0 {
		up := l.d.rows[at.row-1]
		if up.page == r.page && r.box.Y0-up.box.Y1 <= 2.5*l.d.unit {
			x0, x1 := s.words[at.k0].box.X0, s.box.X1
			bestOv := 0.0
			for _, us := range up.segs {
				if ov := min(x1, us.box.X1) - max(x0, us.box.X0); ov > bestOv {
					above, bestOv = us.text, ov
				}
			}
		}
	}
	return same, trimLabel(above)
}

// currencySigns are the currency codes and signs (not the "HT"/"TTC" of French totals,
// which are part of their labels).
var currencySigns = vocab.Marks()

// trimLabel keeps a label's last eight words, without the colon or dash that ends it
// nor a currency sign or code after it.
func trimLabel(s string) string {
	f := strings.Fields(s)
	for len(f) > 0 {
		last := strings.TrimRight(f[len(f)-1], ":-–")
		if last != "" && !slices.Contains(currencySigns, last) {
			break
		}
		f = f[:len(f)-1]
	}
	if len(f) > 8 {
		f = f[len(f)-8:]
	}
	return strings.TrimRight(strings.Join(f, " "), " :-–")
}

// segIndex is a lazily parsed value of every segment: parse runs on a segment the
// first time a value that may be in it is looked for.
type segIndex[T any] struct {
	done  [][]bool
	spans [][][]T
}

// get returns the spans of segment (ri, si), parsing it on first use.
func (x *segIndex[T]) get(l *Locator, ri, si int, parse func(string) []T) []T {
	if x.done == nil {
		x.done = make([][]bool, len(l.d.rows))
		x.spans = make([][][]T, len(l.d.rows))
	}
	if x.done[ri] == nil {
		x.done[ri] = make([]bool, len(l.d.rows[ri].segs))
		x.spans[ri] = make([][]T, len(l.d.rows[ri].segs))
	}
	if !x.done[ri][si] {
		x.done[ri][si] = true
		x.spans[ri][si] = parse(l.d.rows[ri].segs[si].text)
	}
	return x.spans[ri][si]
}

// each calls f for every segment whose text contains all of the needles (which every
// printed form of the value looked for contains).
func (l *Locator) each(needles []string, f func(ri, si int)) {
	for ri, r := range l.d.rows {
	segs:
		for si, s := range r.segs {
			for _, n := range needles {
				if !strings.Contains(s.text, n) {
					continue segs
				}
			}
			f(ri, si)
		}
	}
}

// intTail is the last up to three digits of v's integer part: every printed form of
// the number has them in a row (thousands are grouped by three from the right).
func intTail(v float64) string {
	s := strconv.FormatFloat(math.Trunc(math.Abs(v)), 'f', 0, 64)
	return s[max(0, len(s)-3):]
}

// findAmount returns the amounts printed with value v, either sign.
func (l *Locator) findAmount(v float64) []occurrence {
	parse := func(text string) []amountSpan { return findAmounts(text, l.d.dec) }
	needles := []string{intTail(v)}
	switch c := int(math.Round(math.Abs(v)*100)) % 100; {
	case c%10 == 0 && c != 0:
		needles = append(needles, strconv.Itoa(c/10)) // ".5" or ".50"
	case c != 0:
		needles = append(needles, fmt.Sprintf("%02d", c)) // ".05", ",56"
	}
	var out []occurrence
	l.each(needles, func(ri, si int) {
		for _, a := range l.amounts.get(l, ri, si, parse) {
			if math.Abs(math.Abs(a.Value)-math.Abs(v)) < 0.005 {
				out = append(out, l.spanOcc(ri, si, a.Start, a.End, a.Value*v >= 0))
			}
		}
	})
	return out
}

// reNumber is a plain number: digits with a decimal part.
var reNumber = regexp.MustCompile(`[-−]?\d+(?:[.,]\d+)?`)

// findNumber returns the numbers equal to v; a rate keeps its "%" in the text.
func (l *Locator) findNumber(v float64) []occurrence {
	var out []occurrence
	l.each([]string{intTail(v)}, func(ri, si int) {
		for _, n := range l.numbers.get(l, ri, si, numbersIn) {
			if math.Abs(n.value-v) < 1e-6 {
				o := l.spanOcc(ri, si, n.start, n.end, true)
				o.pct = n.percent
				out = append(out, o)
			}
		}
	})
	return out
}

// numbersIn returns the plain numbers of text that are not part of a longer token
// (a date, an identifier, a grouped amount).
func numbersIn(text string) []numberSpan {
	var out []numberSpan
	for _, loc := range reNumber.FindAllStringIndex(text, -1) {
		a, b := loc[0], loc[1]
		if a > 0 {
			if p := lastRune(text[:a]); unicode.IsLetter(p) || unicode.IsDigit(p) || p == '.' || p == ',' || p == '/' || p == '-' || p == ':' {
				continue
			}
		}
		if b < len(text) {
			n := firstRune(text[b:])
			if unicode.IsLetter(n) && n != 'x' || n == '/' || n == ':' || (n == '.' || n == ',' || n == '-') && b+1 < len(text) && unicode.IsDigit(firstRune(text[b+1:])) {
				continue
			}
		}
		v, err := strconv.ParseFloat(strings.NewReplacer(",", ".", "−", "-").Replace(text[a:b]), 64)
		if err != nil {
			continue
		}
		pct := strings.HasPrefix(strings.TrimLeft(text[b:], " "), "%")
		if pct {
			b = strings.IndexByte(text[b:], '%') + b + 1
		}
		out = append(out, numberSpan{value: v, start: a, end: b, percent: pct})
	}
	return out
}

// datesOf returns the dates of a segment's text, each whose day and month may be
// swapped also read month first.
func datesOf(text string) []dateSpan {
	ds := findDates(text, DMY)
	for _, d := range ds {
		if d.Ambiguous {
			for _, md := range findDates(text[d.Start:d.End], MDY) {
				md.Start, md.End = md.Start+d.Start, md.End+d.Start
				ds = append(ds, md)
			}
		}
	}
	return ds
}

// findDate returns the dates that read as iso (YYYY-MM-DD), in either day-month order.
func (l *Locator) findDate(iso string) []occurrence {
	if len(iso) != 10 {
		return nil
	}
	var out []occurrence
	// Every printed form has the year's last two digits.
	l.each([]string{iso[2:4]}, func(ri, si int) {
		for _, d := range l.dates.get(l, ri, si, datesOf) {
			if d.Date == iso {
				out = append(out, l.spanOcc(ri, si, d.Start, d.End, true))
			}
		}
	})
	return out
}

// findCurrency returns the words naming the currency code: the code itself, else one
// of its signs.
func (l *Locator) findCurrency(code string) []occurrence {
	code = strings.ToUpper(strings.TrimSpace(code))
	var signs []string
	for _, c := range vocab.Currencies {
		if c.Code == code {
			signs = c.Signs
		}
	}
	var byCode, bySign []occurrence
	for ri, r := range l.d.rows {
		for si, s := range r.segs {
			for k, w := range s.words {
				switch {
				case l.sq[ri][si][k] == code || strings.Trim(l.sq[ri][si][k], "0123456789") == code && strings.Contains(w.text, code):
					byCode = append(byCode, occurrence{parts: []wordRange{{ri, si, k, k + 1}}, exact: true})
				case hasSign(w.text, signs):
					bySign = append(bySign, occurrence{parts: []wordRange{{ri, si, k, k + 1}}})
				}
			}
		}
	}
	if len(byCode) > 0 {
		return byCode
	}
	return bySign
}

func hasSign(w string, signs []string) bool {
	for _, s := range signs {
		if !strings.Contains(w, s) {
			continue
		}
		// A sign of letters ("RM", "kr") counts only as the whole word or beside digits.
		if r, _ := utf8.DecodeRuneInString(s); unicode.IsLetter(r) {
			rest := strings.Trim(strings.Replace(w, s, "", 1), "0123456789.,-()")
			if rest != "" {
				continue
			}
		}
		return true
	}
	return false
}

// spanOcc is the occurrence of bytes [a,b) of a segment's text: the words they touch.
func (l *Locator) spanOcc(ri, si, a, b int, sameSign bool) occurrence {
	s := l.d.rows[ri].segs[si]
	k0, k1 := -1, -1
	for k := range s.words {
		ws, we := s.offs[k], s.offs[k]+len(s.words[k].text)
		if ws < b && we > a {
			if k0 < 0 {
				k0 = k
			}
			k1 = k + 1
		}
	}
	if k0 < 0 {
		k0, k1 = 0, len(s.words)
	}
	exact := s.offs[k0] == a && s.offs[k1-1]+len(s.words[k1-1].text) == b
	return occurrence{parts: []wordRange{{ri, si, k0, k1}}, exact: exact, sign: sameSign}
}

// squash keeps the letters and digits of s, upper-cased: "DE 136 695 976" and
// "de136695976" are the same id, "ACME GmbH," and "Acme GmbH" the same name.
func squash(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		b := make([]byte, 0, len(s))
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c >= 'a' && c <= 'z':
				b = append(b, c-'a'+'A')
			case c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
				b = append(b, c)
			}
		}
		return string(b)
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// maxTextParts bounds how many lines a text value may span.
const maxTextParts = 12

// findText returns the places where the squashed value q is printed: in one word or a
// run of words, continued on the next segment of the row or on the rows below at the
// same left edge (an address in a column). A value of three characters or fewer must
// be whole words.
func (l *Locator) findText(q string) []occurrence {
	if q == "" {
		return nil
	}
	var out []occurrence
	short := len(q) <= 3
	for ri, segs := range l.sq {
		for si, ws := range segs {
			for k, w := range ws {
				if w == "" {
					continue
				}
				if w == q {
					out = append(out, occurrence{parts: []wordRange{{ri, si, k, k + 1}}, exact: true})
					continue
				}
				if short {
					if strings.HasPrefix(q, w) {
						if parts, exact, ok := l.continueText(q, len(w), []wordRange{{ri, si, k, k + 1}}); ok && exact {
							out = append(out, occurrence{parts: parts, exact: true})
						}
					}
					continue
				}
				if strings.Contains(w, q) {
					out = append(out, occurrence{parts: []wordRange{{ri, si, k, k + 1}}})
					continue
				}
				// The value starts in this word (at its start, or inside it as an id glued to
				// its label: "Nr.RE-42").
				for j := strings.IndexByte(w, q[0]); j >= 0 && j < len(w); j = nextByte(w, q[0], j) {
					if !strings.HasPrefix(q, w[j:]) {
						continue
					}
					if parts, exact, ok := l.continueText(q, len(w)-j, []wordRange{{ri, si, k, k + 1}}); ok {
						out = append(out, occurrence{parts: parts, exact: exact && j == 0})
						break
					}
				}
			}
		}
	}
	return out
}

// nextByte is the index of the next c in w after i, -1 when there is none.
func nextByte(w string, c byte, i int) int {
	if k := strings.IndexByte(w[i+1:], c); k >= 0 {
		return i + 1 + k
	}
	return -1
}

// continueText matches q[pos:] on from the last word range of parts: the following
// words of its segment, then the next segment of its row or a segment of the rows
// below that starts at the same left edge.
func (l *Locator) continueText(q string, pos int, parts []wordRange) ([]wordRange, bool, bool) {
	last := &parts[len(parts)-1]
	ws := l.sq[last.row][last.seg]
	for k := last.k1; k < len(ws) && pos < len(q); k++ {
		w := ws[k]
		rem := q[pos:]
		switch {
		case w == "":
			last.k1 = k + 1
		case strings.HasPrefix(rem, w):
			pos += len(w)
			last.k1 = k + 1
		case strings.HasPrefix(w, rem):
			last.k1 = k + 1
			return parts, false, true
		default:
			return nil, false, false
		}
	}
	if pos >= len(q) {
		return parts, true, true
	}
	if len(parts) >= maxTextParts {
		return nil, false, false
	}
	for _, next := range l.nextParts(parts) {
		np := append(append([]wordRange(nil), parts...), next)
		if out, exact, ok := l.continueText(q, pos, np); ok {
			return out, exact, true
		}
	}
	return nil, false, false
}

// nextParts are where a value that wraps can go on after the part it ends: the next
// segment of the same row, and on the next rows of the page (up to three, close below)
// the words of a segment starting at the left edge where the value's current line
// starts.
func (l *Locator) nextParts(parts []wordRange) []wordRange {
	last := parts[len(parts)-1]
	r := l.d.rows[last.row]
	var out []wordRange
	if last.seg+1 < len(r.segs) && last.k1 == len(r.segs[last.seg].words) {
		out = append(out, wordRange{last.row, last.seg + 1, 0, 0})
	}
	// The left edge of the value's current line: its first part on that row.
	lineStart := last
	for i := len(parts) - 1; i >= 0 && parts[i].row == last.row; i-- {
		lineStart = parts[i]
	}
	x0 := l.d.rows[lineStart.row].segs[lineStart.seg].words[lineStart.k0].box.X0
	tol := 1.5 * l.d.unit
	bottom := r.box.Y1
	for ri := last.row + 1; ri < len(l.d.rows) && ri <= last.row+3; ri++ {
		nr := l.d.rows[ri]
		if nr.page != r.page || nr.box.Y0-bottom > 2*l.d.unit {
			break
		}
		for si, s := range nr.segs {
			for k, w := range s.words {
				if abs(w.box.X0-x0) <= tol {
					out = append(out, wordRange{ri, si, k, k})
				}
			}
		}
		bottom = nr.box.Y1
	}
	return out
}

// reLineBreak splits a text value into the lines it was joined from.
var reLineBreak = regexp.MustCompile(`\s*[\n,;]\s*`)

// findLines finds a text value that was joined from lines printed apart ("Street 1,
// 10115 Berlin" printed as two lines with other text between): every line of it is
// printed, close together on one page; the occurrence is all of them.
func (l *Locator) findLines(s string) []occurrence {
	var lines []string
	for _, p := range reLineBreak.Split(strings.TrimSpace(s), -1) {
		if q := squash(p); q != "" {
			lines = append(lines, q)
		}
	}
	if len(lines) < 2 || len(lines) > maxTextParts {
		return nil
	}
	first := l.findText(lines[0])
	var out []occurrence
	for _, f := range first {
		o, ok := f, true
		lo, hi := f.parts[0].row, f.parts[len(f.parts)-1].row
		for _, q := range lines[1:] {
			best, bestD := occurrence{}, 7
			for _, c := range l.findText(q) {
				row := c.parts[0].row
				if l.d.rows[row].page != l.d.rows[lo].page {
					continue
				}
				if d := max(lo-row, row-hi, 0); d < bestD {
					best, bestD = c, d
				}
			}
			if best.parts == nil {
				ok = false
				break
			}
			o.parts = append(o.parts, best.parts...)
			lo, hi = min(lo, best.parts[0].row), max(hi, best.parts[len(best.parts)-1].row)
		}
		if ok {
			o.exact = false
			out = append(out, o)
		}
	}
	return out
}

// maxPieces bounds the words findPieces tries to cover.
const maxPieces = 24

// findPieces finds a text value that was put together from pieces printed in different
// cells close together (a line item's description from its article number, name and
// note): the longest runs of its words, each printed within four rows of the ones
// before on the same page, cover all of it.
func (l *Locator) findPieces(s string) []occurrence {
	var words []string
	for _, w := range strings.Fields(s) {
		if q := squash(w); q != "" {
			words = append(words, q)
		}
	}
	if len(words) < 2 || len(words) > maxPieces {
		return nil
	}
	var o occurrence
	lo, hi := -1, -1
	for pos := 0; pos < len(words); {
		next := pos
		for j := len(words); j > pos && next == pos; j-- {
			best, bestD := occurrence{}, 5
			for _, c := range l.findText(strings.Join(words[pos:j], "")) {
				row := c.parts[0].row
				d := 0
				if lo >= 0 {
					if l.d.rows[row].page != l.d.rows[lo].page {
						continue
					}
					d = max(lo-row, row-hi, 0)
				}
				if d < bestD {
					best, bestD = c, d
				}
			}
			if best.parts != nil {
				o.parts = append(o.parts, best.parts...)
				for _, p := range best.parts {
					if lo < 0 {
						lo, hi = p.row, p.row
					}
					lo, hi = min(lo, p.row), max(hi, p.row)
				}
				next = j
			}
		}
		if next == pos {
			return nil
		}
		pos = next
	}
	sort.SliceStable(o.parts, func(i, j int) bool {
		a, b := o.parts[i], o.parts[j]
		return a.row < b.row || a.row == b.row && (a.seg < b.seg || a.seg == b.seg && a.k0 < b.k0)
	})
	return []occurrence{o}
}

// toFloat reads a number as invoice.Fields gives it (or as a Go value).
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case *float64:
		if x != nil {
			return *x, true
		}
	case int:
		return float64(x), true
	case *int:
		if x != nil {
			return float64(*x), true
		}
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil
	}
	return 0, false
}

func containsInt(xs []int, v int) bool {
	for _, x := range xs {
		if x == v {
			return true
		}
	}
	return false
}

// reIndex matches a list index in a field path.
var reIndex = regexp.MustCompile(`\[\d+\]`)

// genericPath is a path without its list indices: "lineItems[3].amount" ->
// "lineItems[].amount".
func genericPath(path string) string {
	if !strings.Contains(path, "[") {
		return path
	}
	return reIndex.ReplaceAllString(path, "[]")
}

// fieldLabels are the labels that announce each field (by genericPath).
var fieldLabels = map[string][]label{
	"invoice.number":              append(append([]label(nil), numberLabels...), numberFallbackLabels...),
	"invoice.date":                dateLabels,
	"invoice.dueDate":             dueLabels,
	"invoice.amounts.total":       totalLabels,
	"invoice.amounts.subtotal":    subtotalLabels,
	"invoice.amounts.tax":         taxLabels,
	"invoice.amounts.discount":    deductionLabels,
	"invoice.amountDue":           append(append([]label(nil), amountDueLabels...), totalLabels...),
	"invoice.supplier.taxId":      taxIDLabels,
	"invoice.customer.taxId":      taxIDLabels,
	"invoice.supplier.name":       supplierSectionLabels,
	"invoice.supplier.address":    supplierSectionLabels,
	"invoice.customer.name":       customerSectionLabels,
	"invoice.customer.address":    customerSectionLabels,
	"invoice.servicePeriod.from":  periodLabels,
	"invoice.servicePeriod.to":    periodLabels,
	"invoice.payment.iban":        {lbl(`iban|konto|account|compte|cuenta|conto|rekening`, 1, "")},
	"invoice.payment.bic":         {lbl(`bic|swift`, 1, "")},
	"invoice.payment.terms":       {lbl(`(?:payment\s*)?terms|zahlungsbedingung(?:en)?|zahlungsziel|conditions?|condiciones|termini|condizioni|betalingsvoorwaarden`, 1, "")},
	"invoice.purchaseOrder":       {lbl(`(?:purchase\s*)?order|p\.?\s*o\.?|bestell\w*|auftrag\w*|commande|pedido|ordine|bestelling`, 1, "")},
	"invoice.supplier.email":      {lbl(`e-?mail|mail`, 1, "")},
	"invoice.supplier.phone":      {lbl(`tel\w*|phone|fon|mobile|handy`, 1, "")},
	"invoice.supplier.website":    {lbl(`web\w*|internet|homepage|url|site`, 1, "")},
	"invoice.taxBreakdown[].rate": {lbl(`rate|satz|taux|tipo|tarief|%`, 1, "")},
}

// notLabels are labels that make an occurrence belong to another field: a line item's
// amount equal to the total is the one in the table, not the one beside "Total".
var notLabels = map[string][]label{
	"lineItems[].amount":       append(append(append([]label(nil), totalLabels...), subtotalLabels...), taxLabels...),
	"lineItems[].unitPrice":    append(append(append([]label(nil), totalLabels...), subtotalLabels...), taxLabels...),
	"invoice.amounts.tax":      append(append([]label(nil), subtotalLabels...), totalLabels[:len(totalLabels)-1]...),
	"invoice.amounts.subtotal": append(append([]label(nil), taxLabels[:len(taxLabels)-1]...), totalLabels[:len(totalLabels)-1]...),
}

// labelWeight is the weight of the heaviest of the field's labels text holds (0: none).
func labelWeight(key, text string) float64 {
	best := 0.0
	for _, lb := range fieldLabels[key] {
		if lb.weight > best && lb.re.MatchString(text) {
			best = lb.weight
		}
	}
	return best
}

// negativeLabel reports whether text is a label of another field than key.
func negativeLabel(key, text string) bool {
	if text == "" || labelWeight(key, text) > 0 {
		return false
	}
	for _, lb := range notLabels[key] {
		if lb.re.MatchString(text) {
			return true
		}
	}
	return false
}

// Fields locates every non-empty field of data (invoice.Fields) and returns the
// matches by path; fields not printed as such, or not found, are left out. A line
// item is located cell by cell: its description (else its amount) first, each item
// below the one before, then its other cells on the rows the description or amount is
// on.
func (l *Locator) Fields(data invoice.ExtractedData) map[string]Match {
	return l.fields(invoice.Fields(data), nil, true)
}

// Evidence returns the evidence of every non-empty field of data: where Fields locates
// it, else Page 0 with the value as text; every entry has the given source and
// confidence (an e-invoice's XML: invoice.SourceEInvoice and 1).
func (l *Locator) Evidence(data invoice.ExtractedData, source string, confidence float64) map[string]invoice.Evidence {
	fs := invoice.Fields(data)
	found := l.fields(fs, nil, false)
	out := make(map[string]invoice.Evidence, len(fs))
	for _, f := range fs {
		if empty(f.Value) {
			continue
		}
		ev := invoice.Evidence{Text: valueText(f.Value)}
		if m, ok := found[f.Path]; ok {
			ev = m.Evidence
		}
		ev.Source, ev.Confidence = source, confidence
		out[f.Path] = ev
	}
	return out
}

// fields locates fs; rows, when set, are the rows extraction read fields from; labels
// says whether the matches need their labels.
func (l *Locator) fields(fs []invoice.Field, rows map[string]int, labels bool) map[string]Match {
	out := make(map[string]Match, len(fs))
	items := map[string][]invoice.Field{} // "lineItems[3]" -> its cells
	var order []string
	for _, f := range fs {
		if empty(f.Value) {
			continue
		}
		if strings.HasPrefix(f.Path, "lineItems[") {
			item := f.Path[:strings.IndexByte(f.Path, ']')+1]
			if _, ok := items[item]; !ok {
				order = append(order, item)
			}
			items[item] = append(items[item], f)
			continue
		}
		nr := near{row: -1, after: -1, noLabel: !labels}
		if r, ok := rows[f.Path]; ok {
			nr.row = r
		}
		if m, ok := l.locate(f.Path, f.Value, nr); ok {
			out[f.Path] = m
		}
	}
	after := -1
	for _, item := range order {
		cells := items[item]
		var band []int
		rightOf := 0.0
		for _, first := range []string{".description", ".amount"} {
			for _, f := range cells {
				if band != nil || !strings.HasSuffix(f.Path, first) {
					continue
				}
				if m, ok := l.locate(f.Path, f.Value, near{row: -1, after: after, noLabel: !labels}); ok {
					out[f.Path] = m
					band = m.rows
					if first == ".description" {
						rightOf = l.absBox(m).X1
					}
				}
			}
		}
		for _, f := range cells {
			if _, done := out[f.Path]; done {
				continue
			}
			if m, ok := l.locate(f.Path, f.Value, near{row: -1, after: after, band: band, rightOf: rightOf, noLabel: !labels}); ok {
				out[f.Path] = m
			}
		}
		if band != nil {
			after = band[0]
		}
	}
	return out
}

// absBox is a match's box in its page's own unit.
func (l *Locator) absBox(m Match) layout.Box {
	dim := l.dims[m.Page-1]
	return layout.Box{X0: m.Box.X0 * dim.w, Y0: m.Box.Y0 * dim.h, X1: m.Box.X1 * dim.w, Y1: m.Box.Y1 * dim.h}
}

// empty reports whether a field's value is unknown or blank.
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return strings.TrimSpace(x) == ""
	}
	return false
}

// valueText is a value as evidence text when it is not found on a page.
func valueText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// evidence builds Result.Evidence: every non-empty field, where it is printed (Page 0
// with the value as text when it is not), its source (the page's, or
// invoice.SourceTemplate for a template's value) and its confidence from
// Result.Confidence (a line item's cells: the line items'; a list element's: the
// list's).
func (x *extraction) evidence(res Result) map[string]invoice.Evidence {
	fs := invoice.Fields(res.Data)
	l := newLocator(x.d, x.ld)
	found := l.fields(fs, x.rows, false)
	docSource := invoice.SourceText
	if len(x.ld.Pages) > 0 && allOCR(x.ld) {
		docSource = invoice.SourceOCR
	}
	out := make(map[string]invoice.Evidence, len(found))
	for _, f := range fs {
		if empty(f.Value) {
			continue
		}
		m, ok := found[f.Path]
		ev := m.Evidence
		if !ok {
			ev = invoice.Evidence{Text: valueText(f.Value), Source: docSource}
		}
		// A field without a confidence of its own keeps its words' (0 when not found).
		if c, ok := fieldConfidence(res.Confidence.Fields, f.Path); ok {
			ev.Confidence = c
		}
		if x.fromTemplate(f.Path) {
			ev.Source = invoice.SourceTemplate
		}
		out[f.Path] = ev
	}
	return out
}

func allOCR(ld *layout.Document) bool {
	for _, p := range ld.Pages {
		if p.Source != layout.SourceOCR {
			return false
		}
	}
	return true
}

// fieldConfidence is the confidence of path, else that of the nearest enclosing field
// that has one ("lineItems[3].amount" -> "lineItems", "invoice.servicePeriod.from" ->
// "invoice.servicePeriod").
func fieldConfidence(conf map[string]float64, path string) (float64, bool) {
	for p := path; p != ""; {
		if c, ok := conf[p]; ok {
			return c, true
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0, false
}

// fromTemplate reports whether the template set the value at path.
func (x *extraction) fromTemplate(path string) bool {
	if x.tplPaths[path] {
		return true
	}
	return x.tplItems && strings.HasPrefix(path, "lineItems[")
}
