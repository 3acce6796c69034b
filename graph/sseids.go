package graph

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
)

// GraphQL over SSE (gqlgen's transport, one operation per request) writes each result as
// "event: next\ndata: ...\n\n" and knows nothing of event ids. sseEventIDs gives the
// events of ocrInvoiceJobProgress their live.EventID (and those of ocrJobGroupProgress
// their live.GroupEventID) as an `id:` line, and hands the request's Last-Event-ID to
// the resolver, so that a client that reconnects resumes after the last event it got
// (live.Watcher.JobSince, GroupSince), as on the REST event stream.
// ocrInvoiceJobUpdated tells changes only, from the moment it is opened, and keeps no
// history to resume from: its events have no id.
//
// The resolver queues the id of each event as it passes the event on; gqlgen turns the
// events of a subscription into results one at a time, in order, so the n-th "next"
// written is the n-th event queued. Results without a queued id (other subscriptions)
// are written without one.

// sseIDsKey is the context key of a GraphQL SSE request's *sseIDs.
type sseIDsKey struct{}

// sseIDs carries the ids of one GraphQL SSE request's events.
type sseIDs struct {
	last string // the request's Last-Event-ID

	mu    sync.Mutex
	queue []string
}

func (s *sseIDs) push(id string) {
	s.mu.Lock()
	s.queue = append(s.queue, id)
	s.mu.Unlock()
}

func (s *sseIDs) pop() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return ""
	}
	id := s.queue[0]
	s.queue = s.queue[1:]
	return id
}

// sseEventIDs serves GraphQL SSE requests with event ids (see above); others pass as
// they are.
func sseEventIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isSSE(r) {
			next.ServeHTTP(w, r)
			return
		}
		ids := &sseIDs{last: r.Header.Get("Last-Event-ID")}
		next.ServeHTTP(&sseIDWriter{ResponseWriter: w, ids: ids}, r.WithContext(context.WithValue(r.Context(), sseIDsKey{}, ids)))
	})
}

// sseIDWriter prefixes each "next" event with the id queued for it.
type sseIDWriter struct {
	http.ResponseWriter
	ids *sseIDs
}

var sseNext = []byte("event: next\n")

func (w *sseIDWriter) Write(p []byte) (int, error) {
	if !bytes.HasPrefix(p, sseNext) {
		return w.ResponseWriter.Write(p)
	}
	id := w.ids.pop()
	if id == "" {
		return w.ResponseWriter.Write(p)
	}
	// One write per event, as the transport makes it.
	buf := make([]byte, 0, len("id: \n")+len(id)+len(p))
	buf = append(append(append(append(buf, "id: "...), id...), '\n'), p...)
	if _, err := w.ResponseWriter.Write(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush is what gqlgen's SSE transport requires of its writer.
func (w *sseIDWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *sseIDWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// jobProgress opens the stream of ocrInvoiceJobProgress: over SSE it resumes after the
// request's Last-Event-ID and queues each event's id for sseIDWriter; a client that has
// the final event of a finished job gets a stream that completes at once.
func jobProgress(ctx context.Context, w *live.Watcher, id string) (<-chan *progress.Event, error) {
	ids, _ := ctx.Value(sseIDsKey{}).(*sseIDs)
	if ids == nil {
		return w.Job(ctx, id)
	}
	evs, err := w.JobSince(ctx, id, ids.last)
	if errors.Is(err, live.ErrUpToDate) {
		done := make(chan *progress.Event)
		close(done)
		return done, nil
	}
	if err != nil {
		return nil, err
	}
	return withIDs(ctx, ids, evs, live.EventID), nil
}

// groupProgress opens the stream of ocrJobGroupProgress: over SSE it leaves out the
// status block the client has (Last-Event-ID) and queues each block's id.
func groupProgress(ctx context.Context, w *live.Watcher, id string) (<-chan *invoice.GroupStatus, error) {
	ids, _ := ctx.Value(sseIDsKey{}).(*sseIDs)
	if ids == nil {
		return w.Group(ctx, id)
	}
	evs, err := w.GroupSince(ctx, id, ids.last)
	if err != nil {
		return nil, err
	}
	return withIDs(ctx, ids, evs, live.GroupEventID), nil
}

// withIDs passes the values of evs on, queueing the id of each for sseIDWriter just
// before it goes.
func withIDs[T any](ctx context.Context, ids *sseIDs, evs <-chan T, idOf func(T) string) <-chan T {
	out := make(chan T)
	go func() {
		defer close(out)
		for ev := range evs {
			ids.push(idOf(ev))
			select {
			case out <- ev:
			case <-ctx.Done():
				// evs ends with ctx too (the Watcher's goroutine selects on it).
				for range evs {
				}
				return
			}
		}
	}()
	return out
}
