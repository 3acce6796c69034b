package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// webhookTasks lists the ids of the webhook tasks in Redis, in every state, sorted.
func (q *queue) webhookTasks(t *testing.T) []string {
	t.Helper()
	var out []string
	list := []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		q.ins.ListPendingTasks, q.ins.ListScheduledTasks, q.ins.ListRetryTasks, q.ins.ListActiveTasks,
		q.ins.ListArchivedTasks, q.ins.ListCompletedTasks,
	}
	for _, l := range list {
		infos, err := l(tasks.QueueWebhooks)
		if errors.Is(err, asynq.ErrQueueNotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range infos {
			if in.Type != tasks.TypeWebhookDeliver {
				t.Errorf("task %s of type %s in the webhooks queue", in.ID, in.Type)
			}
			out = append(out, in.ID)
		}
	}
	slices.Sort(out)
	return out
}

// TestWebhookEnqueuedOnTerminalStates: a job with a callback URL (its own or its
// group's) gets one webhook task per terminal state it reaches — completed, failed for
// good, cancelled — and none for a retryable failure; a job retried and finished again
// gets a new one; jobs without any callback URL get none.
func TestWebhookEnqueuedOnTerminalStates(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		q := startQueue(t)
		ctx := context.Background()
		// No job Enqueuer: jobs stay "created", which StartProcessing accepts.
		s := jobs.NewService(c, nil, jobs.Options{Logger: quiet, Webhooks: q.Client, EnqueueTimeout: 2 * time.Second})
		if err := s.EnsureBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		hooked := func(n string) jobs.JobInput {
			in := validInput(n)
			in.CallbackURL = "https://hooks.example.com/" + n
			return in
		}
		create := func(in jobs.JobInput) *ent.OcrInvoiceJob {
			t.Helper()
			j, err := s.CreateJob(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.StartProcessing(ctx, j.ID); err != nil {
				t.Fatal(err)
			}
			return j
		}
		var want []string

		done := create(hooked("WH-DONE"))
		if _, err := s.Complete(ctx, done.ID, jobs.CompleteInput{Pages: 1}); err != nil {
			t.Fatal(err)
		}
		want = append(want, tasks.WebhookTaskID(done.ID, "completed", 0))

		failed := create(hooked("WH-FAIL"))
		if _, err := s.Fail(ctx, failed.ID, "timeout", false); err != nil { // retryable: queued, no webhook
			t.Fatal(err)
		}
		if _, err := s.StartProcessing(ctx, failed.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Fail(ctx, failed.ID, "HTTP 404", true); err != nil {
			t.Fatal(err)
		}
		want = append(want, tasks.WebhookTaskID(failed.ID, "failed", 1))
		// Retried by a client, failed again: a second delivery, a new id.
		if _, err := s.RetryJob(ctx, failed.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartProcessing(ctx, failed.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Fail(ctx, failed.ID, "HTTP 404", true); err != nil {
			t.Fatal(err)
		}
		want = append(want, tasks.WebhookTaskID(failed.ID, "failed", 2))

		cancelled, err := s.CreateJob(ctx, hooked("WH-CANCEL"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CancelJob(ctx, cancelled.ID); err != nil {
			t.Fatal(err)
		}
		want = append(want, tasks.WebhookTaskID(cancelled.ID, "cancelled", 0))

		g, err := s.CreateGroup(ctx, jobs.GroupInput{Name: "hooked", CallbackURL: "https://hooks.example.com/group"})
		if err != nil {
			t.Fatal(err)
		}
		in := validInput("WH-GROUP")
		in.Group = g.ID
		member := create(in)
		if u, err := s.CallbackURL(ctx, member); err != nil || u != "https://hooks.example.com/group" {
			t.Errorf("CallbackURL of a group member = %q, %v; want the group's", u, err)
		}
		if _, err := s.Complete(ctx, member.ID, jobs.CompleteInput{Pages: 1}); err != nil {
			t.Fatal(err)
		}
		want = append(want, tasks.WebhookTaskID(member.ID, "completed", 0))

		plainGroup, err := s.CreateGroup(ctx, jobs.GroupInput{Name: "plain"})
		if err != nil {
			t.Fatal(err)
		}
		in = validInput("WH-NONE-GROUP")
		in.Group = plainGroup.ID
		none := []*ent.OcrInvoiceJob{create(validInput("WH-NONE")), create(in)}
		for _, j := range none {
			if _, err := s.Complete(ctx, j.ID, jobs.CompleteInput{Pages: 1}); err != nil {
				t.Fatal(err)
			}
		}

		slices.Sort(want)
		if got := q.webhookTasks(t); !slices.Equal(got, want) {
			t.Errorf("webhook tasks\n got %v\nwant %v", got, want)
		}
		// Queued at once: nothing is left owed for the webhook sweep.
		if n, err := c.OcrInvoiceJob.Query().Where(ocrinvoicejob.WebhookPendingAtNotNil()).Count(ctx); err != nil || n != 0 {
			t.Errorf("%d jobs still owe a webhook (%v), want 0", n, err)
		}
		// The same terminal transition queued again is one task.
		if err := q.EnqueueWebhook(ctx, done.ID, "completed", 0, 0); err != nil {
			t.Errorf("enqueue of an existing webhook: %v, want nil", err)
		}
		if got := q.webhookTasks(t); !slices.Equal(got, want) {
			t.Errorf("after a second enqueue: %v", got)
		}
	})
}

// TestWebhookQueueDown: a terminal transition succeeds when the webhook cannot be queued
// (Redis down); the failure is logged and the webhook stays owed (webhookPendingAt).
func TestWebhookQueueDown(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		logs := &lockedBuffer{}
		s := jobs.NewService(c, nil, jobs.Options{Logger: logs.logger(), Webhooks: downQueue(t), EnqueueTimeout: time.Second})
		if err := s.EnsureBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		in := validInput("WH-DOWN")
		in.CallbackURL = "https://hooks.example.com/x"
		j, err := s.CreateJob(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if j, err = s.CancelJob(ctx, j.ID); err != nil || j.Status != "cancelled" {
			t.Fatalf("cancel with the webhook queue down: %v, %v", j, err)
		}
		if !logs.contains("Webhook not queued") {
			t.Errorf("failure not logged:\n%s", logs.String())
		}
		// Owed in the database, for the webhook sweep (internal/runner) to queue later.
		if j.WebhookPendingAt == nil {
			t.Error("the webhook whose enqueue failed is not recorded as owed")
		}
	})
}

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) contains(s string) bool { return strings.Contains(l.String(), s) }

func (l *lockedBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }
