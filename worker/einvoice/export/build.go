package export

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// document is an invoice in EN 16931 terms, with every derivation done and every
// value cleaned, ready for either syntax's writer.
type document struct {
	Number     string    // BT-1
	IssueDate  time.Time // BT-2
	TypeCode   string    // BT-3
	CreditNote bool      // written as a UBL CreditNote
	Currency   string    // BT-5
	DueDate    time.Time // BT-9, zero when unknown
	BuyerRef   string    // BT-10
	Contract   string    // BT-12
	Order      string    // BT-13
	Despatch   string    // BT-16
	Terms      string    // BT-20
	PeriodFrom time.Time // BT-73
	PeriodTo   time.Time // BT-74

	Seller party // BG-4
	Buyer  party // BG-7

	IBAN string // BT-84
	BIC  string // BT-86

	Allowances []allowanceCharge // BG-20 and BG-21, in the model's order
	Breakdown  []taxRow          // BG-23

	LineTotal      int64  // BT-106
	AllowanceTotal *int64 // BT-107, nil when there is no allowance
	ChargeTotal    *int64 // BT-108, nil when there is no charge
	TaxBasis       int64  // BT-109
	Tax            int64  // BT-110
	Total          int64  // BT-112
	Prepaid        *int64 // BT-113
	Due            int64  // BT-115

	Lines []line // BG-25
}

// party is a seller or buyer.
type party struct {
	ID       string // BT-46 (buyer only): the customer number the seller gave
	Name     string // BT-27 / BT-44
	Address  Address
	Country  string // BT-40 / BT-55
	VATID    string // BT-31 / BT-48
	TaxRegID string // BT-32 (seller only)
	Phone    string // BT-42
	Email    string // BT-43
}

// vat is a VAT category and rate (hundredths of a percent); category O has no rate.
type vat struct {
	Category string
	Rate     int64
}

// hasRate reports whether the rate is written: every category but O has one.
func (v vat) hasRate() bool { return v.Category != "O" }

// taxRow is one row of the VAT breakdown.
type taxRow struct {
	vat
	Base   int64  // BT-116
	Amount int64  // BT-117
	Reason string // BT-120
}

// allowanceCharge is a document-level allowance (BG-20) or charge (BG-21).
type allowanceCharge struct {
	Charge     bool
	Amount     int64  // BT-92 / BT-99
	Base       *int64 // BT-93 / BT-100, nil when unknown
	Percent    *int64 // BT-94 / BT-101 in ten-thousandths, nil when unknown
	Reason     string // BT-97 / BT-104
	ReasonCode string // BT-98 / BT-105
	vat               // BT-95 / BT-102, BT-96 / BT-103
}

// line is one invoice line.
type line struct {
	ID       string // BT-126
	Name     string // BT-153
	Quantity int64  // BT-129, ten-thousandths
	Unit     string // BT-130
	Amount   int64  // BT-131
	Price    int64  // BT-146, ten-thousandths
	vat             // BT-151, BT-152
}

// typeCodes maps the model's DocumentType to BT-3 (UNTDID 1001).
var typeCodes = map[string]string{
	"":                    "380",
	invoice.DocInvoice:    "380",
	invoice.DocReceipt:    "380",
	invoice.DocCreditNote: "381",
	invoice.DocDebitNote:  "383",
	invoice.DocProforma:   "325",
}

// exemptCategories have a zero rate by definition (UNTDID 5305 as EN 16931 uses it).
var exemptCategories = map[string]bool{"Z": true, "E": true, "AE": true, "K": true, "G": true}

// reasonCategories need an exemption reason (BT-120 or its code BT-121).
var reasonCategories = map[string]bool{"E": true, "AE": true, "K": true, "G": true, "O": true}

