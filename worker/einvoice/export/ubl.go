package export

import (
	"encoding/xml"
	"time"
)

// The UBL structs follow the element order of UBL-Invoice-2.1.xsd, UBL-CreditNote-2.1.xsd
// and UBL-CommonAggregateComponents-2.1.xsd. An Invoice and a CreditNote differ in their
// root, their type code element, where the due date goes (BT-9: cbc:DueDate of an
// Invoice, cac:PaymentMeans/cbc:PaymentDueDate of a CreditNote), and the
// line element; the elements written come in the same order in both, so
// ublDocument carries both and writeUBL fills the fields of one.

const (
	nsUBLInvoice    = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
	nsUBLCreditNote = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
)

type ublDocument struct {
	XMLName            xml.Name             `xml:""`
	Xmlns              string               `xml:"xmlns,attr"`
	Cac                string               `xml:"xmlns:cac,attr"`
	Cbc                string               `xml:"xmlns:cbc,attr"`
	CustomizationID    string               `xml:"cbc:CustomizationID"`
	ID                 string               `xml:"cbc:ID"`
	IssueDate          string               `xml:"cbc:IssueDate"`
	DueDate            string               `xml:"cbc:DueDate,omitempty"`
	InvoiceTypeCode    string               `xml:"cbc:InvoiceTypeCode,omitempty"`
	CreditNoteTypeCode string               `xml:"cbc:CreditNoteTypeCode,omitempty"`
	Currency           string               `xml:"cbc:DocumentCurrencyCode"`
	BuyerReference     string               `xml:"cbc:BuyerReference,omitempty"`
	Period             *ublPeriod           `xml:"cac:InvoicePeriod"`
	Order              *ublID               `xml:"cac:OrderReference"`
	Despatch           *ublID               `xml:"cac:DespatchDocumentReference"`
	Contract           *ublID               `xml:"cac:ContractDocumentReference"`
	Supplier           ublParty             `xml:"cac:AccountingSupplierParty>cac:Party"`
	Customer           ublParty             `xml:"cac:AccountingCustomerParty>cac:Party"`
	PaymentMeans       *ublPaymentMeans     `xml:"cac:PaymentMeans"`
	PaymentTerms       *ublPaymentTerms     `xml:"cac:PaymentTerms"`
	AllowanceCharges   []ublAllowanceCharge `xml:"cac:AllowanceCharge"`
	TaxTotal           ublTaxTotal          `xml:"cac:TaxTotal"`
	MonetaryTotal      ublMonetaryTotal     `xml:"cac:LegalMonetaryTotal"`
	InvoiceLines       []ublLine            `xml:"cac:InvoiceLine"`
	CreditNoteLines    []ublCreditNoteLine  `xml:"cac:CreditNoteLine"`
}

type ublPeriod struct {
	Start string `xml:"cbc:StartDate,omitempty"`
	End   string `xml:"cbc:EndDate,omitempty"`
}

type ublID struct {
	ID string `xml:"cbc:ID"`
}

type ublParty struct {
	Identification *ublID         `xml:"cac:PartyIdentification"`
	Address        ublAddress     `xml:"cac:PostalAddress"`
	TaxSchemes     []ublTaxScheme `xml:"cac:PartyTaxScheme"`
	Name           string         `xml:"cac:PartyLegalEntity>cbc:RegistrationName"`
	Contact        *ublContact    `xml:"cac:Contact"`
}

type ublAddress struct {
	Street      string       `xml:"cbc:StreetName,omitempty"`
	Additional  string       `xml:"cbc:AdditionalStreetName,omitempty"`
	City        string       `xml:"cbc:CityName,omitempty"`
	Postcode    string       `xml:"cbc:PostalZone,omitempty"`
	Subdivision string       `xml:"cbc:CountrySubentity,omitempty"`
	Line        *ublLineText `xml:"cac:AddressLine"`
	Country     string       `xml:"cac:Country>cbc:IdentificationCode"`
}

type ublLineText struct {
	Line string `xml:"cbc:Line"`
}

type ublTaxScheme struct {
	CompanyID string `xml:"cbc:CompanyID"`
	Scheme    string `xml:"cac:TaxScheme>cbc:ID"`
}

type ublContact struct {
	Phone string `xml:"cbc:Telephone,omitempty"`
	Email string `xml:"cbc:ElectronicMail,omitempty"`
}

type ublPaymentMeans struct {
	Code    string      `xml:"cbc:PaymentMeansCode"`
	DueDate string      `xml:"cbc:PaymentDueDate,omitempty"`
	Account *ublAccount `xml:"cac:PayeeFinancialAccount"`
}

type ublAccount struct {
	IBAN   string `xml:"cbc:ID"`
	Branch *ublID `xml:"cac:FinancialInstitutionBranch"` // nil without a BIC
}

