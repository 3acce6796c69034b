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
	am := inv.Amounts

	// subtotal + tax = total
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
	for _, f := range []struct {
		path string
		v    *float64
	}{{"invoice.amounts.subtotal", am.Subtotal}, {"invoice.amounts.tax", am.Tax}, {"invoice.amounts.total", am.Total}} {
		if f.v != nil && (math.IsNaN(*f.v) || math.IsInf(*f.v, 0)) {
			add(f.path, invoice.SeverityError, "amount is not a number")
		}
	}

	checkWider(r, data, add)

	// line items
	var sum float64
	all := len(data.LineItems) > 0
	for i, li := range data.LineItems {
		p := fmt.Sprintf("lineItems[%d]", i)
		if li.Amount == nil {
			all = false
		} else {
			sum += *li.Amount
		}
		if li.Quantity != nil && li.UnitPrice != nil && li.Amount != nil {
			want := *li.Quantity * *li.UnitPrice
			if near(want, *li.Amount) {
				confirm(r, p+".amount")
			} else {
				contradict(r, p+".amount")
				add(p+".amount", invoice.SeverityWarning, "quantity %g x unit price %g = %.2f, but amount is %.2f",
					*li.Quantity, *li.UnitPrice, want, *li.Amount)
			}
		}
	}
	if all && am.Subtotal != nil {
		if near(sum, *am.Subtotal) {
			confirm(r, "lineItems", "invoice.amounts.subtotal")
		} else if am.Total != nil && near(sum, *am.Total) {
			// Gross line amounts (prices including tax) add up to the total.
			confirm(r, "lineItems", "invoice.amounts.total")
		} else {
			contradict(r, "lineItems")
			add("lineItems", invoice.SeverityWarning, "line amounts add up to %.2f, but subtotal is %.2f", sum, *am.Subtotal)
		}
	} else if all && am.Total != nil && near(sum, *am.Total) {
		confirm(r, "lineItems", "invoice.amounts.total")
	}

	// dates
	var issued, due time.Time
	if inv.Date != "" {
		t, err := time.Parse(time.DateOnly, inv.Date)
		switch {
		case err != nil:
			add("invoice.date", invoice.SeverityError, "date %q is not YYYY-MM-DD", inv.Date)
		case t.Year() < 1990 || t.After(now.AddDate(1, 0, 0)):
			contradict(r, "invoice.date")
			add("invoice.date", invoice.SeverityWarning, "date %s is implausible", inv.Date)
		default:
			issued = t
		}
	}
	if inv.DueDate != "" {
		t, err := time.Parse(time.DateOnly, inv.DueDate)
		switch {
		case err != nil:
			add("invoice.dueDate", invoice.SeverityError, "due date %q is not YYYY-MM-DD", inv.DueDate)
		case t.Year() < 1990 || t.After(now.AddDate(3, 0, 0)):
			contradict(r, "invoice.dueDate")
			add("invoice.dueDate", invoice.SeverityWarning, "due date %s is implausible", inv.DueDate)
		default:
			due = t
		}
	}
	if !issued.IsZero() && !due.IsZero() {
		if due.Before(issued) {
			contradict(r, "invoice.dueDate")
			add("invoice.dueDate", invoice.SeverityError, "due date %s is before the invoice date %s", inv.DueDate, inv.Date)
		} else if due.Sub(issued) < 400*24*time.Hour {
			confirm(r, "invoice.dueDate")
		}
	}

	// currency
	if c := am.Currency; c != "" {
		if IsCurrency(c) {
			confirm(r, "invoice.amounts.currency")
		} else {
			contradict(r, "invoice.amounts.currency")
			add("invoice.amounts.currency", invoice.SeverityError, "currency %q is not an ISO 4217 code", c)
		}
	}

	// tax id
	if id := inv.Supplier.TaxID; id != "" {
		if res, ok := CheckTaxID(id, ""); ok {
			switch {
			case !res.FormatOK:
				contradict(r, "invoice.supplier.taxId")
				add("invoice.supplier.taxId", invoice.SeverityWarning, "tax id %s does not have the %s format", id, res.Country)
			case res.HasChecksum && !res.ChecksumOK:
				contradict(r, "invoice.supplier.taxId")
				add("invoice.supplier.taxId", invoice.SeverityError, "tax id %s fails the %s check digit", id, res.Country)
			case res.HasChecksum:
				confirm(r, "invoice.supplier.taxId")
			}
		}
	}

	// required fields of the template
	if spec != nil {
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

	r.Results.IsValid = true
	for _, e := range r.Results.Errors {
		if e.Severity == invoice.SeverityError {
			r.Results.IsValid = false
		}
	}
	return r
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
