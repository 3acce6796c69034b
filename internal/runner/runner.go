package runner

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
)

// Reconciler converges one object, named by id (see GroupReconciler).
type Reconciler interface {
	Reconcile(ctx context.Context, id string) (Result, error)
}

// EventSource gives the runner its event triggers; *progress.Hub implements it.
type EventSource interface {
	Subscribe(ctx context.Context, jobID string) (<-chan progress.Event, func())
}

// Runner drives a group reconciler: a periodic resync of every group that is not
// finished (or finished with a TTL to enforce), followed by the unused-upload sweep
// (Uploads) and the document retention (Retention), plus event triggers — every job event that names a group, and the group
// events the API publishes after suspend, resume, cancel, retry-failed and create. Triggers go through a work queue that coalesces: a
// group is never reconciled twice at once, a trigger during its reconcile runs it once
// more afterwards, and many triggers while it waits count as one. A failed reconcile is
// retried with a backoff from 1 s doubling to the resync interval. Zero fields take the
// defaults in brackets.
type Runner struct {
	Reconciler Reconciler
	Jobs       *jobs.Service // lists the groups to resync
	Events     EventSource   // nil: resync only
	// Resync is the interval of the full pass [30 s].
	Resync time.Duration
	// Workers is how many groups are reconciled at once [2].
	Workers int
	Logger  *slog.Logger
	// OnReconcile, when set, is told about every reconcile (for metrics).
	OnReconcile func(id string, took time.Duration, err error)
	// OnResync, when set, is given the groups (id, spec and status only) each periodic
	// resync listed, before they are queued (for metrics). It must not keep them.
	OnResync func(ctx context.Context, groups []*ent.OcrJobGroup)
	// Uploads, when set, sweeps unused uploads after every periodic resync.
	Uploads *UploadJanitor
	// Retention, when set, deletes documents past retention after every periodic resync.
	Retention *DocumentRetention

	q     *workQueue
	queue atomic.Pointer[workQueue] // q, for Trigger
}

func (r *Runner) defaults() {
	if r.Resync <= 0 {
		r.Resync = 30 * time.Second
	}
	if r.Workers <= 0 {
		r.Workers = 2
	}
	if r.Logger == nil {
		r.Logger = slog.Default()
	}
}

// Run reconciles until ctx ends, then waits for the reconciles in progress.
func (r *Runner) Run(ctx context.Context) {
	r.defaults()
	r.q = newWorkQueue()
	r.queue.Store(r.q)
	defer r.queue.Store(nil)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if r.Events != nil {
		evs, unsubscribe := r.Events.Subscribe(ctx, "")
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer unsubscribe()
			for {
				select {
				case <-ctx.Done():
					return
				case ev, ok := <-evs:
					if !ok {
						return
					}
					if ev.GroupID != "" {
						r.q.add(ev.GroupID)
					}
				}
			}
		}()
	}
	for range r.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(r.Resync)
		defer t.Stop()
		for {
			r.resync(ctx)
			if r.Uploads != nil {
				if _, err := r.Uploads.Sweep(ctx); err != nil && ctx.Err() == nil {
					r.Logger.Warn("Unused-upload sweep incomplete; trying again later", slog.Any("error", err))
				}
			}
			if r.Retention != nil {
				if _, err := r.Retention.Sweep(ctx); err != nil && ctx.Err() == nil {
					r.Logger.Warn("Document retention sweep incomplete; trying again later", slog.Any("error", err))
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	<-ctx.Done()
	r.q.shutdown()
	wg.Wait()
}

// resync queues every group that is not finished, or finished with a TTL.
func (r *Runner) resync(ctx context.Context) {
	gs, err := r.Jobs.GroupStates(ctx)
	if err != nil {
		if ctx.Err() == nil {
			r.Logger.Warn("Group resync failed; trying again later", slog.Any("error", err))
		}
		return
	}
	if r.OnResync != nil {
		r.OnResync(ctx, gs)
	}
	for _, g := range gs {
		finished := g.Status.Phase == invoice.GroupPhaseComplete || g.Status.Phase == invoice.GroupPhaseFailed
		if !finished || g.Spec.TTLSecondsAfterFinished != nil {
			r.q.add(g.ID)
		}
	}
}

func (r *Runner) work(ctx context.Context) {
	backoff := map[string]time.Duration{}
	for {
		id, ok := r.q.get()
		if !ok {
			return
		}
		start := time.Now()
		res, err := r.Reconciler.Reconcile(ctx, id)
		took := time.Since(start)
		if r.OnReconcile != nil {
			r.OnReconcile(id, took, err)
		}
		r.q.done(id)
		switch {
		case err != nil && ctx.Err() == nil:
			d := min(max(backoff[id]*2, time.Second), r.Resync)
			backoff[id] = d
			r.Logger.Warn("Group reconcile failed; retrying", slog.String("group_id", id), slog.Duration("after", d), slog.Any("error", err))
			r.q.addAfter(id, d)
		case err == nil:
			delete(backoff, id)
			if res.RequeueAfter > 0 {
				r.q.addAfter(id, res.RequeueAfter)
			}
		}
	}
}

// Trigger asks for group id to be reconciled soon (coalesced with other triggers). It
// does nothing unless Run is running.
func (r *Runner) Trigger(id string) {
	if q := r.queue.Load(); q != nil {
		q.add(id)
	}
}

// workQueue is a coalescing queue of ids, in the manner of client-go's workqueue: an id
// is in the queue at most once; an id being processed is not handed out again until
// done, and an add meanwhile makes it come back once after done.
type workQueue struct {
	mu         sync.Mutex
	cond       *sync.Cond
	order      []string
	dirty      map[string]bool // waiting in order, or to be re-added after done
	processing map[string]bool
	timers     map[string]*time.Timer
	closed     bool
}

func newWorkQueue() *workQueue {
	q := &workQueue{dirty: map[string]bool{}, processing: map[string]bool{}, timers: map[string]*time.Timer{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

func (q *workQueue) add(id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || q.dirty[id] {
		return
	}
	q.dirty[id] = true
	if q.processing[id] {
		return // done puts it back
	}
	q.order = append(q.order, id)
	q.cond.Signal()
}

// addAfter adds id after d; of several delays pending for one id, the earliest wins.
func (q *workQueue) addAfter(id string, d time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	if t, ok := q.timers[id]; ok {
		t.Stop()
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		q.mu.Lock()
		if q.timers[id] == t {
			delete(q.timers, id)
		}
		q.mu.Unlock()
		q.add(id)
	})
	q.timers[id] = t
}

// get waits for an id; ok is false once the queue is shut down.
func (q *workQueue) get() (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.order) == 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed {
		return "", false
	}
	id := q.order[0]
	q.order = q.order[1:]
	delete(q.dirty, id)
	q.processing[id] = true
	return id, true
}

func (q *workQueue) done(id string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, id)
	if q.dirty[id] && !q.closed {
		q.order = append(q.order, id)
		q.cond.Signal()
	}
}

func (q *workQueue) shutdown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	for _, t := range q.timers {
		t.Stop()
	}
	q.cond.Broadcast()
}
