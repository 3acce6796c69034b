package extract

import (
	"regexp"
	"strings"
)

// Labelled invoice-date candidates are weighed by what is printed before them, so that
// the dates of other things do not win on the strength of a generic label: the date of
// an associated or original invoice ("Date de facture associée", "Original invoice
// date") is dropped; the start or end of a service period ("Date début", "Date fin")
// and the dates of software versions and stylesheets ("Version 2.1 vom 24.03.2020") are
// weakened; and a date after the document's due date is weakened, since an invoice is
// dated on or before its due date.

var (
	reOtherInvoiceDate = regexp.MustCompile(foldAccents(`(?i)(associ|previous|précédent|vorherig|ursprünglich|original|referenced|related|bezugsrechnung|corrected|rectifi)`))
	rePeriodDate       = regexp.MustCompile(foldAccents(`(?i)(début|\bfin\b|\bstart|\bend\b|beginn|\bende\b|période|\bperiod|zeitraum|leistung|prestation|delivery|livraison|liefer|service|from\b|to\b|\bbis\b|\bvon\b|\bdu\b|\bau\b)`))
	reVersionDate      = regexp.MustCompile(`(?i)(version|stylesheet|codeliste|copyright|\(c\)|©|printed|druckdatum|stand\b)`)
)

// weighDates rescales the invoice-date candidates cs by their context (see above).
func (d *doc) weighDates(cs []cand) []cand {
	if !d.rules.on(RuleDateContext) {
		return cs
	}
	due, dueOK := d.findDueDate()
	out := cs[:0]
	for _, c := range cs {
		ctx := d.dateContext(c)
		switch {
		case reOtherInvoiceDate.MatchString(ctx):
			continue
		case reVersionDate.MatchString(ctx):
			c.score *= 0.5
		case rePeriodDate.MatchString(ctx):
			c.score *= 0.8
		}
		if dueOK && due.row != c.row && c.str > due.str {
			c.score *= 0.5
		}
		out = append(out, c)
	}
	return out
}

// dateContext returns what is printed before the date of c: the start of its segment
// (after the segment to its left when that start is short), or for a value below its
// label the segment above it.
func (d *doc) dateContext(c cand) string {
	r := d.rows[c.row]
	for si, s := range r.segs {
		for _, ds := range findDates(s.text, d.order) {
			if ds.Date != c.str {
				continue
			}
			ctx := strings.TrimSpace(s.text[:ds.Start])
			if ctx == "" && c.how == "below" && c.row > 0 {
				for _, ps := range d.rows[c.row-1].segs {
					if ps.box.X0 <= s.box.X1 && ps.box.X1 >= s.box.X0 {
						ctx = ps.text
						break
					}
				}
			} else if len(ctx) < 12 && si > 0 {
				// A short lead ("vom", ":2.1 vom") leaves the label in the segment before.
				ctx = r.segs[si-1].text + " " + ctx
			}
			return ctx
		}
	}
	return r.text
}
