package tasks

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
)

func TestNewOCRInvoiceTask(t *testing.T) {
	tests := []struct {
		priority, queue string
	}{
		{"urgent", QueueUrgent}, {"high", QueueHigh}, {"medium", QueueMedium}, {"low", QueueLow},
		{"", QueueMedium}, {"bogus", QueueMedium},
	}
	for _, tt := range tests {
		t.Run("priority="+tt.priority, func(t *testing.T) {
			task, opts, err := NewOCRInvoiceTask("0123456789abcdef01234567", tt.priority)
			if err != nil {
				t.Fatal(err)
			}
			if task.Type() != TypeOCRInvoice {
				t.Errorf("type = %q", task.Type())
			}
			p, err := ParsePayload(task)
			if err != nil || p.JobID != "0123456789abcdef01234567" {
				t.Errorf("payload = %+v, %v", p, err)
			}
			want := map[asynq.OptionType]any{
				asynq.TaskIDOpt: "0123456789abcdef01234567", asynq.QueueOpt: tt.queue,
				asynq.MaxRetryOpt: MaxRetry, asynq.TimeoutOpt: Timeout,
			}
			for _, o := range opts {
				if w, ok := want[o.Type()]; ok {
					if o.Value() != w {
						t.Errorf("option %v = %v, want %v", o.Type(), o.Value(), w)
					}
					delete(want, o.Type())
				}
			}
			if len(want) != 0 {
				t.Errorf("missing options: %v", want)
			}
		})
	}
	if _, _, err := NewOCRInvoiceTask("", "low"); err == nil {
		t.Error("empty job id accepted")
	}
}

func TestParsePayloadRejectsBadPayloads(t *testing.T) {
	for name, body := range map[string]string{"not json": "{", "no id": `{"jobId":""}`, "wrong type": `{"jobId":1}`} {
		t.Run(name, func(t *testing.T) {
			_, err := ParsePayload(asynq.NewTask(TypeOCRInvoice, []byte(body)))
			if !errors.Is(err, asynq.SkipRetry) {
				t.Errorf("err = %v, want SkipRetry", err)
			}
		})
	}
}

func TestClientAgainstRedis(t *testing.T) {
	srv := redistest.Start(t)
	opt := asynq.RedisClientOpt{Addr: srv.Addr}
	c := NewClient(opt)
	defer c.Close()
	ins := asynq.NewInspector(opt)
	defer ins.Close()
	ctx := context.Background()
	const id = "0123456789abcdef01234567"

	if err := c.EnqueueJob(ctx, id, "high"); err != nil {
		t.Fatalf("EnqueueJob: %v", err)
	}
	// Enqueueing the same job again is harmless.
	if err := c.EnqueueJob(ctx, id, "high"); err != nil {
		t.Fatalf("second EnqueueJob: %v", err)
	}
	info, err := ins.GetTaskInfo(QueueHigh, id)
	if err != nil {
		t.Fatalf("GetTaskInfo: %v", err)
	}
	if info.State != asynq.TaskStatePending || info.Type != TypeOCRInvoice {
		t.Errorf("task = %+v", info)
	}
	// Deleting finds the task even when told the wrong priority.
	if err := c.DeleteJobTask(ctx, id, "low"); err != nil {
		t.Fatalf("DeleteJobTask: %v", err)
	}
	if _, err := ins.GetTaskInfo(QueueHigh, id); !errors.Is(err, asynq.ErrTaskNotFound) {
		t.Errorf("task still there after delete: %v", err)
	}
	// Deleting a missing task is success.
	if err := c.DeleteJobTask(ctx, id, "high"); err != nil {
		t.Errorf("DeleteJobTask of a missing task: %v", err)
	}
}

func TestClientRedisDown(t *testing.T) {
	// Port 1 on loopback: nothing listens there, connections are refused at once.
	c := NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: time.Second})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.EnqueueJob(ctx, "0123456789abcdef01234567", "low"); err == nil {
		t.Fatal("EnqueueJob succeeded with Redis down")
	}
}

func TestQueuePriorities(t *testing.T) {
	p := QueuePriorities()
	if !(p[QueueUrgent] > p[QueueHigh] && p[QueueHigh] > p[QueueMedium] && p[QueueMedium] > p[QueueLow] && p[QueueLow] > 0) {
		t.Errorf("weights not strictly ordered: %v", p)
	}
}

// TestEnqueueJobReplacesFinishedTask: a job enqueued again (retried) while Redis still
// holds its previous task gets a task that runs: an archived task is replaced, and a
// running one is waited for (it ends archived, then it is replaced). HasJobTask does not
// count an archived task.
func TestEnqueueJobReplacesFinishedTask(t *testing.T) {
	srv := redistest.Start(t)
	opt := asynq.RedisClientOpt{Addr: srv.Addr}
	c := NewClient(opt)
	defer c.Close()
	ins := asynq.NewInspector(opt)
	defer ins.Close()
	ctx := context.Background()

	t.Run("archived", func(t *testing.T) {
		const id = "0123456789abcdef0000000a"
		if err := c.EnqueueJob(ctx, id, "low"); err != nil {
			t.Fatal(err)
		}
		if err := ins.ArchiveTask(QueueLow, id); err != nil {
			t.Fatal(err)
		}
		if has, err := c.HasJobTask(ctx, id); err != nil || has {
			t.Fatalf("HasJobTask of an archived task = %v, %v; want false", has, err)
		}
		if err := c.EnqueueJob(ctx, id, "low"); err != nil {
			t.Fatal(err)
		}
		if info, err := ins.GetTaskInfo(QueueLow, id); err != nil || info.State != asynq.TaskStatePending {
			t.Fatalf("after EnqueueJob: %+v, %v; want pending", info, err)
		}
		if has, err := c.HasJobTask(ctx, id); err != nil || !has {
			t.Fatalf("HasJobTask of a pending task = %v, %v; want true", has, err)
		}
	})

	t.Run("still running", func(t *testing.T) {
		const id = "0123456789abcdef0000000b"
		started, release, again := make(chan struct{}), make(chan struct{}), make(chan struct{})
		var runs atomic.Int32
		w := asynq.NewServer(opt, asynq.Config{Concurrency: 1, Queues: QueuePriorities(),
			TaskCheckInterval: 20 * time.Millisecond, LogLevel: asynq.FatalLevel})
		if err := w.Start(asynq.HandlerFunc(func(_ context.Context, task *asynq.Task) error {
			if p, _ := ParsePayload(task); p.JobID != id {
				return nil // the pending task left by "archived"
			}
			if runs.Add(1) == 1 {
				close(started)
				<-release
				return fmt.Errorf("permanent: %w", asynq.SkipRetry) // archived
			}
			close(again)
			return nil
		})); err != nil {
			t.Fatal(err)
		}
		defer w.Shutdown()
		if err := c.EnqueueJob(ctx, id, "low"); err != nil {
			t.Fatal(err)
		}
		<-started
		if info, err := ins.GetTaskInfo(QueueLow, id); err != nil || info.State != asynq.TaskStateActive {
			t.Fatalf("first task: %+v, %v; want active", info, err)
		}
		go func() { time.Sleep(200 * time.Millisecond); close(release) }()
		if err := c.EnqueueJob(ctx, id, "low"); err != nil {
			t.Fatal(err)
		}
		select {
		case <-again:
		case <-time.After(10 * time.Second):
			t.Fatal("the job's task did not run again after its running task ended archived")
		}
	})
}