// standardRates are VAT rates in use in Europe, for deriving the single breakdown row
// of an invoice that shows only its totals.
var standardRates = []int64{2700, 2500, 2400, 2300, 2200, 2100, 2000, 1900, 1800, 1700, 1600, 1500, 1400, 1300,
	1200, 1000, 900, 810, 800, 770, 700, 600, 550, 500, 380, 260, 250, 210}

// builder collects the missing terms while it builds a document.
type builder struct {
	data    invoice.ExtractedData
	missing []Term
	err     error // the first value derived out of bounds
}

// bounded reports whether a derived value fits the bounds of every amount, and records
// an error naming field when it does not.
func (b *builder) bounded(field string, v float64) bool {
	if math.Abs(v) <= maxAmount {
		return true
	}
	if b.err == nil {
		b.err = fmt.Errorf("write e-invoice: %s derived from the line's other numbers is %v, beyond ±%.0f: correct its quantity, unit price or amount", field, v, maxAmount)
	}
	return false
}

// miss records a missing term.
func (b *builder) miss(id, name, field string) {
	b.missing = append(b.missing, Term{ID: id, Name: name, Field: field})
}

// build turns data into a document, or returns a *MissingError naming every term the
// standard requires that data lacks.
func build(data invoice.ExtractedData) (*document, error) {
	b := &builder{data: data}
	inv := data.Invoice
	d := &document{}

	if err := checkNumbers(data); err != nil {
		return nil, err
	}
	d.Seller = b.seller()
	d.Buyer = b.buyer()
	b.header(d) // after the buyer: a customer number reference is the buyer's BT-46
	b.payment(d)
	b.totals(d)
	b.breakdown(d)
	b.lines(d)
	b.allowances(d)
	b.sellerIdentifier(d)
	b.paymentDue(d)
	if _, ok := typeCodes[inv.DocumentType]; !ok {
		return nil, fmt.Errorf("write e-invoice: unknown document type %q: use one of invoice, creditNote, debitNote, proforma, receipt", inv.DocumentType)
	}
	if b.err != nil {
		return nil, b.err
	}
	if len(b.missing) > 0 {
		return nil, &MissingError{Terms: b.missing}
	}
	return d, nil
}

// header fills the document-level terms BT-1..BT-20 and the service period.
func (b *builder) header(d *document) {
	inv := b.data.Invoice
	if d.Number = cleanText(inv.Number); d.Number == "" {
		b.miss("BT-1", "Invoice number", "invoice.number")
	}
	var ok bool
	if d.IssueDate, ok = parseDate(inv.Date); !ok {
		b.miss("BT-2", "Invoice issue date", "invoice.date")
	}
	d.TypeCode = typeCodes[inv.DocumentType]
	d.CreditNote = inv.DocumentType == invoice.DocCreditNote
	if c := strings.ToUpper(cleanText(inv.Amounts.Currency)); len(c) == 3 && isLetters(c) {
		d.Currency = c
	} else {
		b.miss("BT-5", "Invoice currency code", "invoice.amounts.currency")
	}
	// Optional dates that do not parse are left out rather than guessed.
	d.DueDate, _ = parseDate(inv.DueDate)
	d.PeriodFrom, _ = parseDate(inv.ServicePeriod.From)
	d.PeriodTo, _ = parseDate(inv.ServicePeriod.To)
	d.Terms = cleanText(inv.Payment.Terms)
	d.Order = cleanText(inv.PurchaseOrder)
	for _, r := range inv.References {
		v := cleanText(r.Value)
		if v == "" {
			continue
		}
		// EN 16931 has one place for each kind; the first of a kind wins.
		switch r.Kind {
		case invoice.RefOrder:
			d.Order = firstNonEmpty(d.Order, v)
		case invoice.RefContract:
			d.Contract = firstNonEmpty(d.Contract, v)
		case invoice.RefDeliveryNote:
			d.Despatch = firstNonEmpty(d.Despatch, v)
		case invoice.RefCustomerNumber:
			d.Buyer.ID = firstNonEmpty(d.Buyer.ID, v)
		case invoice.RefOther:
			d.BuyerRef = firstNonEmpty(d.BuyerRef, v)
		}
	}
}

