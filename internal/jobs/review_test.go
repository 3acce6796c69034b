package jobs_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
	"github.com/ocrinvoice/ocrinvoice/worker/validate"
)

func reviewData() *invoice.ExtractedData {
	return &invoice.ExtractedData{
		Invoice: invoice.Invoice{Number: "INV-1", Date: "2024-03-01", Supplier: invoice.Supplier{Name: "Acme"},
			Amounts: invoice.Amounts{Subtotal: invoice.Float(100), Tax: invoice.Float(20), Total: invoice.Float(120), Currency: "EUR"}},
		LineItems: []invoice.LineItem{{Description: "Widget", Quantity: invoice.Float(1), UnitPrice: invoice.Float(100), Amount: invoice.Float(100)}},
	}
}

// TestReviewLifecycle: completion starts an unreviewed version with the machine's data
// and its evidence; each correction and approval is published to subscribers (with the
// new data version) and queues a webhook task of its own, distinct from the
// completion's; a re-run starts over at unreviewed and its completion keeps the audit
// trail. On one private Redis that holds the queue and the events.
func TestReviewLifecycle(t *testing.T) {
	q := startQueue(t)
	rs := redistest.Start(t)
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rc.Close() })
	hub := progress.NewHub(rc, progress.HubOptions{Logger: quiet})
	t.Cleanup(func() { _ = hub.Close() })
	select {
	case <-hub.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("hub not subscribed")
	}
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		s := jobs.NewService(c, nil, jobs.Options{Logger: quiet, Webhooks: q.Client, EnqueueTimeout: 2 * time.Second,
			Events: progress.NewPublisher(rc, progress.PublisherOptions{}), Revalidate: validate.Revalidate})
		if err := s.EnsureBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		in := validInput("REVIEW-" + t.Name()[len(t.Name())-3:])
		in.CallbackURL = "https://hooks.example.com/review"
		j, err := s.CreateJob(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartProcessing(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		evidence := map[string]invoice.Evidence{"invoice.amounts.total": {Page: 1, Box: &invoice.Box{X0: 0.7, Y0: 0.8, X1: 0.9, Y1: 0.82}, Text: "120.00", Source: invoice.SourceText, Confidence: 0.9}}
		done, err := s.Complete(ctx, j.ID, jobs.CompleteInput{Pages: 1, ExtractedData: reviewData(), Evidence: evidence,
			Confidence:        &invoice.Confidence{Overall: 0.9, Fields: map[string]float64{"invoice.amounts.total": 0.9}},
			ValidationResults: &invoice.ValidationResults{IsValid: true, Errors: []invoice.ValidationError{}}})
		if err != nil {
			t.Fatal(err)
		}
		if done.ReviewStatus != ocrinvoicejob.ReviewStatusUnreviewed || done.DataVersion != 1 || done.MachineData == nil || done.Evidence["invoice.amounts.total"].Page != 1 {
			t.Fatalf("completed: review %s, version %d, machine data %v, evidence %v", done.ReviewStatus, done.DataVersion, done.MachineData, done.Evidence)
		}
		if fs := jobs.Fields(done); len(fs) == 0 || !slices.ContainsFunc(fs, func(f *jobs.ExtractedField) bool {
			return f.Path == "invoice.amounts.total" && f.Value == 120.0 && f.Source == invoice.SourceText && f.Evidence != nil && *f.Confidence == 0.9
		}) {
			t.Errorf("fields of the completed job lack the total with its evidence")
		}

		events, stop := hub.Subscribe(ctx, j.ID)
		defer stop()
		caller := auth.WithPrincipal(ctx, auth.Principal{KeyID: "key-1", Role: auth.RoleSubmitter})
		fixed, err := s.CorrectJob(caller, j.ID, jobs.CorrectInput{Fields: []jobs.FieldValue{{Path: "invoice.amounts.total", Value: json.RawMessage("150")}}, IfVersion: ptr(1)})
		if err != nil {
			t.Fatal(err)
		}
		if fixed.ValidationResults.IsValid {
			t.Errorf("total 150 for 100 + 20 validates: %+v", fixed.ValidationResults)
		}
		if ev := eventAfter(t, events, 1); ev.Status != "completed" || ev.Message != jobs.EventCorrected || ev.DataVersion != 2 {
			t.Errorf("correction event %+v, want completed/corrected at version 2", ev)
		}
		if _, err := s.ApproveJob(caller, j.ID, ptr(2)); err != nil {
			t.Fatal(err)
		}
		if ev := eventAfter(t, events, 2); ev.Message != jobs.EventApproved || ev.DataVersion != 3 {
			t.Errorf("approval event %+v, want approved at version 3", ev)
		}
		if _, err := s.ApproveJob(caller, j.ID, nil); err != nil { // no change: no webhook, no event
			t.Fatal(err)
		}
		want := []string{
			tasks.WebhookTaskID(j.ID, "completed", 0),
			tasks.WebhookVersionTaskID(j.ID, "completed", 0, 2),
			tasks.WebhookVersionTaskID(j.ID, "completed", 0, 3),
		}
		got := slices.DeleteFunc(q.webhookTasks(t), func(id string) bool { return !strings.Contains(id, j.ID) })
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("webhook tasks %v, want %v", got, want)
		}

		// A re-run starts over; its completion keeps the people's corrections.
		in.DocumentURL = "https://files.example.com/other.pdf"
		rerun, err := s.UpdateJob(ctx, j.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if rerun.ReviewStatus != ocrinvoicejob.ReviewStatusUnreviewed || rerun.DataVersion != 4 || rerun.MachineData != nil || rerun.Evidence != nil {
			t.Errorf("re-run: review %s, version %d, machine data %v, evidence %v", rerun.ReviewStatus, rerun.DataVersion, rerun.MachineData, rerun.Evidence)
		}
		if _, err := s.CorrectJob(caller, j.ID, jobs.CorrectInput{Patch: []byte(`{"invoice":{"number":"X"}}`), IfVersion: ptr(3)}); apperr.KindOf(err) != apperr.KindConflict {
			t.Errorf("correction at the version before the re-run: %v, want a conflict", err)
		}
		if _, err := s.StartProcessing(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		again, err := s.Complete(ctx, j.ID, jobs.CompleteInput{Pages: 1, ExtractedData: reviewData()})
		if err != nil {
			t.Fatal(err)
		}
		if again.ReviewStatus != ocrinvoicejob.ReviewStatusUnreviewed || again.DataVersion != 5 || len(again.Corrections) != 1 || again.Evidence != nil {
			t.Errorf("completed again: review %s, version %d, %d corrections, evidence %v", again.ReviewStatus, again.DataVersion, len(again.Corrections), again.Evidence)
		}
	})
}

