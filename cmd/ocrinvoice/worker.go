package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ocrinvoice/ocrinvoice/internal/config"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/runner"
	"github.com/ocrinvoice/ocrinvoice/internal/server"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// pipelineDeps is what the task handler gets from the process: the domain service (and
// through it the database), the configuration (concurrency sizes the OCR pool, data
// directory, price per page), the logger, the queue's Redis and the job heartbeats (nil:
// off). Job events are published by the service (its Options.Events).
type pipelineDeps struct {
	Service    *jobs.Service
	Config     config.Config
	Logger     *slog.Logger
	Redis      asynq.RedisConnOpt
	Heartbeats *tasks.Heartbeats
}

// heartbeats returns the job heartbeats of the configuration on the queue's Redis, or
// nil when OCRINVOICE_WORKER_HEARTBEAT is 0.
func heartbeats(d *deps) *tasks.Heartbeats {
	if d.cfg.WorkerHeartbeat <= 0 {
		return nil
	}
	return &tasks.Heartbeats{Redis: d.redis, Interval: d.cfg.WorkerHeartbeat, TTL: d.cfg.DeadWorkerAfter,
		Logger: d.logger.With(slog.String("component", "heartbeat"))}
}

// runWorker processes queued OCR tasks until ctx is cancelled. With REDIS_URL unset it
// starts a private redis-server that no other process sees: useful only for trying the
// worker alone; use `all` or set REDIS_URL.
func runWorker(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(config.CmdWorker, args, getenv, stdout)
	if err != nil {
		if errors.Is(err, errHelpShown) {
			return nil
		}
		return err
	}
	logger := cfg.Logger(stderr)
	if cfg.RedisURL == "" {
		logger.Warn("REDIS_URL is unset: this worker uses a private Redis no API process can reach; run `ocrinvoice all` or set REDIS_URL")
	}
	d, err := openDeps(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer d.close() // after the worker has drained its tasks

	// The probe listener binds before the worker starts, so a bind error ends the command
	// before it takes a task; it keeps answering while the worker drains.
	var probes *server.Server
	if cfg.HealthAddr != "" {
		if probes, err = server.New(server.Options{
			Addr: cfg.HealthAddr, Logger: logger, Checks: readinessChecks(d), ShutdownTimeout: cfg.ShutdownTimeout,
		}); err != nil {
			return err
		}
		if err := probes.Listen(); err != nil {
			return err
		}
		listenHook(ctx)(probes.Addr().String())
	}
	var reg prometheus.Registerer
	if probes != nil {
		reg = probes.Registry()
	}
	w, err := startWorker(ctx, d, reg)
	if err != nil {
		if probes != nil {
			_ = probes.Close()
		}
		return err
	}
	if probes == nil {
		<-ctx.Done()
		return w.stop()
	}
	// Serve the probes until ctx ends; then stop the worker and only then the probes.
	probeCtx, stopProbes := context.WithCancel(context.WithoutCancel(ctx))
	served := make(chan error, 1)
	go func() { served <- probes.Serve(probeCtx) }()
	var serveErr error
	probesDone := false
	select {
	case <-ctx.Done():
	case serveErr = <-served: // the probe listener failed: stop the worker too
		probesDone = true
	}
	err = w.stop()
	stopProbes()
	if !probesDone {
		serveErr = <-served
	}
	return errors.Join(serveErr, err)
}

// queueWorker is a running asynq server, the handler resources it uses and the sweep
// that re-enqueues jobs whose tasks were lost.
type queueWorker struct {
	srv          *asynq.Server
	closeHandler func() error
	logger       *slog.Logger
	stopSweep    context.CancelFunc
	sweepDone    chan struct{}
	stopRunner   func()
}

// startWorker builds the task handler and starts an asynq server on the queues of
// tasks.QueuePriorities (weighted, or strict with --strict-priority), processing
// cfg.WorkerConcurrency tasks at once. It returns once the server is running. The batch
// runner's metrics go to reg when it is set.
func startWorker(ctx context.Context, d *deps, reg prometheus.Registerer) (*queueWorker, error) {
	beats := heartbeats(d)
	h, closeHandler, err := newTaskHandler(ctx, pipelineDeps{Service: d.svc, Config: d.cfg, Logger: d.logger, Redis: d.redisOpt,
		Heartbeats: beats})
	if err != nil {
		return nil, fmt.Errorf("build task handler: %w", err)
	}
	logger := d.logger
	srv := asynq.NewServer(d.redisOpt, asynq.Config{
		Concurrency:     d.cfg.WorkerConcurrency,
		Queues:          tasks.WorkerQueues(),
		StrictPriority:  d.cfg.StrictPriority,
		ShutdownTimeout: d.cfg.ShutdownTimeout,
		Logger:          asynqLogger{logger.With(slog.String("component", "asynq"))},
		LogLevel:        asynqLevel(d.cfg.LogLevel),
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
		RetryDelayFunc: retryDelay(d.cfg.WebhookRetryDelay),
		// A run that found the database down is not a failed attempt (ErrStoreDown).
		IsFailure: isTaskFailure,
		HealthCheckFunc: func(err error) {
			if err != nil {
				logger.Error("Queue Redis unreachable", slog.String("error", err.Error()))
			}
		},
	})
	mux := asynq.NewServeMux()
	mux.Handle(tasks.TypeOCRInvoice, h)
	mux.Handle(tasks.TypeWebhookDeliver, newWebhookHandler(d))
	if err := srv.Start(mux); err != nil {
		_ = closeHandler()
		return nil, fmt.Errorf("start queue worker: %w", err)
	}
	w := &queueWorker{srv: srv, closeHandler: closeHandler, logger: logger, stopSweep: func() {}, sweepDone: make(chan struct{})}
	if w.stopRunner, err = startBatchRunner(ctx, d, reg); err != nil {
		srv.Shutdown()
		_ = closeHandler()
		return nil, err
	}
	if d.cfg.RequeueInterval > 0 {
		sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		w.stopSweep = cancel
		rq := &runner.Requeuer{Jobs: d.svc, Tasks: d.queue, Interval: d.cfg.RequeueInterval,
			Logger: logger.With(slog.String("component", "requeue"))}
		// Webhooks owed by jobs whose terminal transition could not queue them (Redis down).
		ws := &runner.WebhookSweeper{Jobs: d.svc, Interval: d.cfg.RequeueInterval,
			Logger: logger.With(slog.String("component", "webhook-sweep"))}
		if beats != nil {
			// A job whose worker stopped heart-beating is queued again within about
			// DeadWorkerAfter + 1.5 heartbeats + one check.
			rq.Heartbeats = beats
			rq.DeadCheckInterval = d.cfg.WorkerHeartbeat
			rq.StartGrace = d.cfg.DeadWorkerAfter
			rq.MissingFor = d.cfg.WorkerHeartbeat * 3 / 2
		}
		go func() {
			defer close(w.sweepDone)
			var wg sync.WaitGroup
			wg.Go(func() { ws.Run(sctx) })
			rq.Run(sctx)
			wg.Wait()
		}()
	} else {
		close(w.sweepDone)
	}
	logger.Info("Worker started", slog.Int("concurrency", d.cfg.WorkerConcurrency),
		slog.Bool("strict_priority", d.cfg.StrictPriority), slog.Any("queues", tasks.WorkerQueues()),
		slog.Duration("requeue_interval", d.cfg.RequeueInterval), slog.Duration("worker_heartbeat", d.cfg.WorkerHeartbeat))
	return w, nil
}

// stop shuts the worker down in order: stop the batch runner (releasing its lease) and
// the requeue sweep, stop fetching tasks, wait up to ShutdownTimeout for
// running ones (asynq hands unfinished tasks back to the queue), then release the handler's
// resources (the OCR engines).
func (w *queueWorker) stop() error {
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