// seller returns BG-4 and notes its missing terms.
func (b *builder) seller() party {
	s := b.data.Invoice.Supplier
	p := party{
		Name:    cleanText(s.Name),
		Address: ParseAddress(cleanText(s.Address)),
		Phone:   cleanText(s.Phone),
		Email:   cleanText(s.Email),
	}
	p.VATID, p.TaxRegID = splitTaxID(cleanText(s.TaxID))
	p.Country = partyCountry(s.Country, p.VATID)
	if p.Name == "" {
		b.miss("BT-27", "Seller name", "invoice.supplier.name")
	}
	if p.Country == "" {
		b.miss("BT-40", "Seller country code", "invoice.supplier.country")
	}
	return p
}

// buyer returns BG-7 and notes its missing terms. A buyer tax id that is not a VAT
// identifier has no place in EN 16931 and is left out.
func (b *builder) buyer() party {
	c := b.data.Invoice.Customer
	p := party{
		Name:    cleanText(c.Name),
		Address: ParseAddress(cleanText(c.Address)),
	}
	p.VATID, _ = splitTaxID(cleanText(c.TaxID))
	p.Country = partyCountry(c.Country, p.VATID)
	if p.Name == "" {
		b.miss("BT-44", "Buyer name", "invoice.customer.name")
	}
	if p.Country == "" {
		b.miss("BT-55", "Buyer country code", "invoice.customer.country")
	}
	return p
}

// splitTaxID returns id as a VAT identifier (BT-31/BT-48) when it starts with a
// country prefix (spaces, dots and dashes aside), or as a tax registration identifier
// (BT-32) otherwise. A VAT identifier is written as the invoice gives it, with its
// prefix in capitals (BR-CO-09 reads the first two characters); one whose prefix is
// split by a separator loses its spaces, dots and dashes.
func splitTaxID(id string) (vatID, taxReg string) {
	if id == "" {
		return "", ""
	}
	compact := strings.ToUpper(strings.NewReplacer(" ", "", ".", "", "-", "").Replace(id))
	if vatCountry(compact) == "" || !isLetters(compact[:2]) || !strings.ContainsAny(compact[2:], "0123456789") {
		return "", id
	}
	if isLetters(id[:2]) {
		return strings.ToUpper(id[:2]) + id[2:], ""
	}
	return compact, ""
}

// partyCountry returns the party's country (BT-40/BT-55): its Country when that is an
// ISO 3166-1 code, else the country of its VAT identifier's prefix, else "".
func partyCountry(country, vatID string) string {
	if c := strings.ToUpper(strings.TrimSpace(country)); isoCountries[c] {
		return c
	}
	return vatCountry(vatID)
}

// sellerIdentifier notes a missing seller VAT identifier. BR-CO-26 requires the
// seller identifier (BT-29), legal registration identifier (BT-30) or VAT identifier
// (BT-31); the model holds only the last. An invoice not subject to VAT (category O)
// is the exception: BR-O-02 forbids BT-31 there, so nothing the model holds can satisfy
// BR-CO-26 and it is written without.
func (b *builder) sellerIdentifier(d *document) {
	if d.Seller.VATID != "" {
		return
	}
	for _, r := range d.Breakdown {
		if r.Category == "O" {
			return
		}
	}
	b.miss("BT-31", "Seller VAT identifier", "invoice.supplier.taxId")
}

// paymentDue notes BR-CO-25: when an amount is due, the payment due date (BT-9) or
// the payment terms (BT-20) must say when.
func (b *builder) paymentDue(d *document) {
	if b.data.Invoice.AmountDue == nil && b.data.Invoice.Amounts.Total == nil || d.Due <= 0 || !d.DueDate.IsZero() || d.Terms != "" {
		return
	}
	b.miss("BR-CO-25", "Payment due date (BT-9) or payment terms (BT-20), as an amount is due", "invoice.dueDate")
}

