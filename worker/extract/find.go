package extract

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// hit is one label found in a row segment.
type hit struct {
	row, seg int
	a, b     int // byte range of the label inside the segment text
	lab      label
}

// cand is a candidate value for a field.
type cand struct {
	str   string
	num   float64
	score float64 // label weight times position factor
	conf  float64 // mean OCR confidence of the words the value came from
	row   int
	how   string // same|right|below|scan
	label string // the label that announced the value, as printed (amounts)
	// fallback: an invoice number read under a policy, contract, account or reference
	// label because the document has no invoice number label.
	fallback bool
}

// findLabels returns every occurrence of any of the labels, in reading order.
func (d *doc) findLabels(labels []label) []hit {
	var out []hit
	for ri, r := range d.rows {
		for si, s := range r.segs {
			for _, l := range labels {
				for _, m := range l.re.FindAllStringSubmatchIndex(s.text, 4) {
					h := hit{row: ri, seg: si, a: m[2], b: m[3], lab: l}
					// A longer label at the same place already covers it. Hits are
					// appended row by row, so only the latest ones can be in this
					// segment (looking further back made long documents quadratic).
					dup := false
					for k := len(out) - 1; k >= 0 && out[k].row == ri && out[k].seg == si; k-- {
						if o := out[k]; o.a <= h.a && o.b >= h.b {
							dup = true
						}
					}
					if !dup {
						out = append(out, h)
					}
				}
			}
		}
	}
	return out
}

// source is a piece of text where the value for a label may be.
type source struct {
	text   string
	factor float64
	how    string
	row    int
	seg    *segment
	off    int // offset of text inside seg.text (for confidences)
}

// sources lists where a label's value may be: the rest of its segment, the following
// segments of its row (each alone, and joined), and the segments of the next two rows
// that overlap the label horizontally.
func (d *doc) sources(h hit) []source {
	r := d.rows[h.row]
	s := &r.segs[h.seg]
	var out []source
	rest := s.text[h.b:]
	out = append(out, source{text: rest, factor: 1, how: "same", row: h.row, seg: s, off: h.b})
	if h.lab.immediate {
		return out
	}
	for k := h.seg + 1; k < len(r.segs) && k <= h.seg+3 && d.rules.on(RuleValueRight); k++ {
		f := 0.95 - 0.1*float64(k-h.seg-1)
		out = append(out, source{text: r.segs[k].text, factor: f, how: "right", row: h.row, seg: &r.segs[k]})
	}
	lx0, lx1 := s.span(h.a, h.b)
	for k := 1; k <= 2 && h.row+k < len(d.rows) && d.rules.on(RuleValueBelow); k++ {
		nr := &d.rows[h.row+k]
		if nr.page != r.page || nr.box.Y0-r.box.Y1 > 2.5*d.unit {
			break
		}
		for si := range nr.segs {
			ns := &nr.segs[si]
			if ns.box.X1 < lx0-d.unit || ns.box.X0 > lx1+d.unit {
				continue
			}
			out = append(out, source{text: ns.text, factor: 0.85 - 0.15*float64(k-1), how: "below", row: h.row + k, seg: ns})
		}
	}
	return out
}

// leadingJunk is punctuation and filler words between a label and its value.
var leadingJunk = regexp.MustCompile(`(?i)^(?:[\s:#.\-–=/]|n°|nº|no\.?(?:\s|$)|nr\.?(?:\s|$)|number|nummer|num\.?(?:\s|$)|numéro|número|numero|\(\d+\))*`)

