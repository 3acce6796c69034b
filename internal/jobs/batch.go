package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrjobgroup"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// MaxGroupDocuments is how many documents one CreateGroup call may carry.
const MaxGroupDocuments = 10_000

// batchSize is how many rows one INSERT or IN (...) carries: well under SQLite's 32,766
// and PostgreSQL's 65,535 bound parameters for the ~15 columns of a job.
const batchSize = 500

// GroupDocument is one document of a batch: it becomes one job of the group, with the
// group's template and priority. JobNumber "" is generated as "<group id>-<index+1>".
type GroupDocument struct {
	DocumentURL  string
	DocumentName string
	JobNumber    string
	Metadata     map[string]any
}

// validateDocuments checks the documents of a batch, naming each problem
// documents[i].field, and fills in document types and generated job numbers. Job
// numbers repeated within the batch are a Conflict naming the later entry. check is
// Service.checkTarget; uploadTypes maps the upload URLs among the documents to the types
// detected from their bytes (Service.uploadTypes), which come before the extensions.
func validateDocuments(groupID string, docs []GroupDocument, check func(string) error, uploadTypes map[string]string) ([]resolvedDocument, error) {
	if len(docs) > MaxGroupDocuments {
		return nil, apperr.TooLarge(fmt.Sprintf("a group may be created with at most %d documents (got %d)", MaxGroupDocuments, len(docs)))
	}
	var fe fieldErrors
	out := make([]resolvedDocument, len(docs))
	seen := make(map[string]int, len(docs))
	var dup []apperr.Detail
	for i, d := range docs {
		p := fmt.Sprintf("documents[%d].", i)
		n := len(fe)
		d.DocumentName = nfc(d.DocumentName)
		fe.name(p+"documentName", d.DocumentName, true, MaxDocumentNameLen)
		if err := ValidateDocumentURL(d.DocumentURL); err != nil {
			fe.add(p+"documentUrl", "%v", err)
		} else if err := check(d.DocumentURL); err != nil {
			fe.add(p+"documentUrl", "%v", err)
		}
		typ := uploadTypes[d.DocumentURL]
		if typ == "" {
			typ = InferDocumentType(d.DocumentName, d.DocumentURL)
		}
		// An upload no row knows is reported by the claim (not found), not here.
		if typ == "" && len(fe) == n && !uploads.IsURL(d.DocumentURL) {
			fe.add(p+"documentName", "the document type cannot be inferred from documentName or documentUrl (use an extension among %s)", strings.Join(DocumentTypes, ", "))
		}
		num := Canonical(d.JobNumber)
		if num == "" {
			num = fmt.Sprintf("%s-%d", groupID, i+1)
		} else {
			fe.name(p+"jobNumber", num, true, MaxJobNumberLen)
		}
		if d.Metadata != nil {
			if b, err := json.Marshal(d.Metadata); err != nil {
				fe.add(p+"metadata", "must be a JSON object: %v", err)
			} else if len(b) > MaxMetadataBytes {
				fe.add(p+"metadata", "must be at most %d bytes of JSON", MaxMetadataBytes)
			} else if err := CheckMetadataText(d.Metadata); err != nil {
				fe.add(p+"metadata", "%v", err)
			}
		}
		if j, ok := seen[num]; ok {
			dup = append(dup, apperr.Detail{Field: p + "jobNumber", Message: fmt.Sprintf("%q is also the jobNumber of documents[%d]", num, j)})
		}
		seen[num] = i
		out[i] = resolvedDocument{GroupDocument: d, jobNumber: num, docType: typ}
		if len(fe) >= 100 {
			break // enough to fix; the message says how many more there were
		}
	}
	if err := fe.err("documents"); err != nil {
		return nil, err
	}
	if len(dup) > 0 {
		return nil, apperr.Conflict(fmt.Sprintf("duplicate jobNumber in the batch: %s: %s", dup[0].Field, dup[0].Message), dup...)
	}
	return out, nil
}

type resolvedDocument struct {
	GroupDocument
	jobNumber, docType string
}

