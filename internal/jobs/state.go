package jobs

import (
	"slices"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
)

// The job state machine:
//
//	created    -> queued | processing | cancelled
//	queued     -> processing | cancelled | created (the task was lost or removed)
//	processing -> completed | failed | cancelled | queued (a retryable failure; asynq retries)
//	failed     -> created -> queued (retry, or a PUT that changes the document)
//	cancelled  -> created -> queued (retry, or a PUT that changes the document)
//	completed  -> created -> queued (a PUT that changes the document)
//
// A retry or re-run passes through "created" so that a job whose enqueue fails (Redis
// down) is left in the same state as a new job, for the reconciler to pick up.
var transitions = map[ocrinvoicejob.Status][]ocrinvoicejob.Status{
	ocrinvoicejob.StatusCreated:    {ocrinvoicejob.StatusQueued, ocrinvoicejob.StatusProcessing, ocrinvoicejob.StatusCancelled},
	ocrinvoicejob.StatusQueued:     {ocrinvoicejob.StatusProcessing, ocrinvoicejob.StatusCancelled, ocrinvoicejob.StatusCreated},
	ocrinvoicejob.StatusProcessing: {ocrinvoicejob.StatusCompleted, ocrinvoicejob.StatusFailed, ocrinvoicejob.StatusCancelled, ocrinvoicejob.StatusQueued},
	ocrinvoicejob.StatusFailed:     {ocrinvoicejob.StatusCreated},
	ocrinvoicejob.StatusCancelled:  {ocrinvoicejob.StatusCreated},
	ocrinvoicejob.StatusCompleted:  {ocrinvoicejob.StatusCreated},
}

// CanTransition reports whether the state machine allows from -> to.
func CanTransition(from, to ocrinvoicejob.Status) bool {
	return slices.Contains(transitions[from], to)
}

// sourcesOf returns every status from which to may be reached.
func sourcesOf(to ocrinvoicejob.Status) []ocrinvoicejob.Status {
	var out []ocrinvoicejob.Status
	for _, from := range Statuses {
		if CanTransition(ocrinvoicejob.Status(from), to) {
			out = append(out, ocrinvoicejob.Status(from))
		}
	}
	return out
}

// IsTerminal reports whether a job in status st is finished (completed, failed or
// cancelled).
func IsTerminal(st ocrinvoicejob.Status) bool {
	return st == ocrinvoicejob.StatusCompleted || st == ocrinvoicejob.StatusFailed || st == ocrinvoicejob.StatusCancelled
}
