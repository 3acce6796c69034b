package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
	"github.com/ocrinvoice/ocrinvoice/internal/live/livetest"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
)

// sseEvent is one event of a GraphQL SSE stream: its id, its kind and, for "next", the
// job progress it carries.
type sseEvent struct {
	id, kind string
	status   string
	percent  int
}

// TestSSESubscriptionResumes: over GraphQL SSE, the events of ocrInvoiceJobProgress carry
// ids (live.EventID); a client that reconnects with Last-Event-ID gets what it missed as
// the job's current state and never an event it already had; once it has the final
// event, the stream completes at once.
func TestSSESubscriptionResumes(t *testing.T) {
	e := newLiveEnv(t, graph.Config{})
	ctx := context.Background()
	id := e.createJob(t, "SSE-R")
	// stream opens the subscription with Last-Event-ID last, runs meanwhile (if any) once
	// the stream has started, and reads its events until n "next" events came (n < 0:
	// until the stream completes).
	stream := func(last string, n int, meanwhile func()) []sseEvent {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"query": progressSub, "variables": map[string]any{"id": id}})
		req, _ := http.NewRequest("POST", e.srv.URL+"/graphql", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		if last != "" {
			req.Header.Set("Last-Event-ID", last)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if meanwhile != nil {
			meanwhile()
		}
		var out []sseEvent
		nexts := 0
		err = livetest.ReadEvents(resp.Body, func(ev livetest.Event) bool {
			se := sseEvent{id: ev.ID, kind: ev.Event}
			if ev.Event == "next" {
				var r struct{ Data progressOut }
				if err := json.Unmarshal(ev.Data, &r); err != nil {
					t.Fatal(err)
				}
				p := r.Data.OcrInvoiceJobProgress
				se.status, se.percent = p.Status, p.Progress.Percentage
				if want := live.EventID(&progress.Event{At: p.At, Status: p.Status}); ev.ID != want {
					t.Errorf("event %s has id %q, want %q", ev.Data, ev.ID, want)
				}
				nexts++
			}
			out = append(out, se)
			return ev.Event != "complete" && (n < 0 || nexts < n)
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	first := stream("", 1, nil)
	if len(first) != 1 || first[0].status != "queued" {
		t.Fatalf("first stream: %+v", first)
	}
	// While the client is away the job starts and reaches 40 %.
	j, err := e.svc.StartProcessing(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	_ = e.pub.Publish(ctx, jobs.EventOf(j, ""))
	if err := e.svc.SetProgress(ctx, id, invoice.Progress{Percentage: 40, CurrentStep: "read", TotalSteps: 6}); err != nil {
		t.Fatal(err)
	}
	missed := stream(first[0].id, 1, nil)
	if len(missed) != 1 || missed[0].status != "processing" || missed[0].percent != 40 {
		t.Fatalf("after reconnecting: %+v, want the current state processing 40 %%", missed)
	}

	// Reconnecting with the current state's id repeats nothing: the job's failure is the
	// one event, then the stream completes.
	rest := stream(missed[0].id, -1, func() {
		j, err := e.svc.Fail(ctx, id, "no such document", true)
		if err != nil {
			t.Fatal(err)
		}
		_ = e.pub.Publish(ctx, jobs.EventOf(j, "no such document"))
	})
	if len(rest) != 2 || rest[0].status != "failed" || rest[1].kind != "complete" {
		t.Fatalf("events after resuming at the current state: %+v, want failed, then complete", rest)
	}
	// The client has the final event: the stream completes without one.
	if again := stream(rest[0].id, -1, nil); len(again) != 1 || again[0].kind != "complete" {
		t.Fatalf("resuming after the final event: %+v, want complete only", again)
	}
	// An id the server never made resumes nothing: the state.
	if again := stream("12-queued-x", -1, nil); len(again) != 2 || again[0].status != "failed" {
		t.Fatalf("an unknown Last-Event-ID: %+v, want the failed state", again)
	}
}

// TestSSEGroupProgressResumes: over GraphQL SSE, the status blocks of ocrJobGroupProgress
// carry ids (live.GroupEventID); a client that reconnects with the block it has is not
// sent it again, and gets the next change; one whose block is out of date gets the
// current one at once.
func TestSSEGroupProgressResumes(t *testing.T) {
	e := newLiveEnv(t, graph.Config{})
	ctx := context.Background()
	g, err := e.svc.CreateGroup(ctx, jobs.GroupInput{Name: "batch"})
	if err != nil {
		t.Fatal(err)
	}
	const sub = `subscription($id: ID!) { ocrJobGroupProgress(id: $id) { phase total active } }`
	// next opens the subscription with Last-Event-ID last, runs meanwhile once the stream
	// has started, and returns the id and data of its first "next" event.
	next := func(last string, meanwhile func()) (string, string) {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"query": sub, "variables": map[string]any{"id": g.ID}})
		req, _ := http.NewRequest("POST", e.srv.URL+"/graphql", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		if last != "" {
			req.Header.Set("Last-Event-ID", last)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if meanwhile != nil {
			meanwhile()
		}
		var id, data string
		_ = livetest.ReadEvents(resp.Body, func(ev livetest.Event) bool {
			if ev.Event != "next" {
				return ev.Event != "complete"
			}
			id, data = ev.ID, string(ev.Data)
			return false
		})
		return id, data
	}
	firstID, first := next("", nil)
	if !strings.HasPrefix(firstID, "g") || !strings.Contains(first, `"total":0`) {
		t.Fatalf("first block %q %s", firstID, first)
	}
	// Reconnecting with it: the next block is the change, not the block again.
	secondID, second := next(firstID, func() {
		in := jobs.JobInput{JobNumber: "G-1", DocumentName: "a.pdf", DocumentURL: "https://example.com/a.pdf",
			Template: jobs.BuiltinTemplateName, Group: g.ID}
		j, err := e.svc.CreateJob(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		_ = e.pub.Publish(ctx, jobs.EventOf(j, ""))
	})
	if secondID == firstID || !strings.Contains(second, `"total":1`) {
		t.Fatalf("after resuming: %q %s, want the block with the new job", secondID, second)
	}
	// An out-of-date id: the current block at once.
	if id, data := next(firstID, nil); id != secondID || data != second {
		t.Errorf("resuming from an old block: %q %s, want the current %q %s", id, data, secondID, second)
	}
}
