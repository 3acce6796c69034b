// Package extract turns a read document (worker/layout) into invoice data: the invoice
// number, dates, parties, tax id, totals, currency and line items, each with a confidence,
// and the validation results.
//
// Two sources of values are merged field by field. Generic rules work on any invoice:
// labels in English, German, French, Spanish, Italian and Dutch are found on the page and
// their values are read where a person would look (after the label on the same line, in
// the next column, or below it), using word boxes so that the same rules serve text layers
// and OCR. An invoice2data template (worker/extract/templates), when one is given or
// selected by its keywords, takes precedence for every field it finds.
//
// Every value found has evidence (Result.Evidence): the page and box where it is
// printed, the words as printed, its source and confidence. Locate and Locator find
// where any value of a field is printed, for e-invoices and supplier profiles too.
package extract

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract/templates"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/validate"
)

// Options tune one extraction. The zero value runs the generic rules only.
type Options struct {
	// Template, when set, is applied to the document whatever its keywords say.
	Template *templates.Template
	// Templates are candidates; the one whose keywords match (templates.Select) is applied.
	Templates []*templates.Template
	// Spec is the job template's spec (required fields, currency, decimal separator,
	// languages); it may be nil. When Template is nil and Spec has fields or keywords, a
	// template is built from it.
	Spec *invoice.TemplateSpec
	// Receipt forces receipt rules (supplier = shop name at the top, no invoice number).
	// When false they are used when the document looks like a till receipt.
	Receipt bool
	// Now bounds plausible dates in validation; zero means time.Now().
	Now time.Time
	// Without switches generic rules off, to measure what each is worth (evaluation
	// only; see Rule).
	Without []Rule
	// NoEvidence leaves Result.Evidence nil, for callers that only want the values.
	NoEvidence bool
}

// Result is everything extraction produces for one document.
type Result struct {
	Data       invoice.ExtractedData
	Confidence invoice.Confidence
	Validation invoice.ValidationResults
	// Template is the name of the template that was applied ("" for generic rules only).
	Template string
	// Language is the detected language of the text (Tesseract code, e.g. "deu").
	Language string
	// Warnings are problems that did not stop extraction (e.g. a template that failed).
	Warnings []string
	// Evidence has an entry for every non-empty field of Data (invoice.Fields paths,
	// line items cell by cell: "lineItems[3].amount"): where the value is printed (Page
	// 0 and the value as text when it is not found on a page), the page's source or
	// invoice.SourceTemplate for a template's value, and the field's confidence from
	// Confidence (a line item's cells: that of "lineItems"). Nil with
	// Options.NoEvidence.
	Evidence map[string]invoice.Evidence
}

// Extract reads invoice data from doc. It never panics on odd input; it returns an error
// only when doc is nil. Unknown values stay empty (strings) or nil (amounts), and their
// fields have no confidence entry.
//
// The steps run in this order because later ones use what earlier ones found: the
// currency decides the date order, the customer is left out of the tax id search, the
// line items are evidence for the subtotal, the supplier's tax id for the currency, and
// the template and validation see everything the generic rules found.
func Extract(ld *layout.Document, opts Options) (Result, error) {
	if ld == nil {
		return Result{}, fmt.Errorf("extract: no document")
	}
	x := newExtraction(ld, opts)
	x.findNumberAndDates()
	x.findParties()
	x.findAmounts(x.findItems())
	x.setCurrency()
	x.setItems()
	x.setTaxBreakdown()
	x.findWider()
	x.applyTemplate()
	x.setCountries()
	res := x.validate()
	if !opts.NoEvidence {
		res.Evidence = x.evidence(res)
	}
	return res, nil
}

// extraction is the state of one Extract call, filled in step by step.
type extraction struct {
	ld   *layout.Document
	opts Options
	now  time.Time
	d    *doc

	receipt bool
	cur     cand // the currency named on the document, when curOK
	curOK   bool

	res  Result
	data invoice.ExtractedData
	conf map[string]float64
	// rows are the rows the generic rules read each field from (evidence prefers them).
	rows map[string]int
	// tplPaths are the fields the template set, tplItems whether it set the line items.
	tplPaths map[string]bool
	tplItems bool

	numberScore float64
	// refNumber is left out of the references; a policy or contract number that stands
	// in for a missing invoice number stays one of them.
	refNumber     string
	cus           party
	items         []invoice.LineItem
	itemConf      float64
	breakdown     []taxRow
	t             totals
	receiptAgrees bool
	// spec is the template spec validation checks against: the job's, or the applied
	// template's.
	spec *invoice.TemplateSpec
}

