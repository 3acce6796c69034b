package profile

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// Confidence factors of values a rule found.
const (
	// inPlace scales the confidence of a value found at its exact label, on the learned
	// side of it and near the learned place.
	inPlace = 1.2
	// fuzzyLabel scales the confidence of a value found next to a label read with noise.
	fuzzyLabel = 0.95
	// byPosition scales the confidence of a value found at the learned place without its label.
	byPosition = 0.7
	// repaired scales the confidence of a date read after repairing OCR noise in it.
	repaired = 0.8
)

// Apply fills the fields the rules can find on ld into res and returns the paths it
// set, in document order. A field's confidence becomes the rule's (scaled by how well
// it was found) and, when res has evidence, its evidence is where it was read, with
// Source invoice.SourceLearned. A field whose rule finds nothing keeps the generic
// value. res.Validation is left as it was: the caller validates the data again.
//
// A party field's learned value is used when it is printed on ld: a code's characters
// in sequence, a customer's words as phrases of rows, the supplier's own name and
// address with more OCR noise tolerated (but their numbers exact).
//
// Document fields are read with the rules of the learned layout nearest to ld's
// Fingerprint (within SameLayout bits; none when no layout is that near): next to the
// learned label (matched with OCR noise and case tolerated), on the side it was learned
// (after it on its row, or under it); the value must read as the field's kind (an
// amount, with a decimal part when the learned one had one; a date) and fit the learned
// shape of a code. When several places fit, the one nearest the learned place wins. A
// value read this way replaces a different generic value only when its confidence is
// at least the generic one's. Without its label, a value that fits at the learned
// place fills the field only when the generic rules found none.
//
// It returns an error (wrapping ErrRules) for rules it cannot read, and for a nil ld or
// res; res is unchanged then.
func Apply(ld *layout.Document, rules []byte, res *extract.Result) ([]string, error) {
	return ApplyWith(ld, rules, res, ApplyOptions{})
}

// ApplyOptions tune ApplyWith.
type ApplyOptions struct {
	// Identified says the document reads the supplier the profile learned from by the
	// same name, or by its tax id or IBAN where no name was read (SameSupplier), not by
	// its layout alone. The supplier's name the
	// corrections taught is then used even where the page does not print it: the
	// name a team keeps for a supplier ("Flipkart") may not be the legal name its
	// invoices print ("WS Retail Services Pvt. Ltd.").
	Identified bool
}

// ApplyWith is Apply with options.
func ApplyWith(ld *layout.Document, rules []byte, res *extract.Result, o ApplyOptions) ([]string, error) {
	if ld == nil || res == nil {
		return nil, fmt.Errorf("apply supplier profile: no document or no result")
	}
	r, err := decodeRules(rules)
	if err != nil {
		return nil, fmt.Errorf("apply supplier profile: %w", err)
	}
	pages := prepare(ld)
	var lay *Layout
	if len(r.Layouts) > 0 {
		lay = r.layoutFor(Fingerprint(ld))
	}
	var doc *docText
	var loc *locator
	var set []string
	for _, f := range fields {
		var ru *Rule
		switch {
		case f.party:
			ru = r.Fields[f.path]
		case lay != nil:
			ru = lay.Fields[f.path]
		}
		if ru == nil {
			continue
		}
		generic := f.get(&res.Data)
		var v value
		var at *found // where a document field was read
		conf := ru.Confidence
		if f.party {
			if doc == nil {
				doc = newDocText(pages)
			}
			if !doc.shows(f, ru.Value) && !(o.Identified && f.path == "invoice.supplier.name") {
				continue
			}
			v = value{s: ru.Value, ok: true}
		} else {
			found, ok := find(pages, f, ru)
			if !ok {
				continue
			}
			v, conf, at = found.v, min(MaxConfidence, conf*found.factor), &found
			// A document field overrides a generic value only when the profile is at
			// least as sure of its own: a fresh rule does not overrule a value the
			// generic rules read with a strong label, one found in its place does. A
			// value at the learned place alone (its label not found) only fills a
			// field the generic rules left empty: on documents whose length varies
			// (receipts), another value stands there.
			if generic.ok && !f.same(generic, v) && (res.Confidence.Fields[f.path] > conf || !found.labelled) {
				continue
			}
		}
		f.set(&res.Data, v)
		if res.Confidence.Fields == nil {
			res.Confidence.Fields = map[string]float64{}
		}
		conf = math.Round(conf*1000) / 1000
		res.Confidence.Fields[f.path] = conf
		if res.Evidence != nil {
			var ev invoice.Evidence
			if at != nil {
				p := &pages[at.s.page]
				b := p.rel(p.spanBox(at.s))
				ev = invoice.Evidence{Page: p.n, Box: &b, Text: p.spanText(at.s)}
			} else if old, ok := res.Evidence[f.path]; ok && f.same(generic, v) {
				ev = old // the generic rules read the same value: it is where they read it
			} else {
				if loc == nil {
					loc = newLocator(ld)
				}
				if m, ok := loc.locate(f.path, v.any()); ok {
					ev = m.Evidence
				} else {
					ev = invoice.Evidence{Text: v.s}
				}
			}
			ev.Source, ev.Confidence = invoice.SourceLearned, conf
			res.Evidence[f.path] = ev
		}
		set = append(set, f.path)
	}
	return set, nil
}

