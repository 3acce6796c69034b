package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/ids"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// JobInput is what a client sets on a job, in contract terms. For CreateJob and
// UpdateJob (PUT) it is the whole client-writable state:
//   - JobNumber, DocumentName, DocumentURL and Template are required.
//   - DocumentType "" is inferred: for an upload (upload://KEY) the type detected from
//     its bytes, else the extension of DocumentName, else of the URL.
//   - Template is a template id or name; Group a group id or "" for none, unless
//     KeepGroup is set (UpdateJob only).
//   - Priority "" means "medium".
//   - CallbackURL "" means none (the group's callbackUrl, if any, is used).
type JobInput struct {
	JobNumber    string
	DocumentName string
	DocumentURL  string
	DocumentType string
	Template     string
	Group        string
	Priority     string
	CreatedBy    string
	Metadata     map[string]any
	CallbackURL  string
	// KeepGroup makes UpdateJob keep the job's group whatever Group says: a PUT that
	// omits group keeps it, and leaving a group takes an explicit "group": null.
	KeepGroup bool
}

// resolvedJob is a validated JobInput with references resolved to ids.
type resolvedJob struct {
	JobInput
	templateID string
	groupID    *string
	// groupSuspended tells that the group (groupID) is suspended: its jobs are not
	// queued until it is resumed.
	groupSuspended bool
	// uploadKey is the upload the document names ("" for none), which the job's owner
	// holds and which was marked used at claimed.
	uploadKey string
	claimed   time.Time
}

// validateJob checks every field of in and resolves template and group, reporting all
// problems at once as apperr.Invalid with one detail per field. Then, when the document
// is an upload, it claims it for the job's owner (in.CreatedBy): NotFound naming
// documentUrl when the owner does not hold it, else the upload is marked used; except
// for deleted, the URL of a document deleted after the retention period that the job
// keeps naming ("" for none).
func (s *Service) validateJob(ctx context.Context, in JobInput, deleted string) (*resolvedJob, error) {
	var fe fieldErrors
	in.JobNumber = Canonical(in.JobNumber)
	in.DocumentName = nfc(in.DocumentName)
	fe.name("jobNumber", in.JobNumber, true, MaxJobNumberLen)
	fe.name("documentName", in.DocumentName, true, MaxDocumentNameLen)
	if err := ValidateDocumentURL(in.DocumentURL); err != nil {
		fe.add("documentUrl", "%v", err)
	} else if err := s.checkTarget(in.DocumentURL); err != nil {
		fe.add("documentUrl", "%v", err)
	}
	if in.DocumentType == "" && uploads.IsURL(in.DocumentURL) {
		types, err := s.uploadTypes(ctx, []string{in.DocumentURL})
		if err != nil {
			return nil, err
		}
		in.DocumentType = types[in.DocumentURL]
	}
	if in.DocumentType == "" {
		in.DocumentType = InferDocumentType(in.DocumentName, in.DocumentURL)
		switch {
		case in.DocumentType != "":
		case uploads.IsURL(in.DocumentURL) && in.DocumentURL != deleted:
			// No upload is stored under the URL: the claim below answers that.
		default:
			fe.add("documentType", "cannot be inferred from documentName or documentUrl; set one of %s", strings.Join(DocumentTypes, ", "))
		}
	} else {
		fe.enum("documentType", in.DocumentType, DocumentTypes)
	}
	if in.Priority == "" {
		in.Priority = string(ocrinvoicejob.DefaultPriority)
	}
	fe.enum("priority", in.Priority, Priorities)
	fe.name("createdBy", in.CreatedBy, false, MaxCreatedByLen)
	if err := ValidateCallbackURL(in.CallbackURL); err != nil {
		fe.add("callbackUrl", "%v", err)
	} else if err := s.checkTarget(in.CallbackURL); err != nil {
		fe.add("callbackUrl", "%v", err)
	}
	if in.Metadata != nil {
		if b, err := json.Marshal(in.Metadata); err != nil {
			fe.add("metadata", "must be a JSON object: %v", err)
		} else if len(b) > MaxMetadataBytes {
			fe.add("metadata", "must be at most %d bytes of JSON", MaxMetadataBytes)
		} else if err := CheckMetadataText(in.Metadata); err != nil {
			fe.add("metadata", "%v", err)
		}
	}
	out := &resolvedJob{JobInput: in}
	if strings.TrimSpace(in.Template) == "" {
		fe.add("template", "is required (a template id or name)")
	} else {
		t, err := s.templateFor(ctx, s.client, in.Template, in.CreatedBy)
		switch {
		case err == nil:
			out.templateID = t.ID
		case apperr.KindOf(err) == apperr.KindInvalid:
			fe.add("template", "%s", apperr.As(err).Message)
		case apperr.KindOf(err) == apperr.KindNotFound:
			fe.add("template", "no template with id or name %q", in.Template)
		default:
			return nil, err
		}
	}
	if in.Group != "" {
		if !ids.Valid(in.Group) {
			fe.add("group", "must be a group id (24 hexadecimal characters)")
		} else if ok, err := s.client.OcrJobGroup.Get(ctx, in.Group); err == nil {
			out.groupID = &ok.ID
			out.groupSuspended = ok.Spec.Suspend
		} else if ent.IsNotFound(err) {
			fe.add("group", "no group with id %q", in.Group)
		} else {
			return nil, internal("look up group", err)
		}
	}
	if err := fe.err("job"); err != nil {
		return nil, err
	}
	// An upload must be held by the job's owner (see uploads.go); naming it marks it
	// used. A key nobody holds and one only another owner holds get the same NotFound.
	if deleted != "" && in.DocumentURL == deleted {
		return out, nil // nothing stored to claim; UpdateJob refuses a re-run on it
	}
	var err error
	if out.uploadKey, out.claimed, err = s.claimJobDocument(ctx, in.CreatedBy, in.DocumentURL); err != nil {
		return nil, err
	}
	return out, nil
}

