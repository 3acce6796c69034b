package export

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/einvoice"
)

var f = invoice.Float

// fullInvoice has every field the writer maps, two VAT rates, and a prepayment.
func fullInvoice() invoice.ExtractedData {
	days := 30
	return invoice.ExtractedData{
		Invoice: invoice.Invoice{
			Number: "RE-2024/001", Date: "2024-03-05", DueDate: "2024-04-04",
			DocumentType: invoice.DocInvoice,
			Supplier: invoice.Supplier{
				Name: "Lieferant GmbH", Address: "Lieferantenstraße 20, Hinterhaus, 3. OG, Zimmer 4, 80333 München, Bayern",
				Country: "DE", TaxID: "DE123456789", Email: "rechnung@lieferant.example", Phone: "+49 89 123456",
				Website: "https://lieferant.example",
			},
			Customer: invoice.Customer{Name: "Kunden AG", Address: "Kundenstraße 15, 69876 Frankfurt", TaxID: "DE987654321"},
			Amounts: invoice.Amounts{
				Subtotal: f(473), Tax: f(56.87), Total: f(529.87), Currency: "EUR", Discount: f(100),
			},
			AmountDue: f(429.87),
			TaxBreakdown: []invoice.TaxRate{
				{Rate: f(19), Base: f(198), Amount: f(37.62), Category: "S"},
				{Rate: f(7), Base: f(275), Amount: f(19.25)},
			},
			ServicePeriod: invoice.Period{From: "2024-02-01", To: "2024-02-29"},
			PurchaseOrder: "PO-77",
			References: []invoice.Reference{
				{Kind: invoice.RefContract, Value: "C-1"},
				{Kind: invoice.RefDeliveryNote, Value: "LS-9"},
				{Kind: invoice.RefDeliveryNote, Value: "LS-10"},
				{Kind: invoice.RefCustomerNumber, Value: "K-4711"},
				{Kind: invoice.RefOther, Value: "Kostenstelle 12"},
				{Kind: invoice.RefOther, Value: "skipped"},
			},
			Payment: invoice.Payment{IBAN: "DE02 1203 0000 0000 2020 51", BIC: "BYLADEM1001", Terms: "Zahlbar in 30 Tagen netto", DueDays: &days},
		},
		LineItems: []invoice.LineItem{
			{Description: "Trennblätter A4", Quantity: f(20), UnitPrice: f(9.9), Amount: f(198), TaxRate: f(19), UnitCode: "H87"},
			{Description: "Joghurt Banane", Quantity: f(50), UnitPrice: f(5.5), Amount: f(275), TaxRate: f(7)},
		},
	}
}

// minimalInvoice has only what EN 16931 requires.
func minimalInvoice() invoice.ExtractedData {
	return invoice.ExtractedData{
		Invoice: invoice.Invoice{
			Number: "1", Date: "2024-01-31", DueDate: "2024-02-29",
			Supplier:     invoice.Supplier{Name: "S", Country: "FR", TaxID: "FR12345678901"},
			Customer:     invoice.Customer{Name: "B", Country: "BE"},
			Amounts:      invoice.Amounts{Subtotal: f(100), Tax: f(20), Total: f(120), Currency: "eur"},
			AmountDue:    f(120),
			TaxBreakdown: []invoice.TaxRate{{Rate: f(20), Base: f(100), Amount: f(20)}},
		},
		LineItems: []invoice.LineItem{{Description: "Service", Amount: f(100)}},
	}
}

// summary is what the tests read back from either syntax.
type summary struct {
	Root, Number, TypeCode, IssueDate, Currency string
	Seller, SellerCountry, SellerVAT            string
	Buyer, BuyerCountry                         string
	IBAN                                        string
	Breakdown                                   []string // "category rate base amount"
	LineTotal, TaxBasis, Tax, Total, Due        string
	Prepaid, Allowance, Charge                  string
	Lines                                       []string // "id qty unit price amount category rate name"
}

