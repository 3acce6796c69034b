package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/live/livetest"
)

var (
	ownerA = auth.Principal{KeyID: "ka", Name: "team-a", Role: auth.RoleSubmitter, Owner: "team-a"}
	ownerB = auth.Principal{KeyID: "kb", Name: "team-b", Role: auth.RoleSubmitter, Owner: "team-b"}
)

// TestCrossOwner: submitter B can neither see nor change submitter A's jobs and groups
// (NOT_FOUND, never FORBIDDEN, and lists leave them out), nor create jobs as A.
func TestCrossOwner(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		base := newEnv(t, c, acceptAll{}, graph.Config{})
		a, b, adm := base.as(&ownerA), base.as(&ownerB), base.as(&admin)
		jobA := a.createJob("A-1", nil)
		jobB := b.createJob("B-1", nil)
		var g struct{ CreateOcrJobGroup struct{ ID string } }
		a.ok(`mutation { createOcrJobGroup(input: {name: "a-batch", documents: [{documentUrl: "https://example.com/x.pdf", documentName: "x.pdf"}]}) { id } }`, nil, &g)
		groupA := g.CreateOcrJobGroup.ID
		// A group of B's holding a job of A's (only an admin can make that).
		adm.ok(`mutation { createOcrJobGroup(input: {name: "b-batch", createdBy: "team-b"}) { id } }`, nil, &g)
		groupB := g.CreateOcrJobGroup.ID
		adm.createJob("A-IN-B", map[string]any{"group": groupB, "createdBy": "team-a"})
		if jobA.ID == "" || jobB.ID == "" || groupA == "" {
			t.Fatal("fixtures")
		}
		idA := map[string]any{"id": jobA.ID}

		for name, q := range map[string]string{
			"ocrInvoiceJob":        `query($id: ID!) { ocrInvoiceJob(id: $id) { id } }`,
			"ocrInvoiceJobResults": `query($id: ID!) { ocrInvoiceJobResults(id: $id) { processingTime } }`,
			"node":                 `query($id: ID!) { node(id: $id) { id } }`,
			"nodes":                `query($id: ID!) { nodes(ids: [$id]) { id } }`,
			"updateOcrInvoiceJob":  `mutation($id: ID!) { updateOcrInvoiceJob(id: $id, input: {priority: urgent}) { id } }`,
			"cancelOcrInvoiceJob":  `mutation($id: ID!) { cancelOcrInvoiceJob(id: $id) { id } }`,
			"retryOcrInvoiceJob":   `mutation($id: ID!) { retryOcrInvoiceJob(id: $id) { id } }`,
		} {
			t.Run(name+" of another owner's job", func(t *testing.T) {
				b.fails(q, idA, "NOT_FOUND")
			})
		}
		for name, q := range map[string]string{
			"ocrJobGroup":        `query($id: ID!) { ocrJobGroup(id: $id) { id } }`,
			"node":               `query($id: ID!) { node(id: $id) { id } }`,
			"updateOcrJobGroup":  `mutation($id: ID!) { updateOcrJobGroup(id: $id, input: {description: "x"}) { id } }`,
			"suspendOcrJobGroup": `mutation($id: ID!) { suspendOcrJobGroup(id: $id) { id } }`,
			"cancelOcrJobGroup":  `mutation($id: ID!) { cancelOcrJobGroup(id: $id) { id } }`,
		} {
			t.Run(name+" of another owner's group", func(t *testing.T) {
				b.fails(q, map[string]any{"id": groupA}, "NOT_FOUND")
			})
		}
		t.Run("lists and counts leave other owners out", func(t *testing.T) {
			var out struct {
				OcrInvoiceJobs struct {
					TotalCount int
					Edges      []struct {
						Node struct{ ID, CreatedBy string }
					}
				}
				OcrJobGroups struct{ TotalCount int }
				OcrTemplate  struct{ Jobs struct{ TotalCount int } }
				OcrJobGroup  struct {
					Jobs struct {
						TotalCount int
						Edges      []struct{ Node struct{ ID string } }
					}
				}
			}
			b.ok(`query($g: ID!) {
  ocrInvoiceJobs(first: 100) { totalCount edges { node { id createdBy } } }
  ocrJobGroups { totalCount }
  ocrTemplate(id: "generic") { jobs { totalCount } }
  ocrJobGroup(id: $g) { jobs { totalCount edges { node { id } } } }
}`, map[string]any{"g": groupB}, &out)
			if j := out.OcrInvoiceJobs; j.TotalCount != 1 || len(j.Edges) != 1 || j.Edges[0].Node.ID != jobB.ID || j.Edges[0].Node.CreatedBy != "team-b" {
				t.Errorf("B's jobs: %+v, want only B-1", j)
			}
			if out.OcrJobGroups.TotalCount != 1 {
				t.Errorf("B sees %d groups, want its own only", out.OcrJobGroups.TotalCount)
			}
			if out.OcrTemplate.Jobs.TotalCount != 1 {
				t.Errorf("template's jobs: B counts %d, want 1", out.OcrTemplate.Jobs.TotalCount)
			}
			if gj := out.OcrJobGroup.Jobs; gj.TotalCount != 0 || len(gj.Edges) != 0 {
				t.Errorf("B's group lists A's job: %+v", gj)
			}
			var all struct{ OcrInvoiceJobs struct{ TotalCount int } }
			adm.ok(`{ ocrInvoiceJobs { totalCount } }`, nil, &all)
			if all.OcrInvoiceJobs.TotalCount != 4 {
				t.Errorf("admin sees %d jobs, want 4", all.OcrInvoiceJobs.TotalCount)
			}
		})
		t.Run("createdBy cannot be another owner", func(t *testing.T) {
			b.fails(createJob, jobVars("B-FORGED", map[string]any{"createdBy": "team-a"}), "FORBIDDEN")
			b.fails(`mutation($id: ID!) { updateOcrInvoiceJob(id: $id, input: {createdBy: "team-a"}) { id } }`, map[string]any{"id": jobB.ID}, "FORBIDDEN")
			b.fails(`mutation { createOcrJobGroup(input: {name: "forged", createdBy: "team-a"}) { id } }`, nil, "FORBIDDEN")
			own := b.createJob("B-OWN", map[string]any{"createdBy": "team-b"})
			var out struct{ OcrInvoiceJob struct{ CreatedBy string } }
			adm.ok(`query($id: ID!) { ocrInvoiceJob(id: $id) { createdBy } }`, map[string]any{"id": own.ID}, &out)
			if out.OcrInvoiceJob.CreatedBy != "team-b" {
				t.Errorf("createdBy %q", out.OcrInvoiceJob.CreatedBy)
			}
		})
		t.Run("A's job is unchanged", func(t *testing.T) {
			var out struct {
				OcrInvoiceJob struct{ Status, Priority, CreatedBy string }
			}
			a.ok(`query($id: ID!) { ocrInvoiceJob(id: $id) { status priority createdBy } }`, idA, &out)
			if j := out.OcrInvoiceJob; j.Status != "queued" || j.Priority != jobA.Priority || j.CreatedBy != "team-a" {
				t.Errorf("A's job after B's attempts: %+v (created %+v)", j, jobA)
			}
			if n, _ := c.OcrInvoiceJob.Query().Count(context.Background()); n != 5 {
				t.Errorf("%d jobs, want 5 (nothing forged)", n)
			}
		})
	})
}

