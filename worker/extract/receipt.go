package extract

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ocrinvoice/ocrinvoice/worker/extract/vocab"
)

// Till receipts differ from invoices: the shop's name and address are the first lines,
// there is rarely an invoice number, and several amounts stand next to total-like words
// (TOTAL, ROUNDED TOTAL, CASH, CHANGE). The rules here use the receipt's own arithmetic:
// what the customer handed over minus the change is what was due.

var (
	reCashLabel   = regexp.MustCompile(`(?i)^(?:cash(?:\s*tendered)?|tendered|amount\s*tendered|payment|paid|tunai|bayar|visa|master\s*card|credit\s*card|credit|card|tender)\b`)
	reChangeLabel = regexp.MustCompile(`(?i)^(?:(?:cash\s*)?change(?:\s*due)?|baki|balance\s*(?:due)?|kembali)\b`)
	reRegNumber   = regexp.MustCompile(`\s*[\(\[{]?\s*(?:co\.?\s*)?(?:reg\.?\s*(?:no\.?)?)?\s*[:.]?\s*\d[\dSOIl?]{2,}[-\s]?[A-Z]\b.*$`)
	// reRounding labels the rounding adjustment of a cash total (to 0.05).
	reRounding = regexp.MustCompile(`(?i)^(?:total\s*)?round(?:ing|ed)?\s*(?:adj(?:ustment)?)?\b`)
	reTrailAmp = regexp.MustCompile(`(?:&|AND|\+)\s*$`)
)

// rowAmount returns the last amount on row ri after its label segment(s).
func (d *doc) rowAmount(ri int) (float64, bool) {
	as := findAmounts(maskDates(d.rows[ri].text, d.order), d.dec)
	if len(as) == 0 {
		return 0, false
	}
	return as[len(as)-1].Value, true
}

