package app

import (
	"context"
	"fmt"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/profile"
)

// learnerOf adapts the learning of supplier profiles (worker/profile.Learn) and the
// decoding of a job's stored layout (worker/layout.DecodeLayout), whose document type D
// internal/jobs does not know, to the jobs.Learner the service calls:
//
//	learnerOf(layout.DecodeLayout, profile.Learn)
//
// A layout that does not decode is an error naming it; the learner's own errors are
// passed on. The context is checked before the work starts.
func learnerOf[D any](
	decode func([]byte) (D, error),
	learn func(ld D, truth, machine invoice.ExtractedData, prev []byte, used *invoice.ProfileUse) (invoice.SupplierKeys, []byte, error),
) jobs.Learner {
	return func(ctx context.Context, in jobs.LearnInput) (invoice.SupplierKeys, []byte, error) {
		if err := ctx.Err(); err != nil {
			return invoice.SupplierKeys{}, nil, err
		}
		ld, err := decode(in.Layout)
		if err != nil {
			return invoice.SupplierKeys{}, nil, fmt.Errorf("decode the job's document layout: %w", err)
		}
		return learn(ld, in.Truth, in.Machine, in.Prev, in.Used)
	}
}

// supplierLearner is the service's jobs.Learner: worker/profile's learning over the
// layouts worker/layout encoded.
func supplierLearner() jobs.Learner { return learnerOf(layout.DecodeLayout, profile.Learn) }
