package templates

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract/vocab"
)

// Result is what a template found in a document.
type Result struct {
	// Fields holds the values found for contract paths ("invoice.number", "invoice.date",
	// "invoice.dueDate", "invoice.supplier.name", "invoice.supplier.taxId",
	// "invoice.supplier.address", "invoice.customer.name", "invoice.customer.address",
	// "invoice.amounts.total", "invoice.amounts.subtotal", "invoice.amounts.tax",
	// "invoice.amounts.currency"). Amounts have Float set, dates have Date set.
	Fields map[string]Value
	// LineItems are the rows of the template's lines that have a description or an amount.
	LineItems []invoice.LineItem
	// Lines are the raw rows (invoice2data names, values as text) behind LineItems.
	Lines []map[string]string
	// Extra holds the template's fields that map to no contract path (e.g. "partner_website",
	// "iban", "country_code"), rendered as text; dates as YYYY-MM-DD.
	Extra map[string]string
	// Missing lists the template's required fields (options.required_fields, or
	// invoice2data's default date, amount, invoice_number) that were not found.
	Missing []string
	// Issuer is the template's issuer (the supplier the template was written for, as
	// invoice2data reports it). When no field names the supplier, it is also
	// Fields["invoice.supplier.name"] with Source SourceIssuer.
	Issuer string
	// Warnings explain values that were found but could not be used (a date that does not
	// parse, an unknown line type, an ignored area).
	Warnings []string
}

// Value is one normalised field value. String is the text as found (for amounts and dates
// too); Float is set for amounts, Date (YYYY-MM-DD) for dates.
type Value struct {
	String string
	Float  *float64
	Date   string
	// Source says how the value was found: SourceRegex, SourceStatic, SourceTable or
	// SourceIssuer.
	Source string
}

// Sources of a Value.
const (
	SourceRegex  = "regex"  // a pattern matched the document
	SourceStatic = "static" // a constant of the template
	SourceTable  = "table"  // the tables plugin matched the document
	SourceIssuer = "issuer" // the template's issuer, used as supplier name when no field gives one
)

// atom is one value of a field while it is being extracted (invoice2data's str, float or
// datetime).
type atom struct {
	s    string
	f    *float64
	date string
	src  string
}

func (a atom) falsy() bool {
	if a.f != nil {
		return *a.f == 0
	}
	if a.date != "" {
		return false
	}
	return a.s == ""
}

func (a atom) text() string {
	switch {
	case a.date != "":
		return a.date
	case a.f != nil:
		return strconv.FormatFloat(*a.f, 'f', -1, 64)
	}
	return a.s
}

// Apply reads text (the whole document, pages joined with "\n") with the template.
//
// Each field is extracted as invoice2data would, then mapped to the contract: see Result.
// Contract amounts and dates are normalised even when the template leaves a field as text
// (with the template's decimal_separator, date_formats and languages). Currency is
// options.currency, else a currency field (or currency_symbol), else absent (where
// invoice2data would report DefaultCurrency).
//
// When a pattern exceeds the match timeout the field is skipped, the other fields are still
// extracted, and Apply returns the Result together with an error naming the field and the
// pattern; any other error comes with a nil Result.
func (t *Template) Apply(text string) (*Result, error) {
	prepared, err := t.Prepare(text)
	if err != nil {
		return nil, err
	}
	res := &Result{Fields: map[string]Value{}, Extra: map[string]string{}, Issuer: t.Spec.Issuer}
	found := map[string][]atom{}
	var foundOrder []string
	set := func(name string, v []atom) {
		if _, ok := found[name]; !ok {
			foundOrder = append(foundOrder, name)
		}
		found[name] = v
	}
	var matchErrs []error
	var rows []map[string]atom
	lineFields := map[string]bool{} // lines fields that found rows
	for _, name := range t.order {
		cf := t.fields[name]
		switch cf.rule.Parser {
		case "static":
			// A static_ prefix names the output without it, in the legacy syntax and here.
			set(strings.TrimPrefix(name, "static_"), []atom{{s: cf.rule.Value, src: SourceStatic}})
		case "lines":
			r, err := t.parseLines(cf.lines, prepared, res)
			if err != nil {
				matchErrs = append(matchErrs, fmt.Errorf("field %q: %w", name, err))
				continue
			}
			if len(r) > 0 {
				rows = append(rows, r...)
				lineFields[name] = true
			}
		default:
			v, err := t.parseRegexField(name, cf, prepared, res)
			if err != nil {
				matchErrs = append(matchErrs, fmt.Errorf("field %q: %w", name, err))
			}
			if len(v) > 0 {
				set(name, v)
			}
		}
	}
	if t.lines != nil {
		r, err := t.parseLines(t.lines, prepared, res)
		if err != nil {
			matchErrs = append(matchErrs, fmt.Errorf("lines: %w", err))
		}
		rows = append(rows, r...)
	}
	for i, tb := range t.tables {
		if err := t.applyTable(tb, prepared, found, set, res); err != nil {
			matchErrs = append(matchErrs, fmt.Errorf("tables[%d]: %w", i, err))
		}
	}

	t.mapFields(found, foundOrder, res)
	t.mapLines(rows, res)

	required := t.Spec.Options.RequiredFields
	if len(required) == 0 {
		required = []string{"date", "amount", "invoice_number"}
	}
	for _, r := range required {
		n := strings.TrimPrefix(r, "static_")
		if n == "issuer" || n == "currency" {
			continue
		}
		if lineFields[n] || (n == "lines" && len(rows) > 0) {
			continue
		}
		if _, ok := found[n]; !ok {
			res.Missing = append(res.Missing, r)
		}
	}
	if len(matchErrs) > 0 {
		return res, fmt.Errorf("template %s: %w", t.Name, errors.Join(matchErrs...))
	}
	return res, nil
}

// parseRegexField is invoice2data's regex parser: every match of every pattern, coerced to
// the field's type, then combined by its group (or de-duplicated in order without one).
func (t *Template) parseRegexField(name string, cf *compiledField, text string, res *Result) ([]atom, error) {
	var raw []string
	var errs []error
	for _, re := range cf.res {
		m, err := re.findAll(text)
		if err != nil {
			errs = append(errs, err)
		}
		raw = append(raw, m...)
	}
	vals := make([]atom, 0, len(raw))
	for _, s := range raw {
		a, err := t.coerce(s, cf.rule.Type)
		if err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("field %q: %v", name, err))
			continue
		}
		a.src = SourceRegex
		vals = append(vals, a)
	}
	out := t.group(name, cf.rule.Group, vals, res)
	return out, errors.Join(errs...)
}

func (t *Template) group(name, group string, vals []atom, res *Result) []atom {
	if group == "" {
		seen := map[string]bool{}
		var out []atom
		for _, v := range vals {
			k := v.text()
			if seen[k] || (v.s == "" && v.f == nil && v.date == "") {
				continue
			}
			seen[k] = true
			out = append(out, v)
		}
		return out
	}
	var kept []atom
	for _, v := range vals {
		if !v.falsy() {
			kept = append(kept, v)
		}
	}
	if len(kept) == 0 {
		return nil
	}
	switch group {
	case "first":
		return kept[:1]
	case "last":
		return kept[len(kept)-1:]
	case "join":
		parts := make([]string, len(kept))
		for i, v := range kept {
			parts[i] = v.text()
		}
		return []atom{{s: strings.Join(parts, " "), src: kept[0].src}}
	case "min", "max":
		if kept[0].date != "" { // dates compare as dates (YYYY-MM-DD sorts)
			best := kept[0]
			for _, v := range kept[1:] {
				if v.date != "" && ((group == "min" && v.date < best.date) || (group == "max" && v.date > best.date)) {
					best = v
				}
			}
			return []atom{best}
		}
		fallthrough
	case "sum":
		var acc float64
		for i, v := range kept {
			f := v.f
			if f == nil {
				x, err := ParseAmount(v.s, t.Spec.Options.DecimalSeparator)
				if err != nil {
					res.Warnings = append(res.Warnings, fmt.Sprintf("field %q: group %s: %v", name, group, err))
					continue
				}
				f = &x
			}
			switch {
			case group == "sum":
				acc += *f
			case i == 0:
				acc = *f
			case group == "min":
				acc = math.Min(acc, *f)
			default:
				acc = math.Max(acc, *f)
			}
		}
		acc = round(acc)
		return []atom{{s: strconv.FormatFloat(acc, 'f', -1, 64), f: &acc, src: kept[0].src}}
	}
	return nil
}

