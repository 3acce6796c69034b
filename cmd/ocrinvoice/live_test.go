package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/live/livetest"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// gatedDocs serves a text-layer invoice on loopback, holding every request until open
// is called: a job stays "processing" in its fetch step for as long as a test needs.
type gatedDocs struct {
	*httptest.Server
	held chan struct{} // receives once per request that arrived
	gate chan struct{}
	once sync.Once
}

func newGatedDocs(t *testing.T) *gatedDocs {
	t.Helper()
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	d := &gatedDocs{held: make(chan struct{}, 16), gate: make(chan struct{})}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.held <- struct{}{}
		select {
		case <-d.gate:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write(pdf)
	}))
	t.Cleanup(func() { d.open(); d.Close() })
	return d
}

func (d *gatedDocs) open() { d.once.Do(func() { close(d.gate) }) }

func (d *gatedDocs) waitHeld(t *testing.T) {
	t.Helper()
	select {
	case <-d.held:
	case <-time.After(60 * time.Second):
		t.Fatal("the worker did not fetch the document within 60s")
	}
}

// sharedEnv is the environment of processes sharing one Redis and one SQLite database.
func sharedEnv(t *testing.T) map[string]string {
	t.Helper()
	return stackEnv(startRedisOnPort(t, 0), t.TempDir(), map[string]string{"OCRINVOICE_LOG_LEVEL": "info"})
}

const e2eProgressSub = `subscription($id: ID!) { ocrInvoiceJobProgress(id: $id) { jobId status progress { percentage currentStep totalSteps } message at } }`

// seen is one event reduced to what every transport carries.
type seen struct {
	Status, Step, Message string
	Percentage            int
	At                    time.Time
}

func (s seen) String() string {
	return fmt.Sprintf("%s %d%% %q %q @%s", s.Status, s.Percentage, s.Step, s.Message, s.At.Format(time.RFC3339Nano))
}

func (s seen) terminal() bool { return progress.IsTerminal(s.Status) }

func fromGraphQL(r livetest.Response) (seen, error) {
	if len(r.Errors) > 0 {
		return seen{}, fmt.Errorf("GraphQL errors in stream: %+v", r.Errors)
	}
	var out struct {
		P struct {
			Status   string
			Message  string
			At       time.Time
			Progress struct {
				Percentage  int
				CurrentStep string
			}
		} `json:"ocrInvoiceJobProgress"`
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		return seen{}, err
	}
	return seen{Status: out.P.Status, Step: out.P.Progress.CurrentStep, Message: out.P.Message, Percentage: out.P.Progress.Percentage, At: out.P.At}, nil
}

func fromREST(data []byte) (seen, error) {
	var ev progress.Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return seen{}, fmt.Errorf("decode event %s: %w", data, err)
	}
	return seen{Status: ev.Status, Step: ev.Progress.CurrentStep, Message: ev.Message, Percentage: ev.Progress.Percentage, At: ev.At}, nil
}

// subscriber follows one job through one transport of one API server, and reports what
// it saw once the stream has ended.
type subscriber struct {
	name    string
	first   chan seen // the first event, as soon as it arrives
	done    chan []seen
	err     chan error
	all     []seen
	badData error
}

func newSubscriber(name string) *subscriber {
	return &subscriber{name: name, first: make(chan seen, 1), done: make(chan []seen, 1), err: make(chan error, 1)}
}

// add records one event as parsed; it returns false (stop reading) on a parse error,
// which end reports.
func (s *subscriber) add(ev seen, err error) bool {
	if err != nil {
		s.badData = err
		return false
	}
	if len(s.all) == 0 {
		s.first <- ev
	}
	s.all = append(s.all, ev)
	return true
}

// end reports how the stream ended.
func (s *subscriber) end(err error) {
	if err == nil {
		err = s.badData
	}
	if err != nil {
		s.err <- err
		return
	}
	s.done <- s.all
}

// wsSubscriber follows job id over a GraphQL WebSocket with subprotocol proto.
func wsSubscriber(t *testing.T, ctx context.Context, addr, proto, id string) *subscriber {
	t.Helper()
	s := newSubscriber("ws " + proto + " @" + addr)
	ws, _, err := livetest.DialWS(ctx, "ws://"+addr+"/graphql", proto, nil)
	if err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	if err := ws.Init(ctx); err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	if err := ws.Subscribe(ctx, "p", e2eProgressSub, map[string]any{"id": id}); err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	go func() {
		_, err := ws.Collect(ctx, "p", func(r livetest.Response) bool { return !s.add(fromGraphQL(r)) })
		if err == nil {
			_ = ws.Close()
		}
		s.end(err)
	}()
	return s
}

// sseGraphQLSubscriber follows job id over GraphQL SSE.
func sseGraphQLSubscriber(t *testing.T, ctx context.Context, addr, id string) *subscriber {
	t.Helper()
	s := newSubscriber("graphql sse @" + addr)
	resp, err := livetest.PostSSE(ctx, client0, "http://"+addr+"/graphql", e2eProgressSub, map[string]any{"id": id})
	if err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	go func() {
		defer resp.Body.Close()
		_, err := livetest.CollectSSE(resp.Body, func(r livetest.Response) bool { return !s.add(fromGraphQL(r)) })
		s.end(err)
	}()
	return s
}

// restSubscriber follows job id over GET /api/v1/ocr-invoice-jobs/{id}/events.
func restSubscriber(t *testing.T, ctx context.Context, addr, id string) *subscriber {
	t.Helper()
	s := newSubscriber("rest sse @" + addr)
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/api/v1/ocr-invoice-jobs/"+id+"/events", nil)
	resp, err := client0.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%s: %d %s", s.name, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	go func() {
		defer resp.Body.Close()
		s.end(livetest.ReadEvents(resp.Body, func(ev livetest.Event) bool { return s.add(fromREST(ev.Data)) }))
	}()
	return s
}

// client0 has no overall timeout: streams last as long as their job.
var client0 = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}

func (s *subscriber) firstEvent(t *testing.T) seen {
	t.Helper()
	select {
	case ev := <-s.first:
		return ev
	case err := <-s.err:
		t.Fatalf("%s: %v", s.name, err)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: no first event within 30s", s.name)
	}
	return seen{}
}

func (s *subscriber) result(t *testing.T, limit time.Duration) []seen {
	t.Helper()
	select {
	case all := <-s.done:
		return all
	case err := <-s.err:
		t.Fatalf("%s: %v", s.name, err)
	case <-time.After(limit):
		t.Fatalf("%s: the stream did not end within %v", s.name, limit)
	}
	return nil
}

// currentState is the job as REST reads it, reduced like an event.
func (p *process) currentState(t *testing.T, id string) seen {
	t.Helper()
	code, b := p.request(t, "GET", "/api/v1/ocr-invoice-jobs/"+id, "")
	var env struct {
		Data struct {
			Status   string
			Progress struct {
				Percentage  int
				CurrentStep string
			}
		}
	}
	decode(t, b, &env)
	if code != 200 {
		t.Fatalf("GET job: %d %s", code, b)
	}
	return seen{Status: env.Data.Status, Step: env.Data.Progress.CurrentStep, Percentage: env.Data.Progress.Percentage}
}

// TestLiveProgressAcrossAPIServers: two API servers and one worker on one Redis and one
// database. Subscribers on both servers, through WebSocket (both subprotocols), GraphQL
// SSE and the REST event stream, all connecting mid-job, first receive the job's current
// state, then the same ordered events, ending with the terminal one.
func TestLiveProgressAcrossAPIServers(t *testing.T) {
	env := sharedEnv(t)
	docs := newGatedDocs(t)
	apiA := start(t, testEnv(t, env), "serve")
	apiB := start(t, testEnv(t, env), "serve")
	start(t, testEnv(t, env), "worker", "--concurrency", "1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	id := apiA.createJobFor(t, "LIVE-E2E-1", docs.URL+"/invoice.pdf")
	docs.waitHeld(t) // the worker is in the fetch step: mid-job
	subs := []*subscriber{
		wsSubscriber(t, ctx, apiA.addr, livetest.TransportWS, id),
		wsSubscriber(t, ctx, apiB.addr, livetest.LegacyWS, id),
		sseGraphQLSubscriber(t, ctx, apiA.addr, id),
		sseGraphQLSubscriber(t, ctx, apiB.addr, id),
		restSubscriber(t, ctx, apiA.addr, id),
		restSubscriber(t, ctx, apiB.addr, id),
	}
	state := apiB.currentState(t, id)
	for _, s := range subs {
		ev := s.firstEvent(t)
		if ev.Status != "processing" || ev.Status != state.Status || ev.Percentage != state.Percentage || ev.Step != state.Step {
			t.Fatalf("%s: first event %v, want the current state %v", s.name, ev, state)
		}
	}
	docs.open()

	var want []seen
	for i, s := range subs {
		got := s.result(t, 90*time.Second)
		if len(got) < 3 || got[len(got)-1].Status != "completed" {
			t.Fatalf("%s saw %v, want the current state, progress, then completed", s.name, got)
		}
		for j, ev := range got[:len(got)-1] {
			if ev.terminal() {
				t.Fatalf("%s: terminal event %v at %d before the end", s.name, ev, j)
			}
		}
		if i == 0 {
			want = got
			continue
		}
		if a, b := fmt.Sprint(got), fmt.Sprint(want); a != b {
			t.Errorf("%s saw\n  %s\nwhile %s saw\n  %s", s.name, a, subs[0].name, b)
		}
	}
	t.Logf("every subscriber saw %d events: %v", len(want), want)

	t.Run("a finished job yields one event", func(t *testing.T) {
		for _, s := range []*subscriber{
			wsSubscriber(t, ctx, apiB.addr, livetest.TransportWS, id),
			restSubscriber(t, ctx, apiA.addr, id),
		} {
			got := s.result(t, 10*time.Second)
			if len(got) != 1 || got[0].String() != want[len(want)-1].String() {
				t.Errorf("%s saw %v, want only %v", s.name, got, want[len(want)-1])
			}
		}
	})
}

// TestSlowSubscriberDelaysNothing: a WebSocket subscriber that never reads, with enough
// events to fill its connection's buffers, does not delay the worker nor another
// subscriber, which gets the terminal event.
func TestSlowSubscriberDelaysNothing(t *testing.T) {
	env := sharedEnv(t)
	api := start(t, testEnv(t, env), "all", "--concurrency", "1")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// A baseline: the same document without subscribers.
	docs := newGatedDocs(t)
	docs.open()
	base := api.waitJob(t, api.createJobFor(t, "SLOW-BASE", docs.URL+"/invoice.pdf"), 60*time.Second)
	baseTime, _ := base["processingTime"].(float64)

	held := newGatedDocs(t)
	id := api.createJobFor(t, "SLOW-1", held.URL+"/invoice.pdf")
	held.waitHeld(t)
	slow, _, err := livetest.DialWS(ctx, "ws://"+api.addr+"/graphql", livetest.TransportWS, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	if err := slow.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := slow.Subscribe(ctx, "slow", e2eProgressSub, map[string]any{"id": id}); err != nil {
		t.Fatal(err)
	}
	// From here on the slow client reads nothing.
	fast := restSubscriber(t, ctx, api.addr, id)
	fast.firstEvent(t)

	// Flood the job's events (intermediate ones, as a chatty worker would) so that the
	// slow connection's socket buffers fill up and its writes block.
	rc := redis.NewClient(&redis.Options{Addr: strings.TrimSuffix(strings.TrimPrefix(env["REDIS_URL"], "redis://"), "/0")})
	defer rc.Close()
	var flooded atomic.Int64
	for batch := 0; batch < 40; batch++ {
		pipe := rc.Pipeline()
		for i := 0; i < 1000; i++ {
			b, _ := json.Marshal(progress.Event{
				JobID: id, Status: "processing", At: time.Now().UTC(),
				Progress: progressOf(i), Message: strings.Repeat("flood ", 20),
			})
			pipe.Publish(ctx, progress.FirehoseChannel(""), b)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		flooded.Add(1000)
	}

	released := time.Now()
	held.open()
	got := fast.result(t, 60*time.Second)
	fastDone := time.Since(released)
	if last := got[len(got)-1]; last.Status != "completed" {
		t.Fatalf("the other subscriber ended with %v, want completed", last)
	}
	job := api.waitJob(t, id, 10*time.Second)
	completedAt, err := time.Parse(time.RFC3339Nano, fmt.Sprint(job["completedAt"]))
	if job["status"] != "completed" || err != nil {
		t.Fatalf("job %v, completedAt %v", job["status"], job["completedAt"])
	}
	workerTime := completedAt.Sub(released)
	if limit := time.Duration(3*baseTime*float64(time.Second)) + 3*time.Second; workerTime > limit {
		t.Errorf("the worker took %v after the document came (baseline %.2fs): the slow subscriber delayed it", workerTime, baseTime)
	}
	if fastDone > 30*time.Second {
		t.Errorf("the other subscriber got the terminal event %v after the document came", fastDone)
	}

	// The slow subscriber lost intermediate events, never the terminal one.
	slowGot, err := slow.Collect(ctx, "slow", nil)
	if err != nil {
		t.Fatalf("slow subscriber, reading at last: %v", err)
	}
	last, err := fromGraphQL(slowGot[len(slowGot)-1])
	if err != nil || last.Status != "completed" {
		t.Fatalf("the slow subscriber's last event %v, %v; want completed", last, err)
	}
	t.Logf("flooded %d events; the worker completed %v and the other subscriber had the terminal event %v after the document came (baseline run %.2fs); the other subscriber got %d events, the slow one %d",
		flooded.Load(), workerTime.Round(time.Millisecond), fastDone.Round(time.Millisecond), baseTime, len(got), len(slowGot))
}

func progressOf(i int) invoice.Progress {
	return invoice.Progress{Percentage: 1 + i%15, CurrentStep: "fetch", TotalSteps: 6}
}

// TestSubscribersLeaveNothingBehind: after subscribers of every kind disconnect mid-job,
// the server is back to the goroutines it had before they came.
func TestSubscribersLeaveNothingBehind(t *testing.T) {
	env := sharedEnv(t)
	docs := newGatedDocs(t)
	api := start(t, testEnv(t, env), "all", "--concurrency", "1")
	id := api.createJobFor(t, "LEAK-E2E", docs.URL+"/invoice.pdf")
	docs.waitHeld(t)

	settle := func(limit int) int {
		n := runtime.NumGoroutine()
		for i := 0; i < 200 && n > limit; i++ {
			time.Sleep(25 * time.Millisecond)
			n = runtime.NumGoroutine()
		}
		return n
	}
	time.Sleep(500 * time.Millisecond)
	before := settle(0)

	ctx, cancel := context.WithCancel(context.Background())
	var subs []*subscriber
	for range 5 {
		subs = append(subs,
			wsSubscriber(t, ctx, api.addr, livetest.TransportWS, id),
			wsSubscriber(t, ctx, api.addr, livetest.LegacyWS, id),
			sseGraphQLSubscriber(t, ctx, api.addr, id),
			restSubscriber(t, ctx, api.addr, id))
	}
	for _, s := range subs {
		s.firstEvent(t)
	}
	during := runtime.NumGoroutine()
	cancel() // every client goes away: requests cancelled, WebSockets closed
	if n := settle(before); n > before {
		t.Errorf("%d goroutines after the subscribers left, %d before (%d with them)", n, before, during)
	}
	docs.open()
	if job := api.waitJob(t, id, 60*time.Second); job["status"] != "completed" {
		t.Errorf("job %v", job["status"])
	}
}

// TestLiveBadInput: streams of malformed ids and unknown jobs fail before they start,
// with the codes of each API.
func TestLiveBadInput(t *testing.T) {
	api := start(t, testEnv(t, nil), "serve")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name, id, gqlCode string
		restStatus        int
	}{
		{"malformed id", "42", "BAD_USER_INPUT", 400},
		{"unknown job", "0123456789abcdef01234567", "NOT_FOUND", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, b := api.request(t, "GET", "/api/v1/ocr-invoice-jobs/"+tc.id+"/events", "")
			if code != tc.restStatus || !strings.Contains(string(b), `"success":false`) {
				t.Errorf("REST events: %d %s, want %d with the error envelope", code, b, tc.restStatus)
			}
			ws, _, err := livetest.DialWS(ctx, "ws://"+api.addr+"/graphql", livetest.TransportWS, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.CloseNow()
			if err := ws.Init(ctx); err != nil {
				t.Fatal(err)
			}
			if err := ws.Subscribe(ctx, "x", e2eProgressSub, map[string]any{"id": tc.id}); err != nil {
				t.Fatal(err)
			}
			got, err := ws.Collect(ctx, "x", nil)
			if err == nil && (len(got) != 1 || got[0].Code() != tc.gqlCode) {
				t.Errorf("WebSocket: %+v, want one response with code %s", got, tc.gqlCode)
			}
			if err != nil && !strings.Contains(err.Error(), tc.gqlCode) {
				t.Errorf("WebSocket: %v, want code %s", err, tc.gqlCode)
			}
		})
	}
}
