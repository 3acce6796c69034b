// Package databasetest gives tests a fresh, migrated database of their own: a SQLite
// file in t.TempDir(), and, when TEST_DATABASE_URL points at PostgreSQL, a private
// schema in that database that is dropped at cleanup.
package databasetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
)

// EnvPostgresURL names the variable holding a PostgreSQL URL for tests, e.g.
// postgres://root@127.0.0.1:5432/test?sslmode=disable.
const EnvPostgresURL = "TEST_DATABASE_URL"

// Open returns a fresh migrated SQLite database in t.TempDir(), closed at cleanup.
func Open(t testing.TB) *ent.Client {
	t.Helper()
	return open(t, "sqlite:"+filepath.Join(t.TempDir(), "test.db"))
}

// OpenPostgres returns a client on a fresh migrated schema of the database at
// TEST_DATABASE_URL; the schema is dropped at cleanup. It skips the test when the
// variable is unset.
func OpenPostgres(t testing.TB) *ent.Client {
	t.Helper()
	base := os.Getenv(EnvPostgresURL)
	if base == "" {
		t.Skipf("%s is not set; skipping PostgreSQL", EnvPostgresURL)
	}
	return open(t, newSchema(t, base))
}

// Each runs fn on SQLite (subtest "sqlite") and, when TEST_DATABASE_URL is set, on
// PostgreSQL (subtest "postgres"), each with a fresh migrated database.
func Each(t *testing.T, fn func(t *testing.T, c *ent.Client)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, Open(t)) })
	if os.Getenv(EnvPostgresURL) != "" {
		t.Run("postgres", func(t *testing.T) { fn(t, OpenPostgres(t)) })
	}
}

func open(t testing.TB, dbURL string) *ent.Client {
	t.Helper()
	ctx := context.Background()
	c, err := database.Open(ctx, dbURL)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := database.Migrate(ctx, c); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	return c
}

// newSchema creates a uniquely named schema in the database at base and returns base
// with search_path set to it. The schema is dropped at cleanup (after the client that
// uses it is closed, as cleanups run last-in first-out).
func newSchema(t testing.TB, base string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	db, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatalf("open %s: %v", EnvPostgresURL, err)
	}
	if _, err := db.Exec(`CREATE SCHEMA "` + schema + `"`); err != nil {
		_ = db.Close()
		t.Fatalf("create test schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec(`DROP SCHEMA IF EXISTS "` + schema + `" CASCADE`); err != nil {
			t.Errorf("drop test schema %s: %v", schema, err)
		}
		_ = db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgresURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// PostgresURL returns the URL of a fresh, empty schema of the database at
// TEST_DATABASE_URL (dropped at cleanup), for tests that open the database themselves
// (database.OpenWith). It skips the test when the variable is unset.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgresURL)
	if base == "" {
		t.Skipf("%s is not set; skipping PostgreSQL", EnvPostgresURL)
	}
	return newSchema(t, base)
}

// OpenWith is Open (or OpenPostgres, for a URL of PostgresURL) with the given pool and
// deadline options: a migrated client of dbURL, closed at cleanup.
func OpenWith(t testing.TB, dbURL string, opts database.Options) *ent.Client {
	t.Helper()
	ctx := context.Background()
	c, err := database.OpenWith(ctx, dbURL, opts)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := database.Migrate(ctx, c); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	return c
}