// round removes binary noise from sums (0.1+0.2) without changing real precision.
func round(v float64) float64 {
	return math.Round(v*1e6) / 1e6
}

// coerce is invoice2data's coerce_type: int and float through the number parser (empty
// text is 0), date through the date parser.
func (t *Template) coerce(s, typ string) (atom, error) {
	switch typ {
	case "", "string", "str":
		return atom{s: s}, nil
	case "int", "float":
		if strings.TrimSpace(s) == "" {
			z := 0.0
			return atom{s: s, f: &z}, nil
		}
		f, err := ParseAmount(s, t.Spec.Options.DecimalSeparator)
		if err != nil {
			return atom{}, err
		}
		if typ == "int" {
			f = math.Trunc(f)
		}
		return atom{s: s, f: &f}, nil
	case "date":
		d, err := t.ParseDate(s)
		if err != nil {
			return atom{}, err
		}
		return atom{s: s, date: d}, nil
	}
	return atom{}, fmt.Errorf("unknown type %q", typ)
}

// ParseDate reads a date with the template's options: each of date_formats in turn, then,
// as dateparser falls back to, a format-free reading that honours languages.
func (t *Template) ParseDate(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("empty date")
	}
	for _, f := range t.Spec.Options.DateFormats {
		if d, err := ParseDateFormat(s, f, t.cfg.now()); err == nil {
			return d, nil
		}
	}
	d, err := ParseDate(s, t.Spec.Options.Languages)
	if err != nil {
		return "", fmt.Errorf("date %q matches none of the formats %q: %w", s, t.Spec.Options.DateFormats, err)
	}
	return d, nil
}

// applyTable is invoice2data's tables plugin: lines between start and end matching body give
// their named groups as fields, without overwriting fields already found; names that start
// or end with "date" are dates, names that start with "amount" are numbers, others follow
// the table's types.
func (t *Template) applyTable(tb compiledTable, text string, found map[string][]atom, set func(string, []atom), res *Result) error {
	sm, err := tb.start.search(text)
	if err != nil || sm == nil {
		return err
	}
	em, err := tb.end.search(text)
	if err != nil || em == nil {
		return err
	}
	si, sn := sm.ByteRange()
	ei, _ := em.ByteRange()
	if ei < si+sn {
		return nil
	}
	lines, err := tb.sep.split(text[si+sn : ei])
	if err != nil {
		return err
	}
	for _, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := tb.body.search(line)
		if err != nil {
			return err
		}
		if m == nil {
			continue
		}
		for field, v := range tb.body.groupDict(m) {
			if _, ok := found[field]; ok {
				continue
			}
			typ := ""
			switch {
			case strings.HasPrefix(field, "date") || strings.HasSuffix(field, "date"):
				typ = "date"
			case strings.HasPrefix(field, "amount"):
				typ = "float"
			default:
				typ = tb.types[field]
			}
			a, err := t.coerce(v, typ)
			if err != nil {
				res.Warnings = append(res.Warnings, fmt.Sprintf("table field %q: %v", field, err))
				continue
			}
			a.src = SourceTable
			set(field, []atom{a})
		}
	}
	return nil
}

// contractPath maps invoice2data's field names (as used by its templates and by Odoo's
// invoice import, where the "partner" is the supplier) to contract paths.
var contractPath = map[string]string{
	"invoice_number": "invoice.number",
	"invoice_no":     "invoice.number",
	"invoice_id":     "invoice.number",

	"date":         "invoice.date",
	"invoice_date": "invoice.date",
	"date_invoice": "invoice.date",

	"date_due": "invoice.dueDate",
	"due_date": "invoice.dueDate",

	"amount":       "invoice.amounts.total",
	"amount_total": "invoice.amounts.total",

	"amount_untaxed":  "invoice.amounts.subtotal",
	"amount_subtotal": "invoice.amounts.subtotal",
	"amount_net":      "invoice.amounts.subtotal",

	"amount_tax": "invoice.amounts.tax",
	"tax_amount": "invoice.amounts.tax",
	"amount_vat": "invoice.amounts.tax",
	"vat_amount": "invoice.amounts.tax",

	"partner_name":  "invoice.supplier.name",
	"supplier_name": "invoice.supplier.name",
	"issuer":        "invoice.supplier.name",

	"vat":              "invoice.supplier.taxId",
	"vatin":            "invoice.supplier.taxId",
	"partner_vat":      "invoice.supplier.taxId",
	"supplier_vat":     "invoice.supplier.taxId",
	"supplier_numtva":  "invoice.supplier.taxId",
	"supplier_tax_id":  "invoice.supplier.taxId",
	"tax_id":           "invoice.supplier.taxId",
	"partner_tax_id":   "invoice.supplier.taxId",
	"gstin":            "invoice.supplier.taxId", // India: the issuer's GST identification number
	"supplier_gstin":   "invoice.supplier.taxId",
	"supplier_address": "invoice.supplier.address",

	"customer_name":    "invoice.customer.name",
	"buyer_name":       "invoice.customer.name",
	"customer_address": "invoice.customer.address",
	"buyer_address":    "invoice.customer.address",

	"currency":      "invoice.amounts.currency",
	"currency_iso":  "invoice.amounts.currency",
	"currency_code": "invoice.amounts.currency",
}

