package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
	"github.com/ocrinvoice/ocrinvoice/internal/live/livetest"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
)

// The contract validator reads an event stream as openapi.json describes it: the array of
// its events ({id, event, data}, comment lines left out), each event's data decoded from
// JSON, so that every progress event is checked against JobEvent and an error event
// against ErrorResponse.
func init() {
	openapi3filter.RegisterBodyDecoder("text/event-stream",
		func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			return decodeEventStream(body)
		})
}

// decodeEventStream reads a text/event-stream body into the array openapi.json describes:
// one object per event with its event name, its data decoded from JSON and its id when it
// has one.
func decodeEventStream(body io.Reader) ([]any, error) {
	events := []any{}
	var bad error
	err := livetest.ReadEvents(body, func(ev livetest.Event) bool {
		data, err := decodeAny(ev.Data)
		if err != nil {
			bad = fmt.Errorf("event %q: data: %w", ev.Event, err)
			return false
		}
		e := map[string]any{"event": ev.Event, "data": data}
		if ev.ID != "" {
			e["id"] = ev.ID
		}
		events = append(events, e)
		return true
	})
	if err == nil {
		err = bad
	}
	return events, err
}

type queueAll struct{}

func (queueAll) EnqueueJob(context.Context, string, string) error    { return nil }
func (queueAll) DeleteJobTask(context.Context, string, string) error { return nil }

// eventsEnv is the REST API with job event streams, over a service publishing its events
// to a private Redis.
type eventsEnv struct {
	*env
	pub *progress.Publisher
	raw http.Handler // without the contract validator, which buffers whole responses
}

// newEventsEnv builds the env; each of opts, given the env's database, returns an option of
// its handler.
func newEventsEnv(t *testing.T, opts ...func(*ent.Client) Option) *eventsEnv {
	t.Helper()
	return newEventsEnvWith(t, live.Options{}, opts...)
}

// newEventsEnvWith is newEventsEnv with a Watcher built with lopts (its Logger quiet).
func newEventsEnvWith(t *testing.T, lopts live.Options, opts ...func(*ent.Client) Option) *eventsEnv {
	t.Helper()
	rs := redistest.Start(t)
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rc.Close() })
	pub := progress.NewPublisher(rc, progress.PublisherOptions{})
	logger := slog.New(slog.DiscardHandler)
	c := databasetest.Open(t)
	svc := jobs.NewService(c, queueAll{}, jobs.Options{Logger: logger, Events: pub})
	if err := svc.EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}
	hub := progress.NewHub(rc, progress.HubOptions{Logger: logger})
	t.Cleanup(func() { _ = hub.Close() })
	<-hub.Ready()
	lopts.Logger = logger
	w := live.New(svc, hub, lopts)
	t.Cleanup(w.Close)
	g, err := svc.GetTemplate(context.Background(), jobs.BuiltinTemplateName)
	if err != nil {
		t.Fatal(err)
	}
	hopts := []Option{WithEvents(w)}
	for _, o := range opts {
		hopts = append(hopts, o(c))
	}
	raw := NewHandler(svc, logger, hopts...)
	e := &env{t: t, c: c, svc: svc, generic: g.ID, logs: &bytes.Buffer{}, clock: &testClock{}}
	e.serve(raw)
	return &eventsEnv{env: e, pub: pub, raw: authenticated(raw, &testAdmin)}
}

// checkEvents validates every event's data against the JobEvent schema and returns the
// decoded events; each id must be live.EventID of its data.
func checkEvents(t *testing.T, body io.Reader) []progress.Event {
	t.Helper()
	doc, _ := loadSpec(t)
	schema := doc.Components.Schemas["JobEvent"].Value
	var out []progress.Event
	err := livetest.ReadEvents(body, func(ev livetest.Event) bool {
		v, err := decodeAny(ev.Data)
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.VisitJSON(v, schemaOpts...); err != nil {
			t.Errorf("event data %s does not match JobEvent: %v", ev.Data, err)
		}
		var pe progress.Event
		if err := json.Unmarshal(ev.Data, &pe); err != nil {
			t.Fatal(err)
		}
		if ev.Event != "progress" || ev.ID != live.EventID(&pe) {
			t.Errorf("event %q id %q, want progress with id %q", ev.Event, ev.ID, live.EventID(&pe))
		}
		out = append(out, pe)
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestJobEventStream(t *testing.T) {
	e := newEventsEnv(t)
	ctx := context.Background()
	id := e.do("POST", "/api/v1/ocr-invoice-jobs", e.jobBodyFor("EV-1", nil)).must(t, http.StatusCreated).data()["_id"].(string)

	t.Run("live, from the current state to the terminal event", func(t *testing.T) {
		srv := httptest.NewServer(e.raw)
		defer srv.Close()
		resp, err := http.Get(srv.URL + "/api/v1/ocr-invoice-jobs/" + id + "/events")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
			t.Fatalf("status %d, content type %q", resp.StatusCode, ct)
		}
		// Once the first event is read the stream follows the job.
		br := &lineReader{r: resp.Body}
		first := checkEvents(t, br.untilBlank())
		if len(first) != 1 || first[0].Status != "queued" {
			t.Fatalf("first events %+v, want the current state", first)
		}
		j, err := e.svc.StartProcessing(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		_ = e.pub.Publish(ctx, jobs.EventOf(j, ""))
		p := invoice.Progress{Percentage: 50, CurrentStep: "read", TotalSteps: 6}
		_ = e.svc.SetProgress(ctx, id, p)
		_ = e.pub.Publish(ctx, progress.Event{JobID: id, Status: "processing", Progress: p})
		j, err = e.svc.Complete(ctx, id, jobs.CompleteInput{Pages: 1})
		if err != nil {
			t.Fatal(err)
		}
		_ = e.pub.Publish(ctx, jobs.EventOf(j, ""))
		rest := checkEvents(t, bytes.NewReader(br.rest()))
		var got []string
		for _, ev := range append(first, rest...) {
			got = append(got, ev.Status+":"+strconv.Itoa(ev.Progress.Percentage))
		}
		if s := strings.Join(got, " "); s != "queued:0 processing:0 processing:50 completed:100" {
			t.Fatalf("events %q", s)
		}
	})

	t.Run("a finished job: one event, validated by the contract", func(t *testing.T) {
		r := e.do("GET", "/api/v1/ocr-invoice-jobs/"+id+"/events", nil).must(t, http.StatusOK)
		evs := checkEvents(t, bytes.NewReader(r.raw))
		if len(evs) != 1 || evs[0].Status != "completed" || evs[0].JobID != id {
			t.Fatalf("events %+v, want one completed", evs)
		}
	})

	t.Run("errors", func(t *testing.T) {
		if r := e.do("GET", "/api/v1/ocr-invoice-jobs/nope/events", nil).must(t, http.StatusBadRequest); r.errCode() != "INVALID" {
			t.Errorf("bad id: code %s", r.errCode())
		}
		e.do("GET", "/api/v1/ocr-invoice-jobs/0123456789abcdef01234567/events", nil).must(t, http.StatusNotFound)
		noEvents := &env{t: t}
		noEvents.serve(NewHandler(e.svc, slog.New(slog.DiscardHandler)))
		noEvents.do("GET", "/api/v1/ocr-invoice-jobs/"+id+"/events", nil).must(t, http.StatusServiceUnavailable)
	})
}

// lineReader reads an event stream incrementally.
type lineReader struct {
	r   io.Reader
	buf []byte
}

// untilBlank returns the stream up to and including the first empty line (the end of
// the first event), skipping comment-only blocks.
func (l *lineReader) untilBlank() io.Reader {
	tmp := make([]byte, 4096)
	for {
		if i := bytes.Index(l.buf, []byte("\n\n")); i >= 0 {
			block := l.buf[:i+2]
			l.buf = l.buf[i+2:]
			if bytes.HasPrefix(bytes.TrimSpace(block), []byte(":")) {
				continue
			}
			return bytes.NewReader(block)
		}
		n, err := l.r.Read(tmp)
		l.buf = append(l.buf, tmp[:n]...)
		if err != nil {
			return bytes.NewReader(l.buf)
		}
	}
}

// rest returns what is left of the stream, until it ends.
func (l *lineReader) rest() []byte {
	b, _ := io.ReadAll(l.r)
	return append(l.buf, b...)
}

// TestJobEventStreamResumes: a client that reconnects with Last-Event-ID gets what it
// missed as the job's current state, never an event it already had; once it has the
// final event it is answered 204 (EventSource stops reconnecting); an id the server did
// not make resumes nothing.
func TestJobEventStreamResumes(t *testing.T) {
	e := newEventsEnv(t)
	ctx := context.Background()
	id := e.do("POST", "/api/v1/ocr-invoice-jobs", e.jobBodyFor("EV-R", nil)).must(t, http.StatusCreated).data()["_id"].(string)
	srv := httptest.NewServer(e.raw)
	defer srv.Close()
	open := func(last string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/ocr-invoice-jobs/"+id+"/events", nil)
		if last != "" {
			req.Header.Set("Last-Event-ID", last)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	// first reads the first event of a stream and leaves the stream (the client drops).
	first := func(last string) progress.Event {
		t.Helper()
		resp := open(last)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		evs := checkEvents(t, (&lineReader{r: resp.Body}).untilBlank())
		resp.Body.Close()
		if len(evs) != 1 {
			t.Fatalf("events %+v", evs)
		}
		return evs[0]
	}

	queued := first("")
	if queued.Status != "queued" {
		t.Fatalf("first event %+v", queued)
	}
	// While the client is away the job starts and reaches 50 %.
	j, err := e.svc.StartProcessing(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	_ = e.pub.Publish(ctx, jobs.EventOf(j, ""))
	p := invoice.Progress{Percentage: 50, CurrentStep: "read", TotalSteps: 6}
	if err := e.svc.SetProgress(ctx, id, p); err != nil {
		t.Fatal(err)
	}
	missed := first(live.EventID(&queued))
	if missed.Status != "processing" || missed.Progress.Percentage != 50 {
		t.Fatalf("after reconnecting: %+v, want the current state processing 50 %%", missed)
	}

	// Reconnecting with the current state's id: nothing is repeated; the next change
	// comes, then the stream ends.
	resp := open(live.EventID(&missed))
	br := &lineReader{r: resp.Body}
	j, err = e.svc.Complete(ctx, id, jobs.CompleteInput{Pages: 1})
	if err != nil {
		t.Fatal(err)
	}
	_ = e.pub.Publish(ctx, jobs.EventOf(j, ""))
	rest := checkEvents(t, bytes.NewReader(br.rest()))
	if len(rest) != 1 || rest[0].Status != "completed" {
		t.Fatalf("events after resuming at the current state: %+v, want only completed", rest)
	}

	// The client has the final event: 204, no stream.
	if resp := open(live.EventID(&rest[0])); resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("resuming after the final event: %d %s, want 204", resp.StatusCode, b)
	}
	// An id from an earlier run of the job, or one the server never made: the state.
	for _, last := range []string{live.EventID(&missed), "42", "abc-completed", "-1-completed"} {
		if ev := first(last); ev.Status != "completed" {
			t.Errorf("Last-Event-ID %q: %+v, want the completed state", last, ev)
		}
	}
}
