package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ocrinvoice/ocrinvoice/internal/runner"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// queueWorker is a running asynq server, the handler resources it uses, the batch
// runner and the sweeps that re-enqueue jobs whose tasks were lost and webhooks owed.
type queueWorker struct {
	srv          *asynq.Server
	closeHandler func() error
	logger       *slog.Logger
	stopSweep    context.CancelFunc
	sweepDone    chan struct{}
	stopRunner   func()
}

// startWorker builds the task handlers and starts an asynq server on the queues of
// tasks.WorkerQueues (weighted, or strict with --strict-priority), processing
// Config.WorkerConcurrency tasks at once, then the batch runner and the sweeps. It
// returns once they run. The batch runner's metrics go to reg when it is set.
func (a *App) startWorker(ctx context.Context, reg prometheus.Registerer) (*queueWorker, error) {
	beats := a.heartbeats()
	h, closeHandler, err := a.newTaskHandler(beats)
	if err != nil {
		return nil, fmt.Errorf("build task handler: %w", err)
	}
	srv := a.newQueueServer()
	mux := asynq.NewServeMux()
	mux.Handle(tasks.TypeOCRInvoice, h)
	mux.Handle(tasks.TypeWebhookDeliver, a.newWebhookHandler())
	if err := srv.Start(mux); err != nil {
		_ = closeHandler()
		return nil, fmt.Errorf("start queue worker: %w", err)
	}
	w := &queueWorker{srv: srv, closeHandler: closeHandler, logger: a.logger}
	w.stopRunner = a.startBatchRunner(ctx, reg)
	w.stopSweep, w.sweepDone = a.startSweeps(ctx, beats)
	a.logger.Info("Worker started", slog.Int("concurrency", a.cfg.WorkerConcurrency),
		slog.Bool("strict_priority", a.cfg.StrictPriority), slog.Any("queues", tasks.WorkerQueues()),
		slog.Duration("requeue_interval", a.cfg.RequeueInterval), slog.Duration("worker_heartbeat", a.cfg.WorkerHeartbeat))
	return w, nil
}

// newQueueServer is the asynq server of the worker, not yet started.
func (a *App) newQueueServer() *asynq.Server {
	logger := a.logger
	return asynq.NewServer(a.redisOpt, asynq.Config{
		Concurrency:     a.cfg.WorkerConcurrency,
		Queues:          tasks.WorkerQueues(),
		StrictPriority:  a.cfg.StrictPriority,
		ShutdownTimeout: a.cfg.ShutdownTimeout,
		Logger:          asynqLogger{logger.With(slog.String("component", "asynq"))},
		LogLevel:        asynqLevel(a.cfg.LogLevel),
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			id, _ := asynq.GetTaskID(ctx)
			retried, _ := asynq.GetRetryCount(ctx)
			logger.Warn("Task failed", slog.String("task_type", t.Type()), slog.String("task_id", id),
				slog.Int("retry", retried), slog.String("error", err.Error()))
		}),
		// An idle worker polls Redis every 200 ms, not asynq's 1 s: a job that reaches
		// idle workers starts ~0.1 s after it is created, not ~0.5 s (BenchmarkQueueLatency).
		TaskCheckInterval: tasks.TaskCheckInterval,
		// A task whose worker died (lease expired) runs again at once; webhooks back off
		// from OCRINVOICE_WEBHOOK_RETRY_DELAY; other failures back off exponentially
		// (asynq's default).
		RetryDelayFunc: retryDelay(a.cfg.WebhookRetryDelay),
		// A run that found the database down is not a failed attempt (ErrStoreDown).
		IsFailure: isTaskFailure,
		HealthCheckFunc: func(err error) {
			if err != nil {
				logger.Error("Queue Redis unreachable", slog.String("error", err.Error()))
			}
		},
	})
}

// startSweeps runs, every Config.RequeueInterval (none when 0), the requeue sweep (jobs
// whose tasks were lost, and with heartbeats those whose worker died) and the webhook
// sweep (webhooks owed by jobs whose terminal transition could not queue them). The
// returned stop ends them; done is closed once they have returned.
func (a *App) startSweeps(ctx context.Context, beats *tasks.Heartbeats) (stop context.CancelFunc, done chan struct{}) {
	done = make(chan struct{})
	if a.cfg.RequeueInterval <= 0 {
		close(done)
		return func() {}, done
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	rq := &runner.Requeuer{Jobs: a.svc, Tasks: a.queue, Interval: a.cfg.RequeueInterval,
		Logger: a.logger.With(slog.String("component", "requeue"))}
	ws := &runner.WebhookSweeper{Jobs: a.svc, Interval: a.cfg.RequeueInterval,
		Logger: a.logger.With(slog.String("component", "webhook-sweep"))}
	if beats != nil {
		// A job whose worker stopped heart-beating is queued again within about
		// DeadWorkerAfter + 1.5 heartbeats + one check.
		rq.Heartbeats = beats
		rq.DeadCheckInterval = a.cfg.WorkerHeartbeat
		rq.StartGrace = a.cfg.DeadWorkerAfter
		rq.MissingFor = a.cfg.WorkerHeartbeat * 3 / 2
	}
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		wg.Go(func() { ws.Run(sctx) })
		rq.Run(sctx)
		wg.Wait()
	}()
	return cancel, done
}

// heartbeats returns the job heartbeats of the configuration on the queue's Redis, or
// nil when OCRINVOICE_WORKER_HEARTBEAT is 0.
func (a *App) heartbeats() *tasks.Heartbeats {
	if a.cfg.WorkerHeartbeat <= 0 {
		return nil
	}
	return &tasks.Heartbeats{Redis: a.redis, Interval: a.cfg.WorkerHeartbeat, TTL: a.cfg.DeadWorkerAfter,
		Logger: a.logger.With(slog.String("component", "heartbeat"))}
}

// stop shuts the worker down in order: stop the batch runner (releasing its lease) and
// the sweeps, stop fetching tasks, wait up to ShutdownTimeout for running ones (asynq
// hands unfinished tasks back to the queue), then release the handler's resources (the
// OCR engines). A nil worker (a process without one) has nothing to stop.
func (w *queueWorker) stop() error {
	if w == nil {
		return nil
	}
	w.logger.Info("Worker shutting down")
	w.stopRunner()
	w.stopSweep()
	<-w.sweepDone
	w.srv.Shutdown()
	if err := w.closeHandler(); err != nil {
		return fmt.Errorf("close task handler: %w", err)
	}
	w.logger.Info("Worker stopped")
	return nil
}

// asynqLogger sends asynq's log lines to slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }

// Fatal honours asynq's Logger contract: log, then exit.
func (a asynqLogger) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...))
	os.Exit(1)
}

func asynqLevel(l slog.Level) asynq.LogLevel {
	switch {
	case l <= slog.LevelDebug:
		return asynq.DebugLevel
	case l <= slog.LevelInfo:
		return asynq.InfoLevel
	case l <= slog.LevelWarn:
		return asynq.WarnLevel
	default:
		return asynq.ErrorLevel
	}
}
