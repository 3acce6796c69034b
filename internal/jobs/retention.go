package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/ent/upload"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// Document retention (OCRINVOICE_RETENTION_DOCUMENTS). The stored copy of a document is
// its upload (upload://KEY in the store, one file per content key, held by Upload rows
// per owner); documents fetched from http(s) URLs are not stored and are not affected.
// The rules, kept here once:
//
//   - A key expires when every job naming it, of every owner, is finished (completed,
//     failed or cancelled) since before the cutoff, and no owner uploaded it again
//     since the cutoff. A job still running, or finished more recently, keeps it.
//   - Expiring a key marks its jobs (document_deleted_at), deletes every owner's row of
//     it, then the file. The jobs keep their extracted data; they can no longer run
//     again on the document (DocumentDeletedError), and an owner that wants to use the
//     bytes again uploads them again.
//   - Jobs whose document is deleted do not keep a file in the store
//     (RemoveUnreferencedUploads does not count them).

// ExpireDocumentsResult says what one ExpireDocuments did.
type ExpireDocumentsResult struct {
	Keys  []string // uploads expired: their rows are gone, the files removable
	Jobs  int      // jobs marked document_deleted_at
	Kept  int      // keys of old finished jobs kept because something else still needs them
	Files int      // files removed from the store
}

// expiredFinished is the condition on a job finished before cutoff (its completedAt;
// its last update when a finished job has none).
func expiredFinished(cutoff time.Time) predicate.OcrInvoiceJob {
	return ocrinvoicejob.And(
		ocrinvoicejob.StatusIn(ocrinvoicejob.StatusCompleted, ocrinvoicejob.StatusFailed, ocrinvoicejob.StatusCancelled),
		ocrinvoicejob.Or(
			ocrinvoicejob.CompletedAtLT(cutoff),
			ocrinvoicejob.And(ocrinvoicejob.CompletedAtIsNil(), ocrinvoicejob.UpdatedAtLT(cutoff)),
		),
	)
}

// ExpireDocuments deletes the stored documents (uploads) of jobs that finished before
// cutoff, at most limit keys per call in the order of the jobs (ids are time-ordered),
// and removes their files from store (nil: the caller removes them with
// RemoveUnreferencedUploads). The jobs are marked
// (documentDeletedAt) and keep everything they extracted, but not the layout of the
// document they read (its words and their places, kept for supplier profiles). A key that a job still
// unfinished, a job finished since cutoff, or an upload since cutoff (of any owner)
// needs is kept, and so are its old jobs. Each key is expired in a transaction of its
// own, conditional on all of that: a job that names the key, or a retry of one of its
// jobs, racing with the expiry either wins (the key stays) or sees the document gone.
// Call it with ctx of the process (no principal). Errors: Internal; keys expired before
// the error stay expired.
func (s *Service) ExpireDocuments(ctx context.Context, store *uploads.Store, cutoff time.Time, limit int) (ExpireDocumentsResult, error) {
	var res ExpireDocumentsResult
	if limit <= 0 {
		limit = uploadBatch
	}
	// Walk the old finished jobs on uploads in id order, a page at a time, so that keys
	// that must stay do not hide the expirable ones behind them.
	type cand struct {
		ID  string `json:"id"`
		URL string `json:"document_url"`
	}
	seen := map[string]bool{}
	after := ""
	for len(res.Keys) < limit {
		q := s.client.OcrInvoiceJob.Query().
			Where(expiredFinished(cutoff), ocrinvoicejob.DocumentDeletedAtIsNil(),
				ocrinvoicejob.DocumentURLHasPrefix(uploads.Scheme+"://"))
		if after != "" {
			q.Where(ocrinvoicejob.IDGT(after))
		}
		var page []cand
		err := q.Order(ent.Asc(ocrinvoicejob.FieldID)).
			Limit(uploadBatch).
			Select(ocrinvoicejob.FieldID, ocrinvoicejob.FieldDocumentURL).
			Scan(ctx, &page)
		if err != nil {
			return res, internal("list jobs past document retention", err)
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].ID
		var keys []string
		for _, c := range page {
			k, err := uploads.KeyFromURL(c.URL)
			if err != nil || seen[k] {
				continue
			}
			seen[k] = true
			keys = append(keys, k)
		}
		for _, k := range keys {
			if len(res.Keys) >= limit {
				break
			}
			n, err := s.expireKey(ctx, k, cutoff)
			switch {
			case errors.Is(err, errKeyNeeded):
				res.Kept++
			case err != nil:
				return res, s.removeExpired(ctx, store, &res, err)
			default:
				res.Keys = append(res.Keys, k)
				res.Jobs += n
			}
		}
		if len(page) < uploadBatch {
			break
		}
	}
	return res, s.removeExpired(ctx, store, &res, nil)
}

