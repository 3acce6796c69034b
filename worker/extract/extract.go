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
}

// Fields that carry a confidence, in contract paths.
var fieldPaths = []string{
	"invoice.number", "invoice.date", "invoice.dueDate",
	"invoice.supplier.name", "invoice.supplier.address", "invoice.supplier.taxId",
	"invoice.supplier.email", "invoice.supplier.phone", "invoice.supplier.website",
	"invoice.customer.name", "invoice.customer.address", "invoice.customer.taxId",
	"invoice.amounts.subtotal", "invoice.amounts.tax", "invoice.amounts.total", "invoice.amounts.currency",
	"invoice.amounts.discount", "invoice.amountDue", "invoice.documentType", "invoice.taxBreakdown",
	"invoice.servicePeriod", "invoice.purchaseOrder", "invoice.references",
	"invoice.payment.iban", "invoice.payment.bic", "invoice.payment.terms", "invoice.payment.dueDays",
	"lineItems",
}

// Extract reads invoice data from doc. It never panics on odd input; it returns an error
// only when doc is nil. Unknown values stay empty (strings) or nil (amounts), and their
// fields have no confidence entry.
func Extract(ld *layout.Document, opts Options) (Result, error) {
	if ld == nil {
		return Result{}, fmt.Errorf("extract: no document")
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	d := buildDoc(ld)
	d.rules = newRuleSet(opts.Without)
	var res Result
	d.lang = detectLanguage(d.text)
	res.Language = d.lang
	d.dec = detectDecimalSep(d.text)
	if opts.Spec != nil && opts.Spec.Options.DecimalSeparator != "" {
		d.dec = DecimalSep(opts.Spec.Options.DecimalSeparator[0])
	}
	cur, curOK := d.findCurrency()
	if d.rules.on(RuleDateOrder) {
		d.order = detectDateOrder(d.text, d.lang, curOK && cur.str == "USD")
	}
	receipt := opts.Receipt || d.rules.on(RuleReceiptDetect) && looksLikeReceipt(d)
	if receipt {
		d.fixReceiptAmounts()
	}

	conf := map[string]float64{}
	set := func(path string, c cand) {
		// How the value was found, times how sure the reader was of its words.
		conf[path] = clamp01(c.score * (0.5 + 0.5*c.conf))
	}
	data := invoice.ExtractedData{LineItems: []invoice.LineItem{}}
	inv := &data.Invoice
	numberScore := 0.0
	// refNumber is left out of the references; a policy or contract number that stands
	// in for a missing invoice number stays one of them.
	refNumber := ""
	if c, ok := d.findNumber(); ok && (!receipt || c.score >= 0.7) {
		inv.Number = c.str
		numberScore = c.score
		set("invoice.number", c)
		if !c.fallback {
			refNumber = c.str
		}
	}
	if c, ok := d.findDate(); ok {
		inv.Date = c.str
		set("invoice.date", c)
	}
	if c, ok := d.findDueDate(); ok {
		inv.DueDate = c.str
		set("invoice.dueDate", c)
	}
	var sup, cus party
	if receipt {
		sup = d.receiptHeader()
	} else {
		sup, cus = d.findParties(receipt)
	}
	if sup.name.str != "" {
		inv.Supplier.Name = sup.name.str
		set("invoice.supplier.name", sup.name)
	}
	if sup.address.str != "" {
		inv.Supplier.Address = sup.address.str
		set("invoice.supplier.address", sup.address)
	}
	if cus.name.str != "" {
		inv.Customer.Name = cus.name.str
		set("invoice.customer.name", cus.name)
	}
	if cus.address.str != "" {
		inv.Customer.Address = cus.address.str
		set("invoice.customer.address", cus.address)
	}
	if c, ok := d.findTaxID(cus); ok {
		inv.Supplier.TaxID = c.str
		set("invoice.supplier.taxId", c)
	}
	// Line items first: their sum is evidence for the subtotal.
	var items []invoice.LineItem
	var itemConf float64
	var itemSum *float64
	if !receipt {
		items, itemConf = d.findItems()
		sum, all := 0.0, len(items) > 0
		for _, li := range items {
			if li.Amount == nil {
				all = false
				break
			}
			sum += *li.Amount
		}
		if all && d.rules.on(RuleItemSum) {
			sum = round2(sum)
			itemSum = &sum
		}
	}
	// Several tax rates: subtotal and tax are the sums over the breakdown.
	breakdown := d.findTaxBreakdown()
	t := d.findTotals(itemSum, breakdown)
	receiptAgrees := true
	if receipt {
		if c, agrees, ok := d.receiptTotal(); ok {
			receiptAgrees = agrees
			t.total = &c
			if t.subtotal != nil && t.subtotal.num > c.num+0.005 {
				t.subtotal = nil
			}
		}
	}
	if t.subtotal != nil && t.total != nil && !t.consistent && d.rules.on(RuleDerivedTax) {
		// Tax is what lies between net and gross when that difference is printed.
		if diff := round2(t.total.num - t.subtotal.num); diff >= 0 && (t.tax == nil || math.Abs(t.tax.num-diff) > 0.005) && d.hasAmount(diff) {
			t.tax = &cand{num: diff, score: 0.6, conf: t.total.conf, how: "derived"}
		}
	}
	// Several tax rates: subtotal and tax are the sums over the breakdown when those
	// add up to the total.
	if len(breakdown) > 0 && t.total != nil && d.rules.on(RuleBreakdownSums) {
		bs, bt := sums(breakdown)
		if len(breakdown) > 1 && math.Abs(bs+bt-t.total.num) <= 0.011 &&
			(t.subtotal == nil || t.tax == nil || math.Abs(t.subtotal.num-bs) > 0.005 || math.Abs(t.tax.num-bt) > 0.005) {
			t.subtotal = &cand{num: bs, score: 0.8, conf: t.total.conf, how: "breakdown"}
			t.tax = &cand{num: bt, score: 0.8, conf: t.total.conf, how: "breakdown"}
			t.consistent, t.unsatisfied = true, false
		}
	}
	d.chooseDue(&t)
	for _, f := range []struct {
		path string
		c    *cand
		dst  **float64
	}{{"invoice.amounts.subtotal", t.subtotal, &inv.Amounts.Subtotal}, {"invoice.amounts.tax", t.tax, &inv.Amounts.Tax}, {"invoice.amounts.total", t.total, &inv.Amounts.Total},
		{"invoice.amounts.discount", t.discount, &inv.Amounts.Discount}, {"invoice.amountDue", t.due, &inv.AmountDue}} {
		if f.c != nil {
			v := round2(f.c.num)
			*f.dst = &v
			set(f.path, *f.c)
		}
	}
	if curOK {
		inv.Amounts.Currency = cur.str
		set("invoice.amounts.currency", cur)
	} else if c := currencyFromContext(inv.Supplier.TaxID, d.lang); c != "" && d.rules.on(RuleCurrencyContext) {
		inv.Amounts.Currency = c
		conf["invoice.amounts.currency"] = 0.4
	}
	if opts.Spec != nil && opts.Spec.Options.Currency != "" && !curOK {
		inv.Amounts.Currency = strings.ToUpper(opts.Spec.Options.Currency)
		conf["invoice.amounts.currency"] = 0.8
	}
	if !receipt {
		if len(items) > 0 {
			data.LineItems = items
			conf["lineItems"] = clamp01(0.6 * (0.5 + 0.5*itemConf))
		}
		// Net line amounts add up to the subtotal: when no subtotal is labelled, their
		// sum is it, provided the document prints that amount.
		if inv.Amounts.Subtotal == nil && len(items) > 0 && d.rules.on(RuleItemSum) {
			sum, all := 0.0, true
			for _, li := range items {
				if li.Amount == nil {
					all = false
					break
				}
				sum += *li.Amount
			}
			if sum = round2(sum); all && sum > 0 && d.hasAmount(sum) {
				inv.Amounts.Subtotal = &sum
				conf["invoice.amounts.subtotal"] = 0.5
			}
		}
	}

	// The tax breakdown is reported when it agrees with the chosen amounts.
	if len(breakdown) > 0 {
		bs, bt := sums(breakdown)
		agrees := inv.Amounts.Tax != nil && math.Abs(*inv.Amounts.Tax-bt) <= 0.011 ||
			inv.Amounts.Subtotal != nil && math.Abs(*inv.Amounts.Subtotal-bs) <= 0.011 ||
			inv.Amounts.Total != nil && math.Abs(*inv.Amounts.Total-bs-bt) <= 0.011
		if agrees {
			for _, tr := range breakdown {
				inv.TaxBreakdown = append(inv.TaxBreakdown, invoice.TaxRate{Rate: invoice.Float(tr.rate), Base: invoice.Float(round2(tr.base)), Amount: invoice.Float(round2(tr.amount))})
			}
			conf["invoice.taxBreakdown"] = 0.8
		}
	}
	if typ, c := d.findDocumentType(receipt, numberScore); typ != "" {
		inv.DocumentType = typ
		conf["invoice.documentType"] = c
	}
	if p, c := d.findServicePeriod(); p.From != "" {
		inv.ServicePeriod = p
		conf["invoice.servicePeriod"] = clamp01(c)
	}
	inv.References = d.findReferences(refNumber)
	for _, r := range inv.References {
		if r.Kind == invoice.RefOrder {
			inv.PurchaseOrder = r.Value
			conf["invoice.purchaseOrder"] = 0.8
			break
		}
	}
	if len(inv.References) > 0 {
		conf["invoice.references"] = 0.75
	}
	pay, pc := d.findPayment()
	inv.Payment = pay
	for k, v := range pc {
		conf[k] = v
	}
	if c, ok := d.findCustomerTaxID(cus, inv.Supplier.TaxID); ok && !receipt {
		inv.Customer.TaxID = c.str
		set("invoice.customer.taxId", c)
	}
	email, phone, web := d.findContacts(cus)
	for _, f := range []struct {
		path, v string
		dst     *string
	}{{"invoice.supplier.email", email, &inv.Supplier.Email}, {"invoice.supplier.phone", phone, &inv.Supplier.Phone}, {"invoice.supplier.website", web, &inv.Supplier.Website}} {
		if f.v != "" {
			*f.dst = f.v
			conf[f.path] = 0.7
		}
	}

	// Templates win field by field.
	tpl := opts.Template
	if tpl == nil && opts.Spec != nil && (len(opts.Spec.Fields) > 0 || len(opts.Spec.Keywords) > 0) {
		built, err := templates.FromSpec("job-template", *opts.Spec)
		if err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("template from job spec: %v", err))
		} else {
			tpl = built
		}
	}
	text := documentText(ld)
	if tpl == nil && len(opts.Templates) > 0 {
		tpl = templates.Select(opts.Templates, text)
	}
	spec := opts.Spec
	if tpl != nil {
		tr, err := tpl.Apply(text)
		if err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("template %s: %v", tpl.Name, err))
		} else {
			res.Template = tpl.Name
			mergeTemplate(&data, conf, tr, d.meanConf())
			s := tpl.Spec
			spec = &s
		}
	}

	rep := validate.Check(data, spec, now)
	for p := range rep.Confirmed {
		if v, ok := conf[p]; ok {
			conf[p] = clamp01(v + (1-v)*0.5)
		}
	}
	for p := range rep.Contradicted {
		if v, ok := conf[p]; ok {
			conf[p] = v * 0.6
		}
	}
	if t.unsatisfied && res.Template == "" && !(inv.Amounts.Subtotal != nil && inv.Amounts.Tax != nil && inv.Amounts.Total != nil) {
		// Printed candidates that cannot be made to add up: say so, and trust the amounts less.
		rep.Results.Errors = append(rep.Results.Errors, invoice.ValidationError{Field: "invoice.amounts",
			Message: "no printed subtotal and tax add up to a printed total: " + t.evidence, Severity: invoice.SeverityWarning})
		for _, p := range []string{"invoice.amounts.subtotal", "invoice.amounts.tax", "invoice.amounts.total"} {
			if v, ok := conf[p]; ok {
				conf[p] = v * 0.7
			}
		}
	}
	if inv.Amounts.Total == nil && inv.AmountDue == nil {
		rep.Results.Errors = append(rep.Results.Errors, missingAmounts(inv.Amounts))
	}
	// What the reader noted (a text layer replaced by OCR) is part of the findings.
	for _, w := range ld.Warnings {
		rep.Results.Errors = append(rep.Results.Errors, invoice.ValidationError{Field: "document", Message: w, Severity: invoice.SeverityWarning})
	}
	res.Warnings = append(res.Warnings, ld.Warnings...)
	if !receiptAgrees && res.Template == "" {
		rep.Results.Errors = append(rep.Results.Errors, invoice.ValidationError{Field: "invoice.amounts.total",
			Message: "receipt total agrees with neither cash minus change, the sum of the item lines, subtotal plus tax nor a rounded total", Severity: invoice.SeverityWarning})
		if v, ok := conf["invoice.amounts.total"]; ok {
			conf["invoice.amounts.total"] = v * 0.7
		}
	}
	res.Data = data
	res.Validation = rep.Results
	res.Confidence = invoice.Confidence{Fields: conf, Overall: overall(conf)}
	return res, nil
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

// mergeTemplate lets the template's values replace the generic ones, field by field.
func mergeTemplate(data *invoice.ExtractedData, conf map[string]float64, tr *templates.Result, ocrConf float64) {
	c := clamp01(0.95 * (0.6 + 0.4*ocrConf))
	inv := &data.Invoice
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
			f := round2(*v.Float)
			switch path {
			case "invoice.amounts.total":
				if inv.Amounts.Total == nil || math.Abs(*inv.Amounts.Total-f) > 0.005 {
					// The generic deduction and amount due went with another total: what
					// is due is now the template's total.
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
		case "invoice.amounts.currency":
			inv.Amounts.Currency = strings.ToUpper(s)
		default:
			continue
		}
		conf[path] = c
	}
	if len(tr.LineItems) > 0 {
		data.LineItems = tr.LineItems
		conf["lineItems"] = c
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