type ublPaymentTerms struct {
	Note string `xml:"cbc:Note"`
}

type ublAllowanceCharge struct {
	ChargeIndicator bool           `xml:"cbc:ChargeIndicator"`
	ReasonCode      string         `xml:"cbc:AllowanceChargeReasonCode,omitempty"`
	Reason          string         `xml:"cbc:AllowanceChargeReason,omitempty"`
	Percent         string         `xml:"cbc:MultiplierFactorNumeric,omitempty"`
	Amount          ublAmount      `xml:"cbc:Amount"`
	BaseAmount      *ublAmount     `xml:"cbc:BaseAmount"`
	TaxCategory     ublTaxCategory `xml:"cac:TaxCategory"`
}

type ublAmount struct {
	Currency string `xml:"currencyID,attr"`
	Value    string `xml:",chardata"`
}

type ublTaxCategory struct {
	ID      string `xml:"cbc:ID"`
	Percent string `xml:"cbc:Percent,omitempty"`
	Reason  string `xml:"cbc:TaxExemptionReason,omitempty"`
	Scheme  string `xml:"cac:TaxScheme>cbc:ID"`
}

type ublTaxTotal struct {
	Amount    ublAmount        `xml:"cbc:TaxAmount"`
	Subtotals []ublTaxSubtotal `xml:"cac:TaxSubtotal"`
}

type ublTaxSubtotal struct {
	Taxable  ublAmount      `xml:"cbc:TaxableAmount"`
	Amount   ublAmount      `xml:"cbc:TaxAmount"`
	Category ublTaxCategory `xml:"cac:TaxCategory"`
}

type ublMonetaryTotal struct {
	LineExtension  ublAmount  `xml:"cbc:LineExtensionAmount"`
	TaxExclusive   ublAmount  `xml:"cbc:TaxExclusiveAmount"`
	TaxInclusive   ublAmount  `xml:"cbc:TaxInclusiveAmount"`
	AllowanceTotal *ublAmount `xml:"cbc:AllowanceTotalAmount"`
	ChargeTotal    *ublAmount `xml:"cbc:ChargeTotalAmount"`
	Prepaid        *ublAmount `xml:"cbc:PrepaidAmount"`
	Payable        ublAmount  `xml:"cbc:PayableAmount"`
}

type ublLine struct {
	ID            string      `xml:"cbc:ID"`
	Quantity      ublQuantity `xml:"cbc:InvoicedQuantity"`
	LineExtension ublAmount   `xml:"cbc:LineExtensionAmount"`
	Item          ublItem     `xml:"cac:Item"`
	Price         ublAmount   `xml:"cac:Price>cbc:PriceAmount"`
}

type ublCreditNoteLine struct {
	ID            string      `xml:"cbc:ID"`
	Quantity      ublQuantity `xml:"cbc:CreditedQuantity"`
	LineExtension ublAmount   `xml:"cbc:LineExtensionAmount"`
	Item          ublItem     `xml:"cac:Item"`
	Price         ublAmount   `xml:"cac:Price>cbc:PriceAmount"`
}

type ublQuantity struct {
	UnitCode string `xml:"unitCode,attr"`
	Value    string `xml:",chardata"`
}

type ublItem struct {
	Name        string         `xml:"cbc:Name"`
	TaxCategory ublTaxCategory `xml:"cac:ClassifiedTaxCategory"`
}

