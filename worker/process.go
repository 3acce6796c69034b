// Package worker runs OCR invoice jobs: the asynq task handler and the pipeline
// fetch -> inspect -> read -> extract -> validate -> store.
package worker

import (
	"context"
	"fmt"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// Outcome is what reading and extracting one document produced.
type Outcome struct {
	Doc    *layout.Document
	Result extract.Result
	Info   invoice.DocumentInfo
}

// Process reads one document and extracts its invoice data. It is the one code path
// shared by the queue worker, `ocrinvoice extract` and `ocrinvoice eval`, so that what
// is measured is what is served. Errors from reading wrap ocr.ErrBadDocument when the
// document itself is at fault.
func Process(ctx context.Context, r *ocr.Reader, data []byte, name string, ro ocr.Options, eo extract.Options) (*Outcome, error) {
	doc, err := r.ReadBytes(ctx, data, name, ro)
	if err != nil {
		return nil, err
	}
	return ExtractDocument(doc, eo)
}

// ExtractDocument extracts invoice data from an already read document.
func ExtractDocument(doc *layout.Document, eo extract.Options) (*Outcome, error) {
	res, err := extract.Extract(doc, eo)
	if err != nil {
		return nil, fmt.Errorf("extract invoice data: %w", err)
	}
	return &Outcome{Doc: doc, Result: res, Info: DocumentInfo(doc, res.Language)}, nil
}

// DocumentInfo describes what was read. Language is the OCR language when pages were
// OCR'd, else the language detected in the text.
func DocumentInfo(doc *layout.Document, detected string) invoice.DocumentInfo {
	info := invoice.DocumentInfo{Pages: len(doc.Pages), Size: doc.Size, Format: doc.Format, Language: detected}
	ocrd := false
	for _, pg := range doc.Pages {
		if pg.Source == layout.SourceOCR {
			ocrd = true
		}
	}
	if doc.DPI > 0 && ocrd {
		info.Resolution = fmt.Sprintf("%d dpi", doc.DPI)
	}
	if ocrd && doc.Language != "" {
		info.Language = doc.Language
	}
	return info
}
