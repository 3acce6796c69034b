package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
)

// healthz answers 200 while the process can serve HTTP at all. It checks no dependency,
// so that an orchestrator restarts the process only when the process itself is stuck.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyResponse is the /readyz body: overall status and the result of every check.
type readyResponse struct {
	Status string            `json:"status"` // "ready" or "not ready"
	Checks map[string]string `json:"checks"` // check name -> "ok" or "failed"
}

// readyz runs every check concurrently, each bounded by checkTimeout, and answers 200 when
// all pass, else 503 naming the failed ones. Causes go to the log, not to the client.
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
	}
	writeJSON(w, code, res)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