func summarise(t *testing.T, xmlOut []byte, syntax Syntax) summary {
	t.Helper()
	r := parse(t, xmlOut)
	if syntax == CII {
		tr := "SupplyChainTradeTransaction/"
		s := tr + "ApplicableHeaderTradeSettlement/"
		sum := s + "SpecifiedTradeSettlementHeaderMonetarySummation/"
		seller := tr + "ApplicableHeaderTradeAgreement/SellerTradeParty/"
		buyer := tr + "ApplicableHeaderTradeAgreement/BuyerTradeParty/"
		out := summary{
			Root: r.Name, Number: r.text("ExchangedDocument/ID"), TypeCode: r.text("ExchangedDocument/TypeCode"),
			IssueDate: r.text("ExchangedDocument/IssueDateTime/DateTimeString"), Currency: r.text(s + "InvoiceCurrencyCode"),
			Seller: r.text(seller + "Name"), SellerCountry: r.text(seller + "PostalTradeAddress/CountryID"),
			Buyer: r.text(buyer + "Name"), BuyerCountry: r.text(buyer + "PostalTradeAddress/CountryID"),
			IBAN:      r.text(s + "SpecifiedTradeSettlementPaymentMeans/PayeePartyCreditorFinancialAccount/IBANID"),
			LineTotal: r.text(sum + "LineTotalAmount"), TaxBasis: r.text(sum + "TaxBasisTotalAmount"),
			Tax: r.text(sum + "TaxTotalAmount"), Total: r.text(sum + "GrandTotalAmount"), Due: r.text(sum + "DuePayableAmount"),
			Prepaid: r.text(sum + "TotalPrepaidAmount"), Allowance: r.text(sum + "AllowanceTotalAmount"), Charge: r.text(sum + "ChargeTotalAmount"),
		}
		for _, reg := range r.all(seller + "SpecifiedTaxRegistration/ID") {
			if reg.Attrs["schemeID"] == "VA" {
				out.SellerVAT = strings.TrimSpace(reg.Text)
			}
		}
		for _, tax := range r.all(s + "ApplicableTradeTax") {
			out.Breakdown = append(out.Breakdown, strings.Join([]string{tax.text("CategoryCode"), tax.text("RateApplicablePercent"), tax.text("BasisAmount"), tax.text("CalculatedAmount")}, " "))
		}
		for _, l := range r.all(tr + "IncludedSupplyChainTradeLineItem") {
			q := l.all("SpecifiedLineTradeDelivery/BilledQuantity")[0]
			st := "SpecifiedLineTradeSettlement/"
			out.Lines = append(out.Lines, strings.Join([]string{l.text("AssociatedDocumentLineDocument/LineID"), strings.TrimSpace(q.Text), q.Attrs["unitCode"],
				l.text("SpecifiedLineTradeAgreement/NetPriceProductTradePrice/ChargeAmount"), l.text(st + "SpecifiedTradeSettlementLineMonetarySummation/LineTotalAmount"),
				l.text(st + "ApplicableTradeTax/CategoryCode"), l.text(st + "ApplicableTradeTax/RateApplicablePercent"), l.text("SpecifiedTradeProduct/Name")}, " "))
		}
		return out
	}
	sp, bp, mt := "AccountingSupplierParty/Party/", "AccountingCustomerParty/Party/", "LegalMonetaryTotal/"
	out := summary{
		Root: r.Name, Number: r.text("ID"), TypeCode: r.text("InvoiceTypeCode") + r.text("CreditNoteTypeCode"),
		IssueDate: strings.ReplaceAll(r.text("IssueDate"), "-", ""), Currency: r.text("DocumentCurrencyCode"),
		Seller: r.text(sp + "PartyLegalEntity/RegistrationName"), SellerCountry: r.text(sp + "PostalAddress/Country/IdentificationCode"),
		Buyer: r.text(bp + "PartyLegalEntity/RegistrationName"), BuyerCountry: r.text(bp + "PostalAddress/Country/IdentificationCode"),
		IBAN:      r.text("PaymentMeans/PayeeFinancialAccount/ID"),
		LineTotal: r.text(mt + "LineExtensionAmount"), TaxBasis: r.text(mt + "TaxExclusiveAmount"), Tax: r.text("TaxTotal/TaxAmount"),
		Total: r.text(mt + "TaxInclusiveAmount"), Due: r.text(mt + "PayableAmount"), Prepaid: r.text(mt + "PrepaidAmount"),
		Allowance: r.text(mt + "AllowanceTotalAmount"), Charge: r.text(mt + "ChargeTotalAmount"),
	}
	for _, ts := range r.all(sp + "PartyTaxScheme") {
		if ts.text("TaxScheme/ID") == "VAT" {
			out.SellerVAT = ts.text("CompanyID")
		}
	}
	for _, ts := range r.all("TaxTotal/TaxSubtotal") {
		out.Breakdown = append(out.Breakdown, strings.Join([]string{ts.text("TaxCategory/ID"), ts.text("TaxCategory/Percent"), ts.text("TaxableAmount"), ts.text("TaxAmount")}, " "))
	}
	lines, qty := r.all("InvoiceLine"), "InvoicedQuantity"
	if r.Name == "CreditNote" {
		lines, qty = r.all("CreditNoteLine"), "CreditedQuantity"
	}
	for _, l := range lines {
		q := l.all(qty)[0]
		out.Lines = append(out.Lines, strings.Join([]string{l.text("ID"), strings.TrimSpace(q.Text), q.Attrs["unitCode"],
			l.text("Price/PriceAmount"), l.text("LineExtensionAmount"),
			l.text("Item/ClassifiedTaxCategory/ID"), l.text("Item/ClassifiedTaxCategory/Percent"), l.text("Item/Name")}, " "))
	}
	return out
}

// validCase is an invoice that must be written, validate, and read back as want (the
// CII view; for UBL, Root is replaced by the UBL root).
type validCase struct {
	name    string
	data    invoice.ExtractedData
	want    summary
	ublRoot string
	// knownRules are the EN 16931 rules the output breaks for a reason the model
	// cannot avoid (see sellerIdentifier).
	knownRules []string
}

func validCases() []validCase {
	full := fullInvoice()

	credit := minimalInvoice()
	credit.Invoice.Number, credit.Invoice.DocumentType, credit.Invoice.DueDate = "GS-1", invoice.DocCreditNote, "2024-02-15"

	debit := minimalInvoice()
	debit.Invoice.DocumentType = invoice.DocDebitNote
	proforma := minimalInvoice()
	proforma.Invoice.DocumentType = invoice.DocProforma
	receipt := minimalInvoice()
	receipt.Invoice.DocumentType = invoice.DocReceipt

	several := minimalInvoice()
	several.Invoice.Amounts = invoice.Amounts{Subtotal: f(350), Tax: f(26), Total: f(376), Currency: "CHF"}
	several.Invoice.AmountDue = f(376)
	several.Invoice.TaxBreakdown = []invoice.TaxRate{
		{Rate: f(8.1), Base: f(200), Amount: f(16.2)},
		{Rate: f(2.6), Base: f(100), Amount: f(2.6), Category: "S"},
		{Rate: f(14.4), Base: f(50), Amount: f(7.2)},
	}
	several.LineItems = []invoice.LineItem{
		{Description: "A", Quantity: f(2), UnitPrice: f(100), Amount: f(200), TaxRate: f(8.1)},
		{Description: "B", Quantity: f(4), UnitPrice: f(25), Amount: f(100), TaxRate: f(2.6)},
		{Description: "C", Quantity: f(0.5), UnitPrice: f(100), Amount: f(50), TaxRate: f(14.4)},
	}

	zero := minimalInvoice()
	zero.Invoice.Amounts = invoice.Amounts{Subtotal: f(80), Total: f(80), Currency: "GBP"}
	zero.Invoice.AmountDue = f(80)
	zero.Invoice.TaxBreakdown = []invoice.TaxRate{{Rate: f(0), Base: f(80), Category: "Z"}}
	zero.LineItems = []invoice.LineItem{{Description: "Book", Quantity: f(4), UnitPrice: f(20), TaxRate: f(0)}}

	exempt := minimalInvoice()
	exempt.Invoice.Amounts = invoice.Amounts{Subtotal: f(500), Tax: f(0), Total: f(500), Currency: "EUR"}
	exempt.Invoice.AmountDue = f(500)
	exempt.Invoice.TaxBreakdown = []invoice.TaxRate{{Base: f(500), Amount: f(0), Category: "e", ExemptionReason: "Exempt under Art. 132 VAT Directive"}}
	exempt.LineItems = []invoice.LineItem{{Description: "Medical service", Amount: f(500)}}

	notSubject := minimalInvoice()
	notSubject.Invoice.TaxBreakdown = []invoice.TaxRate{{Base: f(100), Category: "O", ExemptionReason: "Not subject to VAT"}}
	notSubject.Invoice.Supplier.TaxID = "" // BR-O-02: no VAT identifier
	notSubject.Invoice.Amounts = invoice.Amounts{Subtotal: f(100), Total: f(100), Currency: "EUR"}
	notSubject.Invoice.AmountDue = f(100)

	// No breakdown, lines with only an amount or only quantity and price, and a
	// subtotal below the lines' sum: one row and one allowance are derived.
	derived := minimalInvoice()
	derived.Invoice.TaxBreakdown = nil
	derived.Invoice.Amounts = invoice.Amounts{Subtotal: f(0.3), Tax: f(0.06), Total: f(0.36), Currency: "EUR"}
	derived.Invoice.AmountDue = f(0.36)
	derived.LineItems = []invoice.LineItem{
		{Description: "a", Quantity: f(3), UnitPrice: f(0.1), TaxRate: f(19)},
		{Description: "b", Amount: f(0.1), TaxRate: f(19)},
		{Description: "c", Quantity: f(3), Amount: f(0.1), TaxRate: f(19)},
	}
	derivedWant := summary{Root: "CrossIndustryInvoice", Number: "1", TypeCode: "380", IssueDate: "20240131", Currency: "EUR",
		Seller: "S", SellerCountry: "FR", SellerVAT: "FR12345678901", Buyer: "B", BuyerCountry: "BE",
		Breakdown: []string{"S 19.00 0.30 0.06"}, LineTotal: "0.50", TaxBasis: "0.30", Tax: "0.06", Total: "0.36", Due: "0.36", Allowance: "0.20",
		Lines: []string{"1 3 C62 0.10 0.30 S 19.00 a", "2 1 C62 0.10 0.10 S 19.00 b", "3 3 C62 0.0333 0.10 S 19.00 c"}}

	// Only totals: the standard rate that reproduces the tax to the cent is derived,
	// and a subtotal above the lines' sum becomes a charge.
	standard := minimalInvoice()
	standard.Invoice.TaxBreakdown = nil
	standard.Invoice.Amounts = invoice.Amounts{Subtotal: f(123.45), Tax: f(23.46), Total: f(146.91), Currency: "EUR"}
	standard.Invoice.AmountDue = f(146.91)
	standard.LineItems = []invoice.LineItem{{Description: "x", Amount: f(120)}}

	// A discount line: negative amounts become a negative quantity at a positive price.
	discount := minimalInvoice()
	discount.LineItems = []invoice.LineItem{
		{Description: "Service", Quantity: f(2), UnitPrice: f(60), Amount: f(120)},
		{Description: "Discount", Amount: f(-15)},
		{Description: "Voucher", Quantity: f(1), UnitPrice: f(-5)},
	}

	// No breakdown; one line names the rate the totals give, the other none.
	partlyRated := minimalInvoice()
	partlyRated.Invoice.TaxBreakdown = nil
	partlyRated.LineItems = []invoice.LineItem{{Description: "a", Amount: f(60), TaxRate: f(20)}, {Description: "b", Amount: f(40)}}

	// Document-level allowances and charges in two rates, and an amount due derived
	// from the total less the prepaid amount.
	allowances := allowanceInvoice()
	allowancesWant := summary{Root: "CrossIndustryInvoice", Number: "1", TypeCode: "380", IssueDate: "20240131", Currency: "EUR",
		Seller: "S", SellerCountry: "FR", SellerVAT: "FR12345678901", Buyer: "B", BuyerCountry: "BE",
		Breakdown: []string{"S 19.00 90.00 17.10", "S 7.00 185.00 12.95"}, LineTotal: "300.00", TaxBasis: "275.00",
		Tax: "30.05", Total: "305.05", Due: "300.00", Prepaid: "5.05", Allowance: "30.00", Charge: "5.00",
		Lines: []string{"1 1 C62 100.00 100.00 S 19.00 A", "2 1 C62 200.00 200.00 S 7.00 B"}}

	// An account without its bank: no empty bank element (the CII schema requires a
	// BIC in it).
	noBIC := minimalInvoice()
	noBIC.Invoice.Payment.IBAN = "DE02 1203 0000 0000 2020 51"

	minimal := summary{Root: "CrossIndustryInvoice", Number: "1", TypeCode: "380", IssueDate: "20240131", Currency: "EUR",
		Seller: "S", SellerCountry: "FR", SellerVAT: "FR12345678901", Buyer: "B", BuyerCountry: "BE",
		Breakdown: []string{"S 20.00 100.00 20.00"}, LineTotal: "100.00", TaxBasis: "100.00", Tax: "20.00", Total: "120.00", Due: "120.00",
		Lines: []string{"1 1 C62 100.00 100.00 S 20.00 Service"}}
	with := func(s summary, edit func(*summary)) summary { edit(&s); return s }

	return []validCase{
		{name: "full", data: full, want: summary{Root: "CrossIndustryInvoice", Number: "RE-2024/001", TypeCode: "380", IssueDate: "20240305", Currency: "EUR",
			Seller: "Lieferant GmbH", SellerCountry: "DE", SellerVAT: "DE123456789", Buyer: "Kunden AG", BuyerCountry: "DE",
			IBAN:      "DE02120300000000202051",
			Breakdown: []string{"S 19.00 198.00 37.62", "S 7.00 275.00 19.25"},
			LineTotal: "473.00", TaxBasis: "473.00", Tax: "56.87", Total: "529.87", Due: "429.87", Prepaid: "100.00",
			Lines: []string{"1 20 H87 9.90 198.00 S 19.00 Trennblätter A4", "2 50 C62 5.50 275.00 S 7.00 Joghurt Banane"}}},
		{name: "minimal", data: minimalInvoice(), want: minimal},
		{name: "credit note", data: credit, ublRoot: "CreditNote", want: with(minimal, func(s *summary) { s.Number, s.TypeCode = "GS-1", "381" })},
		{name: "debit note", data: debit, want: with(minimal, func(s *summary) { s.TypeCode = "383" })},
		{name: "proforma", data: proforma, want: with(minimal, func(s *summary) { s.TypeCode = "325" })},
		{name: "receipt", data: receipt, want: minimal},
		{name: "several rates", data: several, want: with(minimal, func(s *summary) {
			s.Currency = "CHF"
			s.Breakdown = []string{"S 8.10 200.00 16.20", "S 2.60 100.00 2.60", "S 14.40 50.00 7.20"}
			s.LineTotal, s.TaxBasis, s.Tax, s.Total, s.Due = "350.00", "350.00", "26.00", "376.00", "376.00"
			s.Lines = []string{"1 2 C62 100.00 200.00 S 8.10 A", "2 4 C62 25.00 100.00 S 2.60 B", "3 0.5 C62 100.00 50.00 S 14.40 C"}
		})},
		{name: "zero rated", data: zero, want: with(minimal, func(s *summary) {
			s.Currency = "GBP"
			s.Breakdown = []string{"Z 0.00 80.00 0.00"}
			s.LineTotal, s.TaxBasis, s.Tax, s.Total, s.Due = "80.00", "80.00", "0.00", "80.00", "80.00"
			s.Lines = []string{"1 4 C62 20.00 80.00 Z 0.00 Book"}
		})},
		{name: "exempt", data: exempt, want: with(minimal, func(s *summary) {
			s.Breakdown = []string{"E 0.00 500.00 0.00"}
			s.LineTotal, s.TaxBasis, s.Tax, s.Total, s.Due = "500.00", "500.00", "0.00", "500.00", "500.00"
			s.Lines = []string{"1 1 C62 500.00 500.00 E 0.00 Medical service"}
		})},
		{name: "not subject", data: notSubject, knownRules: []string{"BR-CO-26"}, want: with(minimal, func(s *summary) {
			s.SellerVAT = ""
			s.Breakdown = []string{"O  100.00 0.00"}
			s.Tax, s.Total, s.Due = "0.00", "100.00", "100.00"
			s.Lines = []string{"1 1 C62 100.00 100.00 O  Service"}
		})},
		{name: "negative lines", data: discount, want: with(minimal, func(s *summary) {
			s.Lines = []string{"1 2 C62 60.00 120.00 S 20.00 Service", "2 -1 C62 15.00 -15.00 S 20.00 Discount", "3 -1 C62 5.00 -5.00 S 20.00 Voucher"}
		})},
		{name: "derived rate, partly rated lines", data: partlyRated, want: with(minimal, func(s *summary) {
			s.Lines = []string{"1 1 C62 60.00 60.00 S 20.00 a", "2 1 C62 40.00 40.00 S 20.00 b"}
		})},
		{name: "derived lines and allowance", data: derived, want: derivedWant},
		{name: "allowances and charges", data: allowances, want: allowancesWant},
		{name: "IBAN without BIC", data: noBIC, want: with(minimal, func(s *summary) { s.IBAN = "DE02120300000000202051" })},
		{name: "derived standard rate and charge", data: standard, want: with(minimal, func(s *summary) {
			s.Breakdown = []string{"S 19.00 123.45 23.46"}
			s.LineTotal, s.TaxBasis, s.Tax, s.Total, s.Due, s.Charge = "120.00", "123.45", "23.46", "146.91", "146.91", "3.45"
			s.Lines = []string{"1 1 C62 120.00 120.00 S 19.00 x"}
		})},
	}
}

