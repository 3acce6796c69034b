package validate

import (
	"slices"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// Revalidate validates data that a person corrected, as the worker validates what it
// read: every check of Check with the template's spec (nil: none), then the EN 16931
// rules, errors for data read from an e-invoice's XML (einvoice) and warnings otherwise.
// IsValid is false when any finding is an error. It fits jobs.Options.Revalidate.
func Revalidate(data invoice.ExtractedData, spec *invoice.TemplateSpec, einvoice bool) invoice.ValidationResults {
	v := Check(data, spec, time.Now()).Results
	v.Errors = append(v.Errors, EN16931(data, einvoice)...)
	v.IsValid = !slices.ContainsFunc(v.Errors, func(e invoice.ValidationError) bool { return e.Severity == invoice.SeverityError })
	return v
}