// TestCrossOwnerSubscriptions: B cannot follow A's job or group (NOT_FOUND), and its
// ocrInvoiceJobUpdated stream carries only its own jobs.
func TestCrossOwnerSubscriptions(t *testing.T) {
	e := newLiveEnv(t, graph.Config{RequireAuth: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	keyB := newKey(t, e.keys, "team-b", auth.RoleSubmitter, "team-b")
	asA := auth.WithPrincipal(ctx, ownerA)
	asB := auth.WithPrincipal(ctx, ownerB)
	newJob := func(ctx context.Context, n string) string {
		j, err := e.svc.CreateJob(ctx, jobs.JobInput{JobNumber: n, DocumentName: "a.pdf", DocumentURL: "https://example.com/a.pdf", Template: jobs.BuiltinTemplateName})
		if err != nil {
			t.Fatal(err)
		}
		return j.ID
	}
	jobA := newJob(asA, "SA-1")
	groupA, err := e.svc.CreateGroup(asA, jobs.GroupInput{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}

	for name, tc := range map[string]struct {
		q  string
		id string
	}{
		"job progress":   {progressSub, jobA},
		"group progress": {`subscription($id: ID!) { ocrJobGroupProgress(id: $id) { phase } }`, groupA.ID},
	} {
		t.Run(name+" over SSE", func(t *testing.T) {
			resp, err := livetest.PostSSE(ctx, bearerClient(keyB), e.srv.URL+"/graphql", tc.q, map[string]any{"id": tc.id})
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := livetest.CollectSSE(resp.Body, nil)
			if err != nil || len(got) != 1 || got[0].Code() != "NOT_FOUND" {
				t.Fatalf("got %+v, %v; want NOT_FOUND", got, err)
			}
		})
		t.Run(name+" over WebSocket", func(t *testing.T) {
			ws := dialInit(t, ctx, e.wsURL(), livetest.TransportWS, map[string]any{"Authorization": "Bearer " + keyB})
			defer ws.c.CloseNow()
			ws.subscribe(t, ctx, "1", tc.q, map[string]any{"id": tc.id})
			m := ws.next(t, ctx)
			if m.Type != "error" || !strings.Contains(string(m.Payload), "NOT_FOUND") {
				if m.Type == "next" {
					var r livetest.Response
					_ = json.Unmarshal(m.Payload, &r)
					if r.Code() == "NOT_FOUND" {
						return
					}
				}
				t.Fatalf("got %s %s, want NOT_FOUND", m.Type, m.Payload)
			}
		})
	}

	t.Run("ocrInvoiceJobUpdated carries only B's jobs", func(t *testing.T) {
		ws := dialInit(t, ctx, e.wsURL(), livetest.LegacyWS, map[string]any{"apiKey": keyB})
		defer ws.c.CloseNow()
		ws.subscribe(t, ctx, "upd", `subscription { ocrInvoiceJobUpdated { id jobNumber status createdBy } }`, nil)
		msgs := make(chan livetest.Message, 64)
		go func() {
			defer close(msgs)
			for {
				m, err := ws.read(ctx)
				if err != nil {
					return
				}
				msgs <- m
			}
		}()
		type update struct{ JobNumber, Status, CreatedBy string }
		nextUpdate := func(wait time.Duration) (update, bool) {
			t.Helper()
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatal("the WebSocket closed")
				}
				if m.ID != "upd" || m.Type != "next" {
					t.Fatalf("message %s %s", m.Type, m.Payload)
				}
				var r struct {
					Data struct{ OcrInvoiceJobUpdated update }
				}
				_ = json.Unmarshal(m.Payload, &r)
				u := r.Data.OcrInvoiceJobUpdated
				if u.CreatedBy != "team-b" {
					t.Fatalf("B received %+v", u)
				}
				return u, true
			case <-time.After(wait):
				return update{}, false
			}
		}
		// The subscription is live once one of B's probe jobs comes through (a fixed
		// sleep was not always enough on a loaded machine).
		for i, deadline := 0, time.Now().Add(20*time.Second); ; i++ {
			if time.Now().After(deadline) {
				t.Fatal("the subscription never delivered a probe job")
			}
			newJob(asB, fmt.Sprintf("SB-PROBE-%d", i))
			if _, ok := nextUpdate(300 * time.Millisecond); ok {
				break
			}
		}
		newJob(asA, "SA-2")
		idB := newJob(asB, "SB-1")
		e.finish(t, jobA)
		if _, err := e.svc.CancelJob(asB, idB); err != nil {
			t.Fatal(err)
		}
		// The stream tells changes as it reads them: on a loaded machine the read after
		// "queued" may already see "cancelled", and a status passed through faster than
		// a read is skipped, never repeated (live.Watcher.JobUpdates).
		var got []string
		for len(got) == 0 || got[len(got)-1] != "SB-1 cancelled" {
			u, ok := nextUpdate(20 * time.Second)
			if !ok {
				t.Fatalf("B received %v, then nothing", got)
			}
			if strings.HasPrefix(u.JobNumber, "SB-PROBE-") {
				continue
			}
			got = append(got, u.JobNumber+" "+u.Status)
		}
		if s := strings.Join(got, ", "); s != "SB-1 queued, SB-1 cancelled" && s != "SB-1 cancelled" {
			t.Errorf("B received %v", got)
		}
	})
}
