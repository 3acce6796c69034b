package jobs

import (
	"context"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrjobgroup"
	"github.com/ocrinvoice/ocrinvoice/internal/conditions"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// GroupStatusFromJobs computes the status block of group id from its jobs as they are
// stored now: counts by status, progress, phase, start and completion times. It is what
// a group reconciler would write; until one maintains groups' status, live group
// progress (GraphQL ocrJobGroupProgress) is computed with it. The conditions are the
// group's stored ones (never nil).
//
// Counts: active is queued + processing; succeeded, failed and cancelled count jobs in
// those statuses; created jobs count in total only. Progress is the percentage of
// finished jobs. Phase, first match wins:
//   - Failed when more jobs failed than spec.backoffLimit allows;
//   - Complete when the group has jobs and all of them finished;
//   - Suspended when spec.suspend is set;
//   - Running when a job has started or finished;
//   - Pending otherwise (no job, or none started).
//
// startTime is the earliest startedAt of the group's jobs; completionTime the latest
// completedAt, set once the phase is Complete or Failed. Errors: Invalid, NotFound.
func (s *Service) GroupStatusFromJobs(ctx context.Context, id string) (invoice.GroupStatus, error) {
	g, err := s.GetGroup(ctx, id)
	if err != nil {
		return invoice.GroupStatus{}, err
	}
	return s.GroupStatusOf(ctx, g)
}

// GroupStatusOf is GroupStatusFromJobs for a group already loaded: one query over its
// jobs. Errors: Internal.
func (s *Service) GroupStatusOf(ctx context.Context, g *ent.OcrJobGroup) (invoice.GroupStatus, error) {
	rows, err := s.db(ctx).OcrInvoiceJob.Query().
		Where(ocrinvoicejob.GroupID(g.ID)).
		Select(ocrinvoicejob.FieldStatus, ocrinvoicejob.FieldStartedAt, ocrinvoicejob.FieldCompletedAt).
		All(ctx)
	if err != nil {
		return invoice.GroupStatus{}, internal("list jobs of group", err)
	}
	st := invoice.GroupStatus{Total: len(rows), Conditions: g.Status.Conditions}
	if st.Conditions == nil {
		st.Conditions = []conditions.Condition{}
	}
	var start, end *time.Time
	started := false
	for _, j := range rows {
		switch j.Status {
		case ocrinvoicejob.StatusQueued, ocrinvoicejob.StatusProcessing:
			st.Active++
		case ocrinvoicejob.StatusCompleted:
			st.Succeeded++
		case ocrinvoicejob.StatusFailed:
			st.Failed++
		case ocrinvoicejob.StatusCancelled:
			st.Cancelled++
		}
		if j.StartedAt != nil {
			started = true
			if start == nil || j.StartedAt.Before(*start) {
				t := j.StartedAt.UTC()
				start = &t
			}
		}
		if j.CompletedAt != nil && (end == nil || j.CompletedAt.After(*end)) {
			t := j.CompletedAt.UTC()
			end = &t
		}
		if j.Status == ocrinvoicejob.StatusProcessing {
			started = true
		}
	}
	finished := st.Succeeded + st.Failed + st.Cancelled
	if st.Total > 0 {
		st.Progress = finished * 100 / st.Total
	}
	st.StartTime = start
	switch {
	case st.Failed > g.Spec.BackoffLimit:
		st.Phase = invoice.GroupPhaseFailed
	case st.Total > 0 && finished == st.Total:
		st.Phase = invoice.GroupPhaseComplete
	case g.Spec.Suspend:
		st.Phase = invoice.GroupPhaseSuspended
	case started || finished > 0:
		st.Phase = invoice.GroupPhaseRunning
	default:
		st.Phase = invoice.GroupPhasePending
	}
	if st.Phase == invoice.GroupPhaseComplete || st.Phase == invoice.GroupPhaseFailed {
		st.CompletionTime = end
	}
	return st, nil
}

// GroupStates lists every group (that ctx's principal may see) with only its id, spec
// and status: what the batch runner's periodic resync looks at.
func (s *Service) GroupStates(ctx context.Context) ([]*ent.OcrJobGroup, error) {
	gs, err := s.client.OcrJobGroup.Query().
		Select(ocrjobgroup.FieldID, ocrjobgroup.FieldSpec, ocrjobgroup.FieldStatus).
		All(ctx)
	if err != nil {
		return nil, internal("list group states", err)
	}
	return gs, nil
}

// CreatedJobsOfGroup lists, oldest first and at most limit, the created jobs of group id
// (that ctx's principal may see): those the group's reconciler releases next.
func (s *Service) CreatedJobsOfGroup(ctx context.Context, id string, limit int) ([]*ent.OcrInvoiceJob, error) {
	list, err := s.client.OcrInvoiceJob.Query().
		Where(ocrinvoicejob.GroupID(id), ocrinvoicejob.StatusEQ(ocrinvoicejob.StatusCreated)).
		Order(ent.Asc(ocrinvoicejob.FieldCreatedAt), ent.Asc(ocrinvoicejob.FieldID)).
		Limit(limit).
		All(ctx)
	if err != nil {
		return nil, internal("list created jobs of group "+id, err)
	}
	return list, nil
}
