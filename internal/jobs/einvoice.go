package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/worker/einvoice/export"
)

// EInvoiceSyntaxes are the syntaxes a job can be exported in (JobEInvoice).
var EInvoiceSyntaxes = []string{string(export.CII), string(export.UBL)}

// EInvoice is a job's data written as an EN 16931 e-invoice.
type EInvoice struct {
	// FileName suggests a name for the file ("invoice-<number>.cii.xml").
	FileName string
	// XML is the document, UTF-8.
	XML []byte
}

// JobEInvoice writes the extracted data of a completed job as EN 16931 XML in syntax
// ("cii" or "ubl"; "" means cii). Errors: Invalid (a bad id or syntax), NotFound,
// FailedPrecondition (the job is not completed, or its data lacks what EN 16931
// requires: one detail per missing business term, naming the field).
func (s *Service) JobEInvoice(ctx context.Context, id, syntax string) (*EInvoice, error) {
	syn := export.Syntax(strings.ToLower(syntax))
	if syn == "" {
		syn = export.CII
	}
	if syn != export.CII && syn != export.UBL {
		return nil, apperr.InvalidField("syntax", fmt.Sprintf("must be one of %s", strings.Join(EInvoiceSyntaxes, ", ")))
	}
	j, err := s.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if j.Status != ocrinvoicejob.StatusCompleted || j.ExtractedData == nil {
		return nil, apperr.FailedPrecondition(fmt.Sprintf("job %s is %s: only a completed job can be exported as an e-invoice", id, j.Status))
	}
	xml, err := export.Write(*j.ExtractedData, syn)
	if me := (*export.MissingError)(nil); errors.As(err, &me) {
		details := make([]apperr.Detail, 0, len(me.Terms))
		ids := make([]string, 0, len(me.Terms))
		for _, t := range me.Terms {
			details = append(details, apperr.Detail{Field: t.Field, Message: fmt.Sprintf("%s %s is required by EN 16931", t.ID, t.Name)})
			ids = append(ids, t.ID)
		}
		return nil, apperr.FailedPrecondition(fmt.Sprintf("the invoice lacks what EN 16931 requires (%s): correct the job's data first", strings.Join(ids, ", ")), details...)
	}
	if err != nil {
		return nil, internal("write e-invoice", err)
	}
	return &EInvoice{FileName: export.FileName(*j.ExtractedData, syn), XML: xml}, nil
}
