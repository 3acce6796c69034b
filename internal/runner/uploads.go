package runner

import (
	"context"
	"log/slog"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// UploadJanitor deletes uploads that nobody uses: the records of uploads that no job
// ever named and that are older than UnusedTTL (each owner's separately), then the
// files that no owner holds and no job names any more. Every ScanEvery it also walks the
// store for files older than UnusedTTL that nothing references (uploaded before uploads
// had owners and never used, or left by a removal that failed). The Runner calls Sweep
// on every resync, so it runs on the one replica that holds the runner lease. Zero
// fields take the defaults in brackets.
type UploadJanitor struct {
	Jobs  *jobs.Service
	Store *uploads.Store
	// UnusedTTL is how long an upload no job names is kept; 0 keeps them all (Sweep
	// does nothing).
	UnusedTTL time.Duration
	// Batch bounds the records deleted per sweep [1000].
	Batch int
	// ScanEvery is how often the store's files are walked [UnusedTTL, at least 1 h].
	ScanEvery time.Duration
	// Now is the clock [time.Now].
	Now    func() time.Time
	Logger *slog.Logger

	lastScan time.Time
}

// SweepResult says what one Sweep did.
type SweepResult struct {
	Released int  // records of unused uploads deleted
	Removed  int  // files deleted
	Scanned  bool // the store's files were walked
}

func (j *UploadJanitor) defaults() {
	if j.Batch <= 0 {
		j.Batch = 1000
	}
	if j.ScanEvery <= 0 {
		j.ScanEvery = max(j.UnusedTTL, time.Hour)
	}
	if j.Now == nil {
		j.Now = time.Now
	}
	if j.Logger == nil {
		j.Logger = slog.Default()
	}
}

// Sweep deletes the records of unused uploads uploaded more than UnusedTTL ago (at most
// Batch of them) and the files nothing references any more, and walks the store when
// ScanEvery has passed since the last walk (the first Sweep walks it). Errors: the
// database's or the file system's; what was done before stays done.
func (j *UploadJanitor) Sweep(ctx context.Context) (SweepResult, error) {
	j.defaults()
	var res SweepResult
	if j.UnusedTTL <= 0 {
		return res, nil
	}
	now := j.Now()
	cutoff := now.Add(-j.UnusedTTL)
	keys, err := j.Jobs.SweepUnusedUploads(ctx, cutoff, j.Batch)
	if err != nil {
		return res, err
	}
	res.Released = len(keys)
	if len(keys) > 0 && j.Store != nil {
		removed, err := j.Jobs.RemoveUnreferencedUploads(ctx, j.Store, keys)
		res.Removed += len(removed)
		if err != nil {
			return res, err
		}
	}
	if j.Store != nil && (j.lastScan.IsZero() || now.Sub(j.lastScan) >= j.ScanEvery) {
		n, err := j.scan(ctx, cutoff)
		res.Removed += n
		if err != nil {
			return res, err
		}
		j.lastScan, res.Scanned = now, true
	}
	if res.Released > 0 || res.Removed > 0 {
		j.Logger.Info("Removed unused uploads", slog.Int("records", res.Released), slog.Int("files", res.Removed),
			slog.Duration("unused_ttl", j.UnusedTTL))
	}
	return res, nil
}

// scan removes the files written before cutoff that nothing references.
func (j *UploadJanitor) scan(ctx context.Context, cutoff time.Time) (int, error) {
	var old []string
	if err := j.Store.Walk(func(key string, mod time.Time) bool {
		if mod.Before(cutoff) {
			old = append(old, key)
		}
		return ctx.Err() == nil
	}); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	removed, err := j.Jobs.RemoveUnreferencedUploads(ctx, j.Store, old)
	return len(removed), err
}
