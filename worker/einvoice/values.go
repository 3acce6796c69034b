package einvoice

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// values reads typed values from elements and keeps the first error, so that a mapping
// reads like a list of fields and reports the first value it could not read.
type values struct {
	err error
}

// fail records the first error.
func (v *values) fail(err error) {
	if v.err == nil {
		v.err = err
	}
}

// number reads a decimal (xsd:decimal: optional sign, digits, optional fraction). An
// absent or empty element is nil (unknown); any other text is ErrMalformed naming the
// element.
func (v *values) number(n *node) *float64 {
	if n == nil {
		return nil
	}
	s := strings.TrimSpace(n.text)
	if s == "" {
		return nil
	}
	f, ok := parseDecimal(s)
	if !ok {
		v.fail(fmt.Errorf("%w: %s is %q, not a decimal number", ErrMalformed, n.local, clip(s, 40)))
		return nil
	}
	return &f
}

// indicator reads an xsd:boolean ("true", "false", "1", "0"). An absent or empty
// element is false; any other text is ErrMalformed naming the element.
func (v *values) indicator(n *node) bool {
	switch n.value() {
	case "true", "1":
		return true
	case "", "false", "0":
		return false
	}
	v.fail(fmt.Errorf("%w: %s is %q, not true or false", ErrMalformed, n.local, clip(n.value(), 40)))
	return false
}

// parseDecimal parses xsd:decimal text; it refuses what strconv.ParseFloat would also
// take but a decimal is not (exponents, hex, Inf, NaN, underscores).
func parseDecimal(s string) (float64, bool) {
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case (c == '+' || c == '-') && i == 0:
		case c == '.':
		default:
			return 0, false
		}
	}
	if digits == 0 || strings.Count(s, ".") > 1 {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// ciiDate reads a CII date: an element holding a DateTimeString (format 102, YYYYMMDD),
// or, in the ZUGFeRD 1.0 release candidate, the date text itself. It returns
// YYYY-MM-DD, "" when absent; other text is ErrMalformed naming the element.
func (v *values) ciiDate(n *node) string {
	if n == nil {
		return ""
	}
	d := n
	if c := n.child("DateTimeString|DateString"); c != nil {
		d = c
	}
	s := strings.TrimSpace(d.text)
	if s == "" {
		return ""
	}
	format := d.attr("format")
	if format == "" || format == "102" {
		if t, err := time.Parse("20060102", s); err == nil {
			return t.Format(time.DateOnly)
		}
	}
	if format == "" {
		// An undeclared format written as an ISO date (seen in old ZUGFeRD files).
		if out, ok := isoDate(s); ok {
			return out
		}
	}
	v.fail(fmt.Errorf("%w: %s is %q in format %q, not a date YYYYMMDD (format 102)", ErrMalformed, n.local, clip(s, 40), format))
	return ""
}

// ublDate reads a UBL date (xsd:date, YYYY-MM-DD with an optional time zone) as
// YYYY-MM-DD, "" when absent; other text is ErrMalformed naming the element.
func (v *values) ublDate(n *node) string {
	if n == nil {
		return ""
	}
	s := strings.TrimSpace(n.text)
	if s == "" {
		return ""
	}
	if out, ok := isoDate(s); ok {
		return out
	}
	v.fail(fmt.Errorf("%w: %s is %q, not a date YYYY-MM-DD", ErrMalformed, n.local, clip(s, 40)))
	return ""
}

// isoDate reads YYYY-MM-DD, allowing an xsd:date time zone or a time after it.
func isoDate(s string) (string, bool) {
	if len(s) < 10 {
		return "", false
	}
	t, err := time.Parse(time.DateOnly, s[:10])
	if err != nil {
		return "", false
	}
	if rest := s[10:]; rest != "" && rest[0] != 'Z' && rest[0] != '+' && rest[0] != '-' && rest[0] != 'T' {
		return "", false
	}
	return t.Format(time.DateOnly), true
}

// docTypes maps UNTDID 1001 document type codes (the EN 16931 code list of BT-3) to
// document types. A code not listed gives an empty DocumentType (unknown).
var docTypes = buildDocTypes()

func buildDocTypes() map[string]string {
	m := map[string]string{"325": invoice.DocProforma}
	for _, c := range strings.Fields("71 82 102 130 202 203 204 211 218 219 295 326 331 380 382 384 385 386 387 388 389 390 393 394 395 456 457 553 575 623 633 751 780 817 870 875 876 877 935") {
		m[c] = invoice.DocInvoice
	}
	for _, c := range strings.Fields("81 83 261 262 296 308 381 396 532") {
		m[c] = invoice.DocCreditNote
	}
	for _, c := range strings.Fields("80 84 383 527") {
		m[c] = invoice.DocDebitNote
	}
	return m
}

// documentType is the document type of a BT-3 code; creditRoot says the document is a
// UBL CreditNote, which is a credit note whatever its code.
func documentType(code string, creditRoot bool) string {
	if creditRoot {
		return invoice.DocCreditNote
	}
	return docTypes[code]
}

// nonEmpty returns the first argument that is not empty.
func nonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// appendRef appends a reference when its value is not empty.
func appendRef(refs []invoice.Reference, kind, value string) []invoice.Reference {
	if value == "" {
		return refs
	}
	return append(refs, invoice.Reference{Kind: kind, Value: value})
}
