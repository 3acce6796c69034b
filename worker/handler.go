package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/redact"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/fetch"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// Steps of the pipeline that progress reports, in order, as "step k of n". Validation
// runs inside extraction and storing is the run's completion (which reports 100 %), so
// neither is a step of its own.
var steps = []string{"fetch", "inspect", "read", "extract"}

// Handler processes `ocr:invoice` tasks. It is safe for concurrent use: asynq calls
// ProcessTask from as many goroutines as the worker's concurrency, and the OCR reader
// hands each call its own engine slot.
type Handler struct {
	jobs    *jobs.Service
	reader  *ocr.Reader
	fetcher *fetch.Fetcher
	log     *slog.Logger
	// progressEvery throttles how often page progress is reported.
	progressEvery time.Duration
	noCrossCheck  bool
	beats         *tasks.Heartbeats
	name          string // the worker process, in heartbeats and attempts
}

// Config wires a Handler.
type Config struct {
	Jobs    *jobs.Service
	Reader  *ocr.Reader
	Fetcher *fetch.Fetcher
	Logger  *slog.Logger
	// ProgressEvery is the least time between two page-progress reports (events) of a
	// run; default 500 ms. Steps and the last page are always reported. The job's row
	// takes at most one progress write per jobs.Options.ProgressWriteEvery whatever the
	// reports (see jobs.Run.Progress).
	ProgressEvery time.Duration
	// Heartbeats, when set, keeps a heartbeat key alive in Redis while a job runs, so
	// that the requeue sweep notices a dead worker in seconds. nil: no heartbeats (a dead
	// worker's jobs wait for asynq's lease expiry).
	Heartbeats *tasks.Heartbeats
	// Name names this worker process in heartbeats and in the jobs' attempts; default
	// "hostname:pid".
	Name string
	// NoCrossCheck skips comparing a hybrid e-invoice PDF's page with its XML
	// (Steps.NoCrossCheck).
	NoCrossCheck bool
}

// NewHandler returns the task handler.
func NewHandler(cfg Config) *Handler {
	h := &Handler{jobs: cfg.Jobs, reader: cfg.Reader, fetcher: cfg.Fetcher, log: cfg.Logger, progressEvery: cfg.ProgressEvery,
		beats: cfg.Heartbeats, name: cfg.Name, noCrossCheck: cfg.NoCrossCheck}
	if h.name == "" {
		h.name = ProcessName()
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.progressEvery <= 0 {
		h.progressEvery = 500 * time.Millisecond
	}
	return h
}

// ProcessName names this process as "hostname:pid".
func ProcessName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}

// ErrStoreDown marks a task error that says the job store (the database) could not be
// reached when the run started, stored its results or recorded its failure: the job is
// left as it was (still processing on the task's run), nothing of the document is to
// blame, and the task should run again as soon as the store is back, without counting as
// a failed attempt (the worker's asynq IsFailure and RetryDelayFunc look for it).
var ErrStoreDown = errors.New("job store unavailable")

// finalWriteWait bounds the writes that end a run (results, failure), including the
// wait for an unreachable database to come back (untilStored).
const finalWriteWait = 60 * time.Second

// storeRetryEvery is how often untilStored tries a write again while the database is
// unreachable.
const storeRetryEvery = time.Second

