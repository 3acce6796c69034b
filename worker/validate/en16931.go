package validate

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// RuleLineRateNotInBreakdown is the Rule of the finding that a line's VAT rate has no
// row in the tax breakdown. It is the project's own rule, not one of EN 16931: the
// standard's per-category sums (BR-S-08, BR-Z-08, ...) go over the breakdown's rates only,
// so its Schematron passes such an invoice; the finding is always a warning.
const RuleLineRateNotInBreakdown = "OCRINVOICE-LINE-RATE"

// EN16931 reports the EN 16931 business rules that apply to data; every finding carries
// Rule (e.g. "BR-CO-15") and the field path it concerns. strict: the data came from an
// e-invoice XML (findings are SeverityError); otherwise the data was read from a page
// and a term may simply not be printed (SeverityWarning).
//
// Rule ids are those of the EN 16931 Schematron (FACTUR-X_EN16931.sch for CII), so that
// findings compare with a Schematron run on the same invoice. The model holds only part
// of the semantic model, so only these rules are checked:
//
//   - BR-02..BR-16, the mandatory terms the model has (BR-01, the specification
//     identifier, is not in ExtractedData). BR-04 (type) counts "" as missing only when
//     strict. BR-08/BR-10 fire when a party has neither address nor country (the postal
//     address group is absent), BR-09/BR-11 when it has an address but no country. BT-106
//     (sum of line net amounts) is not modelled: BR-12 fires when there are lines and one
//     has no net amount, so that the sum cannot be formed.
//   - BR-CO-13: the total without VAT (Amounts.Subtotal, BT-109) = the sum of the line
//     net amounts - the document level allowances + charges (Invoice.Allowances), when
//     there are lines and every line and allowance amount is known. BT-106, BT-107 and
//     BT-108 are not modelled but taken as the sums they must be (BR-CO-10, BR-CO-11,
//     BR-CO-12, not checked): a document where one of them is not its sum but BT-109
//     agrees with it is reported under BR-CO-13 here, and one where only such a total
//     is wrong passes.
//   - BR-CO-14 (VAT total = sum of the breakdown's amounts), BR-CO-15 (total with VAT =
//     total without VAT + VAT), BR-CO-16 (amount due = total - paid amount, where
//     Amounts.Discount is the paid amount BT-113; the rounding amount BT-114 is not
//     modelled), BR-CO-17 (each breakdown amount = base x rate / 100 rounded to two
//     decimals), each within Tolerance. The Factur-X Schematron allows a whole currency
//     unit in BR-CO-17 and BR-S-09; these checks are stricter.
//   - BR-45..BR-48 (each breakdown row has a base, an amount, a category (only when
//     strict: pages seldom print it) and a rate unless it is O).
//   - Per VAT category: BR-S-05, BR-Z-05, BR-E-05, BR-AE-05 on lines (the line's rate;
//     its category is that of the breakdown rows with the same rate, when they agree),
//     BR-S-09 and BR-{Z,E,AE}-09 on breakdown amounts, BR-{S,Z,E,AE}-10 on exemption
//     reasons. The model has the reason text (BT-120) but not its code (BT-121), so
//     BR-E-10 and BR-AE-10 fire when an XML gives only the code. A line whose rate has no
//     breakdown row is reported under RuleLineRateNotInBreakdown.
//   - Code lists: BR-CL-04 (currency, ISO 4217), BR-CL-14 (country codes, ISO 3166-1
//     alpha-2 plus 1A Kosovo and XI Northern Ireland), BR-CL-17 (breakdown category,
//     UNTDID 5305 as restricted by EN 16931: S Z E AE K G O L M), BR-CL-23 (unit codes:
//     only the form, one to three upper-case letters or digits, not the UN/ECE Rec. 20
//     list). The Factur-X Schematron checks these lists under its own ids
//     (FX-SCH-A-000595 currency, -000580 and -000568 seller and buyer country, -000587
//     and -000619 breakdown and line category, -000611..-000613 unit codes). BR-CL-03
//     (currencyID of amounts) and BR-CL-18 (line category) concern terms the model does
//     not have.
//
// The result is never nil; it is in the order of the list above.
func EN16931(data invoice.ExtractedData, strict bool) []invoice.ValidationError {
	c := &enChecker{out: []invoice.ValidationError{}, sev: invoice.SeverityWarning, strict: strict}
	if strict {
		c.sev = invoice.SeverityError
	}
	c.mandatory(data)
	c.totals(data)
	c.breakdown(data.Invoice.TaxBreakdown)
	c.lineRates(data)
	c.codeLists(data)
	return c.out
}

