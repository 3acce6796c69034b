package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/progress"
)

// FollowAttempts is how many times Follow opens a job's event stream before it gives up
// on a stream that keeps breaking off.
const FollowAttempts = 5

// Event is one event of a job's event stream, and the JSON it was decoded from.
type Event struct {
	progress.Event
	ID  string          `json:"-"` // the stream's event id, what Last-Event-ID resumes after
	Raw json.RawMessage `json:"-"`
}

// Terminal reports whether the event ends its job: completed, failed or cancelled.
func (e Event) Terminal() bool {
	return e.Status == "completed" || e.Status == "failed" || e.Status == "cancelled"
}

// Wait follows the job until it ends (Follow) and returns it as it ended; its Status
// says whether it completed, failed or was cancelled, ErrorLog why it failed.
func (c *Client) Wait(ctx context.Context, id string) (*Job, error) {
	if _, err := c.Follow(ctx, id, nil); err != nil {
		return nil, err
	}
	return c.GetJob(ctx, id)
}

// Follow reads the job's event stream (GET /api/v1/ocr-invoice-jobs/{id}/events), calls
// fn (when set) with each event, and returns the first terminal event. The stream's
// first event is the job's current state, so a finished job answers at once. A stream
// that breaks off before the job ends (the server restarted, the network hiccuped) is
// opened again, after 1, 2, 3... seconds, up to FollowAttempts times in all: nothing is
// missed but intermediate progress. An error answer of the API (an unknown job, a key
// that is refused or revoked while the stream runs) ends Follow at once with its *Error;
// so does the end of ctx.
func (c *Client) Follow(ctx context.Context, id string, fn func(Event)) (Event, error) {
	if fn == nil {
		fn = func(Event) {}
	}
	var lastErr error
	for attempt := range FollowAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return Event{}, fmt.Errorf("follow job %s: %w", id, ctx.Err())
			case <-time.After(time.Duration(attempt) * time.Second):
			}
		}
		ev, done, err := c.stream(ctx, id, fn)
		if done {
			return ev, nil
		}
		var ae *Error
		if errors.As(err, &ae) || ctx.Err() != nil {
			return Event{}, err
		}
		lastErr = err
	}
	return Event{}, fmt.Errorf("follow job %s: gave up after %d attempts: %w", id, FollowAttempts, lastErr)
}

// stream reads one connection of the event stream; done is true when it ended with a
// terminal event, which it returns.
func (c *Client) stream(ctx context.Context, id string, fn func(Event)) (last Event, done bool, err error) {
	p := jobsPath + "/" + url.PathEscape(id) + "/events"
	req, err := c.newRequest(ctx, http.MethodGet, p, nil)
	if err != nil {
		return Event{}, false, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return Event{}, false, fmt.Errorf("GET %s: %w", p, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// An error answer is the JSON envelope.
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		var env envelope
		_ = json.Unmarshal(b, &env)
		return Event{}, false, newError(req, resp, env.Error)
	}
	return readEvents(req, resp.Body, fn)
}

// readEvents reads Server-Sent Events from body, calling fn with each progress event,
// until a terminal one (done), an error event (an *Error with Status 0), or the end of
// the stream (an error: it ended before the job did).
func readEvents(req *http.Request, body io.Reader, fn func(Event)) (last Event, done bool, err error) {
	p := req.URL.Path
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var data []byte
	var kind, evID string
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0: // end of an event
			if data == nil {
				continue
			}
			ev, err := decodeEvent(req, kind, evID, data)
			if err != nil {
				return Event{}, false, err
			}
			data, kind, evID = nil, "", ""
			fn(ev)
			if ev.Terminal() {
				return ev, true, nil
			}
		case bytes.HasPrefix(line, []byte("data:")):
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, fieldValue(line, "data:")...)
		case bytes.HasPrefix(line, []byte("event:")):
			kind = string(fieldValue(line, "event:"))
		case bytes.HasPrefix(line, []byte("id:")):
			evID = string(fieldValue(line, "id:"))
		}
		// ": comment" lines (keep-alives) need nothing.
	}
	if err := sc.Err(); err != nil {
		return Event{}, false, fmt.Errorf("GET %s: %w", p, err)
	}
	return Event{}, false, fmt.Errorf("GET %s: the stream ended before the job did", p)
}

// fieldValue is the value of an event stream line "name: value" (one space after the
// colon is dropped, as the format says).
func fieldValue(line []byte, name string) []byte {
	return bytes.TrimPrefix(bytes.TrimPrefix(line, []byte(name)), []byte(" "))
}

// decodeEvent decodes the data of one event of the stream: a progress event, or with
// kind "error" the error envelope that ends the stream, returned as an *Error.
func decodeEvent(req *http.Request, kind, id string, data []byte) (Event, error) {
	if kind == "error" {
		var env envelope
		if err := json.Unmarshal(data, &env); err != nil {
			return Event{}, fmt.Errorf("GET %s: bad error event %q: %w", req.URL.Path, data, err)
		}
		eb := env.Error
		return Event{}, &Error{Method: req.Method, Path: req.URL.Path, Code: eb.Code, Message: eb.Message,
			Details: eb.Details, RequestID: eb.RequestID}
	}
	ev := Event{ID: id, Raw: data}
	if err := json.Unmarshal(data, &ev.Event); err != nil {
		return Event{}, fmt.Errorf("GET %s: bad event %q: %w", req.URL.Path, data, err)
	}
	return ev, nil
}
