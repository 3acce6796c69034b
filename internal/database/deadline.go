package database

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// DefaultStatementTimeout bounds one statement whose context names no timeout of its
// own (WithStatementTimeout): the work of workers, the batch runner and commands. On
// PostgreSQL it is also the server-side statement_timeout of every connection (unless
// the URL sets one), the last line should a client fail to cancel.
const DefaultStatementTimeout = 5 * time.Minute

// DefaultAPIStatementTimeout is the deadline of one statement of an API request
// (OCRINVOICE_DB_STATEMENT_TIMEOUT's default).
const DefaultAPIStatementTimeout = 2 * time.Second

type statementTimeoutKey struct{}

// WithStatementTimeout returns a context in which every statement run through a client
// of Open is cancelled d after it starts (and its rows released): on PostgreSQL lib/pq
// sends a cancel request, on SQLite the statement is interrupted (sqlite3_interrupt).
// d <= 0 means the client's default (Options.StatementTimeout). The API server sets it
// on each request (OCRINVOICE_DB_STATEMENT_TIMEOUT); workers and the runner keep the
// longer default. A deadline ctx already has still applies when it is earlier.
func WithStatementTimeout(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, statementTimeoutKey{}, d)
}

// Meter adds up the time the statements of one context spent in the database (from the
// start of a statement to the release of its rows). It is safe for concurrent use.
type Meter struct{ ns atomic.Int64 }

// Spent returns the database time measured so far.
func (m *Meter) Spent() time.Duration { return time.Duration(m.ns.Load()) }

func (m *Meter) add(d time.Duration) { m.ns.Add(int64(d)) }

type meterKey struct{}

// WithMeter returns a context whose statements add their database time to m.
func WithMeter(ctx context.Context, m *Meter) context.Context {
	return context.WithValue(ctx, meterKey{}, m)
}

// raw holds the unbounded driver of each client of OpenWith, for Migrate: the migration
// engine needs the driver's own *sql.Rows, and an index build may take longer than a
// statement deadline. A client is only a few words; the map keeps every client a
// process opened, which is a handful outside tests.
var raw sync.Map // *ent.Client -> *entsql.Driver

// boundedDriver is the ent driver of Open: every Exec and Query runs under the statement
// timeout of its context (WithStatementTimeout, else def) and adds its time to the
// context's Meter. Transactions are not bounded as a whole (database/sql rolls a
// transaction back when the context of BeginTx ends), only their statements.
type boundedDriver struct {
	*entsql.Driver
	def time.Duration
}

var _ dialect.Driver = (*boundedDriver)(nil)

// bound returns the context of one statement and the function to call once it is done.
func bound(ctx context.Context, def time.Duration) (context.Context, func()) {
	d, _ := ctx.Value(statementTimeoutKey{}).(time.Duration)
	if d <= 0 {
		d = def
	}
	m, _ := ctx.Value(meterKey{}).(*Meter)
	start := time.Now()
	cancel := func() {}
	if d > 0 {
		ctx, cancel = context.WithTimeout(ctx, d)
	}
	return ctx, func() {
		cancel()
		if m != nil {
			m.add(time.Since(start))
		}
	}
}

func boundedExec(ctx context.Context, def time.Duration, c dialect.ExecQuerier, query string, args, v any) error {
	ctx, done := bound(ctx, def)
	defer done()
	return c.Exec(ctx, query, args, v)
}

func boundedQuery(ctx context.Context, def time.Duration, c dialect.ExecQuerier, query string, args, v any) error {
	ctx, done := bound(ctx, def)
	if err := c.Query(ctx, query, args, v); err != nil {
		done()
		return err
	}
	// The rows are read after Query returns: the statement ends when they are closed.
	if rows, ok := v.(*entsql.Rows); ok && rows.ColumnScanner != nil {
		rows.ColumnScanner = &boundedRows{ColumnScanner: rows.ColumnScanner, done: done}
		return nil
	}
	done()
	return nil
}

// Exec runs a statement under its deadline.
func (d *boundedDriver) Exec(ctx context.Context, query string, args, v any) error {
	return boundedExec(ctx, d.def, d.Driver, query, args, v)
}

// Query runs a query under its deadline, which ends when its rows are closed.
func (d *boundedDriver) Query(ctx context.Context, query string, args, v any) error {
	return boundedQuery(ctx, d.def, d.Driver, query, args, v)
}

// ExecContext runs a raw statement (ent's client.ExecContext) under its deadline.
func (d *boundedDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx, done := bound(ctx, d.def)
	defer done()
	return d.DB().ExecContext(ctx, query, args...)
}

// QueryContext runs a raw query (ent's client.QueryContext) under its deadline. The
// caller holds the rows, so the deadline is released by its own timer rather than at
// Close, and the raw query is not metered.
func (d *boundedDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	timeout := d.def
	if t, _ := ctx.Value(statementTimeoutKey{}).(time.Duration); t > 0 {
		timeout = t
	}
	qctx, cancel := context.WithTimeout(ctx, timeout)
	// Released a little after the deadline, so that the error stays DeadlineExceeded.
	stop := time.AfterFunc(timeout+time.Second, cancel)
	rows, err := d.DB().QueryContext(qctx, query, args...)
	if err != nil {
		stop.Stop()
		cancel()
		return nil, err
	}
	return rows, nil
}

// Tx starts a transaction whose statements are bounded.
func (d *boundedDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	return d.BeginTx(ctx, nil)
}

// BeginTx starts a transaction with options, whose statements are bounded.
func (d *boundedDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.Driver.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &boundedTx{Tx: tx, def: d.def}, nil
}

// boundedTx is a transaction of boundedDriver.
type boundedTx struct {
	dialect.Tx
	def time.Duration
}

func (t *boundedTx) Exec(ctx context.Context, query string, args, v any) error {
	return boundedExec(ctx, t.def, t.Tx, query, args, v)
}

func (t *boundedTx) Query(ctx context.Context, query string, args, v any) error {
	return boundedQuery(ctx, t.def, t.Tx, query, args, v)
}

// ExecContext runs a raw statement of the transaction (ent's tx.ExecContext, e.g. a
// lock) under its deadline.
func (t *boundedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ex, ok := t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	})
	if !ok {
		return nil, fmt.Errorf("transaction %T does not run raw statements", t.Tx)
	}
	ctx, done := bound(ctx, t.def)
	defer done()
	return ex.ExecContext(ctx, query, args...)
}

// boundedRows ends the statement's deadline (and meters it) when the rows are closed.
type boundedRows struct {
	entsql.ColumnScanner
	done func()
	once bool
}

func (r *boundedRows) Close() error {
	err := r.ColumnScanner.Close()
	if !r.once {
		r.once = true
		r.done()
	}
	return err
}