func TestWriteValidates(t *testing.T) {
	for _, tc := range validCases() {
		for _, syntax := range []Syntax{CII, UBL} {
			t.Run(tc.name+"/"+string(syntax), func(t *testing.T) {
				out, err := Write(tc.data, syntax)
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				want := tc.want
				if syntax == UBL {
					want.Root = "Invoice"
					if tc.ublRoot != "" {
						want.Root = tc.ublRoot
					}
				}
				if got := summarise(t, out, syntax); !reflect.DeepEqual(got, want) {
					t.Errorf("read back\n got %+v\nwant %+v", got, want)
				}
				validateXSD(t, out, syntax) // last: it skips without the schemas
			})
		}
	}
}

// TestWriteFullTerms checks the optional terms of the full invoice in both syntaxes.
func TestWriteFullTerms(t *testing.T) {
	out, err := Write(fullInvoice(), CII)
	if err != nil {
		t.Fatal(err)
	}
	r := parse(t, out)
	tr := "SupplyChainTradeTransaction/"
	ag := tr + "ApplicableHeaderTradeAgreement/"
	st := tr + "ApplicableHeaderTradeSettlement/"
	checks := map[string]string{
		"ExchangedDocumentContext/GuidelineSpecifiedDocumentContextParameter/ID": Specification,
		ag + "BuyerReference":                                                                        "Kostenstelle 12",
		ag + "BuyerOrderReferencedDocument/IssuerAssignedID":                                         "PO-77",
		ag + "ContractReferencedDocument/IssuerAssignedID":                                           "C-1",
		ag + "BuyerTradeParty/ID":                                                                    "K-4711",
		ag + "BuyerTradeParty/SpecifiedTaxRegistration/ID":                                           "DE987654321",
		ag + "SellerTradeParty/PostalTradeAddress/LineOne":                                           "Lieferantenstraße 20",
		ag + "SellerTradeParty/PostalTradeAddress/LineTwo":                                           "Hinterhaus",
		ag + "SellerTradeParty/PostalTradeAddress/LineThree":                                         "3. OG, Zimmer 4",
		ag + "SellerTradeParty/PostalTradeAddress/PostcodeCode":                                      "80333",
		ag + "SellerTradeParty/PostalTradeAddress/CityName":                                          "München",
		ag + "SellerTradeParty/PostalTradeAddress/CountrySubDivisionName":                            "Bayern",
		ag + "SellerTradeParty/DefinedTradeContact/TelephoneUniversalCommunication/CompleteNumber":   "+49 89 123456",
		ag + "SellerTradeParty/DefinedTradeContact/EmailURIUniversalCommunication/URIID":             "rechnung@lieferant.example",
		tr + "ApplicableHeaderTradeDelivery/DespatchAdviceReferencedDocument/IssuerAssignedID":       "LS-9",
		st + "SpecifiedTradeSettlementPaymentMeans/TypeCode":                                         "58",
		st + "SpecifiedTradeSettlementPaymentMeans/PayeeSpecifiedCreditorFinancialInstitution/BICID": "BYLADEM1001",
		st + "BillingSpecifiedPeriod/StartDateTime/DateTimeString":                                   "20240201",
		st + "BillingSpecifiedPeriod/EndDateTime/DateTimeString":                                     "20240229",
		st + "SpecifiedTradePaymentTerms/Description":                                                "Zahlbar in 30 Tagen netto",
		st + "SpecifiedTradePaymentTerms/DueDateDateTime/DateTimeString":                             "20240404",
	}
	for path, want := range checks {
		if got := r.text(path); got != want {
			t.Errorf("CII %s = %q, want %q", path, got, want)
		}
	}
	if got := r.all(st + "SpecifiedTradeSettlementHeaderMonetarySummation/TaxTotalAmount")[0].Attrs["currencyID"]; got != "EUR" {
		t.Errorf("CII TaxTotalAmount currencyID = %q, want EUR", got)
	}

	out, err = Write(fullInvoice(), UBL)
	if err != nil {
		t.Fatal(err)
	}
	r = parse(t, out)
	sp := "AccountingSupplierParty/Party/"
	checks = map[string]string{
		"CustomizationID":                                                  Specification,
		"DueDate":                                                          "2024-04-04",
		"BuyerReference":                                                   "Kostenstelle 12",
		"InvoicePeriod/StartDate":                                          "2024-02-01",
		"InvoicePeriod/EndDate":                                            "2024-02-29",
		"OrderReference/ID":                                                "PO-77",
		"DespatchDocumentReference/ID":                                     "LS-9",
		"ContractDocumentReference/ID":                                     "C-1",
		sp + "PostalAddress/StreetName":                                    "Lieferantenstraße 20",
		sp + "PostalAddress/AdditionalStreetName":                          "Hinterhaus",
		sp + "PostalAddress/AddressLine/Line":                              "3. OG, Zimmer 4",
		sp + "PostalAddress/PostalZone":                                    "80333",
		sp + "PostalAddress/CityName":                                      "München",
		sp + "PostalAddress/CountrySubentity":                              "Bayern",
		sp + "Contact/Telephone":                                           "+49 89 123456",
		sp + "Contact/ElectronicMail":                                      "rechnung@lieferant.example",
		"AccountingCustomerParty/Party/PartyIdentification/ID":             "K-4711",
		"AccountingCustomerParty/Party/PartyTaxScheme/CompanyID":           "DE987654321",
		"PaymentMeans/PaymentMeansCode":                                    "58",
		"PaymentMeans/PayeeFinancialAccount/FinancialInstitutionBranch/ID": "BYLADEM1001",
		"PaymentTerms/Note":                                                "Zahlbar in 30 Tagen netto",
	}
	for path, want := range checks {
		if got := r.text(path); got != want {
			t.Errorf("UBL %s = %q, want %q", path, got, want)
		}
	}
	for _, a := range r.all("LegalMonetaryTotal/PayableAmount") {
		if a.Attrs["currencyID"] != "EUR" {
			t.Errorf("UBL PayableAmount currencyID = %q, want EUR", a.Attrs["currencyID"])
		}
	}
}

// TestWriteCreditNoteDueDate checks that a UBL CreditNote carries BT-9 in its payment
// means, as it has no cbc:DueDate.
func TestWriteCreditNoteDueDate(t *testing.T) {
	data := minimalInvoice()
	data.Invoice.DocumentType, data.Invoice.DueDate = invoice.DocCreditNote, "2024-02-15"
	out, err := Write(data, UBL)
	if err != nil {
		t.Fatal(err)
	}
	r := parse(t, out)
	if got := r.text("PaymentMeans/PaymentDueDate"); got != "2024-02-15" {
		t.Errorf("PaymentMeans/PaymentDueDate = %q, want 2024-02-15", got)
	}
	if got := r.text("PaymentMeans/PaymentMeansCode"); got != "1" {
		t.Errorf("PaymentMeansCode = %q, want 1 (instrument not defined)", got)
	}
}

func TestWriteMissing(t *testing.T) {
	type term = string // "ID field"
	cases := []struct {
		name string
		edit func(*invoice.ExtractedData)
		want []term
	}{
		{"no seller VAT id", func(d *invoice.ExtractedData) { d.Invoice.Supplier.TaxID = "123/456/789" }, []term{"BT-31 invoice.supplier.taxId"}},
		{"exempt without reason", func(d *invoice.ExtractedData) {
			d.Invoice.TaxBreakdown = []invoice.TaxRate{{Rate: f(0), Base: f(100), Amount: f(0), Category: "E"}}
		}, []term{"BT-120 invoice.taxBreakdown[0].exemptionReason"}},
		{"amount due without due date or terms", func(d *invoice.ExtractedData) { d.Invoice.DueDate = "31.02.2024" }, []term{"BR-CO-25 invoice.dueDate"}},
		{"issue date in year 0", func(d *invoice.ExtractedData) { d.Invoice.Date = "0000-01-01" }, []term{"BT-2 invoice.date"}},
		{"issue date not ISO", func(d *invoice.ExtractedData) { d.Invoice.Date = "05.03.2024" }, []term{"BT-2 invoice.date"}},
		{"no seller name", func(d *invoice.ExtractedData) { d.Invoice.Supplier.Name = " " }, []term{"BT-27 invoice.supplier.name"}},
		{"no buyer country", func(d *invoice.ExtractedData) { d.Invoice.Customer.Country = "" }, []term{"BT-55 invoice.customer.country"}},
		{"buyer country not ISO", func(d *invoice.ExtractedData) { d.Invoice.Customer.Country = "Belgium" }, []term{"BT-55 invoice.customer.country"}},
		{"no lines", func(d *invoice.ExtractedData) { d.LineItems = nil }, []term{"BG-25 lineItems"}},
		{"no breakdown", func(d *invoice.ExtractedData) {
			d.Invoice.TaxBreakdown = nil
			d.Invoice.Amounts.Tax = f(21.37) // no standard rate gives it
		}, []term{"BG-23 invoice.taxBreakdown"}},
		{"no breakdown, lines with two rates", func(d *invoice.ExtractedData) {
			d.Invoice.TaxBreakdown = nil
			d.LineItems = []invoice.LineItem{{Description: "a", Amount: f(50), TaxRate: f(20)}, {Description: "b", Amount: f(50), TaxRate: f(5.5)}}
		}, []term{"BG-23 invoice.taxBreakdown"}},
		{"no breakdown, a line rate contradicts the standard rate", func(d *invoice.ExtractedData) {
			d.Invoice.TaxBreakdown = nil // 20 % of 100 is 20, but a line says 7 %
			d.LineItems = []invoice.LineItem{{Description: "a", Amount: f(50), TaxRate: f(7)}, {Description: "b", Amount: f(50)}}
		}, []term{"BG-23 invoice.taxBreakdown"}},
		{"no breakdown, zero tax", func(d *invoice.ExtractedData) {
			d.Invoice.TaxBreakdown, d.Invoice.Amounts.Tax = nil, f(0)
		}, []term{"BG-23 invoice.taxBreakdown"}},
		{"zero rate without category", func(d *invoice.ExtractedData) {
			d.Invoice.TaxBreakdown = []invoice.TaxRate{{Rate: f(0), Base: f(100), Amount: f(0)}}
		}, []term{"BT-118 invoice.taxBreakdown[0].category"}},
		{"line without amount", func(d *invoice.ExtractedData) {
			d.LineItems = append(d.LineItems, invoice.LineItem{Description: "x", Quantity: f(2)})
		}, []term{"BT-131 lineItems[1].amount"}},
		{"line without name", func(d *invoice.ExtractedData) { d.LineItems[0].Description = "" }, []term{"BT-153 lineItems[0].description"}},
		{"no tax with a positive rate", func(d *invoice.ExtractedData) { d.Invoice.Amounts.Tax = nil }, []term{"BT-110 invoice.amounts.tax"}},
		{"difference with several rows", func(d *invoice.ExtractedData) {
			d.Invoice.TaxBreakdown = append(d.Invoice.TaxBreakdown, invoice.TaxRate{Rate: f(0), Base: f(0), Category: "Z"})
			d.LineItems[0].TaxRate = f(20)
			d.Invoice.Amounts.Subtotal = f(90)
		}, []term{"BR-CO-13 invoice.allowances"}},
		{"allowance without amount or reason", func(d *invoice.ExtractedData) {
			d.Invoice.Allowances = []invoice.Allowance{{Category: "S", Rate: f(20)}}
		}, []term{"BT-92 invoice.allowances[0].amount", "BT-97 invoice.allowances[0].reason"}},
		{"charge without category among several rows", func(d *invoice.ExtractedData) {
			d.Invoice.TaxBreakdown = append(d.Invoice.TaxBreakdown, invoice.TaxRate{Rate: f(0), Base: f(0), Category: "Z"})
			d.LineItems[0].TaxRate = f(20)
			d.Invoice.Allowances = []invoice.Allowance{{Charge: true, Amount: f(10), Reason: "Freight"}}
		}, []term{"BT-102 invoice.allowances[0].category"}},
		{"charge without reason", func(d *invoice.ExtractedData) {
			d.Invoice.Allowances = []invoice.Allowance{{Charge: true, Amount: f(10), Category: "S", Rate: f(20)}}
		}, []term{"BT-104 invoice.allowances[0].reason"}},
		{"allowance rate not told by the breakdown", func(d *invoice.ExtractedData) {
			d.Invoice.TaxBreakdown = append(d.Invoice.TaxBreakdown, invoice.TaxRate{Rate: f(10), Base: f(0), Amount: f(0), Category: "S"})
			d.LineItems[0].TaxRate = f(20)
			d.Invoice.Allowances = []invoice.Allowance{{Amount: f(10), Reason: "Discount", Category: "S"}}
		}, []term{"BT-96 invoice.allowances[0].rate"}},
		{"allowances leave a difference with several rows", func(d *invoice.ExtractedData) {
			d.Invoice.TaxBreakdown = append(d.Invoice.TaxBreakdown, invoice.TaxRate{Rate: f(0), Base: f(0), Category: "Z"})
			d.LineItems[0].TaxRate = f(20)
			d.Invoice.Amounts.Subtotal = f(90)
			d.Invoice.Allowances = []invoice.Allowance{{Amount: f(5), Reason: "Discount", Category: "S", Rate: f(20)}}
		}, []term{"BR-CO-13 invoice.allowances"}},
		{"derived amount due without due date or terms", func(d *invoice.ExtractedData) {
			d.Invoice.AmountDue, d.Invoice.DueDate = nil, ""
		}, []term{"BR-CO-25 invoice.dueDate"}},
		{"several at once", func(d *invoice.ExtractedData) {
			*d = invoice.ExtractedData{Invoice: invoice.Invoice{Customer: invoice.Customer{TaxID: "BE0123456789"}}}
		}, []term{"BT-27 invoice.supplier.name", "BT-40 invoice.supplier.country", "BT-44 invoice.customer.name",
			"BT-1 invoice.number", "BT-2 invoice.date", "BT-5 invoice.amounts.currency",
			"BT-109 invoice.amounts.subtotal", "BT-112 invoice.amounts.total", "BT-115 invoice.amountDue",
			"BG-23 invoice.taxBreakdown", "BG-25 lineItems", "BT-31 invoice.supplier.taxId"}},
	}
	for _, tc := range cases {
		for _, syntax := range []Syntax{CII, UBL} {
			t.Run(tc.name+"/"+string(syntax), func(t *testing.T) {
				data := minimalInvoice()
				tc.edit(&data)
				out, err := Write(data, syntax)
				if out != nil {
					t.Errorf("Write returned %d bytes of XML with an error", len(out))
				}
				var me *MissingError
				if !errors.As(err, &me) {
					t.Fatalf("Write error = %v, want a *MissingError", err)
				}
				var got []string
				for _, term := range me.Terms {
					got = append(got, term.ID+" "+term.Field)
					if term.Name == "" {
						t.Errorf("term %s has no name", term.ID)
					}
					if !strings.Contains(err.Error(), term.String()) {
						t.Errorf("error %q does not list %s", err, term)
					}
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("missing terms\n got %q\nwant %q", got, tc.want)
				}
			})
		}
	}
}