// CreateJob validates in, stores the job with status "created", commits, then enqueues
// its task and moves it to "queued". When the enqueue fails (Redis down, no Enqueuer)
// the job stays "created" and no error is returned; the failure is logged. A job of a
// suspended group stays "created" too, for the group's reconciler to release when the
// group is resumed. The job's
// resulting state is published as an event (see Options.Events).
// Errors: Invalid (naming fields), Conflict (jobNumber exists), NotFound (naming
// documentUrl: an upload the job's owner does not hold).
func (s *Service) CreateJob(ctx context.Context, in JobInput) (*ent.OcrInvoiceJob, error) {
	var err error
	if in.CreatedBy, err = ownerFor(ctx, in.CreatedBy, true); err != nil {
		return nil, err
	}
	r, err := s.validateJob(ctx, in, "")
	if err != nil {
		return nil, err
	}
	// The unique index on job_number decides duplicates (also between racing
	// requests); no read before the insert.
	now := s.clock()
	j, err := s.client.OcrInvoiceJob.Create().
		SetJobNumber(r.JobNumber).
		SetDocumentName(r.DocumentName).
		SetDocumentURL(r.DocumentURL).
		SetDocumentType(ocrinvoicejob.DocumentType(r.DocumentType)).
		SetTemplateID(r.templateID).
		SetNillableGroupID(r.groupID).
		SetPriority(ocrinvoicejob.Priority(r.Priority)).
		SetCreatedBy(r.CreatedBy).
		SetCallbackURL(r.CallbackURL).
		SetMetadata(r.Metadata).
		SetStatus(ocrinvoicejob.StatusCreated).
		SetCreatedAt(now).
		SetUpdatedAt(now).
		Save(ctx)
	if err != nil {
		if r.uploadKey != "" {
			s.unclaimUpload(ctx, r.CreatedBy, r.uploadKey, r.claimed)
		}
		err = mapDBError("create job", err)
		if isJobNumberConflict(err) {
			return nil, duplicateJobNumber(r.JobNumber)
		}
		return nil, err
	}
	return s.release(ctx, j, r, true), nil
}

