package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// queue is a private Redis with the real task client and an inspector to look at it.
type queue struct {
	*tasks.Client
	ins *asynq.Inspector
}

func startQueue(t *testing.T) *queue {
	t.Helper()
	srv := redistest.Start(t)
	opt := asynq.RedisClientOpt{Addr: srv.Addr}
	q := &queue{Client: tasks.NewClient(opt), ins: asynq.NewInspector(opt)}
	t.Cleanup(func() { _ = q.Close(); _ = q.ins.Close() })
	return q
}

// taskQueue returns the queue holding the job's task, or "" when there is none.
func (q *queue) taskQueue(t *testing.T, jobID string) string {
	t.Helper()
	for _, name := range []string{tasks.QueueUrgent, tasks.QueueHigh, tasks.QueueMedium, tasks.QueueLow} {
		if _, err := q.ins.GetTaskInfo(name, jobID); err == nil {
			return name
		}
	}
	return ""
}

// downQueue is a task client whose Redis is a closed loopback port.
func downQueue(t *testing.T) *tasks.Client {
	c := tasks.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: 500 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func newService(t *testing.T, c *ent.Client, enq jobs.Enqueuer) *jobs.Service {
	t.Helper()
	var e jobs.Enqueuer
	if enq != nil {
		e = enq
	}
	s := jobs.NewService(c, e, jobs.Options{Logger: quiet, EnqueueTimeout: 2 * time.Second})
	if err := s.EnsureBuiltins(context.Background()); err != nil {
		t.Fatalf("EnsureBuiltins: %v", err)
	}
	return s
}

func validInput(n string) jobs.JobInput {
	return jobs.JobInput{
		JobNumber:    n,
		DocumentName: "invoice_" + n + ".pdf",
		DocumentURL:  "https://files.example.com/" + n + ".pdf",
		Template:     jobs.BuiltinTemplateName,
	}
}

func wantKind(t *testing.T, err error, kind apperr.Kind, field string) {
	t.Helper()
	if apperr.KindOf(err) != kind {
		t.Fatalf("err = %v (kind %q), want kind %q", err, apperr.KindOf(err), kind)
	}
	if field == "" {
		return
	}
	for _, d := range apperr.As(err).Details {
		if d.Field == field {
			return
		}
	}
	t.Fatalf("err = %v with details %+v, want a detail naming %q", err, apperr.As(err).Details, field)
}

func TestCreateJobRejectsBadInput(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, nil)
		ctx := context.Background()
		tests := []struct {
			name  string
			edit  func(*jobs.JobInput)
			field string
		}{
			{"empty jobNumber", func(in *jobs.JobInput) { in.JobNumber = "  " }, "jobNumber"},
			{"jobNumber too long", func(in *jobs.JobInput) { in.JobNumber = strings.Repeat("x", 129) }, "jobNumber"},
			{"empty documentName", func(in *jobs.JobInput) { in.DocumentName = "" }, "documentName"},
			{"empty documentUrl", func(in *jobs.JobInput) { in.DocumentURL = "" }, "documentUrl"},
			{"relative documentUrl", func(in *jobs.JobInput) { in.DocumentURL = "/files/a.pdf" }, "documentUrl"},
			{"ftp documentUrl", func(in *jobs.JobInput) { in.DocumentURL = "ftp://example.com/a.pdf" }, "documentUrl"},
			{"documentUrl without host", func(in *jobs.JobInput) { in.DocumentURL = "https:///a.pdf" }, "documentUrl"},
			{"documentUrl with credentials", func(in *jobs.JobInput) { in.DocumentURL = "https://u:p@example.com/a.pdf" }, "documentUrl"},
			{"documentUrl with spaces", func(in *jobs.JobInput) { in.DocumentURL = "https://example.com/a b.pdf" }, "documentUrl"},
			{"bad documentType", func(in *jobs.JobInput) { in.DocumentType = "docx" }, "documentType"},
			{"uppercase documentType", func(in *jobs.JobInput) { in.DocumentType = "PDF" }, "documentType"},
			{"documentType not inferable", func(in *jobs.JobInput) {
				in.DocumentName, in.DocumentURL = "scan", "https://example.com/download?id=3"
			}, "documentType"},
			{"bad priority", func(in *jobs.JobInput) { in.Priority = "asap" }, "priority"},
			{"no template", func(in *jobs.JobInput) { in.Template = "" }, "template"},
			{"unknown template name", func(in *jobs.JobInput) { in.Template = "nope" }, "template"},
			{"unknown template id", func(in *jobs.JobInput) { in.Template = "0123456789abcdef01234567" }, "template"},
			{"malformed group", func(in *jobs.JobInput) { in.Group = "zz" }, "group"},
			{"unknown group", func(in *jobs.JobInput) { in.Group = "0123456789abcdef01234567" }, "group"},
			{"metadata too large", func(in *jobs.JobInput) {
				in.Metadata = map[string]any{"blob": strings.Repeat("a", jobs.MaxMetadataBytes)}
			}, "metadata"},
			{"invalid utf8 name", func(in *jobs.JobInput) { in.DocumentName = "a\xffb.pdf" }, "documentName"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				in := validInput("BAD-1")
				tt.edit(&in)
				_, err := s.CreateJob(ctx, in)
				wantKind(t, err, apperr.KindInvalid, tt.field)
			})
		}
		if n := c.OcrInvoiceJob.Query().CountX(ctx); n != 0 {
			t.Fatalf("%d jobs stored by rejected requests", n)
		}
		// Every problem is reported at once.
		_, err := s.CreateJob(ctx, jobs.JobInput{})
		if e := apperr.As(err); e == nil || len(e.Details) < 4 {
			t.Fatalf("empty input: %v, want a detail per missing field", err)
		}
	})
}