// found is a value a rule found, and how sure the finding is (a factor of the rule's
// confidence).
type found struct {
	v        value
	labelled bool // found next to its label, not only at its place
	factor   float64
	s        span
	dist     float64
}

// find reads a document field next to each place its label is printed and returns the
// value nearest the learned place; without a label, the value at the learned place.
func find(pages []page, f field, ru *Rule) (found, bool) {
	var best found
	ok := false
	consider := func(c found) {
		if !ok || c.dist < best.dist {
			best, ok = c, true
		}
	}
	if len(ru.Label) > 0 {
		want := strings.Join(ru.Label, "")
		for pi := range pages {
			p := &pages[pi]
			for li := range p.lines {
				for _, m := range p.labelsAt(li, ru.Label, want) {
					c, hit := p.valueNear(pi, li, m, f, ru)
					if !hit {
						continue
					}
					c.labelled = true
					switch {
					case !m.exact:
						c.factor *= fuzzyLabel
						c.dist += 0.02
					case c.factor == 1 && c.dist <= 0.1:
						c.factor = inPlace
					}
					consider(c)
				}
			}
		}
		if ok {
			return best, true
		}
	}
	// The learned place: spans on the learned page whose box overlaps it.
	for pi := range pages {
		p := &pages[pi]
		if !p.learnedPage(ru) {
			continue
		}
		for li := range p.lines {
			lb := p.rel(p.lines[li].box)
			if lb.Y1 < ru.Box.Y0-0.01 || lb.Y0 > ru.Box.Y1+0.01 {
				continue
			}
			for a := range p.lines[li].words {
				if c, hit := p.read(pi, li, a, f, ru); hit {
					b := p.rel(p.spanBox(c.s))
					if b.X1 < ru.Box.X0-0.02 || b.X0 > ru.Box.X1+0.02 {
						continue
					}
					c.factor = byPosition
					consider(c)
				}
			}
		}
	}
	return best, ok
}

// labelMatch is a label found on a line: words[a:b], exact or read with noise.
type labelMatch struct {
	a, b  int
	exact bool
}

// labelsAt finds the label on line li: runs of one word fewer to one word more than the
// label's words whose folded text, joined, is the label's (want) exactly or with OCR
// noise, so that a label split or joined differently by OCR is still found.
func (p *page) labelsAt(li int, label []string, want string) []labelMatch {
	l := &p.lines[li]
	var out []labelMatch
	for a := range l.folds {
		if l.folds[a] == "" {
			continue
		}
		for n := max(1, len(label)-1); n <= len(label)+1 && a+n <= len(l.folds); n++ {
			got := strings.Join(l.folds[a:a+n], "")
			if got == want {
				out = append(out, labelMatch{a, a + n, n == len(label) && slices.Equal(l.folds[a:a+n], label)})
				break
			}
			if d := len(got) - len(want); d >= -2 && d <= 2 && near(got, want) {
				out = append(out, labelMatch{a, a + n, false})
				break
			}
		}
	}
	return out
}

