package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics holds the HTTP collectors on a private registry, so that two servers in one
// process (tests) never collide and nothing registers behind our back.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	// rejections counts requests refused by the middleware, by reason
	// (unauthenticated, forbidden, rate_limited, upload_concurrency, cors, auth_failures, anonymous_rate).
	rejections *prometheus.CounterVec
	limiters   prometheus.Gauge // API keys (and client addresses) with limiter state held
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ocrinvoice", Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "ocrinvoice", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "HTTP request latency, by route pattern, method and status code.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "ocrinvoice", Subsystem: "http", Name: "requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "ocrinvoice", Subsystem: "http", Name: "rejections_total",
			Help: "HTTP requests refused before reaching a handler, by reason: unauthenticated, forbidden, rate_limited, upload_concurrency, cors, auth_failures (too many invalid keys from one client address), anonymous_rate (too many requests without a key from one client address).",
		}, []string{"reason"}),
		limiters: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "ocrinvoice", Subsystem: "http", Name: "rate_limited_keys",
			Help: "API keys (and client addresses counting failed authentications) whose rate limiter or upload count is held in memory (idle ones are dropped).",
		}),
	}
	for _, r := range rejectReasons {
		m.rejections.WithLabelValues(r) // export every reason from the start, at 0
	}
	m.reg.MustRegister(
		m.requests, m.duration, m.inFlight, m.rejections, m.limiters,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry exposes the server's private registry so that other parts of the process
// (queue depth, pipeline timings) can add their collectors to the same /metrics page.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// observe records one answered request. route is the ServeMux pattern that matched (never
// the raw path, so label cardinality stays bounded).
func (m *metrics) observe(route, method string, code int, elapsed time.Duration) {
	c := strconv.Itoa(code)
	m.requests.WithLabelValues(route, method, c).Inc()
	m.duration.WithLabelValues(route, method, c).Observe(elapsed.Seconds())
}

// knownMethod keeps the method label bounded: anything unusual is reported as "other".
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}
