package worker

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/validate"
)

// crossCheck compares the key fields a hybrid invoice's pages show (number, dates,
// totals, tax, IBAN) with its embedded XML, and returns one warning per disagreement,
// naming both values: a tampered or mis-rendered hybrid invoice is a risk for the payer.
//
// The page's values are those the generic extraction finds. A page value that differs
// from the XML is reported only when the XML's value is nowhere on the page either, so
// that an extraction slip (the page's net amount taken for its total) raises no alarm
// while a value printed differently from the XML does.
func crossCheck(xml invoice.ExtractedData, page *layout.Document) []invoice.ValidationError {
	res, err := extract.Extract(page, extract.Options{NoEvidence: true})
	if err != nil {
		return nil
	}
	p, x := res.Data.Invoice, xml.Invoice
	seen := newPageIndex(page)
	var out []invoice.ValidationError
	report := func(field, label, pageVal, xmlVal string) {
		out = append(out, warning(field, "cross-check: the page shows %s %s, the embedded e-invoice says %s", label, pageVal, xmlVal))
	}
	if p.Number != "" && x.Number != "" && squash(p.Number) != squash(x.Number) && !seen.hasText(x.Number) {
		report("invoice.number", "invoice number", strconv.Quote(p.Number), strconv.Quote(x.Number))
	}
	for _, d := range []struct{ field, label, page, xml string }{
		{"invoice.date", "invoice date", p.Date, x.Date},
		{"invoice.dueDate", "due date", p.DueDate, x.DueDate},
	} {
		if d.page != "" && d.xml != "" && d.page != d.xml && !seen.hasDate(d.xml) {
			report(d.field, d.label, d.page, d.xml)
		}
	}
	for _, a := range []struct {
		field, label string
		page, xml    *float64
	}{
		{"invoice.amounts.total", "total", p.Amounts.Total, x.Amounts.Total},
		{"invoice.amounts.tax", "tax", p.Amounts.Tax, x.Amounts.Tax},
		{"invoice.amounts.subtotal", "subtotal", p.Amounts.Subtotal, x.Amounts.Subtotal},
		{"invoice.amountDue", "amount due", p.AmountDue, x.AmountDue},
	} {
		if a.page != nil && a.xml != nil && !sameAmount(a.page, a.xml) && !seen.hasAmount(*a.xml) {
			report(a.field, a.label, money(*a.page), money(*a.xml))
		}
	}
	if p.Payment.IBAN != "" && x.Payment.IBAN != "" && validate.NormalizeIBAN(p.Payment.IBAN) != validate.NormalizeIBAN(x.Payment.IBAN) &&
		!seen.hasText(validate.NormalizeIBAN(x.Payment.IBAN)) {
		report("invoice.payment.iban", "IBAN", p.Payment.IBAN, x.Payment.IBAN)
	}
	return out
}

func money(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// squash keeps the letters and digits of s, upper-cased: "RE-2018/0042" and
// "RE 2018 0042" are the same number.
func squash(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// pageIndex is what the pages show, for asking whether a value is printed anywhere.
type pageIndex struct {
	squashed string    // every line squashed, lines separated by '|'
	amounts  []float64 // every amount-like word or pair of words
	dates    []string  // every date, read both ways
}

func newPageIndex(doc *layout.Document) pageIndex {
	var ix pageIndex
	var sq, text strings.Builder
	for _, pg := range doc.Pages {
		for _, ln := range pg.Lines {
			t := ln.Text()
			text.WriteString(t)
			text.WriteByte('\n')
			sq.WriteString(squash(t))
			sq.WriteByte('|')
			for i, w := range ln.Words {
				ix.addAmount(w.Text)
				if i > 0 { // "1 234,56" split by a thin space
					ix.addAmount(ln.Words[i-1].Text + " " + w.Text)
				}
			}
		}
	}
	ix.squashed = sq.String()
	ix.dates = extract.DatesIn(text.String())
	return ix
}

func (ix *pageIndex) addAmount(s string) {
	for _, sep := range []extract.DecimalSep{'.', ','} {
		if v, ok := extract.ParseAmount(s, sep); ok {
			ix.amounts = append(ix.amounts, math.Abs(v))
		}
	}
}

func (ix pageIndex) hasText(s string) bool {
	q := squash(s)
	return q != "" && strings.Contains(ix.squashed, q)
}

func (ix pageIndex) hasDate(iso string) bool { return slices.Contains(ix.dates, iso) }

func (ix pageIndex) hasAmount(v float64) bool {
	return slices.ContainsFunc(ix.amounts, func(a float64) bool { return math.Abs(a-math.Abs(v)) < validate.Tolerance })
}