// enChecker collects the findings of EN16931.
type enChecker struct {
	out    []invoice.ValidationError
	sev    invoice.Severity // of every finding but those that are always warnings
	strict bool
}

func (c *enChecker) add(rule, field, format string, a ...any) {
	c.addSev(rule, field, c.sev, format, a...)
}

func (c *enChecker) addSev(rule, field string, sev invoice.Severity, format string, a ...any) {
	c.out = append(c.out, invoice.ValidationError{Field: field, Message: fmt.Sprintf(format, a...), Severity: sev, Rule: rule})
}

// mandatory checks BR-02..BR-16.
func (c *enChecker) mandatory(data invoice.ExtractedData) {
	inv := data.Invoice
	missing := func(rule, field, term string, absent bool) {
		if absent {
			c.add(rule, field, "%s is missing", term)
		}
	}
	blank := func(s string) bool { return strings.TrimSpace(s) == "" }
	missing("BR-02", "invoice.number", "BT-1 Invoice number", blank(inv.Number))
	missing("BR-03", "invoice.date", "BT-2 Invoice issue date", blank(inv.Date))
	missing("BR-04", "invoice.documentType", "BT-3 Invoice type code", c.strict && blank(inv.DocumentType))
	missing("BR-05", "invoice.amounts.currency", "BT-5 Invoice currency code", blank(inv.Amounts.Currency))
	missing("BR-06", "invoice.supplier.name", "BT-27 Seller name", blank(inv.Supplier.Name))
	missing("BR-07", "invoice.customer.name", "BT-44 Buyer name", blank(inv.Customer.Name))
	sellerAddr, sellerCountry := !blank(inv.Supplier.Address), !blank(inv.Supplier.Country)
	missing("BR-08", "invoice.supplier.address", "BG-5 Seller postal address", !sellerAddr && !sellerCountry)
	missing("BR-09", "invoice.supplier.country", "BT-40 Seller country code", sellerAddr && !sellerCountry)
	buyerAddr, buyerCountry := !blank(inv.Customer.Address), !blank(inv.Customer.Country)
	missing("BR-10", "invoice.customer.address", "BG-8 Buyer postal address", !buyerAddr && !buyerCountry)
	missing("BR-11", "invoice.customer.country", "BT-55 Buyer country code", buyerAddr && !buyerCountry)
	for i, li := range data.LineItems {
		if li.Amount == nil {
			c.add("BR-12", "lineItems", "BT-106 Sum of Invoice line net amount is missing: line %d has no net amount (BT-131)", i+1)
			break
		}
	}
	missing("BR-13", "invoice.amounts.subtotal", "BT-109 Invoice total amount without VAT", inv.Amounts.Subtotal == nil)
	missing("BR-14", "invoice.amounts.total", "BT-112 Invoice total amount with VAT", inv.Amounts.Total == nil)
	missing("BR-15", "invoice.amountDue", "BT-115 Amount due for payment", inv.AmountDue == nil)
	missing("BR-16", "lineItems", "BG-25 Invoice line (at least one)", len(data.LineItems) == 0)
}