// payment fills BG-16/BG-17 from the IBAN and BIC.
func (b *builder) payment(d *document) {
	p := b.data.Invoice.Payment
	d.IBAN = strings.ToUpper(strings.ReplaceAll(cleanText(p.IBAN), " ", ""))
	if d.IBAN != "" {
		d.BIC = strings.ToUpper(strings.ReplaceAll(cleanText(p.BIC), " ", ""))
	}
}

// totals fills BG-22 but BT-106 (the sum of the lines) and BT-110 (which depends on
// the breakdown).
func (b *builder) totals(d *document) {
	a := b.data.Invoice.Amounts
	if a.Subtotal == nil {
		b.miss("BT-109", "Invoice total amount without VAT", "invoice.amounts.subtotal")
	} else {
		d.TaxBasis = cents(*a.Subtotal)
	}
	if a.Total == nil {
		b.miss("BT-112", "Invoice total amount with VAT", "invoice.amounts.total")
	} else {
		d.Total = cents(*a.Total)
	}
	if a.Discount != nil {
		v := cents(*a.Discount)
		d.Prepaid = &v
	}
	switch {
	case b.data.Invoice.AmountDue != nil:
		d.Due = cents(*b.data.Invoice.AmountDue)
	case a.Total != nil:
		// BR-CO-16: the amount due is the total less what was paid (BT-113, none when
		// unknown), as the model has no rounding amount (BT-114).
		d.Due = d.Total
		if d.Prepaid != nil {
			d.Due -= *d.Prepaid
		}
	default:
		b.miss("BT-115", "Amount due for payment", "invoice.amountDue")
	}
}

// breakdown fills BG-23 and BT-110.
func (b *builder) breakdown(d *document) {
	inv := b.data.Invoice
	rows := inv.TaxBreakdown
	if len(rows) == 0 {
		row, ok := b.derivedRow()
		if !ok {
			b.miss("BG-23", "VAT breakdown", "invoice.taxBreakdown")
			return
		}
		d.Breakdown = []taxRow{row}
	}
	for i, r := range rows {
		if row, ok := b.row(i, r, len(rows)); ok {
			d.Breakdown = append(d.Breakdown, row)
		}
	}
	anyRate := false
	var sum int64
	for _, r := range d.Breakdown {
		anyRate = anyRate || r.Rate > 0
		sum += r.Amount
	}
	switch {
	case inv.Amounts.Tax != nil:
		d.Tax = cents(*inv.Amounts.Tax)
	case anyRate:
		b.miss("BT-110", "Invoice total VAT amount", "invoice.amounts.tax")
	default:
		// Every row is zero-rated, so the tax is the sum of their (zero) amounts.
		d.Tax = sum
	}
}

// derivedRow derives the one breakdown row of an invoice whose model has none: from
// the subtotal and tax when every line has the same rate, or when exactly one of the
// standard rates reproduces the tax from the subtotal to the cent. A zero rate is not
// derived, as its category (Z, E, ...) cannot be told.
func (b *builder) derivedRow() (taxRow, bool) {
	a := b.data.Invoice.Amounts
	if a.Subtotal == nil || a.Tax == nil {
		return taxRow{}, false
	}
	base, tax := cents(*a.Subtotal), cents(*a.Tax)
	// The rates the lines name: more than one means the split between them is unknown.
	var lineRates []int64
	allKnown := true
	for _, li := range b.data.LineItems {
		if li.TaxRate == nil {
			allKnown = false
		} else if r := cents(*li.TaxRate); !slices.Contains(lineRates, r) {
			lineRates = append(lineRates, r)
		}
	}
	if len(lineRates) > 1 || len(lineRates) == 1 && lineRates[0] == 0 {
		return taxRow{}, false
	}
	if allKnown && len(lineRates) == 1 {
		return taxRow{vat: vat{Category: "S", Rate: lineRates[0]}, Base: base, Amount: tax}, true
	}
	if tax == 0 {
		return taxRow{}, false
	}
	var found []int64
	for _, r := range standardRates {
		if percentOf(base, r) == tax {
			found = append(found, r)
		}
	}
	// One standard rate, and none of the lines says otherwise.
	if len(found) != 1 || len(lineRates) == 1 && lineRates[0] != found[0] {
		return taxRow{}, false
	}
	return taxRow{vat: vat{Category: "S", Rate: found[0]}, Base: base, Amount: tax}, true
}

