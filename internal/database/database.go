// Package database opens the ent client on SQLite or PostgreSQL and migrates its
// schema. It is the only place that knows connection strings.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq" // PostgreSQL driver "postgres"
	"github.com/mattn/go-sqlite3"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/migrate"
)

// sqliteBusyTimeoutMS is how long a SQLite writer waits for the lock before failing.
const sqliteBusyTimeoutMS = 10000

// sqliteDriver is the name of the SQLite driver Open uses: mattn/go-sqlite3 with
// lower() replaced by Unicode lower-casing (see unicodeLower) and a regexp() function,
// which SQLite's REGEXP operator calls, backed by Go's regexp (see sqliteRegexp).
const sqliteDriver = "sqlite3_ocrinvoice"

func init() {
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{
		ConnectHook: func(c *sqlite3.SQLiteConn) error {
			if err := c.RegisterFunc("lower", unicodeLower, true); err != nil {
				return err
			}
			return c.RegisterFunc("regexp", sqliteRegexp, true)
		},
	})
}

// unicodeLower is SQLite's lower(X) for every letter, not only ASCII ones: SQLite's own
// folds A-Z alone, so that ent's case-insensitive predicates (ContainsFold, EqualFold:
// LOWER(column) LIKE/= the term lowered by Go) would find "MÜLLER" by "müller" on
// PostgreSQL but not on SQLite. It lowers as strings.ToLower does, the same rule ent
// applies to the term. NULL stays NULL; numbers are lowered as their text, as SQLite does.
func unicodeLower(v any) any {
	switch v := v.(type) {
	case string:
		return strings.ToLower(v)
	case []byte:
		if v == nil { // NULL
			return nil
		}
		return strings.ToLower(string(v))
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return v
}

// Options tunes the connection pool and the statement deadlines of a client of OpenWith.
// Zero fields take their defaults.
type Options struct {
	// MaxConns caps the open connections (DefaultMaxConns when 0). Beyond it, a statement
	// waits for a free connection (within its deadline) instead of opening one more
	// PostgreSQL backend. A private in-memory SQLite database always has one.
	MaxConns int
	// MaxIdleConns is how many open connections are kept when idle (MaxConns when 0, so
	// that a busy pool does not close and reopen connections between statements).
	MaxIdleConns int
	// StatementTimeout bounds a statement whose context sets none (see
	// WithStatementTimeout); DefaultStatementTimeout when 0. On PostgreSQL it is also the
	// server-side statement_timeout of each connection, unless the URL sets
	// statement_timeout itself.
	StatementTimeout time.Duration
}

// DefaultMaxConns is the pool size when Options.MaxConns is 0: four connections per
// processor the Go runtime uses (GOMAXPROCS), at least 4. PostgreSQL work is mostly
// waiting on the server, a few connections per core keep it busy; more only add
// backends competing for the same cores. On SQLite the connections are readers of the
// same file (writers take turns on its lock), so the same figure fits.
func DefaultMaxConns() int { return max(4, 4*runtime.GOMAXPROCS(0)) }

// Open opens an ent client for url with the default Options (see OpenWith).
func Open(ctx context.Context, rawURL string) (*ent.Client, error) {
	return OpenWith(ctx, rawURL, Options{})
}

// OpenWith opens an ent client for url and checks that the database answers. It runs no
// migration (see Migrate). Accepted forms:
//
//   - "sqlite:PATH" (or "sqlite://PATH", "file:PATH"): a SQLite file, opened in WAL mode
//     with a busy timeout, foreign keys on and write transactions taking the lock at
//     BEGIN (so concurrent writers wait instead of failing). PATH's directory is created.
//     "sqlite::memory:" is a private in-memory database (one connection).
//   - "postgres://..." or "postgresql://...": PostgreSQL through lib/pq. Unknown query
//     parameters such as search_path are passed to the server as run-time parameters;
//     the session time zone is UTC unless the URL sets timezone, and statement_timeout
//     is opts.StatementTimeout unless the URL sets it.
//
// Every statement of the client runs under a deadline: the one its context names
// (WithStatementTimeout), else opts.StatementTimeout. A statement past it is cancelled
// (PostgreSQL: a cancel request; SQLite: sqlite3_interrupt) and fails with the context's
// error or the driver's "canceled"/"interrupted" one (apperr.QueryTimedOut knows them).
func OpenWith(ctx context.Context, rawURL string, opts Options) (*ent.Client, error) {
	if opts.StatementTimeout <= 0 {
		opts.StatementTimeout = DefaultStatementTimeout
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns()
	}
	if opts.MaxIdleConns <= 0 || opts.MaxIdleConns > opts.MaxConns {
		opts.MaxIdleConns = opts.MaxConns
	}
	drv, err := openDriver(ctx, rawURL, opts)
	if err != nil {
		return nil, err
	}
	c := ent.NewClient(ent.Driver(&boundedDriver{Driver: drv, def: opts.StatementTimeout}))
	raw.Store(c, drv)
	return c, nil
}

func openDriver(ctx context.Context, rawURL string, opts Options) (*entsql.Driver, error) {
	var (
		driverName, dsn, dia string
		memory               bool
	)
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		driverName, dsn, dia = "postgres", withSession(rawURL, opts.StatementTimeout), dialect.Postgres
	case strings.HasPrefix(rawURL, "sqlite:"), strings.HasPrefix(rawURL, "file:"):
		path := rawURL
		for _, p := range []string{"sqlite://", "sqlite:", "file:"} {
			if strings.HasPrefix(path, p) {
				path = strings.TrimPrefix(path, p)
				break
			}
		}
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if path == "" {
			return nil, fmt.Errorf("open database: %q has no file path (use sqlite:PATH)", rawURL)
		}
		q := url.Values{}
		q.Set("_fk", "1")
		q.Set("_busy_timeout", fmt.Sprint(sqliteBusyTimeoutMS))
		q.Set("_txlock", "immediate")
		if path == ":memory:" {
			memory = true
			q.Set("mode", "memory")
		} else {
			q.Set("_journal_mode", "WAL")
			q.Set("_synchronous", "NORMAL")
			if dir := filepath.Dir(path); dir != "" {
				if err := os.MkdirAll(dir, 0o750); err != nil {
					return nil, fmt.Errorf("create database directory %s: %w", dir, err)
				}
			}
		}
		driverName, dsn, dia = sqliteDriver, "file:"+path+"?"+q.Encode(), dialect.SQLite
	case rawURL == "":
		return nil, errors.New("open database: empty database URL (use sqlite:PATH or postgres://...)")
	default:
		return nil, fmt.Errorf("open database: unsupported URL %q (use sqlite:PATH or postgres://...)", redact(rawURL))
	}
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dia, err)
	}
	db.SetMaxOpenConns(opts.MaxConns)
	db.SetMaxIdleConns(opts.MaxIdleConns)
	if memory {
		// Every connection to ":memory:" is a different database; keep exactly one.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to %s database %s: %w", dia, redact(rawURL), err)
	}
	return entsql.OpenDB(dia, db), nil
}