// release enqueues a committed job (see enqueue), unless its group is suspended: the job
// then stays as it is, and the group's reconciler, told of the change, releases it when
// the group is resumed. It returns the job as it now is.
func (s *Service) release(ctx context.Context, j *ent.OcrInvoiceJob, r *resolvedJob, announce bool) *ent.OcrInvoiceJob {
	if r.groupID == nil || !r.groupSuspended {
		return s.enqueue(ctx, j, announce)
	}
	if announce {
		s.notify(ctx, j, "")
	}
	s.notifyGroup(ctx, *r.groupID)
	return j
}

func isJobNumberConflict(err error) bool {
	e := apperr.As(err)
	return e != nil && e.Kind == apperr.KindConflict && len(e.Details) > 0 && e.Details[0].Field == "jobNumber"
}

func duplicateJobNumber(n string) error {
	return apperr.Conflict(fmt.Sprintf("a job with jobNumber %q already exists", n),
		apperr.Detail{Field: "jobNumber", Message: "already exists"})
}

// enqueue puts a committed "created" job on the queue and publishes its state. The job
// is marked queued and that is published before its task is enqueued, so no worker can
// publish "processing" ahead of the "queued" event: subscribers see a job's events in
// the order they happened. When the enqueue fails (Redis down) the job goes back to
// created, which is logged and published, for the requeue sweep (or its group's
// reconciler) to enqueue later. It never fails, and returns the job as it now is. A
// job that is not created, or a service without a queue, is published as it is when
// announce is set.
func (s *Service) enqueue(ctx context.Context, j *ent.OcrInvoiceJob, announce bool) *ent.OcrInvoiceJob {
	if s.enq == nil || j.Status != ocrinvoicejob.StatusCreated {
		if announce {
			s.notify(ctx, j, "")
		}
		return j
	}
	bg := context.WithoutCancel(ctx)
	now := s.clock()
	n, err := s.move(bg, j, opEnqueue, ocrinvoicejob.StatusCreated, ocrinvoicejob.StatusQueued, now)
	if err != nil || n == 0 {
		// A failed write leaves the job created; a job that moved meanwhile (cancelled)
		// was published by whoever moved it.
		if err != nil {
			s.log.WarnContext(ctx, "Job left created: could not mark it queued", slog.String("job_id", j.ID), slog.Any("error", err))
		}
		return s.reread(bg, j)
	}
	queued := *j
	queued.Status, queued.UpdatedAt = ocrinvoicejob.StatusQueued, now
	s.notify(ctx, &queued, "")
	ectx, cancel := context.WithTimeout(bg, s.enqueueTimeout)
	defer cancel()
	if err := s.enqueueTask(ectx, &queued, 0); err != nil {
		s.log.WarnContext(ctx, "Job left created: enqueue failed", slog.String("job_id", j.ID), slog.Any("error", err))
		back := *j
		back.UpdatedAt = s.clock()
		if n, err := s.move(bg, j, opEnqueue, ocrinvoicejob.StatusQueued, ocrinvoicejob.StatusCreated, back.UpdatedAt); err != nil || n == 0 {
			// The task was written after all and a worker took it, or the row is out of reach.
			return s.reread(bg, &queued)
		}
		s.notify(ctx, &back, "")
		return &back
	}
	return &queued
}