func TestCreateJobEnqueueContract(t *testing.T) {
	q := startQueue(t)
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		t.Run("redis up: queued with one task named by the job id", func(t *testing.T) {
			s := newService(t, c, q)
			in := validInput("Q-1")
			in.Priority = "urgent"
			in.DocumentType = ""
			in.Metadata = map[string]any{"source": "mail", "n": 2.0}
			j, err := s.CreateJob(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if j.Status != ocrinvoicejob.StatusQueued {
				t.Errorf("status = %s, want queued", j.Status)
			}
			if got := q.taskQueue(t, j.ID); got != tasks.QueueUrgent {
				t.Errorf("task queue = %q, want urgent", got)
			}
			tpl, _ := s.GetTemplate(ctx, jobs.BuiltinTemplateName)
			if j.TemplateID != tpl.ID || j.DocumentType != "pdf" || j.Currency != "USD" || j.Cost != 0 || j.Metadata["source"] != "mail" {
				t.Errorf("job = %+v", j)
			}
			stored, err := s.GetJob(ctx, j.ID)
			if err != nil || stored.Status != ocrinvoicejob.StatusQueued {
				t.Fatalf("stored = %+v, %v", stored, err)
			}
		})
		t.Run("redis down: stays created, no error", func(t *testing.T) {
			s := newService(t, c, downQueue(t))
			start := time.Now()
			j, err := s.CreateJob(ctx, validInput("Q-2"))
			if err != nil {
				t.Fatalf("CreateJob with Redis down: %v", err)
			}
			if j.Status != ocrinvoicejob.StatusCreated {
				t.Errorf("status = %s, want created", j.Status)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("CreateJob took %v with Redis down", d)
			}
		})
		t.Run("no enqueuer: stays created", func(t *testing.T) {
			s := newService(t, c, nil)
			j, err := s.CreateJob(ctx, validInput("Q-3"))
			if err != nil || j.Status != ocrinvoicejob.StatusCreated {
				t.Fatalf("job = %+v, %v", j, err)
			}
		})
	})
}

func TestDuplicateJobNumber(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, nil)
		ctx := context.Background()
		if _, err := s.CreateJob(ctx, validInput("DUP-1")); err != nil {
			t.Fatal(err)
		}
		_, err := s.CreateJob(ctx, validInput("DUP-1"))
		wantKind(t, err, apperr.KindConflict, "jobNumber")

		// Racing creators: exactly one wins, the others get Conflict (the database's
		// unique index decides; the pre-check alone cannot).
		const n = 8
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			won, lost int
			other     []error
		)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.CreateJob(ctx, validInput("RACE-1"))
				mu.Lock()
				defer mu.Unlock()
				switch apperr.KindOf(err) {
				case "":
					won++
				case apperr.KindConflict:
					lost++
				default:
					other = append(other, err)
				}
			}()
		}
		wg.Wait()
		if won != 1 || lost != n-1 || len(other) != 0 {
			t.Fatalf("won %d, conflicts %d, other errors %v; want 1, %d, none", won, lost, other, n-1)
		}
	})
}