func TestMissingErrorMessage(t *testing.T) {
	err := &MissingError{Terms: []Term{{"BT-27", "Seller name", "invoice.supplier.name"}, {"BT-1", "Invoice number", "invoice.number"}}}
	want := "EN 16931 requires: BT-27 Seller name (invoice.supplier.name), BT-1 Invoice number (invoice.number)"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Error() = %q, want it to start with %q", err.Error(), want)
	}
}

func TestWriteBadInput(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(*invoice.ExtractedData)
		syntax Syntax
		want   string
	}{
		{"unknown syntax", func(*invoice.ExtractedData) {}, "xrechnung", `unknown syntax "xrechnung"`},
		{"unknown document type", func(d *invoice.ExtractedData) { d.Invoice.DocumentType = "quote" }, CII, `unknown document type "quote"`},
		{"NaN total", func(d *invoice.ExtractedData) { d.Invoice.Amounts.Total = f(math.NaN()) }, CII, "invoice.amounts.total is NaN"},
		{"infinite line price", func(d *invoice.ExtractedData) { d.LineItems[0].UnitPrice = f(math.Inf(1)) }, UBL, "lineItems[0].unitPrice is +Inf"},
		{"huge rate", func(d *invoice.ExtractedData) { d.Invoice.TaxBreakdown[0].Rate = f(1e300) }, UBL, "invoice.taxBreakdown[0].rate is 1e+300, not a VAT rate"},
		{"negative line rate", func(d *invoice.ExtractedData) { d.LineItems[0].TaxRate = f(-7) }, CII, "lineItems[0].taxRate is -7, not a VAT rate"},
		{"NaN allowance", func(d *invoice.ExtractedData) {
			d.Invoice.Allowances = []invoice.Allowance{{Amount: f(math.NaN()), Reason: "x"}}
		}, UBL, "invoice.allowances[0].amount is NaN"},
		{"huge allowance base", func(d *invoice.ExtractedData) {
			d.Invoice.Allowances = []invoice.Allowance{{Amount: f(1), Base: f(1e13), Reason: "x"}}
		}, CII, "invoice.allowances[0].base is 1e+13"},
		{"allowance rate above 100", func(d *invoice.ExtractedData) {
			d.Invoice.Allowances = []invoice.Allowance{{Amount: f(1), Rate: f(119), Reason: "x"}}
		}, CII, "invoice.allowances[0].rate is 119, not a VAT rate"},
		{"huge subtotal", func(d *invoice.ExtractedData) { d.Invoice.Amounts.Subtotal = f(-2e12) }, CII, "invoice.amounts.subtotal is -2e+12"},
		{"derived amount too large", func(d *invoice.ExtractedData) {
			d.LineItems[0] = invoice.LineItem{Description: "x", Quantity: f(1e9), UnitPrice: f(1e9)}
		}, CII, "lineItems[0].amount derived from the line's other numbers is 1e+18"},
		{"derived price too large", func(d *invoice.ExtractedData) {
			d.LineItems[0] = invoice.LineItem{Description: "x", Quantity: f(1e-3), Amount: f(1e11)}
		}, UBL, "lineItems[0].unitPrice derived"},
		{"derived quantity too large", func(d *invoice.ExtractedData) {
			d.LineItems[0] = invoice.LineItem{Description: "x", UnitPrice: f(1e-3), Amount: f(1e11)}
		}, UBL, "lineItems[0].quantity derived"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := minimalInvoice()
			tc.edit(&data)
			out, err := Write(data, tc.syntax)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Write error = %v, want one containing %q", err, tc.want)
			}
			if out != nil {
				t.Errorf("Write returned XML with an error")
			}
			var me *MissingError
			if errors.As(err, &me) {
				t.Errorf("error is a *MissingError, want a plain error")
			}
		})
	}
}

