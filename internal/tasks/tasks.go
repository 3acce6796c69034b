// Package tasks defines the asynq task of an OCR invoice job — its type name, payload,
// queues and options — shared by the API (which enqueues) and the worker (which
// handles). One task per job and run (see TaskID); the task id is the job id for the
// first run, so enqueueing twice is harmless.
package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// TypeOCRInvoice is the asynq type name of the task that reads one job's document.
const TypeOCRInvoice = "ocr:invoice"

// Queue names, one per job priority.
const (
	QueueUrgent = "urgent"
	QueueHigh   = "high"
	QueueMedium = "medium"
	QueueLow    = "low"
)

// Defaults attached to every task.
const (
	// MaxRetry is how often asynq retries a failed task before archiving it.
	MaxRetry = 3
	// Timeout bounds one attempt; the handler's context is cancelled after it.
	Timeout = 15 * time.Minute
)

// TaskCheckInterval is the worker's asynq.Config.TaskCheckInterval: how often an idle
// worker process polls Redis for a new task. After finding every queue empty asynq
// sleeps a random 0.5 to 1.5 times it, so a job created while the workers are idle
// waits about half of it on average, at most 1.5 times it, before it starts. asynq's
// default of 1 s meant ~0.5 s on average (p99 1.2 s) before jobs that then run in
// ~50 ms; 200 ms gives ~0.1 s (p99 ~0.27 s). Each poll costs Redis one small script
// per queue (four), some 20 a second per idle worker process. BenchmarkQueueLatency
// in package worker measures the wait with this value.
const TaskCheckInterval = 200 * time.Millisecond

// Payload is the JSON body of an ocr:invoice task.
type Payload struct {
	JobID string `json:"jobId"`
	// Run is the job's task run the task was enqueued for (see TaskID); the job refuses
	// a task of another run. 0 (and absent, in tasks from before runs) is the first.
	Run int `json:"run,omitempty"`
}

// TaskID returns the asynq task id of a job's task for run: the job id for run 0, the
// job id and ".r<run>" after it for later runs. A run after the first is enqueued when
// the requeue sweep declared the previous run's worker lost; asynq still holds that
// worker's task (active until its lease expires) under the previous id, so the new task
// needs an id of its own. Job ids never contain a dot.
func TaskID(jobID string, run int) string {
	if run <= 0 {
		return jobID
	}
	return jobID + ".r" + strconv.Itoa(run)
}

// QueuePriorities returns the queue weights for asynq.Config.Queues: urgent 8, high 4,
// medium 2, low 1 (a worker picks a queue with probability proportional to its weight).
func QueuePriorities() map[string]int {
	return map[string]int{QueueUrgent: 8, QueueHigh: 4, QueueMedium: 2, QueueLow: 1}
}

// Queue returns the queue of a job priority; unknown or empty priorities go to medium.
func Queue(priority string) string {
	switch priority {
	case QueueUrgent, QueueHigh, QueueLow:
		return priority
	default:
		return QueueMedium
	}
}

// RunQueue returns the queue of a job's task for run: the priority's queue (Queue) for the
// first run, and QueueUrgent for a later one. A run after the first is the job's
// comeback after its worker was lost (see TaskID): the job had already waited its turn
// and was being read, so it resumes ahead of the jobs that have not started, instead of
// queueing behind all of them again.
func RunQueue(priority string, run int) string {
	if run > 0 {
		return QueueUrgent
	}
	return Queue(priority)
}

// NewOCRInvoiceTask returns the task for jobID and the options to enqueue it with:
// TaskID(jobID), the priority's queue, MaxRetry and Timeout. It fails on an empty id.
func NewOCRInvoiceTask(jobID, priority string) (*asynq.Task, []asynq.Option, error) {
	return NewOCRInvoiceRunTask(jobID, 0, priority, 0)
}

// NewOCRInvoiceRunTask is NewOCRInvoiceTask for a run of the job (see TaskID): the
// payload names the run, the id is TaskID(jobID, run), the queue RunQueue(priority, run)
// and the task may be retried
// MaxRetry - retried times (at least 0), so that attempts the job used before count
// toward the limit.
func NewOCRInvoiceRunTask(jobID string, run int, priority string, retried int) (*asynq.Task, []asynq.Option, error) {
	if jobID == "" {
		return nil, nil, errors.New("new ocr:invoice task: empty job id")
	}
	if run < 0 {
		return nil, nil, fmt.Errorf("new ocr:invoice task: negative run %d", run)
	}
	body, err := json.Marshal(Payload{JobID: jobID, Run: run})
	if err != nil {
		return nil, nil, fmt.Errorf("encode ocr:invoice payload: %w", err)
	}
	opts := []asynq.Option{
		asynq.TaskID(TaskID(jobID, run)),
		asynq.Queue(RunQueue(priority, run)),
		asynq.MaxRetry(max(MaxRetry-max(retried, 0), 0)),
		asynq.Timeout(Timeout),
	}
	return asynq.NewTask(TypeOCRInvoice, body), opts, nil
}