var reIDToken = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N}/_.\-]*[\p{L}\p{N}]$|^\p{N}$`)

var (
	// reLetterGroup is a short upper-case letter group printed before the digits of a
	// number ("INV 12-345", "F 2024/11/0042").
	reLetterGroup = regexp.MustCompile(`^\p{Lu}{1,4}$`)
	// reLoneSeparator is a separator set apart by spaces ("2024 / 00123").
	reLoneSeparator = regexp.MustCompile(`^[/\-–.]$`)
	// rePostcodeDigits is a postcode, alone or after a country prefix, before the town's name.
	rePostcodeDigits = regexp.MustCompile(`^\d{4,5}$`)
	reTownWord       = regexp.MustCompile(`^\p{Lu}\p{Ll}{2,}`)
	// reIBANStart: the value is a bank account, printed in groups or in one piece.
	reIBANStart = regexp.MustCompile(`^[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,}`)
	// rePhoneStart: an area code in brackets, or a number with a country code.
	rePhoneStart = regexp.MustCompile(`^(?:\(\d{2,5}\)\s*\d|\+\s?\d)`)
	reFieldSpan  = regexp.MustCompile(`\S+`)
)

// cleanToken trims the punctuation around a number as printed.
func cleanToken(f string) string {
	return strings.TrimLeft(strings.TrimRight(f, ",;:.)"), "(#")
}

// idToken reports whether t may be (part of) a number: letters and digits joined by
// "/", "_", "." or "-", holding at least one digit.
func idToken(t string) bool {
	return len(t) <= 40 && reIDToken.MatchString(t) && strings.ContainsAny(t, "0123456789")
}

// parseNumber reads an invoice number at the start of s and returns it with its byte
// range in s. A number is one token of letter and digit groups joined by "/", "." or
// "-"; a short upper-case letter group before it ("INV 12-345/AB") and groups set apart
// by a lone separator ("2024 / 00123") belong to it. Dates, amounts, IBANs, phone
// numbers, postcodes and page counters are not numbers.
func (d *doc) parseNumber(s string) (string, int, int, bool) {
	loc := leadingJunk.FindStringIndex(s)
	start := 0
	if loc != nil {
		start = loc[1]
	}
	rest := s[start:]
	if reIBANStart.MatchString(rest) || rePhoneStart.MatchString(rest) {
		return "", 0, 0, false
	}
	spans := reFieldSpan.FindAllStringIndex(rest, 8)
	if len(spans) == 0 {
		return "", 0, 0, false
	}
	field := func(i int) string { return rest[spans[i][0]:spans[i][1]] }
	first, last := 0, 0
	var b strings.Builder
	if len(spans) > 1 && reLetterGroup.MatchString(field(0)) {
		next := cleanToken(field(1))
		postcode := rePostcodeDigits.MatchString(next) && len(spans) > 2 && reTownWord.MatchString(field(2))
		if idToken(next) && next[0] >= '0' && next[0] <= '9' && !postcode && !d.isDateOrAmount(next) {
			b.WriteString(field(0) + " ")
			last = 1
		}
	}
	tok := cleanToken(field(last))
	if len(tok) < 2 && !(len(tok) == 1 && unicode.IsDigit(rune(tok[0]))) || !idToken(tok) {
		return "", 0, 0, false
	}
	if d.isDateOrAmount(tok) {
		return "", 0, 0, false
	}
	lower := strings.ToLower(tok)
	for _, bad := range []string{"page", "seite"} {
		if strings.HasPrefix(lower, bad) {
			return "", 0, 0, false
		}
	}
	b.WriteString(tok)
	// Groups set apart by a lone separator continue the number.
	for last+2 < len(spans) && reLoneSeparator.MatchString(field(last+1)) && strings.HasSuffix(field(last), tok) {
		next := cleanToken(field(last + 2))
		if !idToken(next) || d.isDateOrAmount(next) {
			break
		}
		b.WriteString(field(last+1) + next)
		last += 2
		tok = next
	}
	end := spans[last][1]
	if t := cleanToken(field(last)); t != field(last) {
		// Keep the offsets on the number, not on trailing punctuation.
		end = spans[last][0] + strings.Index(field(last), t) + len(t)
	}
	return b.String(), start + spans[first][0], start + end, true
}

// isDateOrAmount reports whether the whole token is a date, or an amount with a decimal
// comma or grouping ("1.234,56", "1,234.56").
func (d *doc) isDateOrAmount(tok string) bool {
	if ds := findDates(tok, d.order); len(ds) == 1 && ds[0].Start == 0 && ds[0].End == len(tok) {
		return true
	}
	if strings.Contains(tok, ",") {
		if _, ok := ParseAmount(tok, d.dec); ok {
			return true
		}
	}
	return false
}

// best returns the highest scored candidate, preferring earlier rows on ties.
func best(cs []cand) (cand, bool) {
	if len(cs) == 0 {
		return cand{}, false
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].score != cs[j].score {
			return cs[i].score > cs[j].score
		}
		return cs[i].row < cs[j].row
	})
	return cs[0], true
}

// findNumber returns the invoice number. Without an invoice number label that gives one,
// a policy, contract, account, statement or reference number (numberFallbackLabels) is
// taken when it scores higher than a weak label's value; such a candidate is marked
// fallback.
func (d *doc) findNumber() (cand, bool) {
	c, ok := d.numberCands(numberLabels, false)
	if ok && c.score >= 0.7 {
		return c, true
	}
	if !d.rules.on(RuleNumberFallback) {
		return c, ok
	}
	if f, fok := d.numberCands(numberFallbackLabels, true); fok && (!ok || f.score > c.score) {
		f.fallback = true
		return f, true
	}
	return c, ok
}

// reAmountShape is an amount with two decimals ("312.40", "1,234.56").
var reAmountShape = regexp.MustCompile(`^\d{1,3}(?:[.,' ]\d{3})*[.,]\d{2}$`)

// numberCands returns the best number announced by one of labels. Fallback labels
// (policy, account, reference...) also reject bank rows, values shaped like amounts,
// digit groups set apart by spaces (phone numbers, accounts) and postcodes below the label.
func (d *doc) numberCands(labels []label, fallback bool) (cand, bool) {
	var cs []cand
	for _, h := range d.findLabels(labels) {
		// "Invoice Date", "Rechnungsdatum", "invoice total": the weak label is part of another.
		after := d.rows[h.row].segs[h.seg].text[h.b:]
		if h.lab.weight < 0.7 && reWeakNumberFollower.MatchString(after) {
			continue
		}
		if fallback && reBankRow.MatchString(d.rows[h.row].text) {
			continue
		}
		for _, src := range d.sources(h) {
			if h.lab.weight < 0.7 && src.how == "right" && src.factor < 0.95 {
				continue
			}
			v, a, b, ok := d.parseNumber(src.text)
			if !ok {
				continue
			}
			// Weak labels need an id-looking value with a digit run, not a year or a count.
			if h.lab.weight < 0.7 && (len(v) < 3 || yearOnly.MatchString(v)) {
				continue
			}
			if fallback {
				tail := strings.TrimSpace(src.text[b:])
				spaced := reDigitsOnly.MatchString(v) && tail != "" && tail[0] >= '0' && tail[0] <= '9'
				postcode := src.how == "below" && rePostcodeDigits.MatchString(v) && reTownWord.MatchString(tail)
				if reAmountShape.MatchString(v) || spaced || postcode {
					break
				}
			}
			w := h.lab.weight
			if !fallback && w < 0.7 && src.how == "right" && reNumberWord.MatchString(src.text) && titleRest(after) {
				// "Rechnung (380)" and "Nr. 4711" read as two segments (wide title type
				// under OCR) are the label "Rechnung Nr." split apart.
				w = 1
			}
			conf := src.seg.conf(src.off+a, src.off+b)
			cs = append(cs, cand{str: v, score: w * src.factor, conf: conf, row: src.row, how: src.how})
			break
		}
	}
	return best(cs)
}

// reNumberWord opens a value with the word for "number".
var reNumberWord = regexp.MustCompile(`(?i)^\s*(?:nr\.?|no\.?|n°|nº|#|nummer|number|numéro)(?:\s|$|[:#])`)

// titleRest reports whether the text after a document title in its segment is only a
// short qualifier ("des Versicherers (575)"): at most three words, no digits outside
// brackets.
func titleRest(s string) bool {
	s = reParen.ReplaceAllString(s, " ")
	return len(strings.Fields(s)) <= 3 && !strings.ContainsAny(s, "0123456789")
}

var reDigitsOnly = regexp.MustCompile(`^\d+$`)

var yearOnly = regexp.MustCompile(`^(?:19|20)\d\d$`)

// findDateField finds a date announced by one of labels; negative filters labels whose
// surrounding text says the date is about something else.
func (d *doc) findDateField(labels []label, negative *regexp.Regexp) []cand {
	var cs []cand
	for _, h := range d.findLabels(labels) {
		seg := d.rows[h.row].segs[h.seg].text
		if negative != nil {
			back := 14
			if h.lab.immediate {
				back = 40
			}
			ctx := seg[max(0, h.a-back):min(len(seg), h.b+6)]
			if negative.MatchString(ctx) {
				continue
			}
		}
		for _, src := range d.sources(h) {
			t := src.text
			ds := findDates(t, d.order)
			if len(ds) == 0 {
				continue
			}
			// The date must come first in the value text (only filler before it).
			pre := strings.TrimSpace(t[:ds[0].Start])
			if len(pre) > 3 && !(src.how == "same" && len(pre) <= 14 && !h.lab.immediate) {
				continue
			}
			sc := h.lab.weight * src.factor
			if ds[0].Ambiguous {
				sc *= 0.97
			}
			cs = append(cs, cand{str: ds[0].Date, score: sc, conf: src.seg.conf(src.off+ds[0].Start, src.off+ds[0].End), row: src.row, how: src.how})
			break
		}
	}
	return cs
}

func (d *doc) findDate() (cand, bool) {
	cs := d.weighDates(d.findDateField(dateLabels, dateNegative))
	if c, ok := best(cs); ok {
		return c, true
	}
	// Fallback: the first date on the document that is not in a negative context.
	for ri, r := range d.rows {
		for _, s := range r.segs {
			for _, ds := range findDates(s.text, d.order) {
				ctx := s.text[max(0, ds.Start-24):ds.Start]
				if dateNegative.MatchString(ctx) {
					continue
				}
				return cand{str: ds.Date, score: 0.35, conf: s.conf(ds.Start, ds.End), row: ri, how: "scan"}, true
			}
		}
	}
	return cand{}, false
}

// findDueDate reads the due date under its labels. The result is kept: the invoice
// date's choice asks for it too.
func (d *doc) findDueDate() (cand, bool) {
	if d.due == nil {
		c, ok := best(d.findDateField(dueLabels, nil))
		d.due = &dueDate{c, ok}
	}
	return d.due.c, d.due.ok
}

// dueDate is findDueDate's kept result.
type dueDate struct {
	c  cand
	ok bool
}

// amountAfter returns the amount a label announces within a source: the last amount of a
// run of amount-only segments, skipping dates and percentages.
func (d *doc) amountCands(labels []label, neg, negBefore *regexp.Regexp) []cand {
	var cs []cand
	for _, h := range d.findLabels(labels) {
		r := d.rows[h.row]
		s := r.segs[h.seg]
		// "Total inclusive GST" is a total even though "GST" follows the label.
		if neg != nil && neg.MatchString(s.text[h.b:]) && !reInclusiveLabel.MatchString(s.text[h.a:h.b]) {
			continue
		}
		if negBefore != nil && negBefore.MatchString(s.text[:h.a]) {
			continue
		}
		found := false
		// Same row: the rest of the label's segment and the following segments up to one
		// that holds words (another label).
		var vals []cand
		for k := h.seg; k < len(r.segs); k++ {
			t := r.segs[k].text
			off := 0
			if k == h.seg {
				t = t[h.b:]
				off = h.b
			} else if hasWords(t) && len(vals) > 0 {
				break
			} else if hasWords(t) && k > h.seg+1 {
				break
			}
			masked := maskDates(t, d.order)
			for _, a := range findAmounts(masked, d.dec) {
				if k == h.seg && !fillerOnly(masked[:a.Start]) {
					continue
				}
				f := 1.0
				if k > h.seg {
					f = 0.95
				}
				vals = append(vals, cand{num: a.Value, score: h.lab.weight * f, conf: r.segs[k].conf(off+a.Start, off+a.End), row: h.row, how: "right", label: s.text[h.a:h.b]})
			}
		}
		if len(vals) > 0 {
			c := vals[len(vals)-1]
			cs = append(cs, c)
			found = true
		}
		if found {
			continue
		}
		// Below: a value under a column header label.
		for _, src := range d.sources(h) {
			if src.how != "below" {
				continue
			}
			if hasWords(src.text) {
				continue
			}
			as := findAmounts(maskDates(src.text, d.order), d.dec)
			if len(as) == 1 {
				cs = append(cs, cand{num: as[0].Value, score: h.lab.weight * src.factor * 0.9, conf: src.seg.conf(as[0].Start, as[0].End), row: src.row, how: "below", label: s.text[h.a:h.b]})
				break
			}
		}
	}
	return cs
}

// hasWords reports whether s holds a word of three or more letters that is not a
// currency code or symbol.
func hasWords(s string) bool {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if len([]rune(f)) >= 3 {
			switch strings.ToUpper(f) {
			case "EUR", "USD", "GBP", "CHF", "INR", "MYR", "TTC", "AUD", "CAD":
				continue
			}
			return true
		}
	}
	return false
}

// maskDates replaces dates and percentages with spaces so they are not read as amounts.
func maskDates(s string, order DateOrder) string {
	b := []byte(s)
	for _, ds := range findDates(s, order) {
		for i := ds.Start; i < ds.End; i++ {
			b[i] = ' '
		}
	}
	for _, loc := range rePercent.FindAllIndex(b, -1) {
		for i := loc[0]; i < loc[1]; i++ {
			b[i] = ' '
		}
	}
	return string(b)
}

var rePercent = regexp.MustCompile(`\d+(?:[.,]\d+)?\s?%`)

var reParen = regexp.MustCompile(`\([^)]*\)`)

// fillerWords may stand between a label and its amount.
var fillerWords = map[string]bool{
	"brutto": true, "netto": true, "gross": true, "net": true, "incl": true, "inkl": true, "excl": true, "exkl": true,
	"zzgl": true, "ust": true, "mwst": true, "vat": true, "tax": true, "tva": true, "btw": true, "iva": true, "gst": true,
	"eur": true, "usd": true, "gbp": true, "chf": true, "inr": true, "myr": true, "ttc": true, "ht": true, "due": true,
	"amount": true, "total": true, "summe": true, "betrag": true, "rounded": true, "sales": true, "inclusive": true,
	"exclusive": true, "including": true, "excluding": true, "this": true, "invoice": true, "payable": true,
	"rm": true, "rs": true, "euro": true, "euros": true, "montant": true, "bedrag": true, "importe": true, "importo": true,
}

// fillerOnly reports whether s (the text between a label and an amount) holds only
// punctuation, short words and words that qualify a total.
func fillerOnly(s string) bool {
	s = reParen.ReplaceAllString(s, " ")
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) }) {
		if len([]rune(w)) >= 4 && !fillerWords[w] {
			return false
		}
	}
	return true
}

var reInclusiveLabel = regexp.MustCompile(`(?i)incl|inkl|inclusive|including|ttc|brutto|gross`)