// totals checks BR-CO-13, BR-CO-14, BR-CO-15 and BR-CO-16.
func (c *enChecker) totals(data invoice.ExtractedData) {
	inv := data.Invoice
	am := inv.Amounts
	sum, ok := lineSum(data.LineItems)
	allowances, charges, aok := AllowanceSums(inv.Allowances)
	if ok && aok && known(am.Subtotal) && !near(sum-allowances+charges, *am.Subtotal) {
		c.add("BR-CO-13", "invoice.amounts.subtotal",
			"total without VAT (BT-109) %.2f is not the sum of line net amounts (BT-131) %.2f - allowances (BT-107) %.2f + charges (BT-108) %.2f = %.2f",
			*am.Subtotal, sum, allowances, charges, sum-allowances+charges)
	}
	if sum, ok := breakdownSum(inv.TaxBreakdown); ok && known(am.Tax) && !near(sum, *am.Tax) {
		c.add("BR-CO-14", "invoice.amounts.tax", "VAT total (BT-110) %.2f is not the sum of the breakdown's VAT amounts (BT-117) %.2f", *am.Tax, sum)
	}
	if known(am.Subtotal) && known(am.Total) {
		switch {
		case known(am.Tax) && !near(*am.Subtotal+*am.Tax, *am.Total):
			c.add("BR-CO-15", "invoice.amounts.total", "total with VAT (BT-112) %.2f is not total without VAT (BT-109) %.2f + VAT (BT-110) %.2f = %.2f",
				*am.Total, *am.Subtotal, *am.Tax, *am.Subtotal+*am.Tax)
		case am.Tax == nil && c.strict && !near(*am.Subtotal, *am.Total):
			// An XML without a VAT total has none: the totals must then agree. A page may
			// simply not print it.
			c.add("BR-CO-15", "invoice.amounts.total", "total with VAT (BT-112) %.2f is not total without VAT (BT-109) %.2f, and there is no VAT total (BT-110)",
				*am.Total, *am.Subtotal)
		}
	}
	if known(am.Total) && known(inv.AmountDue) && (am.Discount == nil || known(am.Discount)) {
		paid := 0.0
		if am.Discount != nil {
			paid = *am.Discount
		}
		if !near(*am.Total-paid, *inv.AmountDue) {
			c.add("BR-CO-16", "invoice.amountDue", "amount due (BT-115) %.2f is not total with VAT (BT-112) %.2f - paid amount (BT-113) %.2f = %.2f",
				*inv.AmountDue, *am.Total, paid, *am.Total-paid)
		}
	}
}

// breakdown checks BR-45..BR-48, BR-CO-17 and the per-category rules of each row of the
// tax breakdown.
func (c *enChecker) breakdown(rows []invoice.TaxRate) {
	for i, r := range rows {
		p := fmt.Sprintf("invoice.taxBreakdown[%d]", i)
		cat := r.Category
		if r.Base == nil {
			c.add("BR-45", p+".base", "VAT breakdown %d has no VAT category taxable amount (BT-116)", i+1)
		}
		if r.Amount == nil {
			c.add("BR-46", p+".amount", "VAT breakdown %d has no VAT category tax amount (BT-117)", i+1)
		}
		if cat == "" && c.strict {
			c.add("BR-47", p+".category", "VAT breakdown %d has no VAT category code (BT-118)", i+1)
		}
		if r.Rate == nil && cat != "O" {
			c.add("BR-48", p+".rate", "VAT breakdown %d has no VAT category rate (BT-119), and its category is not O (not subject to VAT)", i+1)
		}
		c.rowAmount(p, i, r, cat)
		c.rowCategory(p, i, r, cat)
	}
}

// rowAmount checks BR-CO-17 (and BR-S-09 for a standard rated row): amount = base x
// rate / 100, rounded to two decimals; without a rate the amount is 0. Signs are
// compared apart, as the Schematron does.
func (c *enChecker) rowAmount(p string, i int, r invoice.TaxRate, cat string) {
	if !known(r.Amount) {
		return
	}
	var want float64
	switch {
	case known(r.Rate) && known(r.Base):
		want = round2(math.Abs(*r.Base) * *r.Rate / 100)
	case r.Rate == nil && r.Base != nil:
		want = 0
	default:
		return
	}
	if near(math.Abs(*r.Amount), math.Abs(want)) {
		return
	}
	rate := "no rate"
	if r.Rate != nil {
		rate = fmt.Sprintf("rate %g%%", *r.Rate)
	}
	c.add("BR-CO-17", p+".amount", "VAT breakdown %d: VAT amount (BT-117) %.2f is not taxable amount (BT-116) x %s = %.2f", i+1, *r.Amount, rate, want)
	if cat == "S" && r.Rate != nil {
		c.add("BR-S-09", p+".amount", "standard rated VAT breakdown %d: VAT amount (BT-117) %.2f is not taxable amount (BT-116) x rate (BT-119) = %.2f", i+1, *r.Amount, want)
	}
}

