package export

import (
	"encoding/xml"
	"fmt"
	"time"
)

// The CII structs follow the element order of the Factur-X EN 16931 schema
// (FACTUR-X_EN16931.xsd and its ram: module), whose sequences are strict; optional
// elements are pointers or omitempty so that an unknown term is left out.

type ciiInvoice struct {
	XMLName     xml.Name       `xml:"rsm:CrossIndustryInvoice"`
	Rsm         string         `xml:"xmlns:rsm,attr"`
	Ram         string         `xml:"xmlns:ram,attr"`
	Qdt         string         `xml:"xmlns:qdt,attr"`
	Udt         string         `xml:"xmlns:udt,attr"`
	Context     ciiContext     `xml:"rsm:ExchangedDocumentContext"`
	Document    ciiDocument    `xml:"rsm:ExchangedDocument"`
	Transaction ciiTransaction `xml:"rsm:SupplyChainTradeTransaction"`
}

type ciiContext struct {
	GuidelineID string `xml:"ram:GuidelineSpecifiedDocumentContextParameter>ram:ID"`
}

type ciiDocument struct {
	ID        string      `xml:"ram:ID"`
	TypeCode  string      `xml:"ram:TypeCode"`
	IssueDate ciiDateTime `xml:"ram:IssueDateTime"`
}

type ciiDateTime struct {
	Value ciiDateString `xml:"udt:DateTimeString"`
}

type ciiDateString struct {
	Format string `xml:"format,attr"`
	Value  string `xml:",chardata"`
}

type ciiTransaction struct {
	Lines      []ciiLine     `xml:"ram:IncludedSupplyChainTradeLineItem"`
	Agreement  ciiAgreement  `xml:"ram:ApplicableHeaderTradeAgreement"`
	Delivery   ciiDelivery   `xml:"ram:ApplicableHeaderTradeDelivery"`
	Settlement ciiSettlement `xml:"ram:ApplicableHeaderTradeSettlement"`
}

type ciiLine struct {
	LineID     string            `xml:"ram:AssociatedDocumentLineDocument>ram:LineID"`
	Name       string            `xml:"ram:SpecifiedTradeProduct>ram:Name"`
	NetPrice   string            `xml:"ram:SpecifiedLineTradeAgreement>ram:NetPriceProductTradePrice>ram:ChargeAmount"`
	Quantity   ciiQuantity       `xml:"ram:SpecifiedLineTradeDelivery>ram:BilledQuantity"`
	Settlement ciiLineSettlement `xml:"ram:SpecifiedLineTradeSettlement"`
}

type ciiQuantity struct {
	UnitCode string `xml:"unitCode,attr"`
	Value    string `xml:",chardata"`
}

type ciiLineSettlement struct {
	Tax       ciiTax `xml:"ram:ApplicableTradeTax"`
	LineTotal string `xml:"ram:SpecifiedTradeSettlementLineMonetarySummation>ram:LineTotalAmount"`
}

// ciiTax is a ram:TradeTaxType: a breakdown row, a line's or an allowance's VAT.
type ciiTax struct {
	CalculatedAmount string `xml:"ram:CalculatedAmount,omitempty"`
	TypeCode         string `xml:"ram:TypeCode"`
	ExemptionReason  string `xml:"ram:ExemptionReason,omitempty"`
	BasisAmount      string `xml:"ram:BasisAmount,omitempty"`
	CategoryCode     string `xml:"ram:CategoryCode"`
	Rate             string `xml:"ram:RateApplicablePercent,omitempty"`
}

type ciiAgreement struct {
	BuyerReference string         `xml:"ram:BuyerReference,omitempty"`
	Seller         ciiParty       `xml:"ram:SellerTradeParty"`
	Buyer          ciiParty       `xml:"ram:BuyerTradeParty"`
	Order          *ciiReferenced `xml:"ram:BuyerOrderReferencedDocument"`
	Contract       *ciiReferenced `xml:"ram:ContractReferencedDocument"`
}

type ciiReferenced struct {
	ID string `xml:"ram:IssuerAssignedID"`
}

type ciiParty struct {
	ID              string               `xml:"ram:ID,omitempty"`
	Name            string               `xml:"ram:Name"`
	Contact         *ciiContact          `xml:"ram:DefinedTradeContact"`
	Address         ciiAddress           `xml:"ram:PostalTradeAddress"`
	TaxRegistration []ciiTaxRegistration `xml:"ram:SpecifiedTaxRegistration"`
}

type ciiContact struct {
	Phone string `xml:"ram:TelephoneUniversalCommunication>ram:CompleteNumber,omitempty"`
	Email string `xml:"ram:EmailURIUniversalCommunication>ram:URIID,omitempty"`
}

