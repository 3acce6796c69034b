package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/reqid"
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

// reqState is what the middleware learns about a request on its way in and reports in
// the request log on its way out. It lives in the request context; only the goroutine
// serving the request touches it.
type reqState struct {
	// req is the last request value handed down the chain: the ServeMux records the
	// matched pattern (http.Request.Pattern) on the value it is given, and a middleware
	// that derives a request (to add the principal to its context) must point here at
	// the derived one so that observe reads the pattern the mux matched.
	req    *http.Request
	route  string // a fixed route label for answers given before routing ("preflight")
	keyID  string // the authenticated API key, never the key itself
	reject string // why the middleware refused the request, a rejection reason label
	// client is the client address protect computed (Options.TrustedProxies), logged
	// when it differs from the connection's peer.
	client netip.Addr
}

type stateKey struct{}

func stateOf(r *http.Request) *reqState {
	st, _ := r.Context().Value(stateKey{}).(*reqState)
	return st
}

// derive returns r with ctx, and records the new value in the request state.
func derive(r *http.Request, ctx context.Context) *http.Request {
	r2 := r.WithContext(ctx)
	if st := stateOf(r); st != nil {
		st.req = r2
	}
	return r2
}

// observe gives every request its id (a sane X-Request-Id of the client, else a new one;
// in the context and echoed in the response header), logs it and records its metrics
// under the matched route pattern. The pattern is read from the request after the mux
// has routed it (http.Request.Pattern); unmatched requests are reported as route
// "unmatched". Neither headers nor the query string are logged: they may carry keys.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := reqid.FromRequest(r)
		w.Header().Set(reqid.Header, id)
		st := &reqState{}
		r = r.WithContext(context.WithValue(reqid.With(r.Context(), id), stateKey{}, st))
		st.req = r
		sw := &statusWriter{ResponseWriter: w}
		s.metrics.inFlight.Inc()
		defer s.metrics.inFlight.Dec()
		next.ServeHTTP(sw, r)
		elapsed := time.Since(start)
		code := sw.code
		if code == 0 {
			code = http.StatusOK
		}
		route := st.req.Pattern
		switch {
		case st.route != "":
			route = st.route
		case route == "":
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
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("route", route),
			slog.Int("status", code),
			slog.Int64("bytes", sw.bytes),
			slog.Duration("duration", elapsed),
			slog.String("remote_addr", r.RemoteAddr),
			slog.String("request_id", id),
		}
		if st.client.IsValid() && st.client != parseHostAddr(r.RemoteAddr) {
			attrs = append(attrs, slog.String("client_addr", st.client.String()))
		}
		if st.keyID != "" {
			attrs = append(attrs, slog.String("key_id", st.keyID))
		}
		if st.reject != "" {
			attrs = append(attrs, slog.String("rejected", st.reject))
		}
		s.logger.LogAttrs(r.Context(), level, "HTTP request", attrs...)
	})
}

// recoverPanics turns a handler panic into a 500 with a generic body in the error shape
// of the surface (REST envelope, GraphQL errors, plain) carrying the request id, and logs
// the panic value and the stack; the client never sees either. A response already under
// way cannot be replaced: it is left truncated.
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
			s.logger.ErrorContext(r.Context(), "HTTP handler panicked",
				slog.String("path", r.URL.Path),
				slog.String("request_id", reqid.From(r.Context())),
				slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())))
			if sw, ok := w.(*statusWriter); ok && sw.code != 0 {
				return
			}
			// Drop whatever the handler had set (a content type, a length) and start
			// again from the headers every response gets.
			clear(w.Header())
			w.Header().Set(reqid.Header, reqid.From(r.Context()))
			s.setResponseHeaders(w, r)
			writeError(w, r, apperr.New(apperr.KindInternal, "handler panicked"))
		}()
		next.ServeHTTP(w, r)
	})
}
