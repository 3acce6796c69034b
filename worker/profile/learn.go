package profile

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// Learn returns the keys and rules learned from one document whose true data is known
// (a corrected, approved or e-invoice job), starting from prev (nil for a new profile).
// machine is what extraction returned before any correction, used tells which fields
// the job took from prev (nil when it used none): a field prev supplied that truth
// contradicts loses confidence (its rule's confidence is multiplied by Decay) and is
// relearned from truth. A rule whose confidence falls below Floor is dropped.
//
// Party fields (the supplier's and customer's names, addresses and ids, the bank
// account, the currency, the payment terms) are learned as their true values. Document
// fields (number, dates, amounts, order reference, service period) are learned as
// where truth's value is printed on ld: the label before it on its line or above it,
// the words between, its page-relative box and, for codes, its shape. A document field
// whose true value is not printed on ld keeps prev's rule. ld may be nil: then only
// party fields are learned.
//
// It returns an error (wrapping ErrRules) when prev cannot be read; nothing is learned
// then, so that a broken profile is never silently replaced.
func Learn(ld *layout.Document, truth, machine invoice.ExtractedData, prev []byte, used *invoice.ProfileUse) (invoice.SupplierKeys, []byte, error) {
	r, err := decodeRules(prev)
	if err != nil {
		return invoice.SupplierKeys{}, nil, fmt.Errorf("learn supplier profile: %w", err)
	}
	pages := prepare(ld)
	fp := Fingerprint(ld)
	lay := r.layoutFor(fp)
	rulesOf := func(f field) map[string]*Rule {
		if f.party {
			return r.Fields
		}
		if lay == nil {
			return nil
		}
		return lay.Fields
	}
	contradicted := map[string]bool{}
	if used != nil {
		for _, path := range used.Fields {
			f, ok := fieldByPath(path)
			if !ok || contradicted[path] {
				continue
			}
			ru := rulesOf(f)[path]
			if ru != nil && !f.same(f.get(&machine), f.get(&truth)) {
				ru.Confidence *= Decay
				ru.Contradicted++
				contradicted[path] = true
			}
		}
	}
	if lay == nil && fp != "" {
		v, _ := strconv.ParseUint(fp, 16, 64)
		lay = &Layout{Fingerprint: fp, Fields: map[string]*Rule{}, fp: v}
		r.Layouts = append([]*Layout{lay}, r.Layouts...)
		if len(r.Layouts) > MaxLayouts {
			r.Layouts = r.Layouts[:MaxLayouts]
		}
	} else if lay != nil {
		// The layout learned last comes first.
		i := slices.Index(r.Layouts, lay)
		r.Layouts = append(append([]*Layout{lay}, r.Layouts[:i]...), r.Layouts[i+1:]...)
	}
	var loc *locator
	for _, f := range fields {
		rs := rulesOf(f)
		if rs == nil {
			continue
		}
		old := rs[f.path]
		tv := f.get(&truth)
		var nu *Rule
		if tv.ok {
			if f.party {
				nu = &Rule{Kind: string(f.kind), Value: tv.s}
			} else {
				if loc == nil {
					loc = newLocator(ld)
				}
				m, found := loc.locate(f.path, tv.any())
				nu = locate(pages, f, tv, m, found)
			}
		}
		switch {
		case nu == nil:
			// Not learnable from this document: an old rule stays, decayed if it was
			// contradicted.
			if old != nil && old.Confidence < Floor {
				delete(rs, f.path)
			}
			continue
		case old != nil && old.sameFinder(nu):
			nu.Confidence = old.Confidence
			if !contradicted[f.path] {
				nu.Confidence = min(MaxConfidence, nu.Confidence+ConfirmStep)
			}
			nu.Seen, nu.Contradicted = old.Seen+1, old.Contradicted
		default:
			nu.Confidence, nu.Seen = LearnedConfidence, 1
		}
		if nu.Confidence < Floor {
			delete(rs, f.path)
			continue
		}
		rs[f.path] = nu
	}
	b, err := r.encode()
	if err != nil {
		return invoice.SupplierKeys{}, nil, err
	}
	if len(b) > MaxRules {
		return invoice.SupplierKeys{}, nil, errors.New("learn supplier profile: the rules grew past their size limit")
	}
	keys := Keys(ld, truth)
	keys.Fingerprint = fp
	// The lookup compares these keys with what the generic rules read on the supplier's
	// next document, and they read there what they read here: a brand printed big where
	// the truth has the legal name, a name cut short. So the name key is what the
	// machine read when it read one; the true name stays the profile's party value.
	if name := NormName(machine.Invoice.Supplier.Name); name != "" {
		keys.Name = name
	}
	return keys, b, nil
}

