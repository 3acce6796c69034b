package graph_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
	"github.com/ocrinvoice/ocrinvoice/internal/live/livetest"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
)

// acceptAll queues every task without a queue, so created jobs become queued.
type acceptAll struct{}

func (acceptAll) EnqueueJob(context.Context, string, string) error    { return nil }
func (acceptAll) DeleteJobTask(context.Context, string, string) error { return nil }

// liveEnv is the GraphQL handler with subscriptions, on a real HTTP server, over a
// service that publishes its events to a private Redis.
type liveEnv struct {
	svc   *jobs.Service
	pub   *progress.Publisher
	watch *live.Watcher
	srv   *httptest.Server
	keys  *apikeys.Store // authenticates bearer keys (testAuth)
	rc    *redis.Client  // the private Redis of the events
}

func newLiveEnv(t *testing.T, cfg graph.Config) *liveEnv {
	t.Helper()
	return newLiveEnvWith(t, cfg, live.Options{})
}

// envRedis in live.Options.Redis makes newLiveEnvWith count streams in its own Redis.
var envRedis redis.UniversalClient = redis.NewClient(&redis.Options{})

// newLiveEnvWith is newLiveEnv with a Watcher built with opts (its Logger is quiet, and
// envRedis is replaced by the environment's Redis).
func newLiveEnvWith(t *testing.T, cfg graph.Config, opts live.Options) *liveEnv {
	t.Helper()
	rs := redistest.Start(t)
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rc.Close() })
	pub := progress.NewPublisher(rc, progress.PublisherOptions{})
	db := databasetest.Open(t)
	svc := jobs.NewService(db, acceptAll{}, jobs.Options{Logger: quiet(), Events: pub})
	if err := svc.EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}
	hub := progress.NewHub(rc, progress.HubOptions{Logger: quiet()})
	t.Cleanup(func() { _ = hub.Close() })
	<-hub.Ready()
	opts.Logger = quiet()
	if opts.Redis == envRedis {
		opts.Redis = rc
	}
	w := live.New(svc, hub, opts)
	t.Cleanup(w.Close)
	cfg.Live, cfg.Logger = w, quiet()
	keys := apikeys.New(db, quiet())
	if cfg.Authenticator == useKeys || cfg.Authenticator == nil && cfg.RequireAuth {
		cfg.Authenticator = keys
	}
	if cfg.APIKeys == nil {
		cfg.APIKeys = keys
	}
	srv := httptest.NewServer(testAuth(keys, graph.NewHandler(svc, cfg)))
	t.Cleanup(srv.Close)
	return &liveEnv{svc: svc, pub: pub, watch: w, srv: srv, keys: keys, rc: rc}
}

func (e *liveEnv) wsURL() string { return "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/graphql" }

func (e *liveEnv) createJob(t *testing.T, number string) string {
	t.Helper()
	j, err := e.svc.CreateJob(context.Background(), jobs.JobInput{
		JobNumber: number, DocumentName: "a.pdf", DocumentURL: "https://example.com/a.pdf", Template: jobs.BuiltinTemplateName,
	})
	if err != nil {
		t.Fatal(err)
	}
	return j.ID
}

