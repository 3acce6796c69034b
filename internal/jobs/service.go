// Package jobs is the domain core of ocrinvoice: OCR invoice jobs, templates and job
// groups — validation, the job state machine, the enqueue contract and pricing. Every
// rule lives here once; the GraphQL resolvers, the REST handlers and the worker call
// this package and translate its *apperr.Error values.
package jobs

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
)

// Enqueuer puts a job's task on the queue and takes it off again. internal/tasks.Client
// implements it. EnqueueJob must treat "already queued" as success.
type Enqueuer interface {
	EnqueueJob(ctx context.Context, jobID, priority string) error
	DeleteJobTask(ctx context.Context, jobID, priority string) error
}

// Options tune a Service. Zero values select the defaults.
type Options struct {
	// Logger receives warnings (e.g. Redis down at enqueue). Default: slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default: time.Now. Times are stored in UTC.
	Now func() time.Time
	// PricePerPage is the price of one page at medium priority when the job's template
	// sets none; 0 charges nothing (the configuration's default is DefaultPricePerPage).
	PricePerPage float64
	// EInvoicePrice is the price of one job whose data was read from an e-invoice's XML
	// (no OCR, no page read), at medium priority; 0 charges nothing (the configuration's
	// default is DefaultEInvoicePrice).
	EInvoicePrice float64
	// EnqueueTimeout bounds one call to the Enqueuer, so that a dead Redis delays an API
	// answer by at most this much. Default: 3 s.
	EnqueueTimeout time.Duration
	// PriceFactors multiply the page price by priority. The priorities it names replace
	// those of DefaultPriceFactors (negative or non-finite factors are ignored); the
	// others keep their defaults. Default: DefaultPriceFactors.
	PriceFactors PriceFactors
	// Events, when set, is told about the status changes the service makes for API
	// callers (create and enqueue, update that re-runs, cancel, retry), after they are
	// committed. A *progress.Publisher fits. Publish failures are logged.
	Events EventPublisher
	// AddressCheck, when set, is asked about the literal address of a documentUrl or
	// callbackUrl (http://10.0.0.7/..., also "localhost" as 127.0.0.1) when a job or group
	// is created or changed, so that a target the worker's guard would refuse is a 400
	// naming the field at once rather than a failed job later. The worker's
	// fetch.Guard.Check, with the same OCRINVOICE_FETCH_ALLOW_CIDRS, fits. Names are
	// still checked by the worker, on every address they resolve to.
	AddressCheck func(netip.Addr) error
	// Webhooks, when set, is asked to deliver a webhook each time a job with a
	// callbackUrl (its own or its group's) reaches a terminal state, after the change
	// is committed. *tasks.Client fits. nil: no webhooks are sent.
	Webhooks WebhookEnqueuer
	// UploadQuota limits what one owner keeps in the upload store (see StoreUpload).
	// Zero fields: no limit.
	UploadQuota UploadQuota
	// FilterCostLimit is the largest cost of a list filter (see CheckFilterCost):
	// DefaultFilterCostLimit when 0, no limit when negative.
	FilterCostLimit int
	// Revalidate runs the validation again after a correction (see CorrectJob);
	// worker/validate's checks, passed by the composition root. nil: a correction keeps
	// the job's validation results.
	Revalidate RevalidateFunc
	// Learner teaches supplier profiles (see LearnSupplierProfile). nil: no profile is
	// learned; lookups, lists and deletes still work.
	Learner Learner
	// ProgressWriteEvery is the least time between two writes of a run's job row (see
	// Run.Progress): progress reported sooner is published at once and written later,
	// coalesced. Default: DefaultProgressWriteEvery; negative: every progress is written.
	ProgressWriteEvery time.Duration
	// CursorKey signs the keyset cursors of the job list (JobCursor, JobsAfter). Every
	// replica behind one address needs the same key, or a page read from one replica
	// cannot be continued on another (config.Config.CursorKey derives it from the
	// configuration). Empty: a random key for this Service, good for one process only.
	CursorKey []byte
}

// DefaultProgressWriteEvery is the default Options.ProgressWriteEvery.
const DefaultProgressWriteEvery = 250 * time.Millisecond

// DefaultPricePerPage is the configured price of one page at medium priority, in the
// job's currency, when the template sets none (OCRINVOICE_PRICE_PER_PAGE's default).
const DefaultPricePerPage = 0.01

// DefaultEInvoicePrice is the configured price of one e-invoice document at medium
// priority (OCRINVOICE_EINVOICE_PRICE's default): the XML is read exactly, without OCR.
const DefaultEInvoicePrice = 0.002

// Service is the domain core. It is safe for concurrent use.
type Service struct {
	client         *ent.Client
	enq            Enqueuer
	log            *slog.Logger
	now            func() time.Time
	pricePerPage   float64
	einvoicePrice  float64
	priceFactors   PriceFactors
	enqueueTimeout time.Duration
	events         EventPublisher
	webhooks       WebhookEnqueuer
	addrCheck      func(netip.Addr) error
	uploadQuota    UploadQuota
	// filterCostLimit: 0 means no limit.
	filterCostLimit int
	revalidateFn    RevalidateFunc
	learner         Learner
	// progressEvery is Options.ProgressWriteEvery with its default; <= 0 writes every
	// progress.
	progressEvery time.Duration
	cursorKey     []byte
	// dialect is the client's SQL dialect once known (see isPostgres).
	dialectMu sync.Mutex
	dialect   string
}

