// Package live turns job progress events (internal/progress, one Redis subscription per
// process) into the streams clients watch: one job from its current state to its end, every
// job that changes status, one group's status. GraphQL subscriptions and the REST event
// stream are thin adapters over a Watcher.
//
// Every stream starts from the database, the record, and then follows events, which are
// notifications: a stream subscribes to the Hub before it reads the database, so that
// nothing published between the read and the subscription is missed, and drops events
// older than what it has already sent. Because Redis pub/sub delivers at most once (an
// event published while the Hub's connection is down is lost), open job and group streams
// also re-read the database every Options.Resync and send what changed.
//
// Streams never block the Hub (it drops intermediate progress for a slow consumer, never a
// terminal event) and never leak: each runs one goroutine, which ends and closes its
// channel when the caller's context ends, when the stream is over, when the Hub is closed,
// or when the Watcher is closed.
//
// Streams are capped: per client connection (Options.PerConnection, see WithConnection)
// and per API key (Options.PerKey, counted across every replica in Redis when
// Options.Redis is set). A stream counts from the moment it is opened until its goroutine
// ends, whichever way it ends.
//
// An event costs a stream nothing unless it may concern it: a stream of every job whose
// principal is scoped to an owner never sees the events of other owners' jobs (the Hub
// filters them by progress.Event.Owner before they are queued), and the streams without
// a filter that handle one event share one read of its job.
package live

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
)

// DefaultResync is how often an open job or group stream re-reads the database unless
// Options.Resync says otherwise.
const DefaultResync = 15 * time.Second

// maxTracked bounds how many jobs' last statuses a firehose stream remembers to tell a
// status change from a progress event; past it the memory starts afresh (at worst one
// extra update per job).
const maxTracked = 10_000

// Options tune a Watcher. Zero values select the defaults.
type Options struct {
	// Resync is how often an open job or group stream re-reads the database, to catch a
	// change whose event was lost; default DefaultResync.
	Resync time.Duration
	// Logger receives database errors met while streaming; default slog.Default().
	Logger *slog.Logger

	// PerConnection caps the streams open at once on one client connection (see
	// WithConnection); default DefaultPerConnection, negative: no cap.
	PerConnection int
	// PerKey caps the streams open at once with one API key (the principal's KeyID; a
	// principal without a key, such as auth.Local, is not capped), on every connection and
	// transport alike: GraphQL over WebSocket or SSE, REST event streams. Default
	// DefaultPerKey, negative: no cap. Opening a stream over a cap is RateLimited, with
	// one detail whose field names the cap (CapPerConnection, CapPerKey).
	PerKey int
	// Redis, when set, counts the streams of each key for PerKey across every replica that
	// uses it: each open stream holds a member of a sorted set per key
	// (SlotPrefix + key id) under a lease of SlotLease, renewed while the stream lives
	// and removed when it ends, so that the streams of a replica that died stop counting
	// within one lease. When Redis does not answer, a stream is counted in this process
	// only. nil: PerKey is counted per process.
	Redis redis.UniversalClient
	// SlotPrefix starts the Redis keys of the per-key counts; default DefaultSlotPrefix.
	SlotPrefix string
	// SlotLease is the lease of one stream's member in Redis; default DefaultSlotLease.
	SlotLease time.Duration
}

// Watcher opens live streams over a jobs.Service and a progress.Hub. It is safe for
// concurrent use.
type Watcher struct {
	svc    *jobs.Service
	hub    *progress.Hub
	resync time.Duration
	log    *slog.Logger
	limits *limits
	reads  readCache

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	mu     sync.Mutex // orders wg.Add after Close's Wait
	closed bool
	wg     sync.WaitGroup
}

