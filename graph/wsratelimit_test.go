package graph_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/live/livetest"
)

// TestWebSocketOperationsAreRateLimited: every operation on a key's WebSocket counts
// against its rate (the server sees the upgrade only); over it, RATE_LIMITED with
// retryAfter, and the socket stays usable.
func TestWebSocketOperationsAreRateLimited(t *testing.T) {
	var mu sync.Mutex
	used := map[string]int{}
	limiter := func(_ context.Context, p auth.Principal) (bool, time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		used[p.KeyID]++
		return used[p.KeyID] <= 2, 1500 * time.Millisecond
	}
	e := newLiveEnv(t, graph.Config{RequireAuth: true, OperationLimiter: limiter})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	key := newKey(t, e.keys, "ws-limited", auth.RoleViewer, "")
	w := dialInit(t, ctx, e.wsURL(), livetest.TransportWS, map[string]any{"apiKey": key})
	defer w.c.CloseNow()

	for i, want := range []string{"", "", "RATE_LIMITED", "RATE_LIMITED"} {
		id := string(rune('a' + i))
		w.subscribe(t, ctx, id, `{ ocrTemplates { totalCount } }`, nil)
		m := w.next(t, ctx)
		var r struct {
			Data   json.RawMessage
			Errors []struct {
				Message    string
				Extensions map[string]any
			}
		}
		_ = json.Unmarshal(m.Payload, &r)
		switch {
		case want == "" && (len(r.Errors) > 0 || !strings.Contains(string(r.Data), "totalCount")):
			t.Fatalf("operation %d: %s %s", i, m.Type, m.Payload)
		case want != "" && (len(r.Errors) != 1 || r.Errors[0].Extensions["code"] != want || r.Errors[0].Extensions["retryAfter"] != float64(2)):
			t.Fatalf("operation %d: %s %s, want %s with retryAfter 2", i, m.Type, m.Payload, want)
		}
		if m := w.next(t, ctx); m.Type != "complete" {
			t.Fatalf("operation %d: %s %s, want complete", i, m.Type, m.Payload)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	keyID, _, _ := auth.ParseKey(key)
	if used[keyID] != 4 || len(used) != 1 {
		t.Fatalf("limiter asked %v, want 4 times for the key", used)
	}
}
