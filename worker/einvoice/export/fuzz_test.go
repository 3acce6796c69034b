package export

import (
	"errors"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// FuzzWrite writes invoices with arbitrary text and numbers: Write never panics, an
// error is a *MissingError or says "write e-invoice:", and the XML it returns is
// well-formed and carries the invoice number and seller name as cleaned.
func FuzzWrite(f *testing.F) {
	f.Add("RE-1", "Lieferant GmbH", "Straße 1, 80333 München", "Item", "DE", 2.0, 9.9, 19.8, 19.0, "S", true)
	f.Add("A&B<]]>", "\x00<x>", ", , ,", "", "", 0.0, 0.0, 0.0, 0.0, "", false)
	f.Add("\xff\ufffe", "é", "1 2 3, 4", "\t", "zz", -1.5, 3.0, -4.5, 0.0, "Z", true)
	f.Fuzz(func(t *testing.T, number, name, address, desc, country string, qty, price, amount, rate float64, category string, ubl bool) {
		data := minimalInvoice()
		data.Invoice.Number = number
		data.Invoice.Supplier.Name = name
		data.Invoice.Supplier.Address = address
		data.Invoice.Customer.Country = country
		data.Invoice.TaxBreakdown[0].Category = category
		data.LineItems = []invoice.LineItem{
			{Description: desc, Quantity: &qty, UnitPrice: &price, TaxRate: &rate},
			{Description: desc, Amount: &amount},
		}
		// An allowance (a charge for UBL) of the fuzzed numbers, text and category.
		data.Invoice.Allowances = []invoice.Allowance{{Charge: ubl, Amount: &amount, Percent: &rate, Base: &price, Rate: &rate, Category: category, Reason: desc}}
		syntax := CII
		if ubl {
			syntax = UBL
		}
		out, err := Write(data, syntax)
		if err != nil {
			var me *MissingError
			if !errors.As(err, &me) && !strings.HasPrefix(err.Error(), "write e-invoice: ") {
				t.Fatalf("error without the package's prefix: %v", err)
			}
			if out != nil {
				t.Fatal("XML returned with an error")
			}
			return
		}
		got := summarise(t, out, syntax)
		if got.Number != cleanText(number) || got.Seller != cleanText(name) {
			t.Errorf("read back number %q, seller %q; want %q, %q", got.Number, got.Seller, cleanText(number), cleanText(name))
		}
	})
}