// New returns a Watcher reading jobs through svc and events from hub. Close it before
// closing the hub (and opts.Redis).
func New(svc *jobs.Service, hub *progress.Hub, opts Options) *Watcher {
	w := &Watcher{svc: svc, hub: hub, resync: opts.Resync, log: opts.Logger}
	if w.resync <= 0 {
		w.resync = DefaultResync
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	w.limits = &limits{perConn: orDefault(opts.PerConnection, DefaultPerConnection),
		perKey: orDefault(opts.PerKey, DefaultPerKey), log: w.log, byKey: map[string]int{}}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	if opts.Redis != nil && w.limits.perKey > 0 {
		prefix, lease := opts.SlotPrefix, opts.SlotLease
		if prefix == "" {
			prefix = DefaultSlotPrefix
		}
		if lease <= 0 {
			lease = DefaultSlotLease
		}
		w.limits.slots = newRedisSlots(opts.Redis, prefix, lease, w.log)
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.limits.slots.run(w.ctx)
		}()
	}
	return w
}

// orDefault is n, or def when n is 0.
func orDefault(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

// Done is closed when Close is called: long-lived connections carrying streams (a
// WebSocket) should end then.
func (w *Watcher) Done() <-chan struct{} { return w.ctx.Done() }

// Close ends every open stream (their channels close without a terminal event), gives
// their slots back and waits for their goroutines. Opening a stream afterwards is an Unavailable error. It is safe to
// call more than once.
func (w *Watcher) Close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	w.cancel()
	w.wg.Wait()
}

// errClosed is what opening a stream on a closed Watcher returns.
var errClosed = apperr.Unavailable("the server is shutting down; reconnect", nil)

// open takes a stream's slots (see Options.PerConnection and PerKey), registers its
// goroutine and returns its context: ctx, also cancelled when the Watcher closes. The
// goroutine must call done when it ends; done gives the slots back. Errors: Unavailable
// once the Watcher is closed, RateLimited over a cap.
func (w *Watcher) open(ctx context.Context) (_ context.Context, done func(), _ error) {
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed {
		return nil, nil, errClosed
	}
	release, err := w.limits.acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		release()
		return nil, nil, errClosed
	}
	w.wg.Add(1)
	w.mu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(w.ctx, cancel)
	return ctx, func() {
		stop()
		cancel()
		release()
		w.wg.Done()
	}, nil
}

// Job streams job id: first its state as stored, then its progress events, ending with
// the first terminal event (completed, failed or cancelled), after which the channel is
// closed. A job that has already finished yields one event. Intermediate events may be
// missing for a slow consumer; events older than the last one sent are dropped, and so are
// exact repeats. Errors (nothing is streamed): Invalid for a malformed id, NotFound,
// Unavailable once the Watcher is closed, RateLimited over a cap.
func (w *Watcher) Job(ctx context.Context, id string) (<-chan *progress.Event, error) {
	return w.JobSince(ctx, id, "")
}