// NewService returns a Service over c. enq may be nil: jobs are then stored with status
// "created" and never enqueued (a reconciler or a later start enqueues them).
func NewService(c *ent.Client, enq Enqueuer, opts Options) *Service {
	s := &Service{client: c, enq: enq, log: opts.Logger, now: opts.Now, pricePerPage: opts.PricePerPage,
		einvoicePrice: opts.EInvoicePrice,
		priceFactors:  opts.PriceFactors.withDefaults(), enqueueTimeout: opts.EnqueueTimeout, events: opts.Events,
		webhooks: opts.Webhooks, addrCheck: opts.AddressCheck, uploadQuota: opts.UploadQuota,
		revalidateFn: opts.Revalidate, learner: opts.Learner, progressEvery: opts.ProgressWriteEvery, cursorKey: opts.CursorKey}
	if s.progressEvery == 0 {
		s.progressEvery = DefaultProgressWriteEvery
	}
	if len(s.cursorKey) == 0 {
		s.cursorKey = make([]byte, 32)
		_, _ = rand.Read(s.cursorKey) // crypto/rand.Read never fails (Go 1.24+)
	}
	switch {
	case opts.FilterCostLimit == 0:
		s.filterCostLimit = DefaultFilterCostLimit
	case opts.FilterCostLimit > 0:
		s.filterCostLimit = opts.FilterCostLimit
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	installScope(c)
	if s.now == nil {
		s.now = time.Now
	}
	if s.pricePerPage < 0 || math.IsNaN(s.pricePerPage) {
		s.pricePerPage = 0
	}
	if s.enqueueTimeout <= 0 {
		s.enqueueTimeout = 3 * time.Second
	}
	return s
}

// clock returns the current time in UTC, to the microsecond (what PostgreSQL stores).
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// db returns the client of the transaction carried by ctx (a GraphQL mutation run by
// entgql.Transactioner), or the service's client. Operations that enqueue tasks never
// use it: they must commit before they enqueue.
func (s *Service) db(ctx context.Context) *ent.Client {
	if c := ent.FromContext(ctx); c != nil {
		return c
	}
	return s.client
}

// withTx runs fn in a transaction of the service's own client and commits it.
func (s *Service) withTx(ctx context.Context, fn func(tx *ent.Tx) error) error {
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return internal("begin transaction", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return mapDBError("commit transaction", err)
	}
	return nil
}

// internal wraps an unexpected error with an action, as an apperr.Internal.
func internal(action string, err error) error {
	if apperr.As(err) != nil {
		return err
	}
	return apperr.Internal(fmt.Errorf("%s: %w", action, err))
}

// mapDBError turns database errors into application errors: unique violations on
// job_number or name become Conflict, ent's not-found becomes NotFound, anything else
// Internal. It recognises the messages of both SQLite and PostgreSQL.
func mapDBError(action string, err error) error {
	if err == nil {
		return nil
	}
	if apperr.As(err) != nil {
		return err
	}
	if ent.IsNotFound(err) {
		return apperr.NotFound(action + ": not found")
	}
	if ent.IsConstraintError(err) {
		msg := strings.ToLower(err.Error())
		unique := strings.Contains(msg, "unique") || strings.Contains(msg, "duplicate")
		switch {
		case unique && strings.Contains(msg, "job_number"):
			return &apperr.Error{Kind: apperr.KindConflict, Message: "a job with this jobNumber already exists",
				Details: []apperr.Detail{{Field: "jobNumber", Message: "already exists"}}, Err: err}
		case unique && strings.Contains(msg, "name"):
			return &apperr.Error{Kind: apperr.KindConflict, Message: "an object with this name already exists",
				Details: []apperr.Detail{{Field: "name", Message: "already exists"}}, Err: err}
		case strings.Contains(msg, "foreign key"):
			return &apperr.Error{Kind: apperr.KindInvalid, Message: "a referenced object does not exist", Err: err}
		}
	}
	if ent.IsValidationError(err) {
		return &apperr.Error{Kind: apperr.KindInvalid, Message: "invalid value: " + validationMessage(err), Err: err}
	}
	return internal(action, err)
}

func validationMessage(err error) string {
	var ve *ent.ValidationError
	if errors.As(err, &ve) {
		return ve.Name
	}
	return "rejected by the schema"
}

// checkTarget applies Options.AddressCheck to the host of an already validated
// http(s) URL when it is a literal address or localhost.
func (s *Service) checkTarget(raw string) error {
	if s.addrCheck == nil || raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil // ValidateDocumentURL / ValidateCallbackURL reported it
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return nil
	}
	if err := s.addrCheck(ip); err != nil {
		return fmt.Errorf("%v; the worker does not reach it (OCRINVOICE_FETCH_ALLOW_CIDRS opens a range)", err)
	}
	return nil
}
