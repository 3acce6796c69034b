// Package export writes an invoice.ExtractedData as an EN 16931 electronic invoice, in
// either of the standard's two syntaxes: UN/CEFACT Cross Industry Invoice (CII, the
// syntax of Factur-X and ZUGFeRD) or OASIS UBL 2.1 (Invoice, or CreditNote for credit
// notes).
//
// The writer is the inverse of the EN 16931 mapping that worker/einvoice reads: each
// business term (BT-n) is taken from one model field, and a value the invoice does not
// hold is never made up. An optional term that is unknown is left out; a term the
// standard requires that is unknown makes Write fail with a *MissingError that lists
// every such term, so the caller can say what is needed. The few values that can be
// derived from others without guessing (a line's amount from quantity × price, a single
// VAT breakdown row from the totals, the amount due from the total less the prepaid
// amount) are derived and say so in a comment where they are; a breakdown row or an
// allowance without a VAT category but with a rate above zero is standard rated ("S").
//
// Document-level allowances and charges (BG-20, BG-21) are the model's
// Invoice.Allowances, and their sums are BT-107 and BT-108. Only when they do not explain
// the difference between the net total and the sum of the lines (BR-CO-13) is the rest
// written as one more allowance or charge, in the category of the only VAT breakdown
// row; with several rows that is a *MissingError naming BR-CO-13.
//
// Model fields without a place in EN 16931 are not written: the seller's website, the
// payment term in days (Payment.DueDays; the terms text is BT-20), a buyer tax id that
// is not a VAT identifier, and every reference after the first of its kind (purchase
// order BT-13, contract BT-12, delivery note BT-16, "other" as buyer reference BT-10,
// customer number as buyer identifier BT-46).
//
// The output validates against the Factur-X EN 16931 CII schema and the UBL 2.1
// schemas, and CII output passes the EN 16931 Schematron rules, except that an invoice
// not subject to VAT (category O) breaks BR-CO-26, since the only seller identifier the
// model holds, the VAT identifier, is forbidden there. It is pure Go and does no I/O.
package export

import (
	"fmt"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// Syntax is the XML syntax of the written invoice.
type Syntax string

// Syntaxes of Write.
const (
	CII Syntax = "cii" // UN/CEFACT Cross Industry Invoice D16B (Factur-X / ZUGFeRD EN 16931 profile)
	UBL Syntax = "ubl" // OASIS UBL 2.1 Invoice, or CreditNote for credit notes
)

// Specification is the specification identifier (BT-24) of every written invoice.
const Specification = "urn:cen.eu:en16931:2017"

// Term is one business term or group of EN 16931 (or one of its business rules) that
// an invoice lacks.
type Term struct {
	// ID is the term's identifier, e.g. "BT-27" or "BG-25", or a business rule
	// such as "BR-CO-13".
	ID string
	// Name is the standard's name of the term, e.g. "Seller name".
	Name string
	// Field is the model's field path that would carry it, e.g. "invoice.supplier.name"
	// or "lineItems[2].amount".
	Field string
}

// String returns "BT-27 Seller name (invoice.supplier.name)".
func (t Term) String() string { return fmt.Sprintf("%s %s (%s)", t.ID, t.Name, t.Field) }

// MissingError says that the invoice lacks terms EN 16931 requires (or that its values
// break a rule of the standard that the writer cannot satisfy without inventing a
// value). Write returns no XML with it.
type MissingError struct {
	Terms []Term
}

// Error lists every missing term:
// "EN 16931 requires: BT-27 Seller name (invoice.supplier.name), ...".
func (e *MissingError) Error() string {
	parts := make([]string, len(e.Terms))
	for i, t := range e.Terms {
		parts[i] = t.String()
	}
	return "EN 16931 requires: " + strings.Join(parts, ", ") + "; fill these fields and write the invoice again"
}

// Write returns data as an EN 16931 invoice in the given syntax, UTF-8 encoded with an
// XML declaration. It fails with a *MissingError (and returns no XML) when data lacks
// terms the standard requires, and with a plain error for an unknown syntax.
func Write(data invoice.ExtractedData, syntax Syntax) ([]byte, error) {
	if syntax != CII && syntax != UBL {
		return nil, fmt.Errorf("write e-invoice: unknown syntax %q: use %q or %q", syntax, CII, UBL)
	}
	doc, err := build(data)
	if err != nil {
		return nil, err
	}
	if syntax == CII {
		return writeCII(doc)
	}
	return writeUBL(doc)
}

// FileName returns a file name for the written invoice: "invoice-<number>.cii.xml" or
// "invoice-<number>.ubl.xml", where the number keeps only letters, digits, '.', '_' and
// '-' (other runs become one '-') and is cut to 64 characters; "invoice.cii.xml" when
// the invoice has no usable number.
func FileName(data invoice.ExtractedData, syntax Syntax) string {
	ext := "." + string(syntax) + ".xml"
	if syntax != CII && syntax != UBL {
		ext = ".xml"
	}
	n := sanitiseFileNamePart(data.Invoice.Number)
	if n == "" {
		return "invoice" + ext
	}
	return "invoice-" + n + ext
}

// sanitiseFileNamePart keeps the characters that are safe in a file name on every
// system and replaces each run of others with one '-'.
func sanitiseFileNamePart(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			dash = b.Len() > 0
			continue
		}
		if dash {
			b.WriteByte('-')
			dash = false
		}
		b.WriteRune(r)
		if b.Len() >= 64 {
			break
		}
	}
	// A leading or trailing dot would make a hidden file or an odd extension.
	return strings.Trim(b.String(), ".-")
}