// Migrate creates or updates the schema: tables, columns and indexes are added, nothing
// is dropped. After ent's tables it creates what ent does not know (see migrateExtras):
// the search index (SQLite FTS5 trigram, PostgreSQL pg_trgm GIN), the per-owner job
// counters and their triggers, and PostgreSQL's JSON index of extracted data. It is safe to run at every start and from several processes one after
// another. Its statements run without the client's statement deadline (on PostgreSQL
// the session's statement_timeout still applies).
func Migrate(ctx context.Context, c *ent.Client) error {
	// ent's migration mutates package-level table descriptions: two migrations at once
	// in one process (tests, or a program opening two databases) would race.
	migrateMu.Lock()
	defer migrateMu.Unlock()
	schema := c.Schema
	drv, ok := raw.Load(c)
	if ok {
		schema = migrate.NewSchema(drv.(*entsql.Driver))
	}
	if err := schema.Create(ctx, migrate.WithForeignKeys(true)); err != nil {
		return fmt.Errorf("migrate database schema: %w", err)
	}
	if !ok {
		return errors.New("migrate database schema: the client was not opened by database.Open")
	}
	d := drv.(*entsql.Driver)
	return migrateExtras(ctx, d.DB(), d.Dialect())
}

var migrateMu sync.Mutex

// Ping checks that the database answers a trivial query (for readiness probes).
func Ping(ctx context.Context, c *ent.Client) error {
	rows, err := c.QueryContext(ctx, "SELECT 1")
	if err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	defer rows.Close()
	return rows.Err()
}

// withSession sets the session time zone to UTC unless the URL chooses one, so that
// timestamps read back are UTC whatever the server's default is, and the session's
// statement_timeout to timeout unless the URL chooses one.
func withSession(raw string, timeout time.Duration) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw // the driver reports the bad URL
	}
	q := u.Query()
	if q.Get("timezone") == "" && q.Get("TimeZone") == "" {
		q.Set("timezone", "UTC")
	}
	if q.Get("statement_timeout") == "" && timeout > 0 {
		q.Set("statement_timeout", strconv.FormatInt(timeout.Milliseconds(), 10))
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// redact hides the password of a URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}
