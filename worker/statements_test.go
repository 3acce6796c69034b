package worker

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrtemplate"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// countingDriver is an ent driver that counts the statements it runs by kind and table
// ("SELECT ocr_invoice_jobs"), those of its transactions included.
type countingDriver struct {
	dialect.Driver
	mu     sync.Mutex
	counts map[string]int
}

func (d *countingDriver) count(query string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.counts == nil {
		d.counts = map[string]int{}
	}
	d.counts[statementKey(query)]++
}

func (d *countingDriver) Exec(ctx context.Context, query string, args, v any) error {
	d.count(query)
	return d.Driver.Exec(ctx, query, args, v)
}

func (d *countingDriver) Query(ctx context.Context, query string, args, v any) error {
	d.count(query)
	return d.Driver.Query(ctx, query, args, v)
}

func (d *countingDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &countingTx{Tx: tx, d: d}, nil
}

// reset forgets the counts so far.
func (d *countingDriver) reset() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.counts = map[string]int{}
}

// snapshot returns the counts so far.
func (d *countingDriver) snapshot() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]int, len(d.counts))
	for k, v := range d.counts {
		out[k] = v
	}
	return out
}

type countingTx struct {
	dialect.Tx
	d *countingDriver
}

func (t *countingTx) Exec(ctx context.Context, query string, args, v any) error {
	t.d.count(query)
	return t.Tx.Exec(ctx, query, args, v)
}

func (t *countingTx) Query(ctx context.Context, query string, args, v any) error {
	t.d.count(query)
	return t.Tx.Query(ctx, query, args, v)
}

// statementKey is "KIND table" of a SQL statement: the table after UPDATE, INTO or the
// first FROM.
func statementKey(query string) string {
	f := strings.Fields(query)
	if len(f) == 0 {
		return "?"
	}
	kind := strings.ToUpper(f[0])
	after := map[string]string{"UPDATE": "UPDATE", "INSERT": "INTO", "SELECT": "FROM", "DELETE": "FROM"}[kind]
	for i, w := range f[:len(f)-1] {
		if after != "" && strings.EqualFold(w, after) {
			return kind + " " + strings.Trim(f[i+1], "`\"")
		}
	}
	return kind
}

// countedClient returns a migrated SQLite database of the test whose client counts its
// statements (on a driver opened like database.Open's).
func countedClient(t *testing.T) (*ent.Client, *countingDriver) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "counted.db")
	setup, err := database.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if err := database.Migrate(ctx, setup); err != nil {
		t.Fatal(err)
	}
	_ = setup.Close()
	// The SQLite driver database.Open registers, with its options.
	db, err := sql.Open("sqlite3_ocrinvoice", "file:"+path+"?_fk=1&_busy_timeout=10000&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	drv := &countingDriver{Driver: entsql.OpenDB(dialect.SQLite, db)}
	c := ent.NewClient(ent.Driver(drv))
	t.Cleanup(func() { _ = c.Close() })
	return c, drv
}

// TestJobStatementBudget: one text-layer job run by the real handler on SQLite costs at
// most 2 selects of job rows (the start's read, the earlier-duplicate lookup) and 1
// template read; its progress, results and events come from what the run holds. The
// writes are one UPDATE per progress step, plus the start and the completion.
func TestJobStatementBudget(t *testing.T) {
	c, drv := countedClient(t)
	e := newEnvWith(t, c, envOptions{allow: true, concurrency: 1, paused: true, progressEvery: 1})
	ctx := context.Background()
	j := e.create(t, "COUNT-1", "/invoice.pdf")
	task, _, err := tasks.NewOCRInvoiceTask(j.ID, string(j.Priority))
	if err != nil {
		t.Fatal(err)
	}
	drv.reset()
	if err := e.handler.ProcessTask(ctx, task); err != nil {
		t.Fatal(err)
	}
	got := drv.snapshot()
	if done := e.get(t, j.ID); done.Status != ocrinvoicejob.StatusCompleted {
		t.Fatalf("job %s (log %q), want completed", done.Status, done.ErrorLog)
	}
	jobSelects, tplSelects := got["SELECT "+ocrinvoicejob.Table], got["SELECT "+ocrtemplate.Table]
	// Start, a write per step (fetch, inspect, read, its one page, extract), completion.
	wantUpdates := 2 + len(steps) + 1
	if jobSelects > 2 || tplSelects > 1 || got["UPDATE "+ocrinvoicejob.Table] > wantUpdates {
		t.Errorf("one job ran %d job selects (max 2), %d template reads (max 1), %d job updates (max %d); all statements:\n%s",
			jobSelects, tplSelects, got["UPDATE "+ocrinvoicejob.Table], wantUpdates, formatCounts(got))
	}
	t.Logf("statements of one job:\n%s", formatCounts(got))
}

func formatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-40s %d\n", k, m[k])
	}
	return b.String()
}