// row turns the model's breakdown row i into BG-23 terms.
func (b *builder) row(i int, r invoice.TaxRate, n int) (taxRow, bool) {
	a := b.data.Invoice.Amounts
	field := fmt.Sprintf("invoice.taxBreakdown[%d]", i)
	row := taxRow{Reason: cleanText(r.ExemptionReason)}
	row.Category = strings.ToUpper(cleanText(r.Category))
	ok := true
	if reasonCategories[row.Category] && row.Reason == "" {
		// BR-E-10, BR-AE-10, BR-IC-10, BR-G-10, BR-O-10 (the model has no reason code).
		b.miss("BT-120", "VAT exemption reason text", field+".exemptionReason")
		ok = false
	}
	switch {
	case r.Rate != nil:
		row.Rate = cents(*r.Rate)
	case exemptCategories[row.Category], row.Category == "O":
		// These categories have no rate other than zero.
	default:
		b.miss("BT-119", "VAT category rate", field+".rate")
		ok = false
	}
	if row.Category == "" {
		if ok && row.Rate > 0 {
			row.Category = "S"
		} else {
			b.miss("BT-118", "VAT category code", field+".category")
			ok = false
		}
	}
	switch {
	case r.Base != nil:
		row.Base = cents(*r.Base)
	case n == 1 && a.Subtotal != nil:
		row.Base = cents(*a.Subtotal) // the only row taxes the whole net amount
	default:
		b.miss("BT-116", "VAT category taxable amount", field+".base")
		ok = false
	}
	switch {
	case r.Amount != nil:
		row.Amount = cents(*r.Amount)
	case ok && row.Rate == 0:
		row.Amount = 0
	case n == 1 && a.Tax != nil:
		row.Amount = cents(*a.Tax)
	case ok:
		// BR-CO-17: the tax of a row is its base times its rate, rounded to the cent.
		row.Amount = percentOf(row.Base, row.Rate)
	default:
		b.miss("BT-117", "VAT category tax amount", field+".amount")
	}
	return row, ok
}

// lines fills BG-25 and BT-106.
func (b *builder) lines(d *document) {
	if len(b.data.LineItems) == 0 {
		b.miss("BG-25", "Invoice line", "lineItems")
		return
	}
	for i, li := range b.data.LineItems {
		l, ok := b.line(i, li, d.Breakdown)
		if ok {
			d.Lines = append(d.Lines, l)
			d.LineTotal += l.Amount
		}
	}
}