// createGroupJobs stores one created job per document of group g, on db (a transaction),
// in batches. Job numbers that exist already are a Conflict naming documents[i].jobNumber;
// uploads that createdBy does not hold are a NotFound naming documents[i].documentUrl.
func (s *Service) createGroupJobs(ctx context.Context, db *ent.Client, g *ent.OcrJobGroup, docs []resolvedDocument, createdBy string) error {
	if len(docs) == 0 {
		return nil
	}
	templateID := g.Spec.Template
	if templateID == "" {
		t, err := s.findTemplate(ctx, db, BuiltinTemplateName)
		if err != nil {
			return internal("find the built-in template", err)
		}
		templateID = t.ID
	}
	// Every upload the batch names must be held by its owner (see uploads.go); inside
	// the batch's transaction, so that a refused batch marks nothing used.
	if err := s.claimGroupDocuments(ctx, db, createdBy, docs); err != nil {
		return err
	}
	priority := ocrinvoicejob.DefaultPriority
	if g.Spec.Priority != "" {
		priority = ocrinvoicejob.Priority(g.Spec.Priority)
	}
	for start := 0; start < len(docs); start += batchSize {
		chunk := docs[start:min(start+batchSize, len(docs))]
		nums := make([]string, len(chunk))
		for i, d := range chunk {
			nums[i] = d.jobNumber
		}
		// Look first, to name the entry; the unique index still decides races.
		taken, err := db.OcrInvoiceJob.Query().Where(ocrinvoicejob.JobNumberIn(nums...)).Select(ocrinvoicejob.FieldJobNumber).Strings(ctx)
		if err != nil {
			return internal("check job numbers", err)
		}
		if len(taken) > 0 {
			set := map[string]bool{}
			for _, n := range taken {
				set[n] = true
			}
			var det []apperr.Detail
			for i, d := range chunk {
				if set[d.jobNumber] {
					det = append(det, apperr.Detail{Field: fmt.Sprintf("documents[%d].jobNumber", start+i), Message: fmt.Sprintf("a job with jobNumber %q already exists", d.jobNumber)})
				}
			}
			return apperr.Conflict(fmt.Sprintf("%s: %s", det[0].Field, det[0].Message), det...)
		}
		now := s.clock()
		builders := make([]*ent.OcrInvoiceJobCreate, len(chunk))
		for i, d := range chunk {
			builders[i] = db.OcrInvoiceJob.Create().
				SetJobNumber(d.jobNumber).
				SetDocumentName(d.DocumentName).
				SetDocumentURL(d.DocumentURL).
				SetDocumentType(ocrinvoicejob.DocumentType(d.docType)).
				SetTemplateID(templateID).
				SetGroupID(g.ID).
				SetPriority(priority).
				SetCreatedBy(createdBy).
				SetMetadata(d.Metadata).
				SetStatus(ocrinvoicejob.StatusCreated).
				SetCreatedAt(now).
				SetUpdatedAt(now)
		}
		if err := db.OcrInvoiceJob.CreateBulk(builders...).Exec(ctx); err != nil {
			err = mapDBError("create jobs of group", err)
			if isJobNumberConflict(err) {
				return apperr.Conflict("a jobNumber of the batch already exists", apperr.Detail{Field: "documents", Message: "a jobNumber already exists"})
			}
			return err
		}
	}
	return nil
}

// inTx runs fn on the transaction carried by ctx (a GraphQL mutation under
// entgql.Transactioner) or, without one, in a transaction of its own that it commits.
func (s *Service) inTx(ctx context.Context, fn func(db *ent.Client) error) error {
	if c := ent.FromContext(ctx); c != nil {
		return fn(c)
	}
	return s.withTx(ctx, func(tx *ent.Tx) error { return fn(tx.Client()) })
}

// notifyGroup tells event subscribers (the runner) that group id changed in a way no job
// event shows (created, suspended, resumed, ...): an Event with GroupID and no JobID.
func (s *Service) notifyGroup(ctx context.Context, id string) {
	if s.events == nil {
		return
	}
	if err := s.events.Publish(context.WithoutCancel(ctx), progress.Event{GroupID: id, Status: progress.StatusGroupChanged}); err != nil {
		s.log.WarnContext(ctx, "Could not publish group event", slog.String("group_id", id), slog.Any("error", err))
	}
}