// sameFinder tells whether two rules find a field the same way: the same value for a
// party field, the same label in the same place for a document field.
func (r *Rule) sameFinder(o *Rule) bool {
	return r.Kind == o.Kind && foldText(r.Value) == foldText(o.Value) && r.Below == o.Below && slices.Equal(r.Label, o.Label)
}

// occurrence is one place a true value is printed, with the label found for it.
type occurrence struct {
	s     span
	p     parsed
	label []string
	below bool
	skip  int
	text  string
}

// locate finds where truth's value tv of a document field is printed and returns the
// rule that finds it there, or nil when it is not printed. m is where extract's Locator
// found the value (found false when it did not). When the value is printed several
// times, the occurrence m has next to one of the field's own labels is preferred, then
// one with a label on its line, then one with a label above it; among those, amounts
// prefer the last (totals come after the items) but for the subtotal, which comes
// before the total that may equal it, and other values the first. A value only the
// Locator found (printed across rows or words in a way no run of words here reads) is
// learned from its match.
func locate(pages []page, f field, tv value, m extract.Match, found bool) *Rule {
	var best *occurrence
	bestScore := -1
	for pi := range pages {
		p := &pages[pi]
		for li := range p.lines {
			ws := p.lines[li].words
			for a := 0; a < len(ws); a++ {
				for n := 1; n <= maxWords(f.kind) && a+n <= len(ws); n++ {
					s := span{page: pi, line: li, a: a, b: a + n}
					text := p.spanText(s)
					pv, ok := matches(f, text, tv)
					if !ok {
						continue
					}
					if n > 1 && (p.reads(f, span{pi, li, a + 1, a + n}, tv) || p.reads(f, span{pi, li, a, a + n - 1}, tv)) {
						break // not tight: a shorter span starting later reads the value too
					}
					o := &occurrence{s: s, p: pv, text: text}
					o.label, o.skip = p.labelBefore(s)
					score := 2
					if found && m.Labelled && m.Page == p.n && m.Box != nil && overlaps(p.rel(p.spanBox(s)), *m.Box) {
						score = 3
					}
					if len(o.label) == 0 {
						o.label = p.labelAbove(s)
						o.below = true
						score = 1
						if len(o.label) == 0 {
							score = 0
						}
					}
					if score > bestScore || (score == bestScore && f.kind == kindAmount && f.path != "invoice.amounts.subtotal") {
						best, bestScore = o, score
					}
					break // the shortest span that reads as the value
				}
			}
		}
	}
	if best == nil {
		return fromMatch(pages, f, m, found)
	}
	p := &pages[best.s.page]
	ru := &Rule{Kind: string(f.kind), Page: p.n, Box: p.rel(p.spanBox(best.s)), Last: best.s.page == len(pages)-1 && len(pages) > 1}
	if len(best.label) > 0 {
		ru.Label, ru.Below, ru.Skip = best.label, best.below, best.skip
	}
	if f.kind == kindCode {
		ru.Shape = shapeOf(strings.Trim(best.text, ":;,.()[]#"))
	}
	if best.p.mdy {
		ru.DateOrder = "mdy"
	}
	if f.kind == kindDate && best.s.b-best.s.a == 1 {
		ru.Form = dateForm(best.text)
	}
	if f.kind == kindAmount {
		ru.Decimals = hasDecimals(best.text)
	}
	return ru
}

