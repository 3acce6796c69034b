// Package worker runs OCR invoice jobs: the asynq task handler and the pipeline
// fetch -> inspect -> read -> extract (validation runs inside extraction; the result is
// stored by the run's Complete, see jobs.Run). Process is the read-and-extract path the
// handler, `ocrinvoice extract` and `ocrinvoice eval` share.
package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
	"github.com/ocrinvoice/ocrinvoice/worker/validate"
)

// Outcome is what reading and extracting one document produced.
type Outcome struct {
	Doc    *layout.Document
	Result extract.Result
	Info   invoice.DocumentInfo
}

// Input is one document to process: a file on disk (Path), or bytes fetched elsewhere
// (Data, called Name in the reader's messages). Path wins when both are set.
type Input struct {
	Path string
	Data []byte
	Name string
}

// Steps tune one Process call.
type Steps struct {
	Read    ocr.Options
	Extract extract.Options
	// NoCrossCheck skips reading a hybrid e-invoice PDF's text layer to compare its key
	// fields with the embedded XML (the cross-check is most of such a job's cost).
	NoCrossCheck bool
	// NoImageText skips reading the text a text-layer PDF's first page prints as
	// images when extraction finds no supplier (see NeedsImageText).
	NoImageText bool
	// Extracting, when set, is called once the document is read and before extraction
	// begins; an error from it ends Process and is returned as it is. The queue worker
	// reports its extract step and notices a cancelled run here.
	Extracting func(*layout.Document) error
}

// ReadError is a failure to read the document, as opposed to one of extraction. Its
// message is the reader's own; it unwraps to the reader's error, so errors.Is(err,
// ocr.ErrBadDocument) still tells a document at fault.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return e.Err.Error() }

// Unwrap returns the reader's error.
func (e *ReadError) Unwrap() error { return e.Err }

// Process reads one document and extracts its invoice data. With ExtractDocument and
// DocumentInfo it is the one code path shared by the queue worker, `ocrinvoice extract`
// and `ocrinvoice eval` (which reads through its cache, then calls ExtractDocument), so
// that what is measured is what is served. Reading errors are *ReadError.
//
// With the default read mode (auto) an e-invoice is read from its XML: a standalone CII
// or UBL document, or the one a PDF embeds (ZUGFeRD, Factur-X, XRechnung); the PDF's
// text layer is then read only to cross-check the key fields against the XML. Modes
// text and ocr read the pages, so that the visual readers can still be measured.
func Process(ctx context.Context, r *ocr.Reader, in Input, s Steps) (*Outcome, error) {
	ei, err := readEInvoice(ctx, r, in, s)
	switch {
	case err == nil:
		return ei.out, nil
	case !errors.Is(err, errNotEInvoice):
		return nil, err
	}
	out, err := processPages(ctx, r, in, s)
	if err == nil && len(ei.findings) > 0 {
		v := &out.Result.Validation
		v.Errors = append(v.Errors, ei.findings...)
		v.IsValid = !hasError(v.Errors)
	}
	return out, err
}

// processPages reads the document's pages and extracts the invoice from them.
func processPages(ctx context.Context, r *ocr.Reader, in Input, s Steps) (*Outcome, error) {
	ro := s.Read
	// Only a template reads the page text: without one, a text PDF costs one poppler run.
	ro.NoPageText = ro.NoPageText || !s.Extract.MayApplyTemplate()
	doc, err := read(ctx, r, in, ro)
	if err != nil {
		return nil, &ReadError{Err: err}
	}
	if s.Extracting != nil {
		if err := s.Extracting(doc); err != nil {
			return nil, err
		}
	}
	out, err := ExtractDocument(doc, s.Extract)
	if err != nil || s.NoImageText || !NeedsImageText(out) {
		return out, err
	}
	return withImageText(ctx, r, in, s, out)
}

func read(ctx context.Context, r *ocr.Reader, in Input, ro ocr.Options) (*layout.Document, error) {
	if in.Path != "" {
		return r.Read(ctx, in.Path, ro)
	}
	return r.ReadBytes(ctx, in.Data, in.Name, ro)
}

// ExtractDocument extracts invoice data from an already read document. Its validation
// also reports the EN 16931 business rules the data does not meet, as warnings: a page
// may simply not print a term the standard requires (an e-invoice's XML must; see
// readEInvoice).
func ExtractDocument(doc *layout.Document, eo extract.Options) (*Outcome, error) {
	res, err := extract.Extract(doc, eo)
	if err != nil {
		return nil, fmt.Errorf("extract invoice data: %w", err)
	}
	res.Validation.Errors = append(res.Validation.Errors, validate.EN16931(res.Data, false)...)
	return &Outcome{Doc: doc, Result: res, Info: DocumentInfo(doc, res.Language)}, nil
}

// DocumentInfo describes what was read. Language is the OCR language when pages were
// OCR'd, else the language detected in the text.
func DocumentInfo(doc *layout.Document, detected string) invoice.DocumentInfo {
	info := invoice.DocumentInfo{Pages: len(doc.Pages), Size: doc.Size, Format: doc.Format, Language: detected}
	ocrd, text := false, false
	for _, pg := range doc.Pages {
		switch pg.Source {
		case layout.SourceOCR:
			ocrd = true
		case layout.SourceTextLayer:
			text = true
		}
	}
	switch {
	case ocrd && text:
		info.Source = invoice.SourceMixed
	case ocrd:
		info.Source = invoice.SourceOCR
	case text:
		info.Source = invoice.SourceText
	}
	if doc.DPI > 0 && ocrd {
		info.Resolution = fmt.Sprintf("%d dpi", doc.DPI)
	}
	if ocrd && doc.Language != "" {
		info.Language = doc.Language
	}
	return info
}