// categoryRules says, for the VAT categories with rules in the model, whether the rate
// is zero, and whether an exemption reason is required (true) or forbidden (false).
var categoryRules = map[string]struct {
	name         string
	zero, reason bool
}{
	"S":  {name: "Standard rated", zero: false, reason: false},
	"Z":  {name: "Zero rated", zero: true, reason: false},
	"E":  {name: "Exempt from VAT", zero: true, reason: true},
	"AE": {name: "Reverse charge", zero: true, reason: true},
}

// rowCategory checks BR-{Z,E,AE}-09 (the VAT amount of a zero-rate category is 0) and
// BR-{S,Z,E,AE}-10 (the exemption reason is required or forbidden) on a breakdown row.
func (c *enChecker) rowCategory(p string, i int, r invoice.TaxRate, cat string) {
	cr, ok := categoryRules[cat]
	if !ok {
		return
	}
	if cr.zero && known(r.Amount) && !near(*r.Amount, 0) {
		c.add("BR-"+cat+"-09", p+".amount", "VAT breakdown %d is %q (%s): its VAT amount (BT-117) must be 0, not %.2f", i+1, cat, cr.name, *r.Amount)
	}
	hasReason := strings.TrimSpace(r.ExemptionReason) != ""
	switch {
	case cr.reason && !hasReason:
		c.add("BR-"+cat+"-10", p+".exemptionReason", "VAT breakdown %d is %q (%s): it needs a VAT exemption reason (BT-120 or BT-121)", i+1, cat, cr.name)
	case !cr.reason && hasReason:
		c.add("BR-"+cat+"-10", p+".exemptionReason", "VAT breakdown %d is %q (%s): it must not have a VAT exemption reason, but has %q", i+1, cat, cr.name, r.ExemptionReason)
	}
}

// lineRates checks the VAT rate of each line against its category (BR-S-05, BR-Z-05,
// BR-E-05, BR-AE-05) where the breakdown tells the category, and reports the lines
// whose rate has no breakdown row.
func (c *enChecker) lineRates(data invoice.ExtractedData) {
	rows := data.Invoice.TaxBreakdown
	if len(rows) == 0 {
		return
	}
	for _, r := range rows {
		if !known(r.Rate) && r.Category != "O" {
			return // a row of unknown rate may be any line's
		}
	}
	for i, li := range data.LineItems {
		if !known(li.TaxRate) {
			continue
		}
		p := fmt.Sprintf("lineItems[%d].taxRate", i)
		cat, matched := lineCategory(*li.TaxRate, rows)
		if !matched {
			c.addSev(RuleLineRateNotInBreakdown, p, invoice.SeverityWarning, "line %d's VAT rate %g%% has no row in the VAT breakdown", i+1, *li.TaxRate)
			continue
		}
		cr, ok := categoryRules[cat]
		if !ok {
			continue
		}
		switch {
		case cr.zero && !near(*li.TaxRate, 0):
			c.add("BR-"+cat+"-05", p, "line %d is %q (%s): its VAT rate (BT-152) must be 0, not %g%%", i+1, cat, cr.name, *li.TaxRate)
		case !cr.zero && *li.TaxRate <= 0:
			c.add("BR-"+cat+"-05", p, "line %d is %q (%s): its VAT rate (BT-152) must be greater than 0, not %g%%", i+1, cat, cr.name, *li.TaxRate)
		}
	}
}

