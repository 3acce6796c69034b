package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// Limits of corrections.
const (
	// MaxCorrections is how many corrections one job keeps. A correction that would take
	// a job past it is refused whole (FailedPrecondition): nothing is changed or dropped,
	// so the audit trail stays complete; re-running the job does not clear it.
	MaxCorrections = 1000
	// MaxPatchBytes bounds the merge patch of one correction (TooLarge past it).
	MaxPatchBytes = 256 << 10
	// MaxFieldValues bounds the path/value pairs of one correction (TooLarge past it).
	MaxFieldValues = 1000
)

// Review events, the messages of the events (and the names of the webhooks) of a
// correction and an approval.
const (
	EventCorrected = "corrected"
	EventApproved  = "approved"
)

// RevalidateFunc runs the validation of extracted data again after a correction, with
// the job's template spec (nil when the template cannot be read) and whether the data
// was read from an e-invoice's XML. worker/validate implements it; the composition root
// (internal/app) passes it in Options.Revalidate.
type RevalidateFunc func(data invoice.ExtractedData, spec *invoice.TemplateSpec, einvoice bool) invoice.ValidationResults

// FieldValue is one value to set by a correction: a field path (see invoice.Set) and its
// new value as JSON.
type FieldValue struct {
	Path  string
	Value json.RawMessage
}

// CorrectInput is one correction of a job's extracted data: either an RFC 7396 merge
// patch on the extractedData shape (Patch) or path/value pairs applied in order
// (Fields). IfVersion, when set, must be the job's data_version.
type CorrectInput struct {
	Patch     []byte
	Fields    []FieldValue
	IfVersion *int
}

// ExtractedField is one value of a job's extracted data with where it came from, as
// GraphQL lists them (OcrInvoiceJob.fields).
type ExtractedField struct {
	Path  string
	Value any
	// Confidence is the job's confidence of the path (or, without one, its evidence's);
	// nil when neither was recorded.
	Confidence *float64
	// Source is the evidence's source, else what the document was read from
	// (DocumentInfo.Source); empty when unknown.
	Source   string
	Evidence *invoice.Evidence
	// MachineValue is the value as the machine produced it (invoice.Get on machine_data;
	// the current value when the job has no machine data apart), nil when it produced none.
	MachineValue any
}

// Fields lists every value of job j's extracted data (invoice.Fields, in document order)
// with its confidence, source and evidence; none before the job has data.
func Fields(j *ent.OcrInvoiceJob) []*ExtractedField {
	if j.ExtractedData == nil {
		return []*ExtractedField{}
	}
	docSource := ""
	if j.DocumentInfo != nil {
		docSource = j.DocumentInfo.Source
	}
	leaves := invoice.Fields(*j.ExtractedData)
	machine := map[string]any{}
	if j.MachineData != nil {
		for _, f := range invoice.Fields(*j.MachineData) {
			machine[f.Path] = f.Value
		}
	}
	out := make([]*ExtractedField, 0, len(leaves))
	for _, f := range leaves {
		ef := ExtractedField{Path: f.Path, Value: f.Value, Source: docSource, MachineValue: f.Value}
		if j.MachineData != nil {
			ef.MachineValue = machine[f.Path]
		}
		if ev, ok := j.Evidence[f.Path]; ok {
			ev := ev
			ef.Evidence = &ev
			if ev.Source != "" {
				ef.Source = ev.Source
			}
			c := ev.Confidence
			ef.Confidence = &c
		}
		if j.Confidence != nil {
			if c, ok := j.Confidence.Fields[f.Path]; ok {
				ef.Confidence = &c
			}
		}
		out = append(out, &ef)
	}
	return out
}

// CorrectJob corrects values of a completed job's extracted data, for the caller's owner
// (another owner's job is NotFound): in.Patch is merged into the data (invoice.MergePatch)
// or in.Fields are set one after the other (invoice.Set). One invoice.Correction is
// recorded per value that changed (invoice.Diff), by the caller's owner and key; the
// machine's data stays in machine_data. The corrected paths' evidence becomes source
// correction, confidence 1, page 0, and their confidence 1; validation runs again
// (Options.Revalidate; without one the results are kept); review_status becomes
// corrected and data_version grows by one. The change is published to subscribers and
// the job's webhook (when it has a callback URL) is sent again. A correction that
// changes nothing records nothing and returns the job as it is.
//
// Errors: Invalid naming the path (unknown path, a value of the wrong type, malformed
// JSON) or naming neither; TooLarge (patch over MaxPatchBytes, more than MaxFieldValues
// pairs); NotFound; Conflict when in.IfVersion is not the job's data_version or the job
// changed meanwhile (a re-run, another correction); FailedPrecondition when the job is
// not completed or the correction would take it past MaxCorrections. Nothing is changed
// on any error.
func (s *Service) CorrectJob(ctx context.Context, id string, in CorrectInput) (*ent.OcrInvoiceJob, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	switch {
	case in.Patch != nil && in.Fields != nil:
		return nil, apperr.Invalid("give either a merge patch or field values, not both")
	case in.Patch == nil && len(in.Fields) == 0:
		return nil, apperr.Invalid("nothing to correct: give a merge patch or at least one field value",
			apperr.Detail{Field: "fields", Message: "empty"})
	case len(in.Patch) > MaxPatchBytes:
		return nil, apperr.TooLarge(fmt.Sprintf("the merge patch has %d bytes, more than the limit of %d", len(in.Patch), MaxPatchBytes))
	case len(in.Fields) > MaxFieldValues:
		return nil, apperr.TooLarge(fmt.Sprintf("%d field values, more than the limit of %d per correction", len(in.Fields), MaxFieldValues))
	}
	cur, err := s.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := reviewable(cur, "correct", in.IfVersion); err != nil {
		return nil, err
	}
	next, err := applyCorrection(*cur.ExtractedData, in)
	if err != nil {
		return nil, err
	}
	changes := invoice.Diff(*cur.ExtractedData, next)
	if len(changes) == 0 {
		return cur, nil
	}
	if n := len(cur.Corrections) + len(changes); n > MaxCorrections {
		return nil, apperr.FailedPrecondition(fmt.Sprintf(
			"the job has %d corrections and this one changes %d values: a job keeps at most %d corrections; nothing was changed",
			len(cur.Corrections), len(changes), MaxCorrections),
			apperr.Detail{Field: "corrections", Message: fmt.Sprintf("at most %d", MaxCorrections)})
	}
	now := s.clock()
	p, _ := auth.FromContext(ctx)
	corrections := append(make([]invoice.Correction, 0, len(cur.Corrections)+len(changes)), cur.Corrections...)
	evidence := maps.Clone(cur.Evidence)
	if evidence == nil {
		evidence = map[string]invoice.Evidence{}
	}
	conf := invoice.Confidence{}
	if cur.Confidence != nil {
		conf.Overall = cur.Confidence.Overall
		conf.Fields = maps.Clone(cur.Confidence.Fields)
	}
	if conf.Fields == nil {
		conf.Fields = map[string]float64{}
	}
	for _, c := range changes {
		corrections = append(corrections, invoice.Correction{Path: c.Path, Old: c.Old, New: c.New, By: p.Owner, KeyID: p.KeyID, At: now})
		if _, err := invoice.Get(next, c.Path); err != nil {
			// A value that no longer exists (a line removed) has no evidence.
			delete(evidence, c.Path)
			delete(conf.Fields, c.Path)
			continue
		}
		evidence[c.Path] = invoice.Evidence{Text: valueText(c.New), Source: invoice.SourceCorrection, Confidence: 1}
		conf.Fields[c.Path] = 1
	}
	validation := s.revalidate(ctx, cur, next)
	machine := cur.MachineData
	if machine == nil {
		// Completed before machine_data existed: what it holds now is the machine's.
		machine = cur.ExtractedData
	}
	upd := s.client.OcrInvoiceJob.Update().
		Where(ocrinvoicejob.ID(id), ocrinvoicejob.StatusEQ(ocrinvoicejob.StatusCompleted), ocrinvoicejob.DataVersion(cur.DataVersion)).
		SetExtractedData(&next).
		SetMachineData(machine).
		SetCorrections(corrections).
		SetEvidence(evidence).
		SetConfidence(&conf).
		SetReviewStatus(ocrinvoicejob.ReviewStatusCorrected).
		AddDataVersion(1).
		SetUpdatedAt(now).
		SetInvoiceNumber(next.Invoice.Number).
		SetSupplierName(next.Invoice.Supplier.Name).
		SetCustomerName(next.Invoice.Customer.Name)
	if validation != nil {
		upd.SetValidationResults(validation)
	}
	return s.saveReview(ctx, cur, upd, "correct", EventCorrected, now)
}

// ApproveJob marks a completed job's extracted data as checked by a person, for the
// caller's owner: review_status becomes approved and data_version grows by one; the
// change is published and the job's webhook sent again. Approving an approved job
// changes nothing and returns it. Errors: NotFound; Conflict (ifVersion is not the job's
// data_version, or the job changed meanwhile); FailedPrecondition (not completed).
func (s *Service) ApproveJob(ctx context.Context, id string, ifVersion *int) (*ent.OcrInvoiceJob, error) {
	cur, err := s.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := reviewable(cur, "approve", ifVersion); err != nil {
		return nil, err
	}
	if cur.ReviewStatus == ocrinvoicejob.ReviewStatusApproved {
		return cur, nil
	}
	now := s.clock()
	upd := s.client.OcrInvoiceJob.Update().
		Where(ocrinvoicejob.ID(id), ocrinvoicejob.StatusEQ(ocrinvoicejob.StatusCompleted), ocrinvoicejob.DataVersion(cur.DataVersion)).
		SetReviewStatus(ocrinvoicejob.ReviewStatusApproved).
		AddDataVersion(1).
		SetUpdatedAt(now)
	return s.saveReview(ctx, cur, upd, "approve", EventApproved, now)
}

// reviewable checks that job cur may be corrected or approved (action) at ifVersion:
// the version first, so that a client that missed a re-run learns it with a Conflict.
func reviewable(cur *ent.OcrInvoiceJob, action string, ifVersion *int) error {
	if ifVersion != nil && *ifVersion != cur.DataVersion {
		return versionConflict(cur, *ifVersion)
	}
	if cur.Status != ocrinvoicejob.StatusCompleted {
		return apperr.FailedPrecondition(fmt.Sprintf("cannot %s a job that is %s: only a completed job's data can be reviewed", action, cur.Status),
			apperr.Detail{Field: "status", Message: string(cur.Status)})
	}
	if cur.ExtractedData == nil {
		return apperr.FailedPrecondition(fmt.Sprintf("cannot %s a job without extracted data", action))
	}
	return nil
}

func versionConflict(cur *ent.OcrInvoiceJob, asked int) error {
	return apperr.Conflict(fmt.Sprintf("the job's data is at version %d, not %d: it changed since it was read; read it again", cur.DataVersion, asked),
		apperr.Detail{Field: "version", Message: "the job's dataVersion is " + strconv.Itoa(cur.DataVersion)})
}