// finish moves the job through processing to failed, publishing like the worker.
func (e *liveEnv) finish(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	j, err := e.svc.StartProcessing(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	_ = e.pub.Publish(ctx, jobs.EventOf(j, ""))
	p := invoice.Progress{Percentage: 40, CurrentStep: "read", TotalSteps: 6}
	if err := e.svc.SetProgress(ctx, id, p); err != nil {
		t.Fatal(err)
	}
	_ = e.pub.Publish(ctx, progress.Event{JobID: id, Status: "processing", Progress: p})
	j, err = e.svc.Fail(ctx, id, "no such document", true)
	if err != nil {
		t.Fatal(err)
	}
	_ = e.pub.Publish(ctx, jobs.EventOf(j, "no such document"))
}

const progressSub = `subscription($id: ID!) { ocrInvoiceJobProgress(id: $id) { jobId status progress { percentage currentStep totalSteps } message at } }`

type progressOut struct {
	OcrInvoiceJobProgress struct {
		JobID    string
		Status   string
		Progress struct {
			Percentage  int
			CurrentStep string
		}
		Message string
		At      time.Time
	}
}

func statuses(t *testing.T, rs []livetest.Response) []string {
	t.Helper()
	var out []string
	for _, r := range rs {
		if len(r.Errors) > 0 {
			t.Fatalf("errors in stream: %+v", r.Errors)
		}
		var p progressOut
		if err := json.Unmarshal(r.Data, &p); err != nil {
			t.Fatal(err)
		}
		out = append(out, p.OcrInvoiceJobProgress.Status)
	}
	return out
}

func TestSubscriptionsOverWebSocketAndSSE(t *testing.T) {
	e := newLiveEnv(t, graph.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	want := "queued processing processing failed"

	for _, proto := range []string{livetest.TransportWS, livetest.LegacyWS} {
		t.Run(proto, func(t *testing.T) {
			id := e.createJob(t, "WS-"+proto)
			ws, _, err := livetest.DialWS(ctx, e.wsURL(), proto, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.CloseNow()
			if err := ws.Init(ctx); err != nil {
				t.Fatal(err)
			}
			if err := ws.Subscribe(ctx, "1", progressSub, map[string]any{"id": id}); err != nil {
				t.Fatal(err)
			}
			first, err := ws.Collect(ctx, "1", func(livetest.Response) bool { return true })
			if err != nil || strings.Join(statuses(t, first), " ") != "queued" {
				t.Fatalf("first event %v, %v; want the current state, queued", statuses(t, first), err)
			}
			e.finish(t, id)
			rest, err := ws.Collect(ctx, "1", nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(statuses(t, append(first, rest...)), " "); got != want {
				t.Fatalf("events %q, want %q then complete", got, want)
			}
			// A finished job: one event, then complete.
			if err := ws.Subscribe(ctx, "2", progressSub, map[string]any{"id": id}); err != nil {
				t.Fatal(err)
			}
			again, err := ws.Collect(ctx, "2", nil)
			if got := strings.Join(statuses(t, again), " "); err != nil || got != "failed" {
				t.Fatalf("finished job streamed %q, %v; want failed", got, err)
			}
			var p progressOut
			_ = json.Unmarshal(again[0].Data, &p)
			if p.OcrInvoiceJobProgress.Message != "no such document" {
				t.Errorf("message %q, want the failure reason", p.OcrInvoiceJobProgress.Message)
			}
		})
	}

	t.Run("SSE", func(t *testing.T) {
		id := e.createJob(t, "SSE-1")
		resp, err := livetest.PostSSE(ctx, http.DefaultClient, e.srv.URL+"/graphql", progressSub, map[string]any{"id": id})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			t.Fatalf("content type %q", ct)
		}
		done, first := make(chan struct{}), make(chan struct{})
		var got []livetest.Response
		var rerr error
		go func() {
			defer close(done)
			got, rerr = livetest.CollectSSE(resp.Body, func(livetest.Response) bool {
				select {
				case <-first:
				default:
					close(first)
				}
				return false
			})
		}()
		// Move the job once the stream has told its current state.
		select {
		case <-first:
		case <-ctx.Done():
			t.Fatal("no first event")
		}
		e.finish(t, id)
		<-done
		if rerr != nil {
			t.Fatal(rerr)
		}
		if s := strings.Join(statuses(t, got), " "); s != want {
			t.Fatalf("events %q, want %q", s, want)
		}
	})
}

func TestSubscriptionErrors(t *testing.T) {
	e := newLiveEnv(t, graph.Config{InitTimeout: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for _, tc := range []struct {
		name, id, code string
	}{
		{"unknown job", "0123456789abcdef01234567", "NOT_FOUND"},
		{"malformed id", "not-an-id", "BAD_USER_INPUT"},
	} {
		t.Run(tc.name+" over SSE", func(t *testing.T) {
			resp, err := livetest.PostSSE(ctx, http.DefaultClient, e.srv.URL+"/graphql", progressSub, map[string]any{"id": tc.id})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := livetest.CollectSSE(resp.Body, nil)
			if err != nil || len(got) != 1 || got[0].Code() != tc.code {
				t.Fatalf("got %+v, %v; want one response with code %s", got, err, tc.code)
			}
		})
		t.Run(tc.name+" over WebSocket", func(t *testing.T) {
			ws, _, err := livetest.DialWS(ctx, e.wsURL(), livetest.TransportWS, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.CloseNow()
			if err := ws.Init(ctx); err != nil {
				t.Fatal(err)
			}
			if err := ws.Subscribe(ctx, "1", progressSub, map[string]any{"id": tc.id}); err != nil {
				t.Fatal(err)
			}
			got, err := ws.Collect(ctx, "1", nil)
			code := ""
			if len(got) > 0 {
				code = got[0].Code()
			}
			if err != nil && strings.Contains(err.Error(), tc.code) {
				code = tc.code // delivered as an "error" message
			}
			if code != tc.code {
				t.Fatalf("got %+v, %v; want code %s", got, err, tc.code)
			}
		})
	}

	t.Run("no connection_init: closed after the init timeout", func(t *testing.T) {
		ws, _, err := livetest.DialWS(ctx, e.wsURL(), livetest.TransportWS, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.CloseNow()
		start := time.Now()
		_, err = ws.Next(ctx)
		if err == nil || !strings.Contains(err.Error(), "initialisation timeout") {
			t.Fatalf("read %v, want the connection closed for the init timeout", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("closed after %v, want about the 300ms init timeout", d)
		}
	})

	t.Run("cross-site origin refused, same origin and configured ones allowed", func(t *testing.T) {
		h := http.Header{"Origin": {"https://evil.example"}}
		if _, resp, err := livetest.DialWS(ctx, e.wsURL(), livetest.TransportWS, h); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site dial: %v (%v), want 403", err, resp)
		}
		h = http.Header{"Origin": {e.srv.URL}}
		ws, _, err := livetest.DialWS(ctx, e.wsURL(), livetest.TransportWS, h)
		if err != nil {
			t.Fatalf("same-origin dial: %v", err)
		}
		ws.CloseNow()
		allowed := newLiveEnv(t, graph.Config{WebSocketOrigins: []string{"app.example"}})
		h = http.Header{"Origin": {"https://app.example"}}
		ws, _, err = livetest.DialWS(ctx, allowed.wsURL(), livetest.TransportWS, h)
		if err != nil {
			t.Fatalf("configured origin: %v", err)
		}
		ws.CloseNow()
	})

	t.Run("subscriptions unavailable without a watcher", func(t *testing.T) {
		srv := httptest.NewServer(testAuth(e.keys, graph.NewHandler(e.svc, graph.Config{Logger: quiet()})))
		defer srv.Close()
		resp, err := livetest.PostSSE(ctx, http.DefaultClient, srv.URL+"/graphql", progressSub, map[string]any{"id": "0123456789abcdef01234567"})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got, err := livetest.CollectSSE(resp.Body, nil)
		if err != nil || len(got) != 1 || got[0].Code() != "UNAVAILABLE" {
			t.Fatalf("got %+v, %v; want UNAVAILABLE", got, err)
		}
	})
}

func TestJobUpdatedAndGroupProgressSubscriptions(t *testing.T) {
	e := newLiveEnv(t, graph.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	g, err := e.svc.CreateGroup(ctx, jobs.GroupInput{Name: "batch"})
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := livetest.DialWS(ctx, e.wsURL(), livetest.TransportWS, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Init(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ws.Subscribe(ctx, "upd", `subscription { ocrInvoiceJobUpdated(where: {jobNumberHasPrefix: "MATCH-"}) { id jobNumber status errorLog } }`, nil); err != nil {
		t.Fatal(err)
	}
	if err := ws.Subscribe(ctx, "grp", `subscription($id: ID!) { ocrJobGroupProgress(id: $id) { phase total active failed progress conditions { type } } }`, map[string]any{"id": g.ID}); err != nil {
		t.Fatal(err)
	}
	// The group stream starts with the current status.
	first, err := ws.Collect(ctx, "grp", func(livetest.Response) bool { return true })
	if err != nil || !strings.Contains(string(first[0].Data), `"phase":"Pending","total":0`) {
		t.Fatalf("first group status %s, %v", first[0].Data, err)
	}
	time.Sleep(200 * time.Millisecond) // let the job-update subscription start too

	// expect reads until it has the job update and the group status one step causes.
	expect := func(t *testing.T, status, phase string) {
		t.Helper()
		var gotUpdate, gotGroup bool
		for !gotUpdate || !gotGroup {
			m, err := ws.Next(ctx)
			if err != nil {
				t.Fatalf("waiting for %s / %s: %v", status, phase, err)
			}
			var r livetest.Response
			_ = json.Unmarshal(m.Payload, &r)
			if m.Type != "next" || len(r.Errors) > 0 {
				t.Fatalf("message %s %s", m.Type, m.Payload)
			}
			switch m.ID {
			case "upd":
				var out struct {
					OcrInvoiceJobUpdated struct{ JobNumber, Status string }
				}
				_ = json.Unmarshal(r.Data, &out)
				if u := out.OcrInvoiceJobUpdated; u.JobNumber != "MATCH-1" || u.Status != status || gotUpdate {
					t.Fatalf("update %+v, want MATCH-1 %s once", u, status)
				}
				gotUpdate = true
			case "grp":
				var out struct {
					OcrJobGroupProgress struct {
						Phase string
						Total int
					}
				}
				_ = json.Unmarshal(r.Data, &out)
				if g := out.OcrJobGroupProgress; g.Phase != phase || g.Total != 1 || gotGroup {
					t.Fatalf("group status %+v, want %s with 1 job, once", g, phase)
				}
				gotGroup = true
			}
		}
	}
	j, err := e.svc.CreateJob(ctx, jobs.JobInput{
		JobNumber: "MATCH-1", DocumentName: "a.pdf", DocumentURL: "https://example.com/a.pdf", Template: jobs.BuiltinTemplateName, Group: g.ID,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.createJob(t, "OTHER-1") // not matched, not in the group
	expect(t, "queued", "Pending")
	started, err := e.svc.StartProcessing(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	_ = e.pub.Publish(ctx, jobs.EventOf(started, ""))
	expect(t, "processing", "Running")
	p := invoice.Progress{Percentage: 40, CurrentStep: "read", TotalSteps: 6}
	_ = e.svc.SetProgress(ctx, j.ID, p)
	_ = e.pub.Publish(ctx, progress.Event{JobID: j.ID, GroupID: g.ID, Status: "processing", Progress: p})
	failed, err := e.svc.Fail(ctx, j.ID, "broken", true)
	if err != nil {
		t.Fatal(err)
	}
	_ = e.pub.Publish(ctx, jobs.EventOf(failed, "broken"))
	// Progress changed no status: the next messages are those of the failure.
	expect(t, "failed", "Failed")
}

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }
