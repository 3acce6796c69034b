package live

import (
	"context"
	"sync"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
)

// sharedReadTimeout bounds one shared read: it runs on behalf of every stream waiting for
// it, so no single stream's context may cut it short.
const sharedReadTimeout = 10 * time.Second

// maxSharedReads bounds how many recent reads the Watcher remembers for streams that
// have yet to handle their event; past it the oldest is forgotten (a stream that still
// needs it reads again).
const maxSharedReads = 1024

// readKey names one read of a job that JobUpdates streams without a where share: the same
// event, read under the same owner scope (the only thing in a stream's context that
// changes what a read of one job returns, see jobs.OwnerFilter).
type readKey struct {
	jobID, status, message string
	at                     int64
	owner                  string
	scoped                 bool
}

// sharedRead is one read in flight or done: job and err are set before done is closed.
type sharedRead struct {
	done chan struct{}
	job  *ent.OcrInvoiceJob
	err  error
}

// readCache remembers the last maxSharedReads reads.
type readCache struct {
	mu   sync.Mutex
	m    map[readKey]*sharedRead
	ring [maxSharedReads]readKey
	used int // entries of ring in use
	next int // oldest entry once ring is full
}

// get returns the read of k, and whether the caller is the first to ask, in which case it
// must do the read and close done.
func (c *readCache) get(k readKey) (r *sharedRead, first bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.m[k]; r != nil {
		return r, false
	}
	if c.m == nil {
		c.m = map[readKey]*sharedRead{}
	}
	if c.used == len(c.ring) {
		delete(c.m, c.ring[c.next])
	} else {
		c.used++
	}
	c.ring[c.next] = k
	c.next = (c.next + 1) % len(c.ring)
	r = &sharedRead{done: make(chan struct{})}
	c.m[k] = r
	return r, true
}

// forget drops r, a failed read, so that the next stream to ask reads again.
func (c *readCache) forget(k readKey, r *sharedRead) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[k] == r {
		delete(c.m, k)
	}
}

// sharedJob reads the job of ev as ctx's principal may see it, once for every stream
// under the same owner scope that handles the same event: the first stream reads, the
// others wait for its row (each gets its own copy). A job its scope cannot see is
// NotFound. The read is not older than the event, since it starts after the event
// arrived. The error of a failed read is logged once, by the stream that read; logged
// tells the others not to log it again.
func (w *Watcher) sharedJob(ctx context.Context, ev progress.Event) (j *ent.OcrInvoiceJob, logged bool, err error) {
	owner, scoped := auth.ScopeOf(ctx)
	k := readKey{jobID: ev.JobID, status: ev.Status, message: ev.Message, at: ev.At.UnixNano(), owner: owner, scoped: scoped}
	r, first := w.reads.get(k)
	if first {
		// The principal stays (the owner scope applies to the read); the cancellation of
		// this one stream does not, that of the Watcher does.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedReadTimeout)
		stop := context.AfterFunc(w.ctx, cancel)
		r.job, r.err = w.svc.GetJob(rctx, ev.JobID)
		stop()
		cancel()
		if r.err != nil && apperr.KindOf(r.err) != apperr.KindNotFound {
			w.reads.forget(k, r)
		}
		close(r.done)
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return nil, true, ctx.Err()
	}
	if r.err != nil {
		return nil, !first, r.err
	}
	cp := *r.job
	return &cp, false, nil
}
