package jobs

import (
	"context"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// CompleteInput is what a finished run produced.
type CompleteInput struct {
	DocumentInfo      *invoice.DocumentInfo
	ExtractedData     *invoice.ExtractedData
	Confidence        *invoice.Confidence
	ValidationResults *invoice.ValidationResults
	// Pages read; the cost is Service.Cost(Pages, price per page, priority).
	Pages int
	// EInvoice says the data was read from an e-invoice's XML (no page was read): the
	// job then costs the service's price per e-invoice document instead of its pages.
	EInvoice bool
	// SHA256 is the hex SHA-256 of the document bytes.
	SHA256 string
	// Evidence tells where each value of ExtractedData came from, keyed by field path
	// (see invoice.Fields); nil when the reader kept none.
	Evidence map[string]invoice.Evidence
	// Layout is the read document as worker/layout encodes it, stored with the job (not
	// shown by the APIs) so that a correction or approval can teach a supplier profile;
	// nil stores none.
	Layout []byte
	// Profile is the supplier profile the extraction used; nil: none.
	Profile *invoice.ProfileUse
}

// Complete stores the results of the run and moves its job to "completed":
// completedAt, processingTime (seconds since startedAt), cost (Pages x the template's
// price per page, or the service's, x the service's priority factor; an e-invoice read
// from its XML costs the service's e-invoice price x that factor) and currency (the
// template's default currency); the running attempt ends as completed and errorLog is
// cleared (the failures of earlier attempts stay in attempts). The job and
// template are those the run holds; only the lookup of an earlier duplicate reads.
// It returns the job as stored. Errors: FailedPrecondition when the job is no longer
// processing on the run (e.g. cancelled meanwhile; the results are then dropped).
func (r *Run) Complete(ctx context.Context, in CompleteInput) (*ent.OcrInvoiceJob, error) {
	cur := r.Job()
	if r.tpl == nil {
		return nil, apperr.FailedPrecondition("the run has no template: it was not started")
	}
	now := r.s.clock()
	out := *cur
	out.Status = ocrinvoicejob.StatusCompleted
	out.UpdatedAt = now
	out.Attempts = endAttempt(cur.Attempts, now, invoice.AttemptCompleted, "")
	// The failures of earlier attempts stay in attempts; errorLog tells of the job as it
	// is, which has no error now.
	out.ErrorLog = ""
	dup := r.s.earlierDuplicate(ctx, cur, in.SHA256)
	if dup != "" {
		out.Metadata = copyMetadata(cur.Metadata, MetadataDuplicateOf, dup)
	}
	out.CompletedAt = &now
	pt := elapsed(cur.StartedAt, now)
	out.ProcessingTime = &pt
	out.Progress = invoice.Progress{Percentage: 100, CurrentStep: "completed", TotalSteps: cur.Progress.TotalSteps}
	setResults(&out, in)
	if in.EInvoice {
		out.Cost = r.s.Cost(1, r.s.einvoicePrice, string(cur.Priority))
	} else {
		out.Cost = r.s.Cost(in.Pages, r.pricePerPage(), string(cur.Priority))
	}
	out.Currency = r.tpl.DefaultCurrency
	if r.s.webhookOwed(ctx, cur) {
		out.WebhookPendingAt = &now
	}
	err := r.save(ctx, opComplete, ocrinvoicejob.StatusCompleted, true, func(m *ent.OcrInvoiceJobMutation) {
		setCompleted(m, &out)
		if dup != "" {
			m.SetMetadata(out.Metadata)
		}
	})
	if err != nil {
		return nil, err
	}
	done := r.ended(ctx, &out, "")
	if in.EInvoice {
		// The XML is exact: the supplier's profile learns from it at once.
		r.s.learnQuietly(ctx, out.ID)
	}
	return done, nil
}

// pricePerPage is the price of a page of the run's job: its template's, applied to the
// jobs of owners who may use the template; a job left on a template that was unshared
// or given to another owner since pays the service's.
func (r *Run) pricePerPage() float64 {
	price := r.tpl.PricePerPage
	if price <= 0 || !TemplateVisibleTo(r.tpl, r.job.CreatedBy) {
		price = r.s.pricePerPage
	}
	return price
}

// setResults copies what the run produced onto job j.
func setResults(j *ent.OcrInvoiceJob, in CompleteInput) {
	if in.DocumentInfo != nil {
		j.DocumentInfo = in.DocumentInfo
	}
	// Every completion starts a new version of the results, unreviewed; the machine's
	// data is kept apart from what people correct later.
	j.DataVersion++
	j.ReviewStatus = ocrinvoicejob.ReviewStatusUnreviewed
	j.MachineData = in.ExtractedData
	j.Evidence = in.Evidence
	if in.ExtractedData != nil {
		j.ExtractedData = in.ExtractedData
		j.InvoiceNumber = in.ExtractedData.Invoice.Number
		j.SupplierName = in.ExtractedData.Invoice.Supplier.Name
		j.CustomerName = in.ExtractedData.Invoice.Customer.Name
	}
	if in.Confidence != nil {
		j.Confidence = in.Confidence
	}
	if in.ValidationResults != nil {
		j.ValidationResults = in.ValidationResults
	}
	if in.SHA256 != "" {
		j.DocumentSha256 = in.SHA256
	}
	// A run's layout and profile replace those of an earlier run, also by none.
	j.DocumentLayout = in.Layout
	j.SupplierProfile = in.Profile
}

// setCompleted sets on m every field Complete changes, as in j.
func setCompleted(m *ent.OcrInvoiceJobMutation, j *ent.OcrInvoiceJob) {
	m.SetStatus(j.Status)
	m.SetUpdatedAt(j.UpdatedAt)
	m.SetAttempts(j.Attempts)
	m.ClearErrorLog()
	m.SetCompletedAt(*j.CompletedAt)
	m.SetProcessingTime(*j.ProcessingTime)
	m.SetProgress(j.Progress)
	m.AddDataVersion(1)
	m.SetReviewStatus(j.ReviewStatus)
	if j.MachineData != nil {
		m.SetMachineData(j.MachineData)
	} else {
		m.ClearMachineData()
	}
	if j.Evidence != nil {
		m.SetEvidence(j.Evidence)
	} else {
		m.ClearEvidence()
	}
	if j.DocumentInfo != nil {
		m.SetDocumentInfo(j.DocumentInfo)
	}
	if j.ExtractedData != nil {
		m.SetExtractedData(j.ExtractedData)
		m.SetInvoiceNumber(j.InvoiceNumber)
		m.SetSupplierName(j.SupplierName)
		m.SetCustomerName(j.CustomerName)
	}
	if j.Confidence != nil {
		m.SetConfidence(j.Confidence)
	}
	if j.ValidationResults != nil {
		m.SetValidationResults(j.ValidationResults)
	}
	if j.DocumentSha256 != "" {
		m.SetDocumentSha256(j.DocumentSha256)
	}
	if j.DocumentLayout != nil {
		m.SetDocumentLayout(j.DocumentLayout)
	} else {
		m.ClearDocumentLayout()
	}
	if j.SupplierProfile != nil {
		m.SetSupplierProfile(j.SupplierProfile)
	} else {
		m.ClearSupplierProfile()
	}
	m.SetCost(j.Cost)
	m.SetCurrency(j.Currency)
	if j.WebhookPendingAt != nil {
		m.SetWebhookPendingAt(*j.WebhookPendingAt)
	}
}

// Fail records a failed attempt of the run: a line "RFC3339-time reason" is appended to
// errorLog and the running attempt ends as failed (permanent) or retry, with the reason.
// When permanent, the job moves to "failed" (completedAt set). Otherwise it goes back
// to "queued" and its retryCount grows, because asynq will deliver the task again; the
// handler must pass permanent=true on the last attempt (asynq.GetRetryCount ==
// asynq.GetMaxRetry) and for errors that retrying cannot fix. The event carries the
// reason. Errors: FailedPrecondition when the job is not processing on the run.
func (r *Run) Fail(ctx context.Context, reason string, permanent bool) (*ent.OcrInvoiceJob, error) {
	outcome := invoice.AttemptRetry
	if permanent {
		outcome = invoice.AttemptFailed
	}
	return r.end(ctx, opFail, reason, outcome, permanent, false)
}

// end ends the run with a failure by operation o (Fail, or LoseRun when nextRun): see
// Fail and LoseRun.
func (r *Run) end(ctx context.Context, o op, reason, outcome string, permanent, nextRun bool) (*ent.OcrInvoiceJob, error) {
	cur := r.Job()
	now := r.s.clock()
	out := *cur
	out.Status = ocrinvoicejob.StatusQueued
	if permanent {
		out.Status = ocrinvoicejob.StatusFailed
	}
	out.UpdatedAt = now
	out.ErrorLog = appendErrorLog(cur.ErrorLog, now, reason)
	out.Attempts = endAttempt(cur.Attempts, now, outcome, reason)
	if nextRun {
		out.TaskRun++
	}
	if permanent {
		out.CompletedAt = &now
		if cur.StartedAt != nil {
			pt := elapsed(cur.StartedAt, now)
			out.ProcessingTime = &pt
		}
	} else {
		out.RetryCount++
	}
	if permanent && r.s.webhookOwed(ctx, cur) {
		out.WebhookPendingAt = &now
	}
	err := r.save(ctx, o, out.Status, true, func(m *ent.OcrInvoiceJobMutation) { setEnded(m, &out, nextRun, permanent) })
	if err != nil {
		return nil, err
	}
	return r.ended(ctx, &out, reason), nil
}

// setEnded sets on m every field end changes, as in j.
func setEnded(m *ent.OcrInvoiceJobMutation, j *ent.OcrInvoiceJob, nextRun, permanent bool) {
	m.SetStatus(j.Status)
	m.SetUpdatedAt(j.UpdatedAt)
	m.SetErrorLog(j.ErrorLog)
	m.SetAttempts(j.Attempts)
	if nextRun {
		m.AddTaskRun(1)
	}
	if !permanent {
		m.AddRetryCount(1)
		return
	}
	m.SetCompletedAt(*j.CompletedAt)
	if j.ProcessingTime != nil {
		m.SetProcessingTime(*j.ProcessingTime)
	}
	if j.WebhookPendingAt != nil {
		m.SetWebhookPendingAt(*j.WebhookPendingAt)
	}
}

// LoseRun records that the worker of the job's run stopped heart-beating while the job
// was processing: the attempt ends as worker_lost, errorLog gets the reason, and the job
// moves to a new task run (run + 1) so that the lost worker's task, should the queue
// deliver it again, and the worker itself, should it be alive after all, are refused.
// When permanent (its retries are used up) the job fails; otherwise it goes back to
// queued with retryCount + 1 and the caller enqueues the new run's task (Reenqueue).
// The change applies only while the job is processing on run and, when startedAt is not
// zero, since startedAt (not restarted meanwhile); otherwise FailedPrecondition. The
// change is published as an event carrying the reason.
func (s *Service) LoseRun(ctx context.Context, id string, run int, startedAt time.Time, reason string, permanent bool) (*ent.OcrInvoiceJob, error) {
	if run < 0 {
		return nil, apperr.Invalid("lose run: negative run")
	}
	r, err := s.currentRun(ctx, id, false)
	if err != nil {
		return nil, err
	}
	r.number = run
	cur := r.job
	if cur.TaskRun != run {
		return nil, staleRun(run, cur.TaskRun)
	}
	if !holdsRun(cur.Status) {
		return nil, forbidden(string(opLose), cur.Status)
	}
	if !startedAt.IsZero() && (cur.StartedAt == nil || !cur.StartedAt.Equal(startedAt)) {
		return nil, apperr.FailedPrecondition("the job was restarted meanwhile")
	}
	return r.end(ctx, opLose, reason, invoice.AttemptWorkerLost, permanent, true)
}

// SetProgress records the progress of processing job id, on whichever run it is: for
// callers that do not hold the Run (tests, tools); see Run.Progress.
func (s *Service) SetProgress(ctx context.Context, id string, p invoice.Progress) error {
	r, err := s.currentRun(ctx, id, false)
	if err != nil {
		return err
	}
	return r.Progress(ctx, p)
}

// Complete stores the results of processing job id, on whichever run it is: for callers
// that do not hold the Run (tests, tools); see Run.Complete. Errors: also
// FailedPrecondition when the job is not processing.
func (s *Service) Complete(ctx context.Context, id string, in CompleteInput) (*ent.OcrInvoiceJob, error) {
	r, err := s.currentRun(ctx, id, true)
	if err != nil {
		return nil, err
	}
	if r.tpl == nil {
		return nil, forbidden(string(opComplete), r.job.Status)
	}
	return r.Complete(ctx, in)
}

// Fail records a failed attempt of processing job id, on whichever run it is: for
// callers that do not hold the Run (tests, tools); see Run.Fail.
func (s *Service) Fail(ctx context.Context, id string, reason string, permanent bool) (*ent.OcrInvoiceJob, error) {
	r, err := s.currentRun(ctx, id, false)
	if err != nil {
		return nil, err
	}
	return r.Fail(ctx, reason, permanent)
}
