package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// TestMain lets a test start this test binary as the real program in a child process
// (OCRINVOICE_TEST_CHILD=1): the crash tests need a worker they can SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("OCRINVOICE_TEST_CHILD") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// child starts the program in its own process with env (KEY=VALUE) added to ours.
func child(t *testing.T, out *syncBuffer, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), append([]string{"OCRINVOICE_TEST_CHILD=1", "OMP_THREAD_LIMIT=1"}, env...)...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child %v: %v", args, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// docServer serves a text-layer invoice on loopback. The first `hold` requests are held
// open without an answer until their client goes away (a worker killed mid-download);
// later ones are answered at once. It counts requests.
type docServer struct {
	*httptest.Server
	requests atomic.Int32
	held     chan struct{} // receives once per held request
}

func newDocServer(t *testing.T, hold int32) *docServer {
	t.Helper()
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	d := &docServer{held: make(chan struct{}, 16)}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := d.requests.Add(1); n <= hold {
			d.held <- struct{}{}
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write(pdf)
	}))
	t.Cleanup(d.Close)
	return d
}

// jobStatus returns the job's status through REST.
func (p *process) jobStatus(t *testing.T, id string) string {
	t.Helper()
	code, b := p.request(t, "GET", "/api/v1/ocr-invoice-jobs/"+id, "")
	if code != 200 {
		t.Fatalf("GET job %s: %d %s", id, code, b)
	}
	var env struct {
		Data map[string]any `json:"data"`
	}
	decode(t, b, &env)
	return fmt.Sprint(env.Data["status"])
}

func (p *process) createJobFor(t *testing.T, number, url string) string {
	t.Helper()
	code, b := p.request(t, "POST", "/api/v1/ocr-invoice-jobs", fmt.Sprintf(
		`{"jobNumber": %q, "documentName": "invoice.pdf", "documentUrl": %q, "template": "generic"}`, number, url))
	if code != http.StatusCreated {
		t.Fatalf("create job: %d %s", code, b)
	}
	var env struct {
		Data map[string]any `json:"data"`
	}
	decode(t, b, &env)
	return fmt.Sprint(env.Data["_id"])
}

// TestWorkerKilledMidJob: a worker process is SIGKILLed while it processes a job; the
// job is not lost. With heartbeats off (TestDeadWorkerNoticedInSeconds has them on),
// asynq hands the task to another worker once its lease has expired (asynq checks for
// expired leases every minute, so this test takes about a minute).
func TestWorkerKilledMidJob(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about a minute (asynq's lease expiry); skipped with -short")
	}
	t.Parallel()
	rs := startRedisOnPort(t, 0)
	docs := newDocServer(t, 1)
	dataDir := t.TempDir()
	env := stackEnv(rs, dataDir, nil)
	api := start(t, testEnv(t, env), "serve")
	id := api.createJobFor(t, "KILL-1", docs.URL+"/invoice.pdf")

	var out syncBuffer
	var childEnv []string
	for k, v := range env {
		childEnv = append(childEnv, k+"="+v)
	}
	worker := child(t, &out, append(childEnv, "OCRINVOICE_LOG_FORMAT=json", "OCRINVOICE_REQUEUE_INTERVAL=1s", "OCRINVOICE_WORKER_HEARTBEAT=0"), "worker")
	select {
	case <-docs.held: // the worker is downloading the document: the job is processing
	case <-time.After(60 * time.Second):
		t.Fatalf("the worker did not start the job; its log:\n%s", out.String())
	}
	if s := api.jobStatus(t, id); s != "processing" {
		t.Fatalf("job is %s while its document downloads, want processing", s)
	}
	if err := worker.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = worker.Wait()

	// A fresh worker (with the requeue sweep on) finishes the job once the lease of the
	// dead worker's task expires; the sweep must not enqueue a second task meanwhile.
	w2 := start(t, testEnv(t, stackEnv(rs, dataDir, map[string]string{"OCRINVOICE_REQUEUE_INTERVAL": "1s", "OCRINVOICE_WORKER_HEARTBEAT": "0"})), "worker")
	job := api.waitJob(t, id, 150*time.Second)
	if job["status"] != "completed" {
		t.Fatalf("job ended %v (errorLog %v); worker log:\n%s", job["status"], job["errorLog"], w2.stderr)
	}
	inv := job["extractedData"].(map[string]any)["invoice"].(map[string]any)
	if inv["number"] != "INV-2024-0042" {
		t.Errorf("extracted invoice %v", inv)
	}
	if n := docs.requests.Load(); n != 2 {
		t.Errorf("document fetched %d times, want 2 (the killed attempt and the one that completed)", n)
	}
}