// untilStored runs write, and again every storeRetryEvery while it fails because the
// database is unreachable (apperr.DependencyDown), until it succeeds, fails otherwise or
// ctx ends. A run that has read its document keeps its results through a short database
// outage instead of handing its task back to the end of the queue; the run's heartbeat
// goes on meanwhile, so it is not taken for dead.
func untilStored(ctx context.Context, log *slog.Logger, write func() error) error {
	err := write()
	for i := 0; apperr.DependencyDown(err); i++ {
		if i == 0 {
			log.Warn("Job store unavailable; waiting to store the run's outcome", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(storeRetryEvery):
		}
		err = write()
	}
	return err
}

// storeError wraps err with ErrStoreDown when it says the database was unreachable.
func storeError(err error) error {
	if apperr.DependencyDown(err) {
		return fmt.Errorf("%w: %w", ErrStoreDown, err)
	}
	return err
}

// errJobGone is the cause set on the run's context when the job left "processing"
// (cancelled, or changed by someone else) while it ran.
var errJobGone = errors.New("job is no longer processing")

// ProcessTask runs one job. The contract with asynq:
//   - a bad payload or a job that does not exist: SkipRetry (nothing to retry);
//   - a job that is not runnable (cancelled, completed) or a task of a run that is not
//     the job's (stale: the requeue sweep gave the job to a new task after this one's
//     worker stopped heart-beating): nil, the task is dropped;
//   - a permanent failure (refused URL, HTTP 4xx, corrupt or unsupported document):
//     the job is failed at once and SkipRetry returned;
//   - a transient failure: the attempt is logged on the job, which goes back to
//     queued, and the error is returned so that asynq retries with backoff; on the
//     last attempt the job is failed;
//   - a job cancelled while it runs (the cancel also cancels the task's context, or the
//     run notices at its next progress write): nil, the task is dropped;
//   - a worker shutdown (ctx cancelled by asynq): the error is returned and the job
//     stays processing; the redelivered task restarts it.
//
// Every write of the run is conditional on the task's run: when the requeue sweep took
// the job for lost (heartbeat missed) and gave it to a new task, this run's progress,
// results and failure are refused and it stops as if cancelled.
//
// The start, every progress write and the outcome are published as progress events by
// the job's Run (see jobs.Options.Events), not by the handler. With Config.Heartbeats set, the run's heartbeat key
// lives from before the start until after the last write.
func (h *Handler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	p, err := tasks.ParsePayload(t)
	if err != nil {
		return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	log := h.log.With(slog.String("job_id", p.JobID))
	if p.Run > 0 {
		log = log.With(slog.Int("run", p.Run))
	}
	if h.beats != nil {
		// Before the start, so that the sweep never finds the run started without one.
		stop, err := h.beats.Beat(ctx, p.JobID, p.Run, h.name)
		if err != nil {
			log.Warn("Could not write job heartbeat", slog.Any("error", err))
		}
		defer stop()
	}
	run, err := h.jobs.StartRun(ctx, p.JobID, p.Run, jobs.Worker{Name: h.name, Heartbeat: h.beats != nil})
	switch {
	case apperr.KindOf(err) == apperr.KindNotFound:
		log.Warn("Dropping task of a job that does not exist")
		return fmt.Errorf("job %s: %w", p.JobID, asynq.SkipRetry)
	case jobs.IsNotProcessing(err):
		log.Info("Dropping task of a job that is not runnable", slog.String("reason", err.Error()))
		return nil
	case err != nil:
		return storeError(fmt.Errorf("start job %s: %w", p.JobID, err))
	}
	job := run.Job()
	log.Info("Processing job", slog.String("job_number", job.JobNumber), slog.String("document_url", redact.URL(job.DocumentURL)))

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	in, err := h.run(runCtx, cancel, run)
	// Final writes must happen even when the run's context was cancelled.
	wctx, wcancel := context.WithTimeout(context.WithoutCancel(ctx), finalWriteWait)
	defer wcancel()
	switch {
	case err == nil:
		return h.complete(wctx, log, run, in)
	case errors.Is(context.Cause(runCtx), errJobGone):
		log.Info("Stopped processing a job that was cancelled or given to another run")
		return nil
	case ctx.Err() != nil:
		return h.interrupted(ctx, wctx, log, run)
	}
	return h.fail(ctx, wctx, log, run, err)
}

// complete stores the results of a run that read its document. A job that left the run
// meanwhile (cancelled, given to another run) drops them: whoever moved it told.
func (h *Handler) complete(wctx context.Context, log *slog.Logger, run *jobs.Run, in *jobs.CompleteInput) error {
	err := untilStored(wctx, log, func() error {
		_, err := run.Complete(wctx, *in)
		return err
	})
	if jobs.IsNotProcessing(err) {
		log.Info("Job left processing or this run before its results were stored; results dropped", slog.String("reason", err.Error()))
		return nil
	}
	if err != nil {
		return storeError(fmt.Errorf("store results of job %s: %w", run.Job().ID, err))
	}
	log.Info("Completed job", slog.Int("pages", in.Pages))
	return nil
}

// interrupted handles a run whose task context ended: cancelling a job cancels its
// running task through asynq, which looks the same as a shutdown from here, so the job's
// state tells them apart.
func (h *Handler) interrupted(ctx, wctx context.Context, log *slog.Logger, run *jobs.Run) error {
	if holds, cur, err := run.Holds(wctx); err == nil && !holds {
		log.Info("Stopped processing a job that was cancelled or given to another run", slog.String("status", string(cur.Status)))
		return nil
	}
	// asynq is shutting down or the task timed out; it will deliver the task again.
	// While the task waits in the queue the requeue sweep leaves the job alone; only a
	// task that does not come back (its retries used up, Redis lost it) makes the run
	// count as lost.
	return fmt.Errorf("job %s interrupted: %w", run.Job().ID, ctx.Err())
}

// fail records the failure runErr of a run: for good when it is permanent or the task's
// last attempt, else the job goes back to queued and the error returned makes asynq
// retry.
func (h *Handler) fail(ctx, wctx context.Context, log *slog.Logger, run *jobs.Run, runErr error) error {
	// The reason goes to the job's errorLog, its event, the log and (returned) the
	// queue's record of the task: none may carry a secret of the document URL, whichever
	// step named it.
	runErr = redact.Error(runErr)
	permanent := isPermanent(runErr)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	last := ok && retried >= maxRetry
	ferr := untilStored(wctx, log, func() error {
		_, err := run.Fail(wctx, runErr.Error(), permanent || last)
		return err
	})
	switch {
	case ferr == nil, jobs.IsNotProcessing(ferr):
		// Failed, or queued again when asynq will retry; or cancelled, or given to
		// another run, meanwhile.
	case apperr.DependencyDown(ferr):
		// The failure could not be recorded: the job is still processing on this run,
		// and the task is tried again soon without using up a retry (ErrStoreDown).
		log.Warn("Could not record job failure: job store unavailable", slog.Any("error", ferr), slog.Any("run_error", runErr))
		return fmt.Errorf("%w: %w", ErrStoreDown, ferr)
	default:
		log.Error("Could not record job failure", slog.Any("error", ferr))
	}
	log.Warn("Job attempt failed", slog.Any("error", runErr), slog.Bool("permanent", permanent), slog.Int("retry", retried))
	if permanent {
		return fmt.Errorf("%w: %w", runErr, asynq.SkipRetry)
	}
	return runErr
}

// isPermanent tells failures that retrying cannot fix.
func isPermanent(err error) bool {
	return errors.Is(err, ocr.ErrBadDocument) || errors.Is(err, fetch.ErrRefused) || errors.Is(err, fetch.ErrPermanent) ||
		apperr.KindOf(err) == apperr.KindInvalid
}

// run does the work of one attempt and returns what to store.
func (h *Handler) run(ctx context.Context, cancel context.CancelCauseFunc, run *jobs.Run) (*jobs.CompleteInput, error) {
	rep := &reporter{h: h, ctx: ctx, cancel: cancel, run: run}
	job, tpl := run.Job(), run.Template()

	rep.step(0, 0)
	data, err := h.fetcher.Get(ctx, job.DocumentURL)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)

	rep.step(1, 0)
	format, err := ocr.DetectFormat(data)
	if err != nil {
		return nil, fmt.Errorf("inspect document: %w", err)
	}
	if declared := string(job.DocumentType); declared != "" && !sameFormat(declared, format) {
		h.log.Info("Document type differs from the declared one; using the detected type",
			slog.String("job_id", job.ID), slog.String("declared", declared), slog.String("detected", format))
	}

	rep.step(2, 0)
	spec := tpl.Spec
	out, err := Process(ctx, h.reader, Input{Data: data, Name: documentName(job.DocumentName, job.DocumentURL)}, Steps{
		Read:         ocr.Options{Languages: tpl.Languages, DPI: tpl.Dpi, PSM: tpl.PageSegmentationMode, Progress: rep.page},
		Extract:      extract.Options{Spec: &spec},
		NoCrossCheck: h.noCrossCheck,
		Extracting: func(*layout.Document) error {
			if err := rep.err(); err != nil {
				return err
			}
			rep.step(3, 0)
			return nil
		},
	})
	if re := (*ReadError)(nil); errors.As(err, &re) {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, fmt.Errorf("read document: %w", re.Err)
	}
	if err != nil {
		return nil, err
	}
	// Validation runs inside extraction (it also adjusts confidences); a supplier profile
	// the owner's corrections taught reads its fields first, then validation runs again.
	use, err := applyProfile(ctx, out, &spec, func(ctx context.Context, keys invoice.SupplierKeys) (*LearnedProfile, error) {
		p, err := run.SupplierProfile(ctx, keys)
		if err != nil || p == nil {
			return nil, err
		}
		lp := &LearnedProfile{ID: p.ID, Version: p.Version, Rules: p.Rules, Keys: invoice.SupplierKeys{Name: p.NameKey, Fingerprint: p.Fingerprint}}
		if p.TaxID != nil {
			lp.Keys.TaxID = *p.TaxID
		}
		if p.Iban != nil {
			lp.Keys.IBAN = *p.Iban
		}
		return lp, nil
	})
	if err != nil {
		h.log.Warn("Supplier profile not applied; the generic result stands",
			slog.String("job_id", job.ID), slog.String("error", err.Error()))
	}
	if err := rep.err(); err != nil {
		return nil, err
	}
	return &jobs.CompleteInput{
		DocumentInfo:      &out.Info,
		ExtractedData:     &out.Result.Data,
		Confidence:        &out.Result.Confidence,
		ValidationResults: &out.Result.Validation,
		Evidence:          out.Result.Evidence,
		Layout:            encodeLayout(out.Doc),
		Profile:           use,
		Pages:             len(out.Doc.Pages),
		EInvoice:          out.Info.Source == invoice.SourceEInvoice,
		SHA256:            hex.EncodeToString(sum[:]),
	}, nil
}

// documentName names the document in the reader's messages: its name, else the last
// element of its URL's path (never the query, which may be a signature).
func documentName(name, docURL string) string {
	if name != "" {
		return name
	}
	p := docURL
	if u, err := url.Parse(p); err == nil {
		p = u.Path
	} else if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	return path.Base(p)
}

func sameFormat(declared, detected string) bool {
	declared = strings.ToLower(declared)
	if declared == "jpg" {
		declared = "jpeg"
	}
	return declared == detected
}

// reporter writes progress and notices when the job stops being "processing"
// (cancelled) or moves to another task run (this run's worker was taken for lost): it
// then cancels the run, which stops the reader at the next page.
type reporter struct {
	h      *Handler
	ctx    context.Context
	cancel context.CancelCauseFunc
	run    *jobs.Run // its writes are refused once the job left it

	mu        sync.Mutex
	cur       int
	lastWrite time.Time
	gone      bool
}

// step reports the start of step k (0-based).
func (r *reporter) step(k int, frac float64) {
	r.mu.Lock()
	r.cur = k
	r.mu.Unlock()
	r.write(k, frac, steps[k], true)
}

// page reports that page of pages has been read in the read step.
func (r *reporter) page(page, pages int) {
	if pages <= 0 {
		return
	}
	r.write(2, float64(page)/float64(pages), fmt.Sprintf("read page %d of %d", page, pages), page == pages)
}

func (r *reporter) write(k int, frac float64, label string, force bool) {
	r.mu.Lock()
	if r.gone || (!force && time.Since(r.lastWrite) < r.h.progressEvery) {
		r.mu.Unlock()
		return
	}
	r.lastWrite = time.Now()
	r.mu.Unlock()
	n := len(steps)
	pct := int((float64(k) + frac) / float64(n) * 100)
	p := invoice.Progress{Percentage: pct, CurrentStep: label, TotalSteps: n}
	err := r.run.Progress(r.ctx, p)
	if jobs.IsNotProcessing(err) {
		r.mu.Lock()
		r.gone = true
		r.mu.Unlock()
		r.cancel(errJobGone)
		return
	}
	if err != nil {
		if r.ctx.Err() == nil {
			r.h.log.Warn("Could not write job progress", slog.String("job_id", r.run.Job().ID), slog.Any("error", err))
		}
	}
}

// err returns the cause when the job went away during the run.
func (r *reporter) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gone {
		return errJobGone
	}
	return nil
}
