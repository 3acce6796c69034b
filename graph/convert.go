package graph

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/graph/model"
	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// The functions in this file translate generated GraphQL inputs into internal/jobs
// inputs. GraphQL updates are patches (absent fields keep their value); internal/jobs
// updates are replacements, so a patch is applied to the current state first.

func deref[T any](p *T) (v T) {
	if p != nil {
		v = *p
	}
	return v
}

// aliasValue applies the value data of the deprecated input field old to *cur, the
// field that new (the contract's name) sets too: both given with different values is
// an Invalid error naming new.
func aliasValue[T comparable](cur *T, data *T, new, old string) error {
	var zero T
	switch {
	case data == nil:
	case *cur != zero && *cur != *data:
		return aliasConflict(new, old)
	default:
		*cur = *data
	}
	return nil
}

// aliasPtr is aliasValue for an optional field.
func aliasPtr[T comparable](cur **T, data *T, new, old string) error {
	switch {
	case data == nil:
	case *cur != nil && **cur != *data:
		return aliasConflict(new, old)
	default:
		*cur = data
	}
	return nil
}

func aliasConflict(new, old string) error {
	return apperr.InvalidField(new, fmt.Sprintf("given twice with different values, as %s and as %s (its deprecated name); give %s only", new, old, new))
}

func jobCreateInput(in ent.CreateOcrInvoiceJobInput) jobs.JobInput {
	return jobs.JobInput{
		JobNumber:    in.JobNumber,
		DocumentName: in.DocumentName,
		DocumentURL:  in.DocumentURL,
		DocumentType: string(deref(in.DocumentType)),
		Template:     in.TemplateID,
		Group:        deref(in.GroupID),
		Priority:     string(deref(in.Priority)),
		CreatedBy:    deref(in.CreatedBy),
		Metadata:     in.Metadata,
		CallbackURL:  deref(in.CallbackURL),
	}
}

func jobPatchInput(cur *ent.OcrInvoiceJob, in ent.UpdateOcrInvoiceJobInput) jobs.JobInput {
	out := jobs.JobInput{
		JobNumber:    cur.JobNumber,
		DocumentName: cur.DocumentName,
		DocumentURL:  cur.DocumentURL,
		DocumentType: string(cur.DocumentType),
		Template:     cur.TemplateID,
		Group:        deref(cur.GroupID),
		Priority:     string(cur.Priority),
		CreatedBy:    cur.CreatedBy,
		Metadata:     cur.Metadata,
		CallbackURL:  cur.CallbackURL,
	}
	if in.JobNumber != nil {
		out.JobNumber = *in.JobNumber
	}
	if in.DocumentName != nil {
		out.DocumentName = *in.DocumentName
	}
	if in.DocumentURL != nil {
		out.DocumentURL = *in.DocumentURL
	}
	if in.ClearDocumentType {
		out.DocumentType = ""
	}
	if in.DocumentType != nil {
		out.DocumentType = string(*in.DocumentType)
	}
	if in.Priority != nil {
		out.Priority = string(*in.Priority)
	}
	if in.ClearCreatedBy {
		out.CreatedBy = ""
	}
	if in.CreatedBy != nil {
		out.CreatedBy = *in.CreatedBy
	}
	if in.ClearCallbackURL {
		out.CallbackURL = ""
	}
	if in.CallbackURL != nil {
		out.CallbackURL = *in.CallbackURL
	}
	if in.ClearMetadata {
		out.Metadata = nil
	}
	if in.Metadata != nil {
		out.Metadata = in.Metadata
	}
	if in.TemplateID != nil {
		out.Template = *in.TemplateID
	}
	if in.ClearGroup {
		out.Group = ""
	}
	if in.GroupID != nil {
		out.Group = *in.GroupID
	}
	return out
}

func templateCreateInput(in ent.CreateOcrTemplateInput) jobs.TemplateInput {
	return jobs.TemplateInput{
		Name:                 in.Name,
		Description:          deref(in.Description),
		Languages:            deref(in.Languages),
		DPI:                  in.Dpi,
		PageSegmentationMode: in.PageSegmentationMode,
		Spec:                 deref(in.Spec),
		DefaultCurrency:      deref(in.DefaultCurrency),
		PricePerPage:         in.PricePerPage,
		CreatedBy:            in.CreatedBy,
		Shared:               in.Shared,
	}
}

