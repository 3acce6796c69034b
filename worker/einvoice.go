package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/einvoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
	"github.com/ocrinvoice/ocrinvoice/worker/pdfattach"
	"github.com/ocrinvoice/ocrinvoice/worker/validate"
)

// maxScanBytes is the largest PDF whose embedded files are looked for; a larger one is
// read from its pages only.
const maxScanBytes = 256 << 20

// errNotEInvoice tells Process to read the document's pages.
var errNotEInvoice = errors.New("no e-invoice")

// eInvoiceAttempt is what looking for an e-invoice found: the outcome when the data
// was read from XML, else the findings to add to the visual reading (an attachment
// that claims to be an invoice and is not, two that disagree).
type eInvoiceAttempt struct {
	out      *Outcome
	findings []invoice.ValidationError
}

// readEInvoice reads a standalone EN 16931 XML, or the one embedded in a PDF, when the
// document is one. It returns errNotEInvoice (with findings, maybe) when the pages
// must be read instead; a standalone XML that is not an e-invoice is an
// ocr.ErrUnsupported error (a 415 at upload, a permanent failure in a job).
func readEInvoice(ctx context.Context, r *ocr.Reader, in Input, s Steps) (eInvoiceAttempt, error) {
	data, format, err := inputBytes(in)
	if err != nil || (format != ocr.FormatXML && format != ocr.FormatPDF) {
		return eInvoiceAttempt{}, errors.Join(errNotEInvoice, err)
	}
	if format == ocr.FormatXML {
		if s.Read.Mode != "" && s.Read.Mode != ocr.ModeAuto {
			return eInvoiceAttempt{}, &ReadError{Err: fmt.Errorf("%s: %w: an XML e-invoice has no pages for read mode %s; read it with auto", in.name(), ocr.ErrUnsupported, s.Read.Mode)}
		}
		doc, err := einvoice.Parse(data, einvoice.Limits{})
		if err != nil {
			return eInvoiceAttempt{}, &ReadError{Err: xmlError(in.name(), err)}
		}
		ld := &layout.Document{Format: ocr.FormatXML, Size: int64(len(data))}
		if err := extracting(s, ld); err != nil {
			return eInvoiceAttempt{}, err
		}
		return eInvoiceAttempt{out: eInvoiceOutcome(doc, ld, s.Extract)}, nil
	}
	if s.Read.Mode != "" && s.Read.Mode != ocr.ModeAuto {
		return eInvoiceAttempt{}, errNotEInvoice
	}
	doc, name, findings := embeddedInvoice(data)
	if doc == nil {
		return eInvoiceAttempt{findings: findings}, errNotEInvoice
	}
	doc.Info.Attachment = name
	// The pages are read from the text layer only, for the cross-check and the page
	// count: never OCR'd (the XML is the data).
	var page *layout.Document
	rerr := errors.New("no cross-check")
	if !s.NoCrossCheck {
		ro := s.Read
		ro.Mode, ro.NoPageText, ro.Progress = ocr.ModeText, true, nil
		page, rerr = read(ctx, r, in, ro)
		if rerr != nil && ctx.Err() != nil {
			return eInvoiceAttempt{}, &ReadError{Err: rerr}
		}
	}
	ld := &layout.Document{Format: ocr.FormatPDF, Size: int64(len(data))}
	if rerr == nil {
		ld = page
	}
	if err := extracting(s, ld); err != nil {
		return eInvoiceAttempt{}, err
	}
	out := eInvoiceOutcome(doc, ld, s.Extract)
	out.Result.Validation.Errors = append(out.Result.Validation.Errors, findings...)
	if rerr == nil {
		out.Result.Validation.Errors = append(out.Result.Validation.Errors, crossCheck(doc.Data, page)...)
	}
	out.Result.Validation.IsValid = !hasError(out.Result.Validation.Errors)
	return eInvoiceAttempt{out: out}, nil
}

// extracting calls s.Extracting, when set, as processPages does before extraction.
func extracting(s Steps, ld *layout.Document) error {
	if s.Extracting == nil {
		return nil
	}
	return s.Extracting(ld)
}

// ReadEInvoice is the e-invoice step of Process alone: it reads a standalone EN 16931
// XML, or the one a PDF embeds, and reports ok false (with no error) when in is neither,
// so that the caller reads the pages. `ocrinvoice eval --read auto` uses it before its
// cache of page readings.
func ReadEInvoice(ctx context.Context, r *ocr.Reader, in Input, s Steps) (*Outcome, bool, error) {
	ei, err := readEInvoice(ctx, r, in, s)
	switch {
	case err == nil:
		return ei.out, true, nil
	case errors.Is(err, errNotEInvoice):
		return nil, false, nil
	}
	return nil, false, err
}

