package database_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

func TestOpenRejectsBadURLs(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"empty", "", "empty database URL"},
		{"unknown scheme", "mysql://root@localhost/x", "unsupported URL"},
		{"sqlite without path", "sqlite:", "no file path"},
		{"postgres unreachable", "postgres://nobody:secret@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", "connect to postgres"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := database.Open(context.Background(), tt.url)
			if err == nil {
				_ = c.Close()
				t.Fatalf("Open(%q) succeeded, want error containing %q", tt.url, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open(%q) error = %v, want it to contain %q", tt.url, err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestOpenSQLiteCreatesDirectoryAndEnablesWAL(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nested", "dir", "db.sqlite")
	c, err := database.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer c.Close()
	if err := database.Migrate(ctx, c); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	// Migrate is additive and repeatable.
	if err := database.Migrate(ctx, c); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "10000"} {
		rows, err := c.QueryContext(ctx, "PRAGMA "+pragma)
		if err != nil {
			t.Fatalf("PRAGMA %s: %v", pragma, err)
		}
		var got string
		rows.Next()
		if err := rows.Scan(&got); err != nil {
			t.Fatalf("scan PRAGMA %s: %v", pragma, err)
		}
		rows.Close()
		if got != want {
			t.Errorf("PRAGMA %s = %q, want %q", pragma, got, want)
		}
	}
}

func TestEachGivesFreshDatabases(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		if err := database.Ping(ctx, c); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		n, err := c.OcrTemplate.Query().Count(ctx)
		if err != nil {
			t.Fatalf("count templates: %v", err)
		}
		if n != 0 {
			t.Fatalf("fresh database has %d templates, want 0", n)
		}
		tpl, err := c.OcrTemplate.Create().SetName("t1").Save(ctx)
		if err != nil {
			t.Fatalf("create template: %v", err)
		}
		if d := tpl.UpdatedAt.Sub(tpl.CreatedAt); len(tpl.ID) != 24 || d < 0 || d > time.Second || tpl.CreatedAt.Location() != time.UTC {
			t.Errorf("template id/time defaults wrong: %+v", tpl)
		}
		// Timestamps read back are UTC on every database (PostgreSQL sessions run in UTC).
		back, err := c.OcrTemplate.Get(ctx, tpl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, off := back.CreatedAt.Zone(); off != 0 || !back.CreatedAt.Equal(tpl.CreatedAt) {
			t.Errorf("created_at read back as %v, stored %v", back.CreatedAt, tpl.CreatedAt)
		}
		// The foreign key from job to template is enforced.
		_, err = c.OcrInvoiceJob.Create().SetJobNumber("J1").SetDocumentName("a.pdf").
			SetDocumentURL("https://example.com/a.pdf").SetTemplateID("0123456789abcdef01234567").Save(ctx)
		if err == nil {
			t.Error("job with a missing template was stored; foreign keys are off")
		}
	})
}

// TestLowerFoldsUnicode: lower(), which ent's case-insensitive predicates use, lowers
// every letter on SQLite as on PostgreSQL, not only A-Z; NULL stays NULL.
func TestLowerFoldsUnicode(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		rows, err := c.QueryContext(ctx, "SELECT lower('MÜLLER ÉTÉ ДОГОВОР'), lower(NULL) IS NULL, lower('ABC')")
		if err != nil {
			t.Fatalf("query: %v", err)
		}
		defer rows.Close()
		var (
			got, ascii string
			null       bool
		)
		if !rows.Next() {
			t.Fatalf("no row: %v", rows.Err())
		}
		if err := rows.Scan(&got, &null, &ascii); err != nil {
			t.Fatalf("scan: %v", err)
		}
		if got != "müller été договор" || !null || ascii != "abc" {
			t.Errorf("lower = %q, lower(NULL) IS NULL = %v, lower('ABC') = %q", got, null, ascii)
		}
	})
}