// valueNear reads the field's value next to the label m on line li: after it on the
// line, or, for a label learned above its value, on the lines below it and under it.
func (p *page) valueNear(pi, li int, m labelMatch, f field, ru *Rule) (found, bool) {
	after := func() (found, bool) {
		skips := []int{ru.Skip}
		for s := 0; s <= maxSkip; s++ {
			if s != ru.Skip {
				skips = append(skips, s)
			}
		}
		l := &p.lines[li]
		for _, s := range skips {
			a := m.b + s
			if a >= len(l.words) {
				continue
			}
			// Only skippable words may stand between the label and the value.
			between := true
			for _, w := range l.words[m.b:a] {
				if !skippable(w.Text) {
					between = false
				}
			}
			if !between {
				continue
			}
			if c, ok := p.read(pi, li, a, f, ru); ok {
				return c, true
			}
		}
		return found{}, false
	}
	below := func() (found, bool) {
		l := &p.lines[li]
		lb := l.words[m.a].Box
		for _, w := range l.words[m.a+1 : m.b] {
			lb = union(lb, w.Box)
		}
		slack := l.height()
		reach := 3 * l.height()
		for k := li + 1; k < len(p.lines); k++ {
			dn := &p.lines[k]
			if dn.box.Y0 < lb.Y1 {
				continue
			}
			if dn.box.Y0-lb.Y1 > reach {
				break
			}
			for a, w := range dn.words {
				if w.Box.X1 < lb.X0-slack || w.Box.X0 > lb.X1+slack {
					continue
				}
				if c, ok := p.read(pi, k, a, f, ru); ok {
					return c, true
				}
			}
		}
		return found{}, false
	}
	// Only the learned side: a value on the other side of the label is another row's
	// or another column's on a layout of the same supplier.
	if ru.Below {
		return below()
	}
	return after()
}

// learnedPage tells whether p is the page a rule was learned on: the same page number,
// or the last page when the rule was learned on a last page.
func (p *page) learnedPage(ru *Rule) bool {
	return p.n == ru.Page || (ru.Last && p.last)
}

// read reads the field's value from the words starting at a on line li: the shortest
// run of words that reads as the field's kind and fits the rule's shape.
func (p *page) read(pi, li, a int, f field, ru *Rule) (found, bool) {
	ws := p.lines[li].words
	for n := 1; n <= maxWords(f.kind) && a+n <= len(ws); n++ {
		s := span{page: pi, line: li, a: a, b: a + n}
		text := p.spanText(s)
		pv, ok := parse(f.kind, text, ru.DateOrder)
		factor := 1.0
		if !ok && n == 1 && ru.Form != "" {
			// A numeric date read with OCR noise: repaired to its learned form.
			if fixed, fok := repairDate(text, ru.Form); fok {
				pv, ok = parse(f.kind, fixed, ru.DateOrder)
				factor = repaired
			}
		}
		if !ok {
			continue
		}
		if f.kind == kindCode && (ru.shape == nil || !ru.shape.MatchString(pv.v.s)) {
			continue
		}
		if f.kind == kindAmount && ru.Decimals && !hasDecimals(text) {
			continue
		}
		b := p.rel(p.spanBox(s))
		dist := math.Hypot((b.X0+b.X1-ru.Box.X0-ru.Box.X1)/2, (b.Y0+b.Y1-ru.Box.Y0-ru.Box.Y1)/2)
		if !p.learnedPage(ru) {
			dist++
		}
		return found{v: pv.v, factor: factor, s: s, dist: dist}, true
	}
	return found{}, false
}

// dateForm is the form of a numeric date as printed: each digit '9', other characters
// kept ("17/04/2018" -> "99/99/9999"); "" for a date printed with letters.
func dateForm(text string) string {
	t := strings.TrimSpace(text)
	if t == "" || len(t) > 16 {
		return ""
	}
	b := []byte(t)
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			b[i] = '9'
		case c == '/' || c == '.' || c == '-':
		default:
			return ""
		}
	}
	return string(b)
}

// ocrDigits maps the letters OCR reads for digits to the digits.
var ocrDigits = map[byte]byte{'O': '0', 'o': '0', 'D': '0', 'Q': '0', 'I': '1', 'l': '1', '|': '1', 'i': '1', 'T': '1', 'Z': '2', 'z': '2', 'S': '5', 's': '5', 'B': '8', 'G': '6', 'b': '6', 'g': '9', 'q': '9'}