// receiptTotal finds the total of a receipt and says whether the receipt's own
// arithmetic confirms it. Candidates are the values printed beside total labels (a
// value's vote is its best label, plus a little for every repetition) and cash handed
// over minus change given back. A candidate agrees with the arithmetic when it is cash
// minus change, the sum of the item lines above the totals, a printed subtotal plus a
// printed tax, or a printed total plus a rounding adjustment. Cash minus change wins
// when it is printed somewhere; else the best-voted candidate when it agrees, else the
// best-voted one that agrees and has at least half its vote, else cash minus change
// (an amount the customer's own payment proves, when the printed total could not be
// read), else the best-voted candidate, with agrees false.
func (d *doc) receiptTotal() (c cand, agrees, ok bool) {
	var cash, change, rounding []float64
	payRows := map[int]bool{}
	for ri, r := range d.rows {
		first := strings.TrimSpace(strings.TrimLeft(r.segs[0].text, "*-.:| "))
		switch {
		case reChangeLabel.MatchString(first):
			if v, ok := d.rowAmount(ri); ok && v >= 0 {
				change = append(change, v)
				payRows[ri] = true
			}
		case reCashLabel.MatchString(first):
			if v, ok := d.rowAmount(ri); ok && v > 0 {
				cash = append(cash, v)
				payRows[ri] = true
			}
		case reRounding.MatchString(first):
			if v, ok := d.rowAmount(ri); ok && v < 0.05 {
				rounding = append(rounding, v, -v)
			}
		}
	}
	totals := d.amountCands(totalLabels, totalNegative, totalNegativeBefore)
	votes := map[float64]float64{}
	firstTotalRow := len(d.rows)
	for _, c := range totals {
		v := round2(c.num)
		if votes[v] == 0 {
			votes[v] = c.score
		} else {
			votes[v] = max(votes[v], c.score) + 0.1
		}
		if c.how == "right" {
			// Values under a column header ("AMOUNT") are item lines, not totals.
			firstTotalRow = min(firstTotalRow, c.row)
		}
	}
	var dues []float64
	for _, c := range cash {
		for _, g := range change {
			if due := round2(c - g); due > 0 {
				dues = append(dues, due)
			}
		}
	}
	for _, due := range dues {
		// The difference must be printed, best as a total, and not only on the
		// cash line itself (no change given).
		if votes[due] > 0 || d.printedOutside(due, payRows) {
			return cand{num: due, score: 1, conf: 0.9, how: "cash-change"}, true, true
		}
	}
	if v, ok := roundedTotal(votes, rounding); ok && d.rules.on(RuleReceiptSums) {
		return cand{num: v, score: 0.9, conf: 0.9, how: "rounded"}, true, true
	}
	var sums []float64
	for _, c := range d.amountCands(subtotalLabels, reSubtotalNegative, nil) {
		for _, t := range d.amountCands(taxLabels, nil, nil) {
			sums = append(sums, round2(c.num+t.num))
		}
	}
	if s, ok := d.receiptLineSum(firstTotalRow); ok {
		sums = append(sums, s)
	}
	// Sums from the receipt's own lines, before the totals' rounding variants.
	independent := append([]float64(nil), sums...)
	for v := range votes {
		for _, r := range rounding {
			sums = append(sums, round2(v+r))
		}
	}
	if !d.rules.on(RuleReceiptSums) {
		sums = nil
	}
	agree := func(v float64) bool {
		for _, s := range sums {
			if math.Abs(s-v) < 0.005 {
				return true
			}
		}
		return false
	}
	bestV, bestS := 0.0, 0.0
	for v, s := range votes {
		if v > 0 && (s > bestS || s == bestS && v > bestV) {
			bestV, bestS = v, s
		}
	}
	if bestS > 0 && agree(bestV) {
		return cand{num: bestV, score: math.Min(1, 0.6+0.2*bestS), conf: 0.9, how: "vote+sum"}, true, true
	}
	altV, altS := 0.0, 0.0
	for v, s := range votes {
		if v > 0 && s >= 0.5*bestS && agree(v) && (s > altS || s == altS && v > altV) {
			altV, altS = v, s
		}
	}
	if altS > 0 {
		return cand{num: altV, score: math.Min(1, 0.5+0.2*altS), conf: 0.9, how: "vote+sum"}, true, true
	}
	if len(dues) > 0 && change[0] > 0 && (bestS == 0 || dues[0] >= bestV) {
		return cand{num: dues[0], score: 0.6, conf: 0.9, how: "cash-change"}, true, true
	}
	// A printed total one misread digit away from what the receipt's arithmetic gives
	// (9.60 for items summing to 9.00, 106.90 for cash minus change of 100.90) is that
	// sum: thermal print loses single digits, two sums rarely differ in exactly one.
	if bestS > 0 && d.rules.on(RuleReceiptSums) {
		for _, s := range append(independent, dues...) {
			if oneDigitApart(s, bestV) && d.printedOutside(s, nil) {
				return cand{num: s, score: math.Min(1, 0.5+0.2*bestS), conf: 0.6, how: "vote+sum-digit"}, true, true
			}
		}
	}
	if bestS > 0 {
		return cand{num: bestV, score: math.Min(1, 0.5+0.2*bestS), conf: 0.9, how: "vote"}, false, true
	}
	// Exact payment: cash without change.
	if len(cash) > 0 && len(change) == 0 {
		return cand{num: cash[0], score: 0.4, conf: 0.9, how: "cash"}, false, true
	}
	return cand{}, false, false
}

// oneDigitApart tells whether a and b, written with two decimals, have the same length
// and differ in exactly one digit.
func oneDigitApart(a, b float64) bool {
	x, y := strconv.FormatFloat(a, 'f', 2, 64), strconv.FormatFloat(b, 'f', 2, 64)
	if len(x) != len(y) || a <= 0 || b <= 0 {
		return false
	}
	diff := 0
	for i := range len(x) {
		if x[i] != y[i] {
			diff++
		}
	}
	return diff == 1
}