// move is one conditional status change of j by operation o: from -> to, only while
// the job is still from on the same run. It returns how many rows moved (0 or 1).
func (s *Service) move(ctx context.Context, j *ent.OcrInvoiceJob, o op, from, to ocrinvoicejob.Status, now time.Time) (int, error) {
	return s.client.OcrInvoiceJob.Update().
		Where(ocrinvoicejob.ID(j.ID), ocrinvoicejob.TaskRun(j.TaskRun), ocrinvoicejob.StatusEQ(mustAllow(o, from, to))).
		SetStatus(to).
		SetUpdatedAt(now).
		Save(ctx)
}

// reread returns the job as stored now, or j when it cannot be read.
func (s *Service) reread(ctx context.Context, j *ent.OcrInvoiceJob) *ent.OcrInvoiceJob {
	if fresh, err := s.client.OcrInvoiceJob.Get(ctx, j.ID); err == nil {
		return fresh
	}
	return j
}

// markQueued moves a job whose task was enqueued from created to queued. Only a job
// still "created" moves: a worker may already have started it.
func (s *Service) markQueued(ctx context.Context, id string) (int, error) {
	return s.client.OcrInvoiceJob.Update().
		Where(ocrinvoicejob.ID(id), ocrinvoicejob.StatusEQ(mustAllow(opEnqueue, ocrinvoicejob.StatusCreated, ocrinvoicejob.StatusQueued))).
		SetStatus(ocrinvoicejob.StatusQueued).
		SetUpdatedAt(s.clock()).
		Save(ctx)
}

// GetJob returns the job with the given id. Errors: Invalid (not an id), NotFound.
func (s *Service) GetJob(ctx context.Context, id string) (*ent.OcrInvoiceJob, error) {
	if err := checkID("id", id); err != nil {
		return nil, err
	}
	j, err := s.db(ctx).OcrInvoiceJob.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apperr.NotFound(fmt.Sprintf("job %s not found", id))
	}
	if err != nil {
		return nil, internal("get job", err)
	}
	return j, nil
}

func checkID(field, id string) error {
	if !ids.Valid(id) {
		return apperr.InvalidField(field, "must be 24 lowercase hexadecimal characters")
	}
	return nil
}

