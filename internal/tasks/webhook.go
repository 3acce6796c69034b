package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// TypeWebhookDeliver is the asynq type name of the task that POSTs one job's webhook
// after the job reached a terminal state.
const TypeWebhookDeliver = "webhook:deliver"

// QueueWebhooks is the queue of webhook tasks: short HTTP calls that should not wait
// behind a backlog of OCR work.
const QueueWebhooks = "webhooks"

// Options of webhook tasks.
const (
	// WebhookMaxRetry is how often a failed delivery is retried before it is archived.
	WebhookMaxRetry = 8
	// WebhookTimeout bounds one delivery attempt (the HTTP request has its own 10 s).
	WebhookTimeout = 30 * time.Second
	// WebhookRetention keeps a delivered webhook task in Redis this long, so that the same
	// terminal transition queued again within it is recognised (task id conflict) and not
	// sent twice.
	WebhookRetention = 24 * time.Hour
	// DefaultWebhookRetryBase is the first retry delay of a failed delivery; each further
	// retry waits twice as long, up to WebhookRetryCap.
	DefaultWebhookRetryBase = 10 * time.Second
	// WebhookRetryCap is the longest wait between two delivery attempts.
	WebhookRetryCap = time.Hour
)

// WebhookPayload is the JSON body of a webhook:deliver task: the job, the terminal status
// it reached and its retryCount at that moment (which run of the job finished), and for
// a review of the job's data (a correction or an approval) the data version it made;
// 0 for the transition to the status.
type WebhookPayload struct {
	JobID   string `json:"jobId"`
	Status  string `json:"status"`
	Attempt int    `json:"attempt"`
	Version int    `json:"version,omitempty"`
}

// WebhookTaskID is the task id of the webhook of one terminal transition:
// "webhook:<jobId>:<status>:<attempt>". The same transition queued twice is one task; a
// job retried (retryCount grows) and finished again gets a new one.
func WebhookTaskID(jobID, status string, attempt int) string {
	return fmt.Sprintf("webhook:%s:%s:%d", jobID, status, attempt)
}

// WebhookVersionTaskID is the task id of the webhook of one change of a job:
// WebhookTaskID for the transition to a terminal state (version 0), with ":v<version>"
// appended for a review of its data, so that every correction and approval is a
// delivery of its own, distinct from the completion's.
func WebhookVersionTaskID(jobID, status string, attempt, version int) string {
	id := WebhookTaskID(jobID, status, attempt)
	if version > 0 {
		id += ":v" + strconv.Itoa(version)
	}
	return id
}

// NewWebhookTask returns the webhook task of a job that reached status on its attempt-th
// retry (version 0) or whose data a review took to version, and the options to enqueue
// it with: TaskID(WebhookVersionTaskID(...)), QueueWebhooks, WebhookMaxRetry,
// WebhookTimeout and WebhookRetention. It fails on an empty id or status, or a negative
// attempt or version.
func NewWebhookTask(jobID, status string, attempt, version int) (*asynq.Task, []asynq.Option, error) {
	if jobID == "" || status == "" || attempt < 0 || version < 0 {
		return nil, nil, fmt.Errorf("new %s task: job id %q, status %q, attempt %d, version %d", TypeWebhookDeliver, jobID, status, attempt, version)
	}
	body, err := json.Marshal(WebhookPayload{JobID: jobID, Status: status, Attempt: attempt, Version: version})
	if err != nil {
		return nil, nil, fmt.Errorf("encode %s payload: %w", TypeWebhookDeliver, err)
	}
	opts := []asynq.Option{
		asynq.TaskID(WebhookVersionTaskID(jobID, status, attempt, version)),
		asynq.Queue(QueueWebhooks),
		asynq.MaxRetry(WebhookMaxRetry),
		asynq.Timeout(WebhookTimeout),
		asynq.Retention(WebhookRetention),
	}
	return asynq.NewTask(TypeWebhookDeliver, body), opts, nil
}

// ParseWebhookPayload decodes a webhook task payload. A bad payload wraps
// asynq.SkipRetry: retrying cannot fix it.
func ParseWebhookPayload(t *asynq.Task) (WebhookPayload, error) {
	var p WebhookPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	if p.JobID == "" || p.Status == "" || p.Attempt < 0 || p.Version < 0 {
		return p, fmt.Errorf("decode %s payload: jobId %q, status %q, attempt %d: %w", t.Type(), p.JobID, p.Status, p.Attempt, asynq.SkipRetry)
	}
	return p, nil
}

// WebhookRetryDelay is the wait after a failed delivery that had already been retried n
// times (asynq's RetryDelayFunc argument: 0 after the first attempt): base, 2 x base,
// 4 x base, ... capped at WebhookRetryCap. base <= 0 means DefaultWebhookRetryBase.
func WebhookRetryDelay(n int, base time.Duration) time.Duration {
	if base <= 0 {
		base = DefaultWebhookRetryBase
	}
	d := base
	for i := 0; i < n && d < WebhookRetryCap; i++ {
		d *= 2
	}
	return min(d, WebhookRetryCap)
}

// WorkerQueues returns the queue weights of a worker process that handles both task
// types: QueuePriorities plus QueueWebhooks with the weight of the high queue.
func WorkerQueues() map[string]int {
	q := maps.Clone(QueuePriorities())
	q[QueueWebhooks] = q[QueueHigh]
	return q
}

// EnqueueWebhook enqueues the webhook task of a job that reached status with retryCount
// attempt (version 0), or whose data a review took to version. A task with the same id
// (the same change, queued, retrying or delivered within WebhookRetention) counts as
// success.
func (c *Client) EnqueueWebhook(ctx context.Context, jobID, status string, attempt, version int) error {
	task, opts, err := NewWebhookTask(jobID, status, attempt, version)
	if err != nil {
		return err
	}
	if _, err := c.client.EnqueueContext(ctx, task, opts...); err != nil {
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			return nil
		}
		return fmt.Errorf("enqueue webhook of job %s (%s): %w", jobID, status, err)
	}
	return nil
}
