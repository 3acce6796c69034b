// Package validate checks extracted invoice data for arithmetic and consistency:
// subtotal + tax = total, total - discount = amount due, the tax breakdown's sums =
// subtotal and tax, the sum of line amounts = subtotal, quantity x unit price = amount
// (each within 0.01), due date not before the issue date, plausible dates, a real ISO
// 4217 currency, tax id format and checksum where the country defines one (the
// supplier's and the customer's), the IBAN checksum, and the template's required fields. It is pure Go and does no I/O.
package validate

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// Tolerance is the largest difference two amounts may have and still agree.
const Tolerance = 0.0100001

// Report is the outcome of Check: the contract's ValidationResults plus which field
// paths a check confirmed or contradicted (used to adjust confidence).
type Report struct {
	Results      invoice.ValidationResults
	Confirmed    map[string]bool
	Contradicted map[string]bool
}

// Validate runs every check on data. spec may be nil (no template); when given, its
// options.required_fields must be present. IsValid is false when any finding has
// severity error. Errors is never nil.
func Validate(data invoice.ExtractedData, spec *invoice.TemplateSpec) invoice.ValidationResults {
	return Check(data, spec, time.Now()).Results
}

// Check is Validate with the report of confirmed and contradicted fields; now bounds
// plausible dates (not more than a year ahead, not before 1990).
func Check(data invoice.ExtractedData, spec *invoice.TemplateSpec, now time.Time) Report {
	r := Report{Confirmed: map[string]bool{}, Contradicted: map[string]bool{}}
	r.Results.Errors = []invoice.ValidationError{}
	add := func(field string, sev invoice.Severity, format string, a ...any) {
		r.Results.Errors = append(r.Results.Errors, invoice.ValidationError{Field: field, Message: fmt.Sprintf(format, a...), Severity: sev})
	}
	inv := data.Invoice
	checkTotals(r, inv.Amounts, add)
	checkWider(r, data, add)
	checkLineItems(r, data, add)
	checkDates(r, inv, now, add)
	checkCurrency(r, inv.Amounts.Currency, add)
	checkTaxID(r, "invoice.supplier.taxId", inv.Supplier.TaxID, add)
	checkRequired(data, spec, add)
	r.Results.IsValid = !slices.ContainsFunc(r.Results.Errors, func(e invoice.ValidationError) bool {
		return e.Severity == invoice.SeverityError
	})
	return r
}

// addFunc records one finding of Check.
type addFunc func(field string, sev invoice.Severity, format string, a ...any)

// checkTotals checks subtotal + tax = total (without a tax, that the subtotal is not over
// the total) and that the three are numbers.
func checkTotals(r Report, am invoice.Amounts, add addFunc) {
	if am.Subtotal != nil && am.Tax != nil && am.Total != nil {
		if near(*am.Subtotal+*am.Tax, *am.Total) {
			confirm(r, "invoice.amounts.subtotal", "invoice.amounts.tax", "invoice.amounts.total")
		} else {
			contradict(r, "invoice.amounts.subtotal", "invoice.amounts.tax", "invoice.amounts.total")
			add("invoice.amounts.total", invoice.SeverityError, "subtotal %.2f + tax %.2f = %.2f, but total is %.2f",
				*am.Subtotal, *am.Tax, *am.Subtotal+*am.Tax, *am.Total)
		}
	} else if am.Subtotal != nil && am.Total != nil && am.Tax == nil {
		if *am.Subtotal > *am.Total+Tolerance && *am.Total >= 0 {
			contradict(r, "invoice.amounts.subtotal", "invoice.amounts.total")
			add("invoice.amounts.subtotal", invoice.SeverityWarning, "subtotal %.2f is larger than total %.2f", *am.Subtotal, *am.Total)
		}
	}
	checkNumbers(add, amountField{"invoice.amounts.subtotal", am.Subtotal}, amountField{"invoice.amounts.tax", am.Tax},
		amountField{"invoice.amounts.total", am.Total})
}

// amountField is an amount and its contract path.
type amountField struct {
	path string
	v    *float64
}

// checkNumbers finds the amounts that are NaN or infinite.
func checkNumbers(add addFunc, fields ...amountField) {
	for _, f := range fields {
		if f.v != nil && (math.IsNaN(*f.v) || math.IsInf(*f.v, 0)) {
			add(f.path, invoice.SeverityError, "amount is not a number")
		}
	}
}

