package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
	"github.com/ocrinvoice/ocrinvoice/internal/live/livetest"
)

// expectCapped reads the refusal of subscription id over the cap named name: one error
// (RATE_LIMITED, extensions.details[0].field the cap), then complete.
func (w *wsClient) expectCapped(t *testing.T, ctx context.Context, id, name string) {
	t.Helper()
	r := w.expectNext(t, ctx, id)
	if !capped(r, name) {
		t.Fatalf("%s: got %s %+v, want RATE_LIMITED naming %s", id, r.Data, r.Errors, name)
	}
	if m := w.next(t, ctx); m.Type != "complete" || m.ID != id {
		t.Fatalf("%s: got %s %s %s, want complete", id, m.ID, m.Type, m.Payload)
	}
}

// capped reports whether r is only the refusal of a subscription over the cap name.
func capped(r livetest.Response, name string) bool {
	if r.Code() != "RATE_LIMITED" || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, name) {
		return false
	}
	details, _ := r.Errors[0].Extensions["details"].([]any)
	if len(details) != 1 {
		return false
	}
	d, _ := details[0].(map[string]any)
	return d["field"] == name
}

// stop ends subscription id from the client's side.
func (w *wsClient) stop(t *testing.T, ctx context.Context, id string) {
	t.Helper()
	typ := "complete"
	if w.proto == livetest.LegacyWS {
		typ = "stop"
	}
	if err := w.send(ctx, map[string]any{"id": id, "type": typ}); err != nil {
		t.Fatal(err)
	}
}

// subscribeWhenFree subscribes to job's progress as id+"-1", id+"-2", ... until one is
// accepted (its first event arrives; a slot is given back just after its subscription
// ended, not at once), failing after 5 s of refusals over the cap name.
func (w *wsClient) subscribeWhenFree(t *testing.T, ctx context.Context, id, job, name string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for i := 1; ; i++ {
		sub := fmt.Sprintf("%s-%d", id, i)
		w.subscribe(t, ctx, sub, progressSub, map[string]any{"id": job})
		r := w.expectNext(t, ctx, sub)
		if len(r.Errors) == 0 {
			return sub
		}
		if !capped(r, name) || time.Now().After(deadline) {
			t.Fatalf("%s: got %s %+v, want the job's state", sub, r.Data, r.Errors)
		}
		if m := w.next(t, ctx); m.Type != "complete" {
			t.Fatalf("%s: got %s %s, want complete", sub, m.Type, m.Payload)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSubscriptionCaps: the subscriptions open at once are capped per WebSocket
// connection and per API key (over every connection and transport); one over a cap is
// refused with RATE_LIMITED naming it, the connection stays usable, and a subscription
// that ends (complete from the client, or its connection closed) frees its slot.
func TestSubscriptionCaps(t *testing.T) {
	e := newLiveEnvWith(t, graph.Config{RequireAuth: true}, live.Options{PerConnection: 2, PerKey: 3, Redis: envRedis})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	job := e.createJob(t, "CAPS-1")

	for _, proto := range []string{livetest.TransportWS, livetest.LegacyWS} {
		t.Run("per connection over "+proto, func(t *testing.T) {
			key := newKey(t, e.keys, "conn-"+proto, auth.RoleViewer, "")
			w := dialInit(t, ctx, e.wsURL(), proto, map[string]any{"apiKey": key})
			defer w.c.CloseNow()
			for _, id := range []string{"a", "b"} {
				w.subscribe(t, ctx, id, progressSub, map[string]any{"id": job})
				w.expectData(t, ctx, id, `"status":"queued"`)
			}
			w.subscribe(t, ctx, "c", `subscription { ocrInvoiceJobUpdated { id } }`, nil)
			w.expectCapped(t, ctx, "c", live.CapPerConnection)
			// The connection stays usable: a query is no subscription.
			w.subscribe(t, ctx, "q", `{ ocrTemplates { totalCount } }`, nil)
			w.expectData(t, ctx, "q", "totalCount")
			if m := w.next(t, ctx); m.Type != "complete" || m.ID != "q" {
				t.Fatalf("got %s %s %s, want complete of q", m.ID, m.Type, m.Payload)
			}
			// Another connection of the same key has its own room (the key's cap is 3).
			other := dialInit(t, ctx, e.wsURL(), proto, map[string]any{"apiKey": key})
			defer other.c.CloseNow()
			other.subscribe(t, ctx, "x", progressSub, map[string]any{"id": job})
			other.expectData(t, ctx, "x", `"status":"queued"`)
			// A subscription the client completes frees its slot.
			w.stop(t, ctx, "a")
			if m := w.next(t, ctx); m.Type != "complete" || m.ID != "a" {
				t.Fatalf("got %s %s %s, want complete of a", m.ID, m.Type, m.Payload)
			}
			w.subscribeWhenFree(t, ctx, "d", job, live.CapPerConnection)
			w.subscribe(t, ctx, "e", progressSub, map[string]any{"id": job})
			w.expectCapped(t, ctx, "e", live.CapPerConnection)
		})
	}

	t.Run("per key over every connection and SSE", func(t *testing.T) {
		key := newKey(t, e.keys, "key-capped", auth.RoleViewer, "")
		one := dialInit(t, ctx, e.wsURL(), livetest.TransportWS, map[string]any{"apiKey": key})
		defer one.c.CloseNow()
		for _, id := range []string{"a", "b"} {
			one.subscribe(t, ctx, id, progressSub, map[string]any{"id": job})
			one.expectData(t, ctx, id, `"status":"queued"`)
		}
		two := dialInit(t, ctx, e.wsURL(), livetest.LegacyWS, map[string]any{"apiKey": key})
		defer two.c.CloseNow()
		two.subscribe(t, ctx, "c", progressSub, map[string]any{"id": job})
		two.expectData(t, ctx, "c", `"status":"queued"`)
		two.subscribe(t, ctx, "d", `subscription { ocrInvoiceJobUpdated { id } }`, nil)
		two.expectCapped(t, ctx, "d", live.CapPerKey)

		resp, err := livetest.PostSSE(ctx, bearerClient(key), e.srv.URL+"/graphql", progressSub, map[string]any{"id": job})
		if err != nil {
			t.Fatal(err)
		}
		got, err := livetest.CollectSSE(resp.Body, nil)
		_ = resp.Body.Close()
		if err != nil || len(got) != 1 || !capped(got[0], live.CapPerKey) {
			t.Fatalf("SSE got %+v, %v; want RATE_LIMITED naming %s", got, err, live.CapPerKey)
		}
		// Another key is not affected.
		otherKey := newKey(t, e.keys, "key-free", auth.RoleViewer, "")
		resp, err = livetest.PostSSE(ctx, bearerClient(otherKey), e.srv.URL+"/graphql", progressSub, map[string]any{"id": job})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("another key's SSE: %s", resp.Status)
		}
		_ = resp.Body.Close()

		// Closing a connection frees the slots of its subscriptions: two of them.
		_ = one.c.CloseNow()
		two.subscribeWhenFree(t, ctx, "e", job, live.CapPerKey)
		three := dialInit(t, ctx, e.wsURL(), livetest.TransportWS, map[string]any{"apiKey": key})
		defer three.c.CloseNow()
		three.subscribe(t, ctx, "f", progressSub, map[string]any{"id": job})
		three.expectData(t, ctx, "f", `"status":"queued"`)
		three.subscribe(t, ctx, "g", progressSub, map[string]any{"id": job})
		three.expectCapped(t, ctx, "g", live.CapPerKey)
	})
}
