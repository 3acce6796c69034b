package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/live/livetest"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
)

// expectNext reads the next message, which must be a "next" of subscription id; it
// returns its payload.
func (w *wsClient) expectNext(t *testing.T, ctx context.Context, id string) livetest.Response {
	t.Helper()
	m := w.next(t, ctx)
	if m.Type != "next" || m.ID != id {
		t.Fatalf("got %s %s %s, want next of %s", m.ID, m.Type, m.Payload, id)
	}
	var r livetest.Response
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// expectData reads an event of subscription id without errors, whose payload contains
// want.
func (w *wsClient) expectData(t *testing.T, ctx context.Context, id, want string) {
	t.Helper()
	if r := w.expectNext(t, ctx, id); len(r.Errors) > 0 || !strings.Contains(string(r.Data), want) {
		t.Fatalf("%s: got %s %+v, want data with %s", id, r.Data, r.Errors, want)
	}
}

// expectRefused reads an error response of subscription id with code and message, then
// its complete.
func (w *wsClient) expectRefused(t *testing.T, ctx context.Context, id, code, msg string) {
	t.Helper()
	r := w.expectNext(t, ctx, id)
	if r.Code() != code || len(r.Data) > 0 && string(r.Data) != "null" || !strings.Contains(r.Errors[0].Message, msg) {
		t.Fatalf("%s: got %s %+v, want only the error %s %q", id, r.Data, r.Errors, code, msg)
	}
	if m := w.next(t, ctx); m.Type != "complete" || m.ID != id {
		t.Fatalf("%s: got %s %s %s, want complete", id, m.ID, m.Type, m.Payload)
	}
}

// expectSilence asserts that nothing arrives for a while: a subscription that ended
// sends nothing more (a response handler that never returned nil would flood the socket).
func (w *wsClient) expectSilence(t *testing.T, ctx context.Context) {
	t.Helper()
	quietCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if m, err := w.read(quietCtx); err == nil {
		t.Fatalf("unexpected message %s %s %s", m.ID, m.Type, m.Payload)
	}
}

// progressEvent publishes a progress event of job id, which every progress subscription
// of the job receives (the job stays processing: the stream does not end by itself).
func progressEvent(t *testing.T, e *liveEnv, id string, pct int) {
	t.Helper()
	ctx := context.Background()
	p := invoice.Progress{Percentage: pct, CurrentStep: "read", TotalSteps: 6}
	if err := e.svc.SetProgress(ctx, id, p); err != nil {
		t.Fatal(err)
	}
	if err := e.pub.Publish(ctx, progress.Event{JobID: id, Status: "processing", Progress: p}); err != nil {
		t.Fatal(err)
	}
}

// TestRevokedKeyEndsWebSocket: a key revoked while its WebSocket is open ends the
// connection's subscriptions at their next event (an UNAUTHENTICATED error, then
// complete) and refuses every new operation; until then events flow and operations run.
// Whether the key came in connection_init or on the upgrade request.
func TestRevokedKeyEndsWebSocket(t *testing.T) {
	e := newLiveEnv(t, graph.Config{RequireAuth: true})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	admin := auth.WithPrincipal(ctx, auth.Local)
	const jobQuery = `query($id: ID!) { ocrInvoiceJob(id: $id) { status } }`

	for _, tc := range []struct {
		name, proto string
		header      bool
	}{
		{"connection_init graphql-transport-ws", livetest.TransportWS, false},
		{"connection_init graphql-ws", livetest.LegacyWS, false},
		{"upgrade header graphql-transport-ws", livetest.TransportWS, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			owner := "team-" + strings.ReplaceAll(tc.name, " ", "-")
			key := newKey(t, e.keys, owner, auth.RoleSubmitter, owner)
			keyID, _, err := auth.ParseKey(key)
			if err != nil {
				t.Fatal(err)
			}
			j, err := e.svc.CreateJob(auth.WithPrincipal(ctx, auth.Principal{KeyID: keyID, Name: owner, Role: auth.RoleSubmitter, Owner: owner}),
				jobs.JobInput{JobNumber: "REV-" + owner, DocumentName: "a.pdf", DocumentURL: "https://example.com/a.pdf", Template: jobs.BuiltinTemplateName})
			if err != nil {
				t.Fatal(err)
			}
			var w *wsClient
			if tc.header {
				var m livetest.Message
				w, m, err = initWS(t, ctx, e.wsURL(), tc.proto, http.Header{"Authorization": {"Bearer " + key}}, nil)
				if err != nil || m.Type != "connection_ack" {
					t.Fatalf("%s %s, %v", m.Type, m.Payload, err)
				}
			} else {
				w = dialInit(t, ctx, e.wsURL(), tc.proto, map[string]any{"apiKey": key})
			}
			defer w.c.CloseNow()

			// A valid key: the stream starts with the job's state and carries its events;
			// other operations on the socket run.
			w.subscribe(t, ctx, "p", progressSub, map[string]any{"id": j.ID})
			w.expectData(t, ctx, "p", `"status":"queued"`)
			started, err := e.svc.StartProcessing(admin, j.ID)
			if err != nil {
				t.Fatal(err)
			}
			_ = e.pub.Publish(ctx, jobs.EventOf(started, ""))
			w.expectData(t, ctx, "p", `"status":"processing"`)
			progressEvent(t, e, j.ID, 20)
			w.expectData(t, ctx, "p", `"percentage":20`)
			w.subscribe(t, ctx, "q1", jobQuery, map[string]any{"id": j.ID})
			w.expectData(t, ctx, "q1", `"status":"processing"`)
			if m := w.next(t, ctx); m.Type != "complete" || m.ID != "q1" {
				t.Fatalf("got %s %s, want complete of q1", m.ID, m.Type)
			}

			// Revoked: the next event of the open subscription is replaced by the error,
			// which ends it; nothing more arrives on it.
			if _, err := e.keys.Revoke(ctx, keyID); err != nil {
				t.Fatal(err)
			}
			progressEvent(t, e, j.ID, 40)
			w.expectRefused(t, ctx, "p", "UNAUTHENTICATED", "the API key was revoked")
			// New operations on the same socket are refused before they run.
			w.subscribe(t, ctx, "p2", progressSub, map[string]any{"id": j.ID})
			w.expectRefused(t, ctx, "p2", "UNAUTHENTICATED", "the API key was revoked")
			w.subscribe(t, ctx, "q2", jobQuery, map[string]any{"id": j.ID})
			w.expectRefused(t, ctx, "q2", "UNAUTHENTICATED", "the API key was revoked")
			progressEvent(t, e, j.ID, 60)
			w.expectSilence(t, ctx)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// flakyKeys is the key store, or a database that does not answer while down is set.
type flakyKeys struct {
	keys *apikeys.Store
	down atomic.Bool
}

func (f *flakyKeys) Authenticate(ctx context.Context, key string) (auth.Principal, error) {
	if f.down.Load() {
		return auth.Principal{}, apperr.Unavailable("cannot check the API key now", errors.New("database is down"))
	}
	return f.keys.Authenticate(ctx, key)
}

// TestKeyCheckUnavailable: while the key store does not answer, open subscriptions go
// on and new operations are refused with UNAVAILABLE; once it answers again, a revoked
// key still ends the subscription.
func TestKeyCheckUnavailable(t *testing.T) {
	flaky := &flakyKeys{}
	e := newLiveEnv(t, graph.Config{RequireAuth: true, Authenticator: flaky})
	flaky.keys = e.keys
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	key := newKey(t, e.keys, "watcher", auth.RoleViewer, "")
	keyID, _, err := auth.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	jobID := e.createJob(t, "FLAKY-1")
	if _, err := e.svc.StartProcessing(ctx, jobID); err != nil {
		t.Fatal(err)
	}
	w := dialInit(t, ctx, e.wsURL(), livetest.TransportWS, map[string]any{"Authorization": "Bearer " + key})
	defer w.c.CloseNow()
	w.subscribe(t, ctx, "p", progressSub, map[string]any{"id": jobID})
	w.expectData(t, ctx, "p", `"status":"processing"`)

	flaky.down.Store(true)
	progressEvent(t, e, jobID, 10)
	w.expectData(t, ctx, "p", `"percentage":10`)
	w.subscribe(t, ctx, "p2", progressSub, map[string]any{"id": jobID})
	w.expectRefused(t, ctx, "p2", "UNAVAILABLE", "cannot check the API key now")
	if _, err := e.keys.Revoke(ctx, keyID); err != nil {
		t.Fatal(err)
	}
	progressEvent(t, e, jobID, 20)
	w.expectData(t, ctx, "p", `"percentage":20`)

	flaky.down.Store(false)
	progressEvent(t, e, jobID, 30)
	w.expectRefused(t, ctx, "p", "UNAUTHENTICATED", "the API key was revoked")
	w.expectSilence(t, ctx)
}

// TestRevokedKeyEndsSSESubscription: a subscription over SSE, which the server
// authenticated once with the request's key, ends at its next event once the key is
// revoked (an UNAUTHENTICATED error, then complete).
func TestRevokedKeyEndsSSESubscription(t *testing.T) {
	e := newLiveEnv(t, graph.Config{RequireAuth: true})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	key := newKey(t, e.keys, "sse", auth.RoleViewer, "")
	keyID, _, err := auth.ParseKey(key)
	if err != nil {
		t.Fatal(err)
	}
	jobID := e.createJob(t, "SSE-REV-1")
	if _, err := e.svc.StartProcessing(ctx, jobID); err != nil {
		t.Fatal(err)
	}
	resp, err := livetest.PostSSE(ctx, bearerClient(key), e.srv.URL+"/graphql", progressSub, map[string]any{"id": jobID})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := livetest.CollectSSE(resp.Body, func(r livetest.Response) bool {
		switch {
		case strings.Contains(string(r.Data), `"percentage":0`): // the current state
			progressEvent(t, e, jobID, 20)
		case strings.Contains(string(r.Data), `"percentage":20`):
			if _, err := e.keys.Revoke(ctx, keyID); err != nil {
				t.Fatal(err)
			}
			progressEvent(t, e, jobID, 40)
		}
		return false
	})
	if err != nil || len(got) != 3 || got[0].Code() != "" || got[1].Code() != "" || got[2].Code() != "UNAUTHENTICATED" {
		t.Fatalf("got %+v, %v; want the state, one event, then UNAUTHENTICATED and complete", got, err)
	}
}