// UpdateJob replaces the client-writable fields of a job (PUT semantics: an empty
// optional field clears it or takes its default, priority medium), except the group
// when in.KeepGroup is set. A job of a suspended group is never queued by an update: a
// re-run or a priority change leaves it "created" for the group's reconciler. Changing the document (documentUrl, documentType) or the
// template re-runs the job: unless it is "processing" its results are cleared and it is
// enqueued again as if new. Changing them while "processing" is FailedPrecondition, and
// so is a re-run on the same documentUrl after the document was deleted by the retention
// period (DocumentDeletedError); a new documentUrl clears documentDeletedAt. A priority
// change of a queued job moves its task to the new queue. A re-run or a move is
// published as an event (see Options.Events).
// Errors: Invalid, NotFound, Conflict (jobNumber taken), FailedPrecondition.
func (s *Service) UpdateJob(ctx context.Context, id string, in JobInput) (*ent.OcrInvoiceJob, error) {
	cur, err := s.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if in.CreatedBy == "" {
		// An absent createdBy keeps the owner: only an admin naming one changes it.
		in.CreatedBy = cur.CreatedBy
	}
	if in.CreatedBy, err = ownerFor(ctx, in.CreatedBy, false); err != nil {
		return nil, err
	}
	if in.KeepGroup {
		in.Group = ""
		if cur.GroupID != nil {
			in.Group = *cur.GroupID
		}
	}
	deleted := ""
	if cur.DocumentDeletedAt != nil {
		deleted = cur.DocumentURL
	}
	r, err := s.validateJob(ctx, in, deleted)
	if err != nil {
		return nil, err
	}
	if r.JobNumber != cur.JobNumber {
		if exists, err := s.client.OcrInvoiceJob.Query().Where(ocrinvoicejob.JobNumber(r.JobNumber)).Exist(ctx); err != nil {
			return nil, internal("check jobNumber", err)
		} else if exists {
			return nil, duplicateJobNumber(r.JobNumber)
		}
	}
	docChanged := r.DocumentURL != cur.DocumentURL || r.DocumentType != string(cur.DocumentType) || r.templateID != cur.TemplateID
	// A document change re-runs a job that has run (the table lets it go back to created);
	// one created or queued runs the new document anyway.
	rerun := docChanged && allows(opUpdate, cur.Status, ocrinvoicejob.StatusCreated) && cur.Status != ocrinvoicejob.StatusQueued
	if docChanged && cur.Status == ocrinvoicejob.StatusProcessing {
		return nil, apperr.FailedPrecondition("the job is processing; its document and template cannot change until it finishes or is cancelled",
			apperr.Detail{Field: "status", Message: "processing"})
	}
	if docChanged && r.DocumentURL == cur.DocumentURL && cur.DocumentDeletedAt != nil {
		return nil, DocumentDeletedError(cur)
	}
	requeue := cur.Status == ocrinvoicejob.StatusQueued && r.Priority != string(cur.Priority)
	if rerun || requeue {
		mustAllow(opUpdate, cur.Status, ocrinvoicejob.StatusCreated)
	}

	upd := s.client.OcrInvoiceJob.Update().
		Where(ocrinvoicejob.ID(id), ocrinvoicejob.StatusEQ(cur.Status)).
		SetJobNumber(r.JobNumber).
		SetDocumentName(r.DocumentName).
		SetDocumentURL(r.DocumentURL).
		SetDocumentType(ocrinvoicejob.DocumentType(r.DocumentType)).
		SetTemplateID(r.templateID).
		SetPriority(ocrinvoicejob.Priority(r.Priority)).
		SetCreatedBy(r.CreatedBy).
		SetCallbackURL(r.CallbackURL).
		SetUpdatedAt(s.clock())
	if r.groupID != nil {
		upd.SetGroupID(*r.groupID)
	} else {
		upd.ClearGroupID()
	}
	if r.Metadata != nil {
		upd.SetMetadata(r.Metadata)
	} else {
		upd.ClearMetadata()
	}
	if rerun || requeue {
		upd.SetStatus(ocrinvoicejob.StatusCreated)
	}
	if rerun {
		clearResults(upd.Mutation())
	}
	if r.DocumentURL != cur.DocumentURL {
		upd.ClearDocumentDeletedAt() // a new document, stored (or fetched) anew
	} else if rerun {
		upd.Where(ocrinvoicejob.DocumentDeletedAtIsNil()) // or the re-run would find no document
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return nil, mapDBError("update job", err)
	}
	if n == 0 {
		// The status moved between the read and the write (a worker picked it up).
		return nil, apperr.FailedPrecondition("the job changed state while it was being updated; read it again and retry")
	}
	if rerun || requeue {
		s.deleteTask(ctx, id, cur.TaskRun, string(cur.Priority))
	}
	j, err := s.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.release(ctx, j, r, rerun || requeue), nil
}

// clearResults resets everything a run of the job produced.
func clearResults(m *ent.OcrInvoiceJobMutation) {
	m.SetProgress(invoice.Progress{})
	m.ClearStartedAt()
	m.ClearCompletedAt()
	m.ClearProcessingTime()
	m.ClearDocumentInfo()
	m.ClearExtractedData()
	m.ClearConfidence()
	m.ClearValidationResults()
	m.ClearInvoiceNumber()
	m.ClearSupplierName()
	m.ClearCustomerName()
	m.ClearDocumentSha256()
	m.ClearDocumentLayout()
	m.ClearSupplierProfile()
	m.SetCost(0)
	// The results a person reviewed are gone: the review starts over, and a correction
	// or approval made against the old version is refused (its data_version is stale).
	// The corrections stay, as the record of what people changed.
	m.ClearMachineData()
	m.ClearEvidence()
	m.SetReviewStatus(ocrinvoicejob.ReviewStatusUnreviewed)
	m.AddDataVersion(1)
	// A webhook still owed for the run that ended is moot: its delivery would find the
	// job in another state and be skipped.
	m.ClearWebhookPendingAt()
}

