package extract

import (
	"regexp"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
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
	colDesc:   regexp.MustCompile(`(?i)^(?:description|beschreibung|bezeichnung|artikelbezeichnung|artikel|désignation|designation|libellé|descripción|descripcion|descrizione|omschrijving|product|produit|item|items|title|leistung|article|concepto|servicio|particulars|details?|service|prestation)$`),
	colQty:    regexp.MustCompile(`(?i)^(?:qty|quantity|menge|anzahl|quantité|quantite|qté|cantidad|cant\.?|quantità|q\.tà|aantal|hoeveelheid|nombre|stk|stück|units?|pcs)$`),
	colPrice:  regexp.MustCompile(`(?i)^(?:price|rate|preis|einzelpreis|e-preis|vk-preis|nettopreis|stückpreis|prix|p\.u\.|pu|precio|prezzo|prijs|tarif|unitaire|unit)$`),
	colAmount: regexp.MustCompile(`(?i)^(?:amount|total|betrag|gesamt|gesamtpreis|nettobetrag|zeilenbetrag|positionsbetrag|montant|importe|importo|bedrag|summe|ht|line\s*total|net|netto)$`),
}

type column struct {
	x0, x1 float64
	ok     bool
}

// stopRow ends an item table.
var stopRow = regexp.MustCompile(`(?i)^(?:sub\s*-?total|total|totaal|totale|summe|zwischensumme|positionssumme|gesamt|net\s*total|nettobetrag|rechnungssumme|exclusief|excl\.?\s*btw|montant|somme|übertrag|uebertrag|carried|steuer|tax\b|vat\b|mwst|ust\.|tva|btw|grand|amount\s*due|balance|prijzen|zahlungs|payment|page\s*\d|seite\s*\d)`)

// findItems reads line items from every item table of the document.
func (d *doc) findItems() ([]invoice.LineItem, float64) {
	var items []invoice.LineItem
	confSum, confN := 0.0, 0
	for ri := 0; ri < len(d.rows); ri++ {
		cols, ok := d.headerColumns(ri)
		if !ok {
			continue
		}
		var pending []string
		k := ri + 1
		for ; k < len(d.rows); k++ {
			r := d.rows[k]
			if _, again := d.headerColumns(k); again {
				break
			}
			first := strings.TrimSpace(r.segs[0].text)
			if stopRow.MatchString(first) || (len(r.segs) > 1 && stopRow.MatchString(strings.TrimSpace(r.segs[len(r.segs)-2].text)) && !hasWords(r.segs[len(r.segs)-1].text) && r.segs[len(r.segs)-2].box.X0 > cols[colAmount].x0-30*d.unit && len(items) > 0) {
				break
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
	for _, s := range r.segs {
		for _, w := range s.words {
			t := strings.Trim(w.text, ".:()[]")
			for k := colKind(0); k < nKinds; k++ {
				if headerWords[k].MatchString(t) || headerWords[k].MatchString(w.text) {
					if !cols[k].ok {
						kinds++
						cols[k] = column{x0: w.box.X0, x1: w.box.X1, ok: true}
					} else if k == colAmount || k == colPrice {
						// The rightmost match wins for numeric columns.
						if w.box.X0 > cols[k].x0 {
							cols[k] = column{x0: w.box.X0, x1: w.box.X1, ok: true}
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