type ciiAddress struct {
	Postcode    string `xml:"ram:PostcodeCode,omitempty"`
	LineOne     string `xml:"ram:LineOne,omitempty"`
	LineTwo     string `xml:"ram:LineTwo,omitempty"`
	LineThree   string `xml:"ram:LineThree,omitempty"`
	City        string `xml:"ram:CityName,omitempty"`
	Country     string `xml:"ram:CountryID"`
	Subdivision string `xml:"ram:CountrySubDivisionName,omitempty"`
}

type ciiTaxRegistration struct {
	ID ciiSchemedID `xml:"ram:ID"`
}

type ciiSchemedID struct {
	SchemeID string `xml:"schemeID,attr"`
	Value    string `xml:",chardata"`
}

type ciiDelivery struct {
	Despatch *ciiReferenced `xml:"ram:DespatchAdviceReferencedDocument"`
}

type ciiSettlement struct {
	Currency        string               `xml:"ram:InvoiceCurrencyCode"`
	PaymentMeans    *ciiPaymentMeans     `xml:"ram:SpecifiedTradeSettlementPaymentMeans"`
	Taxes           []ciiTax             `xml:"ram:ApplicableTradeTax"`
	Period          *ciiPeriod           `xml:"ram:BillingSpecifiedPeriod"`
	AllowanceCharge []ciiAllowanceCharge `xml:"ram:SpecifiedTradeAllowanceCharge"`
	PaymentTerms    *ciiPaymentTerms     `xml:"ram:SpecifiedTradePaymentTerms"`
	Summation       ciiSummation         `xml:"ram:SpecifiedTradeSettlementHeaderMonetarySummation"`
}

type ciiPaymentMeans struct {
	TypeCode string   `xml:"ram:TypeCode"`
	IBAN     string   `xml:"ram:PayeePartyCreditorFinancialAccount>ram:IBANID"`
	Bank     *ciiBank `xml:"ram:PayeeSpecifiedCreditorFinancialInstitution"` // nil without a BIC: the schema requires BICID in it
}

type ciiBank struct {
	BIC string `xml:"ram:BICID"`
}

type ciiPeriod struct {
	Start *ciiDateTime `xml:"ram:StartDateTime"`
	End   *ciiDateTime `xml:"ram:EndDateTime"`
}

type ciiAllowanceCharge struct {
	ChargeIndicator    bool   `xml:"ram:ChargeIndicator>udt:Indicator"`
	CalculationPercent string `xml:"ram:CalculationPercent,omitempty"`
	BasisAmount        string `xml:"ram:BasisAmount,omitempty"`
	ActualAmount       string `xml:"ram:ActualAmount"`
	ReasonCode         string `xml:"ram:ReasonCode,omitempty"`
	Reason             string `xml:"ram:Reason,omitempty"`
	Tax                ciiTax `xml:"ram:CategoryTradeTax"`
}

type ciiPaymentTerms struct {
	Description string       `xml:"ram:Description,omitempty"`
	DueDate     *ciiDateTime `xml:"ram:DueDateDateTime"`
}

type ciiSummation struct {
	LineTotal      string       `xml:"ram:LineTotalAmount"`
	ChargeTotal    string       `xml:"ram:ChargeTotalAmount,omitempty"`
	AllowanceTotal string       `xml:"ram:AllowanceTotalAmount,omitempty"`
	TaxBasisTotal  string       `xml:"ram:TaxBasisTotalAmount"`
	TaxTotal       ciiAmountCur `xml:"ram:TaxTotalAmount"`
	GrandTotal     string       `xml:"ram:GrandTotalAmount"`
	Prepaid        string       `xml:"ram:TotalPrepaidAmount,omitempty"`
	DuePayable     string       `xml:"ram:DuePayableAmount"`
}

type ciiAmountCur struct {
	Currency string `xml:"currencyID,attr"`
	Value    string `xml:",chardata"`
}

