package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
)

// TestJobEventsCappedPerKey: job event streams count against their API key's cap of open
// live streams (the same cap as its GraphQL subscriptions); over it the request is
// answered 429 RATE_LIMITED naming the cap, and a stream that ends frees its slot.
func TestJobEventsCappedPerKey(t *testing.T) {
	e := newEventsEnvWith(t, live.Options{PerKey: 1})
	id := e.do("POST", "/api/v1/ocr-invoice-jobs", e.jobBodyFor("CAP-1", nil)).must(t, http.StatusCreated).data()["_id"].(string)
	key := auth.Principal{KeyID: "0123456789abcdef01234567", Name: "watcher", Role: auth.RoleViewer}
	srv := httptest.NewServer(authenticated(e.env.raw, &key))
	defer srv.Close()
	client := &http.Client{Timeout: 10 * time.Second}
	open := func(ctx context.Context) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/ocr-invoice-jobs/"+id+"/events", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := open(ctx)
	if first.StatusCode != http.StatusOK {
		t.Fatalf("first stream: %s", first.Status)
	}
	br := &lineReader{r: first.Body}
	if evs := checkEvents(t, br.untilBlank()); len(evs) != 1 {
		t.Fatalf("first stream: %+v, want the job's state", evs)
	}

	second := open(context.Background())
	var body struct {
		Success bool
		Error   struct {
			Code    string
			Details []struct{ Field string }
		}
	}
	err := json.NewDecoder(second.Body).Decode(&body)
	_ = second.Body.Close()
	if second.StatusCode != http.StatusTooManyRequests || err != nil || body.Error.Code != "RATE_LIMITED" ||
		len(body.Error.Details) != 1 || body.Error.Details[0].Field != live.CapPerKey || second.Header.Get("Retry-After") == "" {
		t.Fatalf("second stream: %s %+v (%v), want 429 RATE_LIMITED naming %s with Retry-After", second.Status, body, err, live.CapPerKey)
	}

	// The client goes away: its slot is free again (once the server noticed).
	cancel()
	_ = first.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		third := open(context.Background())
		_ = third.Body.Close()
		if third.StatusCode == http.StatusOK {
			break
		}
		if third.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("after the first stream ended: %s", third.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