// JobSince is Job for a client that reconnects: lastEventID is the EventID of the last
// event it got ("" or an id that does not parse: none, as Job). Events are notifications
// and are not kept, so what it missed is replaced by the job's current state — the
// stream's first event, as always, which is the truth for progress — except that no event
// the client already has, or an older state of the same status, is sent again: the
// first event is left out when it is not newer than lastEventID, and so is every later
// event until one is. A job that finished and whose final event the client has yields
// ErrUpToDate (nothing is streamed; an SSE stream answers 204 so that the client stops
// reconnecting). Other errors as Job.
func (w *Watcher) JobSince(ctx context.Context, id, lastEventID string) (<-chan *progress.Event, error) {
	seen, resumed := parseEventID(lastEventID)
	ctx, done, err := w.open(ctx)
	if err != nil {
		return nil, err
	}
	// Subscribe first: an event published while the job is read is then queued, not lost.
	evs, unsubscribe := w.hub.Subscribe(ctx, id)
	j, err := w.svc.GetJob(ctx, id)
	if err != nil {
		unsubscribe()
		done()
		return nil, err
	}
	last := jobs.StateEvent(j)
	had := func(ev progress.Event) bool { return resumed && seen.has(ev) }
	if last.Terminal() && had(last) {
		unsubscribe()
		done()
		return nil, ErrUpToDate
	}
	out := make(chan *progress.Event)
	go func() {
		defer done()
		defer close(out)
		defer unsubscribe()
		first := last
		if !had(first) && (!send(ctx, out, &first) || last.Terminal()) {
			return
		}
		tick := time.NewTicker(w.resync)
		defer tick.Stop()
		for {
			var next progress.Event
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-evs:
				if !ok {
					return // the Hub closed
				}
				if ev.At.Before(last.At) || sameEvent(ev, last) || had(ev) {
					continue
				}
				next = ev
			case <-tick.C:
				j, err := w.svc.GetJob(ctx, id)
				if err != nil {
					if ctx.Err() == nil {
						w.log.Warn("Could not re-read a watched job", slog.String("job_id", id), slog.Any("error", err))
					}
					if apperr.KindOf(err) == apperr.KindNotFound {
						return
					}
					continue
				}
				ev := jobs.StateEvent(j)
				// A status the stream has not told is news whatever the clocks say; a
				// progress change only when it is newer than what was sent.
				if (ev.Status == last.Status && (ev.Progress == last.Progress || ev.At.Before(last.At))) || had(ev) {
					continue
				}
				next = ev
			}
			last = next
			if !send(ctx, out, &next) || next.Terminal() {
				return
			}
		}
	}()
	return out, nil
}

// sameEvent reports whether a and b tell the same state (their times aside).
func sameEvent(a, b progress.Event) bool {
	return a.Status == b.Status && a.Progress == b.Progress && a.Message == b.Message
}

// JobUpdates streams, read from the database, every job that matches where (nil: every
// job) whenever its status changes or its data version does (a person corrected or
// approved its data), until ctx ends or the Watcher or the Hub closes. It
// starts with nothing: it tells changes, not the current state. A job is read when an
// event brings a new status and sent when the status read differs from the one last sent
// for it, so statuses passed through faster than a read are skipped, never repeated. A
// consumer too slow to take the updates of hundreds of jobs in a row is cut off (its
// channel closes). Errors: Unavailable, from a closed Watcher; RateLimited over a cap.
//
// What an event costs: the events of jobs that ctx's principal may not see (another
// owner's, as the event's Owner tells) never reach the stream and cost no read; an event
// that does costs one read of its job for every stream with a where, and one read for
// all the streams without a where under the same owner scope (they share it).
func (w *Watcher) JobUpdates(ctx context.Context, where *jobs.JobFilter) (<-chan *ent.OcrInvoiceJob, error) {
	ctx, done, err := w.open(ctx)
	if err != nil {
		return nil, err
	}
	visible := jobs.OwnerFilter(ctx)
	evs, unsubscribe := w.hub.SubscribeFunc(ctx, "", func(ev progress.Event) bool {
		// An event without an owner (an older publisher's) may be the stream's own: the
		// read decides.
		return ev.JobID != "" && (ev.Owner == nil || visible(*ev.Owner))
	})
	out := make(chan *ent.OcrInvoiceJob)
	go func() {
		defer done()
		defer close(out)
		defer unsubscribe()
		// changes filters events (only a status not seen last for the job is worth a
		// read); sent filters reads: in a burst of events the read may already show a
		// later status, which is then sent once, not once per event.
		changes, sent := statusTracker{}, statusTracker{}
		for {
			var ev progress.Event
			select {
			case <-ctx.Done():
				return
			case e, ok := <-evs:
				if !ok {
					return
				}
				ev = e
			}
			if !changes.changed(ev) {
				continue // no news
			}
			var (
				j      *ent.OcrInvoiceJob
				logged bool
				err    error
			)
			if where == nil {
				j, logged, err = w.sharedJob(ctx, ev)
			} else {
				j, err = w.svc.MatchingJob(ctx, ev.JobID, where)
			}
			switch {
			case apperr.KindOf(err) == apperr.KindNotFound:
				continue // not a match
			case err != nil:
				if ctx.Err() == nil && !logged {
					w.log.Warn("Could not read an updated job", slog.String("job_id", ev.JobID), slog.Any("error", err))
				}
				continue
			}
			if !sent.changed(jobs.EventOf(j, "")) {
				continue
			}
			if !send(ctx, out, j) {
				return
			}
		}
	}()
	return out, nil
}

