package main

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/live"
	"github.com/ocrinvoice/ocrinvoice/internal/live/livetest"
)

// TestSubscriptionCapsAcrossReplicas: OCRINVOICE_SUBSCRIPTIONS_PER_CONNECTION and
// _PER_KEY reach the API servers, and two replicas on one Redis count a key's live
// streams together: with 1 per connection and 2 per key, a WebSocket's second
// subscription is refused, a second connection on the other replica gets the key's second
// slot, and a REST event stream on either is then answered 429.
func TestSubscriptionCapsAcrossReplicas(t *testing.T) {
	rs := startRedisOnPort(t, 0)
	dir := t.TempDir()
	env := stackEnv(rs, dir, map[string]string{"OCRINVOICE_AUTH": "apikey",
		"OCRINVOICE_SUBSCRIPTIONS_PER_CONNECTION": "1", "OCRINVOICE_SUBSCRIPTIONS_PER_KEY": "2"})
	admin := createKey(t, dir, "--database-url", env["DATABASE_URL"], "--name", "ops", "--role", "admin")
	key := createKey(t, dir, "--database-url", env["DATABASE_URL"], "--name", "watcher", "--role", "viewer")
	one := start(t, testEnv(t, env), "serve")
	two := start(t, testEnv(t, env), "serve")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	code, b := one.authRequest(t, admin, "POST", "/api/v1/ocr-invoice-jobs",
		`{"jobNumber": "CAPS-E2E", "documentName": "a.pdf", "documentUrl": "https://example.com/a.pdf", "template": "generic"}`)
	if code != http.StatusCreated {
		t.Fatalf("create job: %d %s", code, b)
	}
	var created struct {
		Data struct {
			ID string `json:"_id"`
		}
	}
	decode(t, b, &created)
	id := created.Data.ID

	dial := func(p *process) *livetest.WS {
		t.Helper()
		ws, _, err := livetest.DialWS(ctx, "ws://"+p.addr+"/graphql", livetest.TransportWS, http.Header{"Authorization": {"Bearer " + key}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ws.CloseNow() })
		if err := ws.Init(ctx); err != nil {
			t.Fatal(err)
		}
		return ws
	}
	// subscribe returns the code of the first response of a new subscription ("" for
	// the job's state).
	subscribe := func(ws *livetest.WS, sub string) string {
		t.Helper()
		if err := ws.Subscribe(ctx, sub, e2eProgressSub, map[string]any{"id": id}); err != nil {
			t.Fatal(err)
		}
		got, err := ws.Collect(ctx, sub, func(livetest.Response) bool { return true })
		if err != nil || len(got) != 1 {
			t.Fatalf("subscription %s: %v, %v", sub, got, err)
		}
		return got[0].Code()
	}
	wsOne := dial(one)
	if c := subscribe(wsOne, "a"); c != "" {
		t.Fatalf("first subscription: %s", c)
	}
	if c := subscribe(wsOne, "b"); c != "RATE_LIMITED" {
		t.Fatalf("second subscription on one connection: %q, want RATE_LIMITED", c)
	}
	if c := subscribe(dial(two), "c"); c != "" {
		t.Fatalf("the key's second subscription, on the other replica: %s", c)
	}
	for name, p := range map[string]*process{"one": one, "two": two} {
		code, b := p.authRequest(t, key, "GET", "/api/v1/ocr-invoice-jobs/"+id+"/events", "")
		var body struct {
			Error struct {
				Code    string
				Details []struct{ Field string }
			}
		}
		_ = json.Unmarshal(b, &body)
		if code != http.StatusTooManyRequests || body.Error.Code != "RATE_LIMITED" || len(body.Error.Details) != 1 || body.Error.Details[0].Field != live.CapPerKey {
			t.Errorf("event stream on replica %s with the key's 2 slots taken: %d %s, want 429 naming %s", name, code, b, live.CapPerKey)
		}
	}
}
