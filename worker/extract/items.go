package extract

import (
	"regexp"
	"sort"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

type colKind int

const (
	colDesc colKind = iota
	colQty
	colPrice
	colAmount
	nKinds
)

var headerWords = [nKinds]*regexp.Regexp{
	colDesc:   regexp.MustCompile(`(?i)(beschreibung|bezeichnung|description|désignation|designation|omschrijving|descrizione|descripci|libell|artikel|article|product|produkt|produit|leistung|^items?$|particulars|concepto|^title$|^details?$|^service$|prestation|^omschr|^program(?:me)?$|^programa?$)`),
	colQty:    regexp.MustCompile(`(?i)(^qty|quantit|^menge$|^anzahl|cantidad|^cant\.?$|^aantal$|hoeveelheid|^nombre$|^qté$|^units?$|^pcs$|^stk\.?$|^quantity$)`),
	colPrice:  regexp.MustCompile(`(?i)(preis|price|^rate$|^prix|^p\.?u\.?$|precio|prezzo|prijs|tarif|unitaire|^unit$)`),
	colAmount: regexp.MustCompile(`(?i)(^amount|^total$|betrag$|^entgelt$|^gesamt|^montant|^importe|^importo|^bedrag$|^summe$|^ht$|^net$|^netto$|^line\s*total|^beitrag$|^prämie$|^premium$)`),
}

type column struct {
	x0, x1 float64
	ok     bool
}

// stopRow ends an item table.
var stopRow = regexp.MustCompile(`(?i)^(?:sub\s*-?total|subtotaal|subtotale|sous-?\s*total|base\s*imponible|imponibile|importe|importo\s*totale|total|totaal|totale|summe|zwischensumme|positionssumme|gesamt|net\s*total|nettobetrag|rechnungssumme|exclusief|excl\.?\s*btw|montant|somme|übertrag|uebertrag|carried|steuer|tax\b|vat\b|mwst|ust\.|tva|btw|grand|amount\s*due|balance|prijzen|zahlungs|payment|page\s*\d|seite\s*\d)`)

// findItems reads line items from every item table of the document. A table runs on
// over page breaks: carry-over lines ("Übertrag", "carried forward", "Zwischensumme
// Seite 1"), page footers and the running head of the next page are skipped, and the rows
// there are read with the columns of the header on the earlier page.
func (d *doc) findItems() ([]invoice.LineItem, float64) {
	ir := &itemReader{d: d}
	for ri := 0; ri < len(d.rows); ri++ {
		cols, ok := d.headerColumns(ri)
		if !ok {
			continue
		}
		// Later tables count only when they repeat the first table's header (a table
		// continued on the next page), not when they are other tables (allowances,
		// tax breakdowns).
		hdr := headerSignature(d.rows[ri])
		if ir.firstHeader != "" && hdr != ir.firstHeader {
			continue
		}
		ri = ir.readTable(ri, cols, hdr) - 1
	}
	if ir.confN == 0 {
		return ir.items, 0
	}
	return ir.items, ir.confSum / float64(ir.confN)
}

// itemReader collects the line items of every item table of a document.
type itemReader struct {
	d           *doc
	items       []invoice.LineItem
	confSum     float64
	confN       int
	firstHeader string
}

// readingTable is the state of reading one table: its header row, columns and signature,
// where its items begin, description lines waiting for their amount, and discount rows.
type readingTable struct {
	*itemReader
	ri       int
	cols     [nKinds]column
	hdr      string
	before   int
	pending  []string
	discs    []lineDiscount
	lastDesc string // the last description line without an amount
}

// readTable reads the rows under the header at ri and returns the row the table ended at.
func (ir *itemReader) readTable(ri int, cols [nKinds]column, hdr string) int {
	t := &readingTable{itemReader: ir, ri: ri, cols: cols, hdr: hdr, before: len(ir.items)}
	k := ri + 1
	for k < len(ir.d.rows) {
		next, end := t.row(k)
		if end {
			break
		}
		k = next
	}
	ir.items = append(ir.items[:t.before], ir.d.settleDiscounts(ir.items[t.before:], t.discs, k)...)
	if ir.firstHeader == "" && len(ir.items) > t.before {
		ir.firstHeader = hdr
	}
	return k
}

// row reads row k and returns the next row to read, or end when the table ends at k.
// Page breaks and carry-over lines are stepped over here.
func (t *readingTable) row(k int) (next int, end bool) {
	d, r := t.d, t.d.rows[k]
	if _, again := d.headerColumns(k); again {
		return k, true
	}
	if k > t.ri+1 && r.page != d.rows[k-1].page {
		if !d.rules.on(RuleTableOverPages) {
			return k, true
		}
		// The top of the next page: its running head comes before the rows.
		t.pending = nil
		if !d.itemLike(r, t.cols) || d.isCarryRow(r, t.cols) {
			j, ok := d.resumeOnPage(k, t.cols, t.hdr)
			if !ok {
				return k, true
			}
			return j, false
		}
	}
	if d.isCarryRow(r, t.cols) && d.rules.on(RuleTableOverPages) {
		j, ok := d.continuation(k, t.cols, t.hdr)
		if !ok && k+1 < len(d.rows) && d.rows[k+1].page == r.page {
			// A carry-over line at the head of a page: the rows follow it.
			j, ok = d.resumeOnPage(k+1, t.cols, t.hdr)
		}
		if !ok {
			return k, true
		}
		t.pending = nil
		return j, false
	}
	return t.content(k)
}

// content reads row k of the table's body: a group subtotal is stepped over, a totals
// row, gap or section heading ends the table (or this page's part of it), anything else
// is read as an item row.
func (t *readingTable) content(k int) (next int, end bool) {
	d, r := t.d, t.d.rows[k]
	first := strings.TrimSpace(r.segs[0].text)
	hasAmt := len(findAmounts(maskDates(r.text, d.order), d.dec)) > 0
	if hasAmt && reGroupSubtotal.MatchString(first) && d.itemsFollow(k, t.cols) {
		return k + 1, false // a group's subtotal inside the table
	}
	stop, gap := t.stopOrGap(k, first, hasAmt)
	if stop && reGroupSubtotal.MatchString(first) || gap {
		// A subtotal or a gap that ends the page's part of the table, when the
		// table goes on overleaf.
		if j, ok := d.continuation(k, t.cols, t.hdr); ok {
			t.pending = nil
			return j, false
		}
		return k, true
	}
	if stop {
		return k, true
	}
	if len(t.items) > 0 && len(r.segs) == 1 && isLabelOnly(r.segs[0].text) && len(strings.Fields(r.segs[0].text)) <= 3 && r.segs[0].box.X0 <= d.rows[t.ri].box.X0+d.unit {
		return k, true // a section heading ("Zahlungsbedingungen:")
	}
	t.readRow(r)
	return k + 1, false
}

// stopOrGap tells whether row k is a totals row (stop) or follows a gap that is not the
// space between items spaced out by notes.
func (t *readingTable) stopOrGap(k int, first string, hasAmt bool) (stop, gap bool) {
	d, r, cols := t.d, t.d.rows[k], t.cols
	stop = hasAmt && (stopRow.MatchString(first) || isTotalsRow(r) && len(t.items) > 0) || (len(r.segs) > 1 && stopRow.MatchString(strings.TrimSpace(r.segs[len(r.segs)-2].text)) && !hasWords(r.segs[len(r.segs)-1].text) && r.segs[len(r.segs)-2].box.X0 > cols[colAmount].x0-30*d.unit && len(t.items) > 0)
	gap = !stop && k > t.ri+1 && r.box.Y0-d.rows[k-1].box.Y1 > 4*d.unit && r.page == d.rows[k-1].page && len(t.items) > 0
	if gap && d.startsItem(r, cols) {
		// Items spaced out by notes under each: the row after the gap has
		// its quantity or price in their columns.
		gap = false
	}
	return stop, gap
}

// readRow reads one body row: a description line waits for its amount; a row with an
// amount is an item, or a discount under the item above.
func (t *readingTable) readRow(r row) {
	li, desc, conf := t.cells(r)
	if li.Amount == nil {
		if len(desc) > 0 {
			t.lastDesc = strings.Join(desc, " ")
			if len(t.pending) < 3 {
				t.pending = append(t.pending, t.lastDesc)
			}
		}
		return
	}
	ownDesc := len(desc) > 0
	if !ownDesc {
		desc = t.pending
	}
	// A discount printed under an item ("abzgl. 10 % Rabatt  -2,00") may belong to
	// it, stand as an item of its own, or be in its amount already: the totals
	// decide when the table ends (settleDiscounts).
	if len(t.items) > t.before && li.Quantity == nil && li.UnitPrice == nil &&
		(reLineDiscount.MatchString(r.text) || !ownDesc && reLineDiscount.MatchString(t.lastDesc)) {
		if prev := t.items[len(t.items)-1]; prev.Amount != nil && *prev.Amount > abs(*li.Amount) {
			li.Description = strings.Join(desc, " ")
			minus := *li.Amount < 0 || reMinusWords.MatchString(r.text+" "+t.lastDesc)
			t.discs = append(t.discs, lineDiscount{after: len(t.items) - t.before, item: li, minus: minus})
			t.pending, t.lastDesc = nil, ""
			return
		}
	}
	t.pending, t.lastDesc = nil, ""
	li.Description = strings.Join(desc, " ")
	t.items = append(t.items, li)
	t.confSum += conf
	t.confN++
}

// cells reads a row's segments by column: amount, unit price, quantity, and the
// description left of them, with the reader's confidence in the amount.
func (t *readingTable) cells(r row) (li invoice.LineItem, desc []string, conf float64) {
	d, cols := t.d, t.cols
	conf = 1.0
	for _, s := range splitByColumns(r.segs, cols, d.unit) {
		masked := maskDates(s.text, d.order)
		as := findAmounts(masked, d.dec)
		inAmount := overlaps(s.box.X0, s.box.X1, cols[colAmount], d.unit)
		switch {
		case len(as) > 0 && inAmount && !hasWords(s.text):
			v := as[len(as)-1].Value
			li.Amount = &v
			conf = min(conf, s.conf(as[len(as)-1].Start, as[len(as)-1].End))
		case len(as) > 0 && cols[colPrice].ok && overlaps(s.box.X0, s.box.X1, cols[colPrice], d.unit) && !hasWords(s.text):
			v := as[len(as)-1].Value
			li.UnitPrice = &v
		case len(as) > 0 && cols[colQty].ok && overlaps(s.box.X0, s.box.X1, cols[colQty], d.unit) && li.Quantity == nil:
			v := as[0].Value
			li.Quantity = &v
		case hasWords(s.text) && (!cols[colQty].ok || s.box.X0 < cols[colQty].x0) && s.box.X0 < cols[colAmount].x0:
			desc = append(desc, strings.TrimSpace(s.text))
		}
	}
	return li, desc, conf
}

// lineDiscount is a discount row under the items of a table.
type lineDiscount struct {
	after int // how many of the table's items come before it
	item  invoice.LineItem
	minus bool // printed as a deduction (a minus sign, "abzgl.", "less")
}

// settleDiscounts decides what the discount rows under a table's items are, by the sum
// the document's totals (from row end on) print: taken off the item above (the items'
// sum after the discounts is printed), items of their own (the sum with them is
// printed), or already in the items' amounts (the sum of the items alone is printed).
// Without such evidence a deduction is taken off and anything else is an item.
func (d *doc) settleDiscounts(items []invoice.LineItem, discs []lineDiscount, end int) []invoice.LineItem {
	if len(discs) == 0 {
		return items
	}
	base, off, own := 0.0, 0.0, 0.0
	for _, li := range items {
		if li.Amount != nil {
			base += *li.Amount
		}
	}
	allMinus := true
	for _, dc := range discs {
		off -= abs(*dc.item.Amount)
		own += *dc.item.Amount
		allMinus = allMinus && dc.minus
	}
	apply := allMinus
	switch {
	case d.printedFrom(end, round2(base+off)):
		apply = true
	case d.printedFrom(end, round2(base+own)):
		apply = false
	case d.printedFrom(end, round2(base)):
		return items
	}
	if apply {
		for _, dc := range discs {
			if li := &items[dc.after-1]; li.Amount != nil {
				a := round2(*li.Amount - abs(*dc.item.Amount))
				li.Amount = &a
			}
		}
		return items
	}
	out := make([]invoice.LineItem, 0, len(items)+len(discs))
	j := 0
	for i, li := range items {
		out = append(out, li)
		for ; j < len(discs) && discs[j].after == i+1; j++ {
			out = append(out, discs[j].item)
		}
	}
	return out
}

// reMinusWords mark a row as a deduction.
var reMinusWords = regexp.MustCompile(foldAccents(`(?i)(?:^|\W)(?:abzgl\.?|abzüglich|less|minus|moins|\./\.)(?:\W|$)`))

// printedFrom reports whether amount v is printed on row from or a later row.
func (d *doc) printedFrom(from int, v float64) bool {
	for _, r := range d.rows[min(from, len(d.rows)):] {
		for _, a := range findAmounts(r.text, d.dec) {
			if abs(a.Value-v) < 0.005 {
				return true
			}
		}
	}
	return false
}

// reLineDiscount marks a row that takes a discount off the item above it. German
// compounds ("Mengenrabatt", "Abschlag" run into the next word by OCR) match inside words.
var reLineDiscount = regexp.MustCompile(foldAccents(`(?i)(?:^|\W)(?:abzgl\.?|abzüglich|discount|less|remise|rabais|descuento|sconto|korting)(?:\W|$)|abschlag|rabatt|nachlass`))

// reAllowanceRow is a discount or charge on the whole document ("abzgl. Sondernachlass",
// "zzgl. Versandkosten").
var reAllowanceRow = regexp.MustCompile(foldAccents(`(?i)^\W*(?:abzgl\.?|abzüglich|zzgl\.?|zuzüglich|less|plus)(?:\W|$)`))

// carryPhrase opens a segment that carries a table's running sum over a page break.
var carryPhrase = regexp.MustCompile(foldAccents(`(?i)^\W*(?:übertrag|uebertrag|carried\s*(?:forward|over)|brought\s*forward|carry\s*(?:forward|over)|balance\s*(?:carried|brought)\s*forward|(?:zwischensumme|summe|subtotal|sub-total|sous-?\s*total|total)\s*(?:der\s*|de\s*la\s*|of\s*)?(?:seite|page|blatt)|à\s*reporter|report\s*(?:de\s*(?:la\s*)?)?page)(?:\W|$)`))

// pageCounter is a page number ("Seite 1 von 2", "Page 1 of 2", "1/2" after "page").
var pageCounter = regexp.MustCompile(`(?i)(?:^|\W)(?:page|seite|blatt|pagina|página)\s*\d+(?:\s*(?:of|/|de|sur|von|di)\s*\d+)?(?:\W|$)`)

// reContinued marks the running head of a continued table.
var reContinued = regexp.MustCompile(`(?i)\(?(?:continued|fortsetzung|suite|cont\.|forts\.)\)?`)

// isCarryRow reports whether r carries a table over a page break: a carry-over line, a
// page counter, or a "continued" mark. An item row that names a page ("Anzeige Seite 3
// ... 500,00") is no page counter: without the counter's words it still reads as an item.
func (d *doc) isCarryRow(r row, cols [nKinds]column) bool {
	counter := false
	rest := r
	rest.segs = nil
	for _, s := range r.segs {
		if carryPhrase.MatchString(s.text) {
			return true
		}
		locs := pageCounter.FindAllStringIndex(s.text, -1)
		if len(locs) == 0 {
			rest.segs = append(rest.segs, s)
			continue
		}
		counter = true
		var keep []word
		for i, w := range s.words {
			in := false
			for _, l := range locs {
				if s.offs[i] < l[1] && s.offs[i]+len(w.text) > l[0] {
					in = true
				}
			}
			if !in {
				keep = append(keep, w)
			}
		}
		if len(keep) > 0 {
			rest.segs = append(rest.segs, newSegment(keep))
		}
	}
	if counter {
		return !d.itemLike(rest, cols)
	}
	return reContinued.MatchString(r.text) && !hasDigitsOutside(r.text)
}

// hasDigitsOutside reports whether s holds an amount-like digit run (not a page counter).
func hasDigitsOutside(s string) bool {
	return strings.ContainsAny(pageCounter.ReplaceAllString(s, " "), "0123456789")
}

// continuation decides whether an item table that seems to end at row k goes on on the
// next page: nothing but footer lines may follow on row k's page (no totals, no more
// items), and the next page must carry on with item rows or the same header before any
// totals or other section. It returns the row to go on from.
func (d *doc) continuation(k int, cols [nKinds]column, hdr string) (int, bool) {
	page := d.rows[k].page
	j := k + 1
	for ; j < len(d.rows) && d.rows[j].page == page; j++ {
		if j > k+maxFooterRows {
			return 0, false // more than a footer: the page goes on with other content
		}
		r := d.rows[j]
		if d.isCarryRow(r, cols) {
			continue
		}
		if d.endsTable(r) || d.itemLike(r, cols) {
			return 0, false
		}
	}
	if j >= len(d.rows) {
		return 0, false
	}
	return d.resumeOnPage(j, cols, hdr)
}

// maxFooterRows bounds the rows after a table's last row on a page that can still be
// its footer (and the work of looking at them).
const maxFooterRows = 40

// resumeOnPage looks for the rows of a continued table on the page that starts at row
// j: past the page's running head (at most a dozen rows) to the first item row or the
// repeated header. Totals, another table's header or a section heading first mean the
// table does not go on.
func (d *doc) resumeOnPage(j int, cols [nKinds]column, hdr string) (int, bool) {
	page := d.rows[j].page
	for n := 0; j < len(d.rows) && d.rows[j].page == page && n < 12; j, n = j+1, n+1 {
		r := d.rows[j]
		if _, ok := d.headerColumns(j); ok {
			return j, headerSignature(r) == hdr
		}
		if d.isCarryRow(r, cols) {
			continue
		}
		if d.endsTable(r) || len(r.segs) == 1 && isLabelOnly(r.segs[0].text) {
			return 0, false
		}
		if d.itemLike(r, cols) {
			return j, true
		}
	}
	return 0, false
}

// endsTable reports whether r is a totals line (a total, subtotal or tax label with an
// amount) that closes an item table.
func (d *doc) endsTable(r row) bool {
	if len(findAmounts(maskDates(r.text, d.order), d.dec)) == 0 {
		return false
	}
	return stopRow.MatchString(strings.TrimSpace(r.segs[0].text)) || isTotalsRow(r)
}

// itemLike reports whether r reads as an item row under cols: an amount alone in the
// amount column, and a description (words left of the numbers) or a quantity.
func (d *doc) itemLike(r row, cols [nKinds]column) bool {
	words, amount, qty := false, false, false
	for _, s := range splitByColumns(r.segs, cols, d.unit) {
		if hasWords(s.text) && s.box.X0 < cols[colAmount].x0 {
			words = true
		}
		as := findAmounts(maskDates(s.text, d.order), d.dec)
		if len(as) > 0 && !hasWords(s.text) && overlaps(s.box.X0, s.box.X1, cols[colAmount], d.unit) {
			amount = true
		}
		if len(as) > 0 && cols[colQty].ok && overlaps(s.box.X0, s.box.X1, cols[colQty], d.unit) {
			qty = true
		}
	}
	return amount && (words || qty)
}

// startsItem reports whether r opens an item: a number in the quantity or unit price
// column, and a description left of it.
func (d *doc) startsItem(r row, cols [nKinds]column) bool {
	words, num := false, false
	for _, s := range splitByColumns(r.segs, cols, d.unit) {
		if hasWords(s.text) && (!cols[colQty].ok || s.box.X1 < cols[colQty].x0) && (!cols[colPrice].ok || s.box.X1 < cols[colPrice].x0) {
			words = true
		}
		if len(findAmounts(maskDates(s.text, d.order), d.dec)) == 0 {
			continue
		}
		for _, k := range []colKind{colQty, colPrice} {
			if cols[k].ok && overlaps(s.box.X0, s.box.X1, cols[k], d.unit) {
				num = true
			}
		}
	}
	return words && num && !d.endsTable(r)
}

// splitByColumns cuts segments that run over several numeric columns (a reader that set
// "9,90  20 Stk  19 %  198,00" as one segment) into their number words and the word
// runs between them, so that each number can be read in its own column.
func splitByColumns(segs []segment, cols [nKinds]column, unit float64) []segment {
	var out []segment
	for _, s := range segs {
		n := 0
		for _, k := range []colKind{colQty, colPrice, colAmount} {
			if cols[k].ok && overlaps(s.box.X0, s.box.X1, cols[k], unit) {
				n++
			}
		}
		// Only a segment that ends in an amount with decimals is a row of numbers run
		// together; a footer ending in account digits is not.
		if n < 2 || len(s.words) < 2 || !reDecimalAmount.MatchString(s.words[len(s.words)-1].text) {
			out = append(out, s)
			continue
		}
		var run []word
		for _, w := range s.words {
			if reNumberWordOnly.MatchString(w.text) {
				if len(run) > 0 {
					out = append(out, newSegment(run))
					run = nil
				}
				out = append(out, newSegment([]word{w}))
				continue
			}
			run = append(run, w)
		}
		if len(run) > 0 {
			out = append(out, newSegment(run))
		}
	}
	return out
}

// reDecimalAmount is a word that is an amount with decimals ("198,00", "1.234,56").
var reDecimalAmount = regexp.MustCompile(`^-?[\d.,' ]*\d[.,]\d{2,4}-?$`)

// reNumberWordOnly is a word that is only a number (an amount, a count, a rate).
var reNumberWordOnly = regexp.MustCompile(`^[-+(]?\d[\d.,' ]*\)?%?$`)

func overlaps(x0, x1 float64, c column, unit float64) bool {
	return c.ok && x1 >= c.x0-1.5*unit && x0 <= c.x1+1.5*unit
}

// headerColumns recognises an item table header at row ri and returns its columns.
func (d *doc) headerColumns(ri int) ([nKinds]column, bool) {
	var cols [nKinds]column
	r := d.rows[ri]
	kinds := 0
	// A header may be set on several close rows ("Positions-" over "betrag"): gather the
	// words of the rows around it.
	var ws []word
	segOf := map[layout.Box]layout.Box{}
	for k := max(0, ri-3); k < len(d.rows) && k <= ri+3; k++ {
		o := d.rows[k]
		if o.page != r.page || abs(o.box.Y0-r.box.Y0) > 2.6*d.unit {
			continue
		}
		if k != ri && len(findAmounts(o.text, d.dec)) > 0 {
			continue
		}
		for _, s := range o.segs {
			ws = append(ws, s.words...)
			kinds := map[colKind]bool{}
			for _, w := range s.words {
				for k := colKind(0); k < nKinds; k++ {
					if headerWords[k].MatchString(strings.Trim(w.text, ".:()[]")) {
						kinds[k] = true
						break
					}
				}
			}
			if len(kinds) == 1 {
				for _, w := range s.words {
					segOf[w.box] = s.box
				}
			}
		}
	}
	// The row itself must carry header words of two kinds.
	ownKinds := map[colKind]bool{}
	for _, s := range r.segs {
		for _, w := range s.words {
			for k := colKind(0); k < nKinds; k++ {
				if headerWords[k].MatchString(strings.Trim(w.text, ".:()[]")) {
					ownKinds[k] = true
					break
				}
			}
		}
	}
	if len(ownKinds) < 2 {
		return cols, false
	}
	// A header holds no numbers of its own: "Grundpreis  3,90  1 Stk" is an item row
	// whose description happens to hold a header word.
	for _, s := range r.segs {
		for _, w := range s.words {
			// Decimals make it an amount; a lone year or count may be a margin note.
			if reNumberWordOnly.MatchString(w.text) && strings.ContainsAny(w.text, ".,") && len(findDates(w.text, d.order)) == 0 {
				return cols, false
			}
		}
	}
	{
		for _, w := range ws {
			t := strings.Trim(w.text, ".:()[]")
			for k := colKind(0); k < nKinds; k++ {
				if headerWords[k].MatchString(t) || headerWords[k].MatchString(w.text) {
					c := column{x0: w.box.X0, x1: w.box.X1, ok: true}
					if sb, ok := segOf[w.box]; ok && k != colDesc {
						// Numbers align with the header cell, not just its word.
						c.x0, c.x1 = min(c.x0, sb.X0), max(c.x1, sb.X1)
					}
					if !cols[k].ok {
						kinds++
						cols[k] = c
					} else if k == colAmount || k == colPrice {
						// The rightmost match wins for numeric columns.
						if w.box.X0 > cols[k].x0 {
							cols[k] = c
						}
					}
					break
				}
			}
		}
	}
	if kinds < 2 || !(cols[colAmount].ok || cols[colPrice].ok) || !(cols[colDesc].ok || cols[colQty].ok) {
		return cols, false
	}
	if !cols[colAmount].ok {
		cols[colAmount] = cols[colPrice]
		cols[colPrice] = column{}
	}
	if cols[colPrice].ok && cols[colPrice].x0 > cols[colAmount].x0 {
		cols[colPrice], cols[colAmount] = cols[colAmount], cols[colPrice]
	}
	return cols, true
}

var reGroupSubtotal = regexp.MustCompile(`(?i)^(?:sub\s*-?total|subtotaal|zwischensumme|sous-?\s*total|subtotale)`)

// itemsFollow reports whether an item row (an amount in the amount column and words in
// the description column) comes within three rows after row k, before any stop row.
func (d *doc) itemsFollow(k int, cols [nKinds]column) bool {
	for j := k + 1; j < len(d.rows) && j <= k+3 && d.rows[j].page == d.rows[k].page; j++ {
		r := d.rows[j]
		if stopRow.MatchString(strings.TrimSpace(r.segs[0].text)) || isTotalsRow(r) {
			return false
		}
		if reAllowanceRow.MatchString(r.text) {
			continue // a document-level discount or charge, not an item
		}
		words, amount := false, false
		for _, s := range r.segs {
			if hasWords(s.text) && s.box.X0 < cols[colAmount].x0 {
				words = true
			}
			if overlaps(s.box.X0, s.box.X1, cols[colAmount], d.unit) && len(findAmounts(maskDates(s.text, d.order), d.dec)) > 0 {
				amount = true
			}
		}
		if words && amount {
			return true
		}
	}
	return false
}

// isTotalsRow reports whether a row starts with a total, subtotal or tax label.
func isTotalsRow(r row) bool {
	t := strings.TrimSpace(r.segs[0].text)
	for _, set := range [][]label{totalLabels, subtotalLabels, taxLabels} {
		for _, l := range set {
			if m := l.re.FindStringSubmatchIndex(t); m != nil && m[2] <= 1 {
				return true
			}
		}
	}
	return false
}

// headerSignature is the sorted list of a header row's column words.
func headerSignature(r row) string {
	var ws []string
	for _, s := range r.segs {
		for _, w := range s.words {
			t := strings.ToLower(strings.Trim(w.text, ".:()[]"))
			for k := colKind(0); k < nKinds; k++ {
				if headerWords[k].MatchString(t) {
					ws = append(ws, t)
					break
				}
			}
		}
	}
	sort.Strings(ws)
	return strings.Join(ws, " ")
}
