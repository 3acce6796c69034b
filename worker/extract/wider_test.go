package extract

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

func extractText(t *testing.T, text string) Result {
	t.Helper()
	res, err := Extract(FromText(text), Options{Now: time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func extractFile(t *testing.T, name string) Result {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	return extractText(t, string(b))
}

func num(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestWiderFields states, field by field, what the synthetic invoices of the wider field
// set must give: agency commission (gross, commission, net due), three VAT rates, a credit
// note printed positive, a prepayment, payment details, references, service periods and
// contacts, in US and European number formats.
func TestWiderFields(t *testing.T) {
	type want map[string]any
	cases := []struct {
		file string
		want want
	}{
		{"agency_us.txt", want{
			"total": 28000.0, "discount": 4200.0, "amountDue": 23800.0, "subtotal": 28000.0, "tax": nil,
			"documentType": "invoice", "servicePeriod": "2024-10-01..2024-10-27",
			"references": "contract:C-88213", "terms": "Net 30", "dueDays": 30,
			"email": "billing@wkrp-tv.example.com", "phone": "(513) 555-0142", "website": "www.wkrp-tv.example.com",
		}},
		{"three_rates_de.txt", want{
			"total": 1111.0, "subtotal": 1000.0, "tax": 111.0, "amountDue": 1111.0, "discount": nil,
			"breakdown":     "19:400:76 7:500:35 0:100:0",
			"servicePeriod": "2024-11-01..2024-11-14", "purchaseOrder": "PO-55190",
			"references": "order:PO-55190 deliveryNote:LS-77812 customerNumber:40117",
			"iban":       "DE89370400440532013000", "bic": "COBADEFFXXX", "dueDays": 14,
			"customerTaxId": "DE811907980", "supplierTaxId": "DE136695976",
			"email": "info@feinkost-brandt.example.de", "phone": "+49 40 1234567",
		}},
		{"credit_note_positive_fr.txt", want{
			"documentType": "creditNote", "subtotal": 120.0, "tax": 24.0, "total": 144.0, "amountDue": 144.0,
			"customerTaxId": "FR83404833048", "supplierTaxId": "FR40303265045",
		}},
		{"credit_note_multipage.txt", want{"documentType": "creditNote", "total": -301.29}},
		{"prepaid_en.txt", want{
			"subtotal": 2400.0, "tax": 480.0, "total": 2880.0, "discount": 1000.0, "amountDue": 1880.0,
			"purchaseOrder": "RC-4410", "references": "order:RC-4410 deliveryNote:DN-3302",
			"servicePeriod": "2024-02-09..2024-02-09",
			"iban":          "GB82WEST12345698765432", "bic": "WESTGB2L", "dueDays": 30,
			"phone": "+44 117 496 0321", "website": "harbourjoinery.example.co.uk",
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			res := extractFile(t, c.file)
			inv := res.Data.Invoice
			var bd, refs []string
			for _, r := range inv.TaxBreakdown {
				b, _ := json.Marshal([]any{num(r.Rate), num(r.Base), num(r.Amount)})
				bd = append(bd, strings.ReplaceAll(strings.Trim(string(b), "[]"), ",", ":"))
			}
			for _, r := range inv.References {
				refs = append(refs, r.Kind+":"+r.Value)
			}
			var dueDays any
			if inv.Payment.DueDays != nil {
				dueDays = *inv.Payment.DueDays
			}
			got := want{
				"total": num(inv.Amounts.Total), "subtotal": num(inv.Amounts.Subtotal), "tax": num(inv.Amounts.Tax),
				"discount": num(inv.Amounts.Discount), "amountDue": num(inv.AmountDue),
				"documentType": inv.DocumentType, "breakdown": strings.Join(bd, " "),
				"servicePeriod": inv.ServicePeriod.From + ".." + inv.ServicePeriod.To,
				"purchaseOrder": inv.PurchaseOrder, "references": strings.Join(refs, " "),
				"iban": inv.Payment.IBAN, "bic": inv.Payment.BIC, "terms": inv.Payment.Terms, "dueDays": dueDays,
				"customerTaxId": inv.Customer.TaxID, "supplierTaxId": inv.Supplier.TaxID,
				"email": inv.Supplier.Email, "phone": inv.Supplier.Phone, "website": inv.Supplier.Website,
			}
			for k, w := range c.want {
				if g := got[k]; g != w {
					t.Errorf("%s = %#v, want %#v", k, g, w)
				}
			}
			if !res.Validation.IsValid {
				t.Errorf("validation: %+v", res.Validation.Errors)
			}
		})
	}
}

func TestDocumentType(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"pro forma", "Acme Ltd\n\nPRO FORMA INVOICE\nNo. PF-12\nTotal   100.00\n", invoice.DocProforma},
		{"debit note", "Acme Ltd\n\nDebit Note No. DN-4\nAmount due   20.00\n", invoice.DocDebitNote},
		{"credit note title with number", "Acme GmbH\n\nGutschrift Nr. 4711\nDatum: 01.02.2024\nGesamtbetrag   119,00 €\n", invoice.DocCreditNote},
		{"self-billed Gutschrift is an invoice", "Acme GmbH\n\nGutschrift (Selbst ausgestellte Rechnung) Nr. 4711\nGesamtbetrag   119,00 €\n", invoice.DocInvoice},
		{"invoice with id after the title", "Acme SARL\n\nFacture FA-2017-0010\nTotal TTC   120,00 €\n", invoice.DocInvoice},
		{"invoice by its number label", "Acme GmbH\n                 Rechnungsnummer:  R-1\nGesamtbetrag   119,00 €\n", invoice.DocInvoice},
		{"a credit note mentioned in the text is not the title", "Acme Ltd\n\nINVOICE\nInvoice No: 5\nPlease refer to credit note CN-2 issued last month for the previous refund of goods.\nTotal   10.00\n", invoice.DocInvoice},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := extractText(t, c.text).Data.Invoice.DocumentType; got != c.want {
				t.Errorf("documentType = %q, want %q", got, c.want)
			}
		})
	}
}

