package worker

import (
	"context"
	"fmt"
	"os"

	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// NeedsImageText tells whether an extraction from a PDF text layer should be repeated
// with the text its first page prints as images (ocr.Reader.ReadImageText): no supplier
// was found, and the first page came from its text layer. A supplier pasted in as a
// picture of its letterhead is the common case; the reading costs one OCR pass of the
// page, paid only then.
func NeedsImageText(out *Outcome) bool {
	if out == nil || out.Doc == nil || out.Doc.Format != ocr.FormatPDF || len(out.Doc.Pages) == 0 {
		return false
	}
	if out.Doc.Pages[0].Source != layout.SourceTextLayer {
		return false
	}
	s := out.Result.Data.Invoice.Supplier
	return s.Name == "" && s.TaxID == ""
}

// WithImageText reads the text printed as images on the first page of the PDF at path
// into out.Doc (see NeedsImageText) and extracts again when it added words. A reading
// that fails leaves the fields as they were and adds a warning to the document and its
// results; only a cancelled context is an error.
func WithImageText(ctx context.Context, r *ocr.Reader, path string, out *Outcome, ro ocr.Options, eo extract.Options) (*Outcome, error) {
	n, err := r.ReadImageText(ctx, path, out.Doc, 1, ro)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		out.Doc.Warnings = append(out.Doc.Warnings, fmt.Sprintf("page 1: the text of its images could not be read: %v", err))
		return ExtractDocument(out.Doc, eo) // for the warning in the results
	}
	if n == 0 {
		return out, nil
	}
	return ExtractDocument(out.Doc, eo)
}

// withImageText is WithImageText for an Input, staging bytes in a temporary file.
func withImageText(ctx context.Context, r *ocr.Reader, in Input, s Steps, out *Outcome) (*Outcome, error) {
	path := in.Path
	if path == "" {
		f, err := os.CreateTemp("", "ocrinvoice-*.pdf")
		if err != nil {
			out.Doc.Warnings = append(out.Doc.Warnings, fmt.Sprintf("page 1: the text of its images was not read: %v", err))
			return out, nil
		}
		defer os.Remove(f.Name())
		_, werr := f.Write(in.Data)
		if cerr := f.Close(); werr != nil || cerr != nil {
			out.Doc.Warnings = append(out.Doc.Warnings, "page 1: the text of its images was not read: the document could not be staged")
			return out, nil
		}
		path = f.Name()
	}
	return WithImageText(ctx, r, path, out, s.Read, s.Extract)
}