// setStatus forces a job into a state, as the worker would have left it.
func setStatus(t *testing.T, c *ent.Client, id string, st ocrinvoicejob.Status) {
	t.Helper()
	if err := c.OcrInvoiceJob.UpdateOneID(id).SetStatus(st).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestStateMachine(t *testing.T) {
	type action struct {
		name string
		do   func(s *jobs.Service, ctx context.Context, id string) (*ent.OcrInvoiceJob, error)
	}
	cancel := action{"cancel", (*jobs.Service).CancelJob}
	retry := action{"retry", (*jobs.Service).RetryJob}
	start := action{"start", (*jobs.Service).StartProcessing}
	complete := action{"complete", func(s *jobs.Service, ctx context.Context, id string) (*ent.OcrInvoiceJob, error) {
		return s.Complete(ctx, id, jobs.CompleteInput{Pages: 1})
	}}
	failPerm := action{"fail", func(s *jobs.Service, ctx context.Context, id string) (*ent.OcrInvoiceJob, error) {
		return s.Fail(ctx, id, "boom", true)
	}}
	failTemp := action{"fail-retryable", func(s *jobs.Service, ctx context.Context, id string) (*ent.OcrInvoiceJob, error) {
		return s.Fail(ctx, id, "flaky", false)
	}}
	const bad = ocrinvoicejob.Status("") // FailedPrecondition expected
	tests := []struct {
		from ocrinvoicejob.Status
		act  action
		want ocrinvoicejob.Status
	}{
		{"created", cancel, "cancelled"},
		{"queued", cancel, "cancelled"},
		{"processing", cancel, "cancelled"},
		{"completed", cancel, bad},
		{"failed", cancel, bad},
		{"cancelled", cancel, bad},
		{"failed", retry, "queued"},
		{"cancelled", retry, "queued"},
		{"created", retry, bad},
		{"queued", retry, bad},
		{"processing", retry, bad},
		{"completed", retry, bad},
		{"created", start, "processing"},
		{"queued", start, "processing"},
		{"processing", start, "processing"},
		{"completed", start, bad},
		{"cancelled", start, bad},
		{"failed", start, bad},
		{"processing", complete, "completed"},
		{"queued", complete, bad},
		{"cancelled", complete, bad},
		{"processing", failPerm, "failed"},
		{"processing", failTemp, "queued"},
		{"completed", failPerm, bad},
		{"cancelled", failTemp, bad},
	}
	q := startQueue(t)
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, q)
		ctx := context.Background()
		for i, tt := range tests {
			t.Run(fmt.Sprintf("%s from %s", tt.act.name, tt.from), func(t *testing.T) {
				j, err := s.CreateJob(ctx, validInput(fmt.Sprintf("SM-%d", i)))
				if err != nil {
					t.Fatal(err)
				}
				setStatus(t, c, j.ID, tt.from)
				got, err := tt.act.do(s, ctx, j.ID)
				if tt.want == bad {
					wantKind(t, err, apperr.KindFailedPrecondition, "status")
					now, _ := s.GetJob(ctx, j.ID)
					if now.Status != tt.from {
						t.Errorf("refused %s changed status %s -> %s", tt.act.name, tt.from, now.Status)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s: %v", tt.act.name, err)
				}
				if got.Status != tt.want {
					t.Errorf("status = %s, want %s", got.Status, tt.want)
				}
			})
		}
		t.Run("unknown and malformed ids", func(t *testing.T) {
			_, err := s.CancelJob(ctx, "0123456789abcdef01234567")
			wantKind(t, err, apperr.KindNotFound, "")
			_, err = s.RetryJob(ctx, "not-an-id")
			wantKind(t, err, apperr.KindInvalid, "id")
		})
	})
}

func TestCancelAndRetryManageTasks(t *testing.T) {
	q := startQueue(t)
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, q)
		ctx := context.Background()
		j, err := s.CreateJob(ctx, validInput("CR-1"))
		if err != nil || q.taskQueue(t, j.ID) == "" {
			t.Fatalf("create: %+v %v", j, err)
		}
		if _, err := s.CancelJob(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		if got := q.taskQueue(t, j.ID); got != "" {
			t.Fatalf("cancelled job's task still in queue %q", got)
		}
		r, err := s.RetryJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != ocrinvoicejob.StatusQueued || r.RetryCount != 1 || q.taskQueue(t, j.ID) == "" {
			t.Fatalf("after retry: status %s retryCount %d task %q", r.Status, r.RetryCount, q.taskQueue(t, j.ID))
		}
	})
}

