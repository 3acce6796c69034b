package einvoice

import (
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// readUBL maps a UBL 2.x Invoice or CreditNote to the model, by the EN 16931 business
// terms (BT-n) named in the comments.
func readUBL(root *node) (*Document, error) {
	var v values
	d := newData()
	inv := &d.Invoice
	credit := root.local == "CreditNote"

	doc := &Document{TypeCode: root.str("InvoiceTypeCode|CreditNoteTypeCode")}
	doc.Info.Profile = root.str("CustomizationID") // BT-24

	inv.Number = root.str("ID")                             // BT-1
	inv.Date = v.ublDate(root.child("IssueDate"))           // BT-2
	inv.DocumentType = documentType(doc.TypeCode, credit)   // BT-3
	inv.Amounts.Currency = root.str("DocumentCurrencyCode") // BT-5
	inv.PurchaseOrder = root.str("OrderReference", "ID")    // BT-13

	inv.Supplier = ublSupplier(root.child("AccountingSupplierParty", "Party")) // BG-4
	buyer := root.child("AccountingCustomerParty", "Party")                    // BG-7
	inv.Customer = invoice.Customer{
		Name:    nonEmpty(buyer.str("PartyLegalEntity", "RegistrationName"), buyer.str("PartyName", "Name")), // BT-44
		Address: FormatAddress(ublAddress(buyer.child("PostalAddress"))),                                     // BG-8
		Country: buyer.str("PostalAddress", "Country", "IdentificationCode"),                                 // BT-55
		TaxID:   ublTaxID(buyer),                                                                             // BT-48
	}

	sum := root.child("LegalMonetaryTotal")
	var taxAmounts []*node
	for _, t := range root.all("TaxTotal") {
		if a := t.child("TaxAmount"); a != nil {
			taxAmounts = append(taxAmounts, a)
		}
	}
	taxAmount := inCurrency(taxAmounts, inv.Amounts.Currency)
	inv.Amounts.Subtotal = v.number(sum.child("TaxExclusiveAmount")) // BT-109
	inv.Amounts.Tax = v.number(taxAmount)                            // BT-110
	inv.Amounts.Total = v.number(sum.child("TaxInclusiveAmount"))    // BT-112
	inv.Amounts.Discount = v.number(sum.child("PrepaidAmount"))      // BT-113
	inv.AmountDue = v.number(sum.child("PayableAmount"))             // BT-115

	for _, t := range root.all("TaxTotal") { // BG-23, in the tax total of the invoice currency
		if taxAmount != nil && t.child("TaxAmount") != taxAmount {
			continue
		}
		for _, st := range t.all("TaxSubtotal") {
			cat := st.child("TaxCategory")
			inv.TaxBreakdown = append(inv.TaxBreakdown, invoice.TaxRate{
				Rate:            v.number(cat.child("Percent")),      // BT-119
				Base:            v.number(st.child("TaxableAmount")), // BT-116
				Amount:          v.number(st.child("TaxAmount")),     // BT-117
				Category:        cat.str("ID"),                       // BT-118
				ExemptionReason: cat.str("TaxExemptionReason"),       // BT-120
			})
		}
	}

	for _, ac := range root.all("AllowanceCharge") { // BG-20, BG-21
		cat := ac.child("TaxCategory")
		inv.Allowances = append(inv.Allowances, invoice.Allowance{
			Charge:     v.indicator(ac.child("ChargeIndicator")),
			Amount:     v.number(ac.child("Amount")),                  // BT-92 / BT-99
			Base:       v.number(ac.child("BaseAmount")),              // BT-93 / BT-100
			Percent:    v.number(ac.child("MultiplierFactorNumeric")), // BT-94 / BT-101
			Reason:     ac.str("AllowanceChargeReason"),               // BT-97 / BT-104
			ReasonCode: ac.str("AllowanceChargeReasonCode"),           // BT-98 / BT-105
			Category:   cat.str("ID"),                                 // BT-95 / BT-102
			Rate:       v.number(cat.child("Percent")),                // BT-96 / BT-103
		})
	}

	period := root.child("InvoicePeriod") // BG-14
	inv.ServicePeriod = invoice.Period{
		From: v.ublDate(period.child("StartDate")), // BT-73
		To:   v.ublDate(period.child("EndDate")),   // BT-74
	}

	refs := appendRef(nil, invoice.RefContract, root.str("ContractDocumentReference", "ID"))     // BT-12
	refs = appendRef(refs, invoice.RefDeliveryNote, root.str("DespatchDocumentReference", "ID")) // BT-16
	refs = appendRef(refs, invoice.RefOther, root.str("BuyerReference"))                         // BT-10
	for _, r := range root.all("BillingReference") {                                             // BT-25
		refs = appendRef(refs, invoice.RefOther, r.str("InvoiceDocumentReference", "ID"))
	}
	refs = appendRef(refs, invoice.RefOther, ublProject(root)) // BT-11
	inv.References = refs

	inv.DueDate = v.ublDate(root.child("DueDate")) // BT-9 (Invoice)
	var terms []string
	for _, t := range root.all("PaymentTerms") {
		for _, n := range t.all("Note") {
			if s := n.value(); s != "" {
				terms = append(terms, s)
			}
		}
	}
	inv.Payment.Terms = strings.Join(terms, "\n") // BT-20
	for _, m := range root.all("PaymentMeans") {
		if inv.DueDate == "" {
			inv.DueDate = v.ublDate(m.child("PaymentDueDate")) // BT-9 (CreditNote)
		}
		if acct := m.child("PayeeFinancialAccount"); inv.Payment.IBAN == "" && acct.str("ID") != "" {
			inv.Payment.IBAN = acct.str("ID")                              // BT-84
			inv.Payment.BIC = acct.str("FinancialInstitutionBranch", "ID") // BT-86
		}
	}

	for _, li := range root.all("InvoiceLine|CreditNoteLine") { // BG-25
		qty := li.child("InvoicedQuantity|CreditedQuantity")
		price := li.child("Price")
		d.LineItems = append(d.LineItems, invoice.LineItem{
			Description: li.str("Item", "Name"),                                                                 // BT-153
			Quantity:    v.number(qty),                                                                          // BT-129
			UnitCode:    qty.attr("unitCode"),                                                                   // BT-130
			UnitPrice:   unitPrice(v.number(price.child("PriceAmount")), v.number(price.child("BaseQuantity"))), // BT-146 / BT-149
			Amount:      v.number(li.child("LineExtensionAmount")),                                              // BT-131
			TaxRate:     v.number(li.child("Item", "ClassifiedTaxCategory", "Percent")),                         // BT-152
		})
	}
	if v.err != nil {
		return nil, v.err
	}
	doc.Data = d
	return doc, nil
}

// ublSupplier reads the seller (BG-4).
func ublSupplier(p *node) invoice.Supplier {
	email := p.str("Contact", "ElectronicMail") // BT-43
	if email == "" {
		if ep := p.child("EndpointID"); ep.attr("schemeID") == "EM" { // BT-34
			email = ep.value()
		}
	}
	return invoice.Supplier{
		Name:    nonEmpty(p.str("PartyLegalEntity", "RegistrationName"), p.str("PartyName", "Name")), // BT-27, BT-28
		Address: FormatAddress(ublAddress(p.child("PostalAddress"))),                                 // BG-5
		Country: p.str("PostalAddress", "Country", "IdentificationCode"),                             // BT-40
		TaxID:   ublTaxID(p),                                                                         // BT-31, BT-32
		Email:   email,
		Phone:   p.str("Contact", "Telephone"), // BT-42
	}
}

// ublAddress reads a PostalAddress.
func ublAddress(a *node) Address {
	var out Address
	for _, s := range []string{a.str("StreetName"), a.str("AdditionalStreetName"), a.str("AddressLine", "Line")} {
		if s != "" {
			out.Lines = append(out.Lines, s)
		}
	}
	out.Postcode = a.str("PostalZone")
	out.City = a.str("CityName")
	out.Subdivision = a.str("CountrySubentity")
	return out
}

// ublTaxID is the party's VAT identifier (tax scheme VAT), else its other tax
// registration (the seller's tax number BT-32).
func ublTaxID(p *node) string {
	var other string
	for _, ts := range p.all("PartyTaxScheme") {
		id := ts.str("CompanyID")
		if id == "" {
			continue
		}
		if ts.str("TaxScheme", "ID") == "VAT" {
			return id
		}
		if other == "" {
			other = id
		}
	}
	return other
}

// ublProject is the project reference (BT-11): ProjectReference in an Invoice, an
// AdditionalDocumentReference with type code 50 in a CreditNote.
func ublProject(root *node) string {
	if id := root.str("ProjectReference", "ID"); id != "" {
		return id
	}
	for _, r := range root.all("AdditionalDocumentReference") {
		if r.str("DocumentTypeCode") == "50" {
			return r.str("ID")
		}
	}
	return ""
}