func templatePatchInput(cur *ent.OcrTemplate, in ent.UpdateOcrTemplateInput) jobs.TemplateInput {
	out := jobs.TemplateInput{
		Name:                 cur.Name,
		Description:          cur.Description,
		Languages:            cur.Languages,
		DPI:                  &cur.Dpi,
		PageSegmentationMode: &cur.PageSegmentationMode,
		Spec:                 cur.Spec,
		DefaultCurrency:      cur.DefaultCurrency,
		PricePerPage:         &cur.PricePerPage,
	}
	if in.Name != nil {
		out.Name = *in.Name
	}
	if in.ClearDescription {
		out.Description = ""
	}
	if in.Description != nil {
		out.Description = *in.Description
	}
	if in.Languages != nil {
		out.Languages = *in.Languages
	}
	if in.Dpi != nil {
		out.DPI = in.Dpi
	}
	if in.PageSegmentationMode != nil {
		out.PageSegmentationMode = in.PageSegmentationMode
	}
	if in.Spec != nil {
		out.Spec = *in.Spec
	}
	if in.DefaultCurrency != nil {
		out.DefaultCurrency = *in.DefaultCurrency
	}
	if in.PricePerPage != nil {
		out.PricePerPage = in.PricePerPage
	}
	// nil keeps the stored owner and sharing (jobs.TemplateInput).
	out.CreatedBy = in.CreatedBy
	if in.ClearCreatedBy {
		empty := ""
		out.CreatedBy = &empty
	}
	out.Shared = in.Shared
	return out
}

func groupCreateInput(in model.CreateOcrJobGroupInput) (jobs.GroupInput, error) {
	out := jobs.GroupInput{
		Name:        in.Name,
		Description: deref(in.Description),
		Spec:        deref(in.Spec),
		CreatedBy:   deref(in.CreatedBy),
		CallbackURL: deref(in.CallbackURL),
	}
	if in.Documents != nil {
		out.Documents = make([]jobs.GroupDocument, len(in.Documents))
		for i, d := range in.Documents {
			url := d.DocumentURL
			if err := aliasPtr(&url, d.DeprecatedDocumentURL, fmt.Sprintf("documents[%d].documentUrl", i), fmt.Sprintf("documents[%d].documentURL", i)); err != nil {
				return jobs.GroupInput{}, err
			}
			out.Documents[i] = jobs.GroupDocument{DocumentURL: deref(url), DocumentName: d.DocumentName, JobNumber: deref(d.JobNumber), Metadata: d.Metadata}
		}
	}
	return out, nil
}

func groupPatchInput(cur *ent.OcrJobGroup, in ent.UpdateOcrJobGroupInput) jobs.GroupInput {
	out := jobs.GroupInput{Name: cur.Name, Description: cur.Description, Spec: cur.Spec, CreatedBy: cur.CreatedBy, CallbackURL: cur.CallbackURL}
	if in.Name != nil {
		out.Name = *in.Name
	}
	if in.ClearDescription {
		out.Description = ""
	}
	if in.Description != nil {
		out.Description = *in.Description
	}
	if in.Spec != nil {
		out.Spec = *in.Spec
	}
	if in.ClearCreatedBy {
		out.CreatedBy = ""
	}
	if in.CreatedBy != nil {
		out.CreatedBy = *in.CreatedBy
	}
	if in.ClearCallbackURL {
		out.CallbackURL = ""
	}
	if in.CallbackURL != nil {
		out.CallbackURL = *in.CallbackURL
	}
	return out
}

// fieldScores lists a confidence map sorted by field path, for a stable output.
func fieldScores(c *invoice.Confidence) []*model.FieldScore {
	out := make([]*model.FieldScore, 0, len(c.Fields))
	for f, v := range c.Fields {
		out = append(out, &model.FieldScore{Field: f, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

func uploadedDocument(u uploads.Upload, filename string) *model.UploadedDocument {
	return &model.UploadedDocument{
		DocumentURL:           u.URL,
		DeprecatedDocumentURL: u.URL,
		Sha256:                u.SHA256,
		Size:                  int(u.Size),
		DocumentName:          uploads.DocumentName(filename, u.DocumentType),
		DocumentType:          ocrinvoicejob.DocumentType(u.DocumentType),
	}
}

func apiKeyCreateInput(in model.CreateAPIKeyInput) apikeys.CreateInput {
	out := apikeys.CreateInput{Name: in.Name, Role: auth.Role(in.Role)}
	if in.Owner != nil {
		out.Owner = *in.Owner
	}
	if in.RateLimit != nil {
		out.Limits.RatePerSecond = *in.RateLimit
	}
	if in.UploadConcurrency != nil {
		out.Limits.UploadConcurrency = *in.UploadConcurrency
	}
	return out
}

// correctInput is the jobs.CorrectInput of correctOcrInvoiceJob: each value encoded as
// JSON again (invoice.Set checks its type against the path's field).
func correctInput(fields []*model.FieldValueInput, ifVersion *int) (jobs.CorrectInput, error) {
	in := jobs.CorrectInput{Fields: make([]jobs.FieldValue, 0, len(fields)), IfVersion: ifVersion}
	for i, f := range fields {
		b, err := json.Marshal(f.Value)
		if err != nil {
			field := fmt.Sprintf("fields[%d].value", i)
			return in, apperr.InvalidField(field, "not a JSON value")
		}
		in.Fields = append(in.Fields, jobs.FieldValue{Path: f.Path, Value: b})
	}
	return in, nil
}