// ContractPath returns the contract path an invoice2data field name maps to, or "" when it
// maps to none. Contract paths themselves ("invoice.number") map to themselves.
func ContractPath(name string) string {
	if p, ok := contractPath[name]; ok {
		return p
	}
	if isContractPath(name) {
		return name
	}
	return ""
}

func isContractPath(p string) bool {
	switch p {
	case "invoice.number", "invoice.date", "invoice.dueDate", "invoice.supplier.name",
		"invoice.supplier.taxId", "invoice.supplier.address", "invoice.customer.name",
		"invoice.customer.address", "invoice.amounts.total", "invoice.amounts.subtotal",
		"invoice.amounts.tax", "invoice.amounts.currency":
		return true
	}
	return false
}

func (t *Template) mapFields(found map[string][]atom, order []string, res *Result) {
	var addr []string
	for _, name := range order {
		vals := found[name]
		if len(vals) == 0 {
			continue
		}
		path := ContractPath(name)
		if path == "" {
			parts := make([]string, len(vals))
			for i, v := range vals {
				parts[i] = v.text()
			}
			res.Extra[name] = strings.Join(parts, "\n")
			switch name {
			case "partner_street", "partner_street2", "partner_street3", "partner_zip", "partner_city":
				addr = append(addr, name)
			}
			continue
		}
		if _, dup := res.Fields[path]; dup && contractPath[name] != "" && name != canonicalName(path) {
			// A less specific synonym never overrides the canonical field.
			continue
		}
		v := vals[0]
		if len(vals) > 1 {
			res.Warnings = append(res.Warnings, fmt.Sprintf("field %q has %d different values; the first is used", name, len(vals)))
		}
		val, err := t.normalise(path, v)
		if err != nil {
			res.Warnings = append(res.Warnings, fmt.Sprintf("field %q: %v", name, err))
			continue
		}
		res.Fields[path] = val
	}
	if len(addr) > 0 {
		if _, ok := res.Fields["invoice.supplier.address"]; !ok {
			e := res.Extra
			line := strings.Join(nonEmpty(e["partner_street"], e["partner_street2"], e["partner_street3"]), ", ")
			city := strings.Join(nonEmpty(e["partner_zip"], e["partner_city"]), " ")
			src := SourceRegex
			for _, n := range addr {
				if found[n][0].src != SourceRegex {
					src = found[n][0].src
				}
			}
			res.Fields["invoice.supplier.address"] = Value{String: strings.Join(nonEmpty(line, city), ", "), Source: src}
		}
	}
	// invoice2data's issuer is the supplier the template was written for; it names the
	// supplier when no field does.
	if _, ok := res.Fields["invoice.supplier.name"]; !ok && strings.TrimSpace(t.Spec.Issuer) != "" {
		res.Fields["invoice.supplier.name"] = Value{String: strings.Join(strings.Fields(t.Spec.Issuer), " "), Source: SourceIssuer}
	}
	// Currency as invoice2data reports it: options.currency wins over any field. When the
	// template states none, invoice2data reports DefaultCurrency; here the field is left
	// out instead, so that a currency read from the document is not overridden by a guess.
	cur := strings.ToUpper(strings.TrimSpace(t.Spec.Options.Currency))
	if cur == "" {
		if v, ok := res.Fields["invoice.amounts.currency"]; ok {
			cur = v.String
		} else if sym, ok := res.Extra["currency_symbol"]; ok {
			cur, _ = vocab.CodeOfSign(strings.TrimSpace(sym))
		}
	}
	if cur != "" {
		src := SourceStatic
		if v, ok := res.Fields["invoice.amounts.currency"]; ok && t.Spec.Options.Currency == "" {
			src = v.Source
		}
		res.Fields["invoice.amounts.currency"] = Value{String: cur, Source: src}
	} else {
		delete(res.Fields, "invoice.amounts.currency")
	}
}