// ParsePayload decodes a task payload. A bad payload wraps asynq.SkipRetry: retrying
// cannot fix it.
func ParsePayload(t *asynq.Task) (Payload, error) {
	var p Payload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("decode %s payload: %v: %w", t.Type(), err, asynq.SkipRetry)
	}
	if p.JobID == "" {
		return p, fmt.Errorf("decode %s payload: empty jobId: %w", t.Type(), asynq.SkipRetry)
	}
	if p.Run < 0 {
		return p, fmt.Errorf("decode %s payload: negative run %d: %w", t.Type(), p.Run, asynq.SkipRetry)
	}
	return p, nil
}

// Client enqueues and removes job tasks. It is safe for concurrent use.
type Client struct {
	client    *asynq.Client
	inspector *asynq.Inspector
	rdb       redis.UniversalClient // for re-registering queues after Redis lost its data
}

// NewClient returns a Client on the Redis of opt. It does not connect until used.
func NewClient(opt asynq.RedisConnOpt) *Client {
	c := &Client{client: asynq.NewClient(opt), inspector: asynq.NewInspector(opt)}
	c.rdb, _ = opt.MakeRedisClient().(redis.UniversalClient)
	return c
}

// asynqQueuesKey is the Redis set in which asynq lists the known queues. An asynq
// client adds a queue to it only on its first enqueue, so after Redis restarts empty
// the inspector reports the queues of newly enqueued tasks as missing ("queue not
// found") until the set is filled again: registerQueues does that.
const asynqQueuesKey = "asynq:queues"

var allQueues = []string{QueueUrgent, QueueHigh, QueueMedium, QueueLow}

func (c *Client) registerQueues(ctx context.Context) error {
	if c.rdb == nil {
		return errors.New("no Redis client to register queues")
	}
	members := make([]any, len(allQueues))
	for i, q := range allQueues {
		members[i] = q
	}
	return c.rdb.SAdd(ctx, asynqQueuesKey, members...).Err()
}

// taskInfo looks the task up in queue q; a queue unknown to the inspector is
// registered once and the lookup repeated (see asynqQueuesKey).
func (c *Client) taskInfo(ctx context.Context, q, taskID string) (*asynq.TaskInfo, error) {
	info, err := c.inspector.GetTaskInfo(q, taskID)
	if errors.Is(err, asynq.ErrQueueNotFound) {
		if rerr := c.registerQueues(ctx); rerr != nil {
			return nil, fmt.Errorf("register queues: %w", rerr)
		}
		info, err = c.inspector.GetTaskInfo(q, taskID)
	}
	return info, err
}

// How long EnqueueJob waits for a running task of the same job to end, and how often
// it looks.
const (
	activeWait = 2 * time.Second
	activePoll = 20 * time.Millisecond
)

// EnqueueJob enqueues the task of jobID on the queue of priority. A task with the same
// id that will run (pending, scheduled, retrying) counts as success. One that will not
// run again (archived, completed) is replaced by a new one. A running one is waited for,
// up to 2 s: a job is enqueued again (retried, re-run) only after its run ended, but
// asynq archives or removes the task only after its handler returned, so a quick retry
// can find the previous run's task still active; when it is still active after the
// wait, that counts as success (the requeue sweep re-enqueues the job if that task
// ends without running it). Errors: Redis unreachable, ctx ended while waiting.
func (c *Client) EnqueueJob(ctx context.Context, jobID, priority string) error {
	return c.EnqueueJobRun(ctx, jobID, 0, priority, 0)
}

// EnqueueJobRun is EnqueueJob for the task of a run of the job (NewOCRInvoiceRunTask:
// id TaskID(jobID, run), MaxRetry - retried retries).
func (c *Client) EnqueueJobRun(ctx context.Context, jobID string, run int, priority string, retried int) error {
	task, opts, err := NewOCRInvoiceRunTask(jobID, run, priority, retried)
	if err != nil {
		return err
	}
	taskID := TaskID(jobID, run)
	q := RunQueue(priority, run)
	deadline := time.Now().Add(activeWait)
	for {
		_, err := c.client.EnqueueContext(ctx, task, opts...)
		if err == nil {
			return nil
		}
		if !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("enqueue task of job %s: %w", jobID, err)
		}
		info, err := c.taskInfo(ctx, q, taskID)
		switch {
		case errors.Is(err, asynq.ErrTaskNotFound):
			continue // it ended meanwhile
		case err != nil:
			return fmt.Errorf("enqueue task of job %s: look up the existing task: %w", jobID, err)
		}
		switch info.State {
		case asynq.TaskStateArchived, asynq.TaskStateCompleted:
			if err := c.inspector.DeleteTask(q, taskID); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) {
				return fmt.Errorf("enqueue task of job %s: delete its finished task: %w", jobID, err)
			}
		case asynq.TaskStateActive:
			if time.Now().After(deadline) {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("enqueue task of job %s: wait for its running task: %w", jobID, ctx.Err())
			case <-time.After(activePoll):
			}
		default:
			return nil // pending, scheduled, retry, aggregating: it will run
		}
	}
}

// DeleteJobTask removes the task of jobID, looking in the queue of priority first and
// then in the other queues (the priority may have changed since it was enqueued). A
// running task is asked to stop (its handler's context is cancelled). No task is success.
func (c *Client) DeleteJobTask(ctx context.Context, jobID, priority string) error {
	return c.DeleteJobRunTask(ctx, jobID, 0, priority)
}

// DeleteJobRunTask is DeleteJobTask for the task of a run of the job (id TaskID(jobID,
// run)).
func (c *Client) DeleteJobRunTask(ctx context.Context, jobID string, run int, priority string) error {
	taskID := TaskID(jobID, run)
	first := RunQueue(priority, run)
	queues := []string{first}
	for _, q := range allQueues {
		if q != first {
			queues = append(queues, q)
		}
	}
	for _, q := range queues {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("delete task of job %s: %w", jobID, err)
		}
		err := c.inspector.DeleteTask(q, taskID)
		if errors.Is(err, asynq.ErrQueueNotFound) {
			if rerr := c.registerQueues(ctx); rerr != nil {
				return fmt.Errorf("delete task of job %s: register queues: %w", jobID, rerr)
			}
			err = c.inspector.DeleteTask(q, taskID)
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
			continue
		default:
			// An active task cannot be deleted; cancel its processing instead.
			if info, gerr := c.taskInfo(ctx, q, taskID); gerr == nil && info.State == asynq.TaskStateActive {
				if cerr := c.inspector.CancelProcessing(taskID); cerr != nil {
					return fmt.Errorf("cancel running task of job %s: %w", jobID, cerr)
				}
				return nil
			}
			return fmt.Errorf("delete task of job %s from queue %s: %w", jobID, q, err)
		}
	}
	return nil
}

// HasJobTask reports whether Redis holds a task of jobID that will run, in any queue:
// pending, scheduled, retry, aggregating or active. An archived task (failed for good)
// or one kept as completed does not count: it will not run the job again, and
// EnqueueJob replaces it.
func (c *Client) HasJobTask(ctx context.Context, jobID string) (bool, error) {
	return c.HasJobRunTask(ctx, jobID, 0)
}

// HasJobRunTask is HasJobTask for the task of a run of the job (id TaskID(jobID, run)).
func (c *Client) HasJobRunTask(ctx context.Context, jobID string, run int) (bool, error) {
	return c.findJobRunTask(ctx, jobID, run, func(st asynq.TaskState) bool {
		return st != asynq.TaskStateArchived && st != asynq.TaskStateCompleted
	})
}

// JobRunTaskWaiting reports whether the task of a job's run waits in a queue to run:
// pending, scheduled, retry or aggregating, in any queue; not when it is running
// (active), finished or absent. A processing job whose task waits was handed back by
// its worker (a retry after a failure, a shutdown, an expired lease) and will be taken
// up again, so its silent heartbeat does not mean that a worker died holding it.
func (c *Client) JobRunTaskWaiting(ctx context.Context, jobID string, run int) (bool, error) {
	return c.findJobRunTask(ctx, jobID, run, func(st asynq.TaskState) bool {
		switch st {
		case asynq.TaskStatePending, asynq.TaskStateScheduled, asynq.TaskStateRetry, asynq.TaskStateAggregating:
			return true
		}
		return false
	})
}

// findJobRunTask reports whether a queue holds the task of a job's run in a state that
// counts (want).
func (c *Client) findJobRunTask(ctx context.Context, jobID string, run int, want func(asynq.TaskState) bool) (bool, error) {
	taskID := TaskID(jobID, run)
	for _, q := range allQueues {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		info, err := c.taskInfo(ctx, q, taskID)
		switch {
		case err == nil:
			if want(info.State) {
				return true, nil
			}
		case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
		default:
			return false, fmt.Errorf("look up task of job %s in queue %s: %w", jobID, q, err)
		}
	}
	return false, nil
}

// QueueDepth is how many tasks one queue holds, by state.
type QueueDepth struct {
	Pending, Active, Scheduled, Retry int
}

// QueueDepths returns the depth of every priority queue (urgent, high, medium, low),
// from asynq's statistics; a queue Redis does not know (nothing enqueued yet, or Redis
// restarted empty) is reported empty. Errors: Redis's.
func (c *Client) QueueDepths(ctx context.Context) (map[string]QueueDepth, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	known, err := c.inspector.Queues()
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	out := make(map[string]QueueDepth, len(allQueues))
	for _, q := range allQueues {
		out[q] = QueueDepth{}
	}
	for _, q := range known {
		if _, ours := out[q]; !ours {
			continue
		}
		info, err := c.inspector.GetQueueInfo(q)
		if err != nil {
			return nil, fmt.Errorf("queue %s statistics: %w", q, err)
		}
		out[q] = QueueDepth{Pending: info.Pending, Active: info.Active, Scheduled: info.Scheduled, Retry: info.Retry}
	}
	return out, nil
}

// Close closes the connections to Redis.
func (c *Client) Close() error {
	errs := []error{c.client.Close(), c.inspector.Close()}
	if c.rdb != nil {
		errs = append(errs, c.rdb.Close())
	}
	return errors.Join(errs...)
}
