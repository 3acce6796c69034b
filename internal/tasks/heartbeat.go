package tasks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Heartbeat defaults: a running job's key is refreshed every DefaultHeartbeatInterval
// and expires DefaultHeartbeatTTL after the last refresh (two refreshes may be missed),
// so a worker that died is noticed about that long after its last beat (plus the
// requeue sweep's confirmation and interval, see runner.Requeuer).
const (
	DefaultHeartbeatInterval = 2 * time.Second
	DefaultHeartbeatTTL      = 6 * time.Second
)

// heartbeatPrefix starts the Redis key of every job run's heartbeat.
const heartbeatPrefix = "ocrinvoice:heartbeat:"

// HeartbeatKey returns the Redis key that is alive while a worker runs the job's task of
// run (see TaskID).
func HeartbeatKey(jobID string, run int) string { return heartbeatPrefix + TaskID(jobID, run) }

// Only the beat's owner deletes its key, so that a run that ends late never removes the
// key a newer delivery of the same run wrote.
var dropBeatScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`)

// Heartbeats keeps one Redis key per running job alive and tells which are. Zero
// durations take the defaults. It is safe for concurrent use.
type Heartbeats struct {
	Redis redis.UniversalClient
	// Interval between two refreshes of a key [DefaultHeartbeatInterval].
	Interval time.Duration
	// TTL of a key after a refresh [DefaultHeartbeatTTL]; more than Interval, so that a
	// refresh or two may be late without the run being taken for dead.
	TTL    time.Duration
	Logger *slog.Logger
}

func (h *Heartbeats) interval() time.Duration {
	if h.Interval > 0 {
		return h.Interval
	}
	return DefaultHeartbeatInterval
}

func (h *Heartbeats) ttl() time.Duration {
	if h.TTL > 0 {
		return h.TTL
	}
	return DefaultHeartbeatTTL
}

// Beat writes the heartbeat key of the job's run (value: worker, a unique name of this
// run's holder) and refreshes it every Interval until stop is called, which deletes it.
// The first write happens before Beat returns; its error is returned (the beat keeps
// trying in the background: a run is not refused because Redis blinked). Refresh
// failures are logged once per run.
func (h *Heartbeats) Beat(ctx context.Context, jobID string, run int, worker string) (stop func(), err error) {
	key := HeartbeatKey(jobID, run)
	ttl, every := h.ttl(), h.interval()
	err = h.Redis.Set(ctx, key, worker, ttl).Err()
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		warned := false
		for {
			select {
			case <-bctx.Done():
				return
			case <-t.C:
			}
			if err := h.Redis.Set(bctx, key, worker, ttl).Err(); err != nil && bctx.Err() == nil && !warned && h.Logger != nil {
				warned = true
				h.Logger.Warn("Could not refresh job heartbeat", slog.String("job_id", jobID), slog.Any("error", err))
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			dctx, dcancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer dcancel()
			_ = dropBeatScript.Run(dctx, h.Redis, []string{key}, worker).Err()
		})
	}
	if err != nil {
		err = fmt.Errorf("write heartbeat of job %s: %w", jobID, err)
	}
	return stop, err
}

// RunRef names the task run of a job.
type RunRef struct {
	JobID string
	Run   int
}

// Alive reports, for each run in refs, whether its heartbeat key exists (one round
// trip). Errors: Redis's; then nothing is reported.
func (h *Heartbeats) Alive(ctx context.Context, refs []RunRef) ([]bool, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.IntCmd, len(refs))
	_, err := h.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, r := range refs {
			cmds[i] = p.Exists(ctx, HeartbeatKey(r.JobID, r.Run))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read job heartbeats: %w", err)
	}
	out := make([]bool, len(refs))
	for i, c := range cmds {
		out[i] = c.Val() > 0
	}
	return out, nil
}