// repairDate rewrites a word read with OCR noise to a date's learned form: where the
// form has a separator the separator, where it has a digit the digit or the digit a
// letter is mistaken for. It reports false when the word is not as long as the form or
// a character cannot be a digit; at most two characters are changed.
func repairDate(word, form string) (string, bool) {
	w := strings.TrimRight(strings.TrimSpace(word), ".,;:")
	if len(w) != len(form) {
		return "", false
	}
	b := []byte(w)
	changed := 0
	for i := range b {
		switch {
		case form[i] == '9' && b[i] >= '0' && b[i] <= '9':
		case form[i] == '9':
			d, ok := ocrDigits[b[i]]
			if !ok {
				return "", false
			}
			b[i] = d
			changed++
		case b[i] != form[i]:
			b[i] = form[i]
			changed++
		}
	}
	return string(b), changed <= 2
}

// docText is a document's words for checking that a party's value is printed on it.
type docText struct {
	rows   [][]string      // each row's folded words, as ocrShape'd
	words  map[string]bool // every folded word, as ocrShape'd
	joined string          // every folded word of every page, joined, as ocrShape'd
}

func newDocText(pages []page) *docText {
	d := &docText{words: map[string]bool{}}
	var b strings.Builder
	for _, p := range pages {
		for _, l := range p.lines {
			var row []string
			for _, w := range l.words {
				for _, t := range tokens(w.Text) {
					st := ocrShape(t)
					row = append(row, st)
					d.words[st] = true
					b.WriteString(t)
				}
				if c, ok := currencySigns[strings.TrimSpace(w.Text)]; ok {
					d.words[ocrShape(strings.ToLower(c))] = true
				}
			}
			d.rows = append(d.rows, row)
		}
	}
	d.joined = ocrShape(b.String())
	return d
}

// shows tells whether v, a party field's value, is printed on the document: a code's
// folded characters in sequence; a text's parts (its lines, or what commas separate)
// each as a phrase of one row, words with digits exactly and others with OCR noise
// tolerated.
func (d *docText) shows(f field, v string) bool {
	if f.path == "invoice.amounts.currency" {
		return d.words[ocrShape(strings.ToLower(v))]
	}
	if f.kind == kindCode {
		c := ocrShape(foldCode(v))
		return c != "" && strings.Contains(d.joined, c)
	}
	if strings.HasPrefix(f.path, "invoice.supplier.") {
		// The supplier's own name and address: the profile is this supplier's, so
		// OCR noise is tolerated more than for a customer, who may change.
		// Numbers (a house number, a postcode) must be printed as they are.
		for _, t := range tokens(v) {
			if hasDigit(t) && !d.words[ocrShape(t)] {
				return false
			}
		}
		c := ocrShape(foldCode(v))
		return len(c) >= 4 && approxContains(d.joined, c, len(c)*3/10)
	}
	parts := strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == ',' })
	n := 0
	for _, part := range parts {
		ts := tokens(part)
		if len(ts) == 0 {
			continue
		}
		n++
		if !d.phrase(ts) {
			return false
		}
	}
	return n > 0
}

// phrase tells whether the words ts stand one after the other in a row.
func (d *docText) phrase(ts []string) bool {
	for i, t := range ts {
		ts[i] = ocrShape(t)
	}
	for _, row := range d.rows {
		for a := 0; a+len(ts) <= len(row); a++ {
			ok := true
			for k, t := range ts {
				w := row[a+k]
				if w != t && (hasDigit(t) || !near(w, t)) {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// approxContains tells whether text holds pat with at most k edits (Sellers'
// approximate substring matching).
func approxContains(text, pat string, k int) bool {
	if strings.Contains(text, pat) {
		return true
	}
	p := []rune(pat)
	col := make([]int, len(p)+1)
	for i := range col {
		col[i] = i
	}
	for _, c := range text {
		prevDiag := col[0] // 0: a match may start anywhere
		col[0] = 0
		for i := 1; i <= len(p); i++ {
			cost := 1
			if p[i-1] == c {
				cost = 0
			}
			v := min(col[i]+1, col[i-1]+1, prevDiag+cost)
			prevDiag = col[i]
			col[i] = v
		}
		if col[len(p)] <= k {
			return true
		}
	}
	return false
}
