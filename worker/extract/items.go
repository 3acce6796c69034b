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
	colDesc:   regexp.MustCompile(`(?i)(beschreibung|bezeichnung|description|désignation|designation|omschrijving|descrizione|descripci|libell|artikel|article|product|produit|leistung|^items?$|particulars|concepto|^title$|^details?$|^service$|prestation|^omschr|^program(?:me)?$|^programa?$)`),
	colQty:    regexp.MustCompile(`(?i)(^qty|quantit|^menge$|^anzahl|cantidad|^cant\.?$|^aantal$|hoeveelheid|^nombre$|^qté$|^units?$|^pcs$|^stk\.?$|^quantity$)`),
	colPrice:  regexp.MustCompile(`(?i)(preis|price|^rate$|^prix|^p\.?u\.?$|precio|prezzo|prijs|tarif|unitaire|^unit$)`),
	colAmount: regexp.MustCompile(`(?i)(^amount|^total$|betrag$|^gesamt|^montant|^importe|^importo|^bedrag$|^summe$|^ht$|^net$|^netto$|^line\s*total|^beitrag$|^prämie$|^premium$)`),
}

type column struct {
	x0, x1 float64
	ok     bool
}

// stopRow ends an item table.
var stopRow = regexp.MustCompile(`(?i)^(?:sub\s*-?total|subtotaal|subtotale|sous-?\s*total|base\s*imponible|imponibile|importe|importo\s*totale|total|totaal|totale|summe|zwischensumme|positionssumme|gesamt|net\s*total|nettobetrag|rechnungssumme|exclusief|excl\.?\s*btw|montant|somme|übertrag|uebertrag|carried|steuer|tax\b|vat\b|mwst|ust\.|tva|btw|grand|amount\s*due|balance|prijzen|zahlungs|payment|page\s*\d|seite\s*\d)`)

// findItems reads line items from every item table of the document.
func (d *doc) findItems() ([]invoice.LineItem, float64) {
	var items []invoice.LineItem
	confSum, confN := 0.0, 0
	firstHeader := ""
	for ri := 0; ri < len(d.rows); ri++ {
		cols, ok := d.headerColumns(ri)
		if !ok {
			continue
		}
		// Later tables count only when they repeat the first table's header (a table
		// continued on the next page), not when they are other tables (allowances,
		// tax breakdowns).
		hdr := headerSignature(d.rows[ri])
		if firstHeader != "" && hdr != firstHeader {
			continue
		}
		before := len(items)
		var pending []string
		k := ri + 1
		for ; k < len(d.rows); k++ {
			r := d.rows[k]
			if _, again := d.headerColumns(k); again {
				break
			}
			first := strings.TrimSpace(r.segs[0].text)
			hasAmt := len(findAmounts(maskDates(r.text, d.order), d.dec)) > 0
			if hasAmt && reGroupSubtotal.MatchString(first) && d.itemsFollow(k, cols) {
				continue // a group's subtotal inside the table
			}
			if hasAmt && (stopRow.MatchString(first) || isTotalsRow(r) && len(items) > 0) || (len(r.segs) > 1 && stopRow.MatchString(strings.TrimSpace(r.segs[len(r.segs)-2].text)) && !hasWords(r.segs[len(r.segs)-1].text) && r.segs[len(r.segs)-2].box.X0 > cols[colAmount].x0-30*d.unit && len(items) > 0) {
				break
			}
			if k > ri+1 && r.box.Y0-d.rows[k-1].box.Y1 > 4*d.unit && r.page == d.rows[k-1].page && len(items) > 0 && !d.itemShaped(r, cols) {
				break // a gap: a new section starts (items spaced apart still continue)
			}
			if len(items) > 0 && len(r.segs) == 1 && isLabelOnly(r.segs[0].text) && len(strings.Fields(r.segs[0].text)) <= 3 && r.segs[0].box.X0 <= d.rows[ri].box.X0+d.unit {
				break // a section heading ("Zahlungsbedingungen:")
			}
			var li invoice.LineItem
			var desc []string
			conf := 1.0
			for _, s := range r.segs {
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
			if li.Amount == nil {
				if len(desc) > 0 && len(pending) < 3 {
					pending = append(pending, strings.Join(desc, " "))
				}
				continue
			}
			if len(desc) == 0 {
				desc = pending
			}
			pending = nil
			li.Description = strings.Join(desc, " ")
			items = append(items, li)
			confSum += conf
			confN++
		}
		if firstHeader == "" && len(items) > before {
			firstHeader = hdr
		}
		ri = k - 1
	}
	if confN == 0 {
		return items, 0
	}
	return items, confSum / float64(confN)
}

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
	own := 0
	for _, s := range r.segs {
		for _, w := range s.words {
			for k := colKind(0); k < nKinds; k++ {
				if headerWords[k].MatchString(strings.Trim(w.text, ".:()[]")) {
					own++
					break
				}
			}
		}
	}
	if own < 2 {
		return cols, false
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
	for j := k + 1; j < len(d.rows) && j <= k+3; j++ {
		r := d.rows[j]
		if stopRow.MatchString(strings.TrimSpace(r.segs[0].text)) || isTotalsRow(r) {
			return false
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

// itemShaped reports whether row r reads like a line of the table with columns cols:
// words before the quantity column and a number under the quantity or unit-price
// header. Tables that set their items far apart (each item a block of several rows)
// continue across such gaps; other content after a gap ends the table.
func (d *doc) itemShaped(r row, cols [nKinds]column) bool {
	words, num := false, false
	for _, s := range r.segs {
		if hasWords(s.text) && (!cols[colQty].ok || s.box.X1 < cols[colQty].x0) {
			words = true
		}
		if len(findAmounts(maskDates(s.text, d.order), d.dec)) == 0 {
			continue
		}
		if overlaps(s.box.X0, s.box.X1, cols[colQty], d.unit) || overlaps(s.box.X0, s.box.X1, cols[colPrice], d.unit) {
			num = true
		}
	}
	return words && num
}
