package profile

import "github.com/ocrinvoice/ocrinvoice/internal/invoice"

// kind is how a field's value is printed, parsed and compared.
type kind string

const (
	kindAmount kind = "amount" // a monetary amount (extract.ParseAmount)
	kindDate   kind = "date"   // a date (extract.ParseDate), stored as YYYY-MM-DD
	kindCode   kind = "code"   // an identifier: compared without spaces and case
	kindText   kind = "text"   // a name, an address, free text: compared by its words
)

// field is one header field a profile can learn: its path (as internal/invoice names
// it), how its value is printed, whether it belongs to the parties rather than to one
// document, and where it lives in invoice.ExtractedData (str for text values, num for
// amounts).
//
// A party field (the supplier's name, address, ids and bank account, the customer, who
// is usually the profile's own tenant, the currency, the payment terms) is learned as
// its value: on a later document of the supplier the value is used when it is printed
// there. A document field (number, dates, amounts, order reference) is learned as where
// it is printed: the label before it and its place on the page.
type field struct {
	path  string
	kind  kind
	party bool
	str   func(*invoice.ExtractedData) *string
	num   func(*invoice.ExtractedData) **float64
}

// fields are the header fields profiles learn, in document order.
var fields = []field{
	{path: "invoice.number", kind: kindCode, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.Number }},
	{path: "invoice.date", kind: kindDate, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.Date }},
	{path: "invoice.dueDate", kind: kindDate, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.DueDate }},
	{path: "invoice.supplier.name", kind: kindText, party: true, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.Supplier.Name }},
	{path: "invoice.supplier.address", kind: kindText, party: true, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.Supplier.Address }},
	{path: "invoice.supplier.taxId", kind: kindCode, party: true, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.Supplier.TaxID }},
	{path: "invoice.supplier.email", kind: kindCode, party: true, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.Supplier.Email }},
	{path: "invoice.supplier.phone", kind: kindCode, party: true, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.Supplier.Phone }},
	{path: "invoice.supplier.website", kind: kindCode, party: true, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.Supplier.Website }},
	{path: "invoice.customer.name", kind: kindText, party: true, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.Customer.Name }},
	{path: "invoice.customer.address", kind: kindText, party: true, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.Customer.Address }},
	{path: "invoice.customer.taxId", kind: kindCode, party: true, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.Customer.TaxID }},
	{path: "invoice.amounts.subtotal", kind: kindAmount, num: func(d *invoice.ExtractedData) **float64 { return &d.Invoice.Amounts.Subtotal }},
	{path: "invoice.amounts.tax", kind: kindAmount, num: func(d *invoice.ExtractedData) **float64 { return &d.Invoice.Amounts.Tax }},
	{path: "invoice.amounts.total", kind: kindAmount, num: func(d *invoice.ExtractedData) **float64 { return &d.Invoice.Amounts.Total }},
	{path: "invoice.amounts.currency", kind: kindCode, party: true, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.Amounts.Currency }},
	{path: "invoice.amounts.discount", kind: kindAmount, num: func(d *invoice.ExtractedData) **float64 { return &d.Invoice.Amounts.Discount }},
	{path: "invoice.amountDue", kind: kindAmount, num: func(d *invoice.ExtractedData) **float64 { return &d.Invoice.AmountDue }},
	{path: "invoice.servicePeriod.from", kind: kindDate, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.ServicePeriod.From }},
	{path: "invoice.servicePeriod.to", kind: kindDate, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.ServicePeriod.To }},
	{path: "invoice.purchaseOrder", kind: kindCode, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.PurchaseOrder }},
	{path: "invoice.payment.iban", kind: kindCode, party: true, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.Payment.IBAN }},
	{path: "invoice.payment.bic", kind: kindCode, party: true, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.Payment.BIC }},
	{path: "invoice.payment.terms", kind: kindText, party: true, str: func(d *invoice.ExtractedData) *string { return &d.Invoice.Payment.Terms }},
}

// fieldByPath finds a learnable field.
func fieldByPath(path string) (field, bool) {
	for _, f := range fields {
		if f.path == path {
			return f, true
		}
	}
	return field{}, false
}

// value is a field's value in d: a string (empty when unknown) or a float64 (ok false
// when the amount is unknown).
type value struct {
	s  string
	f  float64
	ok bool
}

// any is the value as invoice.Fields gives it: a string, a float64 or nil.
func (v value) any() any {
	switch {
	case !v.ok:
		return nil
	case v.s != "":
		return v.s
	}
	return v.f
}

func (f field) get(d *invoice.ExtractedData) value {
	if f.num != nil {
		p := *f.num(d)
		if p == nil {
			return value{}
		}
		return value{f: *p, ok: true}
	}
	s := *f.str(d)
	return value{s: s, ok: s != ""}
}

func (f field) set(d *invoice.ExtractedData, v value) {
	if f.num != nil {
		x := v.f
		*f.num(d) = &x
		return
	}
	*f.str(d) = v.s
}

// same tells whether two values of the field are the same value, as a person checking
// the field would judge (amounts within half a cent, codes without spaces and case,
// texts by their words).
func (f field) same(a, b value) bool {
	if a.ok != b.ok {
		return false
	}
	if !a.ok {
		return true
	}
	switch f.kind {
	case kindAmount:
		d := a.f - b.f
		return d < 0.005 && d > -0.005
	case kindDate:
		return a.s == b.s
	case kindCode:
		return foldCode(a.s) == foldCode(b.s)
	}
	return foldText(a.s) == foldText(b.s)
}