// newExtraction prepares the document: words into rows, language, decimal separator,
// currency, date order, and whether it is a till receipt.
func newExtraction(ld *layout.Document, opts Options) *extraction {
	x := &extraction{ld: ld, opts: opts, now: opts.Now, conf: map[string]float64{}, rows: map[string]int{}, receiptAgrees: true, spec: opts.Spec,
		data: invoice.ExtractedData{LineItems: []invoice.LineItem{}}}
	if x.now.IsZero() {
		x.now = time.Now()
	}
	d := buildDoc(ld)
	x.d = d
	d.rules = newRuleSet(opts.Without)
	d.lang = detectLanguage(d.text)
	x.res.Language = d.lang
	d.dec = detectDecimalSep(d.text)
	if opts.Spec != nil && opts.Spec.Options.DecimalSeparator != "" {
		d.dec = DecimalSep(opts.Spec.Options.DecimalSeparator[0])
	}
	x.cur, x.curOK = d.findCurrency()
	if d.rules.on(RuleDateOrder) {
		d.order = detectDateOrder(d.text, d.lang, x.curOK && x.cur.str == "USD")
	}
	x.receipt = opts.Receipt || d.rules.on(RuleReceiptDetect) && looksLikeReceipt(d)
	if x.receipt {
		d.fixReceiptAmounts()
	}
	return x
}

// set records the confidence of path's value: how the value was found, times how sure
// the reader was of its words.
func (x *extraction) set(path string, c cand) {
	x.conf[path] = layout.Clamp01(c.score * (0.5 + 0.5*c.conf))
	if c.how != "" && c.how != "derived" && c.how != "breakdown" && c.how != "symbol" {
		x.rows[path] = c.row
	}
}

// setString stores a found text value and its confidence; an empty value is left out.
func (x *extraction) setString(path string, c cand, dst *string) {
	if c.str != "" {
		*dst = c.str
		x.set(path, c)
	}
}

// findNumberAndDates finds the invoice number (on a receipt only under a clear label),
// the invoice date and the due date.
func (x *extraction) findNumberAndDates() {
	inv := &x.data.Invoice
	if c, ok := x.d.findNumber(); ok && (!x.receipt || c.score >= 0.7) {
		inv.Number = c.str
		x.numberScore = c.score
		x.set("invoice.number", c)
		if !c.fallback {
			x.refNumber = c.str
		}
	}
	if c, ok := x.d.findDate(); ok {
		inv.Date = c.str
		x.set("invoice.date", c)
	}
	if c, ok := x.d.findDueDate(); ok {
		inv.DueDate = c.str
		x.set("invoice.dueDate", c)
	}
}

// findParties finds the supplier (a receipt's shop at its top), the customer, and the
// supplier's tax id (not the customer's).
func (x *extraction) findParties() {
	inv := &x.data.Invoice
	var sup party
	if x.receipt {
		sup = x.d.receiptHeader()
	} else {
		sup, x.cus = x.d.findParties(x.receipt)
	}
	x.setString("invoice.supplier.name", sup.name, &inv.Supplier.Name)
	x.setString("invoice.supplier.address", sup.address, &inv.Supplier.Address)
	x.setString("invoice.customer.name", x.cus.name, &inv.Customer.Name)
	x.setString("invoice.customer.address", x.cus.address, &inv.Customer.Address)
	if c, ok := x.d.findTaxID(x.cus); ok {
		inv.Supplier.TaxID = c.str
		x.set("invoice.supplier.taxId", c)
	}
}

// findItems reads the line items (none on a receipt) and returns their sum, the evidence
// for the subtotal, when every item has an amount and the rule is on.
func (x *extraction) findItems() *float64 {
	if x.receipt {
		return nil
	}
	x.items, x.itemConf = x.d.findItems()
	if len(x.items) == 0 && x.d.rules.on(RuleChargeOutline) {
		x.items, x.itemConf = x.d.outlineItems()
	}
	if sum, ok := itemSum(x.items); ok && x.d.rules.on(RuleItemSum) {
		return &sum
	}
	return nil
}