// writeCII returns d as a CII CrossIndustryInvoice.
func writeCII(d *document) ([]byte, error) {
	inv := ciiInvoice{
		Rsm:      "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
		Ram:      "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
		Qdt:      "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
		Udt:      "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
		Context:  ciiContext{GuidelineID: Specification},
		Document: ciiDocument{ID: d.Number, TypeCode: d.TypeCode, IssueDate: *ciiDate(d.IssueDate)},
	}
	t := &inv.Transaction
	for _, l := range d.Lines {
		t.Lines = append(t.Lines, ciiLine{
			LineID:   l.ID,
			Name:     l.Name,
			NetPrice: price(l.Price),
			Quantity: ciiQuantity{UnitCode: l.Unit, Value: quantity(l.Quantity)},
			Settlement: ciiLineSettlement{
				Tax:       ciiTax{TypeCode: "VAT", CategoryCode: l.Category, Rate: ciiRate(l.vat)},
				LineTotal: amount(l.Amount),
			},
		})
	}
	t.Agreement = ciiAgreement{
		BuyerReference: d.BuyerRef,
		Seller:         ciiPartyOf(d.Seller, true),
		Buyer:          ciiPartyOf(d.Buyer, false),
		Order:          ciiRef(d.Order),
		Contract:       ciiRef(d.Contract),
	}
	t.Delivery = ciiDelivery{Despatch: ciiRef(d.Despatch)}
	s := &t.Settlement
	s.Currency = d.Currency
	if d.IBAN != "" {
		s.PaymentMeans = &ciiPaymentMeans{TypeCode: "58", IBAN: d.IBAN}
		if d.BIC != "" {
			s.PaymentMeans.Bank = &ciiBank{BIC: d.BIC}
		}
	}
	for _, r := range d.Breakdown {
		s.Taxes = append(s.Taxes, ciiTax{
			CalculatedAmount: amount(r.Amount),
			TypeCode:         "VAT",
			ExemptionReason:  r.Reason,
			BasisAmount:      amount(r.Base),
			CategoryCode:     r.Category,
			Rate:             ciiRate(r.vat),
		})
	}
	if !d.PeriodFrom.IsZero() || !d.PeriodTo.IsZero() {
		s.Period = &ciiPeriod{Start: ciiDate(d.PeriodFrom), End: ciiDate(d.PeriodTo)}
	}
	sum := ciiSummation{
		LineTotal:     amount(d.LineTotal),
		TaxBasisTotal: amount(d.TaxBasis),
		TaxTotal:      ciiAmountCur{Currency: d.Currency, Value: amount(d.Tax)},
		GrandTotal:    amount(d.Total),
		DuePayable:    amount(d.Due),
	}
	for _, ac := range d.Allowances {
		s.AllowanceCharge = append(s.AllowanceCharge, ciiAllowanceCharge{
			ChargeIndicator:    ac.Charge,
			CalculationPercent: optional(ac.Percent, price),
			BasisAmount:        optional(ac.Base, amount),
			ActualAmount:       amount(ac.Amount),
			ReasonCode:         ac.ReasonCode,
			Reason:             ac.Reason,
			Tax:                ciiTax{TypeCode: "VAT", CategoryCode: ac.Category, Rate: ciiRate(ac.vat)},
		})
	}
	sum.AllowanceTotal = optional(d.AllowanceTotal, amount)
	sum.ChargeTotal = optional(d.ChargeTotal, amount)
	if d.Terms != "" || !d.DueDate.IsZero() {
		s.PaymentTerms = &ciiPaymentTerms{Description: d.Terms, DueDate: ciiDate(d.DueDate)}
	}
	if d.Prepaid != nil {
		sum.Prepaid = amount(*d.Prepaid)
	}
	s.Summation = sum
	return marshal(inv)
}

// ciiPartyOf returns a seller's or buyer's trade party.
func ciiPartyOf(p party, seller bool) ciiParty {
	c := ciiParty{
		ID:   p.ID,
		Name: p.Name,
		Address: ciiAddress{
			Postcode:    p.Address.Postcode,
			LineOne:     addressLine(p.Address, 0),
			LineTwo:     addressLine(p.Address, 1),
			LineThree:   addressLine(p.Address, 2),
			City:        p.Address.City,
			Country:     p.Country,
			Subdivision: p.Address.Subdivision,
		},
	}
	if seller && (p.Phone != "" || p.Email != "") {
		c.Contact = &ciiContact{Phone: p.Phone, Email: p.Email}
	}
	// The schema allows one registration of each scheme; "FC" is the seller's tax
	// number, "VA" a VAT identifier.
	if p.TaxRegID != "" {
		c.TaxRegistration = append(c.TaxRegistration, ciiTaxRegistration{ciiSchemedID{SchemeID: "FC", Value: p.TaxRegID}})
	}
	if p.VATID != "" {
		c.TaxRegistration = append(c.TaxRegistration, ciiTaxRegistration{ciiSchemedID{SchemeID: "VA", Value: p.VATID}})
	}
	return c
}

// ciiDate returns t in format 102 (YYYYMMDD), nil for the zero time.
func ciiDate(t time.Time) *ciiDateTime {
	if t.IsZero() {
		return nil
	}
	return &ciiDateTime{Value: ciiDateString{Format: "102", Value: t.Format("20060102")}}
}

// ciiRef returns a referenced document with the given id, nil for none.
func ciiRef(id string) *ciiReferenced {
	if id == "" {
		return nil
	}
	return &ciiReferenced{ID: id}
}

// ciiRate returns the rate of v as written, "" for category O, which has none.
func ciiRate(v vat) string {
	if !v.hasRate() {
		return ""
	}
	return amount(v.Rate)
}

// marshal returns v as indented XML with a declaration.
func marshal(v any) ([]byte, error) {
	out, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("write e-invoice: encode XML: %w", err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}
