package live_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
)

// countingDriver is the real SQLite driver counting, per job id, the reads of the jobs
// table that name the id among their arguments (reads inside transactions, which only
// writes use, are not counted).
type countingDriver struct {
	*entsql.Driver
	mu    sync.Mutex
	reads map[string]int
}

func (d *countingDriver) Query(ctx context.Context, query string, args, v any) error {
	if strings.Contains(query, ocrinvoicejob.Table) {
		if as, ok := args.([]any); ok {
			d.mu.Lock()
			for _, a := range as {
				if s, ok := a.(string); ok {
					d.reads[s]++
				}
			}
			d.mu.Unlock()
		}
	}
	return d.Driver.Query(ctx, query, args, v)
}

func (d *countingDriver) readsOf(id string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reads[id]
}

// openCounting returns a migrated SQLite database in t.TempDir() whose client counts its
// reads of jobs. It is opened as internal/database opens SQLite (WAL, busy timeout,
// foreign keys, immediate transactions), since that package does not hand out drivers.
func openCounting(t testing.TB) (*ent.Client, *countingDriver) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "count.db")
	mig, err := database.Open(ctx, "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if err := database.Migrate(ctx, mig); err != nil {
		t.Fatal(err)
	}
	_ = mig.Close()
	q := url.Values{"_fk": {"1"}, "_busy_timeout": {"5000"}, "_txlock": {"immediate"}, "_journal_mode": {"WAL"}}
	db, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	drv := &countingDriver{Driver: entsql.OpenDB(dialect.SQLite, db), reads: map[string]int{}}
	c := ent.NewClient(ent.Driver(drv))
	t.Cleanup(func() { _ = c.Close() })
	return c, drv
}

// asOwner is ctx with a principal of its own API key (n) scoped to owner.
func asOwner(ctx context.Context, owner string, n int) context.Context {
	return auth.WithPrincipal(ctx, auth.Principal{KeyID: fmt.Sprintf("key-%s-%d", owner, n), Role: auth.RoleSubmitter, Owner: owner})
}

// setStatus writes the job's status without reading it back (an UPDATE only, so that
// the counted reads are the streams' alone) and publishes the event a status change
// publishes, with the job's owner.
func (e *env) setStatus(t *testing.T, j *ent.OcrInvoiceJob, st ocrinvoicejob.Status) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	if err := e.db.OcrInvoiceJob.Update().Where(ocrinvoicejob.ID(j.ID)).SetStatus(st).SetUpdatedAt(now).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	ev := progress.Event{JobID: j.ID, Status: string(st), At: now, Owner: progress.OwnerOf(j.CreatedBy)}
	if err := e.pub.Publish(ctx, ev); err != nil {
		t.Fatal(err)
	}
}

// receiveAll takes one update from every stream, which must be job id with status st.
// prefixFilter is the filter of a stream of the jobs whose jobNumber starts with prefix.
func prefixFilter(t testing.TB, prefix string) *jobs.JobFilter {
	t.Helper()
	f, err := jobs.NewJobFilter(&ent.OcrInvoiceJobWhereInput{JobNumberHasPrefix: &prefix})
	if err != nil || f == nil {
		t.Fatalf("filter: %v", err)
	}
	return f
}

func receiveAll(t *testing.T, streams []<-chan *ent.OcrInvoiceJob, id string, st ocrinvoicejob.Status) {
	t.Helper()
	for i, s := range streams {
		if j := next(t, s); j.ID != id || j.Status != st {
			t.Fatalf("stream %d sent %s %s, want %s %s", i, j.ID, j.Status, id, st)
		}
	}
}

