// Package einvoice reads EN 16931 structured invoices, the UN/CEFACT Cross Industry
// Invoice (CII, also ZUGFeRD 1.0's CrossIndustryDocument, its 2013 release candidate
// and Factur-X / ZUGFeRD 2.x / XRechnung CII) and OASIS UBL 2.1 Invoice and CreditNote,
// exactly into invoice.ExtractedData: every value is the XML's own, nothing is guessed.
//
// The package opens no files and runs no tools; ParseReader only reads the reader it is
// given. Parse refuses any document type declaration (ErrDTD) before
// it decodes anything else, so entity expansion (billion laughs) and external entities
// cannot happen; input size, element nesting depth and element count are capped by
// Limits (ErrTooLarge). Input that is not XML or is cut short is ErrMalformed; XML that
// is not one of the supported invoice roots in its namespace is ErrNotEInvoice.
//
// Addresses are flattened to one string with FormatAddress and split again with
// ParseAddress; the writer of CII and UBL uses the same convention.
package einvoice