// name is the document's name in messages.
func (in Input) name() string {
	if in.Path != "" {
		return in.Path
	}
	return in.Name
}

// inputBytes returns the document's bytes and format when it may be an e-invoice (a
// PDF or XML); other formats, and files over maxScanBytes, come back without bytes.
func inputBytes(in Input) ([]byte, string, error) {
	if in.Path == "" {
		f, _ := ocr.DetectFormat(in.Data)
		return in.Data, f, nil
	}
	f, err := os.Open(in.Path)
	if err != nil {
		return nil, "", nil // the page reader says what is wrong with the path
	}
	defer f.Close()
	head := make([]byte, 1024)
	n, _ := io.ReadFull(f, head)
	format, _ := ocr.DetectFormat(head[:n])
	if format != ocr.FormatPDF && format != ocr.FormatXML {
		return nil, format, nil
	}
	st, err := f.Stat()
	if err != nil || st.Size() > maxScanBytes {
		return nil, "", nil
	}
	data, err := os.ReadFile(in.Path)
	if err != nil {
		return nil, "", fmt.Errorf("read document: %w", err)
	}
	return data, format, nil
}

// xmlError is the permanent error for a standalone XML document that cannot be read.
func xmlError(name string, err error) error {
	switch {
	case errors.Is(err, einvoice.ErrTooLarge):
		return fmt.Errorf("%s: %w: %w", name, ocr.ErrTooLarge, err)
	case errors.Is(err, einvoice.ErrNotEInvoice):
		return fmt.Errorf("%s: %w: %w", name, ocr.ErrUnsupported, err)
	}
	return fmt.Errorf("%s: %w: %w", name, ocr.ErrCorrupt, err)
}

// embeddedInvoice returns the e-invoice a PDF carries, with the attachment's name, or
// nil. Attachments that are not e-invoices are ignored; one that is XML and claims the
// e-invoice format but cannot be read, two that disagree, or a PDF whose attachments
// cannot be listed, give findings (the pages are then read instead).
func embeddedInvoice(pdf []byte) (*einvoice.Document, string, []invoice.ValidationError) {
	files, err := pdfattach.Files(pdf, pdfattach.Limits{})
	var findings []invoice.ValidationError
	if err != nil && !errors.Is(err, pdfattach.ErrEncrypted) {
		findings = append(findings, warning("", "the PDF's embedded files could not be read (%v); the pages were read instead", err))
	}
	var docs []*einvoice.Document
	var names []string
	for _, f := range files {
		if _, err := einvoice.Sniff(f.Data); err != nil {
			if claimsEInvoice(f) {
				findings = append(findings, warning("", "the embedded file %q is not a readable e-invoice (%v); the pages were read instead", f.Name, err))
			}
			continue
		}
		doc, err := einvoice.Parse(f.Data, einvoice.Limits{})
		if err != nil {
			findings = append(findings, warning("", "the embedded e-invoice %q cannot be read (%v); the pages were read instead", f.Name, err))
			continue
		}
		docs = append(docs, doc)
		names = append(names, f.Name)
	}
	switch {
	case len(docs) == 0:
		return nil, "", findings
	case len(docs) > 1:
		for i := 1; i < len(docs); i++ {
			if d := disagreement(docs[0].Data, docs[i].Data); d != "" {
				return nil, "", append(findings, invoice.ValidationError{Field: d, Severity: invoice.SeverityError,
					Message: fmt.Sprintf("the PDF embeds two e-invoices that disagree on %s (%q and %q); the pages were read instead", d, names[0], names[i])})
			}
		}
	}
	return docs[0], names[0], findings
}

// claimsEInvoice tells whether an attachment says it is XML (by MIME type or name).
func claimsEInvoice(f pdfattach.File) bool {
	n := strings.ToLower(f.Name)
	return strings.Contains(f.Subtype, "xml") || strings.HasSuffix(n, ".xml")
}