// hostileDescription is a 10,000-character line description full of markup.
var hostileDescription = strings.Repeat("Lorem <ipsum> & dolor ]]> sit ", 334)[:10000]

// hostileInvoice has markup, CDATA ends, control characters and invalid UTF-8 in its text.
func hostileInvoice() invoice.ExtractedData {
	data := minimalInvoice()
	data.Invoice.Number = "A&B<1>]]>"
	data.Invoice.Supplier.Name = "Evil <b>Corp</b> & \"Sons\" ]]> \x00\x01\x1b\ufffe\xff end"
	data.Invoice.Supplier.Address = "Rue <x> & y, 75001 Paris"
	data.Invoice.Customer.Name = "<![CDATA[ x ]]>"
	data.Invoice.Payment.Terms = "line1\nline2\ttab\r\n"
	data.LineItems[0].Description = hostileDescription
	return data
}

func TestWriteHostileText(t *testing.T) {
	data := hostileInvoice()
	long := hostileDescription
	for _, syntax := range []Syntax{CII, UBL} {
		t.Run(string(syntax), func(t *testing.T) {
			out, err := Write(data, syntax)
			if err != nil {
				t.Fatal(err)
			}
			got := summarise(t, out, syntax)
			if want := "Evil <b>Corp</b> & \"Sons\" ]]>  end"; got.Seller != want {
				t.Errorf("seller = %q, want %q", got.Seller, want)
			}
			if got.Number != "A&B<1>]]>" || got.Buyer != "<![CDATA[ x ]]>" {
				t.Errorf("number, buyer = %q, %q", got.Number, got.Buyer)
			}
			if !strings.HasSuffix(got.Lines[0], " "+strings.TrimSpace(long)) {
				t.Errorf("the 10,000-character description did not come back whole")
			}
			validateXSD(t, out, syntax) // last: it skips without the schemas
		})
	}
}

func TestParseAddress(t *testing.T) {
	cases := []struct {
		in   string
		want Address
	}{
		{"", Address{}},
		{" , ", Address{}},
		{"Lieferantenstraße 20, 80333 München", Address{Lines: []string{"Lieferantenstraße 20"}, Postcode: "80333", City: "München"}},
		{"Hinterhaus, Chausseestraße 12, 3. OG, 10115 Berlin, Berlin-Mitte",
			Address{Lines: []string{"Hinterhaus", "Chausseestraße 12", "3. OG"}, Postcode: "10115", City: "Berlin", Subdivision: "Berlin-Mitte"}},
		{"a, b, c, d, 1010 Wien, Wien", Address{Lines: []string{"a", "b", "c", "d"}, Postcode: "1010", City: "Wien", Subdivision: "Wien"}},
		{"Main Street 1, Dublin", Address{Lines: []string{"Main Street 1"}, City: "Dublin"}},
		{"Paris", Address{City: "Paris"}},
		{"Hauptstraße 5", Address{City: "Hauptstraße 5"}},
		{"1000", Address{Postcode: "1000"}},
		{"1 Parliament Street, SW1A 1AA London", Address{Lines: []string{"1 Parliament Street"}, Postcode: "SW1A 1AA", City: "London"}},
		{"Rue 1, L-1234 Luxembourg", Address{Lines: []string{"Rue 1"}, Postcode: "L-1234", City: "Luxembourg"}},
		{"Via Roma 1, 00100 Roma Capitale, RM", Address{Lines: []string{"Via Roma 1"}, Postcode: "00100", City: "Roma Capitale", Subdivision: "RM"}},
		// A postcode part further up than the next-to-last part is a line.
		{"12 Elm Road, Springfield, Illinois, USA", Address{Lines: []string{"12 Elm Road", "Springfield", "Illinois"}, City: "USA"}},
		{" , Street 1, , 12345  City , ", Address{Lines: []string{"Street 1"}, Postcode: "12345", City: "City"}},
	}
	for _, tc := range cases {
		if got := ParseAddress(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseAddress(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	a := ParseAddress("a, b, c, d, e, 1 X")
	if addressLine(a, 0) != "a" || addressLine(a, 1) != "b" || addressLine(a, 2) != "c, d, e" || addressLine(a, 3) != "" {
		t.Errorf("lines of %+v = %q %q %q %q", a, addressLine(a, 0), addressLine(a, 1), addressLine(a, 2), addressLine(a, 3))
	}
}

func TestFileName(t *testing.T) {
	cases := []struct {
		number string
		syntax Syntax
		want   string
	}{
		{"RE-2024/001", CII, "invoice-RE-2024-001.cii.xml"},
		{"RE 2024 001", UBL, "invoice-RE-2024-001.ubl.xml"},
		{"../../etc/passwd", CII, "invoice-etc-passwd.cii.xml"},
		{"", UBL, "invoice.ubl.xml"},
		{"äöü", CII, "invoice.cii.xml"},
		{strings.Repeat("9", 200), CII, "invoice-" + strings.Repeat("9", 64) + ".cii.xml"},
	}
	for _, tc := range cases {
		data := invoice.ExtractedData{Invoice: invoice.Invoice{Number: tc.number}}
		if got := FileName(data, tc.syntax); got != tc.want {
			t.Errorf("FileName(%q, %s) = %q, want %q", tc.number, tc.syntax, got, tc.want)
		}
	}
}

func TestFormat(t *testing.T) {
	cases := []struct{ got, want string }{
		{amount(cents(0.1 + 0.2)), "0.30"},
		{amount(cents(-0.004)), "0.00"},
		{amount(-1234), "-12.34"},
		{amount(5), "0.05"},
		{price(tenThousandths(9.9)), "9.90"},
		{price(tenThousandths(0.12345)), "0.1235"},
		{price(tenThousandths(1.5)), "1.50"},
		{quantity(tenThousandths(20)), "20"},
		{quantity(tenThousandths(0.5)), "0.5"},
		{quantity(tenThousandths(-2.25)), "-2.25"},
		{cleanText(" a\x00b\x7fc\ufffed\xffe "), "ab\x7fcde"},
	}
	for i, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("case %d: got %q, want %q", i, tc.got, tc.want)
		}
	}
}

func TestSplitTaxIDAndCountry(t *testing.T) {
	cases := []struct{ id, country, vat, reg, partyCountry string }{
		{"DE 123 456 789", "", "DE 123 456 789", "", "DE"},
		{"de123456789", "", "DE123456789", "", "DE"},
		{"D-E 123.456.789", "", "DE123456789", "", "DE"},
		{"EL123456789", "", "EL123456789", "", "GR"},
		{"201/113/40209", "de", "", "201/113/40209", "DE"},
		{"QQ123", "", "", "QQ123", ""},
		{"ATU12345678", "CH", "ATU12345678", "", "CH"},
		{"DEABC", "", "", "DEABC", ""},
	}
	for _, tc := range cases {
		vat, reg := splitTaxID(tc.id)
		c := partyCountry(tc.country, vat)
		if vat != tc.vat || reg != tc.reg || c != tc.partyCountry {
			t.Errorf("splitTaxID(%q) = %q, %q; country %q; want %q, %q; %q", tc.id, vat, reg, c, tc.vat, tc.reg, tc.partyCountry)
		}
	}
}

func BenchmarkWriteCII(b *testing.B) { benchmarkWrite(b, CII) }
func BenchmarkWriteUBL(b *testing.B) { benchmarkWrite(b, UBL) }

// benchmarkWrite writes the full invoice with 100 lines.
func benchmarkWrite(b *testing.B, syntax Syntax) {
	data := fullInvoice()
	data.Invoice.TaxBreakdown = []invoice.TaxRate{{Rate: f(19), Base: f(0), Amount: f(0)}}
	var sum float64
	data.LineItems = nil
	for i := range 100 {
		v := float64(i) + 0.5
		sum += v
		data.LineItems = append(data.LineItems, invoice.LineItem{Description: fmt.Sprintf("Item %d", i), Quantity: f(1), UnitPrice: f(v), Amount: f(v), TaxRate: f(19)})
	}
	data.Invoice.TaxBreakdown[0].Base = f(sum)
	data.Invoice.Amounts.Subtotal = f(sum)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Write(data, syntax); err != nil {
			b.Fatal(err)
		}
	}
}