// writeUBL returns d as a UBL Invoice, or a CreditNote for a credit note.
func writeUBL(d *document) ([]byte, error) {
	amt := func(c int64) ublAmount { return ublAmount{Currency: d.Currency, Value: amount(c)} }
	doc := ublDocument{
		Cac:             "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
		Cbc:             "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
		CustomizationID: Specification,
		ID:              d.Number,
		IssueDate:       ublDate(d.IssueDate),
		Currency:        d.Currency,
		BuyerReference:  d.BuyerRef,
		Order:           ublRef(d.Order),
		Despatch:        ublRef(d.Despatch),
		Contract:        ublRef(d.Contract),
		Supplier:        ublPartyOf(d.Seller, true),
		Customer:        ublPartyOf(d.Buyer, false),
	}
	if d.CreditNote {
		doc.XMLName.Local, doc.Xmlns = "CreditNote", nsUBLCreditNote
		doc.CreditNoteTypeCode = d.TypeCode
	} else {
		doc.XMLName.Local, doc.Xmlns = "Invoice", nsUBLInvoice
		doc.InvoiceTypeCode = d.TypeCode
		doc.DueDate = ublDate(d.DueDate)
	}
	if !d.PeriodFrom.IsZero() || !d.PeriodTo.IsZero() {
		doc.Period = &ublPeriod{Start: ublDate(d.PeriodFrom), End: ublDate(d.PeriodTo)}
	}
	switch {
	case d.IBAN != "":
		doc.PaymentMeans = &ublPaymentMeans{Code: "58", Account: &ublAccount{IBAN: d.IBAN, Branch: ublRef(d.BIC)}}
	case d.CreditNote && !d.DueDate.IsZero():
		// A CreditNote carries its due date only in payment means, whose code is
		// required; "1" (instrument not defined) says no more than the invoice does.
		doc.PaymentMeans = &ublPaymentMeans{Code: "1"}
	}
	if d.CreditNote && doc.PaymentMeans != nil {
		doc.PaymentMeans.DueDate = ublDate(d.DueDate)
	}
	if d.Terms != "" {
		doc.PaymentTerms = &ublPaymentTerms{Note: d.Terms}
	}
	doc.TaxTotal.Amount = amt(d.Tax)
	for _, r := range d.Breakdown {
		doc.TaxTotal.Subtotals = append(doc.TaxTotal.Subtotals, ublTaxSubtotal{
			Taxable:  amt(r.Base),
			Amount:   amt(r.Amount),
			Category: ublCategory(r.vat, r.Reason),
		})
	}
	mt := ublMonetaryTotal{
		LineExtension: amt(d.LineTotal),
		TaxExclusive:  amt(d.TaxBasis),
		TaxInclusive:  amt(d.Total),
		Payable:       amt(d.Due),
	}
	for _, ac := range d.Allowances {
		u := ublAllowanceCharge{
			ChargeIndicator: ac.Charge,
			ReasonCode:      ac.ReasonCode,
			Reason:          ac.Reason,
			Percent:         optional(ac.Percent, price), // BT-94 is a percentage in UBL too
			Amount:          amt(ac.Amount),
			TaxCategory:     ublCategory(ac.vat, ""),
		}
		if ac.Base != nil {
			base := amt(*ac.Base)
			u.BaseAmount = &base
		}
		doc.AllowanceCharges = append(doc.AllowanceCharges, u)
	}
	if d.AllowanceTotal != nil {
		total := amt(*d.AllowanceTotal)
		mt.AllowanceTotal = &total
	}
	if d.ChargeTotal != nil {
		total := amt(*d.ChargeTotal)
		mt.ChargeTotal = &total
	}
	if d.Prepaid != nil {
		p := amt(*d.Prepaid)
		mt.Prepaid = &p
	}
	doc.MonetaryTotal = mt
	for _, l := range d.Lines {
		q := ublQuantity{UnitCode: l.Unit, Value: quantity(l.Quantity)}
		item := ublItem{Name: l.Name, TaxCategory: ublCategory(l.vat, "")}
		p := ublAmount{Currency: d.Currency, Value: price(l.Price)}
		if d.CreditNote {
			doc.CreditNoteLines = append(doc.CreditNoteLines, ublCreditNoteLine{ID: l.ID, Quantity: q, LineExtension: amt(l.Amount), Item: item, Price: p})
		} else {
			doc.InvoiceLines = append(doc.InvoiceLines, ublLine{ID: l.ID, Quantity: q, LineExtension: amt(l.Amount), Item: item, Price: p})
		}
	}
	return marshal(doc)
}

// ublPartyOf returns a seller's or buyer's party.
func ublPartyOf(p party, seller bool) ublParty {
	u := ublParty{
		Name: p.Name,
		Address: ublAddress{
			Street:      addressLine(p.Address, 0),
			Additional:  addressLine(p.Address, 1),
			City:        p.Address.City,
			Postcode:    p.Address.Postcode,
			Subdivision: p.Address.Subdivision,
			Country:     p.Country,
		},
	}
	if l := addressLine(p.Address, 2); l != "" {
		u.Address.Line = &ublLineText{Line: l}
	}
	if p.ID != "" {
		u.Identification = &ublID{ID: p.ID}
	}
	if p.VATID != "" {
		u.TaxSchemes = append(u.TaxSchemes, ublTaxScheme{CompanyID: p.VATID, Scheme: "VAT"})
	}
	if p.TaxRegID != "" {
		u.TaxSchemes = append(u.TaxSchemes, ublTaxScheme{CompanyID: p.TaxRegID, Scheme: "FC"})
	}
	if seller && (p.Phone != "" || p.Email != "") {
		u.Contact = &ublContact{Phone: p.Phone, Email: p.Email}
	}
	return u
}

// ublCategory returns a VAT category with its rate (none for category O).
func ublCategory(v vat, reason string) ublTaxCategory {
	c := ublTaxCategory{ID: v.Category, Reason: reason, Scheme: "VAT"}
	if v.hasRate() {
		c.Percent = amount(v.Rate)
	}
	return c
}

// ublDate returns t as YYYY-MM-DD, "" for the zero time.
func ublDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// ublRef returns a reference with the given id, nil for none.
func ublRef(id string) *ublID {
	if id == "" {
		return nil
	}
	return &ublID{ID: id}
}
