package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
)

// EventsKeepAlive is how often GET /api/v1/ocr-invoice-jobs/{id}/events writes a comment
// line while no event comes, so that proxies and clients keep an idle stream open.
const EventsKeepAlive = 15 * time.Second

// WithEvents enables GET /api/v1/ocr-invoice-jobs/{id}/events over w. Without it the
// route answers 503.
func WithEvents(w *live.Watcher) Option {
	return func(a *api) { a.live = w }
}

// jobEvents streams the job's progress as Server-Sent Events (text/event-stream): first
// its current state, then every change, the last one terminal (completed, failed or
// cancelled), after which the stream ends. Each event is
//
//	id: <n>            1 for the first event of the stream, then 2, 3, ...
//	event: progress
//	data: {"jobId": ..., "status": ..., "progress": {...}, "message": ..., "at": ...}
//
// and a comment line (": keep-alive") is written every EventsKeepAlive while nothing
// happens. The stream is exempt from the server's read and write timeouts. Errors, before
// the stream starts, are the usual JSON envelope: 400 for a malformed id, 404 for an
// unknown job, 503 when events are not available.
func (a *api) jobEvents(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	if a.live == nil {
		writeError(w, r, a.log, apperr.Unavailable("job events are not available on this server", nil))
		return
	}
	evs, err := a.live.Job(r.Context(), id)
	if err != nil {
		writeError(w, r, a.log, err)
		return
	}
	// The stream lives as long as the job runs: lift the server's deadlines for it alone.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()

	keepAlive := time.NewTicker(EventsKeepAlive)
	defer keepAlive.Stop()
	var buf bytes.Buffer
	for n := 1; ; {
		select {
		case ev, ok := <-evs:
			if !ok {
				return // the last event was terminal, or the server is shutting down
			}
			data, err := json.Marshal(ev)
			if err != nil {
				a.log.ErrorContext(r.Context(), "Encode job event", slog.Any("error", err))
				return
			}
			buf.Reset()
			fmt.Fprintf(&buf, "id: %d\nevent: progress\ndata: %s\n\n", n, data)
			n++
			if _, err := w.Write(buf.Bytes()); err != nil {
				return // the client went away; the watcher ends with the request's context
			}
			keepAlive.Reset(EventsKeepAlive)
		case <-keepAlive.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