// reGluedAmount is an amount glued to its currency code as till printers and OCR
// print it ("RM9.75"), perhaps with the letter O read for a zero ("RMO.25").
var reGluedAmount = regexp.MustCompile(`^(RM|MYR|SGD|USD|EUR|GBP|Rs\.?)([O0-9][O0-9,]*[.,][O0-9]{2})$`)

// fixReceiptAmounts separates amounts glued to their currency code ("RM9.75" ->
// "RM 9.75") and reads a letter O in them as a zero, so that the amount rules see
// them, and repairs a till label misread in the first word of a row (fixReceiptLabel).
// Word boxes and confidences stay; only the words' text changes.
func (d *doc) fixReceiptAmounts() {
	for ri := range d.rows {
		r := &d.rows[ri]
		changed := false
		for si := range r.segs {
			ws := append([]word(nil), r.segs[si].words...)
			fixed := false
			for wi, w := range ws {
				if si == 0 && wi == 0 {
					if t, ok := fixReceiptLabel(w.text); ok {
						ws[wi].text, fixed = t, true
						continue
					}
				}
				m := reGluedAmount.FindStringSubmatch(w.text)
				if m == nil {
					continue
				}
				ws[wi].text = m[1] + " " + strings.ReplaceAll(m[2], "O", "0")
				fixed = true
			}
			if fixed {
				r.segs[si] = newSegment(ws)
				changed = true
			}
		}
		if changed {
			parts := make([]string, len(r.segs))
			for i, sg := range r.segs {
				parts[i] = sg.text
			}
			r.text = strings.Join(parts, "   ")
		}
	}
}

// roundedTotal returns the total after cash rounding when the receipt prints both
// totals beside total labels and the rounding adjustment between them ("Total 71.02",
// "Rounding Adj -0.02", "TOTAL 71.00"): the rounded one is what is paid, and it is the
// one in whole five cents.
func roundedTotal(votes map[float64]float64, rounding []float64) (float64, bool) {
	best, bestS := 0.0, 0.0
	for v, s := range votes {
		if v <= 0 || math.Mod(math.Round(v*100), 5) != 0 || s < bestS || s == bestS && v < best {
			continue
		}
		for _, r := range rounding {
			if r != 0 && votes[round2(v+r)] > 0 {
				best, bestS = v, s
				break
			}
		}
	}
	return best, bestS > 0
}

// receiptLabelWords are the till words the total rules look for at the start of a row.
var receiptLabelWords = []string{"TOTAL", "CASH", "CHANGE", "ROUNDED", "ROUNDING", "TENDERED", "SUBTOTAL"}

// fixReceiptLabel reads an upper-case word of four letters or more that differs from a
// till label word in one letter as that word ("FOTAL" -> "TOTAL", "CASK" -> "CASH"):
// OCR on thermal paper misreads single letters, and a label lost costs the total.
// Trailing punctuation stays. Words that are a label already, or two letters away from
// every label, are left alone.
func fixReceiptLabel(w string) (string, bool) {
	core := strings.TrimRight(w, ":.")
	if len(core) < 4 || strings.ToUpper(core) != core {
		return "", false
	}
	for _, l := range receiptLabelWords {
		if core == l {
			return "", false
		}
	}
	for _, l := range receiptLabelWords {
		if len(l) != len(core) {
			continue
		}
		diff := 0
		for i := range len(l) {
			if l[i] != core[i] {
				diff++
			}
		}
		if diff == 1 {
			return l + w[len(core):], true
		}
	}
	return "", false
}

