package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	_ "github.com/lib/pq"

	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/ids"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// syncBuffer collects a command's output; the command writes from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// process is one run of the program in the test process.
type process struct {
	addr   string // bound HTTP address, for serve and all
	stdout *syncBuffer
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

// testEnv returns a getenv with a private data directory, a free port and JSON logs,
// overridden by extra.
func testEnv(t *testing.T, extra map[string]string) func(string) string {
	t.Helper()
	env := map[string]string{
		"OCRINVOICE_ADDR":             "127.0.0.1:0",
		"OCRINVOICE_DATA_DIR":         filepath.Join(t.TempDir(), "data"),
		"OCRINVOICE_LOG_FORMAT":       "json",
		"OCRINVOICE_LOG_LEVEL":        "debug",
		"OCRINVOICE_SHUTDOWN_TIMEOUT": "5s",
		// Tests of other concerns run without keys; auth_test.go turns it on.
		"OCRINVOICE_AUTH": "none",
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

// migrateData creates the database getenv names with `ocrinvoice migrate`, as a
// deployment does before a worker or apikey runs; a database that exists is only
// upgraded.
func migrateData(t *testing.T, getenv func(string) string) {
	t.Helper()
	var out, errb syncBuffer
	if err := run(context.Background(), []string{"migrate"}, getenv, &out, &errb); err != nil {
		t.Fatalf("migrate: %v\n%s", err, errb.String())
	}
}

// start runs the program with args in the background. For serve and all it waits for the
// HTTP listener and fails the test if the program ends first.
func start(t *testing.T, getenv func(string) string, args ...string) *process {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	p := &process{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	addrc := make(chan string, 1)
	ctx = withListenHook(ctx, func(addr string) { addrc <- addr })
	go func() { p.done <- run(ctx, args, getenv, p.stdout, p.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			t.Errorf("%v did not stop", args)
		}
	})
	listens := args[0] == "serve" || args[0] == "all" || (args[0] == "worker" && getenv("OCRINVOICE_HEALTH_ADDR") != "")
	if !listens {
		return p
	}
	select {
	case p.addr = <-addrc:
	case err := <-p.done:
		t.Fatalf("%v ended before listening: %v\n%s", args, err, p.stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("%v did not listen within 60s\n%s", args, p.stderr)
	}
	return p
}

// stop cancels the program's context and returns what run returned.
func (p *process) stop(t *testing.T) error {
	t.Helper()
	p.cancel()
	select {
	case err := <-p.done:
		p.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("program did not stop within 30s\n%s", p.stderr)
		return nil
	}
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func (p *process) request(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	return p.authRequest(t, "", method, path, body)
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
}

// graphql posts a query and decodes data into v; GraphQL errors fail the test.
func (p *process) graphql(t *testing.T, query string, vars map[string]any, v any) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	code, b := p.request(t, "POST", "/graphql", string(body))
	var out struct {
		Data   json.RawMessage `json:"data"`
		Errors []any           `json:"errors"`
	}
	decode(t, b, &out)
	if code != 200 || len(out.Errors) > 0 {
		t.Fatalf("GraphQL %d: %s", code, b)
	}
	decode(t, out.Data, v)
}

type readyBody struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// createJob creates a job through REST and returns its decoded data. Its document is on
// a loopback address that the fetcher refuses (no allow-list in these tests): a worker
// that takes the job fails it without sending a packet anywhere.
func (p *process) createJob(t *testing.T, number string) map[string]any {
	t.Helper()
	code, b := p.request(t, "POST", "/api/v1/ocr-invoice-jobs", fmt.Sprintf(`{
		"jobNumber": %q, "documentName": "invoice.pdf",
		"documentUrl": "http://127.0.0.1:9/invoice.pdf", "template": "generic",
		"metadata": {"source": "e2e"}}`, number))
	if code != http.StatusCreated {
		t.Fatalf("create job: %d %s", code, b)
	}
	var env struct {
		Success bool           `json:"success"`
		Data    map[string]any `json:"data"`
	}
	decode(t, b, &env)
	if !env.Success || !ids.Valid(fmt.Sprint(env.Data["_id"])) {
		t.Fatalf("create job answered %s", b)
	}
	return env.Data
}

var redisURLInLog = regexp.MustCompile(`"redis_url":"redis://([0-9.:]+)/0"`)

// TestAllEndToEnd starts API and worker in one process with the embedded defaults (SQLite
// in a temporary data dir, private redis-server), exercises every HTTP surface once, then
// stops it and checks that nothing is left running.
func TestAllEndToEnd(t *testing.T) {
	goroutinesBefore := runtime.NumGoroutine()
	// The jobs name a closed loopback port, which the API accepts only when allowed.
	getenv := testEnv(t, map[string]string{"OCRINVOICE_FETCH_ALLOW_CIDRS": "127.0.0.0/8"})
	p := start(t, getenv, "all")

	t.Run("healthz", func(t *testing.T) {
		code, b := p.request(t, "GET", "/healthz", "")
		if code != 200 || !strings.Contains(string(b), `"ok"`) {
			t.Errorf("healthz %d %s", code, b)
		}
	})
	t.Run("readyz", func(t *testing.T) {
		code, b := p.request(t, "GET", "/readyz", "")
		var r readyBody
		decode(t, b, &r)
		if code != 200 || r.Status != "ready" || r.Checks["database"] != "ok" || r.Checks["redis"] != "ok" {
			t.Errorf("readyz %d %s", code, b)
		}
	})
	t.Run("playground", func(t *testing.T) {
		code, b := p.request(t, "GET", "/playground", "")
		if code != 200 || !strings.Contains(strings.ToLower(string(b)), "graphiql") {
			t.Errorf("playground %d", code)
		}
	})
	t.Run("openapi", func(t *testing.T) {
		code, b := p.request(t, "GET", "/openapi.json", "")
		var doc map[string]any
		decode(t, b, &doc)
		if code != 200 || doc["openapi"] == nil {
			t.Errorf("openapi.json %d", code)
		}
	})

	var jobID string
	t.Run("REST create then GraphQL read", func(t *testing.T) {
		job := p.createJob(t, "E2E-ALL-1")
		jobID = job["_id"].(string)
		if job["jobNumber"] != "E2E-ALL-1" || job["priority"] != "medium" || job["documentType"] != "pdf" {
			t.Errorf("created job %v", job)
		}
		var got struct {
			OcrInvoiceJob struct {
				ID           string `json:"id"`
				JobNumber    string `json:"jobNumber"`
				DocumentName string `json:"documentName"`
			} `json:"ocrInvoiceJob"`
		}
		p.graphql(t, `query($id: ID!) { ocrInvoiceJob(id: $id) { id jobNumber documentName } }`,
			map[string]any{"id": jobID}, &got)
		if got.OcrInvoiceJob.ID != jobID || got.OcrInvoiceJob.JobNumber != "E2E-ALL-1" || got.OcrInvoiceJob.DocumentName != "invoice.pdf" {
			t.Errorf("GraphQL read %+v", got)
		}
		code, b := p.request(t, "GET", "/api/v1/ocr-invoice-jobs/"+jobID, "")
		if code != 200 || !strings.Contains(string(b), `"E2E-ALL-1"`) {
			t.Errorf("REST get %d %s", code, b)
		}
	})
	t.Run("job left the created state", func(t *testing.T) {
		// Redis is up, so the job was enqueued ("queued") and the worker may already
		// have taken it further; "created" would mean the enqueue was lost.
		code, b := p.request(t, "GET", "/api/v1/ocr-invoice-jobs/"+jobID, "")
		var env struct {
			Data struct {
				Status string `json:"status"`
			} `json:"data"`
		}
		decode(t, b, &env)
		if code != 200 || env.Data.Status == "" || env.Data.Status == "created" {
			t.Errorf("status %q after create with Redis up", env.Data.Status)
		}
	})
	t.Run("metrics", func(t *testing.T) {
		code, b := p.request(t, "GET", "/metrics", "")
		body := string(b)
		for _, want := range []string{
			`ocrinvoice_http_requests_total{code="201",method="POST",route="POST /api/v1/ocr-invoice-jobs"} 1`,
			`ocrinvoice_http_requests_total{code="200",method="GET",route="GET /healthz"} 1`,
			`ocrinvoice_http_request_duration_seconds_bucket`,
			`route="/graphql"`,
			`go_goroutines`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics %d lack %s", code, want)
			}
		}
	})

	m := redisURLInLog.FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("private Redis address not logged:\n%s", p.stderr)
	}
	redisAddr := m[1]
	if err := p.stop(t); err != nil {
		t.Fatalf("all returned %v\n%s", err, p.stderr)
	}
	logs := p.stderr.String()
	// The shutdown order promised in the docs, read from the log.
	order := []string{`"HTTP server stopped"`, `"Worker stopped"`, `"Stopping private redis-server"`}
	last := -1
	for _, msg := range order {
		i := strings.Index(logs, msg)
		if i < 0 || i < last {
			t.Errorf("shutdown step %s missing or out of order", msg)
		}
		last = i
	}
	if c, err := net.DialTimeout("tcp", redisAddr, time.Second); err == nil {
		c.Close()
		t.Errorf("private redis-server on %s still answers after exit", redisAddr)
	}
	if c, err := net.DialTimeout("tcp", p.addr, time.Second); err == nil {
		c.Close()
		t.Errorf("HTTP listener %s still open after exit", p.addr)
	}
	waitGoroutines(t, goroutinesBefore)
}

// waitGoroutines fails when the goroutines started by a run do not end within 10 s.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before+2 { // the test's own HTTP client may still hold a reader
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines after exit, %d before:\n%s", n, before, buf)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeReadinessFollowsRedis runs serve on an external Redis and stops that Redis:
// /readyz turns 503 naming it, /healthz stays 200, and a job created meanwhile is kept
// in "created" (the API still answers 201).
func TestServeReadinessFollowsRedis(t *testing.T) {
	rs := redistest.Start(t)
	p := start(t, testEnv(t, map[string]string{"REDIS_URL": rs.URL(), "OCRINVOICE_FETCH_ALLOW_CIDRS": "127.0.0.0/8"}), "serve")

	code, b := p.request(t, "GET", "/readyz", "")
	if code != 200 {
		t.Fatalf("readyz with Redis up: %d %s", code, b)
	}
	if strings.Contains(p.stderr.String(), "private redis-server") {
		t.Error("serve started a private Redis although REDIS_URL is set")
	}
	if err := rs.Stop(); err != nil {
		t.Fatal(err)
	}
	code, b = p.request(t, "GET", "/readyz", "")
	var r readyBody
	decode(t, b, &r)
	if code != http.StatusServiceUnavailable || r.Checks["redis"] != "failed" || r.Checks["database"] != "ok" {
		t.Errorf("readyz with Redis down: %d %s", code, b)
	}
	if code, _ := p.request(t, "GET", "/healthz", ""); code != 200 {
		t.Errorf("healthz with Redis down: %d", code)
	}
	job := p.createJob(t, "E2E-NO-REDIS")
	if job["status"] != "created" {
		t.Errorf("job created with Redis down has status %v, want created", job["status"])
	}
	if err := p.stop(t); err != nil {
		t.Errorf("serve returned %v", err)
	}
}

// TestWorkerTakesTasks runs the worker alone on an external Redis and checks that it
// takes a task from each priority queue (the handler's outcome is the pipeline's business),
// registers its concurrency and queue weights, and serves its probes.
func TestWorkerTakesTasks(t *testing.T) {
	rs := redistest.Start(t)
	env := testEnv(t, map[string]string{"REDIS_URL": rs.URL(), "OCRINVOICE_HEALTH_ADDR": "127.0.0.1:0"})
	migrateData(t, env)
	p := start(t, env, "worker", "--concurrency", "2")
	opt := asynq.RedisClientOpt{Addr: rs.Addr}
	qc := tasks.NewClient(opt)
	defer qc.Close()
	insp := asynq.NewInspector(opt)
	defer insp.Close()

	ctx := context.Background()
	want := map[string]string{}
	for _, prio := range []string{"urgent", "high", "medium", "low"} {
		id := ids.New()
		if err := qc.EnqueueJob(ctx, id, prio); err != nil {
			t.Fatalf("enqueue: %v", err)
		}
		want[id] = tasks.Queue(prio)
	}
	deadline := time.Now().Add(20 * time.Second)
	for id, queue := range want {
		for {
			info, err := insp.GetTaskInfo(queue, id)
			if err != nil {
				t.Fatalf("task %s: %v", id, err)
			}
			if info.State != asynq.TaskStatePending && info.State != asynq.TaskStateActive {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("task %s in %s still %v; worker log:\n%s", id, queue, info.State, p.stderr)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// The probe listener answers the probes and nothing else.
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/graphql": 404, "/api/v1/ocr-invoice-jobs": 404} {
		if code, b := p.request(t, "GET", path, ""); code != want {
			t.Errorf("worker GET %s = %d, want %d: %s", path, code, want, b)
		}
	}
	servers, err := insp.Servers()
	if err != nil || len(servers) != 1 || servers[0].Concurrency != 2 || servers[0].Queues["urgent"] != 8 {
		t.Errorf("worker registration %+v, %v", servers, err)
	}
	if err := p.stop(t); err != nil {
		t.Errorf("worker returned %v", err)
	}
	if !strings.Contains(p.stderr.String(), `"Worker stopped"`) {
		t.Errorf("no clean stop in log:\n%s", p.stderr)
	}
}

func TestMigrate(t *testing.T) {
	type target struct {
		name string
		url  func(t *testing.T) string
	}
	targets := []target{{"sqlite", func(t *testing.T) string {
		return "sqlite:" + filepath.Join(t.TempDir(), "nested", "dir", "m.db")
	}}}
	if pg := os.Getenv("TEST_DATABASE_URL"); pg != "" {
		targets = append(targets, target{"postgres", func(t *testing.T) string { return postgresSchemaURL(t, pg) }})
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			url := tg.url(t)
			getenv := testEnv(t, map[string]string{"DATABASE_URL": url})
			for i := 0; i < 2; i++ { // a second run is a no-op
				var out, errb syncBuffer
				if err := run(context.Background(), []string{"migrate"}, getenv, &out, &errb); err != nil {
					t.Fatalf("migrate run %d: %v\n%s", i+1, err, errb.String())
				}
			}
			db, err := database.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			// The tables exist and are empty: migrate creates no data.
			n, err := db.OcrTemplate.Query().Count(context.Background())
			if err != nil || n != 0 {
				t.Errorf("templates after migrate: %d, %v", n, err)
			}
			if _, err := db.OcrInvoiceJob.Query().Count(context.Background()); err != nil {
				t.Errorf("jobs table: %v", err)
			}
		})
	}
}

// postgresSchemaURL creates a fresh schema on the PostgreSQL at base, drops it at cleanup,
// and returns a URL whose connections use it.
func postgresSchemaURL(t *testing.T, base string) string {
	t.Helper()
	db, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	schema := "cmdtest_" + ids.New()
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		db.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// TestServeOnPostgres runs serve on PostgreSQL when TEST_DATABASE_URL is set.
func TestServeOnPostgres(t *testing.T) {
	pg := os.Getenv("TEST_DATABASE_URL")
	if pg == "" {
		t.Skip("TEST_DATABASE_URL not set: PostgreSQL run skipped")
	}
	rs := redistest.Start(t)
	p := start(t, testEnv(t, map[string]string{"REDIS_URL": rs.URL(), "DATABASE_URL": postgresSchemaURL(t, pg),
		"OCRINVOICE_FETCH_ALLOW_CIDRS": "127.0.0.0/8"}), "serve")
	job := p.createJob(t, "E2E-PG-1")
	var got struct {
		OcrInvoiceJob struct {
			JobNumber string `json:"jobNumber"`
		} `json:"ocrInvoiceJob"`
	}
	p.graphql(t, `query($id: ID!) { ocrInvoiceJob(id: $id) { jobNumber } }`, map[string]any{"id": job["_id"]}, &got)
	if got.OcrInvoiceJob.JobNumber != "E2E-PG-1" {
		t.Errorf("GraphQL read on PostgreSQL: %+v", got)
	}
	if code, b := p.request(t, "GET", "/readyz", ""); code != 200 {
		t.Errorf("readyz on PostgreSQL: %d %s", code, b)
	}
}

func TestStartupErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	rs := redistest.Start(t)
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"port in use", []string{"serve"}, map[string]string{"OCRINVOICE_ADDR": busy.Addr().String(), "REDIS_URL": rs.URL()}, "listen on"},
		{"port in use with private redis", []string{"all"}, map[string]string{"OCRINVOICE_ADDR": busy.Addr().String()}, "listen on"},
		{"worker probe port in use", []string{"worker"}, map[string]string{"OCRINVOICE_HEALTH_ADDR": busy.Addr().String(), "REDIS_URL": rs.URL()}, "listen on"},
		{"bad database url", []string{"serve"}, map[string]string{"DATABASE_URL": "mysql://x", "REDIS_URL": rs.URL()}, "DATABASE_URL"},
		{"bad flag", []string{"worker", "--concurrency", "0"}, nil, "--concurrency"},
		{"unknown flag", []string{"migrate", "--addr", "x:1"}, nil, "addr"},
		{"unreachable postgres", []string{"migrate"}, map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"}, "connect"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb syncBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			env := testEnv(t, tc.env)
			if tc.args[0] == "worker" {
				migrateData(t, env) // a worker needs the server's database
			}
			err := run(ctx, tc.args, env, &out, &errb)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q\n%s", err, tc.want, errb.String())
			}
			if ctx.Err() != nil {
				t.Error("start-up error took until the test deadline")
			}
			if m := redisURLInLog.FindStringSubmatch(errb.String()); m != nil {
				if c, err := net.DialTimeout("tcp", m[1], time.Second); err == nil {
					c.Close()
					t.Errorf("private redis-server %s left running after a failed start", m[1])
				}
			}
		})
	}
}

