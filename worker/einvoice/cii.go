package einvoice

import (
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// CII element names. Where ZUGFeRD 1.0 (and its release candidate) names an element
// differently from CII D16B (Factur-X, ZUGFeRD 2.x, XRechnung), a step lists both.
const (
	ciiContext     = "ExchangedDocumentContext|SpecifiedExchangedDocumentContext"
	ciiHeader      = "ExchangedDocument|HeaderExchangedDocument"
	ciiTransaction = "SupplyChainTradeTransaction|SpecifiedSupplyChainTradeTransaction"
	ciiAgreement   = "ApplicableHeaderTradeAgreement|ApplicableSupplyChainTradeAgreement"
	ciiDelivery    = "ApplicableHeaderTradeDelivery|ApplicableSupplyChainTradeDelivery"
	ciiSettlement  = "ApplicableHeaderTradeSettlement|ApplicableSupplyChainTradeSettlement"
	ciiSummation   = "SpecifiedTradeSettlementHeaderMonetarySummation|SpecifiedTradeSettlementMonetarySummation"
	ciiLineAgree   = "SpecifiedLineTradeAgreement|SpecifiedSupplyChainTradeAgreement"
	ciiLineDeliv   = "SpecifiedLineTradeDelivery|SpecifiedSupplyChainTradeDelivery"
	ciiLineSettle  = "SpecifiedLineTradeSettlement|SpecifiedSupplyChainTradeSettlement"
	ciiLineSum     = "SpecifiedTradeSettlementLineMonetarySummation|SpecifiedTradeSettlementMonetarySummation"
	ciiRate        = "RateApplicablePercent|ApplicablePercent"
	ciiDocID       = "IssuerAssignedID|ID"
)

// readCII maps a CII document (root CrossIndustryInvoice or CrossIndustryDocument) to
// the model, by the EN 16931 business terms (BT-n) named in the comments.
func readCII(root *node) (*Document, error) {
	var v values
	d := newData()
	hdr := root.child(ciiHeader)
	tx := root.child(ciiTransaction)
	agr := tx.child(ciiAgreement)
	set := tx.child(ciiSettlement)
	sum := set.child(ciiSummation)
	inv := &d.Invoice

	doc := &Document{TypeCode: hdr.str("TypeCode")}
	doc.Info.Profile = root.str(ciiContext, "GuidelineSpecifiedDocumentContextParameter", "ID") // BT-24

	inv.Number = hdr.str("ID")                                            // BT-1
	inv.Date = v.ciiDate(hdr.child("IssueDateTime"))                      // BT-2
	inv.DocumentType = documentType(doc.TypeCode, false)                  // BT-3
	inv.Amounts.Currency = set.str("InvoiceCurrencyCode")                 // BT-5
	inv.PurchaseOrder = agr.str("BuyerOrderReferencedDocument", ciiDocID) // BT-13

	inv.Supplier = ciiSupplier(agr.child("SellerTradeParty")) // BG-4
	buyer := agr.child("BuyerTradeParty")                     // BG-7
	inv.Customer = invoice.Customer{
		Name:    buyer.str("Name"), // BT-44
		Address: FormatAddress(ciiAddress(buyer.child("PostalTradeAddress"))),
		Country: buyer.str("PostalTradeAddress", "CountryID"), // BT-55
		TaxID:   ciiTaxID(buyer),                              // BT-48
	}

	inv.Amounts.Subtotal = v.number(sum.child("TaxBasisTotalAmount"))                       // BT-109
	inv.Amounts.Tax = v.number(inCurrency(sum.all("TaxTotalAmount"), inv.Amounts.Currency)) // BT-110
	inv.Amounts.Total = v.number(sum.child("GrandTotalAmount"))                             // BT-112
	inv.Amounts.Discount = v.number(sum.child("TotalPrepaidAmount"))                        // BT-113
	inv.AmountDue = v.number(sum.child("DuePayableAmount"))                                 // BT-115

	for _, t := range set.all("ApplicableTradeTax") { // BG-23
		inv.TaxBreakdown = append(inv.TaxBreakdown, invoice.TaxRate{
			Rate:            v.number(t.child(ciiRate)),            // BT-119
			Base:            v.number(t.child("BasisAmount")),      // BT-116
			Amount:          v.number(t.child("CalculatedAmount")), // BT-117
			Category:        t.str("CategoryCode"),                 // BT-118
			ExemptionReason: t.str("ExemptionReason"),              // BT-120
		})
	}

	inv.Allowances = ciiAllowances(&v, set)

	period := set.child("BillingSpecifiedPeriod") // BG-14
	inv.ServicePeriod = invoice.Period{
		From: v.ciiDate(period.child("StartDateTime")), // BT-73
		To:   v.ciiDate(period.child("EndDateTime")),   // BT-74
	}

	refs := appendRef(nil, invoice.RefContract, agr.str("ContractReferencedDocument", ciiDocID)) // BT-12
	refs = appendRef(refs, invoice.RefDeliveryNote,
		tx.child(ciiDelivery).str("DespatchAdviceReferencedDocument|DeliveryNoteReferencedDocument", ciiDocID)) // BT-16
	refs = appendRef(refs, invoice.RefOther, agr.str("BuyerReference")) // BT-10
	for _, r := range set.all("InvoiceReferencedDocument") {            // BT-25
		refs = appendRef(refs, invoice.RefOther, r.str(ciiDocID))
	}
	refs = appendRef(refs, invoice.RefOther, agr.str("SpecifiedProcuringProject", "ID")) // BT-11
	inv.References = refs

	inv.Payment = ciiPayment(&v, set, inv)

	for _, li := range tx.all("IncludedSupplyChainTradeLineItem") { // BG-25
		net := li.child(ciiLineAgree, "NetPriceProductTradePrice")
		qty := li.child(ciiLineDeliv, "BilledQuantity")
		lineSet := li.child(ciiLineSettle)
		amount := lineSet.child(ciiLineSum, "LineTotalAmount")
		if li.child("SpecifiedTradeProduct") == nil && qty == nil && amount == nil {
			// A text-only line of ZUGFeRD 1.0 (a note between the items), not an
			// invoice line.
			continue
		}
		d.LineItems = append(d.LineItems, invoice.LineItem{
			Description: li.str("SpecifiedTradeProduct", "Name"),                                              // BT-153
			Quantity:    v.number(qty),                                                                        // BT-129
			UnitCode:    qty.attr("unitCode"),                                                                 // BT-130
			UnitPrice:   unitPrice(v.number(net.child("ChargeAmount")), v.number(net.child("BasisQuantity"))), // BT-146 / BT-149
			Amount:      v.number(amount),                                                                     // BT-131
			TaxRate:     v.number(lineSet.child("ApplicableTradeTax", ciiRate)),                               // BT-152
		})
	}
	if v.err != nil {
		return nil, v.err
	}
	doc.Data = d
	return doc, nil
}

// ciiAllowances reads the document-level allowances and charges (BG-20, BG-21) in
// document order, then ZUGFeRD 1.0's logistics service charges (shipping and the like),
// which count among the charges (BT-108) as the Factur-X rules say for BR-CO-12.
func ciiAllowances(v *values, set *node) []invoice.Allowance {
	var out []invoice.Allowance
	for _, ac := range set.all("SpecifiedTradeAllowanceCharge") {
		tax := ac.child("CategoryTradeTax")
		out = append(out, invoice.Allowance{
			Charge:     v.indicator(ac.child("ChargeIndicator", "Indicator")),
			Amount:     v.number(ac.child("ActualAmount")),       // BT-92 / BT-99
			Base:       v.number(ac.child("BasisAmount")),        // BT-93 / BT-100
			Percent:    v.number(ac.child("CalculationPercent")), // BT-94 / BT-101
			Reason:     ac.str("Reason"),                         // BT-97 / BT-104
			ReasonCode: ac.str("ReasonCode"),                     // BT-98 / BT-105
			Category:   tax.str("CategoryCode"),                  // BT-95 / BT-102
			Rate:       v.number(tax.child(ciiRate)),             // BT-96 / BT-103
		})
	}
	for _, lc := range set.all("SpecifiedLogisticsServiceCharge") {
		tax := lc.child("AppliedTradeTax")
		out = append(out, invoice.Allowance{
			Charge:   true,
			Amount:   v.number(lc.child("AppliedAmount")),
			Reason:   lc.str("Description"),
			Category: tax.str("CategoryCode"),
			Rate:     v.number(tax.child(ciiRate)),
		})
	}
	return out
}

// ciiSupplier reads the seller (BG-4).
func ciiSupplier(p *node) invoice.Supplier {
	email := p.str("DefinedTradeContact", "EmailURIUniversalCommunication", "URIID") // BT-43
	if email == "" {
		if uri := p.child("URIUniversalCommunication", "URIID"); uri.attr("schemeID") == "EM" { // BT-34
			email = uri.value()
		}
	}
	return invoice.Supplier{
		Name:    nonEmpty(p.str("Name"), p.str("SpecifiedLegalOrganization", "TradingBusinessName")), // BT-27, BT-28
		Address: FormatAddress(ciiAddress(p.child("PostalTradeAddress"))),                            // BG-5
		Country: p.str("PostalTradeAddress", "CountryID"),                                            // BT-40
		TaxID:   ciiTaxID(p),                                                                         // BT-31, BT-32
		Email:   email,
		Phone:   p.str("DefinedTradeContact", "TelephoneUniversalCommunication", "CompleteNumber"), // BT-42
	}
}

// ciiAddress reads a PostalTradeAddress.
func ciiAddress(a *node) Address {
	var out Address
	for _, l := range []string{"LineOne", "LineTwo", "LineThree"} {
		if s := a.str(l); s != "" {
			out.Lines = append(out.Lines, s)
		}
	}
	out.Postcode = a.str("PostcodeCode")
	out.City = a.str("CityName")
	out.Subdivision = a.str("CountrySubDivisionName")
	return out
}

// ciiTaxID is the party's VAT identifier (schemeID VA), else its other tax registration
// (FC, the seller's tax number BT-32).
func ciiTaxID(p *node) string {
	var other string
	for _, r := range p.all("SpecifiedTaxRegistration") {
		id := r.child("ID")
		s := id.value()
		if s == "" {
			continue
		}
		if id.attr("schemeID") == "VA" {
			return s
		}
		if other == "" {
			other = s
		}
	}
	return other
}

// ciiPayment reads the payment instructions: the first credit transfer account (BT-84,
// BT-86), the terms (BT-20) and the due date (BT-9, into inv.DueDate).
func ciiPayment(v *values, set *node, inv *invoice.Invoice) invoice.Payment {
	var pay invoice.Payment
	for _, m := range set.all("SpecifiedTradeSettlementPaymentMeans") {
		acct := m.child("PayeePartyCreditorFinancialAccount")
		if iban := nonEmpty(acct.str("IBANID"), acct.str("ProprietaryID")); iban != "" {
			pay.IBAN = iban
			pay.BIC = m.str("PayeeSpecifiedCreditorFinancialInstitution", "BICID")
			break
		}
	}
	var terms []string
	for _, t := range set.all("SpecifiedTradePaymentTerms") {
		if s := t.str("Description"); s != "" {
			terms = append(terms, s)
		}
		if inv.DueDate == "" {
			inv.DueDate = v.ciiDate(t.child("DueDateDateTime"))
		}
	}
	pay.Terms = strings.Join(terms, "\n")
	return pay
}

// inCurrency picks the amount in the invoice currency among amounts that may repeat in
// the tax accounting currency: the only one, else the one whose currencyID is cur, else
// one without currencyID.
func inCurrency(amounts []*node, cur string) *node {
	if len(amounts) == 1 {
		return amounts[0]
	}
	for _, a := range amounts {
		if a.attr("currencyID") == cur {
			return a
		}
	}
	for _, a := range amounts {
		if a.attr("currencyID") == "" {
			return a
		}
	}
	return nil
}