// checkLineItems checks quantity x unit price = amount on each line, and that the line
// amounts add up to the subtotal (net lines) or the total (gross lines).
func checkLineItems(r Report, data invoice.ExtractedData, add addFunc) {
	var sum float64
	all := len(data.LineItems) > 0
	for i, li := range data.LineItems {
		if li.Amount == nil {
			all = false
		} else {
			sum += *li.Amount
		}
		checkLineAmount(r, fmt.Sprintf("lineItems[%d]", i), li, add)
	}
	am := data.Invoice.Amounts
	// The net total is the lines' sum less the document's allowances plus its charges.
	allowances, charges, aok := AllowanceSums(data.Invoice.Allowances)
	if all && am.Subtotal != nil && aok {
		if near(sum-allowances+charges, *am.Subtotal) {
			confirm(r, "lineItems", "invoice.amounts.subtotal")
		} else if am.Total != nil && near(sum, *am.Total) {
			// Gross line amounts (prices including tax) add up to the total.
			confirm(r, "lineItems", "invoice.amounts.total")
		} else {
			contradict(r, "lineItems")
			if allowances == 0 && charges == 0 {
				add("lineItems", invoice.SeverityWarning, "line amounts add up to %.2f, but subtotal is %.2f", sum, *am.Subtotal)
			} else {
				add("lineItems", invoice.SeverityWarning, "line amounts add up to %.2f, less allowances %.2f plus charges %.2f is %.2f, but subtotal is %.2f",
					sum, allowances, charges, sum-allowances+charges, *am.Subtotal)
			}
		}
	} else if all && am.Total != nil && near(sum, *am.Total) {
		confirm(r, "lineItems", "invoice.amounts.total")
	}
}

// checkLineAmount checks quantity x unit price = amount on the line at path p.
func checkLineAmount(r Report, p string, li invoice.LineItem, add addFunc) {
	if li.Quantity == nil || li.UnitPrice == nil || li.Amount == nil {
		return
	}
	want := *li.Quantity * *li.UnitPrice
	if near(want, *li.Amount) {
		confirm(r, p+".amount")
		return
	}
	contradict(r, p+".amount")
	add(p+".amount", invoice.SeverityWarning, "quantity %g x unit price %g = %.2f, but amount is %.2f",
		*li.Quantity, *li.UnitPrice, want, *li.Amount)
}

// checkDates checks that the invoice date (up to a year ahead of now) and the due date
// (up to three years ahead) are plausible dates, and that the due date is not before the
// invoice date.
func checkDates(r Report, inv invoice.Invoice, now time.Time, add addFunc) {
	issued := checkDate(r, "invoice.date", "date", inv.Date, now.AddDate(1, 0, 0), add)
	due := checkDate(r, "invoice.dueDate", "due date", inv.DueDate, now.AddDate(3, 0, 0), add)
	if issued.IsZero() || due.IsZero() {
		return
	}
	if due.Before(issued) {
		contradict(r, "invoice.dueDate")
		add("invoice.dueDate", invoice.SeverityError, "due date %s is before the invoice date %s", inv.DueDate, inv.Date)
	} else if due.Sub(issued) < 400*24*time.Hour {
		confirm(r, "invoice.dueDate")
	}
}

// checkDate parses the date v at path (what names it in messages): YYYY-MM-DD, from 1990
// up to latest. It returns the zero time when v is empty, malformed or implausible.
func checkDate(r Report, path, what, v string, latest time.Time, add addFunc) time.Time {
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.DateOnly, v)
	switch {
	case err != nil:
		add(path, invoice.SeverityError, "%s %q is not YYYY-MM-DD", what, v)
	case t.Year() < 1990 || t.After(latest):
		contradict(r, path)
		add(path, invoice.SeverityWarning, "%s %s is implausible", what, v)
	default:
		return t
	}
	return time.Time{}
}

// checkCurrency checks that c, when given, is an ISO 4217 code.
func checkCurrency(r Report, c string, add addFunc) {
	if c == "" {
		return
	}
	if IsCurrency(c) {
		confirm(r, "invoice.amounts.currency")
		return
	}
	contradict(r, "invoice.amounts.currency")
	add("invoice.amounts.currency", invoice.SeverityError, "currency %q is not an ISO 4217 code", c)
}