// saveReview runs upd, the UPDATE of a correction or approval of cur (conditional on cur's
// status and data_version), marks the webhook owed when one is, and then publishes the
// change and queues the webhook. No row matched: the job changed meanwhile (Conflict) or
// was deleted (NotFound).
func (s *Service) saveReview(ctx context.Context, cur *ent.OcrInvoiceJob, upd *ent.OcrInvoiceJobUpdate, action, event string, now time.Time) (*ent.OcrInvoiceJob, error) {
	if s.webhookOwed(ctx, cur) {
		upd.SetWebhookPendingAt(now)
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return nil, mapDBError(action+" job", err)
	}
	if n == 0 {
		now, err := s.GetJob(ctx, cur.ID)
		if err != nil {
			return nil, err
		}
		if now.DataVersion != cur.DataVersion {
			return nil, apperr.Conflict(fmt.Sprintf("the job changed while it was being %s (data version %d, now %d); read it again",
				pastTense(action), cur.DataVersion, now.DataVersion),
				apperr.Detail{Field: "version", Message: "the job's dataVersion is " + strconv.Itoa(now.DataVersion)})
		}
		return nil, reviewable(now, action, nil)
	}
	j, err := s.GetJob(ctx, cur.ID)
	if err != nil {
		return nil, err
	}
	s.notify(ctx, j, event)
	s.enqueueWebhook(ctx, j)
	s.learnQuietly(ctx, j.ID) // the reviewed data teaches the supplier's profile
	return j, nil
}

func pastTense(action string) string {
	if action == "approve" {
		return "approved"
	}
	return action + "ed"
}

// applyCorrection returns data with the correction in applied; data is not changed.
// Errors: Invalid naming the path.
func applyCorrection(data invoice.ExtractedData, in CorrectInput) (invoice.ExtractedData, error) {
	if in.Patch != nil {
		next, err := invoice.MergePatch(data, in.Patch)
		if err != nil {
			return data, pathError(err, "")
		}
		return next, nil
	}
	next, err := cloneData(data)
	if err != nil {
		return data, err
	}
	for i, f := range in.Fields {
		if len(bytes.TrimSpace(f.Value)) == 0 {
			f.Value = json.RawMessage("null")
		}
		if err := invoice.Set(&next, f.Path, f.Value); err != nil {
			return data, pathError(err, fmt.Sprintf("fields[%d]", i))
		}
	}
	return next, nil
}

// pathError turns an *invoice.PathError into an Invalid error whose detail names the path
// (or, for an error of no path, where, e.g. "fields[2]", else "extractedData").
func pathError(err error, where string) error {
	var pe *invoice.PathError
	if !errors.As(err, &pe) {
		return internal("apply correction", err)
	}
	field := pe.Path
	if field == "" {
		field = where
	}
	if field == "" {
		field = "extractedData"
	}
	return apperr.Invalid("invalid correction: "+pe.Error(), apperr.Detail{Field: field, Message: pe.Reason})
}

// cloneData returns a deep copy of d.
func cloneData(d invoice.ExtractedData) (invoice.ExtractedData, error) {
	var out invoice.ExtractedData
	b, err := json.Marshal(d)
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		return d, internal("copy extracted data", err)
	}
	return out, nil
}

// valueText is the text of a corrected value for its evidence.
func valueText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// revalidate runs Options.Revalidate on data with job cur's template spec; nil (keep the
// results) without one. The template is read in the caller's scope: one that was
// unshared from the job's owner since validates without its spec.
func (s *Service) revalidate(ctx context.Context, cur *ent.OcrInvoiceJob, data invoice.ExtractedData) *invoice.ValidationResults {
	if s.revalidateFn == nil {
		return nil
	}
	var spec *invoice.TemplateSpec
	if tpl, err := s.client.OcrTemplate.Get(ctx, cur.TemplateID); err == nil {
		spec = &tpl.Spec
	}
	einv := cur.DocumentInfo != nil && cur.DocumentInfo.Source == invoice.SourceEInvoice
	v := s.revalidateFn(data, spec, einv)
	if v.Errors == nil {
		v.Errors = []invoice.ValidationError{}
	}
	return &v
}

// webhookVersion is the data version a job's owed webhook is for: 0 for the transition
// to a terminal state (the task id of earlier releases), the data_version for a review
// (a correction or an approval), so that each review's webhook is a delivery of its own.
func webhookVersion(j *ent.OcrInvoiceJob) int {
	if j.ReviewStatus == ocrinvoicejob.ReviewStatusUnreviewed || j.ReviewStatus == "" {
		return 0
	}
	return j.DataVersion
}
