package runner_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/runner"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
	"github.com/ocrinvoice/ocrinvoice/worker/fetch"
	"github.com/ocrinvoice/ocrinvoice/worker/webhook"
)

// closedPort returns a loopback port nothing listens on (it was free a moment ago).
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRedisOn runs a private redis-server on port until the test ends.
func startRedisOn(t *testing.T, port int) {
	t.Helper()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--loglevel", "warning")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s did not start", addr)
		}
	}
}

// TestWebhookSweepSendsWebhooksWhoseEnqueueFailed: a job reaches a terminal state while
// the queue's Redis is unreachable (nothing listens on its port); the webhook is owed in
// the database, a sweep while Redis is still down leaves it owed, and once a real
// redis-server listens there the sweep queues it and a real worker delivers it to the
// receiver exactly once — a second sweep, and a sweep after the mark was left behind (as
// when clearing it failed), queue no duplicate.
func TestWebhookSweepSendsWebhooksWhoseEnqueueFailed(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		var mu sync.Mutex
		got := map[string]int{}
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got[r.URL.Path]++
			mu.Unlock()
		}))
		t.Cleanup(recv.Close)
		received := func(path string) int {
			mu.Lock()
			defer mu.Unlock()
			return got[path]
		}

		port := closedPort(t)
		opt := asynq.RedisClientOpt{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), DialTimeout: 200 * time.Millisecond}
		q := tasks.NewClient(opt)
		t.Cleanup(func() { _ = q.Close() })
		s := jobs.NewService(c, nil, jobs.Options{Logger: quiet, Webhooks: q, EnqueueTimeout: time.Second})
		if err := s.EnsureBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		hooked := input("WS-1")
		hooked.CallbackURL = recv.URL + "/hook"
		j, err := s.CreateJob(ctx, hooked)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := s.CreateJob(ctx, input("WS-2"))
		if err != nil {
			t.Fatal(err)
		}
		if j, err = s.CancelJob(ctx, j.ID); err != nil {
			t.Fatalf("cancel with Redis down: %v", err)
		}
		if plain, err = s.CancelJob(ctx, plain.ID); err != nil {
			t.Fatal(err)
		}
		if j.WebhookPendingAt == nil {
			t.Fatal("the webhook whose enqueue failed is not recorded as owed")
		}
		if plain.WebhookPendingAt != nil {
			t.Errorf("a job without callback URL owes a webhook (%v)", plain.WebhookPendingAt)
		}

		later := func() time.Time { return time.Now().Add(time.Minute) }
		sw := &runner.WebhookSweeper{Jobs: s, Now: later, Logger: quiet}
		if n, err := sw.Sweep(ctx); err == nil || n != 0 {
			t.Fatalf("sweep with Redis down = %d, %v; want an error", n, err)
		}
		if again, _ := s.GetJob(ctx, j.ID); again.WebhookPendingAt == nil {
			t.Fatal("a failed sweep cleared the owed webhook")
		}

		startRedisOn(t, port)
		// A sweep before the grace period leaves a fresh mark to the enqueue in flight.
		if n, err := (&runner.WebhookSweeper{Jobs: s, Logger: quiet}).Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("sweep within the grace period = %d, %v; want 0", n, err)
		}
		if n, err := sw.Sweep(ctx); err != nil || n != 1 {
			t.Fatalf("sweep with Redis back = %d, %v; want 1", n, err)
		}
		if again, _ := s.GetJob(ctx, j.ID); again.WebhookPendingAt != nil || !again.UpdatedAt.Equal(j.UpdatedAt) {
			t.Fatalf("after the sweep: webhookPendingAt %v, updatedAt %v (was %v)", again.WebhookPendingAt, again.UpdatedAt, j.UpdatedAt)
		}
		if n, err := sw.Sweep(ctx); err != nil || n != 0 {
			t.Fatalf("second sweep = %d, %v; want 0", n, err)
		}
		// A mark left behind (its clearing failed) is settled without a second task.
		if err := c.OcrInvoiceJob.UpdateOneID(j.ID).SetWebhookPendingAt(*j.WebhookPendingAt).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := sw.Sweep(ctx); err != nil || n != 1 {
			t.Fatalf("sweep of a left-behind mark = %d, %v; want 1", n, err)
		}

		srv := asynq.NewServer(opt, asynq.Config{Concurrency: 2, Queues: map[string]int{tasks.QueueWebhooks: 1},
			TaskCheckInterval: 50 * time.Millisecond, Logger: asynqQuiet{}})
		mux := asynq.NewServeMux()
		mux.Handle(tasks.TypeWebhookDeliver, webhook.NewHandler(webhook.Config{Jobs: s, Logger: quiet,
			Guard: fetch.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}}))
		if err := srv.Start(mux); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Shutdown)
		ins := asynq.NewInspector(opt)
		t.Cleanup(func() { _ = ins.Close() })
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			info, err := ins.GetTaskInfo(tasks.QueueWebhooks, tasks.WebhookTaskID(j.ID, "cancelled", 0))
			if err == nil && info.State == asynq.TaskStateCompleted {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("webhook task not completed: %v %v", info, err)
			}
		}
		if n := received("/hook"); n != 1 {
			t.Errorf("receiver got %d webhooks, want exactly 1", n)
		}
		if qi, err := ins.GetQueueInfo(tasks.QueueWebhooks); err != nil || qi.Size != 1 {
			t.Errorf("webhooks queue holds %v tasks (%v), want the one", qi, err)
		}
	})
}

// asynqQuiet discards asynq's log lines.
type asynqQuiet struct{}

func (asynqQuiet) Debug(...any) {}
func (asynqQuiet) Info(...any)  {}
func (asynqQuiet) Warn(...any)  {}
func (asynqQuiet) Error(...any) {}
func (asynqQuiet) Fatal(...any) {}