// deleteTask removes the task of a job's run, logging failures (a stale task finds the
// job in a state it cannot start from, or on another run, so a failure here is harmless).
func (s *Service) deleteTask(ctx context.Context, id string, run int, priority string) {
	if s.enq == nil {
		return
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.enqueueTimeout)
	defer cancel()
	var err error
	if re, ok := s.enq.(RunEnqueuer); ok && run > 0 {
		err = re.DeleteJobRunTask(dctx, id, run, priority)
	} else {
		err = s.enq.DeleteJobTask(dctx, id, priority)
	}
	if err != nil {
		s.log.WarnContext(ctx, "Delete job task failed", slog.String("job_id", id), slog.Any("error", err))
	}
}

// transition moves job id to status to when its current status is one of the allowed
// sources of the state machine, applying extra changes in the same UPDATE. It returns
// the job after the change. Errors: NotFound, FailedPrecondition naming the status.
func (s *Service) transition(ctx context.Context, id string, o op, to ocrinvoicejob.Status, extra func(*ent.OcrInvoiceJobMutation)) (*ent.OcrInvoiceJob, error) {
	cur, err := s.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	action := string(o)
	if !allows(o, cur.Status, to) {
		return nil, forbidden(action, cur.Status)
	}
	now := s.clock()
	upd := s.client.OcrInvoiceJob.Update().
		Where(ocrinvoicejob.ID(id), ocrinvoicejob.StatusEQ(cur.Status)).
		SetStatus(to).
		SetUpdatedAt(now)
	if extra != nil {
		extra(upd.Mutation())
	}
	if IsTerminal(to) && s.webhookOwed(ctx, cur) {
		// Recorded with the transition itself, so a webhook whose enqueue fails below
		// (Redis down) or never runs (the process dies) is found by the webhook sweep.
		upd.SetWebhookPendingAt(now)
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return nil, mapDBError(action+" job", err)
	}
	if n == 0 {
		// Someone else moved the job first; judge the request against the new state.
		now, err := s.GetJob(ctx, id)
		if err != nil {
			return nil, err
		}
		return nil, forbidden(action, now.Status)
	}
	j, err := s.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if IsTerminal(to) {
		// Every terminal state is reached through here, once per run: the UPDATE above
		// is conditional on the previous status, so two callers cannot both succeed.
		s.enqueueWebhook(ctx, j)
	}
	return j, nil
}

func forbidden(action string, st ocrinvoicejob.Status) error {
	return apperr.FailedPrecondition(fmt.Sprintf("cannot %s a job that is %s", action, st),
		apperr.Detail{Field: "status", Message: string(st)})
}

// CancelJob moves a created, queued or processing job to "cancelled" and removes its
// task (a running handler is asked to stop); the cancellation is published as an event.
// Errors: NotFound, FailedPrecondition.
func (s *Service) CancelJob(ctx context.Context, id string) (*ent.OcrInvoiceJob, error) {
	j, err := s.transition(ctx, id, opCancel, ocrinvoicejob.StatusCancelled, func(m *ent.OcrInvoiceJobMutation) {
		m.SetCompletedAt(s.clock())
	})
	if err != nil {
		return nil, err
	}
	j = s.endCancelledAttempt(ctx, j)
	s.deleteTask(ctx, id, j.TaskRun, string(j.Priority))
	s.notify(ctx, j, "")
	return j, nil
}

