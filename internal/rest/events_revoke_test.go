package rest

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/live/livetest"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
)

// TestJobEventsAuthRevokedKey: a stream opened with an API key re-checks it before each
// event after the first; once the key is revoked the stream ends with one error event
// (UNAUTHENTICATED, an ErrorResponse), and with a valid key the events flow to the
// terminal one.
func TestJobEventsAuthRevokedKey(t *testing.T) {
	var keys *apikeys.Store
	e := newEventsEnv(t, func(c *ent.Client) Option {
		keys = apikeys.New(c, slog.New(slog.DiscardHandler))
		return WithAuthenticator(keys)
	})
	ctx := context.Background()
	doc, _ := loadSpec(t)
	errSchema := doc.Components.Schemas["ErrorResponse"].Value

	for i, tc := range []struct {
		name   string
		revoke bool
	}{
		{"valid key: events flow to the terminal one", false},
		{"revoked key: an error event, then the end", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			created, err := keys.Create(ctx, apikeys.CreateInput{Name: "submitter " + strconv.Itoa(i), Role: auth.RoleSubmitter, Owner: "team-a"})
			if err != nil {
				t.Fatal(err)
			}
			p, err := keys.Authenticate(ctx, created.Key)
			if err != nil {
				t.Fatal(err)
			}
			as := e.as(t, &p)
			id := as.do("POST", "/api/v1/ocr-invoice-jobs", e.jobBodyFor("REV-"+strconv.Itoa(i), nil)).must(t, http.StatusCreated).data()["_id"].(string)

			// e.env.raw: the handler without the testAdmin middleware of e.raw.
			srv := httptest.NewServer(authenticated(e.env.raw, &p))
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL+"/api/v1/ocr-invoice-jobs/"+id+"/events", nil)
			req.Header.Set("Authorization", "Bearer "+created.Key)
			resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			br := &lineReader{r: resp.Body}
			if first := checkEvents(t, br.untilBlank()); len(first) != 1 || first[0].Status != "queued" {
				t.Fatalf("first events %+v, want the current state", first)
			}
			// The second event passes the re-check (the key is still valid).
			j, err := e.svc.StartProcessing(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			_ = e.pub.Publish(ctx, jobs.EventOf(j, ""))
			if second := checkEvents(t, bytes.NewReader(readBlock(br))); len(second) != 1 || second[0].Status != "processing" {
				t.Fatalf("second events %+v, want processing", second)
			}

			if !tc.revoke {
				j, err = e.svc.Complete(ctx, id, jobs.CompleteInput{Pages: 1})
				if err != nil {
					t.Fatal(err)
				}
				_ = e.pub.Publish(ctx, jobs.EventOf(j, ""))
				rest := checkEvents(t, bytes.NewReader(br.rest()))
				if len(rest) != 1 || rest[0].Status != "completed" {
					t.Fatalf("last events %+v, want completed", rest)
				}
				return
			}

			if _, err := keys.Revoke(ctx, created.APIKey.ID); err != nil {
				t.Fatal(err)
			}
			pr := invoice.Progress{Percentage: 50, CurrentStep: "read", TotalSteps: 6}
			_ = e.svc.SetProgress(ctx, id, pr)
			_ = e.pub.Publish(ctx, progress.Event{JobID: id, Status: "processing", Progress: pr})
			var got []livetest.Event
			if err := livetest.ReadEvents(strings.NewReader(string(br.rest())), func(ev livetest.Event) bool {
				got = append(got, ev)
				return true
			}); err != nil {
				t.Fatal(err)
			}
			// No id: a client that reconnects resumes after its last progress event.
			if len(got) != 1 || got[0].Event != "error" || got[0].ID != "" {
				t.Fatalf("events after the revocation %+v, want one error event without id, then the end", got)
			}
			v, err := decodeAny(got[0].Data)
			if err != nil {
				t.Fatal(err)
			}
			if err := errSchema.VisitJSON(v, schemaOpts...); err != nil {
				t.Errorf("error event data %s does not match ErrorResponse: %v", got[0].Data, err)
			}
			body, _ := v.(map[string]any)["error"].(map[string]any)
			if body["code"] != "UNAUTHENTICATED" || body["message"] != "the API key was revoked" {
				t.Errorf("error event data %s", got[0].Data)
			}
		})
	}
}

// readBlock returns the next event of the stream (skipping keep-alive comments) as bytes.
func readBlock(l *lineReader) []byte {
	var b strings.Builder
	r := l.untilBlank()
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return []byte(b.String())
		}
	}
}