func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"serve", "worker", "all", "migrate", "backup", "restore"}},
		{[]string{"backup", "--help"}, []string{"--to FILE", "online backup", "pg_dump"}},
		{[]string{"restore", "-h"}, []string{"--from FILE", "--force"}},
		{[]string{"serve", "--help"}, []string{"--addr", "$OCRINVOICE_ADDR", "$DATABASE_URL", "$REDIS_URL", "$OCRINVOICE_GRAPHQL_DEPTH_LIMIT",
			"--auth-failure-rate", "$OCRINVOICE_AUTH_FAILURE_BURST", "--trusted-proxies", "$OCRINVOICE_TRUSTED_PROXIES"}},
		{[]string{"worker", "-h"}, []string{"--strict-priority", "$OCRINVOICE_WORKER_CONCURRENCY", "$OCRINVOICE_SHUTDOWN_TIMEOUT"}},
		{[]string{"all", "--help"}, []string{"--addr", "--concurrency", "$PORT"}},
		{[]string{"migrate", "--help"}, []string{"$DATABASE_URL", "$OCRINVOICE_DATA_DIR"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errb syncBuffer
			if err := run(context.Background(), tc.args, func(string) string { return "" }, &out, &errb); err != nil {
				t.Fatalf("run: %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("help lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
	var out, errb syncBuffer
	if err := run(context.Background(), []string{"migrate", "--help"}, func(string) string { return "" }, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "--concurrency") {
		t.Error("migrate help lists a worker flag")
	}
}

// TestNoRedisServerInstalled: with REDIS_URL unset and no redis-server on PATH, serve says
// which package to install (or to set REDIS_URL) instead of failing obscurely.
func TestNoRedisServerInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var out, errb syncBuffer
	err := run(context.Background(), []string{"serve"}, testEnv(t, nil), &out, &errb)
	if err == nil {
		t.Fatal("serve started without redis-server")
	}
	for _, want := range []string{"apt-get install redis-server", "REDIS_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