// endCancelledAttempt ends the running attempt of a job that was cancelled while it was
// processing, as cancelled, and returns the job as it now is. Nothing else changes a
// cancelled job's attempts; a failure is logged (the attempt then stays running in the
// record, closed as interrupted should the job run again).
func (s *Service) endCancelledAttempt(ctx context.Context, j *ent.OcrInvoiceJob) *ent.OcrInvoiceJob {
	if n := len(j.Attempts); n == 0 || j.Attempts[n-1].Outcome != invoice.AttemptRunning {
		return j
	}
	ctx = context.WithoutCancel(ctx)
	n, err := s.client.OcrInvoiceJob.Update().
		Where(ocrinvoicejob.ID(j.ID), ocrinvoicejob.StatusEQ(ocrinvoicejob.StatusCancelled), ocrinvoicejob.TaskRun(j.TaskRun)).
		SetAttempts(endAttempt(j.Attempts, s.clock(), invoice.AttemptCancelled, "")).
		Save(ctx)
	if err != nil || n == 0 {
		if err != nil {
			s.log.WarnContext(ctx, "Could not end the attempt of a cancelled job", slog.String("job_id", j.ID), slog.Any("error", err))
		}
		return j
	}
	if fresh, err := s.GetJob(ctx, j.ID); err == nil {
		return fresh
	}
	return j
}

// RetryJob runs a failed or cancelled job again: its results are cleared, retryCount
// grows by one, and it is enqueued like a new job (left "created" when Redis is down).
// Errors: NotFound, FailedPrecondition (also when its document was deleted after the
// retention period: DocumentDeletedError).
func (s *Service) RetryJob(ctx context.Context, id string) (*ent.OcrInvoiceJob, error) {
	cur, err := s.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if !allows(opRetry, cur.Status, ocrinvoicejob.StatusCreated) {
		return nil, forbidden(string(opRetry), cur.Status)
	}
	if cur.DocumentDeletedAt != nil {
		return nil, DocumentDeletedError(cur)
	}
	j, err := s.transition(ctx, id, opRetry, ocrinvoicejob.StatusCreated, func(m *ent.OcrInvoiceJobMutation) {
		clearResults(m)
		m.AddRetryCount(1)
		// The document retention may delete the document between the read and the write.
		m.Where(ocrinvoicejob.DocumentDeletedAtIsNil())
	})
	if err != nil {
		if now, gerr := s.GetJob(ctx, id); gerr == nil && now.DocumentDeletedAt != nil {
			return nil, DocumentDeletedError(now)
		}
		return nil, err
	}
	// An archived task of the previous run would make the new enqueue a no-op.
	s.deleteTask(ctx, id, j.TaskRun, string(j.Priority))
	return s.enqueue(ctx, j, true), nil
}

// JobResults returns what the job produced so far; fields are nil until it completes.
// Errors: Invalid, NotFound.
func (s *Service) JobResults(ctx context.Context, id string) (*invoice.Results, error) {
	j, err := s.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	return &invoice.Results{
		ExtractedData:     j.ExtractedData,
		Confidence:        j.Confidence,
		ValidationResults: j.ValidationResults,
		ProcessingTime:    j.ProcessingTime,
	}, nil
}

// Default and maximum page sizes of the list operations.
const (
	DefaultLimit = 50
	MaxLimit     = 100
)

// ListJobsParams select a page of jobs. Limit 0 means DefaultLimit; Order empty means
// newest first. Ties are always broken by id so that pages are stable.
type ListJobsParams struct {
	Limit, Offset int
	Where         []predicate.OcrInvoiceJob
	Order         []ocrinvoicejob.OrderOption
	// After, when set (JobsAfter), keeps the rows after a cursor's job; it narrows the
	// page, not the total.
	After predicate.OcrInvoiceJob
	// Counted says that Where keeps the jobs of Statuses (all when empty) and nothing
	// else (see CountedFilter): the total is then the sum of the counters the database
	// keeps per owner and status, not a count of rows.
	Counted  bool
	Statuses []string
}

// JobPage is one page of a job list.
type JobPage struct {
	Jobs  []*ent.OcrInvoiceJob
	Total int  // all matches, not only those of the page or after the cursor
	More  bool // rows follow the page
}

