package app_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/app"
	"github.com/ocrinvoice/ocrinvoice/internal/app/apptest"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/client"
	"github.com/ocrinvoice/ocrinvoice/internal/config"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

var httpClient = &http.Client{Timeout: 10 * time.Second}

// get sends GET url with the API key (none when "") and returns the status and body.
func get(t *testing.T, url, key string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRolesSplit runs serve and worker as two processes over one database and one
// Redis, as a deployment does: the API process serves the API and runs no worker, the
// worker process serves only its probes (with the batch runner's metrics), and a job
// created through the API is done by the worker. On SQLite, and on PostgreSQL when
// TEST_DATABASE_URL is set.
func TestRolesSplit(t *testing.T) {
	dbs := map[string]func(t *testing.T) map[string]string{
		"sqlite": func(*testing.T) map[string]string { return nil },
	}
	if os.Getenv(databasetest.EnvPostgresURL) != "" {
		dbs["postgres"] = func(t *testing.T) map[string]string {
			return map[string]string{"DATABASE_URL": databasetest.PostgresURL(t)}
		}
	}
	for name, extra := range dbs {
		t.Run(name, func(t *testing.T) {
			env := extra(t)
			if env == nil {
				env = map[string]string{}
			}
			env["OCRINVOICE_HEALTH_ADDR"] = "127.0.0.1:0"
			cfg := apptest.Config(t, "", env)
			key := apptest.CreateKey(t, cfg, "admin", auth.RoleAdmin)
			api := apptest.Start(t, cfg, app.Parts{API: true})
			worker := apptest.Start(t, cfg, app.Parts{Worker: true})
			checkRoles(t, api, worker, key)
			doJob(t, api.URL, key)
			if strings.Contains(api.Log.String(), `"msg":"Worker started"`) {
				t.Error("the API process started a worker")
			}
		})
	}
}

// checkRoles checks what each process serves: the API its routes and probes, the
// worker its probes and metrics only.
func checkRoles(t *testing.T, api, worker *apptest.Process, key string) {
	t.Helper()
	if code, body := get(t, api.URL+"/api/v1/ocr-invoice-jobs", key); code != 200 {
		t.Errorf("API: list jobs %d %s", code, body)
	}
	if code, _ := get(t, api.URL+"/api/v1/ocr-invoice-jobs", ""); code != 401 {
		t.Errorf("API without a key: %d, want 401", code)
	}
	if worker.URL == "" || worker.URL == api.URL {
		t.Fatalf("worker's probe listener %q (API %q)", worker.URL, api.URL)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, worker.URL+p, ""); code != 200 {
			t.Errorf("worker %s: %d %s", p, code, body)
		}
	}
	if code, _ := get(t, worker.URL+"/api/v1/ocr-invoice-jobs", key); code != 404 {
		t.Errorf("worker serves the API: %d, want 404", code)
	}
	if _, body := get(t, worker.URL+"/metrics", ""); !strings.Contains(body, "ocrinvoice_runner_reconciles_total") {
		t.Error("the worker's /metrics has no batch runner metrics")
	}
}

// doJob uploads a text-layer PDF through the API at base, creates its job and waits
// for it to complete.
func doJob(t *testing.T, base, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := client.New(base, key)
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.Upload(ctx, bytes.NewReader(testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})), "invoice.pdf")
	if err != nil {
		t.Fatal(err)
	}
	job, err := c.CreateJob(ctx, client.JobInput{JobNumber: "APP-1", DocumentName: up.DocumentName, DocumentURL: up.DocumentURL, Template: "generic"})
	if err != nil {
		t.Fatal(err)
	}
	if job, err = c.Wait(ctx, job.ID); err != nil || job.Status != "completed" {
		t.Fatalf("job: %v, %v", job, err)
	}
}

// A worker without --health-addr binds nothing; Run returns nil once its context ends.
func TestWorkerWithoutProbes(t *testing.T) {
	cfg := apptest.Config(t, config.CmdWorker, nil)
	p := apptest.Start(t, cfg, app.Parts{Worker: true})
	if p.App.Addr() != nil {
		t.Fatalf("worker without a health address listens on %v", p.App.Addr())
	}
	if err := p.Stop(t); err != nil {
		t.Fatalf("Run returned %v", err)
	}
	if err := p.App.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}

// The first start of `all` with keys required creates an admin key, prints it once and
// the key works; the next start finds it and prints nothing. serve never creates one: it
// warns that every request will be refused.
func TestBootstrapAdminKey(t *testing.T) {
	cfg := apptest.Config(t, config.CmdAll, map[string]string{"OCRINVOICE_BOOTSTRAP_ADMIN_KEY": "true"})
	serve := apptest.Start(t, cfg, app.Parts{API: true})
	if serve.Stdout.String() != "" || !strings.Contains(serve.Log.String(), "No API key exists yet") {
		t.Errorf("serve: stdout %q; want nothing and the warning in the log", serve.Stdout)
	}
	_ = serve.Stop(t)

	all := app.Parts{API: true, Worker: true, BootstrapAdminKey: true}
	first := apptest.Start(t, cfg, all)
	key := regexp.MustCompile(`Bearer (\S+)'`).FindStringSubmatch(first.Stdout.String())
	if key == nil {
		t.Fatalf("no key printed: %q", first.Stdout)
	}
	if code, body := get(t, first.URL+"/api/v1/ocr-invoice-jobs", key[1]); code != 200 {
		t.Fatalf("the printed key: %d %s", code, body)
	}
	_ = first.Stop(t)
	second := apptest.Start(t, cfg, all)
	if second.Stdout.String() != "" {
		t.Errorf("second start printed %q", second.Stdout)
	}
}

// New fails when the address is taken, and releases what it had opened: the private
// redis-server it started is gone.
func TestNewReleasesOnBindError(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := apptest.Config(t, config.CmdServe, map[string]string{"REDIS_URL": "", "OCRINVOICE_ADDR": taken.Addr().String()})
	var log apptest.Buffer
	logger := slog.New(slog.NewJSONHandler(&log, nil))
	a, err := app.New(context.Background(), cfg, app.Options{Parts: app.Parts{API: true}, Logger: logger})
	if err == nil {
		_ = a.Close()
		t.Fatal("New took an address in use")
	}
	if !strings.Contains(err.Error(), "listen on") {
		t.Errorf("error %v, want the bind error", err)
	}
	m := regexp.MustCompile(`"msg":"Started private redis-server[^}]*"addr":"([^"]+)"`).FindStringSubmatch(log.String())
	if m == nil {
		t.Fatalf("no private redis-server started:\n%s", log.String())
	}
	if c, err := net.DialTimeout("tcp", m[1], time.Second); err == nil {
		c.Close()
		t.Errorf("the private redis-server at %s still runs after New failed", m[1])
	}
}
