package server

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/httpjson"
)

// healthz answers 200 while the process can serve HTTP at all. It checks no dependency,
// so that an orchestrator restarts the process only when the process itself is stuck.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	_ = httpjson.Write(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyResponse is the /readyz body: overall status, the result of every check and the
// names of the failed ones (e.g. ["database"]), sorted; absent when none failed.
type readyResponse struct {
	Status string            `json:"status"`           // "ready" or "not ready"
	Checks map[string]string `json:"checks"`           // check name -> "ok" or "failed"
	Failed []string          `json:"failed,omitempty"` // names of the failed checks
}

// readyz runs every check concurrently, each bounded by checkTimeout, and answers 200 when
// all pass, else 503 with Retry-After naming the failed ones (the dependency: "database",
// "redis") in checks and failed. Causes go to the log, not to the client.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	res := readyResponse{Status: "ready", Checks: make(map[string]string, len(s.opts.Checks))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range s.opts.Checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(r.Context(), checkTimeout)
			defer cancel()
			err := c.Func(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Checks[c.Name] = "failed"
				res.Status = "not ready"
				res.Failed = append(res.Failed, c.Name)
				s.logger.Warn("Readiness check failed", slog.String("check", c.Name), slog.String("error", err.Error()))
				return
			}
			res.Checks[c.Name] = "ok"
		}()
	}
	wg.Wait()
	code := http.StatusOK
	if res.Status != "ready" {
		code = http.StatusServiceUnavailable
		slices.Sort(res.Failed)
		w.Header().Set("Retry-After", strconv.Itoa(apperr.RetryAfterUnavailable))
	}
	_ = httpjson.Write(w, code, res)
}
