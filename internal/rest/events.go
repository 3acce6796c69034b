package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/reqid"
)

// EventsKeepAlive is how often GET /api/v1/ocr-invoice-jobs/{id}/events writes a comment
// line while no event comes, so that proxies and clients keep an idle stream open.
const EventsKeepAlive = 15 * time.Second

// WithEvents enables GET /api/v1/ocr-invoice-jobs/{id}/events over w. Without it the
// route answers 503.
func WithEvents(w *live.Watcher) Option {
	return func(a *api) { a.live = w }
}

// WithAuthenticator makes GET /api/v1/ocr-invoice-jobs/{id}/events notice that the API
// key it was opened with is revoked: a stream whose request presents the key of its
// principal re-authenticates that key with a (the authenticator) before writing each event after the first
// (apikeys.Store answers from its cache, which Revoke clears at once in the revoking
// process and which expires within apikeys.CacheTTL elsewhere). A key that no longer
// authenticates replaces the event with an error event (UNAUTHENTICATED, "the API key was
// revoked") and ends the stream; a check that fails otherwise (the key store does not
// answer) lets the stream go on, logged at debug, so that an outage of the database does
// not cut every stream. nil (the default) means no re-check.
func WithAuthenticator(a auth.Authenticator) Option {
	return func(x *api) { x.authn = a }
}

// msgKeyRevoked is the message of the error event that ends a stream whose key was revoked.
const msgKeyRevoked = "the API key was revoked"

// streamKey returns the API key that the event stream of r re-checks, or "" when there is
// none: no authenticator, or a request whose key is not its principal's.
func (a *api) streamKey(r *http.Request) string {
	if a.authn == nil {
		return ""
	}
	p, ok := auth.FromContext(r.Context())
	if !ok || p.KeyID == "" {
		return ""
	}
	key := auth.TokenFromRequest(r)
	if id, _, err := auth.ParseKey(key); err != nil || id != p.KeyID {
		return ""
	}
	return key
}

// keyRevoked re-authenticates key and reports whether it is revoked: it no longer
// authenticates, or it authenticates as another key than the principal's (which cannot
// happen with apikeys.Store). Any other failure counts as not revoked.
func (a *api) keyRevoked(r *http.Request, key string) bool {
	ctx := r.Context()
	cur, _ := auth.FromContext(ctx)
	p, err := a.authn.Authenticate(ctx, key)
	switch {
	case err == nil:
		return p.KeyID != cur.KeyID
	case apperr.KindOf(err) == apperr.KindUnauthenticated:
		return true
	default:
		a.log.DebugContext(ctx, "Could not check the API key of a job event stream; it goes on",
			slog.String("key_id", cur.KeyID), slog.String("request_id", reqid.From(ctx)), slog.Any("error", err))
		return false
	}
}

// jobEvents streams the job's progress as Server-Sent Events (text/event-stream): first
// its current state, then every change, the last one terminal (completed, failed or
// cancelled), after which the stream ends. Each event is
//
//	id: <id>           live.EventID: "<at in Unix microseconds>-<status>"
//	event: progress
//	data: {"jobId": ..., "status": ..., "progress": {...}, "message": ..., "at": ...}
//
// and a comment line (": keep-alive") is written every EventsKeepAlive while nothing
// happens. A client that reconnects with the header Last-Event-ID (what EventSource
// does) resumes after that event (live.Watcher.JobSince): it gets the job's current
// state if it is newer than what it had, then the changes, never an event it already
// had; when the job has finished and the client has its final event, the answer is 204
// No Content, which tells EventSource to stop reconnecting. With WithAuthenticator, a
// stream whose API key is revoked ends with one
//
//	event: error
//	data: {"success": false, "error": {"code": "UNAUTHENTICATED", "message": "the API key was revoked", ...}}
//
// (the data is the REST error envelope) in place of its next event. The stream is exempt
// from the server's read and write timeouts. Errors, before
// the stream starts, are the usual JSON envelope: 400 for a malformed id, 404 for an
// unknown job, 429 when the API key holds as many live streams as the Watcher allows it
// (live.Options.PerKey, shared with its GraphQL subscriptions), 503 when events are not
// available.
func (a *api) jobEvents(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if a.live == nil {
		return apperr.Unavailable("job events are not available on this server", nil)
	}
	evs, err := a.live.JobSince(r.Context(), id, r.Header.Get("Last-Event-ID"))
	if errors.Is(err, live.ErrUpToDate) {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if err != nil {
		return err
	}
	a.streamEvents(w, r, id, evs)
	return nil
}

// streamEvents answers 200 with the event stream: one frame per event of evs until the
// last one, a keep-alive comment while none comes. It returns when evs ends, the client
// goes away or the stream's API key is revoked.
func (a *api) streamEvents(w http.ResponseWriter, r *http.Request, id string, evs <-chan *progress.Event) {
	rc := startEventStream(w)
	key := a.streamKey(r)
	keepAlive := time.NewTicker(EventsKeepAlive)
	defer keepAlive.Stop()
	for n := 1; ; {
		select {
		case ev, ok := <-evs:
			if !ok {
				return // the last event was terminal, or the server is shutting down
			}
			revoked := n > 1 && key != "" && a.keyRevoked(r, key)
			frame, err := eventFrame(r, ev, revoked)
			if err != nil {
				a.log.ErrorContext(r.Context(), "Encode job event", slog.Any("error", err))
				return
			}
			n++
			if _, err := w.Write(frame); err != nil {
				return // the client went away; the watcher ends with the request's context
			}
			if revoked {
				_ = rc.Flush()
				a.log.DebugContext(r.Context(), "Job event stream ended: its API key was revoked",
					slog.String("job_id", id), slog.String("request_id", reqid.From(r.Context())))
				return // the watcher ends with the request's context
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

// startEventStream lifts the server's deadlines for this request alone (the stream lives
// as long as the job runs), writes the stream's 200 and headers and flushes them.
func startEventStream(w http.ResponseWriter) *http.ResponseController {
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
	return rc
}

// eventFrame is the stream frame of ev: a progress event with its id or, when the key
// was revoked, the error event (the REST error envelope of UNAUTHENTICATED) in its place.
// The error event has no id: a client that reconnects resumes after the last progress
// event it got.
func eventFrame(r *http.Request, ev *progress.Event, revoked bool) ([]byte, error) {
	var buf bytes.Buffer
	if revoked {
		data, err := json.Marshal(apperr.PublicOf(apperr.Unauthenticated(msgKeyRevoked)).Envelope(reqid.From(r.Context())))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&buf, "event: error\ndata: %s\n\n", data)
		return buf.Bytes(), nil
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(&buf, "id: %s\nevent: progress\ndata: %s\n\n", live.EventID(ev), data)
	return buf.Bytes(), nil
}