// line turns line item i into BG-25 terms. Quantity, price and amount that are not
// all known are derived where one follows from the others: amount = quantity × price;
// a line with only an amount is one unit at that price.
func (b *builder) line(i int, li invoice.LineItem, rows []taxRow) (line, bool) {
	field := fmt.Sprintf("lineItems[%d]", i)
	l := line{ID: fmt.Sprint(i + 1), Name: cleanText(li.Description), Unit: cleanText(li.UnitCode)}
	ok := true
	if l.Name == "" {
		b.miss("BT-153", "Item name", field+".description")
		ok = false
	}
	if l.Unit == "" {
		l.Unit = "C62" // UN/ECE Rec 20 "one": the unit of a count
	}
	q, p, a := li.Quantity, li.UnitPrice, li.Amount
	switch {
	case a != nil:
		l.Amount = cents(*a)
	case q != nil && p != nil:
		if !b.bounded(field+".amount", *q**p) {
			return l, false
		}
		l.Amount = cents(*q * *p)
	default:
		b.miss("BT-131", "Invoice line net amount", field+".amount")
		return l, false
	}
	switch {
	case q != nil && p != nil:
		l.Quantity, l.Price = tenThousandths(*q), tenThousandths(*p)
	case q == nil && p == nil:
		l.Quantity, l.Price = 10000, l.Amount*100
	case q != nil && tenThousandths(*q) != 0:
		l.Quantity = tenThousandths(*q)
		v := float64(l.Amount) / 100 / *q
		if !b.bounded(field+".unitPrice", v) {
			return l, false
		}
		l.Price = tenThousandths(v)
	case p != nil && tenThousandths(*p) != 0:
		l.Price = tenThousandths(*p)
		v := float64(l.Amount) / 100 / *p
		if !b.bounded(field+".quantity", v) {
			return l, false
		}
		l.Quantity = tenThousandths(v)
	case q != nil:
		b.miss("BT-146", "Item net price", field+".unitPrice")
		ok = false
	default:
		b.miss("BT-129", "Invoiced quantity", field+".quantity")
		ok = false
	}
	if l.Price < 0 {
		// BR-27: a net price is never negative; a negative line is a negative quantity.
		l.Price, l.Quantity = -l.Price, -l.Quantity
	}
	v, vok := b.lineVAT(i, li, rows)
	l.vat = v
	return l, ok && vok
}

// lineVAT returns the line's VAT category and rate (BT-151, BT-152): the category of
// the breakdown row with the line's rate, "S" for a positive rate no row names, or the
// only row's category and rate for a line without a rate.
func (b *builder) lineVAT(i int, li invoice.LineItem, rows []taxRow) (vat, bool) {
	field := fmt.Sprintf("lineItems[%d].taxRate", i)
	if li.TaxRate == nil {
		if len(rows) == 1 {
			return rows[0].vat, true
		}
		if len(rows) > 1 {
			b.miss("BT-152", "Invoiced item VAT rate", field)
		}
		// Without any breakdown row BG-23 is reported already.
		return vat{}, false
	}
	rate := cents(*li.TaxRate)
	var match []string
	for _, r := range rows {
		if r.Rate == rate && !slices.Contains(match, r.Category) {
			match = append(match, r.Category)
		}
	}
	switch {
	case len(match) == 1:
		return vat{Category: match[0], Rate: rate}, true
	case len(match) == 0 && rate > 0:
		return vat{Category: "S", Rate: rate}, true
	}
	b.miss("BT-151", "Invoiced item VAT category code", field)
	return vat{}, false
}

// allowances fills BG-20, BG-21, BT-107 and BT-108 from the model's allowances and
// charges. When they do not explain the difference between BT-109 and BT-106
// (BR-CO-13: BT-109 = BT-106 - BT-107 + BT-108), the rest is written as one more
// allowance or charge in the category of the only breakdown row; with several rows the
// category of the rest cannot be told and BR-CO-13 is reported missing.
func (b *builder) allowances(d *document) {
	allOK := true
	for i, a := range b.data.Invoice.Allowances {
		ac, ok := b.allowance(i, a, d.Breakdown)
		if !ok {
			allOK = false
			continue
		}
		d.addAllowance(ac)
	}
	if !allOK || b.data.Invoice.Amounts.Subtotal == nil || len(d.Lines) != len(b.data.LineItems) || len(d.Lines) == 0 {
		return // the difference is not known
	}
	diff := d.TaxBasis - d.netOfLines()
	if diff == 0 {
		return
	}
	if len(d.Breakdown) != 1 {
		if len(d.Breakdown) > 1 {
			b.miss("BR-CO-13", "Invoice total amount without VAT = sum of line net amounts - allowances + charges: "+
				"the difference of "+amount(diff)+" cannot be given one VAT category among several breakdown rows; "+
				"complete or correct the line items or the allowances and charges", "invoice.allowances")
		}
		return
	}
	ac := allowanceCharge{Charge: diff > 0, Amount: diff, Reason: "Difference between line total and invoice net total", vat: d.Breakdown[0].vat}
	if diff < 0 {
		ac.Amount = -diff
	}
	d.addAllowance(ac)
}

