package tasks

import (
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

func TestNewWebhookTask(t *testing.T) {
	task, opts, err := NewWebhookTask("0123456789abcdef01234567", "failed", 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if task.Type() != TypeWebhookDeliver {
		t.Errorf("type = %q", task.Type())
	}
	p, err := ParseWebhookPayload(task)
	if err != nil || p != (WebhookPayload{JobID: "0123456789abcdef01234567", Status: "failed", Attempt: 2}) {
		t.Errorf("payload = %+v, %v", p, err)
	}
	want := map[asynq.OptionType]any{
		asynq.TaskIDOpt: "webhook:0123456789abcdef01234567:failed:2", asynq.QueueOpt: QueueWebhooks,
		asynq.MaxRetryOpt: WebhookMaxRetry, asynq.TimeoutOpt: WebhookTimeout, asynq.RetentionOpt: WebhookRetention,
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
	for _, bad := range [][4]any{{"", "failed", 0, 0}, {"x", "", 0, 0}, {"x", "failed", -1, 0}, {"x", "completed", 0, -1}} {
		if _, _, err := NewWebhookTask(bad[0].(string), bad[1].(string), bad[2].(int), bad[3].(int)); err == nil {
			t.Errorf("NewWebhookTask%v accepted", bad)
		}
	}
	for name, body := range map[string]string{"not json": "{", "no id": `{"status":"failed"}`, "no status": `{"jobId":"x"}`, "negative attempt": `{"jobId":"x","status":"failed","attempt":-1}`, "negative version": `{"jobId":"x","status":"completed","version":-1}`} {
		if _, err := ParseWebhookPayload(asynq.NewTask(TypeWebhookDeliver, []byte(body))); !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("%s: err = %v, want SkipRetry", name, err)
		}
	}
}

// A review's webhook (a correction, an approval) has a task id of its own, distinct from
// the completion's and from every other review's, so that queueing it is never taken
// for the completion's delivery already queued.
func TestNewWebhookTaskOfAReview(t *testing.T) {
	const id = "0123456789abcdef01234567"
	task, opts, err := NewWebhookTask(id, "completed", 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := ParseWebhookPayload(task); err != nil || p != (WebhookPayload{JobID: id, Status: "completed", Version: 3}) {
		t.Errorf("payload = %+v, %v", p, err)
	}
	var got any
	for _, o := range opts {
		if o.Type() == asynq.TaskIDOpt {
			got = o.Value()
		}
	}
	if got != "webhook:"+id+":completed:0:v3" {
		t.Errorf("task id = %v", got)
	}
	ids := map[string]bool{}
	for _, v := range []int{0, 1, 2, 3} {
		ids[WebhookVersionTaskID(id, "completed", 0, v)] = true
	}
	if len(ids) != 4 || !ids[WebhookTaskID(id, "completed", 0)] {
		t.Errorf("task ids = %v: want 4 distinct ones, version 0 being WebhookTaskID's", ids)
	}
}

func TestWebhookRetryDelay(t *testing.T) {
	tests := []struct {
		n    int
		base time.Duration
		want time.Duration
	}{
		{0, 0, DefaultWebhookRetryBase},
		{0, 10 * time.Second, 10 * time.Second},
		{1, 10 * time.Second, 20 * time.Second},
		{3, 10 * time.Second, 80 * time.Second},
		{7, 10 * time.Second, 1280 * time.Second},
		{9, 10 * time.Second, WebhookRetryCap},
		{1000, 10 * time.Second, WebhookRetryCap},
		{2, 50 * time.Millisecond, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := WebhookRetryDelay(tt.n, tt.base); got != tt.want {
			t.Errorf("WebhookRetryDelay(%d, %v) = %v, want %v", tt.n, tt.base, got, tt.want)
		}
	}
	if q := WorkerQueues(); q[QueueWebhooks] == 0 || q[QueueUrgent] != QueuePriorities()[QueueUrgent] {
		t.Errorf("WorkerQueues() = %v", q)
	}
}
