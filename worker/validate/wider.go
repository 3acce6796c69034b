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
func checkWider(r Report, data invoice.ExtractedData, add func(field string, sev invoice.Severity, format string, a ...any)) {
	inv := data.Invoice
	am := inv.Amounts

	// total - discount = amount due
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
	for _, f := range []struct {
		path string
		v    *float64
	}{{"invoice.amounts.discount", am.Discount}, {"invoice.amountDue", inv.AmountDue}} {
		if f.v != nil && (math.IsNaN(*f.v) || math.IsInf(*f.v, 0)) {
			add(f.path, invoice.SeverityError, "amount is not a number")
		}
	}

	// tax breakdown: each rate's tax is its base times the rate; the sums are subtotal and tax.
	if len(inv.TaxBreakdown) > 0 {
		var bases, taxes float64
		allBase, allTax := true, true
		for i, tr := range inv.TaxBreakdown {
			p := fmt.Sprintf("invoice.taxBreakdown[%d]", i)
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
			if tr.Rate != nil && tr.Base != nil && tr.Amount != nil {
				// Tax is rounded per rate: allow a cent, or half a cent per started 100 of base.
				want := *tr.Base * *tr.Rate / 100
				if math.Abs(want-*tr.Amount) > math.Max(Tolerance, 0.005*math.Ceil(math.Abs(*tr.Base)/100)) {
					contradict(r, "invoice.taxBreakdown")
					add(p+".amount", invoice.SeverityWarning, "%.2f at %g%% is %.2f, but the tax is %.2f", *tr.Base, *tr.Rate, want, *tr.Amount)
				}
			}
		}
		if allBase && am.Subtotal != nil {
			if near(bases, *am.Subtotal) {
				confirm(r, "invoice.taxBreakdown", "invoice.amounts.subtotal")
			} else {
				contradict(r, "invoice.taxBreakdown")
				add("invoice.taxBreakdown", invoice.SeverityWarning, "tax breakdown bases add up to %.2f, but subtotal is %.2f", bases, *am.Subtotal)
			}
		}
		if allTax && am.Tax != nil {
			if near(taxes, *am.Tax) {
				confirm(r, "invoice.taxBreakdown", "invoice.amounts.tax")
			} else {
				contradict(r, "invoice.taxBreakdown")
				add("invoice.taxBreakdown", invoice.SeverityWarning, "tax breakdown amounts add up to %.2f, but tax is %.2f", taxes, *am.Tax)
			}
		}
	}

	// customer tax id
	if id := inv.Customer.TaxID; id != "" {
		if res, ok := CheckTaxID(id, ""); ok {
			switch {
			case !res.FormatOK:
				contradict(r, "invoice.customer.taxId")
				add("invoice.customer.taxId", invoice.SeverityWarning, "tax id %s does not have the %s format", id, res.Country)
			case res.HasChecksum && !res.ChecksumOK:
				contradict(r, "invoice.customer.taxId")
				add("invoice.customer.taxId", invoice.SeverityError, "tax id %s fails the %s check digit", id, res.Country)
			case res.HasChecksum:
				confirm(r, "invoice.customer.taxId")
			}
		}
		if inv.Supplier.TaxID != "" && eqCompact(id, inv.Supplier.TaxID) {
			contradict(r, "invoice.customer.taxId")
			add("invoice.customer.taxId", invoice.SeverityWarning, "customer tax id %s is the supplier's", id)
		}
	}

	// payment
	if v := inv.Payment.IBAN; v != "" {
		if CheckIBAN(v) {
			confirm(r, "invoice.payment.iban")
		} else {
			contradict(r, "invoice.payment.iban")
			add("invoice.payment.iban", invoice.SeverityError, "IBAN %s fails the mod-97 check", v)
		}
	}
	if v := inv.Payment.BIC; v != "" && !CheckBIC(v) {
		contradict(r, "invoice.payment.bic")
		add("invoice.payment.bic", invoice.SeverityWarning, "BIC %s is not 8 or 11 letters and digits of the ISO 9362 format", v)
	}
	if d := inv.Payment.DueDays; d != nil && (*d < 0 || *d > 366) {
		contradict(r, "invoice.payment.dueDays")
		add("invoice.payment.dueDays", invoice.SeverityWarning, "payment term of %d days is implausible", *d)
	}

	// service period
	from, errF := time.Parse(time.DateOnly, inv.ServicePeriod.From)
	to, errT := time.Parse(time.DateOnly, inv.ServicePeriod.To)
	if inv.ServicePeriod.From != "" && errF != nil {
		add("invoice.servicePeriod.from", invoice.SeverityError, "date %q is not YYYY-MM-DD", inv.ServicePeriod.From)
	}
	if inv.ServicePeriod.To != "" && errT != nil {
		add("invoice.servicePeriod.to", invoice.SeverityError, "date %q is not YYYY-MM-DD", inv.ServicePeriod.To)
	}
	if errF == nil && errT == nil && to.Before(from) {
		contradict(r, "invoice.servicePeriod")
		add("invoice.servicePeriod", invoice.SeverityError, "service period ends %s before it starts %s", inv.ServicePeriod.To, inv.ServicePeriod.From)
	}

	if !documentTypes[inv.DocumentType] {
		add("invoice.documentType", invoice.SeverityError, "document type %q is not invoice, creditNote, debitNote, proforma or receipt", inv.DocumentType)
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
