package runner

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// QueueDepths reports how many tasks each priority queue holds; *tasks.Client
// implements it.
type QueueDepths interface {
	QueueDepths(ctx context.Context) (map[string]tasks.QueueDepth, error)
}

// Metrics are the runner's Prometheus collectors:
//
//	ocrinvoice_runner_reconciles_total{result="success"|"error"}  counter
//	ocrinvoice_runner_reconcile_duration_seconds                   histogram
//	ocrinvoice_runner_groups{phase}                                gauge, every phase
//	ocrinvoice_runner_queue_tasks{queue, state}                    gauge, pending, active, scheduled, retry
//
// The gauges are set at each periodic resync (Runner.OnResync = m.Resynced), so only the
// process holding the runner lease reports them; Reset clears them when it loses the
// lease, so that two replicas never report the same groups.
type Metrics struct {
	reconciles *prometheus.CounterVec
	duration   prometheus.Histogram
	groups     *prometheus.GaugeVec
	queue      *prometheus.GaugeVec
	// Queue gives the queue depths; nil: the queue gauges are not set.
	Queue  QueueDepths
	Logger *slog.Logger
}

var groupPhases = []string{invoice.GroupPhasePending, invoice.GroupPhaseRunning, invoice.GroupPhaseSuspended, invoice.GroupPhaseComplete, invoice.GroupPhaseFailed}

// NewMetrics makes the collectors and registers them on reg. It panics when they are
// registered already (prometheus.MustRegister).
func NewMetrics(reg prometheus.Registerer, queue QueueDepths, logger *slog.Logger) *Metrics {
	if logger == nil {
		logger = slog.Default()
	}
	m := &Metrics{
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ocrinvoice", Subsystem: "runner", Name: "reconciles_total",
			Help: "Group reconciles, by result (success or error).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "ocrinvoice", Subsystem: "runner", Name: "reconcile_duration_seconds",
			Help:    "Time one group reconcile took.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		groups: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "ocrinvoice", Subsystem: "runner", Name: "groups",
			Help: "Job groups by status phase, at the runner's last resync (reported by the lease holder only).",
		}, []string{"phase"}),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "ocrinvoice", Subsystem: "runner", Name: "queue_tasks",
			Help: "Tasks in each priority queue by state (pending, active, scheduled, retry), at the runner's last resync (reported by the lease holder only).",
		}, []string{"queue", "state"}),
		Queue:  queue,
		Logger: logger,
	}
	m.reconciles.WithLabelValues("success")
	m.reconciles.WithLabelValues("error")
	reg.MustRegister(m.reconciles, m.duration, m.groups, m.queue)
	return m
}

// Reconciled records one reconcile; it fits Runner.OnReconcile.
func (m *Metrics) Reconciled(_ string, took time.Duration, err error) {
	result := "success"
	if err != nil {
		result = "error"
	}
	m.reconciles.WithLabelValues(result).Inc()
	m.duration.Observe(took.Seconds())
}

// Resynced sets the groups-by-phase gauges from the groups of a resync and the queue
// gauges from Queue; it fits Runner.OnResync. A queue that cannot be read is logged and
// its gauges keep their previous values.
func (m *Metrics) Resynced(ctx context.Context, groups []*ent.OcrJobGroup) {
	counts := make(map[string]int, len(groupPhases))
	for _, p := range groupPhases {
		counts[p] = 0
	}
	for _, g := range groups {
		p := g.Status.Phase
		if p == "" {
			p = invoice.GroupPhasePending
		}
		counts[p]++
	}
	for p, n := range counts {
		m.groups.WithLabelValues(p).Set(float64(n))
	}
	if m.Queue == nil {
		return
	}
	depths, err := m.Queue.QueueDepths(ctx)
	if err != nil {
		if ctx.Err() == nil {
			m.Logger.Warn("Could not read the queue depths for metrics", slog.Any("error", err))
		}
		return
	}
	for q, d := range depths {
		m.queue.WithLabelValues(q, "pending").Set(float64(d.Pending))
		m.queue.WithLabelValues(q, "active").Set(float64(d.Active))
		m.queue.WithLabelValues(q, "scheduled").Set(float64(d.Scheduled))
		m.queue.WithLabelValues(q, "retry").Set(float64(d.Retry))
	}
}

// Reset clears the gauges (the process lost the runner lease: another reports them).
func (m *Metrics) Reset() {
	m.groups.Reset()
	m.queue.Reset()
}
