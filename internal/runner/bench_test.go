package runner_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/runner"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// BenchmarkReconcileGroup10000 is one steady-state reconcile pass over a group of
// 10,000 jobs on SQLite, parallelism 50 (its 50 active jobs released by the first pass):
// read the group, classify its jobs (one query over three columns), nothing to release,
// status unchanged so nothing written — 2 queries per pass by construction.
func BenchmarkReconcileGroup10000(b *testing.B) {
	ctx := context.Background()
	c := databasetest.Open(b)
	srv := redistest.Start(b)
	q := tasks.NewClient(asynq.RedisClientOpt{Addr: srv.Addr})
	b.Cleanup(func() { _ = q.Close() })
	svc := jobs.NewService(c, q, jobs.Options{Logger: quiet})
	if err := svc.EnsureBuiltins(ctx); err != nil {
		b.Fatal(err)
	}
	docs := make([]jobs.GroupDocument, jobs.MaxGroupDocuments)
	for i := range docs {
		docs[i] = jobs.GroupDocument{DocumentURL: fmt.Sprintf("https://files.example.com/%d.pdf", i), DocumentName: fmt.Sprintf("%d.pdf", i)}
	}
	g, err := svc.CreateGroup(ctx, jobs.GroupInput{Name: "bench", Spec: invoice.GroupSpec{Parallelism: 50}, Documents: docs})
	if err != nil {
		b.Fatal(err)
	}
	rec := &runner.GroupReconciler{Jobs: svc, Logger: quiet}
	if _, err := rec.Reconcile(ctx, g.ID); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := rec.Reconcile(ctx, g.ID); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(2, "queries/op")
}
