package database_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// TestMigrateExtrasBackfill: Migrate may run again on a migrated database, and on a
// database whose jobs predate the search table and the counters (dropped here), it
// fills both from the jobs there; afterwards the triggers keep them in step.
func TestMigrateExtrasBackfill(t *testing.T) {
	if !database.FTS5() {
		t.Fatal("this build's SQLite has no FTS5: build and test with -tags sqlite_fts5 (the Makefile sets it)")
	}
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		tpl := c.OcrTemplate.Create().SetName("backfill").SaveX(ctx)
		for i := range 5 {
			c.OcrInvoiceJob.Create().SetJobNumber(fmt.Sprintf("B-%d", i)).SetDocumentName("old.pdf").
				SetDocumentURL("https://example.com/d").SetTemplateID(tpl.ID).SetCreatedBy("team").SaveX(ctx)
		}
		var drops []string
		switch {
		case isPostgres(ctx, t, c):
			drops = []string{"DROP TABLE " + database.JobCounts}
		default:
			drops = []string{"DROP TABLE " + database.JobSearchFTS, "DROP TABLE " + database.JobSearchDocs, "DROP TABLE " + database.JobCounts}
		}
		for _, q := range drops {
			if _, err := c.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		for range 2 {
			if err := database.Migrate(ctx, c); err != nil {
				t.Fatalf("migrate again: %v", err)
			}
		}
		c.OcrInvoiceJob.Create().SetJobNumber("B-new").SetDocumentName("new.pdf").
			SetDocumentURL("https://example.com/d").SetTemplateID(tpl.ID).SetCreatedBy("team").SaveX(ctx)
		var n int
		rows, err := c.QueryContext(ctx, "SELECT COALESCE(SUM(n), 0) FROM "+database.JobCounts+" WHERE owner = 'team'")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
		}
		rows.Close()
		if n != 6 {
			t.Errorf("counter of team = %d, want 6", n)
		}
		if !isPostgres(ctx, t, c) {
			rows, err := c.QueryContext(ctx, "SELECT count(*) FROM "+database.JobSearchFTS+" WHERE "+database.JobSearchFTS+" MATCH '\"pdf\"'")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
			}
			rows.Close()
			if n != 6 {
				t.Errorf("search index holds %d jobs with pdf, want 6", n)
			}
		}
	})
}

func isPostgres(ctx context.Context, _ *testing.T, c *ent.Client) bool {
	rows, err := c.QueryContext(ctx, "SELECT version()")
	if err != nil {
		return false // SQLite has no version()
	}
	rows.Close()
	return true
}

// TestMigrateExtrasAfterBuildWithoutFTS5: a build without FTS5 drops the index's
// triggers (they would fail every insert) and writes jobs the index does not see; the
// next build with FTS5 rebuilds the index.
func TestMigrateExtrasAfterBuildWithoutFTS5(t *testing.T) {
	if !database.FTS5() {
		t.Fatal("this build's SQLite has no FTS5: build and test with -tags sqlite_fts5 (the Makefile sets it)")
	}
	ctx := context.Background()
	c := databasetest.Open(t) // SQLite
	tpl := c.OcrTemplate.Create().SetName("gap").SaveX(ctx)
	// What Migrate does in a build without FTS5.
	for _, q := range []string{"DROP TRIGGER ocr_job_search_docs_ai", "DROP TRIGGER ocr_job_search_docs_ad"} {
		if _, err := c.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	c.OcrInvoiceJob.Create().SetJobNumber("GAP-1").SetDocumentName("unseen.pdf").
		SetDocumentURL("https://example.com/d").SetTemplateID(tpl.ID).SetCreatedBy("team").SaveX(ctx)
	count := func() int {
		var n int
		rows, err := c.QueryContext(ctx, "SELECT count(*) FROM "+database.JobSearchFTS+" WHERE "+database.JobSearchFTS+" MATCH '\"unseen\"'")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	if n := count(); n != 0 {
		t.Fatalf("index holds %d unseen jobs before the rebuild", n)
	}
	if err := database.Migrate(ctx, c); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("index holds %d unseen jobs after Migrate, want 1", n)
	}
	c.OcrInvoiceJob.Create().SetJobNumber("GAP-2").SetDocumentName("unseen2.pdf").
		SetDocumentURL("https://example.com/d").SetTemplateID(tpl.ID).SetCreatedBy("team").SaveX(ctx)
	if n := count(); n != 2 {
		t.Errorf("index holds %d unseen jobs after a new insert, want 2 (triggers back)", n)
	}
}