func TestBreakdownNumberFormats(t *testing.T) {
	us := `Acme Inc.
Invoice No: 77

Subtotal                                 $1,300.00
Tax 8.25% on $1,000.00                      $82.50
Tax 5.5% on $300.00                         $16.50
Total                                    $1,399.00
`
	eu := `Acme GmbH
Rechnung Nr. 77

Nettobetrag                               1.300,00 €
MwSt. 19 % von 1.000,00 €                   190,00 €
MwSt. 7 % von 300,00 €                       21,00 €
Gesamtbetrag                              1.511,00 €
`
	for name, c := range map[string]struct {
		text                 string
		subtotal, tax, total float64
		rates                []float64
	}{"us": {us, 1300, 99, 1399, []float64{8.25, 5.5}}, "eu": {eu, 1300, 211, 1511, []float64{19, 7}}} {
		t.Run(name, func(t *testing.T) {
			inv := extractText(t, c.text).Data.Invoice
			if num(inv.Amounts.Subtotal) != c.subtotal || num(inv.Amounts.Tax) != c.tax || num(inv.Amounts.Total) != c.total {
				t.Errorf("amounts %v %v %v, want %v %v %v", num(inv.Amounts.Subtotal), num(inv.Amounts.Tax), num(inv.Amounts.Total), c.subtotal, c.tax, c.total)
			}
			if len(inv.TaxBreakdown) != len(c.rates) {
				t.Fatalf("breakdown %+v, want rates %v", inv.TaxBreakdown, c.rates)
			}
			for i, r := range c.rates {
				if *inv.TaxBreakdown[i].Rate != r {
					t.Errorf("rate %d = %v, want %v", i, *inv.TaxBreakdown[i].Rate, r)
				}
			}
		})
	}
}

// TestUnsatisfiedArithmetic: printed amounts that cannot be made to agree are reported
// in the validation results, and the amounts' confidence is lowered.
func TestUnsatisfiedArithmetic(t *testing.T) {
	// No choice of the printed subtotal, tax and total adds up, and the subtotal is
	// larger than the total, so only total and tax are kept.
	bad := `Acme Ltd
Invoice No: 9

Subtotal          300.00
VAT                 7.00
Total             250.00
`
	good := strings.Replace(bad, "300.00", "243.00", 1)
	rb, rg := extractText(t, bad), extractText(t, good)
	found := false
	for _, e := range rb.Validation.Errors {
		// The finding names the printed candidates, with their labels.
		if e.Field == "invoice.amounts" && strings.Contains(e.Message, `300.00 ("Subtotal"`) && strings.Contains(e.Message, `250.00 ("Total"`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no finding on the amounts: %+v", rb.Validation.Errors)
	}
	if len(rg.Validation.Errors) != 0 {
		t.Errorf("consistent amounts gave findings: %+v", rg.Validation.Errors)
	}
	if cb, cg := rb.Confidence.Fields["invoice.amounts.total"], rg.Confidence.Fields["invoice.amounts.total"]; cb >= cg {
		t.Errorf("total confidence %.3f when nothing adds up, %.3f when it does", cb, cg)
	}
}

func TestBracketedCurrencyAmount(t *testing.T) {
	as := findAmounts("Less Agency Commission   ($4,200.00)", '.')
	if len(as) != 1 || as[0].Value != -4200 {
		t.Fatalf("findAmounts = %+v, want one amount -4200", as)
	}
}

func TestIBANWithBadChecksumIsNotRead(t *testing.T) {
	inv := extractText(t, "Acme GmbH\nRechnung Nr. 1\nIBAN: DE89 3704 0044 0532 0130 01\nGesamtbetrag 10,00 €\n").Data.Invoice
	if inv.Payment.IBAN != "" {
		t.Errorf("IBAN %q read although its checksum fails", inv.Payment.IBAN)
	}
}

// TestNetIsNotDue: the net amount and the tax of an ordinary invoice are not an amount
// due and a deduction, although net + tax = total.
func TestNetIsNotDue(t *testing.T) {
	for _, text := range []string{
		"Acme Ltd\nInvoice No: 3\n\nNet amount        100.00\nVAT 19%            19.00\nTotal             119.00\n",
		"Acme Ltd\nInvoice No: 3\n\nNet               100.00\nVAT                19.00\nGross             119.00\n",
	} {
		inv := extractText(t, text).Data.Invoice
		if num(inv.Amounts.Total) != 119.0 || num(inv.AmountDue) != 119.0 || inv.Amounts.Discount != nil {
			t.Errorf("total %v, due %v, discount %v; want 119, 119, none\n%s", num(inv.Amounts.Total), num(inv.AmountDue), num(inv.Amounts.Discount), text)
		}
	}
}

// TestBreakdownIgnoresNumberDumps: a row of thousands of amounts next to a rate is not
// paired amount by amount (that would cost their square, and find chance pairs).
func TestBreakdownIgnoresNumberDumps(t *testing.T) {
	var b strings.Builder
	b.WriteString("19 %")
	for i := 1; i <= 10_000; i++ {
		fmt.Fprintf(&b, "  %d.00", i)
	}
	d := buildDoc(FromText("Acme Ltd\n" + b.String() + "\n"))
	if rows := d.findTaxBreakdown(); len(rows) != 0 {
		t.Errorf("breakdown %+v from a row of 10,000 amounts", rows)
	}
	if _, err := Extract(FromText("Acme Ltd\n"+b.String()+"\n"), Options{}); err != nil {
		t.Fatal(err)
	}
}

// TestTemplateTotalResetsDue: a template that reads another total than the generic
// rules leaves no stale deduction behind; what is due is the template's total.
func TestTemplateTotalResetsDue(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "golden", "agency_us.txt"))
	if err != nil {
		t.Fatal(err)
	}
	spec := &invoice.TemplateSpec{Keywords: []string{"WKRP"}, Fields: map[string]invoice.FieldRule{
		"amount": {Regex: []string{`Net Amount Due\s+\$([\d,]+\.\d\d)`}, Type: "float"},
	}}
	res, err := Extract(FromText(string(b)), Options{Spec: spec, Now: time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	inv := res.Data.Invoice
	if res.Template == "" || num(inv.Amounts.Total) != 23800.0 || num(inv.AmountDue) != 23800.0 || inv.Amounts.Discount != nil {
		t.Errorf("template %q: total %v, due %v, discount %v; want 23800, 23800, none", res.Template, num(inv.Amounts.Total), num(inv.AmountDue), num(inv.Amounts.Discount))
	}
	for _, e := range res.Validation.Errors {
		if e.Field == "invoice.amountDue" {
			t.Errorf("finding %+v", e)
		}
	}
}
