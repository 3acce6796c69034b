package runner_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/runner"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// TestMetrics: reconciles are counted by result and timed; a resync sets the groups by
// phase (every phase, zero included) and the queue depths read from a real Redis; Reset
// clears the gauges.
func TestMetrics(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	q := tasks.NewClient(asynq.RedisClientOpt{Addr: srv.Addr})
	t.Cleanup(func() { _ = q.Close() })
	reg := prometheus.NewRegistry()
	m := runner.NewMetrics(reg, q, quiet)

	m.Reconciled("g1", 3*time.Millisecond, nil)
	m.Reconciled("g1", 2*time.Millisecond, nil)
	m.Reconciled("g2", time.Millisecond, errors.New("database down"))

	// Redis has never seen a queue: every depth is zero.
	m.Resynced(ctx, nil)
	if err := q.EnqueueJob(ctx, "job-high-1", "high"); err != nil {
		t.Fatal(err)
	}
	if err := q.EnqueueJob(ctx, "job-high-2", "high"); err != nil {
		t.Fatal(err)
	}
	groups := []*ent.OcrJobGroup{
		{Status: invoice.GroupStatus{Phase: invoice.GroupPhaseRunning}},
		{Status: invoice.GroupStatus{Phase: invoice.GroupPhaseRunning}},
		{Status: invoice.GroupStatus{Phase: invoice.GroupPhaseComplete}},
		{}, // not reconciled yet: Pending
	}
	m.Resynced(ctx, groups)
	got := gather(t, reg)
	want := map[string]float64{
		"groups/Complete": 1, "groups/Failed": 0, "groups/Pending": 1, "groups/Running": 2, "groups/Suspended": 0,
		"reconciles/error": 1, "reconciles/success": 2, "duration_count": 3,
		"queue/high/pending": 2, "queue/high/active": 0, "queue/medium/pending": 0, "queue/urgent/retry": 0, "queue/low/scheduled": 0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if n := len(got); n != 5+2+1+16 {
		t.Errorf("%d series, want 5 phases, 2 results, 1 histogram, 4 queues x 4 states: %v", n, got)
	}

	m.Reset()
	if got := gather(t, reg); len(got) != 3 {
		t.Fatalf("after Reset: %v, want only the counters and the histogram", got)
	}
}

// gather returns the runner's series by short name: groups/PHASE, reconciles/RESULT,
// duration_count, queue/QUEUE/STATE.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range mt.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			switch mf.GetName() {
			case "ocrinvoice_runner_groups":
				got["groups/"+l["phase"]] = mt.GetGauge().GetValue()
			case "ocrinvoice_runner_reconciles_total":
				got["reconciles/"+l["result"]] = mt.GetCounter().GetValue()
			case "ocrinvoice_runner_reconcile_duration_seconds":
				got["duration_count"] = float64(mt.GetHistogram().GetSampleCount())
			case "ocrinvoice_runner_queue_tasks":
				got["queue/"+l["queue"]+"/"+l["state"]] = mt.GetGauge().GetValue()
			}
		}
	}
	return got
}
