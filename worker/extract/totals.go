package extract

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/worker/extract/vocab"
)

// totals is the chosen subtotal, tax and total with their candidates' scores, and the
// deduction and amount due that follow the total.
type totals struct {
	subtotal, tax, total *cand
	consistent           bool // subtotal + tax = total
	discount, due        *cand
	dueConsistent        bool // total - discount = due, both printed
	// unsatisfied: subtotal, tax and total candidates were printed, but no choice of
	// them adds up.
	unsatisfied bool
	// deductions and dues are the printed candidates for chooseDue.
	deductions, dues []cand
	// evidence lists the printed candidates when unsatisfied.
	evidence string
}

// describe lists up to three candidates with their labels and places, for a person.
func (d *doc) describe(kind string, cs []cand) string {
	var parts []string
	for i, c := range cs {
		if i == 3 {
			parts = append(parts, "...")
			break
		}
		at := ""
		if c.row >= 0 && c.row < len(d.rows) {
			at = fmt.Sprintf(", page %d row %d", d.rows[c.row].page, c.row+1)
		}
		parts = append(parts, fmt.Sprintf("%.2f (%q%s)", c.num, strings.TrimSpace(c.label), at))
	}
	return kind + " " + strings.Join(parts, ", ")
}

// deduction finds a printed deduction and a printed amount due with
// total - deduction = due (the deduction printed with either sign), the best scored
// pair first; failing one, all deductions together. It returns nils when none fits.
func deduction(t cand, cc, dc []cand) (*cand, *cand) {
	var bc, bd *cand
	bs := -1.0
	try := func(c cand, cs float64) {
		m := math.Abs(c.num)
		if m < 0.005 {
			return
		}
		for j := range dc {
			due := dc[j]
			if math.Abs(due.num-t.num) < 0.005 || math.Abs(t.num-math.Copysign(m, t.num)-due.num) > 0.011 {
				continue
			}
			if sc := cs + due.score; sc > bs {
				bs = sc
				c.num = math.Copysign(m, t.num)
				cc, dd := c, due
				bc, bd = &cc, &dd
			}
		}
	}
	for i := range cc {
		try(cc[i], cc[i].score)
	}
	if bc == nil && len(cc) > 1 {
		sum := cand{score: 0.5, conf: 1, how: "sum"}
		for _, c := range cc {
			sum.num += math.Abs(c.num)
			sum.conf = math.Min(sum.conf, c.conf)
			sum.row = c.row
		}
		sum.num = round2(sum.num)
		try(sum, 0.5)
	}
	return bc, bd
}

// dedupe keeps the best candidate per value.
func dedupe(cs []cand) []cand {
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].score > cs[j].score })
	var out []cand
	for _, c := range cs {
		dup := false
		for _, o := range out {
			if math.Abs(o.num-c.num) < 0.005 {
				dup = true
			}
		}
		if !dup {
			out = append(out, c)
		}
	}
	if len(out) > 6 {
		out = out[:6]
	}
	return out
}

// findTotals collects every printed candidate for the total, subtotal, tax, deductions
// and amount due, with their labels' weights and positions, and chooses the set that
// agrees with the arithmetic: subtotal + tax = total, total - deduction = amount due, and
// (when the line amounts are known, itemSum non-nil) lines add up to the subtotal.
// With a tax breakdown of several rates, the sums over it are candidates for subtotal and
// tax, and one rate's row is not taken for the invoice's subtotal and tax.
func (d *doc) findTotals(itemSum *float64, breakdown []taxRow) totals {
	cs := d.totalCandidates(breakdown)
	out := cs.bestTriple(itemSum, breakdown)
	out.deductions, out.dues = cs.cc, cs.dc
	if out.consistent {
		return out
	}
	out.unsatisfied = len(cs.tc) > 0 && len(cs.sc) > 0 && len(cs.xc) > 0
	if out.unsatisfied {
		out.evidence = d.describe("totals", cs.tc) + "; " + d.describe("subtotals", cs.sc) + "; " + d.describe("taxes", cs.xc)
	}
	if c, ok := best(cs.tc); ok {
		out.total = &c
		d.partsOfTotal(&out, cs, itemSum)
	} else if len(cs.sc) > 0 {
		d.totalFromParts(&out, cs)
	}
	if out.total == nil {
		out.total = d.scanTotal()
	}
	return out
}