// ListJobs returns one page of the jobs matching p.Where, and how many match in all.
// Errors: Invalid (limit outside 0..MaxLimit, negative offset).
func (s *Service) ListJobs(ctx context.Context, p ListJobsParams) ([]*ent.OcrInvoiceJob, int, error) {
	pg, err := s.ListJobPage(ctx, p)
	return pg.Jobs, pg.Total, err
}

// ListJobPage is ListJobs that also tells whether rows follow the page (one more id is
// read to know it).
func (s *Service) ListJobPage(ctx context.Context, p ListJobsParams) (JobPage, error) {
	limit, err := pageBounds(p.Limit, p.Offset)
	if err != nil {
		return JobPage{}, err
	}
	q := s.db(ctx).OcrInvoiceJob.Query().Where(p.Where...)
	order := p.Order
	if len(order) == 0 {
		order = []ocrinvoicejob.OrderOption{ocrinvoicejob.ByCreatedAt(sql.OrderDesc())}
	}
	order = append(order[:len(order):len(order)], ocrinvoicejob.ByID(sql.OrderDesc()))
	// The page's ids first, then its rows: a sort that no index serves (priority and
	// status by rank, processingTime, ...) then sorts narrow rows rather than whole jobs
	// with their extracted data (at 100,000 jobs on SQLite, sort=priority takes 55 ms
	// instead of 1.6 s). A job deleted between the two reads is left out of the page.
	idq := q.Clone().Unique(false)
	if p.After != nil {
		idq = idq.Where(p.After)
	}
	ids, err := idq.Order(order...).Limit(limit + 1).Offset(p.Offset).IDs(ctx)
	if err != nil {
		return JobPage{}, internal("list jobs", err)
	}
	more := len(ids) > limit
	if more {
		ids = ids[:limit]
	}
	list, err := jobsInOrder(ctx, s.db(ctx), ids)
	if err != nil {
		return JobPage{}, err
	}
	// A short, non-empty page (or a short first page) is the end of the list: the
	// total follows from it, and a filter that matches few rows is not read through a
	// second time by a count.
	if p.After == nil && len(list) < limit && (len(list) > 0 || p.Offset == 0) {
		return JobPage{Jobs: list, Total: p.Offset + len(list), More: more}, nil
	}
	if p.Counted {
		total, ok, err := s.countedTotal(ctx, s.db(ctx), p.Statuses)
		if err != nil {
			return JobPage{}, internal("count jobs", err)
		}
		if ok {
			return JobPage{Jobs: list, Total: total, More: more}, nil
		}
	}
	// COUNT(*) rather than ent's COUNT(id): SQLite answers it from any index.
	total, err := q.Aggregate(ent.Count()).Int(ctx)
	if err != nil {
		return JobPage{}, internal("count jobs", err)
	}
	return JobPage{Jobs: list, Total: total, More: more}, nil
}

// jobsInOrder reads the jobs of ids, in the order of ids; those gone meanwhile are left
// out.
func jobsInOrder(ctx context.Context, db *ent.Client, ids []string) ([]*ent.OcrInvoiceJob, error) {
	rows, err := db.OcrInvoiceJob.Query().Where(ocrinvoicejob.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, internal("list jobs", err)
	}
	byID := make(map[string]*ent.OcrInvoiceJob, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	out := make([]*ent.OcrInvoiceJob, 0, len(ids))
	for _, id := range ids {
		if r := byID[id]; r != nil {
			out = append(out, r)
		}
	}
	return out, nil
}

func pageBounds(limit, offset int) (int, error) {
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > MaxLimit {
		return 0, apperr.InvalidField("limit", fmt.Sprintf("must be between 1 and %d", MaxLimit))
	}
	if offset < 0 {
		return 0, apperr.InvalidField("offset", "must be 0 or more")
	}
	return limit, nil
}