// eventAfter returns the next event of ch with a data version above version, skipping
// older ones (the completion's event may still be on its way when a test subscribes).
func eventAfter(t *testing.T, ch <-chan progress.Event, version int) progress.Event {
	t.Helper()
	for {
		if ev := nextEvent(t, ch); ev.DataVersion > version {
			return ev
		}
	}
}

// TestCorrectJobRace: of two corrections made against the same version, one wins and
// the other is a conflict; neither is lost silently.
func TestCorrectJobRace(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		s := jobs.NewService(c, nil, jobs.Options{Logger: quiet})
		if err := s.EnsureBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		j, err := s.CreateJob(ctx, validInput("RACE-"+t.Name()[len(t.Name())-3:]))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartProcessing(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Complete(ctx, j.ID, jobs.CompleteInput{Pages: 1, ExtractedData: reviewData()}); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 8)
		for i := range 8 {
			go func() {
				_, err := s.CorrectJob(ctx, j.ID, jobs.CorrectInput{Fields: []jobs.FieldValue{{Path: "invoice.number", Value: json.RawMessage(`"N-` + string(rune('A'+i)) + `"`)}}, IfVersion: ptr(1)})
				errs <- err
			}()
		}
		won := 0
		for range 8 {
			switch err := <-errs; apperr.KindOf(err) {
			case "":
				won++
			case apperr.KindConflict:
			default:
				t.Errorf("racing correction: %v", err)
			}
		}
		final, err := s.GetJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if won != 1 || final.DataVersion != 2 || len(final.Corrections) != 1 {
			t.Errorf("%d corrections won, version %d, %d recorded; want exactly one", won, final.DataVersion, len(final.Corrections))
		}
	})
}

// TestCorrectJobInputLimits: too many values, an oversized patch, both forms at once or
// neither are refused before the job is read.
func TestCorrectJobInputLimits(t *testing.T) {
	s := jobs.NewService(databasetest.Open(t), nil, jobs.Options{Logger: quiet})
	const id = "0123456789abcdef01234567"
	many := make([]jobs.FieldValue, jobs.MaxFieldValues+1)
	for i := range many {
		many[i] = jobs.FieldValue{Path: "invoice.number", Value: json.RawMessage(`"x"`)}
	}
	big := append([]byte(`{"invoice":{"number":"`), make([]byte, jobs.MaxPatchBytes)...)
	for name, tc := range map[string]struct {
		in   jobs.CorrectInput
		kind apperr.Kind
	}{
		"too many values": {jobs.CorrectInput{Fields: many}, apperr.KindTooLarge},
		"patch too large": {jobs.CorrectInput{Patch: big}, apperr.KindTooLarge},
		"both forms":      {jobs.CorrectInput{Patch: []byte(`{}`), Fields: many[:1]}, apperr.KindInvalid},
		"neither":         {jobs.CorrectInput{}, apperr.KindInvalid},
	} {
		if _, err := s.CorrectJob(context.Background(), id, tc.in); apperr.KindOf(err) != tc.kind {
			t.Errorf("%s: %v, want %s", name, err, tc.kind)
		}
	}
	if _, err := s.CorrectJob(context.Background(), id, jobs.CorrectInput{Patch: []byte(`{}`)}); apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("unknown job: %v, want NotFound", err)
	}
}
