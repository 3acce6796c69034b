package server

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"
)

// statusWriter records the status code and body size. It keeps streaming working:
// Flush and Hijack pass through, and Unwrap lets http.ResponseController reach the
// underlying writer (for per-response deadlines).
type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	// A hijacked connection (WebSocket) answered 101.
	w.code = http.StatusSwitchingProtocols
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// probeRoutes are logged at debug level: orchestrators call them every few seconds.
var probeRoutes = map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET /metrics": true}

// observe logs every request and records its metrics under the matched route pattern.
// The pattern is read from the request after the mux has routed it (http.Request.Pattern);
// unmatched requests are reported as route "unmatched".
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		s.metrics.inFlight.Inc()
		defer s.metrics.inFlight.Dec()
		next.ServeHTTP(sw, r)
		elapsed := time.Since(start)
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		s.metrics.observe(route, knownMethod(r.Method), code, elapsed)
		level := slog.LevelInfo
		switch {
		case code >= 500:
			level = slog.LevelError
		case probeRoutes[route]:
			level = slog.LevelDebug
		}
		s.logger.LogAttrs(r.Context(), level, "HTTP request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", route),
			slog.Int("status", code),
			slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", elapsed),
			slog.String("remote_addr", r.RemoteAddr),
		)
	})
}

// recoverPanics turns a handler panic into a 500 with a generic body and logs the stack;
// the client never sees the panic value.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v) // the server's own signal to abort a response; let it through
			}
			s.logger.Error("HTTP handler panicked",
				slog.String("path", r.URL.Path),
				slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())))
			writeJSON(w, http.StatusInternalServerError, map[string]any{
				"success": false,
				"error":   map[string]string{"code": "INTERNAL", "message": "internal error"},
			})
		}()
		next.ServeHTTP(w, r)
	})
}