// printedOutside reports whether v is printed on a row not in skip.
func (d *doc) printedOutside(v float64, skip map[int]bool) bool {
	for ri, r := range d.rows {
		if skip[ri] {
			continue
		}
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

// receiptLineSum adds up the item lines of a receipt: the last amount of every row
// between the shop's header and the first total (before row end) that ends in an
// amount and carries no total, subtotal, tax, discount, cash or change label.
func (d *doc) receiptLineSum(end int) (float64, bool) {
	sum, n := 0.0, 0
	for ri := min(4, end); ri < end && ri < len(d.rows); ri++ {
		r := d.rows[ri]
		if reNotItemRow.MatchString(r.text) {
			continue
		}
		last := r.segs[len(r.segs)-1]
		as := findAmounts(maskDates(last.text, d.order), d.dec)
		if len(as) == 0 || strings.TrimSpace(last.text[as[len(as)-1].End:]) != "" && !reTaxCode.MatchString(last.text[as[len(as)-1].End:]) {
			continue
		}
		sum += as[len(as)-1].Value
		n++
	}
	return round2(sum), n > 0
}

var (
	reNotItemRow = regexp.MustCompile(`(?i)total|gst|tax|vat|discount|disc\b|cash|change|round|tender|paid|balance|qty\s*:|tel\b|fax\b|date|time|no\s*[.:]`)
	// reTaxCode is a tax code printed after a line amount ("SR", "ZR", "*S").
	reTaxCode = regexp.MustCompile(`^\s*(?:[*]?[A-Z]{1,2}|\*)\s*$`)
)

// receiptHeader reads the shop name and address from the first lines of a receipt.
func (d *doc) receiptHeader() party {
	p := party{rows: map[int]bool{}}
	top := min(len(d.rows), 8)
	nameRow := -1
	// The shop's name is one of the first lines: prefer a legal-form suffix, upper case,
	// mostly letters, and an early position; skip OCR noise from logos.
	bestScore := 0.0
	for ri := 0; ri < top; ri++ {
		t := d.fixLegalForm(rowPlain(d.rows[ri]))
		// A name may start with a number ("7-Eleven", "99 Speed Mart S/B") when it
		// carries a legal form; the number alone would make it look like an address.
		check := t
		if reLeadingNumber.MatchString(t) && companySuffix.MatchString(t) {
			check = reLeadingNumber.ReplaceAllString(t, "")
		}
		if !isNameLike(check) || reNoName.MatchString(check) || reStopAddr.MatchString(t) {
			continue
		}
		sc := 0.0
		if companySuffix.MatchString(t) {
			sc += 2
		}
		if upperShare(t) > 0.7 {
			sc += 1
		}
		if letterShare(t) > 0.7 {
			sc += 0.5
		}
		if len(strings.Fields(t)) >= 2 {
			sc += 0.5
		}
		if reReceiptPostcode.MatchString(t) || strings.ContainsAny(t, "0123456789") && !companySuffix.MatchString(t) {
			sc -= 1
		}
		sc -= 0.15 * float64(ri)
		if sc > bestScore {
			bestScore, nameRow = sc, ri
		}
	}
	if nameRow < 0 || bestScore < 1 {
		return p
	}
	name := rowPlain(d.rows[nameRow])
	end := nameRow
	// "POPULAR BOOK" / "CO. (M) SDN BHD": a line that starts with the legal form
	// continues the line above.
	if nameRow > 0 && reStartsWithForm.MatchString(name) {
		prev := rowPlain(d.rows[nameRow-1])
		if isNameLike(prev) && !reNoName.MatchString(prev) && letterShare(prev) > 0.7 {
			name = prev + " " + name
		}
	}
	// "HOME MASTER HARDWARE &" / "ELECTRICAL": a name broken over two lines.
	if reTrailAmp.MatchString(name) && nameRow+1 < len(d.rows) {
		name += " " + rowPlain(d.rows[nameRow+1])
		end++
	} else if nameRow > 0 && nameRow+1 < len(d.rows) {
		// A suffix-only line under the name ("SDN BHD").
		next := rowPlain(d.rows[nameRow+1])
		if companySuffix.MatchString(next) && len(strings.Fields(next)) <= 3 && !companySuffix.MatchString(name) {
			name += " " + next
			end++
		}
	}
	name = cleanName(strings.TrimSpace(reRegNumber.ReplaceAllString(d.fixLegalForm(name), "")))
	// Nothing after the legal form belongs to the name.
	if locs := companySuffix.FindAllStringIndex(name, -1); len(locs) > 0 {
		last := locs[len(locs)-1]
		cut := last[1]
		if cut < len(name) && !strings.ContainsRune(" ,.)(", rune(name[cut-1])) {
			cut = len(name)
		}
		if tail := strings.TrimSpace(name[cut:]); tail != "" && !strings.HasPrefix(tail, "(") || strings.HasPrefix(strings.TrimSpace(name[cut:]), "( ") {
			name = strings.TrimSpace(name[:cut])
		}
	}
	name = strings.Trim(name, " ,;:-|")
	p.name = cand{str: name, score: 0.75, conf: rowConf(d.rows[nameRow]), row: nameRow, how: "receipt-top"}
	p.rows[nameRow] = true
	// Address: the following lines up to and including the postcode line (and a state
	// line right after it).
	var addr []string
	conf := 1.0
	found := false
	for k := end + 1; k < len(d.rows) && k <= end+8; k++ {
		t := rowPlain(d.rows[k])
		if reStopAddr.MatchString(t) || reRegLine.MatchString(t) || letterShare(t) < 0.3 {
			continue
		}
		addr = append(addr, t)
		conf = min(conf, rowConf(d.rows[k]))
		p.rows[k] = true
		// The postcode line is a postcode before a place name ("43200 CHERAS"); a lot
		// or plot number of five digits ("LOT PT 1138, PT 33122,") is not.
		if reReceiptPostcode.MatchString(t) && (!d.rules.on(RuleReceiptNames) || rePostcodePlace.MatchString(t)) {
			found = true
			if k+1 < len(d.rows) {
				n := rowPlain(d.rows[k+1])
				if !strings.ContainsAny(n, "0123456789") && len(strings.Fields(n)) <= 4 && !reStopAddr.MatchString(n) {
					addr = append(addr, n)
				}
			}
			break
		}
	}
	if !found && len(addr) > 3 {
		addr = addr[:3]
	}
	if len(addr) > 0 {
		p.address = cand{str: strings.Join(addr, ", "), score: 0.7, conf: conf, row: end + 1, how: "receipt-top"}
	}
	return p
}

var (
	reStartsWithForm = regexp.MustCompile(`(?i)^(?:` + vocab.LegalFormsWhere(func(f vocab.LegalForm) bool { return f.ReceiptStart }) + `)`)
	reRegLine        = regexp.MustCompile(`(?i)^[(\[]?\s*(?:co\.?|company|reg)[^)]*\d{3,}.*[)\]]?$|^[(\[]\s*\d{3,}[\s-]?[a-z]\s*[)\]]$`)
	// "SDN BHD" as OCR reads it: "SON BHD", "SDH. BH.", "SDN BED", "SDN BELD", "SDN BHI".
	reFormOCR         = regexp.MustCompile(`\bS[DIOUAN0][NH]\.?\s*B[HAE][LI]?[DIO0]?\b`)
	reSBOCR           = regexp.MustCompile(`(^|\s)(?:[$5]/B\b|[$5S]/8(\s*[(\[{]|\s*$))`)
	reLeadingNumber   = regexp.MustCompile(`^\d{1,4}[\s-]+`)
	reReceiptPostcode = regexp.MustCompile(`(?:^|\D)\d{5}(?:\D|$)`)
	rePostcodePlace   = regexp.MustCompile(`(?:^|\D)\d{5}[\s,.]+\pL{3,}`)
	reStopAddr        = regexp.MustCompile(`(?i)(tel|fax|phone|gst|reg\.?\s*no|invoice|receipt|date|cashier|e-?mail|www|http|tax)`)
)

// rowPlain is the row's text with segments joined by single spaces, without the specks
// OCR reads at its ends (trimSpecks).
func rowPlain(r row) string {
	parts := make([]string, len(r.segs))
	for i, s := range r.segs {
		parts[i] = s.text
	}
	return trimSpecks(strings.TrimSpace(strings.Join(parts, " ")))
}

// trimSpecks drops the words of one or two characters without a letter or digit at
// either end of s: dirt and the edge of a paper read as ". ", "' ", "| " or "~". An
// ampersand, plus or bracket stays: a name broken over two lines ends in one.
func trimSpecks(s string) string {
	speck := func(w string) bool {
		return utf8.RuneCountInString(w) <= 2 && strings.IndexFunc(w, func(r rune) bool {
			return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '&' || r == '+' || r == '(' || r == ')'
		}) < 0
	}
	f := strings.Fields(s)
	i, j := 0, len(f)
	for i < j && speck(f[i]) {
		i++
	}
	for j > i && speck(f[j-1]) {
		j--
	}
	if i == 0 && j == len(f) {
		return s
	}
	return strings.Join(f[i:j], " ")
}

func rowConf(r row) float64 {
	sum, n := 0.0, 0
	for _, s := range r.segs {
		for _, w := range s.words {
			sum += w.conf
			n++
		}
	}
	if n == 0 {
		return 1
	}
	return sum / float64(n)
}

func upperShare(s string) float64 {
	up, letters := 0, 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			letters++
			if unicode.IsUpper(r) {
				up++
			}
		}
	}
	if letters == 0 {
		return 0
	}
	return float64(up) / float64(letters)
}