// lineCategory returns the category of the breakdown rows whose rate is rate ("" when
// they have none or disagree), and whether any row has that rate. A row of category O
// without a rate has the rate 0 here.
func lineCategory(rate float64, rows []invoice.TaxRate) (string, bool) {
	cat, matched := "", false
	for _, r := range rows {
		rc := r.Category
		rowRate, ok := 0.0, rc == "O" && r.Rate == nil // not subject to VAT: no rate, a line's is 0
		if known(r.Rate) {
			rowRate, ok = *r.Rate, true
		}
		if !ok || !near(rowRate, rate) {
			continue
		}
		if matched && rc != cat {
			return "", true
		}
		cat, matched = rc, true
	}
	return cat, matched
}

// vatCategories is UNTDID 5305 as EN 16931 restricts it.
var vatCategories = map[string]bool{"S": true, "Z": true, "E": true, "AE": true, "K": true, "G": true, "O": true, "L": true, "M": true}

var unitCodeForm = regexp.MustCompile(`^[A-Z0-9]{1,3}$`)

// codeLists checks BR-CL-04, BR-CL-14, BR-CL-17 and BR-CL-23.
func (c *enChecker) codeLists(data invoice.ExtractedData) {
	inv := data.Invoice
	if cur := inv.Amounts.Currency; strings.TrimSpace(cur) != "" && !IsCurrency(cur) {
		c.add("BR-CL-04", "invoice.amounts.currency", "invoice currency code (BT-5) %q is not an ISO 4217 code", cur)
	}
	if cc := inv.Supplier.Country; strings.TrimSpace(cc) != "" && !IsCountry(cc) {
		c.add("BR-CL-14", "invoice.supplier.country", "seller country code (BT-40) %q is not an ISO 3166-1 alpha-2 code", cc)
	}
	if cc := inv.Customer.Country; strings.TrimSpace(cc) != "" && !IsCountry(cc) {
		c.add("BR-CL-14", "invoice.customer.country", "buyer country code (BT-55) %q is not an ISO 3166-1 alpha-2 code", cc)
	}
	for i, r := range inv.TaxBreakdown {
		if r.Category != "" && !vatCategories[r.Category] {
			c.add("BR-CL-17", fmt.Sprintf("invoice.taxBreakdown[%d].category", i),
				"VAT category code (BT-118) %q is not one of EN 16931's UNTDID 5305 codes (S Z E AE K G O L M)", r.Category)
		}
	}
	for i, li := range data.LineItems {
		if li.UnitCode != "" && !unitCodeForm.MatchString(li.UnitCode) {
			c.add("BR-CL-23", fmt.Sprintf("lineItems[%d].unitCode", i),
				"unit of measure code (BT-130) %q is not a UN/ECE Recommendation 20 code (one to three upper-case letters or digits)", li.UnitCode)
		}
	}
}

// lineSum returns the sum of the line amounts, and false when there are no lines or a
// line's amount is unknown.
func lineSum(lines []invoice.LineItem) (float64, bool) {
	if len(lines) == 0 {
		return 0, false
	}
	var sum float64
	for _, li := range lines {
		if !known(li.Amount) {
			return 0, false
		}
		sum += *li.Amount
	}
	return sum, true
}

// AllowanceSums returns the sums of the document level allowances (BT-107) and charges
// (BT-108) in list, and false when an amount is unknown (nil, NaN or infinite).
func AllowanceSums(list []invoice.Allowance) (allowances, charges float64, ok bool) {
	for _, a := range list {
		if !known(a.Amount) {
			return 0, 0, false
		}
		if a.Charge {
			charges += *a.Amount
		} else {
			allowances += *a.Amount
		}
	}
	return allowances, charges, true
}

// breakdownSum returns the sum of the breakdown's VAT amounts, and false when there are
// no rows or a row's amount is unknown.
func breakdownSum(rows []invoice.TaxRate) (float64, bool) {
	if len(rows) == 0 {
		return 0, false
	}
	var sum float64
	for _, r := range rows {
		if !known(r.Amount) {
			return 0, false
		}
		sum += *r.Amount
	}
	return sum, true
}

// known reports whether v is a number (not nil, NaN or infinite); Check reports the
// amounts that are not.
func known(v *float64) bool { return v != nil && !math.IsNaN(*v) && !math.IsInf(*v, 0) }

// round2 rounds v to two decimals, halves away from zero.
func round2(v float64) float64 { return math.Round(v*100) / 100 }