// disagreement names the first key field on which two e-invoices differ, or "".
func disagreement(a, b invoice.ExtractedData) string {
	x, y := a.Invoice, b.Invoice
	switch {
	case x.Number != y.Number:
		return "invoice.number"
	case x.Date != y.Date:
		return "invoice.date"
	case !sameAmount(x.Amounts.Total, y.Amounts.Total):
		return "invoice.amounts.total"
	case !sameAmount(x.Amounts.Tax, y.Amounts.Tax):
		return "invoice.amounts.tax"
	case !sameAmount(x.AmountDue, y.AmountDue):
		return "invoice.amountDue"
	case x.Payment.IBAN != y.Payment.IBAN:
		return "invoice.payment.iban"
	}
	return ""
}

func sameAmount(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	d := *a - *b
	return d < validate.Tolerance && d > -validate.Tolerance
}

// eInvoiceOutcome is the outcome of data read from an e-invoice's XML: every value
// present has confidence 1; validation is the project's checks plus the EN 16931 rules,
// which an e-invoice must meet (their findings are errors). Every value has evidence
// with source invoice.SourceEInvoice and confidence 1, with the page and box where ld
// (the PDF's text layer, when it was read for the cross-check) shows it, else Page 0.
func eInvoiceOutcome(doc *einvoice.Document, ld *layout.Document, eo extract.Options) *Outcome {
	data := doc.Data
	rep := validate.Check(data, eo.Spec, time.Now())
	v := rep.Results
	v.Errors = append(v.Errors, validate.EN16931(data, true)...)
	v.IsValid = !hasError(v.Errors)
	info := DocumentInfo(ld, "")
	info.Source = invoice.SourceEInvoice
	ei := doc.Info
	info.EInvoice = &ei
	return &Outcome{
		Doc: ld,
		Result: extract.Result{Data: data, Confidence: fullConfidence(data), Validation: v,
			Evidence: extract.NewLocator(ld).Evidence(data, invoice.SourceEInvoice, 1)},
		Info: info,
	}
}

func hasError(errs []invoice.ValidationError) bool {
	return slices.ContainsFunc(errs, func(e invoice.ValidationError) bool { return e.Severity == invoice.SeverityError })
}

func warning(field, format string, a ...any) invoice.ValidationError {
	return invoice.ValidationError{Field: field, Severity: invoice.SeverityWarning, Message: fmt.Sprintf(format, a...)}
}

// fullConfidence gives every field the data holds confidence 1: an e-invoice's XML is
// the invoice itself.
func fullConfidence(d invoice.ExtractedData) invoice.Confidence {
	f := map[string]float64{}
	set := func(path string, present bool) {
		if present {
			f[path] = 1
		}
	}
	inv := d.Invoice
	set("invoice.number", inv.Number != "")
	set("invoice.date", inv.Date != "")
	set("invoice.dueDate", inv.DueDate != "")
	set("invoice.supplier.name", inv.Supplier.Name != "")
	set("invoice.supplier.address", inv.Supplier.Address != "")
	set("invoice.supplier.taxId", inv.Supplier.TaxID != "")
	set("invoice.supplier.email", inv.Supplier.Email != "")
	set("invoice.supplier.phone", inv.Supplier.Phone != "")
	set("invoice.customer.name", inv.Customer.Name != "")
	set("invoice.customer.address", inv.Customer.Address != "")
	set("invoice.customer.taxId", inv.Customer.TaxID != "")
	set("invoice.amounts.subtotal", inv.Amounts.Subtotal != nil)
	set("invoice.amounts.tax", inv.Amounts.Tax != nil)
	set("invoice.amounts.total", inv.Amounts.Total != nil)
	set("invoice.amounts.currency", inv.Amounts.Currency != "")
	set("invoice.amounts.discount", inv.Amounts.Discount != nil)
	set("invoice.documentType", inv.DocumentType != "")
	set("invoice.amountDue", inv.AmountDue != nil)
	set("invoice.taxBreakdown", len(inv.TaxBreakdown) > 0)
	set("invoice.servicePeriod", inv.ServicePeriod.From != "" || inv.ServicePeriod.To != "")
	set("invoice.purchaseOrder", inv.PurchaseOrder != "")
	set("invoice.references", len(inv.References) > 0)
	set("invoice.allowances", len(inv.Allowances) > 0)
	set("invoice.payment.iban", inv.Payment.IBAN != "")
	set("invoice.payment.bic", inv.Payment.BIC != "")
	set("invoice.payment.terms", inv.Payment.Terms != "")
	set("lineItems", len(d.LineItems) > 0)
	return invoice.Confidence{Overall: 1, Fields: f}
}