func canonicalName(path string) string {
	switch path {
	case "invoice.number":
		return "invoice_number"
	case "invoice.date":
		return "date"
	case "invoice.dueDate":
		return "date_due"
	case "invoice.amounts.total":
		return "amount"
	case "invoice.amounts.subtotal":
		return "amount_untaxed"
	case "invoice.amounts.tax":
		return "amount_tax"
	case "invoice.supplier.name":
		return "partner_name"
	case "invoice.supplier.taxId":
		return "vat"
	}
	return path
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// normalise turns a field value into the contract's form for path.
func (t *Template) normalise(path string, a atom) (Value, error) {
	v := Value{String: strings.TrimSpace(a.s), Source: a.src}
	switch path {
	case "invoice.amounts.total", "invoice.amounts.subtotal", "invoice.amounts.tax":
		f := a.f
		if f == nil {
			x, err := ParseAmount(a.s, t.Spec.Options.DecimalSeparator)
			if err != nil {
				return v, err
			}
			f = &x
		}
		v.Float = f
		if v.String == "" {
			v.String = a.text()
		}
	case "invoice.date", "invoice.dueDate":
		d := a.date
		if d == "" {
			var err error
			if d, err = t.ParseDate(a.s); err != nil {
				return v, err
			}
		}
		v.Date = d
	case "invoice.amounts.currency":
		c := strings.ToUpper(v.String)
		if code, ok := vocab.CodeOfSign(v.String); ok {
			c = code
		}
		v.String = c
	default:
		v.String = strings.Join(strings.Fields(a.text()), " ")
	}
	return v, nil
}

// lineKeys maps invoice2data line names (Odoo's invoice import vocabulary and common
// variants) to the contract's line item fields.
var lineKeys = map[string]string{
	"name": "description", "description": "description", "desc": "description", "product": "description",
	"item": "description", "article": "description", "designation": "description", "libelle": "description",
	"qty": "quantity", "quantity": "quantity", "quantite": "quantity", "aantal": "quantity", "menge": "quantity",
	"price_unit": "unitPrice", "unit_price": "unitPrice", "unitprice": "unitPrice", "price": "unitPrice",
	"price_subtotal": "amount", "subtotal": "amount", "amount": "amount", "line_total": "amount",
	"total": "amount", "price_total": "amount", "line_amount": "amount",
}

func (t *Template) mapLines(rows []map[string]atom, res *Result) {
	for _, row := range rows {
		raw := make(map[string]string, len(row))
		for k, v := range row {
			raw[k] = v.text()
		}
		res.Lines = append(res.Lines, raw)
		var li invoice.LineItem
		useful := false
		keys := make([]string, 0, len(row))
		for k := range row {
			keys = append(keys, k)
		}
		sort.Strings(keys) // deterministic when a row has two names for one item field
		for _, k := range keys {
			v := row[k]
			switch lineKeys[k] {
			case "description":
				if li.Description == "" {
					li.Description = strings.TrimSpace(v.s)
					useful = useful || li.Description != ""
				}
			case "quantity", "unitPrice", "amount":
				f := v.f
				if f == nil {
					if strings.TrimSpace(v.s) == "" {
						continue
					}
					x, err := ParseAmount(v.s, t.Spec.Options.DecimalSeparator)
					if err != nil {
						res.Warnings = append(res.Warnings, fmt.Sprintf("line %q: %v", k, err))
						continue
					}
					f = &x
				}
				switch lineKeys[k] {
				case "quantity":
					li.Quantity = f
				case "unitPrice":
					li.UnitPrice = f
				default:
					li.Amount = f
					useful = true
				}
			}
		}
		if useful || li.UnitPrice != nil {
			res.LineItems = append(res.LineItems, li)
		}
	}
}

// stripMarks removes combining marks after canonical decomposition.
func stripMarks(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, norm.NFKD.String(s))
}
