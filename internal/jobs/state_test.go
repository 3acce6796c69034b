package jobs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// moveOp is one operation of the service that moves a job to a status: do tries it on
// job j and reports whether it moved the job (an edit that keeps the status is no move).
type moveOp struct {
	name string
	o    op
	do   func(ctx context.Context, s *Service, j *ent.OcrInvoiceJob) (moved bool, err error)
}

// statusAfter reads job id's status (the test fails when it cannot).
func statusAfter(ctx context.Context, t *testing.T, s *Service, id string) ocrinvoicejob.Status {
	t.Helper()
	j, err := s.GetJob(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return j.Status
}

func ended(_ *ent.OcrInvoiceJob, err error) (bool, error) { return err == nil, err }

// movesTo lists, by target status, every operation of the service that moves a job there.
func movesTo(t *testing.T, tpl *ent.OcrTemplate) map[ocrinvoicejob.Status][]moveOp {
	m := runMoves(tpl)
	maps.Copy(m, apiMoves(t))
	return m
}

// runMoves are the moves of the queue and of a job's run (the Run holds the job given).
func runMoves(tpl *ent.OcrTemplate) map[ocrinvoicejob.Status][]moveOp {
	runOf := func(s *Service, j *ent.OcrInvoiceJob) *Run { return &Run{s: s, number: AnyRun, job: j, tpl: tpl} }
	return map[ocrinvoicejob.Status][]moveOp{
		ocrinvoicejob.StatusQueued: {
			{"markQueued", opEnqueue, func(ctx context.Context, s *Service, j *ent.OcrInvoiceJob) (bool, error) {
				n, err := s.markQueued(ctx, j.ID)
				return n == 1, err
			}},
			{"Run.Fail retryable", opFail, func(ctx context.Context, s *Service, j *ent.OcrInvoiceJob) (bool, error) {
				return ended(runOf(s, j).Fail(ctx, "transient", false))
			}},
			{"LoseRun", opLose, func(ctx context.Context, s *Service, j *ent.OcrInvoiceJob) (bool, error) {
				return ended(s.LoseRun(ctx, j.ID, j.TaskRun, time.Time{}, "worker lost", false))
			}},
		},
		ocrinvoicejob.StatusProcessing: {
			{"StartRun", opStart, func(ctx context.Context, s *Service, j *ent.OcrInvoiceJob) (bool, error) {
				_, err := s.StartRun(ctx, j.ID, AnyRun, Worker{Name: "w"})
				return err == nil, err
			}},
			{"Run.Progress", opProgress, func(ctx context.Context, s *Service, j *ent.OcrInvoiceJob) (bool, error) {
				err := runOf(s, j).Progress(ctx, invoice.Progress{Percentage: 10, CurrentStep: "fetch"})
				return err == nil, err
			}},
		},
		ocrinvoicejob.StatusCompleted: {
			{"Run.Complete", opComplete, func(ctx context.Context, s *Service, j *ent.OcrInvoiceJob) (bool, error) {
				return ended(runOf(s, j).Complete(ctx, CompleteInput{Pages: 1}))
			}},
		},
		ocrinvoicejob.StatusFailed: {
			{"Run.Fail permanent", opFail, func(ctx context.Context, s *Service, j *ent.OcrInvoiceJob) (bool, error) {
				return ended(runOf(s, j).Fail(ctx, "corrupt", true))
			}},
			{"LoseRun permanent", opLose, func(ctx context.Context, s *Service, j *ent.OcrInvoiceJob) (bool, error) {
				return ended(s.LoseRun(ctx, j.ID, j.TaskRun, time.Time{}, "worker lost", true))
			}},
		},
	}
}

// apiMoves are the moves of the API's operations.
func apiMoves(t *testing.T) map[ocrinvoicejob.Status][]moveOp {
	edit := func(ctx context.Context, s *Service, j *ent.OcrInvoiceJob, change func(*JobInput)) (bool, error) {
		in := JobInput{JobNumber: j.JobNumber, DocumentName: j.DocumentName, DocumentURL: j.DocumentURL, Template: j.TemplateID, Priority: string(j.Priority)}
		change(&in)
		_, err := s.UpdateJob(ctx, j.ID, in)
		return err == nil && statusAfter(ctx, t, s, j.ID) != j.Status, err
	}
	return map[ocrinvoicejob.Status][]moveOp{
		ocrinvoicejob.StatusCancelled: {
			{"CancelJob", opCancel, func(ctx context.Context, s *Service, j *ent.OcrInvoiceJob) (bool, error) {
				return ended(s.CancelJob(ctx, j.ID))
			}},
		},
		ocrinvoicejob.StatusCreated: {
			{"RetryJob", opRetry, func(ctx context.Context, s *Service, j *ent.OcrInvoiceJob) (bool, error) {
				return ended(s.RetryJob(ctx, j.ID))
			}},
			{"UpdateJob document", opUpdate, func(ctx context.Context, s *Service, j *ent.OcrInvoiceJob) (bool, error) {
				return edit(ctx, s, j, func(in *JobInput) { in.DocumentURL += "?v=2" })
			}},
			{"UpdateJob priority", opUpdate, func(ctx context.Context, s *Service, j *ent.OcrInvoiceJob) (bool, error) {
				return edit(ctx, s, j, func(in *JobInput) { in.Priority = "urgent" })
			}},
		},
	}
}

// jobIn creates a job and puts it in status st: processing through StartRun (as a
// worker would), the others by writing the status.
func jobIn(ctx context.Context, t *testing.T, s *Service, c *ent.Client, n int, st ocrinvoicejob.Status) *ent.OcrInvoiceJob {
	t.Helper()
	j, err := s.CreateJob(ctx, JobInput{JobNumber: fmt.Sprintf("ST-%d", n), DocumentName: "a.pdf",
		DocumentURL: fmt.Sprintf("https://files.example.com/%d.pdf", n), Template: BuiltinTemplateName})
	if err != nil {
		t.Fatal(err)
	}
	switch st {
	case ocrinvoicejob.StatusCreated:
	case ocrinvoicejob.StatusProcessing:
		r, err := s.StartRun(ctx, j.ID, AnyRun, Worker{Name: "w"})
		if err != nil {
			t.Fatal(err)
		}
		return r.Job()
	default:
		upd := c.OcrInvoiceJob.UpdateOneID(j.ID).SetStatus(st)
		if IsTerminal(st) {
			upd.SetCompletedAt(s.clock())
		}
		if err := upd.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if j, err = s.GetJob(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	return j
}

// TestEveryTransitionFollowsTheTable walks every (from, to) pair of statuses: a job in
// status from is given, one at a time, to every operation of the service that moves jobs
// to status to. Each operation (its variants together, e.g. the PUTs that change the
// document or the priority) moves it if and only if the table gives that move to the
// operation, so some operation moves it if and only if CanTransition(from, to); a
// refusal is a FailedPrecondition.
func TestEveryTransitionFollowsTheTable(t *testing.T) {
	ctx := context.Background()
	c := databasetest.Open(t)
	s := NewService(c, nil, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := s.EnsureBuiltins(ctx); err != nil {
		t.Fatal(err)
	}
	tpl, err := s.GetTemplate(ctx, BuiltinTemplateName)
	if err != nil {
		t.Fatal(err)
	}
	ops, n := movesTo(t, tpl), 0
	for _, from := range Statuses {
		for _, to := range Statuses {
			from, to := ocrinvoicejob.Status(from), ocrinvoicejob.Status(to)
			movedBy := map[op]bool{}
			for _, m := range ops[to] {
				n++
				moved, err := m.do(ctx, s, jobIn(ctx, t, s, c, n, from))
				if !moved && err != nil && !IsNotProcessing(err) {
					t.Errorf("%s refused %s -> %s with %v, want FailedPrecondition", m.name, from, to, err)
				}
				movedBy[m.o] = movedBy[m.o] || moved
			}
			anyMoved := false
			for _, m := range ops[to] {
				if movedBy[m.o] != allows(m.o, from, to) {
					t.Errorf("%s -> %s by %q: moved %v, the table allows %v", from, to, m.o, movedBy[m.o], allows(m.o, from, to))
				}
				anyMoved = anyMoved || movedBy[m.o]
			}
			if anyMoved != CanTransition(from, to) {
				t.Errorf("%s -> %s: moved %v, CanTransition %v", from, to, anyMoved, CanTransition(from, to))
			}
		}
	}
}

// TestSourcesOf: the WHERE of each move names exactly the statuses the table allows.
func TestSourcesOf(t *testing.T) {
	got := fmt.Sprint(sourcesOf(opStart, ocrinvoicejob.StatusProcessing), sourcesOf(opRetry, ocrinvoicejob.StatusCreated),
		sourcesOf(opFail, ocrinvoicejob.StatusQueued), sourcesOf(opUpdate, ocrinvoicejob.StatusCreated))
	if want := "[created queued processing] [failed cancelled] [processing] [queued completed failed cancelled]"; got != want {
		t.Errorf("sourcesOf: %s, want %s", got, want)
	}
	if holdsRun(ocrinvoicejob.StatusQueued) || !holdsRun(ocrinvoicejob.StatusProcessing) {
		t.Error("holdsRun: only a processing job belongs to its run")
	}
}

// TestRestartedRunIsRefused: a task delivered again while its job is processing restarts
// the run (processing -> processing); the superseded run can no longer end the job.
func TestRestartedRunIsRefused(t *testing.T) {
	ctx := context.Background()
	c := databasetest.Open(t)
	s := NewService(c, nil, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := s.EnsureBuiltins(ctx); err != nil {
		t.Fatal(err)
	}
	j := jobIn(ctx, t, s, c, 1, ocrinvoicejob.StatusQueued)
	first, err := s.StartRun(ctx, j.ID, 0, Worker{Name: "w:1"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.StartRun(ctx, j.ID, 0, Worker{Name: "w:2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Complete(ctx, CompleteInput{Pages: 1}); !IsNotProcessing(err) {
		t.Fatalf("the superseded run completed: %v", err)
	}
	if _, err := first.Fail(ctx, "late", true); !IsNotProcessing(err) {
		t.Fatalf("the superseded run failed the job: %v", err)
	}
	done, err := second.Complete(ctx, CompleteInput{Pages: 1})
	if err != nil || done.Status != ocrinvoicejob.StatusCompleted {
		t.Fatalf("the current run: %v %+v", err, done)
	}
	if stored, _ := s.GetJob(ctx, j.ID); stored.Status != done.Status || stored.Cost != done.Cost || !stored.UpdatedAt.Equal(done.UpdatedAt) ||
		*stored.ProcessingTime != *done.ProcessingTime || len(stored.Attempts) != 2 || stored.Attempts[1].Outcome != invoice.AttemptCompleted {
		t.Fatalf("stored %+v differs from the run's %+v", stored, done)
	}
}

// TestStartOvertakenByEnqueue: a worker that read its job "created" while the enqueue
// marked it "queued" still starts it, from "queued"; a job that moved elsewhere
// (cancelled) is still refused.
func TestStartOvertakenByEnqueue(t *testing.T) {
	ctx := context.Background()
	c := databasetest.Open(t)
	s := NewService(c, nil, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := s.EnsureBuiltins(ctx); err != nil {
		t.Fatal(err)
	}
	j := jobIn(ctx, t, s, c, 1, ocrinvoicejob.StatusCreated) // as the worker read it
	if n, err := s.markQueued(ctx, j.ID); err != nil || n != 1 {
		t.Fatalf("markQueued: %d %v", n, err)
	}
	started, err := s.startFrom(ctx, j, AnyRun, Worker{Name: "w"})
	if err != nil || started.Status != ocrinvoicejob.StatusProcessing {
		t.Fatalf("start after the enqueue overtook it: %v %+v", err, started)
	}
	if st := statusAfter(ctx, t, s, j.ID); st != ocrinvoicejob.StatusProcessing {
		t.Fatalf("stored status %s", st)
	}
	k := jobIn(ctx, t, s, c, 2, ocrinvoicejob.StatusCreated)
	if _, err := s.CancelJob(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.startFrom(ctx, k, AnyRun, Worker{Name: "w"}); err == nil {
		t.Fatal("a cancelled job was started")
	}
}
