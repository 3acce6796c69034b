package runner

import (
	"context"
	"log/slog"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// DocumentRetention deletes the stored documents (uploads) of jobs that finished more
// than Keep ago, keeping their extracted data (see jobs.Service.ExpireDocuments for
// which documents stay). The Runner calls Sweep after every resync, so it runs on the
// one replica that holds the runner lease. Zero fields take the defaults in brackets.
type DocumentRetention struct {
	Jobs  *jobs.Service
	Store *uploads.Store
	// Keep is how long after a job finished its document is kept
	// (OCRINVOICE_RETENTION_DOCUMENTS); 0 keeps documents forever (Sweep does nothing).
	Keep time.Duration
	// Batch bounds the documents deleted per sweep [1000]; the rest go on the next.
	Batch int
	// Now is the clock [time.Now].
	Now    func() time.Time
	Logger *slog.Logger
	// OnExpired, when set, is called with the keys (SHA-256 digests) of the documents a
	// sweep deleted, so that what was derived from them goes too (the page images that
	// internal/pages caches: pages.RemoveDocuments).
	OnExpired func(keys []string)
}

// Sweep deletes at most Batch stored documents of jobs finished before now-Keep, marks
// their jobs, and returns what it did. Errors: the database's or the file system's;
// what was done before stays done.
func (r *DocumentRetention) Sweep(ctx context.Context) (jobs.ExpireDocumentsResult, error) {
	if r.Keep <= 0 {
		return jobs.ExpireDocumentsResult{}, nil
	}
	batch, now, logger := r.Batch, r.Now, r.Logger
	if batch <= 0 {
		batch = 1000
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	res, err := r.Jobs.ExpireDocuments(ctx, r.Store, now().Add(-r.Keep), batch)
	if len(res.Keys) > 0 && r.OnExpired != nil {
		r.OnExpired(res.Keys)
	}
	if len(res.Keys) > 0 {
		logger.Info("Deleted documents past retention", slog.Int("documents", len(res.Keys)), slog.Int("jobs", res.Jobs),
			slog.Int("files", res.Files), slog.Duration("retention", r.Keep))
	}
	return res, err
}