// fromMatch is the rule for a value extract's Locator found: its place and label.
func fromMatch(pages []page, f field, m extract.Match, found bool) *Rule {
	if !found || m.Page < 1 || m.Box == nil || len(pages) == 0 {
		return nil
	}
	ru := &Rule{Kind: string(f.kind), Page: m.Page, Box: *m.Box, Last: len(pages) > 1 && m.Page == pages[len(pages)-1].n}
	var label []string
	for _, w := range strings.Fields(m.Label) {
		if labelWord(w) {
			label = append(label, fold(w))
		}
	}
	if len(label) > maxLabel {
		label = label[len(label)-maxLabel:]
	}
	ru.Label = label
	if f.kind == kindCode {
		ru.Shape = shapeOf(strings.Trim(m.Text, ":;,.()[]#"))
	}
	if f.kind == kindAmount {
		ru.Decimals = hasDecimals(m.Text)
	}
	return ru
}

// overlaps tells whether two page-relative boxes share some area.
func overlaps(a, b invoice.Box) bool {
	return a.X0 < b.X1 && b.X0 < a.X1 && a.Y0 < b.Y1 && b.Y0 < a.Y1
}

// reads tells whether span s reads as tv.
func (p *page) reads(f field, s span, tv value) bool {
	_, ok := matches(f, p.spanText(s), tv)
	return ok
}

// matches tells whether text reads as the true value tv of f: an amount equal within
// half a cent, the same date (read day first or month first), the same code without
// spaces and case.
func matches(f field, text string, tv value) (parsed, bool) {
	switch f.kind {
	case kindDate:
		for _, order := range []string{"", "mdy"} {
			if pv, ok := parse(f.kind, text, order); ok && pv.v.s == tv.s {
				return pv, true
			}
		}
		return parsed{}, false
	case kindCode:
		pv, ok := parse(f.kind, text, "")
		if !ok || foldCode(pv.v.s) != foldCode(tv.s) || foldCode(tv.s) == "" {
			return parsed{}, false
		}
		return pv, true
	}
	pv, ok := parse(f.kind, text, "")
	if !ok || !f.same(pv.v, tv) {
		return parsed{}, false
	}
	return pv, true
}

// labelBefore returns the folded label words printed before s on its line and how many
// skippable words (a colon, a currency) stand between them and s. The label ends at the
// word before s (past skippable ones) when it is a labelWord; it goes back over label
// words, at most maxLabel of them, and stops at a wide gap or at a word ending in ':'
// (the end of another label).
func (p *page) labelBefore(s span) ([]string, int) {
	l := &p.lines[s.line]
	j, skip := s.a-1, 0
	for j >= 0 && skip < maxSkip && skippable(l.words[j].Text) {
		j--
		skip++
	}
	if j < 0 || !labelWord(l.words[j].Text) {
		return nil, 0
	}
	label := []string{l.folds[j]}
	gap := 2.5 * l.height()
	for k := j - 1; k >= 0 && len(label) < maxLabel; k-- {
		w := l.words[k]
		if !labelWord(w.Text) || strings.HasSuffix(w.Text, ":") || l.words[k+1].Box.X0-w.Box.X1 > gap {
			break
		}
		label = append(label, l.folds[k])
	}
	slices.Reverse(label)
	return label, skip
}

// labelWord tells whether w may be a word of a label: it has letters, and more
// letters than digits ("GST@6%" is, "5x" and "2024" are not).
func labelWord(w string) bool {
	letters, digits := 0, 0
	for _, r := range w {
		switch {
		case unicode.IsLetter(r):
			letters++
		case unicode.IsDigit(r):
			digits++
		}
	}
	return letters > 0 && letters > digits
}

// labelAbove returns the folded words of the nearest line above s (within three line
// heights) that stand over s, a column heading; nil when there is none.
func (p *page) labelAbove(s span) []string {
	l := &p.lines[s.line]
	bx := p.spanBox(s)
	reach := 3 * l.height()
	for k := s.line - 1; k >= 0; k-- {
		up := &p.lines[k]
		if up.box.Y1 > bx.Y0 {
			continue // the same visual line, or one that overlaps it
		}
		if bx.Y0-up.box.Y1 > reach {
			break
		}
		var label []string
		for i, w := range up.words {
			if w.Box.X1 < bx.X0-l.height() || w.Box.X0 > bx.X1+l.height() {
				continue
			}
			if !labelWord(w.Text) {
				continue
			}
			if len(label) < maxLabel {
				label = append(label, up.folds[i])
			}
		}
		if len(label) > 0 {
			return label
		}
	}
	return nil
}