// TestJobUpdatesReadsPerEvent counts the database reads that ocrInvoiceJobUpdated streams
// make per event: none for the events of another owner's job, however many streams;
// one for all the streams of the job's owner that have no where.
func TestJobUpdatesReadsPerEvent(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// newJob creates a job of owner and returns once the Hub has fanned its creation event
	// out, so that streams opened afterwards do not receive it.
	newJob := func(t *testing.T, e *env, owner, number string) *ent.OcrInvoiceJob {
		t.Helper()
		probe, stop := e.hub.Subscribe(ctx, "")
		defer stop()
		j, err := e.svc.CreateJob(asOwner(ctx, owner, 0), jobs.JobInput{
			JobNumber: number, DocumentName: "a.pdf", DocumentURL: "https://example.com/a.pdf", Template: jobs.BuiltinTemplateName,
		})
		if err != nil {
			t.Fatal(err)
		}
		for ev := next(t, probe); ev.JobID != j.ID; ev = next(t, probe) {
		}
		return j
	}

	t.Run("1000 streams of another owner read nothing", func(t *testing.T) {
		db, reads := openCounting(t)
		e := newEnvOn(t, db, live.Options{})
		jobA := newJob(t, e, "team-a", "A-1")
		jobB := newJob(t, e, "team-b", "B-1")
		const n = 1000
		streams := make([]<-chan *ent.OcrInvoiceJob, n)
		wheres := 0
		for i := range streams {
			var where *jobs.JobFilter
			if i%2 == 1 {
				where, wheres = prefixFilter(t, "A-"), wheres+1
			}
			s, err := e.watch.JobUpdates(asOwner(ctx, "team-a", i), where)
			if err != nil {
				t.Fatal(err)
			}
			streams[i] = s
		}
		before := reads.readsOf(jobB.ID)
		for _, st := range []ocrinvoicejob.Status{ocrinvoicejob.StatusProcessing, ocrinvoicejob.StatusFailed, ocrinvoicejob.StatusQueued} {
			e.setStatus(t, jobB, st)
		}
		// Then one of team-a's own: every stream handles events in order, so once each
		// has sent it, each has handled team-b's.
		beforeA := reads.readsOf(jobA.ID)
		e.setStatus(t, jobA, ocrinvoicejob.StatusProcessing)
		receiveAll(t, streams, jobA.ID, ocrinvoicejob.StatusProcessing)
		if got := reads.readsOf(jobB.ID) - before; got != 0 {
			t.Errorf("3 events of team-b's job cost %d reads with %d streams of team-a open, want 0", got, n)
		}
		// One read shared by the streams without a where, one per stream with one.
		if got := reads.readsOf(jobA.ID) - beforeA; got < 1 || got > 1+wheres {
			t.Errorf("team-a's event cost %d reads, want 1 (shared) + %d (one per where)", got, wheres)
		}
	})

	t.Run("the owner's streams without a where share one read", func(t *testing.T) {
		db, reads := openCounting(t)
		e := newEnvOn(t, db, live.Options{})
		job := newJob(t, e, "team-b", "B-1")
		const n = 200
		streams := make([]<-chan *ent.OcrInvoiceJob, n)
		for i := range streams {
			s, err := e.watch.JobUpdates(asOwner(ctx, "team-b", i), nil)
			if err != nil {
				t.Fatal(err)
			}
			streams[i] = s
		}
		for _, st := range []ocrinvoicejob.Status{ocrinvoicejob.StatusProcessing, ocrinvoicejob.StatusFailed, ocrinvoicejob.StatusQueued, ocrinvoicejob.StatusProcessing, ocrinvoicejob.StatusCompleted} {
			before := reads.readsOf(job.ID)
			e.setStatus(t, job, st)
			receiveAll(t, streams, job.ID, st)
			if got := reads.readsOf(job.ID) - before; got != 1 {
				t.Fatalf("event %s cost %d reads for %d streams, want 1", st, got, n)
			}
		}
	})

	t.Run("an event without an owner still reaches the owner's streams", func(t *testing.T) {
		e := newEnv(t, live.Options{})
		job := newJob(t, e, "team-b", "B-OLD")
		own, err := e.watch.JobUpdates(asOwner(ctx, "team-b", 1), nil)
		if err != nil {
			t.Fatal(err)
		}
		foreign, err := e.watch.JobUpdates(asOwner(ctx, "team-a", 1), nil)
		if err != nil {
			t.Fatal(err)
		}
		// As an older publisher sends it: no owner.
		if err := e.db.OcrInvoiceJob.Update().Where(ocrinvoicejob.ID(job.ID)).SetStatus(ocrinvoicejob.StatusProcessing).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.pub.Publish(ctx, progress.Event{JobID: job.ID, Status: "processing"}); err != nil {
			t.Fatal(err)
		}
		if j := next(t, own); j.ID != job.ID || j.Status != ocrinvoicejob.StatusProcessing {
			t.Fatalf("owner's stream sent %s %s", j.JobNumber, j.Status)
		}
		quietFor(t, foreign, 300*time.Millisecond)
	})
}