// TestRedisRestartLosesNoJob: Redis restarts empty while jobs wait in the queue; the
// requeue sweep gives them their tasks back and they all complete. The API keeps
// enqueueing into the new Redis.
func TestRedisRestartLosesNoJob(t *testing.T) {
	t.Parallel()
	rs := startRedisOnPort(t, 0)
	docs := newDocServer(t, 0)
	dataDir := t.TempDir()
	env := stackEnv(rs, dataDir, map[string]string{"OCRINVOICE_REQUEUE_INTERVAL": "1s"})
	api := start(t, testEnv(t, env), "serve")
	var ids []string
	for i := range 3 {
		ids = append(ids, api.createJobFor(t, fmt.Sprintf("RR-%d", i), docs.URL+"/invoice.pdf"))
	}
	for _, id := range ids {
		if s := api.jobStatus(t, id); s != "queued" {
			t.Fatalf("job %s is %s, want queued", id, s)
		}
	}
	rs.restart(t) // empty: no persistence
	ids = append(ids, api.createJobFor(t, "RR-after", docs.URL+"/invoice.pdf"))

	w := start(t, testEnv(t, env), "worker")
	for _, id := range ids {
		if job := api.waitJob(t, id, 90*time.Second); job["status"] != "completed" {
			t.Fatalf("job %s ended %v (errorLog %v); worker log:\n%s", id, job["status"], job["errorLog"], w.stderr)
		}
	}
	if n := docs.requests.Load(); n != int32(len(ids)) {
		t.Errorf("documents fetched %d times for %d jobs: a job ran twice or not at all", n, len(ids))
	}
}

// stackEnv is the environment of programs that work together in one test: one Redis,
// one SQLite database and data directory, documents allowed from loopback; extra adds or
// overrides settings.
func stackEnv(rs *testRedis, dataDir string, extra map[string]string) map[string]string {
	env := map[string]string{
		"REDIS_URL":                    rs.url(),
		"DATABASE_URL":                 "sqlite:" + filepath.Join(dataDir, "jobs.db"),
		"OCRINVOICE_DATA_DIR":          dataDir,
		"OCRINVOICE_FETCH_ALLOW_CIDRS": "127.0.0.0/8",
		"OCRINVOICE_AUTH":              "none", // auth_test.go covers keys
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// testRedis is a redis-server without persistence on a fixed loopback port, so that it
// can be restarted (empty) where clients expect it.
type testRedis struct {
	port int
	cmd  *exec.Cmd
}

func (r *testRedis) url() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0" }

// startRedisOnPort starts redis-server on port (0: a free one) and stops it at cleanup.
func startRedisOnPort(t *testing.T, port int) *testRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	if port == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}
	r := &testRedis{port: port}
	r.launch(t)
	t.Cleanup(func() { r.stop() })
	return r
}

func (r *testRedis) launch(t *testing.T) {
	t.Helper()
	r.cmd = exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--daemonize", "no", "--loglevel", "warning")
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(r.port), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d does not answer", r.port)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *testRedis) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}

// restart kills the server and starts an empty one on the same port.
func (r *testRedis) restart(t *testing.T) {
	t.Helper()
	r.stop()
	r.launch(t)
}
