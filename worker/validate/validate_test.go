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
		{name: "qty times price", edit: func(d *invoice.ExtractedData) { d.LineItems[0].Quantity = f(3) }, valid: true, field: "lineItems[0].amount", severity: invoice.SeverityWarning},
		{name: "due before date", edit: func(d *invoice.ExtractedData) { d.Invoice.DueDate = "2023-12-01" }, field: "invoice.dueDate", severity: invoice.SeverityError},
		{name: "implausible date", edit: func(d *invoice.ExtractedData) { d.Invoice.Date = "1970-01-01"; d.Invoice.DueDate = "" }, valid: true, field: "invoice.date", severity: invoice.SeverityWarning},
		{name: "malformed date", edit: func(d *invoice.ExtractedData) { d.Invoice.Date = "10.01.2024" }, field: "invoice.date", severity: invoice.SeverityError},
		{name: "currency", edit: func(d *invoice.ExtractedData) { d.Invoice.Amounts.Currency = "EURO" }, field: "invoice.amounts.currency", severity: invoice.SeverityError},
		{name: "tax id checksum", edit: func(d *invoice.ExtractedData) { d.Invoice.Supplier.TaxID = "DE123456789" }, field: "invoice.supplier.taxId", severity: invoice.SeverityError},
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