// SuspendGroup sets spec.suspend: the runner releases no more of the group's jobs
// (those queued or processing finish) and marks it Suspended. Errors: Invalid, NotFound.
func (s *Service) SuspendGroup(ctx context.Context, id string) (*ent.OcrJobGroup, error) {
	return s.setSuspend(ctx, id, true)
}

// ResumeGroup clears spec.suspend: the runner releases jobs again, and restarts the
// activeDeadlineSeconds clock (as Kubernetes resets a resumed Job's startTime).
// Errors: Invalid, NotFound.
func (s *Service) ResumeGroup(ctx context.Context, id string) (*ent.OcrJobGroup, error) {
	return s.setSuspend(ctx, id, false)
}

func (s *Service) setSuspend(ctx context.Context, id string, suspend bool) (*ent.OcrJobGroup, error) {
	g, err := s.GetGroup(ctx, id)
	if err != nil {
		return nil, err
	}
	if g.Spec.Suspend != suspend {
		sp := g.Spec
		sp.Suspend = suspend
		if g, err = s.client.OcrJobGroup.UpdateOneID(id).SetSpec(sp).SetUpdatedAt(s.clock()).Save(ctx); err != nil {
			return nil, mapDBError("update group", err)
		}
	}
	s.notifyGroup(ctx, id)
	return g, nil
}