// itemSum is the sum of the line amounts in cents; false when there are no items or
// one has no amount.
func itemSum(items []invoice.LineItem) (float64, bool) {
	if len(items) == 0 {
		return 0, false
	}
	sum := 0.0
	for _, li := range items {
		if li.Amount == nil {
			return 0, false
		}
		sum += *li.Amount
	}
	return round2(sum), true
}

// findAmounts chooses subtotal, tax, total, deduction and amount due, and stores them.
func (x *extraction) findAmounts(itemSum *float64) {
	// Several tax rates: subtotal and tax are the sums over the breakdown.
	x.breakdown = x.d.findTaxBreakdown()
	x.t = x.d.findTotals(itemSum, x.breakdown)
	if x.receipt {
		x.useReceiptTotal()
	}
	x.deriveTax()
	x.useBreakdownSums()
	x.d.chooseDue(&x.t)
	x.setAmounts()
}

// useReceiptTotal takes a receipt's total from its till lines; a subtotal above it goes.
func (x *extraction) useReceiptTotal() {
	c, agrees, ok := x.d.receiptTotal()
	if !ok {
		return
	}
	x.receiptAgrees = agrees
	x.t.total = &c
	if x.t.subtotal != nil && x.t.subtotal.num > c.num+0.005 {
		x.t.subtotal = nil
	}
}

// deriveTax: tax is what lies between net and gross when that difference is printed.
func (x *extraction) deriveTax() {
	t := &x.t
	if t.subtotal == nil || t.total == nil || t.consistent || !x.d.rules.on(RuleDerivedTax) {
		return
	}
	if diff := round2(t.total.num - t.subtotal.num); diff >= 0 && (t.tax == nil || math.Abs(t.tax.num-diff) > 0.005) && x.d.hasAmount(diff) {
		t.tax = &cand{num: diff, score: 0.6, conf: t.total.conf, how: "derived"}
	}
}

// useBreakdownSums: with several tax rates, subtotal and tax are the sums over the
// breakdown when those add up to the total.
func (x *extraction) useBreakdownSums() {
	t := &x.t
	if len(x.breakdown) == 0 || t.total == nil || !x.d.rules.on(RuleBreakdownSums) {
		return
	}
	bs, bt := sums(x.breakdown)
	if len(x.breakdown) > 1 && math.Abs(bs+bt-t.total.num) <= 0.011 &&
		(t.subtotal == nil || t.tax == nil || math.Abs(t.subtotal.num-bs) > 0.005 || math.Abs(t.tax.num-bt) > 0.005) {
		t.subtotal = &cand{num: bs, score: 0.8, conf: t.total.conf, how: "breakdown"}
		t.tax = &cand{num: bt, score: 0.8, conf: t.total.conf, how: "breakdown"}
		t.consistent, t.unsatisfied = true, false
	}
}

// setAmounts stores the chosen amounts in cents with their confidences.
func (x *extraction) setAmounts() {
	inv := &x.data.Invoice
	for _, f := range []struct {
		path string
		c    *cand
		dst  **float64
	}{{"invoice.amounts.subtotal", x.t.subtotal, &inv.Amounts.Subtotal}, {"invoice.amounts.tax", x.t.tax, &inv.Amounts.Tax}, {"invoice.amounts.total", x.t.total, &inv.Amounts.Total},
		{"invoice.amounts.discount", x.t.discount, &inv.Amounts.Discount}, {"invoice.amountDue", x.t.due, &inv.AmountDue}} {
		if f.c != nil {
			v := round2(f.c.num)
			*f.dst = &v
			x.set(f.path, *f.c)
		}
	}
}

// setCurrency stores the currency named on the document, else the one its context
// suggests; the job's spec names it when the document does not.
func (x *extraction) setCurrency() {
	inv := &x.data.Invoice
	if x.curOK {
		inv.Amounts.Currency = x.cur.str
		x.set("invoice.amounts.currency", x.cur)
	} else if c := currencyFromContext(inv.Supplier.TaxID, x.d.lang); c != "" && x.d.rules.on(RuleCurrencyContext) {
		inv.Amounts.Currency = c
		x.conf["invoice.amounts.currency"] = 0.4
	}
	if x.opts.Spec != nil && x.opts.Spec.Options.Currency != "" && !x.curOK {
		inv.Amounts.Currency = strings.ToUpper(x.opts.Spec.Options.Currency)
		x.conf["invoice.amounts.currency"] = 0.8
	}
}