// removeExpired removes the files of res.Keys from store (when set), returning err or
// the removal's error.
func (s *Service) removeExpired(ctx context.Context, store *uploads.Store, res *ExpireDocumentsResult, err error) error {
	if store == nil || len(res.Keys) == 0 {
		return err
	}
	removed, rerr := s.RemoveUnreferencedUploads(ctx, store, res.Keys)
	res.Files = len(removed)
	if err == nil {
		err = rerr
	}
	return err
}

// errKeyNeeded: something still needs the upload; it stays.
var errKeyNeeded = errors.New("upload still needed")

// expireKey expires upload key in one transaction (see ExpireDocuments) and returns how
// many jobs it marked, or errKeyNeeded. The order matters on PostgreSQL (read
// committed): the rows are deleted first, conditional on no upload since cutoff (a job
// naming the key touches its row, so a job created meanwhile makes the delete leave
// the row), then the jobs are marked, conditional on being finished before cutoff (a
// retry committed first makes the mark skip its job); last, what is left is checked,
// and anything that still needs the key undoes it all.
func (s *Service) expireKey(ctx context.Context, key string, cutoff time.Time) (int, error) {
	url := uploads.URL(key)
	marked := 0
	err := s.withTx(ctx, func(tx *ent.Tx) error {
		if _, err := tx.Upload.Delete().Where(upload.Key(key), upload.UpdatedAtLT(cutoff), upload.CreatedAtLT(cutoff)).Exec(ctx); err != nil {
			return internal("delete expired upload records", err)
		}
		if left, err := tx.Upload.Query().Where(upload.Key(key)).Exist(ctx); err != nil {
			return internal("look for recent uploads", err)
		} else if left {
			return errKeyNeeded
		}
		n, err := tx.OcrInvoiceJob.Update().
			Where(ocrinvoicejob.DocumentURL(url), ocrinvoicejob.DocumentDeletedAtIsNil(), expiredFinished(cutoff)).
			SetDocumentDeletedAt(s.clock()).
			ClearDocumentLayout(). // the document's words and their places go with it
			Save(ctx)
		if err != nil {
			return internal("mark jobs whose document is deleted", err)
		}
		needed, err := tx.OcrInvoiceJob.Query().
			Where(ocrinvoicejob.DocumentURL(url), ocrinvoicejob.DocumentDeletedAtIsNil()).
			Exist(ctx)
		if err != nil {
			return internal("look for jobs still needing the document", err)
		}
		if needed {
			return errKeyNeeded
		}
		marked = n
		return nil
	})
	return marked, err
}

// DocumentDeletedError is the answer to running job j again (retry, or a change of
// template or type on the same document) after its document was deleted by the
// retention period.
func DocumentDeletedError(j *ent.OcrInvoiceJob) error {
	at := ""
	if j.DocumentDeletedAt != nil {
		at = " on " + j.DocumentDeletedAt.UTC().Format(time.RFC3339)
	}
	return apperr.FailedPrecondition(fmt.Sprintf("the job's document was deleted%s after the document retention period (OCRINVOICE_RETENTION_DOCUMENTS); "+
		"its extracted data is kept, but it cannot be processed again: upload the document again and create a new job, or name a new documentUrl", at),
		apperr.Detail{Field: "documentDeletedAt", Message: "the document is deleted"})
}
