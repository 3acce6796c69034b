package einvoice

import (
	"fmt"
	"io"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// Document is an e-invoice read exactly.
type Document struct {
	// Data is the invoice in the project's model. Values the XML does not carry are
	// unknown (nil numbers, empty strings); Payment.DueDays is always nil, EN 16931 has
	// no payment term in days.
	Data invoice.ExtractedData
	// Info has the syntax and the specification identifier (BT-24); Attachment is left
	// empty for the caller that knows the file name.
	Info invoice.EInvoiceInfo
	// TypeCode is the document type code (BT-3) as written, e.g. "380" or "381".
	TypeCode string
}

// Parse reads a CII or UBL e-invoice. Errors (test with errors.Is): ErrTooLarge when
// data exceeds lim, ErrDTD for a document type declaration, ErrMalformed for XML that
// is not well-formed or a value that cannot be read (the message names the element),
// ErrNotEInvoice for other XML. A zero Limits takes the defaults.
func Parse(data []byte, lim Limits) (*Document, error) {
	lim = lim.withDefaults()
	root, syn, err := decode(data, lim)
	if err != nil {
		return nil, err
	}
	var doc *Document
	switch syn {
	case SyntaxCII:
		doc, err = readCII(root)
	default:
		doc, err = readUBL(root)
	}
	if err != nil {
		return nil, err
	}
	doc.Info.Syntax = string(syn)
	return doc, nil
}

// ParseReader reads at most lim.MaxBytes+1 bytes from r and parses them with Parse; a
// longer input is ErrTooLarge without reading the rest.
func ParseReader(r io.Reader, lim Limits) (*Document, error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read e-invoice: %w", err)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, lim.MaxBytes)
	}
	return Parse(data, lim)
}

// newData returns ExtractedData with empty (not nil) lists, as the JSON contract wants.
func newData() invoice.ExtractedData {
	return invoice.ExtractedData{LineItems: []invoice.LineItem{}}
}

// unitPrice is the net price divided by its base quantity when one is given (BT-146 /
// BT-149).
func unitPrice(price, base *float64) *float64 {
	if price == nil || base == nil || *base == 0 {
		return price
	}
	return invoice.Float(*price / *base)
}
