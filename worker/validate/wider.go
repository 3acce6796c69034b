package validate

import (
	"fmt"
	"math"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// documentTypes are the values Invoice.DocumentType may take.
var documentTypes = map[string]bool{
	"": true, invoice.DocInvoice: true, invoice.DocCreditNote: true, invoice.DocDebitNote: true,
	invoice.DocProforma: true, invoice.DocReceipt: true,
}

// checkWider checks the fields beyond the contract's: amount due, tax breakdown,
// customer tax id, IBAN and BIC, service period and document type.
func checkWider(r Report, data invoice.ExtractedData, add addFunc) {
	inv := data.Invoice
	checkAmountDue(r, inv, add)
	checkTaxBreakdown(r, inv, add)
	checkCustomerTaxID(r, inv, add)
	checkPayment(r, inv.Payment, add)
	checkServicePeriod(r, inv.ServicePeriod, add)
	if !documentTypes[inv.DocumentType] {
		add("invoice.documentType", invoice.SeverityError, "document type %q is not invoice, creditNote, debitNote, proforma or receipt", inv.DocumentType)
	}
}

// checkAmountDue checks total - discount = amount due (without a discount, that the
// amount due is the total), that the discount is not over the total, and that both are
// numbers.
func checkAmountDue(r Report, inv invoice.Invoice, add addFunc) {
	am := inv.Amounts
	if am.Total != nil && am.Discount != nil && inv.AmountDue != nil {
		if near(*am.Total-*am.Discount, *inv.AmountDue) {
			confirm(r, "invoice.amounts.total", "invoice.amounts.discount", "invoice.amountDue")
		} else {
			contradict(r, "invoice.amounts.discount", "invoice.amountDue")
			add("invoice.amountDue", invoice.SeverityError, "total %.2f - discount %.2f = %.2f, but amount due is %.2f",
				*am.Total, *am.Discount, *am.Total-*am.Discount, *inv.AmountDue)
		}
	} else if am.Total != nil && am.Discount == nil && inv.AmountDue != nil && !near(*am.Total, *inv.AmountDue) {
		contradict(r, "invoice.amountDue")
		add("invoice.amountDue", invoice.SeverityWarning, "amount due %.2f differs from total %.2f, but no deduction was read",
			*inv.AmountDue, *am.Total)
	}
	if am.Discount != nil && am.Total != nil && math.Abs(*am.Discount) > math.Abs(*am.Total)+Tolerance {
		contradict(r, "invoice.amounts.discount")
		add("invoice.amounts.discount", invoice.SeverityWarning, "discount %.2f is larger than total %.2f", *am.Discount, *am.Total)
	}
	checkNumbers(add, amountField{"invoice.amounts.discount", am.Discount}, amountField{"invoice.amountDue", inv.AmountDue})
}

// checkTaxBreakdown checks that each rate's tax is its base times the rate and that the
// bases and the taxes add up to the subtotal and the tax.
func checkTaxBreakdown(r Report, inv invoice.Invoice, add addFunc) {
	if len(inv.TaxBreakdown) == 0 {
		return
	}
	var bases, taxes float64
	allBase, allTax := true, true
	for i, tr := range inv.TaxBreakdown {
		if tr.Base == nil {
			allBase = false
		} else {
			bases += *tr.Base
		}
		if tr.Amount == nil {
			allTax = false
		} else {
			taxes += *tr.Amount
		}
		checkTaxRate(r, fmt.Sprintf("invoice.taxBreakdown[%d]", i), tr, add)
	}
	am := inv.Amounts
	if allBase && am.Subtotal != nil {
		checkTaxSum(r, "invoice.amounts.subtotal", "tax breakdown bases add up to %.2f, but subtotal is %.2f", bases, *am.Subtotal, add)
	}
	if allTax && am.Tax != nil {
		checkTaxSum(r, "invoice.amounts.tax", "tax breakdown amounts add up to %.2f, but tax is %.2f", taxes, *am.Tax, add)
	}
}

// checkTaxRate checks base x rate = tax on the breakdown line at path p. Tax is rounded
// per rate: it allows a cent, or half a cent per started 100 of base.
func checkTaxRate(r Report, p string, tr invoice.TaxRate, add addFunc) {
	if tr.Rate == nil || tr.Base == nil || tr.Amount == nil {
		return
	}
	want := *tr.Base * *tr.Rate / 100
	if math.Abs(want-*tr.Amount) > math.Max(Tolerance, 0.005*math.Ceil(math.Abs(*tr.Base)/100)) {
		contradict(r, "invoice.taxBreakdown")
		add(p+".amount", invoice.SeverityWarning, "%.2f at %g%% is %.2f, but the tax is %.2f", *tr.Base, *tr.Rate, want, *tr.Amount)
	}
}

// checkTaxSum compares a sum of the tax breakdown with the amount at path; format names
// both in the warning.
func checkTaxSum(r Report, path, format string, sum, amount float64, add addFunc) {
	if near(sum, amount) {
		confirm(r, "invoice.taxBreakdown", path)
		return
	}
	contradict(r, "invoice.taxBreakdown")
	add("invoice.taxBreakdown", invoice.SeverityWarning, format, sum, amount)
}

// checkCustomerTaxID checks the customer's tax id as the supplier's is checked, and that
// it is not the supplier's.
func checkCustomerTaxID(r Report, inv invoice.Invoice, add addFunc) {
	id := inv.Customer.TaxID
	if id == "" {
		return
	}
	checkTaxID(r, "invoice.customer.taxId", id, add)
	if inv.Supplier.TaxID != "" && eqCompact(id, inv.Supplier.TaxID) {
		contradict(r, "invoice.customer.taxId")
		add("invoice.customer.taxId", invoice.SeverityWarning, "customer tax id %s is the supplier's", id)
	}
}

// checkPayment checks the IBAN's mod-97, the BIC's format and the payment term.
func checkPayment(r Report, pay invoice.Payment, add addFunc) {
	if v := pay.IBAN; v != "" {
		if CheckIBAN(v) {
			confirm(r, "invoice.payment.iban")
		} else {
			contradict(r, "invoice.payment.iban")
			add("invoice.payment.iban", invoice.SeverityError, "IBAN %s fails the mod-97 check", v)
		}
	}
	if v := pay.BIC; v != "" && !CheckBIC(v) {
		contradict(r, "invoice.payment.bic")
		add("invoice.payment.bic", invoice.SeverityWarning, "BIC %s is not 8 or 11 letters and digits of the ISO 9362 format", v)
	}
	if d := pay.DueDays; d != nil && (*d < 0 || *d > 366) {
		contradict(r, "invoice.payment.dueDays")
		add("invoice.payment.dueDays", invoice.SeverityWarning, "payment term of %d days is implausible", *d)
	}
}

// checkServicePeriod checks that the period's dates are YYYY-MM-DD and that it does not
// end before it starts.
func checkServicePeriod(r Report, sp invoice.Period, add addFunc) {
	from, errF := time.Parse(time.DateOnly, sp.From)
	to, errT := time.Parse(time.DateOnly, sp.To)
	if sp.From != "" && errF != nil {
		add("invoice.servicePeriod.from", invoice.SeverityError, "date %q is not YYYY-MM-DD", sp.From)
	}
	if sp.To != "" && errT != nil {
		add("invoice.servicePeriod.to", invoice.SeverityError, "date %q is not YYYY-MM-DD", sp.To)
	}
	if errF == nil && errT == nil && to.Before(from) {
		contradict(r, "invoice.servicePeriod")
		add("invoice.servicePeriod", invoice.SeverityError, "service period ends %s before it starts %s", sp.To, sp.From)
	}
}

// eqCompact compares two ids ignoring spaces, dots, dashes and case.
func eqCompact(a, b string) bool {
	norm := func(s string) string {
		out := make([]rune, 0, len(s))
		for _, r := range s {
			switch {
			case r >= 'a' && r <= 'z':
				out = append(out, r-'a'+'A')
			case r == ' ' || r == '.' || r == '-':
			default:
				out = append(out, r)
			}
		}
		return string(out)
	}
	return norm(a) == norm(b)
}