// setItems stores the line items. Net line amounts add up to the subtotal: when no
// subtotal is labelled, their sum is it, provided the document prints that amount.
func (x *extraction) setItems() {
	if x.receipt {
		return
	}
	inv := &x.data.Invoice
	if len(x.items) > 0 {
		x.data.LineItems = x.items
		x.conf["lineItems"] = layout.Clamp01(0.6 * (0.5 + 0.5*x.itemConf))
	}
	if inv.Amounts.Subtotal == nil && x.d.rules.on(RuleItemSum) {
		if sum, ok := itemSum(x.items); ok && sum > 0 && x.d.hasAmount(sum) {
			inv.Amounts.Subtotal = &sum
			x.conf["invoice.amounts.subtotal"] = 0.5
		}
	}
}

// setTaxBreakdown reports the tax breakdown when it agrees with the chosen amounts.
func (x *extraction) setTaxBreakdown() {
	if len(x.breakdown) == 0 {
		return
	}
	inv := &x.data.Invoice
	bs, bt := sums(x.breakdown)
	agrees := inv.Amounts.Tax != nil && math.Abs(*inv.Amounts.Tax-bt) <= 0.011 ||
		inv.Amounts.Subtotal != nil && math.Abs(*inv.Amounts.Subtotal-bs) <= 0.011 ||
		inv.Amounts.Total != nil && math.Abs(*inv.Amounts.Total-bs-bt) <= 0.011
	if !agrees {
		return
	}
	for _, tr := range x.breakdown {
		inv.TaxBreakdown = append(inv.TaxBreakdown, invoice.TaxRate{Rate: invoice.Float(tr.rate), Base: invoice.Float(round2(tr.base)), Amount: invoice.Float(round2(tr.amount))})
	}
	x.conf["invoice.taxBreakdown"] = 0.8
}

// findWider finds the fields beyond the core ones: document type, service period,
// references and purchase order, payment, the customer's tax id and the supplier's
// contacts.
func (x *extraction) findWider() {
	d, inv := x.d, &x.data.Invoice
	if typ, c := d.findDocumentType(x.receipt, x.numberScore); typ != "" {
		inv.DocumentType = typ
		x.conf["invoice.documentType"] = c
	}
	if p, c := d.findServicePeriod(); p.From != "" {
		inv.ServicePeriod = p
		x.conf["invoice.servicePeriod"] = layout.Clamp01(c)
	}
	x.setReferences()
	pay, pc := d.findPayment()
	inv.Payment = pay
	for k, v := range pc {
		x.conf[k] = v
	}
	if c, ok := d.findCustomerTaxID(x.cus, inv.Supplier.TaxID); ok && !x.receipt {
		inv.Customer.TaxID = c.str
		x.set("invoice.customer.taxId", c)
	}
	x.setContacts()
}

// setReferences stores the references; the first order reference is the purchase order.
func (x *extraction) setReferences() {
	inv := &x.data.Invoice
	inv.References = x.d.findReferences(x.refNumber)
	for _, r := range inv.References {
		if r.Kind == invoice.RefOrder {
			inv.PurchaseOrder = r.Value
			x.conf["invoice.purchaseOrder"] = 0.8
			break
		}
	}
	if len(inv.References) > 0 {
		x.conf["invoice.references"] = 0.75
	}
}

// setContacts stores the supplier's e-mail, phone and website.
func (x *extraction) setContacts() {
	inv := &x.data.Invoice
	email, phone, web := x.d.findContacts(x.cus)
	for _, f := range []struct {
		path, v string
		dst     *string
	}{{"invoice.supplier.email", email, &inv.Supplier.Email}, {"invoice.supplier.phone", phone, &inv.Supplier.Phone}, {"invoice.supplier.website", web, &inv.Supplier.Website}} {
		if f.v != "" {
			*f.dst = f.v
			x.conf[f.path] = 0.7
		}
	}
}

// specTemplate reports whether a job's template spec makes a template of its own.
func specTemplate(spec *invoice.TemplateSpec) bool {
	return spec != nil && (len(spec.Fields) > 0 || len(spec.Keywords) > 0)
}

// MayApplyTemplate reports whether extraction with these options may apply a regex
// template, which reads the page text (layout.Page.Text). Without one, the reader can
// skip producing that text (ocr.Options.NoPageText).
func (o Options) MayApplyTemplate() bool {
	return o.Template != nil || len(o.Templates) > 0 || specTemplate(o.Spec)
}

