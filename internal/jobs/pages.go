package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
)

// PageDocument is what the page images of a job are drawn from (see internal/pages).
type PageDocument struct {
	URL string // the job's documentUrl: upload://KEY or http(s)
	// SHA256 is the digest of the bytes the job read (lowercase hex); "" when it has not
	// read its document yet.
	SHA256 string
	// Pages is the page count the job found; 0 when it has not read the document yet.
	Pages int
}

// JobPageDocument resolves the document whose pages a viewer of job id may see: the job
// must be visible to the caller (another owner's job is NotFound, as for GetJob). Errors:
// Invalid (id), NotFound, Gone (the document was deleted after the retention period;
// the job keeps its data), FailedPrecondition (an e-invoice XML document, which has no
// pages), Internal.
func (s *Service) JobPageDocument(ctx context.Context, id string) (PageDocument, error) {
	j, err := s.GetJob(ctx, id)
	if err != nil {
		return PageDocument{}, err
	}
	if j.DocumentDeletedAt != nil {
		return PageDocument{}, apperr.Gone(fmt.Sprintf("the job's document was deleted on %s after the document retention period (OCRINVOICE_RETENTION_DOCUMENTS): "+
			"its pages cannot be shown any more; the extracted data is kept", j.DocumentDeletedAt.UTC().Format(time.RFC3339)),
			apperr.Detail{Field: "documentDeletedAt", Message: "the document is deleted"})
	}
	if j.DocumentType == ocrinvoicejob.DocumentTypeXML || (j.DocumentInfo != nil && j.DocumentInfo.Format == "xml") {
		return PageDocument{}, apperr.FailedPrecondition("the job's document is e-invoice XML: it has no pages to show (its evidence names XML elements, not page areas)",
			apperr.Detail{Field: "documentType", Message: "xml documents have no pages"})
	}
	d := PageDocument{URL: j.DocumentURL, SHA256: j.DocumentSha256}
	if j.DocumentInfo != nil && d.SHA256 != "" {
		d.Pages = j.DocumentInfo.Pages
	}
	return d, nil
}
