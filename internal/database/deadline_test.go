package database_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// slowSQL is a predicate each database takes far longer than the test's deadlines to
// evaluate: a recursive count to a billion on SQLite, pg_sleep on PostgreSQL.
func slowPredicate(postgres bool) func(*entsql.Selector) {
	if postgres {
		return func(s *entsql.Selector) { s.Where(entsql.ExprP("pg_sleep(30) IS NOT NULL")) }
	}
	return func(s *entsql.Selector) {
		s.Where(entsql.ExprP("(WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 1000000000) SELECT count(*) FROM r) > 0"))
	}
}

// eachBounded runs fn on SQLite and, with TEST_DATABASE_URL, PostgreSQL, each opened
// with opts and holding the built-in templates (rows for a slow predicate to run on).
func eachBounded(t *testing.T, opts database.Options, fn func(t *testing.T, c *ent.Client, postgres bool)) {
	t.Run("sqlite", func(t *testing.T) {
		c := databasetest.OpenWith(t, "sqlite:"+filepath.Join(t.TempDir(), "t.db"), opts)
		seed(t, c)
		fn(t, c, false)
	})
	t.Run("postgres", func(t *testing.T) {
		c := databasetest.OpenWith(t, databasetest.PostgresURL(t), opts)
		seed(t, c)
		fn(t, c, true)
	})
}

func seed(t *testing.T, c *ent.Client) {
	t.Helper()
	if err := jobs.NewService(c, nil, jobs.Options{}).EnsureBuiltins(context.Background()); err != nil {
		t.Fatalf("EnsureBuiltins: %v", err)
	}
}

// TestStatementTimeoutCancelsSlowQuery: a statement of a context with
// WithStatementTimeout is cancelled at that deadline, through ent's query path and the
// raw QueryContext alike, and its error is a QueryTimedOut one (so the API answers
// UNAVAILABLE with MsgQueryTimeout, not INTERNAL); the pool stays usable after it.
func TestStatementTimeoutCancelsSlowQuery(t *testing.T) {
	eachBounded(t, database.Options{}, func(t *testing.T, c *ent.Client, postgres bool) {
		ctx := database.WithStatementTimeout(context.Background(), 200*time.Millisecond)
		start := time.Now()
		_, err := c.OcrTemplate.Query().Where(slowPredicate(postgres)).Count(ctx)
		took := time.Since(start)
		if err == nil {
			t.Fatal("slow query succeeded, want it cancelled")
		}
		if !apperr.QueryTimedOut(err) {
			t.Fatalf("error %v (%T) is not recognised as a query timeout", err, err)
		}
		if took > 5*time.Second {
			t.Fatalf("slow query took %v, want it stopped near its 200ms deadline", took)
		}
		ae := apperr.Internal(err)
		if apperr.HTTPStatus(ae) != 503 || ae.PublicMessage() != apperr.MsgQueryTimeout {
			t.Fatalf("Internal(err) = %d %q, want 503 with the timeout message", apperr.HTTPStatus(ae), ae.PublicMessage())
		}

		// The raw path (client.QueryContext) is bounded too.
		q := "SELECT pg_sleep(30)"
		if !postgres {
			q = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 1000000000) SELECT count(*) FROM r"
		}
		start = time.Now()
		rows, err := c.QueryContext(ctx, q)
		if err == nil {
			for rows.Next() {
			}
			err = rows.Err()
			_ = rows.Close()
		}
		if !apperr.QueryTimedOut(err) || time.Since(start) > 5*time.Second {
			t.Fatalf("raw slow query: error %v after %v, want a query timeout near 200ms", err, time.Since(start))
		}

		// The same client answers the next statements.
		if n, err := c.OcrTemplate.Query().Count(context.Background()); err != nil || n == 0 {
			t.Fatalf("count after the timeout: %d, %v", n, err)
		}
	})
}

// TestDefaultStatementTimeout: a context without a timeout of its own gets
// Options.StatementTimeout; on PostgreSQL it is also the session's statement_timeout, so
// that the server itself stops a statement whose client fails to.
func TestDefaultStatementTimeout(t *testing.T) {
	eachBounded(t, database.Options{StatementTimeout: 300 * time.Millisecond}, func(t *testing.T, c *ent.Client, postgres bool) {
		start := time.Now()
		_, err := c.OcrTemplate.Query().Where(slowPredicate(postgres)).Count(context.Background())
		if !apperr.QueryTimedOut(err) || time.Since(start) > 5*time.Second {
			t.Fatalf("slow query without a context timeout: error %v after %v, want a timeout near 300ms", err, time.Since(start))
		}
		// A longer timeout in the context replaces the default.
		ctx := database.WithStatementTimeout(context.Background(), time.Minute)
		if _, err := c.OcrTemplate.Query().Count(ctx); err != nil {
			t.Fatalf("count: %v", err)
		}
		if !postgres {
			return
		}
		rows, err := c.QueryContext(context.Background(), "SHOW statement_timeout")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var v string
		if !rows.Next() {
			t.Fatalf("SHOW statement_timeout: no row (%v)", rows.Err())
		}
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != "300ms" {
			t.Fatalf("session statement_timeout = %q, want 300ms", v)
		}
	})
}

// TestPostgresServerSideStatementTimeout: PostgreSQL's own statement_timeout (set on the
// connection by OpenWith) stops a statement even when the client's deadline is longer:
// it answers SQLSTATE 57014, which QueryTimedOut recognises.
func TestPostgresServerSideStatementTimeout(t *testing.T) {
	c := databasetest.OpenWith(t, databasetest.PostgresURL(t), database.Options{StatementTimeout: 300 * time.Millisecond})
	// A client deadline far beyond the server's: the server acts first.
	ctx := database.WithStatementTimeout(context.Background(), time.Minute)
	start := time.Now()
	rows, err := c.QueryContext(ctx, "SELECT pg_sleep(30)")
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		_ = rows.Close()
	}
	if err == nil || errors.Is(err, context.DeadlineExceeded) || !apperr.QueryTimedOut(err) {
		t.Fatalf("error %v, want PostgreSQL's statement timeout (57014)", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("took %v", took)
	}
}

// TestMeterAddsDatabaseTime: the statements of a context with a Meter add their time.
func TestMeterAddsDatabaseTime(t *testing.T) {
	eachBounded(t, database.Options{}, func(t *testing.T, c *ent.Client, postgres bool) {
		m := new(database.Meter)
		ctx := database.WithMeter(database.WithStatementTimeout(context.Background(), 300*time.Millisecond), m)
		_, _ = c.OcrTemplate.Query().Where(slowPredicate(postgres)).Count(ctx)
		if got := m.Spent(); got < 250*time.Millisecond || got > 10*time.Second {
			t.Fatalf("meter = %v after a statement cancelled at 300ms", got)
		}
		before := m.Spent()
		if _, err := c.OcrTemplate.Query().All(ctx); err != nil {
			t.Fatal(err)
		}
		if m.Spent() <= before {
			t.Fatalf("meter did not grow with a second statement: %v", m.Spent())
		}
	})
}

// TestPoolCap: OpenWith opens at most MaxConns connections: with one, three statements
// sent at once run one after another (on the old, uncapped pool they ran together).
func TestPoolCap(t *testing.T) {
	if got := database.DefaultMaxConns(); got < 4 {
		t.Fatalf("DefaultMaxConns = %d, want at least 4", got)
	}
	c := databasetest.OpenWith(t, databasetest.PostgresURL(t), database.Options{MaxConns: 1})
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.ExecContext(context.Background(), "SELECT pg_sleep(0.3)")
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took < 850*time.Millisecond {
		t.Fatalf("three 0.3 s statements on a pool of one took %v, want them one after another (>= 0.9 s)", took)
	}
}