// applyTemplate lets a template win field by field: the one given, else one built from
// the job's spec, else the one selected by its keywords.
func (x *extraction) applyTemplate() {
	tpl := x.opts.Template
	if spec := x.opts.Spec; tpl == nil && specTemplate(spec) {
		built, err := templates.FromSpec("job-template", *spec)
		if err != nil {
			x.res.Warnings = append(x.res.Warnings, fmt.Sprintf("template from job spec: %v", err))
		} else {
			tpl = built
		}
	}
	text := documentText(x.ld)
	if tpl == nil && len(x.opts.Templates) > 0 {
		tpl = templates.Select(x.opts.Templates, text)
	}
	if tpl == nil {
		return
	}
	tr, err := tpl.Apply(text)
	if err != nil {
		x.res.Warnings = append(x.res.Warnings, fmt.Sprintf("template %s: %v", tpl.Name, err))
		return
	}
	x.res.Template = tpl.Name
	x.tplPaths, x.tplItems = mergeTemplate(&x.data, x.conf, tr, x.d.meanConf())
	s := tpl.Spec
	x.spec = &s
}

// validate checks the data, moves confidences by what validation confirmed or
// contradicted, adds the extractor's own findings and returns the result.
func (x *extraction) validate() Result {
	rep := validate.Check(x.data, x.spec, x.now)
	for p := range rep.Confirmed {
		if v, ok := x.conf[p]; ok {
			x.conf[p] = layout.Clamp01(v + (1-v)*0.5)
		}
	}
	for p := range rep.Contradicted {
		if v, ok := x.conf[p]; ok {
			x.conf[p] = v * 0.6
		}
	}
	rep.Results.Errors = append(rep.Results.Errors, x.findings()...)
	x.res.Warnings = append(x.res.Warnings, x.ld.Warnings...)
	x.res.Data = x.data
	x.res.Validation = rep.Results
	x.res.Confidence = invoice.Confidence{Fields: x.conf, Overall: overall(x.conf)}
	return x.res
}

// findings are what extraction itself noticed: amounts that do not add up, no total,
// the reader's warnings, and a receipt total nothing confirms. The confidences of the
// amounts concerned go down.
func (x *extraction) findings() []invoice.ValidationError {
	var out []invoice.ValidationError
	inv := &x.data.Invoice
	if x.t.unsatisfied && x.res.Template == "" && !(inv.Amounts.Subtotal != nil && inv.Amounts.Tax != nil && inv.Amounts.Total != nil) {
		// Printed candidates that cannot be made to add up: say so, and trust the amounts less.
		out = append(out, invoice.ValidationError{Field: "invoice.amounts",
			Message: "no printed subtotal and tax add up to a printed total: " + x.t.evidence, Severity: invoice.SeverityWarning})
		x.scaleConf(0.7, "invoice.amounts.subtotal", "invoice.amounts.tax", "invoice.amounts.total")
	}
	if inv.Amounts.Total == nil && inv.AmountDue == nil {
		out = append(out, missingAmounts(inv.Amounts))
	}
	// What the reader noted (a text layer replaced by OCR) is part of the findings.
	for _, w := range x.ld.Warnings {
		out = append(out, invoice.ValidationError{Field: "document", Message: w, Severity: invoice.SeverityWarning})
	}
	if !x.receiptAgrees && x.res.Template == "" {
		out = append(out, invoice.ValidationError{Field: "invoice.amounts.total",
			Message: "receipt total agrees with neither cash minus change, the sum of the item lines, subtotal plus tax nor a rounded total", Severity: invoice.SeverityWarning})
		x.scaleConf(0.7, "invoice.amounts.total")
	}
	return out
}

// scaleConf multiplies the confidences of the given paths that have one by f.
func (x *extraction) scaleConf(f float64, paths ...string) {
	for _, p := range paths {
		if v, ok := x.conf[p]; ok {
			x.conf[p] = v * f
		}
	}
}

// overall is the mean field confidence, pulled down by the weakest field.
func overall(conf map[string]float64) float64 {
	if len(conf) == 0 {
		return 0
	}
	sum, lo := 0.0, 1.0
	for _, v := range conf {
		sum += v
		lo = math.Min(lo, v)
	}
	mean := sum / float64(len(conf))
	return math.Round((0.8*mean+0.2*lo)*1000) / 1000
}

