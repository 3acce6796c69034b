package tasks_test

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// TestHeartbeatsBeat: Beat writes the key before it returns, refreshes it before it
// expires and deletes it on stop; Alive reads many keys at once; a stop never deletes a
// key another holder wrote since.
func TestHeartbeatsBeat(t *testing.T) {
	srv := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()
	h := &tasks.Heartbeats{Redis: rdb, Interval: 100 * time.Millisecond, TTL: 300 * time.Millisecond}
	stop, err := h.Beat(ctx, "job1", 2, "w:1")
	if err != nil {
		t.Fatal(err)
	}
	refs := []tasks.RunRef{{JobID: "job1", Run: 2}, {JobID: "job1", Run: 0}, {JobID: "job2", Run: 2}}
	check := func(want ...bool) {
		t.Helper()
		got, err := h.Alive(ctx, refs)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("alive %v, want %v", got, want)
			}
		}
	}
	check(true, false, false)
	if v, _ := rdb.Get(ctx, "ocrinvoice:heartbeat:job1.r2").Result(); v != "w:1" {
		t.Fatalf("heartbeat value %q", v)
	}
	time.Sleep(time.Second) // more than three TTLs: alive only if refreshed
	check(true, false, false)
	stop()
	stop() // idempotent
	check(false, false, false)

	slow := &tasks.Heartbeats{Redis: rdb, Interval: time.Hour, TTL: time.Hour}
	stop, err = slow.Beat(ctx, "job2", 2, "w:1")
	if err != nil {
		t.Fatal(err)
	}
	check(false, false, true)
	if err := rdb.Set(ctx, tasks.HeartbeatKey("job2", 2), "w:2", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	stop()
	check(false, false, true)
}

// TestHeartbeatsRedisDown: Alive reports an unreachable Redis as an error; Beat returns
// the error of its first write and a stop that still works.
func TestHeartbeatsRedisDown(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	h := &tasks.Heartbeats{Redis: rdb}
	if _, err := h.Alive(context.Background(), []tasks.RunRef{{JobID: "j"}}); err == nil {
		t.Fatal("Alive with Redis down: no error")
	}
	stop, err := h.Beat(context.Background(), "j", 0, "w")
	if err == nil {
		t.Fatal("Beat with Redis down: no error")
	}
	stop()
}

// TestRunTaskIDs: run 0's task id is the job id; later runs have their own id and
// payload, and as many retries as the job has left.
func TestRunTaskIDs(t *testing.T) {
	if got := tasks.TaskID("abc", 0); got != "abc" {
		t.Fatalf("TaskID run 0 = %q", got)
	}
	if got := tasks.TaskID("abc", 3); got != "abc.r3" {
		t.Fatalf("TaskID run 3 = %q", got)
	}
	task, opts, err := tasks.NewOCRInvoiceRunTask("abc", 2, "high", 1)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tasks.ParsePayload(task)
	if err != nil || p.JobID != "abc" || p.Run != 2 {
		t.Fatalf("payload %+v %v", p, err)
	}
	opt := func(opts []asynq.Option, typ asynq.OptionType) any {
		for _, o := range opts {
			if o.Type() == typ {
				return o.Value()
			}
		}
		return nil
	}
	if id, retries := opt(opts, asynq.TaskIDOpt), opt(opts, asynq.MaxRetryOpt); id != "abc.r2" || retries != tasks.MaxRetry-1 {
		t.Fatalf("task id %v, max retry %v", id, retries)
	}
	// A later run resumes ahead of the jobs not started yet; the first keeps its priority.
	if q := opt(opts, asynq.QueueOpt); q != tasks.QueueUrgent {
		t.Fatalf("queue of run 2 of a high job = %v, want %s", q, tasks.QueueUrgent)
	}
	if _, opts, _ := tasks.NewOCRInvoiceRunTask("abc", 0, "low", 0); opt(opts, asynq.QueueOpt) != tasks.QueueLow {
		t.Fatalf("queue of run 0 of a low job = %v, want %s", opt(opts, asynq.QueueOpt), tasks.QueueLow)
	}
	if _, opts, _ := tasks.NewOCRInvoiceRunTask("abc", 1, "", tasks.MaxRetry+5); opt(opts, asynq.MaxRetryOpt) != 0 {
		t.Fatalf("max retry %v with every retry used, want 0", opt(opts, asynq.MaxRetryOpt))
	}
	if _, _, err := tasks.NewOCRInvoiceRunTask("abc", -1, "", 0); err == nil {
		t.Fatal("negative run accepted")
	}
}
