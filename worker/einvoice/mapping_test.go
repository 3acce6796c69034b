package einvoice

import (
	"encoding/xml"
	"reflect"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// fullWant is what testdata/full.{cii,ubl}.xml say: every business term the reader maps.
func fullWant() invoice.ExtractedData {
	f := invoice.Float
	return invoice.ExtractedData{
		Invoice: invoice.Invoice{
			Number:  "INV-2024-0042",
			Date:    "2024-01-31",
			DueDate: "2024-03-01",
			Supplier: invoice.Supplier{
				Name:    "Muster Consulting", // trade name: there is no legal name
				Address: "Hinterhaus, Chausseestraße 12, 3. OG, 10115 Berlin, Berlin-Mitte",
				Country: "DE",
				TaxID:   "27/123/45678", // tax number: there is no VAT id
				Email:   "billing@muster.example",
				Phone:   "+49 30 1234567",
			},
			Customer: invoice.Customer{
				Name:    "Acme Ltd",
				Address: "1 Parliament Street, SW1A 1AA London",
				Country: "GB",
				TaxID:   "GB123456789",
			},
			Amounts: invoice.Amounts{
				Subtotal: f(950), Tax: f(190), Total: f(1140), Currency: "EUR", Discount: f(140),
			},
			DocumentType: invoice.DocInvoice,
			AmountDue:    f(1000),
			TaxBreakdown: []invoice.TaxRate{
				{Rate: f(19), Base: f(1000), Amount: f(190), Category: "S"},
				{Rate: f(0), Base: f(-50), Amount: f(0), Category: "E", ExemptionReason: "Exempt under section 4"},
			},
			ServicePeriod: invoice.Period{From: "2024-01-01", To: "2024-01-31"},
			PurchaseOrder: "PO-7781",
			References: []invoice.Reference{
				{Kind: invoice.RefContract, Value: "C-2023-17"},
				{Kind: invoice.RefDeliveryNote, Value: "DA-55"},
				{Kind: invoice.RefOther, Value: "04011000-12345-34"},
				{Kind: invoice.RefOther, Value: "INV-2024-0041"},
				{Kind: invoice.RefOther, Value: "PRJ-9"},
			},
			Payment: invoice.Payment{IBAN: "DE02120300000000202051", BIC: "BYLADEM1001", Terms: "Net 30 days"},
			Allowances: []invoice.Allowance{
				{Amount: f(15), Base: f(1000), Percent: f(1.5), Reason: "Loyalty discount", ReasonCode: "95", Category: "S", Rate: f(19)},
				{Charge: true, Amount: f(15), ReasonCode: "FC", Category: "S", Rate: f(19)},
			},
		},
		LineItems: []invoice.LineItem{
			{Description: "Consulting & design", Quantity: f(8), UnitPrice: f(125), Amount: f(1000), TaxRate: f(19), UnitCode: "HUR"},
			{Description: "Export crate", Quantity: f(1), UnitPrice: f(-50), Amount: f(-50), TaxRate: f(0), UnitCode: "C62"},
		},
	}
}

// TestFullMapping checks every mapped business term against the hand-made full sample,
// in both syntaxes.
func TestFullMapping(t *testing.T) {
	for _, tc := range []struct{ file, syntax string }{
		{"testdata/full.cii.xml", "cii"},
		{"testdata/full.ubl.xml", "ubl"},
	} {
		t.Run(tc.syntax, func(t *testing.T) {
			doc := parseFile(t, tc.file)
			if !reflect.DeepEqual(doc.Data, fullWant()) {
				diffValue(t, "data", reflect.ValueOf(doc.Data), reflect.ValueOf(fullWant()))
			}
			wantInfo := invoice.EInvoiceInfo{Syntax: tc.syntax, Profile: "urn:cen.eu:en16931:2017"}
			if doc.Info != wantInfo || doc.TypeCode != "384" {
				t.Errorf("info %+v, type code %q; want %+v, 384", doc.Info, doc.TypeCode, wantInfo)
			}
		})
	}
}

// TestFullCreditNote reads the full sample as a UBL CreditNote: the same data, a credit
// note, its due date from the payment means and its project from a document reference.
func TestFullCreditNote(t *testing.T) {
	doc := parseFile(t, "testdata/full-creditnote.ubl.xml")
	want := fullWant()
	want.Invoice.DocumentType = invoice.DocCreditNote
	if !reflect.DeepEqual(doc.Data, want) {
		diffValue(t, "data", reflect.ValueOf(doc.Data), reflect.ValueOf(want))
	}
	if doc.TypeCode != "381" {
		t.Errorf("type code %q, want 381", doc.TypeCode)
	}
}

// TestTaxBreakdownInInvoiceCurrency: a UBL tax total in the tax accounting currency does
// not add rows to the breakdown, whatever it carries.
func TestTaxBreakdownInInvoiceCurrency(t *testing.T) {
	data := replaceOnce(t, readTestdata(t, "full.ubl.xml"), `<cbc:TaxAmount currencyID="GBP">162.45</cbc:TaxAmount>`,
		`<cbc:TaxAmount currencyID="GBP">162.45</cbc:TaxAmount><cac:TaxSubtotal><cbc:TaxableAmount currencyID="GBP">855</cbc:TaxableAmount>`+
			`<cbc:TaxAmount currencyID="GBP">162.45</cbc:TaxAmount><cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent></cac:TaxCategory></cac:TaxSubtotal>`)
	doc, err := Parse(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := doc.Data.Invoice.TaxBreakdown, fullWant().Invoice.TaxBreakdown; !reflect.DeepEqual(got, want) {
		t.Errorf("breakdown %d rows, want the %d in EUR", len(got), len(want))
	}
	if tax := doc.Data.Invoice.Amounts.Tax; tax == nil || *tax != 190 {
		t.Errorf("tax %v, want 190 (EUR)", tax)
	}
}

func TestDocumentType(t *testing.T) {
	for _, tc := range []struct {
		code   string
		credit bool
		want   string
	}{
		{"380", false, invoice.DocInvoice},
		{"384", false, invoice.DocInvoice},
		{"389", false, invoice.DocInvoice},
		{"386", false, invoice.DocInvoice},
		{"393", false, invoice.DocInvoice},
		{"575", false, invoice.DocInvoice},
		{"381", false, invoice.DocCreditNote},
		{"261", false, invoice.DocCreditNote},
		{"262", false, invoice.DocCreditNote},
		{"296", false, invoice.DocCreditNote},
		{"308", false, invoice.DocCreditNote},
		{"532", false, invoice.DocCreditNote},
		{"383", false, invoice.DocDebitNote},
		{"325", false, invoice.DocProforma},
		{"380", true, invoice.DocCreditNote}, // a UBL CreditNote is a credit note whatever its code
		{"999", false, ""},
		{"", false, ""},
	} {
		if got := documentType(tc.code, tc.credit); got != tc.want {
			t.Errorf("documentType(%q, %v) = %q, want %q", tc.code, tc.credit, got, tc.want)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"12.50", 12.5, true}, {"-3", -3, true}, {"+0.5", 0.5, true}, {".5", 0.5, true}, {"7.", 7, true},
		{"12,50", 0, false}, {"1e3", 0, false}, {"NaN", 0, false}, {"Inf", 0, false}, {"0x10", 0, false},
		{"1_000", 0, false}, {"1.2.3", 0, false}, {"-", 0, false}, {".", 0, false}, {"1-", 0, false}, {"EUR 5", 0, false},
	} {
		got, ok := parseDecimal(tc.in)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseDecimal(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestDates(t *testing.T) {
	var v values
	for _, tc := range []struct {
		text, format, want string
	}{
		{"20240229", "102", "2024-02-29"},
		{"20240131", "", "2024-01-31"},
		{"2013-03-01T00:00:00", "", "2013-03-01"},
	} {
		n := &node{local: "DateTimeString", text: tc.text}
		if tc.format != "" {
			n.attrs = attrs("format", tc.format)
		}
		if got := v.ciiDate(&node{local: "IssueDateTime", kids: []*node{n}}); got != tc.want || v.err != nil {
			t.Errorf("ciiDate(%q, %q) = %q, %v; want %q", tc.text, tc.format, got, v.err, tc.want)
		}
	}
	for _, bad := range []struct{ text, format string }{{"20240230", "102"}, {"202401", "610"}, {"31.01.2024", ""}} {
		v := values{}
		n := &node{local: "DateTimeString", text: bad.text, attrs: attrs("format", bad.format)}
		if got := v.ciiDate(&node{local: "IssueDateTime", kids: []*node{n}}); got != "" || v.err == nil {
			t.Errorf("ciiDate(%q, %q) = %q, %v; want an error", bad.text, bad.format, got, v.err)
		}
	}
	for in, want := range map[string]string{"2024-01-31": "2024-01-31", "2024-01-31Z": "2024-01-31", "2024-01-31+01:00": "2024-01-31"} {
		v := values{}
		if got := v.ublDate(&node{local: "IssueDate", text: in}); got != want || v.err != nil {
			t.Errorf("ublDate(%q) = %q, %v; want %q", in, got, v.err, want)
		}
	}
	for _, in := range []string{"20240131", "2024-02-30", "2024-01-31 x", "31.01.2024"} {
		v := values{}
		if got := v.ublDate(&node{local: "IssueDate", text: in}); got != "" || v.err == nil {
			t.Errorf("ublDate(%q) = %q, %v; want an error", in, got, v.err)
		}
	}
}

// attrs builds attributes from name, value pairs.
func attrs(kv ...string) []xml.Attr {
	var out []xml.Attr
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, xml.Attr{Name: xml.Name{Local: kv[i]}, Value: kv[i+1]})
	}
	return out
}

// TestZUGFeRD1Allowances reads ZUGFeRD 1.0's document-level allowances and its logistics
// service charge, which is a charge (BG-21) with its description as the reason.
func TestZUGFeRD1Allowances(t *testing.T) {
	const doc = `<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12"
  xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15">
  <rsm:SpecifiedSupplyChainTradeTransaction>
    <ram:ApplicableSupplyChainTradeSettlement>
      <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
      <ram:SpecifiedTradeAllowanceCharge>
        <ram:ChargeIndicator><udt:Indicator>false</udt:Indicator></ram:ChargeIndicator>
        <ram:BasisAmount currencyID="EUR">137.30</ram:BasisAmount>
        <ram:ActualAmount currencyID="EUR">13.73</ram:ActualAmount>
        <ram:Reason>Sondernachlass</ram:Reason>
        <ram:CategoryTradeTax>
          <ram:TypeCode>VAT</ram:TypeCode>
          <ram:CategoryCode>S</ram:CategoryCode>
          <ram:ApplicablePercent>7.00</ram:ApplicablePercent>
        </ram:CategoryTradeTax>
      </ram:SpecifiedTradeAllowanceCharge>
      <ram:SpecifiedLogisticsServiceCharge>
        <ram:Description>Versandkosten</ram:Description>
        <ram:AppliedAmount currencyID="EUR">5.80</ram:AppliedAmount>
        <ram:AppliedTradeTax>
          <ram:TypeCode>VAT</ram:TypeCode>
          <ram:CategoryCode>S</ram:CategoryCode>
          <ram:ApplicablePercent>7.00</ram:ApplicablePercent>
        </ram:AppliedTradeTax>
      </ram:SpecifiedLogisticsServiceCharge>
    </ram:ApplicableSupplyChainTradeSettlement>
  </rsm:SpecifiedSupplyChainTradeTransaction>
</rsm:CrossIndustryDocument>`
	d, err := Parse([]byte(doc), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	f := invoice.Float
	want := []invoice.Allowance{
		{Amount: f(13.73), Base: f(137.30), Reason: "Sondernachlass", Category: "S", Rate: f(7)},
		{Charge: true, Amount: f(5.80), Reason: "Versandkosten", Category: "S", Rate: f(7)},
	}
	if got := d.Data.Invoice.Allowances; !reflect.DeepEqual(got, want) {
		diffValue(t, "allowances", reflect.ValueOf(got), reflect.ValueOf(want))
	}
}