// totalCands are the printed candidates findTotals chooses among.
type totalCands struct {
	tc, sc, xc []cand // totals, subtotals, taxes
	cc, dc     []cand // deductions, amounts due
	// multi: several tax rates, whose sums are subtotal and tax candidates too.
	multi bool
}

func (d *doc) totalCandidates(breakdown []taxRow) totalCands {
	tc := d.amountCands(totalLabels, totalNegative, totalNegativeBefore)
	cs := totalCands{cc: dedupe(d.amountCands(deductionLabels, nil, nil)), dc: dedupe(d.amountCands(amountDueLabels, dueNegative, nil))}
	d.weighTotals(tc)
	sc := d.amountCands(subtotalLabels, reSubtotalNegative, nil)
	xc := d.amountCands(taxLabels, taxNegative, reTaxNegativeBefore)
	cs.tc, cs.sc, cs.xc = dedupe(tc), dedupe(sc), dedupe(xc)
	cs.multi = len(breakdown) > 1 && d.rules.on(RuleBreakdownSums)
	if cs.multi {
		// The sums over the rates are what the invoice's subtotal and tax are, printed or not.
		bs, bt := sums(breakdown)
		cs.sc = append(cs.sc, cand{num: bs, score: 0.7, conf: 1, row: -1, how: "breakdown", label: "sum of the tax breakdown's bases"})
		cs.xc = append(cs.xc, cand{num: bt, score: 0.7, conf: 1, row: -1, how: "breakdown", label: "sum of the tax breakdown's taxes"})
	}
	// A total from which a printed deduction leaves a printed amount due is the gross.
	for i := range cs.tc {
		if c, _ := deduction(cs.tc[i], cs.cc, cs.dc); c != nil {
			cs.tc[i].score += 0.4
		}
	}
	return cs
}

// weighTotals: among equally weighted totals the largest and the latest are the grand
// total; a negative one is unlikely.
func (d *doc) weighTotals(tc []cand) {
	maxv := 0.0
	for _, c := range tc {
		maxv = math.Max(maxv, c.num)
	}
	for i := range tc {
		if tc[i].num == maxv && maxv > 0 {
			tc[i].score += 0.05
		}
		if tc[i].num < 0 {
			tc[i].score -= 0.3
		}
		tc[i].score += 0.02 * float64(tc[i].row) / float64(len(d.rows)+1)
	}
}

// bestTriple is the best scored total, subtotal and tax with subtotal + tax = total; not
// consistent when no triple adds up.
func (cs totalCands) bestTriple(itemSum *float64, breakdown []taxRow) totals {
	var out totals
	bestScore := -1.0
	for i := range cs.tc {
		for j := range cs.sc {
			for k := range cs.xc {
				t, s, x := cs.tc[i], cs.sc[j], cs.xc[k]
				if math.Abs(s.num+x.num-t.num) > 0.011 || t.num == 0 {
					continue
				}
				if v := cs.tripleScore(t, s, x, itemSum, breakdown); v > bestScore {
					bestScore = v
					out = totals{total: &cs.tc[i], subtotal: &cs.sc[j], tax: &cs.xc[k], consistent: true}
				}
			}
		}
	}
	return out
}

// tripleScore weighs a total, subtotal and tax that add up.
func (cs totalCands) tripleScore(t, s, x cand, itemSum *float64, breakdown []taxRow) float64 {
	v := t.score + s.score + x.score
	if x.num > s.num && s.num >= 0 {
		v -= 0.5 // tax is rarely larger than the net amount
	}
	if itemSum != nil && math.Abs(*itemSum-s.num) <= 0.011 {
		v += 0.3 // the lines add up to this subtotal
	}
	if cs.multi && oneRate(breakdown, s, x) {
		v -= 0.6 // one rate's row of several: its base, tax and gross are not the invoice's
	}
	return v
}

