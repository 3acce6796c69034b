package main

import (
	"context"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/internal/config"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
)

// TestServeMonitorAndJobEvents runs serve on an external Redis: the queue dashboard
// answers at /monitor/, the former /queues/ redirects there, and job status changes made
// through the API are published as progress events on that Redis.
func TestServeMonitorAndJobEvents(t *testing.T) {
	rs := redistest.Start(t)
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rc.Close() })
	hub := progress.NewHub(rc, progress.HubOptions{})
	t.Cleanup(func() { _ = hub.Close() })
	select {
	case <-hub.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("hub not subscribed")
	}
	events, stop := hub.Subscribe(context.Background(), "")
	defer stop()

	p := start(t, testEnv(t, map[string]string{"REDIS_URL": rs.URL(), "OCRINVOICE_FETCH_ALLOW_CIDRS": "127.0.0.0/8"}), "serve")

	t.Run("dashboard at /monitor", func(t *testing.T) {
		code, b := p.request(t, "GET", "/monitor/", "")
		if code != 200 || !strings.Contains(string(b), "Asynq - Monitoring") || !strings.Contains(string(b), "monitor") {
			t.Errorf("GET /monitor/ = %d %.200s", code, b)
		}
	})
	t.Run("old /queues links redirect", func(t *testing.T) {
		noFollow := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
		for target, want := range map[string]string{
			"/queues/":                  "/monitor/",
			"/queues/queues/ocr:urgent": "/monitor/queues/ocr:urgent",
			"/queues/servers?tab=1":     "/monitor/servers?tab=1",
		} {
			resp, err := noFollow.Get("http://" + p.addr + target)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
				t.Errorf("GET %s = %d Location %q, want 301 %q", target, resp.StatusCode, resp.Header.Get("Location"), want)
			}
		}
	})
	t.Run("API status changes are published", func(t *testing.T) {
		job := p.createJob(t, "E2E-EVENTS")
		id := job["_id"].(string)
		next := func() progress.Event {
			t.Helper()
			select {
			case e := <-events:
				return e
			case <-time.After(5 * time.Second):
				t.Fatal("no event within 5s")
			}
			return progress.Event{}
		}
		if e := next(); e.JobID != id || e.Status != "queued" {
			t.Errorf("create event %+v, want queued for %s", e, id)
		}
		if code, b := p.request(t, "POST", "/api/v1/ocr-invoice-jobs/"+id+"/cancel", ""); code != 200 {
			t.Fatalf("cancel: %d %s", code, b)
		}
		if e := next(); e.JobID != id || e.Status != "cancelled" {
			t.Errorf("cancel event %+v, want cancelled", e)
		}
	})
	if err := p.stop(t); err != nil {
		t.Errorf("serve returned %v", err)
	}
}

// TestPriorityPriceFactorsAgree: the configuration knows the same priorities as the
// domain, and its default page price and factors are the domain's defaults.
func TestPriorityPriceFactorsAgree(t *testing.T) {
	cfg, err := config.LoadCommand(config.CmdWorker, nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PricePerPage != jobs.DefaultPricePerPage {
		t.Errorf("config default price per page %v, domain default %v", cfg.PricePerPage, jobs.DefaultPricePerPage)
	}
	if want := map[string]float64(jobs.DefaultPriceFactors()); !maps.Equal(cfg.PriorityPriceFactors, want) {
		t.Errorf("config default factors %v, domain defaults %v", cfg.PriorityPriceFactors, want)
	}
	for _, prio := range jobs.Priorities {
		env := map[string]string{"OCRINVOICE_PRIORITY_PRICE_FACTORS": prio + "=3"}
		if _, err := config.LoadCommand(config.CmdWorker, nil, func(k string) string { return env[k] }); err != nil {
			t.Errorf("priority %s refused by the configuration: %v", prio, err)
		}
	}
	if len(jobs.Priorities) != len(cfg.PriorityPriceFactors) {
		t.Errorf("domain priorities %v, configuration factors %v", jobs.Priorities, cfg.PriorityPriceFactors)
	}
}
