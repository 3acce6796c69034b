package worker

import (
	"context"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/profile"
	"github.com/ocrinvoice/ocrinvoice/worker/validate"
)

// LearnedProfile is a supplier profile found for a document: its id, version and rules
// (worker/profile's Rules as JSON).
type LearnedProfile struct {
	ID      string
	Version int
	Rules   []byte
	// Keys are the profile's own: a document whose keys name the same supplier
	// (profile.SameSupplier) gets the supplier name the corrections taught.
	Keys invoice.SupplierKeys
}

// ProfileLookup finds the supplier profile of the document's owner that matches keys;
// nil (and no error) when there is none.
type ProfileLookup func(ctx context.Context, keys invoice.SupplierKeys) (*LearnedProfile, error)

// applyProfile looks up the supplier profile of a document read from its pages and, when
// there is one, applies it to out's result: the fields the profile finds replace the
// generic ones (source learned), then the data is validated again. It returns what the
// job records of the profile's use: nil when no profile matched or it supplied nothing.
// A profile that cannot be read or looked up leaves the generic result as it is; the
// error is returned for the log.
func applyProfile(ctx context.Context, out *Outcome, spec *invoice.TemplateSpec, lookup ProfileLookup) (*invoice.ProfileUse, error) {
	if lookup == nil || out == nil || out.Doc == nil || out.Info.Source == invoice.SourceEInvoice {
		return nil, nil
	}
	keys := profile.Keys(out.Doc, out.Result.Data)
	if keys == (invoice.SupplierKeys{}) {
		return nil, nil
	}
	p, err := lookup(ctx, keys)
	if err != nil || p == nil {
		return nil, err
	}
	before := out.Result.Data
	set, err := profile.ApplyWith(out.Doc, p.Rules, &out.Result, profile.ApplyOptions{Identified: profile.SameSupplier(p.Keys, keys)})
	if err != nil {
		return nil, err
	}
	use := &invoice.ProfileUse{ID: p.ID, Version: p.Version, Fields: set}
	if len(set) > 0 {
		out.Result.Validation = revalidated(out.Result.Validation, before, out.Result.Data, spec)
	}
	return use, nil
}

// revalidated is the validation of data after a profile changed some of its values: the
// checks of package validate run again on the new data, and the findings extraction
// added of its own (those the checks do not produce, such as the reader's warnings)
// are kept.
func revalidated(was invoice.ValidationResults, before, after invoice.ExtractedData, spec *invoice.TemplateSpec) invoice.ValidationResults {
	now := time.Now()
	checked := map[invoice.ValidationError]bool{}
	for _, e := range validate.Check(before, spec, now).Results.Errors {
		checked[e] = true
	}
	for _, e := range validate.EN16931(before, false) {
		checked[e] = true
	}
	v := validate.Check(after, spec, now).Results
	v.Errors = append(v.Errors, validate.EN16931(after, false)...)
	for _, e := range was.Errors {
		if !checked[e] {
			v.Errors = append(v.Errors, e)
		}
	}
	v.IsValid = !hasError(v.Errors)
	return v
}

// encodeLayout is the read document as the job stores it for learning; nil when it
// cannot be stored (too large), so that the job still completes.
func encodeLayout(doc *layout.Document) []byte {
	if doc == nil || len(doc.Pages) == 0 {
		return nil
	}
	b, err := layout.EncodeLayout(doc)
	if err != nil {
		return nil
	}
	return b
}
