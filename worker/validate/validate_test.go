package validate

import (
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

var now = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

func f(v float64) *float64 { return &v }

func good() invoice.ExtractedData {
	d := invoice.ExtractedData{}
	d.Invoice.Number = "R-1"
	d.Invoice.Date = "2024-01-10"
	d.Invoice.DueDate = "2024-02-10"
	d.Invoice.Supplier.TaxID = "DE136695976"
	d.Invoice.Amounts = invoice.Amounts{Subtotal: f(100), Tax: f(19), Total: f(119), Currency: "EUR"}
	d.LineItems = []invoice.LineItem{
		{Description: "a", Quantity: f(2), UnitPrice: f(25), Amount: f(50)},
		{Description: "b", Quantity: f(1), UnitPrice: f(50), Amount: f(50)},
	}
	return d
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name      string
		edit      func(*invoice.ExtractedData)
		spec      *invoice.TemplateSpec
		valid     bool
		field     string // a finding on this field is expected ("" = no findings)
		severity  invoice.Severity
		confirmed string
	}{
		{name: "all consistent", edit: func(*invoice.ExtractedData) {}, valid: true, confirmed: "invoice.amounts.total"},
		{name: "total off", edit: func(d *invoice.ExtractedData) { d.Invoice.Amounts.Total = f(120) }, field: "invoice.amounts.total", severity: invoice.SeverityError},
		{name: "within a cent", edit: func(d *invoice.ExtractedData) { d.Invoice.Amounts.Total = f(119.01) }, valid: true},
		{name: "lines do not add up", edit: func(d *invoice.ExtractedData) { d.LineItems[1].Amount = f(40); d.LineItems[1].UnitPrice = f(40) }, valid: true, field: "lineItems", severity: invoice.SeverityWarning},
		{name: "lines less an allowance plus a charge", edit: func(d *invoice.ExtractedData) {
			d.LineItems[1].Amount, d.LineItems[1].UnitPrice = f(60), f(60)
			d.Invoice.Allowances = []invoice.Allowance{{Amount: f(12), Reason: "Discount"}, {Charge: true, Amount: f(2), Reason: "Freight"}}
		}, valid: true, confirmed: "invoice.amounts.total"},
		{name: "lines and allowances do not add up", edit: func(d *invoice.ExtractedData) {
			d.Invoice.Allowances = []invoice.Allowance{{Amount: f(12), Reason: "Discount"}}
		}, valid: true, field: "lineItems", severity: invoice.SeverityWarning},
		{name: "qty times price", edit: func(d *invoice.ExtractedData) { d.LineItems[0].Quantity = f(3) }, valid: true, field: "lineItems[0].amount", severity: invoice.SeverityWarning},
		{name: "due before date", edit: func(d *invoice.ExtractedData) { d.Invoice.DueDate = "2023-12-01" }, field: "invoice.dueDate", severity: invoice.SeverityError},
		{name: "implausible date", edit: func(d *invoice.ExtractedData) { d.Invoice.Date = "1970-01-01"; d.Invoice.DueDate = "" }, valid: true, field: "invoice.date", severity: invoice.SeverityWarning},
		{name: "malformed date", edit: func(d *invoice.ExtractedData) { d.Invoice.Date = "10.01.2024" }, field: "invoice.date", severity: invoice.SeverityError},
		{name: "currency", edit: func(d *invoice.ExtractedData) { d.Invoice.Amounts.Currency = "EURO" }, field: "invoice.amounts.currency", severity: invoice.SeverityError},
		{name: "tax id checksum", edit: func(d *invoice.ExtractedData) { d.Invoice.Supplier.TaxID = "DE123456789" }, field: "invoice.supplier.taxId", severity: invoice.SeverityError},
		{name: "amount due after commission", edit: func(d *invoice.ExtractedData) {
			d.Invoice.Amounts.Discount = f(17.85)
			d.Invoice.AmountDue = f(101.15)
		}, valid: true, confirmed: "invoice.amountDue"},
		{name: "amount due off", edit: func(d *invoice.ExtractedData) {
			d.Invoice.Amounts.Discount = f(17.85)
			d.Invoice.AmountDue = f(100)
		}, field: "invoice.amountDue", severity: invoice.SeverityError},
		{name: "amount due without deduction", edit: func(d *invoice.ExtractedData) { d.Invoice.AmountDue = f(100) }, valid: true, field: "invoice.amountDue", severity: invoice.SeverityWarning},
		{name: "breakdown sums", edit: func(d *invoice.ExtractedData) {
			d.Invoice.Amounts = invoice.Amounts{Subtotal: f(300), Tax: f(33), Total: f(333), Currency: "EUR"}
			d.LineItems = nil
			d.Invoice.TaxBreakdown = []invoice.TaxRate{{Rate: f(19), Base: f(100), Amount: f(19)}, {Rate: f(7), Base: f(200), Amount: f(14)}}
		}, valid: true, confirmed: "invoice.taxBreakdown"},
		{name: "breakdown does not add up", edit: func(d *invoice.ExtractedData) {
			d.Invoice.TaxBreakdown = []invoice.TaxRate{{Rate: f(19), Base: f(50), Amount: f(9.5)}, {Rate: f(7), Base: f(40), Amount: f(2.8)}}
		}, valid: true, field: "invoice.taxBreakdown", severity: invoice.SeverityWarning},
		{name: "breakdown rate", edit: func(d *invoice.ExtractedData) {
			d.Invoice.TaxBreakdown = []invoice.TaxRate{{Rate: f(7), Base: f(100), Amount: f(19)}}
		}, valid: true, field: "invoice.taxBreakdown[0].amount", severity: invoice.SeverityWarning},
		{name: "iban", edit: func(d *invoice.ExtractedData) { d.Invoice.Payment.IBAN = "DE89 3704 0044 0532 0130 00" }, valid: true, confirmed: "invoice.payment.iban"},
		{name: "iban checksum", edit: func(d *invoice.ExtractedData) { d.Invoice.Payment.IBAN = "DE89 3704 0044 0532 0130 01" }, field: "invoice.payment.iban", severity: invoice.SeverityError},
		{name: "bic", edit: func(d *invoice.ExtractedData) { d.Invoice.Payment.BIC = "COBA1DEFF" }, valid: true, field: "invoice.payment.bic", severity: invoice.SeverityWarning},
		{name: "customer tax id", edit: func(d *invoice.ExtractedData) { d.Invoice.Customer.TaxID = "DE123456789" }, field: "invoice.customer.taxId", severity: invoice.SeverityError},
		{name: "customer tax id is the supplier's", edit: func(d *invoice.ExtractedData) { d.Invoice.Customer.TaxID = "DE 136 695 976" }, valid: true, field: "invoice.customer.taxId", severity: invoice.SeverityWarning},
		{name: "service period backwards", edit: func(d *invoice.ExtractedData) {
			d.Invoice.ServicePeriod = invoice.Period{From: "2024-02-01", To: "2024-01-01"}
		}, field: "invoice.servicePeriod", severity: invoice.SeverityError},
		{name: "document type", edit: func(d *invoice.ExtractedData) { d.Invoice.DocumentType = "memo" }, field: "invoice.documentType", severity: invoice.SeverityError},
		{name: "required field", edit: func(d *invoice.ExtractedData) { d.Invoice.Number = "" },
			spec: &invoice.TemplateSpec{Options: invoice.TemplateOptions{RequiredFields: []string{"invoice_number", "amount"}}}, field: "invoice.number", severity: invoice.SeverityError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := good()
			c.edit(&d)
			r := Check(d, c.spec, now)
			if r.Results.IsValid != c.valid {
				t.Errorf("IsValid = %v, want %v (%+v)", r.Results.IsValid, c.valid, r.Results.Errors)
			}
			if c.field == "" && len(r.Results.Errors) > 0 {
				t.Errorf("unexpected findings %+v", r.Results.Errors)
			}
			if c.field != "" {
				found := false
				for _, e := range r.Results.Errors {
					if e.Field == c.field && e.Severity == c.severity {
						found = true
					}
				}
				if !found {
					t.Errorf("no %s finding on %s in %+v", c.severity, c.field, r.Results.Errors)
				}
			}
			if c.confirmed != "" && !r.Confirmed[c.confirmed] {
				t.Errorf("%s not confirmed: %v", c.confirmed, r.Confirmed)
			}
		})
	}
}