// letterShare is the share of letters among the non-space characters of s.
func letterShare(s string) float64 {
	letters, n := 0, 0
	for _, r := range s {
		if unicode.IsSpace(r) {
			continue
		}
		n++
		if unicode.IsLetter(r) {
			letters++
		}
	}
	if n == 0 {
		return 0
	}
	return float64(letters) / float64(n)
}

// fixLegalForm repairs common OCR misreadings of Malaysian legal forms
// ("SON BHD", "SIN BHD", "SDN BED" -> "SDN BHD"; "$/B", "5/B" -> "S/B") and of letters
// in upper-case names (fixNameLetters).
func fixLegalForm(s string) string {
	s = fixNameLetters(s)
	s = reSBOCR.ReplaceAllString(s, "${1}S/B${2}")
	return reFormOCR.ReplaceAllStringFunc(s, func(m string) string {
		if strings.Contains(m, ".") {
			return "SDN. BHD"
		}
		return "SDN BHD"
	})
}

// nameSymbols are symbols OCR reads for letters and brackets of printed names.
var nameSymbols = strings.NewReplacer("¥", "Y", "{", "(", "}", ")")

// fixNameLetters repairs OCR misreadings inside a mostly upper-case name: symbols read
// for letters (¥ for Y, braces for brackets), and a 1 or 0 standing between letters or
// dots of a word that has at least two letters ("D.1.Y." -> "D.I.Y.",
// "INTERNATI0NAL" -> "INTERNATIONAL"). Words of digits are left alone.
func fixNameLetters(s string) string {
	if upperShare(s) < 0.7 {
		return s
	}
	s = nameSymbols.Replace(s)
	words := strings.Fields(s)
	changed := false
	for i, w := range words {
		rs := []rune(w)
		letters := 0
		for _, r := range rs {
			if unicode.IsLetter(r) {
				letters++
			}
		}
		if letters < 2 {
			continue
		}
		for k, r := range rs {
			if r != '1' && r != '0' || k == 0 || k == len(rs)-1 {
				continue
			}
			p, n := rs[k-1], rs[k+1]
			if (unicode.IsUpper(p) || p == '.') && (unicode.IsUpper(n) || n == '.') {
				rs[k] = map[rune]rune{'1': 'I', '0': 'O'}[r]
				changed = true
			}
		}
		words[i] = string(rs)
	}
	if !changed {
		return s
	}
	return strings.Join(words, " ")
}

// fixLegalForm is fixLegalForm unless RuleReceiptNames is switched off.
func (d *doc) fixLegalForm(s string) string {
	if !d.rules.on(RuleReceiptNames) {
		return s
	}
	return fixLegalForm(s)
}
