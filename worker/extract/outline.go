package extract

import (
	"math"
	"regexp"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// Cloud, telecom and utility bills often list their charges as an outline instead of a
// table: a service with its amount, then indented rows of generic charge words that
// make up that amount.
//
//	Amazon Glacier                 $2.22
//	   Charges                     $2.22
//	   VAT **                      $0.00
//
// The services are the line items.

// reChargeWord is the label of an outline's detail row.
var reChargeWord = regexp.MustCompile(`(?i)^(?:charges?|credits?|usage|fees?|discounts?|vat|tax(?:es)?|gst|sales\s+tax|subtotal|gebühren|remises?|taxes)\b`)

// outlineRow is one row of a possible outline: its indent, label and trailing amount.
type outlineRow struct {
	ri     int
	indent float64
	label  string
	amount float64
}

// outlineItems returns the services of the document's charge outline: a run of at least
// two service rows at one indent, each followed by indented charge-word rows, whose
// amounts add up to an amount printed outside the run (the total). A summary block of a
// single service equal to the total is not an outline of items.
func (d *doc) outlineItems() ([]invoice.LineItem, float64) {
	for ri := 0; ri < len(d.rows); ri++ {
		group, end := d.outlineGroup(ri)
		if len(group) >= 2 && d.outlineAddsUp(group, end) {
			return outlineToItems(d, group)
		}
		ri = max(ri, end-1)
	}
	return nil, 0
}

// outlineGroup collects the services of an outline starting at row ri and returns them
// with the first row after the outline.
func (d *doc) outlineGroup(ri int) ([]outlineRow, int) {
	var group []outlineRow
	k := ri
	for k < len(d.rows) {
		parent, ok := d.outlineLine(k)
		if !ok || reChargeWord.MatchString(parent.label) ||
			len(group) > 0 && math.Abs(parent.indent-group[0].indent) > d.unit {
			break
		}
		kids := 0
		for k+1+kids < len(d.rows) {
			c, ok := d.outlineLine(k + 1 + kids)
			if !ok || !reChargeWord.MatchString(c.label) || c.indent < parent.indent+d.unit || d.rows[c.ri].page != d.rows[k].page {
				break
			}
			kids++
		}
		if kids == 0 {
			break
		}
		group = append(group, parent)
		k += 1 + kids
	}
	return group, k
}

// outlineLine reads row k as a label and the amount that ends it.
func (d *doc) outlineLine(k int) (outlineRow, bool) {
	r := d.rows[k]
	if len(r.segs) < 2 {
		return outlineRow{}, false
	}
	v, ok := d.rowAmount(k)
	label := strings.TrimSpace(strings.Trim(r.segs[0].text, "*†: "))
	if !ok || letterShare(label) < 0.5 || len(findAmounts(label, d.dec)) > 0 {
		return outlineRow{}, false
	}
	return outlineRow{ri: k, indent: r.segs[0].box.X0, label: label, amount: v}, true
}

// outlineAddsUp reports whether the services add up to an amount printed on a row
// outside the outline (rows group[0].ri up to end).
func (d *doc) outlineAddsUp(group []outlineRow, end int) bool {
	sum := 0.0
	skip := map[int]bool{}
	for _, g := range group {
		sum += g.amount
	}
	for k := group[0].ri; k < end; k++ {
		skip[k] = true
	}
	return sum > 0 && d.printedOutside(round2(sum), skip)
}

func outlineToItems(d *doc, group []outlineRow) ([]invoice.LineItem, float64) {
	items := make([]invoice.LineItem, len(group))
	conf := 0.0
	for i, g := range group {
		amount := g.amount
		items[i] = invoice.LineItem{Description: g.label, Amount: &amount}
		conf += rowConf(d.rows[g.ri])
	}
	return items, 0.8 * conf / float64(len(group))
}