// checkTaxID checks the format and, where the country defines one, the check digit of
// the tax id at path (the supplier's or the customer's); an id of no known country is
// neither confirmed nor contradicted.
func checkTaxID(r Report, path, id string, add addFunc) {
	if id == "" {
		return
	}
	res, ok := CheckTaxID(id, "")
	if !ok {
		return
	}
	switch {
	case !res.FormatOK:
		contradict(r, path)
		add(path, invoice.SeverityWarning, "tax id %s does not have the %s format", id, res.Country)
	case res.HasChecksum && !res.ChecksumOK:
		contradict(r, path)
		add(path, invoice.SeverityError, "tax id %s fails the %s check digit", id, res.Country)
	case res.HasChecksum:
		confirm(r, path)
	}
}

// checkRequired finds the template's required fields (spec may be nil) that are missing.
func checkRequired(data invoice.ExtractedData, spec *invoice.TemplateSpec, add addFunc) {
	if spec == nil {
		return
	}
	for _, name := range spec.Options.RequiredFields {
		path := RequiredFieldPath(name)
		if path == "" {
			continue
		}
		if !present(data, path) {
			add(path, invoice.SeverityError, "required field %s is missing", name)
		}
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= Tolerance }

func confirm(r Report, paths ...string) {
	for _, p := range paths {
		r.Confirmed[p] = true
	}
}

func contradict(r Report, paths ...string) {
	for _, p := range paths {
		r.Contradicted[p] = true
	}
}

// requiredNames maps invoice2data field names to contract paths.
var requiredNames = map[string]string{
	"invoice_number": "invoice.number",
	"date":           "invoice.date",
	"date_due":       "invoice.dueDate",
	"amount":         "invoice.amounts.total",
	"amount_untaxed": "invoice.amounts.subtotal",
	"amount_tax":     "invoice.amounts.tax",
	"vat":            "invoice.supplier.taxId",
	"issuer":         "invoice.supplier.name",
	"partner_name":   "invoice.supplier.name",
	"currency":       "invoice.amounts.currency",
	"lines":          "lineItems",
	"po_number":      "invoice.purchaseOrder",
	"amount_due":     "invoice.amountDue",
	"iban":           "invoice.payment.iban",
}

// RequiredFieldPath maps a required field name (an invoice2data name such as
// "invoice_number" or a contract path such as "invoice.number") to a contract path,
// or "" when it names no contract field.
func RequiredFieldPath(name string) string {
	if strings.HasPrefix(name, "invoice.") || name == "lineItems" {
		return name
	}
	return requiredNames[name]
}

func present(d invoice.ExtractedData, path string) bool {
	inv := d.Invoice
	switch path {
	case "invoice.number":
		return inv.Number != ""
	case "invoice.date":
		return inv.Date != ""
	case "invoice.dueDate":
		return inv.DueDate != ""
	case "invoice.supplier.name":
		return inv.Supplier.Name != ""
	case "invoice.supplier.address":
		return inv.Supplier.Address != ""
	case "invoice.supplier.taxId":
		return inv.Supplier.TaxID != ""
	case "invoice.customer.name":
		return inv.Customer.Name != ""
	case "invoice.customer.address":
		return inv.Customer.Address != ""
	case "invoice.amounts.subtotal":
		return inv.Amounts.Subtotal != nil
	case "invoice.amounts.tax":
		return inv.Amounts.Tax != nil
	case "invoice.amounts.total":
		return inv.Amounts.Total != nil
	case "invoice.amounts.currency":
		return inv.Amounts.Currency != ""
	case "lineItems":
		return len(d.LineItems) > 0
	case "invoice.amounts.discount":
		return inv.Amounts.Discount != nil
	case "invoice.amountDue":
		return inv.AmountDue != nil
	case "invoice.documentType":
		return inv.DocumentType != ""
	case "invoice.purchaseOrder":
		return inv.PurchaseOrder != ""
	case "invoice.customer.taxId":
		return inv.Customer.TaxID != ""
	case "invoice.payment.iban":
		return inv.Payment.IBAN != ""
	}
	return true
}
