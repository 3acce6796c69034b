package synth

import (
	"bytes"
	"encoding/json"
)

// Record is one line of truth.jsonl, in the format of the development data
// (../shared/data/invoices-dev/README.md) with the wider field set: amounts.duePayable
// (amountDue), orderReference (purchaseOrder), customer.vatId (customer.taxId) and
// meta.typeCode (documentType, UNTDID 1001: 380 invoice, 381 credit note) are the keys
// worker/extract/evaluate scores; documentType, amounts.discount, taxBreakdown,
// servicePeriod, references and payment are written under the names of the
// extraction's own output for scoring to come.
type Record struct {
	File      string         `json:"file"`
	Invoice   TruthInvoice   `json:"invoice"`
	LineItems []TruthItem    `json:"lineItems,omitempty"`
	Meta      map[string]any `json:"meta"`
}

// TruthInvoice is the true invoice header.
type TruthInvoice struct {
	Number         string        `json:"number,omitempty"`
	Date           string        `json:"date,omitempty"`
	DueDate        string        `json:"dueDate,omitempty"`
	DocumentType   string        `json:"documentType"`
	Supplier       TruthParty    `json:"supplier"`
	Customer       TruthParty    `json:"customer"`
	OrderReference string        `json:"orderReference,omitempty"`
	Amounts        TruthAmounts  `json:"amounts"`
	TaxBreakdown   []TruthRate   `json:"taxBreakdown,omitempty"`
	ServicePeriod  *TruthPeriod  `json:"servicePeriod,omitempty"`
	References     []TruthRef    `json:"references,omitempty"`
	Payment        *TruthPayment `json:"payment,omitempty"`
}

// TruthParty is a true supplier or customer.
type TruthParty struct {
	Name    string        `json:"name,omitempty"`
	Address *TruthAddress `json:"address,omitempty"`
	TaxID   string        `json:"taxId,omitempty"`
	VatID   string        `json:"vatId,omitempty"`
}

// TruthAddress is a structured address; evaluation matches its postcode and city.
type TruthAddress struct {
	Line1    string `json:"line1"`
	Postcode string `json:"postcode"`
	City     string `json:"city"`
	Country  string `json:"country"`
}

// TruthAmounts are the true amounts. Total is the gross invoice total including tax;
// Discount the deductions after it (agency commission); Prepaid a prepayment;
// DuePayable what is left to pay.
type TruthAmounts struct {
	Subtotal   *float64 `json:"subtotal,omitempty"`
	Tax        *float64 `json:"tax,omitempty"`
	Total      *float64 `json:"total,omitempty"`
	Discount   *float64 `json:"discount,omitempty"`
	Prepaid    *float64 `json:"prepaid,omitempty"`
	DuePayable *float64 `json:"duePayable,omitempty"`
	Currency   string   `json:"currency,omitempty"`
}

// TruthRate is one row of the tax breakdown.
type TruthRate struct {
	Rate   float64 `json:"rate"`
	Base   float64 `json:"base"`
	Amount float64 `json:"amount"`
}

// TruthPeriod is the service, delivery or flight period.
type TruthPeriod struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// TruthRef is a reference printed on the document.
type TruthRef struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// TruthPayment holds the payment account.
type TruthPayment struct {
	IBAN string `json:"iban,omitempty"`
	BIC  string `json:"bic,omitempty"`
}

// TruthItem is a true line item.
type TruthItem struct {
	Description string   `json:"description"`
	Quantity    float64  `json:"quantity"`
	UnitPrice   float64  `json:"unitPrice"`
	TaxRate     *float64 `json:"taxRate,omitempty"`
	Amount      float64  `json:"amount"`
}

func fp(m money) *float64 { v := m.float(); return &v }

func truthParty(p party, vat string) TruthParty {
	return TruthParty{
		Name:    p.fullName(),
		Address: &TruthAddress{Line1: p.street, Postcode: p.postcode, City: p.city, Country: p.country},
		TaxID:   p.taxID,
		VatID:   vat,
	}
}

// truth derives the record of d from the same values the layout prints.
func (d *doc) truth(file string, pages int) Record {
	r := Record{File: file, Meta: map[string]any{
		"lang": d.lang, "kinds": d.kinds, "pages": pages, "typeCode": "380", "note": d.note,
	}}
	inv := &r.Invoice
	inv.Number = d.number
	inv.Date = iso(d.date)
	inv.DueDate = iso(d.due)
	inv.DocumentType = "invoice"
	if d.credit {
		inv.DocumentType = "creditNote"
		r.Meta["typeCode"] = "381"
	}
	inv.Supplier = truthParty(d.supplier, "")
	inv.Customer = truthParty(d.customer, d.custVAT)
	inv.OrderReference = d.po
	a := &inv.Amounts
	a.Currency = d.currency
	a.Total = fp(d.total())
	if !d.noTax {
		a.Subtotal = fp(d.subtotal())
		a.Tax = fp(d.tax())
		for _, b := range d.breakdown() {
			inv.TaxBreakdown = append(inv.TaxBreakdown, TruthRate{Rate: b.rate, Base: b.base.float(), Amount: b.amount.float()})
		}
	}
	if d.commission > 0 {
		a.Discount = fp(d.discount())
	}
	if d.prepaid != 0 {
		a.Prepaid = fp(d.prepaid)
	}
	a.DuePayable = fp(d.amountDue())
	if !d.period[0].IsZero() {
		inv.ServicePeriod = &TruthPeriod{From: iso(d.period[0]), To: iso(d.period[1])}
	}
	for _, x := range d.refs {
		inv.References = append(inv.References, TruthRef{Kind: x.kind, Value: x.value})
	}
	if d.custNo != "" {
		inv.References = append(inv.References, TruthRef{Kind: "customerNumber", Value: d.custNo})
	}
	if d.po != "" {
		inv.References = append(inv.References, TruthRef{Kind: "order", Value: d.po})
	}
	if d.iban != "" {
		inv.Payment = &TruthPayment{IBAN: d.iban, BIC: d.bic}
	}
	for _, it := range d.items {
		ti := TruthItem{Description: it.desc, Quantity: it.qty, UnitPrice: it.price.float(), Amount: it.amount().float()}
		if !d.noTax {
			ti.TaxRate = &it.rate
		}
		r.LineItems = append(r.LineItems, ti)
	}
	return r
}

// marshalLine writes a record as one JSON line without HTML escaping.
func marshalLine(r Record) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