func TestUpdateJob(t *testing.T) {
	q := startQueue(t)
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, q)
		ctx := context.Background()
		completed := func(t *testing.T, n string) *ent.OcrInvoiceJob {
			t.Helper()
			j, err := s.CreateJob(ctx, validInput(n))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.StartProcessing(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
			j, err = s.Complete(ctx, j.ID, jobs.CompleteInput{Pages: 2, ExtractedData: &invoice.ExtractedData{
				Invoice: invoice.Invoice{Number: "INV-9"}}})
			if err != nil {
				t.Fatal(err)
			}
			return j
		}
		t.Run("renaming a completed job keeps its results", func(t *testing.T) {
			j := completed(t, "U-1")
			in := validInput("U-1")
			in.DocumentName = "renamed.pdf"
			in.CreatedBy = "alice"
			got, err := s.UpdateJob(ctx, j.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != ocrinvoicejob.StatusCompleted || got.ExtractedData == nil || got.DocumentName != "renamed.pdf" || got.CreatedBy != "alice" {
				t.Fatalf("got %+v", got)
			}
		})
		t.Run("a new document re-runs a completed job", func(t *testing.T) {
			j := completed(t, "U-2")
			in := validInput("U-2")
			in.DocumentURL = "https://files.example.com/other.pdf"
			got, err := s.UpdateJob(ctx, j.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != ocrinvoicejob.StatusQueued || got.ExtractedData != nil || got.CompletedAt != nil || got.Cost != 0 {
				t.Fatalf("got status %s data %v completedAt %v cost %v", got.Status, got.ExtractedData, got.CompletedAt, got.Cost)
			}
			if q.taskQueue(t, j.ID) == "" {
				t.Error("re-run job has no task")
			}
		})
		t.Run("a new document while processing is refused", func(t *testing.T) {
			j, _ := s.CreateJob(ctx, validInput("U-3"))
			if _, err := s.StartProcessing(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
			in := validInput("U-3")
			in.DocumentURL = "https://files.example.com/x.png"
			_, err := s.UpdateJob(ctx, j.ID, in)
			wantKind(t, err, apperr.KindFailedPrecondition, "status")
		})
		t.Run("a priority change moves the queued task", func(t *testing.T) {
			j, _ := s.CreateJob(ctx, validInput("U-4"))
			in := validInput("U-4")
			in.Priority = "high"
			got, err := s.UpdateJob(ctx, j.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != ocrinvoicejob.StatusQueued || q.taskQueue(t, j.ID) != tasks.QueueHigh {
				t.Fatalf("status %s, task queue %q", got.Status, q.taskQueue(t, j.ID))
			}
		})
		t.Run("taking another job's number is a conflict", func(t *testing.T) {
			j, _ := s.CreateJob(ctx, validInput("U-5"))
			_, err := s.UpdateJob(ctx, j.ID, validInput("U-1"))
			wantKind(t, err, apperr.KindConflict, "jobNumber")
		})
		t.Run("PUT clears omitted optional fields but keeps the owner", func(t *testing.T) {
			in := validInput("U-6")
			in.CreatedBy, in.Metadata = "bob", map[string]any{"k": "v"}
			j, _ := s.CreateJob(ctx, in)
			got, err := s.UpdateJob(ctx, j.ID, validInput("U-6"))
			if err != nil {
				t.Fatal(err)
			}
			if got.Metadata != nil {
				t.Fatalf("metadata %v survived a PUT without it", got.Metadata)
			}
			// An absent createdBy is no request to remove the owner (the owner would lose
			// its own job); only naming one changes it.
			if got.CreatedBy != "bob" {
				t.Fatalf("createdBy %q after a PUT without it, want bob kept", got.CreatedBy)
			}
			in = validInput("U-6")
			in.CreatedBy = "carol"
			if got, err = s.UpdateJob(ctx, j.ID, in); err != nil || got.CreatedBy != "carol" {
				t.Fatalf("PUT naming createdBy carol: %v, createdBy %q", err, got.CreatedBy)
			}
		})
		t.Run("invalid update changes nothing", func(t *testing.T) {
			j, _ := s.CreateJob(ctx, validInput("U-7"))
			in := validInput("U-7")
			in.DocumentURL = "nope"
			_, err := s.UpdateJob(ctx, j.ID, in)
			wantKind(t, err, apperr.KindInvalid, "documentUrl")
			now, _ := s.GetJob(ctx, j.ID)
			if now.DocumentURL != j.DocumentURL || !now.UpdatedAt.Equal(j.UpdatedAt) {
				t.Fatalf("rejected update changed the job: %+v", now)
			}
		})
	})
}

func TestWorkerLifecycle(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		clock := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
		s := jobs.NewService(c, nil, jobs.Options{Logger: quiet, PricePerPage: 0.1, Now: func() time.Time { return clock }})
		if err := s.EnsureBuiltins(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		in := validInput("W-1")
		in.Priority = "high"
		j, err := s.CreateJob(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetProgress(ctx, j.ID, invoice.Progress{Percentage: 10}); apperr.KindOf(err) != apperr.KindFailedPrecondition {
			t.Fatalf("progress of a job not processing: %v", err)
		}
		if j, err = s.StartProcessing(ctx, j.ID); err != nil || !j.StartedAt.Equal(clock) {
			t.Fatalf("start: %+v %v", j, err)
		}
		if err := s.SetProgress(ctx, j.ID, invoice.Progress{Percentage: 150, CurrentStep: "read", TotalSteps: 6}); err != nil {
			t.Fatal(err)
		}
		if j, _ = s.GetJob(ctx, j.ID); j.Progress.Percentage != 100 || j.Progress.CurrentStep != "read" {
			t.Fatalf("progress = %+v", j.Progress)
		}
		// A retryable failure goes back to queued and is logged.
		clock = clock.Add(time.Second)
		if j, err = s.Fail(ctx, j.ID, "fetch: connection reset\nby peer", false); err != nil {
			t.Fatal(err)
		}
		if j.Status != ocrinvoicejob.StatusQueued || j.RetryCount != 1 || j.ErrorLog != "2024-03-01T12:00:01Z fetch: connection reset by peer" {
			t.Fatalf("after retryable failure: %s %d %q", j.Status, j.RetryCount, j.ErrorLog)
		}
		if _, err = s.StartProcessing(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(2500 * time.Millisecond)
		total := 119.0
		j, err = s.Complete(ctx, j.ID, jobs.CompleteInput{
			Pages:             3,
			SHA256:            strings.Repeat("ab", 32),
			DocumentInfo:      &invoice.DocumentInfo{Pages: 3, Format: "pdf"},
			ExtractedData:     &invoice.ExtractedData{Invoice: invoice.Invoice{Number: "RE-77", Supplier: invoice.Supplier{Name: "Müller GmbH"}, Customer: invoice.Customer{Name: "Acme Corp"}, Amounts: invoice.Amounts{Total: &total}}},
			Confidence:        &invoice.Confidence{Overall: 0.9, Fields: map[string]float64{"invoice.number": 0.95}},
			ValidationResults: &invoice.ValidationResults{IsValid: true},
		})
		if err != nil {
			t.Fatal(err)
		}
		// 3 pages x 0.1 x 1.5 (high)
		if j.Status != ocrinvoicejob.StatusCompleted || j.Cost != 0.45 || *j.ProcessingTime != 2.5 || j.Progress.Percentage != 100 || !j.CompletedAt.Equal(clock) {
			t.Fatalf("completed job = status %s cost %v time %v progress %+v", j.Status, j.Cost, *j.ProcessingTime, j.Progress)
		}
		res, err := s.JobResults(ctx, j.ID)
		if err != nil || res.ExtractedData.Invoice.Number != "RE-77" || *res.ProcessingTime != 2.5 || res.Confidence.Overall != 0.9 {
			t.Fatalf("results = %+v, %v", res, err)
		}
		// Search reads the extracted names, ignoring case.
		for _, term := range []string{"re-77", "MÜLLER", "acme", "w-1", "invoice_w"} {
			n, err := c.OcrInvoiceJob.Query().Where(jobs.SearchJobs(term)).Count(ctx)
			if err != nil || n != 1 {
				t.Errorf("search %q found %d (%v), want 1", term, n, err)
			}
		}
		// Completing twice is refused; the first results stay.
		_, err = s.Complete(ctx, j.ID, jobs.CompleteInput{Pages: 99})
		wantKind(t, err, apperr.KindFailedPrecondition, "status")
	})
}

func TestListJobs(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, nil)
		ctx := context.Background()
		for i := 0; i < 7; i++ {
			in := validInput(fmt.Sprintf("L-%02d", i))
			if i%2 == 1 {
				in.Priority = "high"
			}
			if _, err := s.CreateJob(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		tests := []struct {
			name      string
			p         jobs.ListJobsParams
			wantFirst string
			wantLen   int
			wantTotal int
			errField  string
		}{
			{"default: newest first", jobs.ListJobsParams{}, "L-06", 7, 7, ""},
			{"page by jobNumber", jobs.ListJobsParams{Limit: 3, Offset: 3, Order: []ocrinvoicejob.OrderOption{ocrinvoicejob.ByJobNumber()}}, "L-03", 3, 7, ""},
			{"past the end", jobs.ListJobsParams{Limit: 3, Offset: 10}, "", 0, 7, ""},
			{"where counts all matches", jobs.ListJobsParams{Limit: 1, Where: []predicate.OcrInvoiceJob{ocrinvoicejob.PriorityEQ("high")}}, "L-05", 1, 3, ""},
			{"search", jobs.ListJobsParams{Where: []predicate.OcrInvoiceJob{jobs.SearchJobs("l-0")}}, "L-06", 7, 7, ""},
			{"search without match", jobs.ListJobsParams{Where: []predicate.OcrInvoiceJob{jobs.SearchJobs("zzz")}}, "", 0, 0, ""},
			{"search escapes LIKE wildcards", jobs.ListJobsParams{Where: []predicate.OcrInvoiceJob{jobs.SearchJobs("L_0")}}, "", 0, 0, ""},
			{"limit too large", jobs.ListJobsParams{Limit: 101}, "", 0, 0, "limit"},
			{"negative limit", jobs.ListJobsParams{Limit: -1}, "", 0, 0, "limit"},
			{"negative offset", jobs.ListJobsParams{Offset: -1}, "", 0, 0, "offset"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				list, total, err := s.ListJobs(ctx, tt.p)
				if tt.errField != "" {
					wantKind(t, err, apperr.KindInvalid, tt.errField)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if len(list) != tt.wantLen || total != tt.wantTotal {
					t.Fatalf("got %d jobs of %d, want %d of %d", len(list), total, tt.wantLen, tt.wantTotal)
				}
				if tt.wantFirst != "" && list[0].JobNumber != tt.wantFirst {
					t.Errorf("first = %s, want %s", list[0].JobNumber, tt.wantFirst)
				}
			})
		}
	})
}

// TestCompleteReportsDuplicates: a job whose document (by SHA-256) was already read
// with the same template names the earliest such job in its metadata, keeping the
// client's own metadata; another template or another document is no duplicate.
func TestCompleteReportsDuplicates(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		s := newService(t, c, nil)
		other, err := s.CreateTemplate(ctx, jobs.TemplateInput{Name: "other"})
		if err != nil {
			t.Fatal(err)
		}
		run := func(n, tpl, sha string, md map[string]any) *ent.OcrInvoiceJob {
			t.Helper()
			in := validInput(n)
			in.Template = tpl
			in.Metadata = md
			j, err := s.CreateJob(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.StartProcessing(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
			j, err = s.Complete(ctx, j.ID, jobs.CompleteInput{Pages: 1, SHA256: sha})
			if err != nil {
				t.Fatal(err)
			}
			return j
		}
		a, b := strings.Repeat("a1", 32), strings.Repeat("b2", 32)
		first := run("D-1", jobs.BuiltinTemplateName, a, nil)
		if _, ok := first.Metadata[jobs.MetadataDuplicateOf]; ok {
			t.Fatalf("first job marked as duplicate: %v", first.Metadata)
		}
		second := run("D-2", jobs.BuiltinTemplateName, a, map[string]any{"batch": "march"})
		if second.Metadata[jobs.MetadataDuplicateOf] != first.ID || second.Metadata["batch"] != "march" {
			t.Fatalf("second job metadata = %v, want duplicateOf %s and the client's batch", second.Metadata, first.ID)
		}
		if third := run("D-3", jobs.BuiltinTemplateName, a, nil); third.Metadata[jobs.MetadataDuplicateOf] != first.ID {
			t.Fatalf("third job names %v, want the earliest %s", third.Metadata[jobs.MetadataDuplicateOf], first.ID)
		}
		if j := run("D-4", other.ID, a, nil); j.Metadata[jobs.MetadataDuplicateOf] != nil {
			t.Fatalf("same document, other template marked duplicate: %v", j.Metadata)
		}
		if j := run("D-5", jobs.BuiltinTemplateName, b, nil); j.Metadata[jobs.MetadataDuplicateOf] != nil {
			t.Fatalf("other document marked duplicate: %v", j.Metadata)
		}
	})
}