// oneRate reports whether s and x are the base and tax of one row of the breakdown.
func oneRate(breakdown []taxRow, s, x cand) bool {
	for _, r := range breakdown {
		if math.Abs(r.base-s.num) <= 0.005 && math.Abs(r.amount-x.num) <= 0.005 {
			return true
		}
	}
	return false
}

// partsOfTotal chooses the subtotal and tax that agree with the chosen total even
// without their partner; failing that, a tax below the total, and the subtotal that total
// minus tax gives when that amount is printed.
func (d *doc) partsOfTotal(out *totals, cs totalCands, itemSum *float64) {
	out.subtotal = subtotalBelow(out.total.num, cs.sc, itemSum)
	if out.subtotal != nil {
		taxOfParts(out, cs.xc)
	}
	if out.tax == nil {
		for k := range cs.xc {
			if cs.xc[k].num < out.total.num && cs.xc[k].num >= 0 {
				out.tax = &cs.xc[k]
				break
			}
		}
	}
	if out.subtotal == nil && out.tax != nil {
		// Subtotal implied by total - tax when that amount is printed on the page.
		want := round2(out.total.num - out.tax.num)
		if d.hasAmount(want) {
			out.subtotal = &cand{num: want, score: 0.5, conf: out.total.conf, how: "derived"}
			out.consistent = true
		}
	}
}

// subtotalBelow is the first positive subtotal not above the total: one the lines add up
// to first.
func subtotalBelow(total float64, sc []cand, itemSum *float64) *cand {
	if itemSum != nil {
		for j := range sc {
			if math.Abs(sc[j].num-*itemSum) <= 0.011 && sc[j].num <= total+0.005 && sc[j].num > 0 {
				return &sc[j]
			}
		}
	}
	for j := range sc {
		if sc[j].num <= total+0.005 && sc[j].num > 0 {
			return &sc[j]
		}
	}
	return nil
}

// taxOfParts sets the tax that is total - subtotal; when net equals gross, a printed zero
// tax (no tax on this invoice, unless a tax label says otherwise).
func taxOfParts(out *totals, xc []cand) {
	want := out.total.num - out.subtotal.num
	for k := range xc {
		if math.Abs(xc[k].num-want) <= 0.011 {
			out.tax = &xc[k]
			out.consistent = true
			return
		}
	}
	if math.Abs(want) < 0.005 {
		for k := range xc {
			if xc[k].num == 0 {
				out.tax = &xc[k]
				out.consistent = true
			}
		}
	}
}

// totalFromParts: no total is labelled; the first subtotal and tax are taken, and their
// sum is the total when that amount is printed.
func (d *doc) totalFromParts(out *totals, cs totalCands) {
	s := cs.sc[0]
	out.subtotal = &s
	if len(cs.xc) == 0 {
		return
	}
	x := cs.xc[0]
	out.tax = &x
	want := round2(s.num + x.num)
	if d.hasAmount(want) {
		out.total = &cand{num: want, score: 0.5, conf: s.conf, how: "derived"}
		out.consistent = true
	}
}

// scanTotal is the total of receipts and label-less documents: the largest amount marked
// as money, when the document holds few such amounts; else nil.
func (d *doc) scanTotal() *cand {
	var bestC *cand
	money := 0
	for ri, r := range d.rows {
		for _, s := range r.segs {
			for _, a := range findAmounts(maskDates(s.text, d.order), d.dec) {
				if a.Currency || a.Decimals == 2 {
					money++
				}
				if (a.Currency || a.Decimals == 2) && (bestC == nil || a.Value > bestC.num) && a.Value < 1e7 {
					bestC = &cand{num: a.Value, score: 0.3, conf: s.conf(a.Start, a.End), row: ri, how: "scan"}
				}
			}
		}
	}
	if money > maxScanAmounts {
		return nil
	}
	return bestC
}