// addAllowance appends ac and adds its amount to BT-107 or BT-108.
func (d *document) addAllowance(ac allowanceCharge) {
	d.Allowances = append(d.Allowances, ac)
	total := &d.AllowanceTotal
	if ac.Charge {
		total = &d.ChargeTotal
	}
	if *total == nil {
		*total = new(int64)
	}
	**total += ac.Amount
}

// netOfLines is BT-106 - BT-107 + BT-108, what BT-109 must be (BR-CO-13).
func (d *document) netOfLines() int64 {
	net := d.LineTotal
	if d.AllowanceTotal != nil {
		net -= *d.AllowanceTotal
	}
	if d.ChargeTotal != nil {
		net += *d.ChargeTotal
	}
	return net
}

// allowance turns the model's allowance or charge i into BG-20 or BG-21 terms. A
// category that is not given is "S" for a positive rate, or the only breakdown row's;
// a rate that is not given is zero for the categories without one, or the rate of the
// only breakdown row of the category.
func (b *builder) allowance(i int, a invoice.Allowance, rows []taxRow) (allowanceCharge, bool) {
	field := fmt.Sprintf("invoice.allowances[%d]", i)
	terms := allowanceTerms
	if a.Charge {
		terms = chargeTerms
	}
	ac := allowanceCharge{Charge: a.Charge, Reason: cleanText(a.Reason), ReasonCode: strings.ToUpper(cleanText(a.ReasonCode))}
	ok := true
	if a.Amount == nil {
		b.miss(terms[0].id, terms[0].name, field+".amount")
		ok = false
	} else {
		ac.Amount = cents(*a.Amount)
	}
	if a.Base != nil {
		v := cents(*a.Base)
		ac.Base = &v
	}
	if a.Percent != nil {
		v := tenThousandths(*a.Percent)
		ac.Percent = &v
	}
	if ac.Reason == "" && ac.ReasonCode == "" {
		// BR-33 / BR-38: a reason or a reason code.
		b.miss(terms[1].id, terms[1].name, field+".reason")
		ok = false
	}
	ac.Category = strings.ToUpper(cleanText(a.Category))
	switch {
	case ac.Category != "":
	case a.Rate != nil && cents(*a.Rate) > 0:
		ac.Category = "S"
	case len(rows) == 1 && (a.Rate == nil || cents(*a.Rate) == rows[0].Rate):
		ac.vat = rows[0].vat
		return ac, ok
	default:
		b.miss(terms[2].id, terms[2].name, field+".category")
		return ac, false
	}
	var same []int64
	for _, r := range rows {
		if r.Category == ac.Category && !slices.Contains(same, r.Rate) {
			same = append(same, r.Rate)
		}
	}
	switch {
	case a.Rate != nil:
		ac.Rate = cents(*a.Rate)
	case exemptCategories[ac.Category], ac.Category == "O":
		// These categories have no rate other than zero.
	case len(same) == 1:
		ac.Rate = same[0]
	default:
		b.miss(terms[3].id, terms[3].name, field+".rate")
		ok = false
	}
	return ac, ok
}

// termName is a business term's identifier and name.
type termName struct{ id, name string }