// allowanceInvoice has two lines in two rates, two allowances and a charge, a prepaid
// amount and no amount due.
func allowanceInvoice() invoice.ExtractedData {
	d := minimalInvoice()
	d.Invoice.Amounts = invoice.Amounts{Subtotal: f(275), Tax: f(30.05), Total: f(305.05), Currency: "EUR", Discount: f(5.05)}
	d.Invoice.AmountDue = nil
	d.Invoice.TaxBreakdown = []invoice.TaxRate{
		{Rate: f(19), Base: f(90), Amount: f(17.10)},
		{Rate: f(7), Base: f(185), Amount: f(12.95), Category: "S"},
	}
	d.LineItems = []invoice.LineItem{
		{Description: "A", Amount: f(100), TaxRate: f(19)},
		{Description: "B", Amount: f(200), TaxRate: f(7)},
	}
	d.Invoice.Allowances = []invoice.Allowance{
		{Amount: f(10), Base: f(100), Percent: f(10), Reason: "Loyalty discount", Rate: f(19)},
		{Amount: f(20), ReasonCode: "95", Category: "S", Rate: f(7)},
		{Charge: true, Amount: f(5), Reason: "Freight", ReasonCode: "fc", Category: "s", Rate: f(7)},
	}
	return d
}

// TestWriteAllowances checks BG-20 and BG-21 as written in each syntax and as read
// back: every term of each allowance and charge, in the model's order.
func TestWriteAllowances(t *testing.T) {
	data := allowanceInvoice()
	want := []string{
		"false 10.00 100.00 10.00  Loyalty discount S 19.00",
		"false   20.00 95  S 7.00",
		"true   5.00 FC Freight S 7.00",
	}
	for _, syntax := range []Syntax{CII, UBL} {
		t.Run(string(syntax), func(t *testing.T) {
			out, err := Write(data, syntax)
			if err != nil {
				t.Fatal(err)
			}
			r := parse(t, out)
			var got []string
			if syntax == CII {
				for _, ac := range r.all("SupplyChainTradeTransaction/ApplicableHeaderTradeSettlement/SpecifiedTradeAllowanceCharge") {
					got = append(got, strings.Join([]string{ac.text("ChargeIndicator/Indicator"), ac.text("CalculationPercent"),
						ac.text("BasisAmount"), ac.text("ActualAmount"), ac.text("ReasonCode"), ac.text("Reason"),
						ac.text("CategoryTradeTax/CategoryCode"), ac.text("CategoryTradeTax/RateApplicablePercent")}, " "))
				}
			} else {
				for _, ac := range r.all("AllowanceCharge") {
					got = append(got, strings.Join([]string{ac.text("ChargeIndicator"), ac.text("MultiplierFactorNumeric"),
						ac.text("BaseAmount"), ac.text("Amount"), ac.text("AllowanceChargeReasonCode"), ac.text("AllowanceChargeReason"),
						ac.text("TaxCategory/ID"), ac.text("TaxCategory/Percent")}, " "))
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("allowances and charges\n got %q\nwant %q", got, want)
			}
			back, err := einvoice.Parse(out, einvoice.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			wantBack := []invoice.Allowance{
				{Amount: f(10), Base: f(100), Percent: f(10), Reason: "Loyalty discount", Category: "S", Rate: f(19)},
				{Amount: f(20), ReasonCode: "95", Category: "S", Rate: f(7)},
				{Charge: true, Amount: f(5), Reason: "Freight", ReasonCode: "FC", Category: "S", Rate: f(7)},
			}
			if !reflect.DeepEqual(back.Data.Invoice.Allowances, wantBack) {
				t.Errorf("read back %s\nwant %s", asJSON(t, invoice.ExtractedData{Invoice: invoice.Invoice{Allowances: back.Data.Invoice.Allowances}}),
					asJSON(t, invoice.ExtractedData{Invoice: invoice.Invoice{Allowances: wantBack}}))
			}
			if back.Data.Invoice.AmountDue == nil || *back.Data.Invoice.AmountDue != 300 {
				t.Errorf("amount due read back %v, want 300 (305.05 less 5.05 prepaid)", back.Data.Invoice.AmountDue)
			}
		})
	}
}