// chooseDue sets the deduction and the amount due that go with the chosen total: a
// printed pair that satisfies total - deduction = due; else a printed amount due equal to
// the total; else one below the total whose difference is printed (a deduction without
// a label); else, with no deduction in sight, the total itself.
func (d *doc) chooseDue(out *totals) {
	out.discount, out.due, out.dueConsistent = nil, nil, false
	if out.total == nil {
		return
	}
	// The tax is not a deduction and the net amount is not what is due.
	same := func(c cand, o *cand) bool { return o != nil && math.Abs(math.Abs(c.num)-math.Abs(o.num)) < 0.005 }
	var cc, dc []cand
	if !d.rules.on(RuleDeductions) {
		out.deductions = nil
	}
	for _, c := range out.deductions {
		if !same(c, out.tax) {
			cc = append(cc, c)
		}
	}
	for _, c := range out.dues {
		if !same(c, out.subtotal) || same(c, out.total) {
			dc = append(dc, c)
		}
	}
	t := *out.total
	if c, due := deduction(t, cc, dc); c != nil {
		out.discount, out.due, out.dueConsistent = c, due, true
		return
	}
	for i := range dc {
		if math.Abs(dc[i].num-t.num) < 0.005 {
			due := dc[i]
			out.due = &due
			return
		}
	}
	for i := range dc {
		diff := round2(t.num - dc[i].num)
		if math.Abs(dc[i].num) < math.Abs(t.num) && dc[i].num*t.num > 0 && d.hasAmount(diff) {
			due := dc[i]
			out.due = &due
			out.discount = &cand{num: diff, score: 0.5, conf: due.conf, row: due.row, how: "derived"}
			return
		}
	}
	if len(cc) == 0 {
		out.due = &cand{num: t.num, score: 0.6 * t.score, conf: t.conf, row: t.row, how: "derived"}
	}
}

// hasAmount reports whether v is printed somewhere on the document.
func (d *doc) hasAmount(v float64) bool {
	for _, r := range d.rows {
		for _, s := range r.segs {
			for _, a := range findAmounts(s.text, d.dec) {
				if math.Abs(a.Value-v) < 0.005 {
					return true
				}
			}
		}
	}
	return false
}

// currencyTexts are the patterns by which running text names a currency (vocab.Currencies
// with a Text), and reISOCode its ISO codes.
var (
	currencyTexts = func() []currencyText {
		var out []currencyText
		for _, c := range vocab.Currencies {
			if c.Text != "" {
				out = append(out, currencyText{regexp.MustCompile(c.Text), c.Code})
			}
		}
		return out
	}()
	reISOCode = regexp.MustCompile(`(?:^|[^A-Za-z])(` + strings.Join(vocab.Codes, "|") + `)(?:[^A-Za-z]|$)`)
)

type currencyText struct {
	re   *regexp.Regexp
	code string
}

// findCurrency picks the currency named most often by ISO code or symbol; on a tie, the
// one first in vocab.Currencies.
func (d *doc) findCurrency() (cand, bool) {
	counts := map[string]float64{}
	for _, r := range d.rows {
		for _, m := range reISOCode.FindAllStringSubmatch(r.text, -1) {
			counts[m[1]] += 1.5
		}
		for _, ct := range currencyTexts {
			counts[ct.code] += float64(len(ct.re.FindAllStringIndex(r.text, -1)))
		}
	}
	bestCode, n := "", 0.0
	for _, c := range vocab.Currencies {
		if counts[c.Code] > n {
			bestCode, n = c.Code, counts[c.Code]
		}
	}
	for code, c := range counts {
		if c > n {
			bestCode, n = code, c
		}
	}
	if bestCode != "" {
		return cand{str: bestCode, score: math.Min(1, 0.6+0.1*n), conf: 1, how: "symbol"}, true
	}
	return cand{}, false
}

// currencyFromContext guesses the currency from the country of the tax id or the
// language when nothing names it.
func currencyFromContext(taxID, lang string) string {
	if len(taxID) >= 2 {
		switch strings.ToUpper(taxID[:2]) {
		case "DE", "FR", "NL", "BE", "AT", "IT", "ES", "PT", "FI", "IE", "LU", "EL", "SK", "SI", "EE", "LV", "LT", "MT", "CY", "HR":
			return "EUR"
		}
	}
	switch lang {
	case "deu", "fra", "nld", "ita", "spa":
		return "EUR"
	}
	return ""
}