// statusTracker remembers the last status and data version seen per job, to tell a
// status change or a review of the data from a progress event of the same status.
type statusTracker map[string]trackedState

type trackedState struct {
	status  string
	version int
}

// changed records ev and reports whether it carries a status or data version not seen
// last for its job (a job not seen before counts as changed).
func (t statusTracker) changed(ev progress.Event) bool {
	now := trackedState{ev.Status, ev.DataVersion}
	if prev, ok := t[ev.JobID]; ok && prev == now {
		return false
	}
	if len(t) >= maxTracked {
		clear(t)
	}
	t[ev.JobID] = now
	return true
}

// Group streams the status block of group id: first as computed now from its jobs (see
// jobs.Service.GroupStatusFromJobs), then again whenever a job of the group changes
// status and the block changed with it, until ctx ends or the Watcher or the Hub closes.
// Errors (nothing is streamed): Invalid for a malformed id, NotFound, Unavailable once the
// Watcher is closed, RateLimited over a cap.
func (w *Watcher) Group(ctx context.Context, id string) (<-chan *invoice.GroupStatus, error) {
	return w.GroupSince(ctx, id, "")
}

// GroupSince is Group for a client that reconnects: lastEventID is the GroupEventID of
// the last status block it got. The first block (the group's status now) is left out
// when it is the one the client has; every later one is sent as Group sends it.
func (w *Watcher) GroupSince(ctx context.Context, id, lastEventID string) (<-chan *invoice.GroupStatus, error) {
	ctx, done, err := w.open(ctx)
	if err != nil {
		return nil, err
	}
	evs, unsubscribe := w.hub.SubscribeFunc(ctx, "", func(ev progress.Event) bool { return ev.GroupID == id })
	first, err := w.svc.GroupStatusFromJobs(ctx, id)
	if err != nil {
		unsubscribe()
		done()
		return nil, err
	}
	out := make(chan *invoice.GroupStatus)
	go func() {
		defer done()
		defer close(out)
		defer unsubscribe()
		last := first
		if (lastEventID == "" || GroupEventID(&first) != lastEventID) && !send(ctx, out, &first) {
			return
		}
		tick := time.NewTicker(w.resync)
		defer tick.Stop()
		changes := statusTracker{}
		for {
			select {
			case <-ctx.Done():
				return
			case ev, ok := <-evs:
				if !ok {
					return
				}
				// A group event (no JobID) always counts: the group itself changed.
				if ev.GroupID != id || (ev.JobID != "" && !changes.changed(ev)) {
					continue
				}
			case <-tick.C:
			}
			st, err := w.svc.GroupStatusFromJobs(ctx, id)
			if err != nil {
				if ctx.Err() == nil {
					w.log.Warn("Could not compute a watched group's status", slog.String("group_id", id), slog.Any("error", err))
				}
				if apperr.KindOf(err) == apperr.KindNotFound {
					return
				}
				continue
			}
			if sameGroupStatus(st, last) {
				continue
			}
			last = st
			if !send(ctx, out, &st) {
				return
			}
		}
	}()
	return out, nil
}

func sameGroupStatus(a, b invoice.GroupStatus) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errors.Join(errA, errB) == nil && string(ja) == string(jb)
}

// send hands v to out unless ctx ends first.
func send[T any](ctx context.Context, out chan<- T, v T) bool {
	select {
	case out <- v:
		return true
	case <-ctx.Done():
		return false
	}
}