// documentText is the text templates match: the readers' page texts joined by newlines.
func documentText(ld *layout.Document) string {
	parts := make([]string, 0, len(ld.Pages))
	for _, p := range ld.Pages {
		t := p.Text
		if t == "" {
			lines := make([]string, 0, len(p.Lines))
			for _, l := range p.Lines {
				lines = append(lines, l.Text())
			}
			t = strings.Join(lines, "\n")
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, "\n")
}

func (d *doc) meanConf() float64 {
	sum, n := 0.0, 0
	for _, r := range d.rows {
		for _, s := range r.segs {
			for _, w := range s.words {
				sum += w.conf
				n++
			}
		}
	}
	if n == 0 {
		return 1
	}
	return sum / float64(n)
}

// mergeTemplate lets the template's values replace the generic ones, field by field,
// and returns the paths it set and whether it set the line items.
func mergeTemplate(data *invoice.ExtractedData, conf map[string]float64, tr *templates.Result, ocrConf float64) (map[string]bool, bool) {
	c := layout.Clamp01(0.95 * (0.6 + 0.4*ocrConf))
	inv := &data.Invoice
	set := map[string]bool{}
	for path, v := range tr.Fields {
		s := strings.TrimSpace(v.String)
		switch path {
		case "invoice.number":
			inv.Number = s
		case "invoice.date":
			if v.Date == "" {
				continue
			}
			inv.Date = v.Date
		case "invoice.dueDate":
			if v.Date == "" {
				continue
			}
			inv.DueDate = v.Date
		case "invoice.supplier.name":
			inv.Supplier.Name = s
		case "invoice.supplier.address":
			inv.Supplier.Address = s
		case "invoice.supplier.taxId":
			inv.Supplier.TaxID = s
		case "invoice.customer.name":
			inv.Customer.Name = s
		case "invoice.customer.address":
			inv.Customer.Address = s
		case "invoice.amounts.total", "invoice.amounts.subtotal", "invoice.amounts.tax":
			if v.Float == nil {
				continue
			}
			mergeAmount(inv, conf, path, round2(*v.Float), c)
		case "invoice.amounts.currency":
			inv.Amounts.Currency = strings.ToUpper(s)
		default:
			continue
		}
		conf[path] = c
		set[path] = true
	}
	if _, ok := conf["invoice.amountDue"]; ok && set["invoice.amounts.total"] && inv.AmountDue != nil && inv.Amounts.Total != nil && *inv.AmountDue == *inv.Amounts.Total {
		set["invoice.amountDue"] = true // the template's total is what is due
	}
	if len(tr.LineItems) > 0 {
		data.LineItems = tr.LineItems
		conf["lineItems"] = c
		return set, true
	}
	return set, false
}

// mergeAmount stores a template's subtotal, tax or total (path) with confidence c.
func mergeAmount(inv *invoice.Invoice, conf map[string]float64, path string, f, c float64) {
	switch path {
	case "invoice.amounts.total":
		if inv.Amounts.Total == nil || math.Abs(*inv.Amounts.Total-f) > 0.005 {
			// The generic deduction and amount due went with another total: what is due
			// is now the template's total.
			inv.Amounts.Discount = nil
			delete(conf, "invoice.amounts.discount")
			due := f
			inv.AmountDue = &due
			conf["invoice.amountDue"] = c * 0.8
		}
		inv.Amounts.Total = &f
	case "invoice.amounts.subtotal":
		inv.Amounts.Subtotal = &f
	default:
		inv.Amounts.Tax = &f
	}
}

// looksLikeReceipt reports whether the document is a till receipt: one narrow page,
// receipt words, and no invoice number label.
func looksLikeReceipt(d *doc) bool {
	if d.pages != 1 {
		return false
	}
	lower := strings.ToLower(d.text)
	score := 0
	for _, w := range []string{"cash", "change", "rounding", "receipt", "thank you", "cashier", "gst", "tax invoice", "qty", "sdn bhd", "total", "member", "come again", "tender"} {
		if strings.Contains(lower, w) {
			score++
		}
	}
	// Cash handed over and change given back are the mark of a till receipt.
	if reCashLine.MatchString(d.text) && reChangeLine.MatchString(d.text) {
		score += 2
	}
	if _, ok := d.findNumberStrong(); ok {
		score--
	}
	return score >= 4
}

// findNumberStrong is findNumber restricted to explicit invoice-number labels.
func (d *doc) findNumberStrong() (cand, bool) {
	c, ok := d.numberCands(numberLabels, false)
	if !ok || c.score < 0.7 {
		return cand{}, false
	}
	return c, true
}