// CancelGroup cancels every unfinished (created, queued or processing) job of the
// group; the runner then marks the group Failed with reason JobsCancelled. It returns
// the group and how many jobs it cancelled. Errors: Invalid, NotFound.
func (s *Service) CancelGroup(ctx context.Context, id string) (*ent.OcrJobGroup, int, error) {
	g, err := s.GetGroup(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	n, err := s.CancelGroupJobs(ctx, id)
	if err != nil {
		return nil, n, err
	}
	s.notifyGroup(ctx, id)
	return g, n, nil
}

// CancelGroupJobs cancels the unfinished jobs of group id (for CancelGroup and for the
// runner, when a group fails). Created jobs, which have no task, are cancelled with one
// UPDATE; queued and processing ones one by one, so their tasks are removed and their
// webhooks sent. A job that finishes meanwhile is left as it is.
func (s *Service) CancelGroupJobs(ctx context.Context, id string) (int, error) {
	now := s.clock()
	hooks := s.webhooks != nil
	var createdIDs []string
	if hooks {
		// Their webhooks, if the group or the job has a callback URL.
		ids, err := s.client.OcrInvoiceJob.Query().
			Where(ocrinvoicejob.GroupID(id), ocrinvoicejob.StatusEQ(ocrinvoicejob.StatusCreated)).
			IDs(ctx)
		if err != nil {
			return 0, internal("list created jobs of group", err)
		}
		createdIDs = ids
	}
	upd := s.client.OcrInvoiceJob.Update().
		Where(ocrinvoicejob.GroupID(id), ocrinvoicejob.StatusEQ(mustAllow(opCancel, ocrinvoicejob.StatusCreated, ocrinvoicejob.StatusCancelled))).
		SetStatus(ocrinvoicejob.StatusCancelled).
		SetCompletedAt(now).
		SetUpdatedAt(now)
	if hooks {
		// Owed until enqueued (see transition); enqueueWebhook clears it for the jobs
		// that have no callback URL.
		upd.SetWebhookPendingAt(now)
	}
	n, err := upd.Save(ctx)
	if err != nil {
		return 0, mapDBError("cancel created jobs of group", err)
	}
	for _, jid := range createdIDs {
		if j, err := s.client.OcrInvoiceJob.Get(ctx, jid); err == nil && j.Status == ocrinvoicejob.StatusCancelled {
			s.enqueueWebhook(ctx, j)
		}
	}
	active, err := s.client.OcrInvoiceJob.Query().
		Where(ocrinvoicejob.GroupID(id), ocrinvoicejob.StatusIn(ocrinvoicejob.StatusQueued, ocrinvoicejob.StatusProcessing)).
		IDs(ctx)
	if err != nil {
		return n, internal("list active jobs of group", err)
	}
	for _, jid := range active {
		if _, err := s.CancelJob(ctx, jid); err != nil {
			if apperr.KindOf(err) == apperr.KindFailedPrecondition || apperr.KindOf(err) == apperr.KindNotFound {
				continue // finished (or gone) meanwhile
			}
			return n, err
		}
		n++
	}
	return n, nil
}

// RetryFailedGroup puts every job of the group that did not succeed (failed, or
// cancelled, e.g. by the group failing) back to created, its results cleared and its
// retryCount grown by one, for the runner to release under parallelism. Backoff
// accounting restarts as for a new Kubernetes Job: failures are counted from the jobs'
// current statuses, so none are left; the runner clears the Failed condition and
// restarts startTime (and the deadline clock) when it sees the finished group has work
// again. Jobs whose document was deleted after the retention period stay as they are.
// It returns the group and how many jobs it reset. Errors: Invalid, NotFound.
func (s *Service) RetryFailedGroup(ctx context.Context, id string) (*ent.OcrJobGroup, int, error) {
	g, err := s.GetGroup(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	list, err := s.client.OcrInvoiceJob.Query().
		Where(ocrinvoicejob.GroupID(id), ocrinvoicejob.StatusIn(sourcesOf(opRetry, ocrinvoicejob.StatusCreated)...),
			ocrinvoicejob.DocumentDeletedAtIsNil()). // jobs whose document was deleted stay as they are
		All(ctx)
	if err != nil {
		return nil, 0, internal("list failed jobs of group", err)
	}
	n := 0
	for _, j := range list {
		nj, err := s.transition(ctx, j.ID, opRetry, ocrinvoicejob.StatusCreated, func(m *ent.OcrInvoiceJobMutation) {
			clearResults(m)
			m.AddRetryCount(1)
			m.Where(ocrinvoicejob.DocumentDeletedAtIsNil())
		})
		if err != nil {
			if apperr.KindOf(err) == apperr.KindFailedPrecondition {
				continue
			}
			return nil, n, err
		}
		// An archived task of the previous run would make the release a no-op.
		s.deleteTask(ctx, nj.ID, nj.TaskRun, string(nj.Priority))
		n++
	}
	s.notifyGroup(ctx, id)
	return g, n, nil
}

// initialGroupStatus is the status of a new group of total jobs.
func initialGroupStatus(total int) invoice.GroupStatus {
	return invoice.GroupStatus{Phase: invoice.GroupPhasePending, Total: total}
}

// DeleteGroup deletes group id and its jobs in one transaction (for the runner, once a
// finished group's ttlSecondsAfterFinished has passed). The uploads its jobs named are
// released: each owner's row goes when no remaining job of that owner names the upload
// (other owners' rows stay). It returns the keys of those uploads; the caller removes
// the files that nothing references any more (RemoveUnreferencedUploads). A group that
// is gone already is no error.
func (s *Service) DeleteGroup(ctx context.Context, id string) ([]string, error) {
	var keys []string
	err := s.withTx(ctx, func(tx *ent.Tx) error {
		var refs []uploadRef
		err := tx.OcrInvoiceJob.Query().
			Where(ocrinvoicejob.GroupID(id), ocrinvoicejob.DocumentURLHasPrefix(UploadScheme+"://")).
			Unique(true).Select(ocrinvoicejob.FieldCreatedBy, ocrinvoicejob.FieldDocumentURL).Scan(ctx, &refs)
		if err != nil {
			return internal("list uploads of group", err)
		}
		if _, err := tx.OcrInvoiceJob.Delete().Where(ocrinvoicejob.GroupID(id)).Exec(ctx); err != nil {
			return internal("delete jobs of group", err)
		}
		if _, err := tx.OcrJobGroup.Delete().Where(ocrjobgroup.ID(id)).Exec(ctx); err != nil {
			return internal("delete group", err)
		}
		keys, err = releaseUploads(ctx, tx.Client(), refs)
		return err
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}