// allowanceTerms and chargeTerms are the required terms of BG-20 and BG-21: amount,
// reason (or its code), VAT category, VAT rate.
var (
	allowanceTerms = [4]termName{
		{"BT-92", "Document level allowance amount"},
		{"BT-97", "Document level allowance reason (or its code BT-98)"},
		{"BT-95", "Document level allowance VAT category code"},
		{"BT-96", "Document level allowance VAT rate"},
	}
	chargeTerms = [4]termName{
		{"BT-99", "Document level charge amount"},
		{"BT-104", "Document level charge reason (or its code BT-105)"},
		{"BT-102", "Document level charge VAT category code"},
		{"BT-103", "Document level charge VAT rate"},
	}
)

// maxAmount bounds every number of the model, far above any real invoice, so that the
// integer arithmetic in hundredths and ten-thousandths cannot overflow.
const maxAmount = 1e12

// checkNumbers returns an error naming the first number of data (rates first, then
// header, breakdown, allowances and lines, in that order) that is not finite or beyond ±maxAmount.
func checkNumbers(data invoice.ExtractedData) error {
	bad := func(v *float64) bool { return v != nil && !(math.Abs(*v) <= maxAmount) }
	fail := func(field string, v *float64) error {
		return fmt.Errorf("write e-invoice: %s is %v, not an amount between -%.0f and %.0f: correct it", field, *v, maxAmount, maxAmount)
	}
	inv := data.Invoice
	header := []*float64{inv.Amounts.Subtotal, inv.Amounts.Tax, inv.Amounts.Total, inv.Amounts.Discount, inv.AmountDue}
	headerNames := []string{"invoice.amounts.subtotal", "invoice.amounts.tax", "invoice.amounts.total", "invoice.amounts.discount", "invoice.amountDue"}
	for i, v := range header {
		if bad(v) {
			return fail(headerNames[i], v)
		}
	}
	badRate := func(v *float64) bool { return v != nil && !(*v >= 0 && *v <= 100) }
	rateErr := func(field string, v *float64) error {
		return fmt.Errorf("write e-invoice: %s is %v, not a VAT rate in percent (0 to 100): correct it", field, *v)
	}
	for i, r := range inv.TaxBreakdown {
		if badRate(r.Rate) {
			return rateErr(fmt.Sprintf("invoice.taxBreakdown[%d].rate", i), r.Rate)
		}
	}
	for i, li := range data.LineItems {
		if badRate(li.TaxRate) {
			return rateErr(fmt.Sprintf("lineItems[%d].taxRate", i), li.TaxRate)
		}
	}
	rowNames := []string{"rate", "base", "amount"}
	for i, r := range inv.TaxBreakdown {
		for j, v := range []*float64{r.Rate, r.Base, r.Amount} {
			if bad(v) {
				return fail(fmt.Sprintf("invoice.taxBreakdown[%d].%s", i, rowNames[j]), v)
			}
		}
	}
	for i, a := range inv.Allowances {
		if badRate(a.Rate) {
			return rateErr(fmt.Sprintf("invoice.allowances[%d].rate", i), a.Rate)
		}
		for j, v := range []*float64{a.Amount, a.Base, a.Percent} {
			if bad(v) {
				return fail(fmt.Sprintf("invoice.allowances[%d].%s", i, []string{"amount", "base", "percent"}[j]), v)
			}
		}
	}
	lineNames := []string{"quantity", "unitPrice", "amount", "taxRate"}
	for i, li := range data.LineItems {
		for j, v := range []*float64{li.Quantity, li.UnitPrice, li.Amount, li.TaxRate} {
			if bad(v) {
				return fail(fmt.Sprintf("lineItems[%d].%s", i, lineNames[j]), v)
			}
		}
	}
	return nil
}

// percentOf returns rate (hundredths of a percent) of base (cents) in cents, rounded
// half away from zero.
func percentOf(base, rate int64) int64 {
	return int64(math.Round(float64(base) * float64(rate) / 10000))
}

// isLetters reports whether s is ASCII letters only.
func isLetters(s string) bool {
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return s != ""
}

// firstNonEmpty returns a, or b when a is empty.
func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