func TestValidateEmpty(t *testing.T) {
	r := Validate(invoice.ExtractedData{}, nil)
	if !r.IsValid || r.Errors == nil || len(r.Errors) != 0 {
		t.Errorf("empty data: %+v", r)
	}
}

func TestIsCurrency(t *testing.T) {
	for code, want := range map[string]bool{"EUR": true, "USD": true, "MYR": true, "INR": true, "EURO": false, "eur": false, "XYZ": false} {
		if IsCurrency(code) != want {
			t.Errorf("IsCurrency(%q) = %v", code, !want)
		}
	}
}

func TestCheckIBAN(t *testing.T) {
	for s, want := range map[string]bool{
		"DE89 3704 0044 0532 0130 00":       true,
		"GB82 WEST 1234 5698 7654 32":       true,
		"FR14 2004 1010 0505 0001 3M02 606": true,
		"NL91ABNA0417164300":                true,
		"DE89 3704 0044 0532 0130 01":       false, // check digits
		"DE89 3704 0044 0532 0130":          false, // German IBANs have 22 characters
		"DE8A 3704 0044 0532 0130 00":       false,
		"":                                  false,
	} {
		if got := CheckIBAN(s); got != want {
			t.Errorf("CheckIBAN(%q) = %v, want %v", s, got, want)
		}
	}
	for s, want := range map[string]bool{"COBADEFFXXX": true, "DEUTDEFF": true, "COBA1DEFF": false, "DEUTDE": false} {
		if got := CheckBIC(s); got != want {
			t.Errorf("CheckBIC(%q) = %v, want %v", s, got, want)
		}
	}
}
