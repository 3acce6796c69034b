package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/internal/runner"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// slowDocs serves a text-layer invoice at every path after a delay, counting the
// requests per path (one path per document, so per job).
type slowDocs struct {
	*httptest.Server
	mu      sync.Mutex
	fetches map[string]int
}

func newSlowDocs(t *testing.T, delay time.Duration) *slowDocs {
	t.Helper()
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	d := &slowDocs{fetches: map[string]int{}}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		d.fetches[r.URL.Path]++
		d.mu.Unlock()
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write(pdf)
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *slowDocs) documents(n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"documentUrl": fmt.Sprintf("%s/doc/%d.pdf", d.URL, i), "documentName": fmt.Sprintf("invoice-%d.pdf", i)}
	}
	return out
}

func (d *slowDocs) counts() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[string]int, len(d.fetches))
	for k, v := range d.fetches {
		out[k] = v
	}
	return out
}

// completedAts returns the completedAt of every job of group id that has one.
func (p *process) completedAts(t *testing.T, id string) map[string]string {
	t.Helper()
	q := url.Values{"filter": {`{"group":"` + id + `"}`}, "limit": {"100"}}
	code, b := p.request(t, "GET", "/api/v1/ocr-invoice-jobs?"+q.Encode(), "")
	if code != 200 {
		t.Fatalf("list jobs: %d %s", code, b)
	}
	var env struct {
		Data []map[string]any `json:"data"`
	}
	decode(t, b, &env)
	out := map[string]string{}
	for _, j := range env.Data {
		if c, ok := j["completedAt"].(string); ok && c != "" {
			out[fmt.Sprint(j["_id"])] = c
		}
	}
	return out
}

// waitGroupFinished polls the group until Complete or Failed, calling each on every
// sample, and returns its final status.
func (p *process) waitGroupFinished(t *testing.T, id string, limit time.Duration, each func()) map[string]any {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		if each != nil {
			each()
		}
		st := p.groupStatus(t, id)
		if st["phase"] == "Complete" || st["phase"] == "Failed" {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("group still %v after %v: %v\n%s", st["phase"], limit, st, p.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBatchRedisRestart: Redis is stopped and restarted empty in the middle of a group
// of 12 slow documents with parallelism 3 (`ocrinvoice all`, SQLite). The database is
// the source of truth: the requeue sweep gives queued jobs their lost tasks back, the
// runner takes its lease again and releases the rest; every job completes, each
// document is fetched exactly once (no job ran twice), and no completedAt, once seen,
// ever changes (completed results are never overwritten).
func TestBatchRedisRestart(t *testing.T) {
	t.Parallel()
	rs := startRedisOnPort(t, 0)
	docs := newSlowDocs(t, 400*time.Millisecond)
	p := start(t, testEnv(t, map[string]string{
		"REDIS_URL":                     rs.url(),
		"OCRINVOICE_FETCH_ALLOW_CIDRS":  "127.0.0.0/8",
		"OCRINVOICE_WORKER_CONCURRENCY": "3",
		"OCRINVOICE_RUNNER_RESYNC":      "1s",
		"OCRINVOICE_REQUEUE_INTERVAL":   "1s",
		"OCRINVOICE_RUNNER_LEASE":       "2s",
	}), "all")
	const n = 12
	id := p.createBatch(t, map[string]any{"name": "restart", "spec": map[string]any{"parallelism": 3}, "documents": docs.documents(n)})

	seen := map[string]string{}
	check := func() {
		for job, at := range p.completedAts(t, id) {
			if prev, ok := seen[job]; ok && prev != at {
				t.Fatalf("job %s completedAt changed from %s to %s: completed twice", job, prev, at)
			}
			seen[job] = at
		}
	}
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		check()
		if len(seen) >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 3 jobs completed within 60s\n%s", p.stderr)
		}
	}
	before := p.countJobs(t, id, `{"$in":["queued","processing"]}`)
	rs.restart(t) // empty: no persistence
	t.Logf("Redis restarted with %d jobs completed and %d queued or processing", len(seen), before)

	st := p.waitGroupFinished(t, id, 120*time.Second, check)
	check()
	if st["phase"] != "Complete" || st["succeeded"] != float64(n) || st["failed"] != 0.0 || st["cancelled"] != 0.0 || st["active"] != 0.0 {
		t.Fatalf("status %v\n%s", st, p.stderr)
	}
	if !hasCondition(st, "Complete", "True", "AllJobsSucceeded") {
		t.Errorf("conditions %v", st["conditions"])
	}
	if len(seen) != n {
		t.Errorf("%d jobs have a completedAt, want %d", len(seen), n)
	}
	counts := docs.counts()
	for i := range n {
		if c := counts[fmt.Sprintf("/doc/%d.pdf", i)]; c != 1 {
			t.Errorf("document %d fetched %d times, want 1", i, c)
		}
	}
	if !strings.Contains(p.stderr.String(), "Re-enqueued a job whose task was missing") {
		t.Logf("no job needed its task back (the restart fell between releases)")
	}
}

// TestRunnerLeaseHandOver: two runner processes on one Redis and database, a worker in a
// child process that takes the runner lease first and an `ocrinvoice all` in this one.
// Only the child holds the lease; when it is SIGKILLed in the middle of a group, the
// other process takes the lease at its expiry (OCRINVOICE_RUNNER_LEASE 2s) and the
// group completes. A task the killed worker was running comes back once asynq sees its
// lease expired (it looks every minute), so this test can take a minute more.
func TestRunnerLeaseHandOver(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about a minute (asynq's lease expiry); skipped with -short")
	}
	t.Parallel()
	const leaseTTL = 2 * time.Second
	rs := startRedisOnPort(t, 0)
	docs := newSlowDocs(t, 300*time.Millisecond)
	dataDir := t.TempDir()
	env := stackEnv(rs, dataDir, map[string]string{
		"OCRINVOICE_WORKER_CONCURRENCY": "2",
		"OCRINVOICE_RUNNER_RESYNC":      "1s",
		"OCRINVOICE_REQUEUE_INTERVAL":   "1s",
		"OCRINVOICE_RUNNER_LEASE":       leaseTTL.String(),
	})
	var childEnv []string
	for k, v := range env {
		childEnv = append(childEnv, k+"="+v)
	}
	migrateData(t, testEnv(t, env)) // a worker needs the server's database
	var out syncBuffer
	holder := child(t, &out, append(childEnv, "OCRINVOICE_LOG_FORMAT=json"), "worker")
	const taken = "Runner lease taken"
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(out.String(), taken); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the child worker did not take the lease; its log:\n%s", out.String())
		}
	}
	p := start(t, testEnv(t, env), "all")

	rdb := redis.NewClient(&redis.Options{Addr: strings.TrimPrefix(strings.TrimSuffix(rs.url(), "/0"), "redis://")})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()
	token, err := rdb.Get(ctx, runner.DefaultLeaseKey).Result()
	if err != nil || token == "" {
		t.Fatalf("lease key %s: %q %v", runner.DefaultLeaseKey, token, err)
	}

	const n = 8
	id := p.createBatch(t, map[string]any{"name": "handover", "spec": map[string]any{"parallelism": 2}, "documents": docs.documents(n)})
	for deadline := time.Now().Add(60 * time.Second); p.countJobs(t, id, `"completed"`) < 2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no 2 jobs completed within 60s\n%s\nchild:\n%s", p.stderr, out.String())
		}
	}
	// Several renewals later, the lease is still the child's and the other never took it.
	if strings.Contains(p.stderr.String(), taken) {
		t.Fatalf("both processes took the lease\n%s", p.stderr)
	}
	if now, _ := rdb.Get(ctx, runner.DefaultLeaseKey).Result(); now != token {
		t.Fatalf("lease value changed from %q to %q while its holder lived", token, now)
	}

	if err := holder.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = holder.Wait()
	for !strings.Contains(p.stderr.String(), taken) {
		if time.Since(killed) > 3*leaseTTL {
			t.Fatalf("the lease was not taken over within %v\n%s", 3*leaseTTL, p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(killed)
	if now, _ := rdb.Get(ctx, runner.DefaultLeaseKey).Result(); now == token || now == "" {
		t.Fatalf("lease value after the hand-over: %q (the dead holder's was %q)", now, token)
	}
	t.Logf("lease taken over %v after the holder was killed (expiry %v)", took.Round(time.Millisecond), leaseTTL)
	if took > leaseTTL+500*time.Millisecond {
		t.Errorf("hand-over took %v, more than the lease expiry %v", took, leaseTTL)
	}

	st := p.waitGroupFinished(t, id, 150*time.Second, nil)
	if st["phase"] != "Complete" || st["succeeded"] != float64(n) || st["active"] != 0.0 {
		t.Fatalf("status %v\n%s", st, p.stderr)
	}
	t.Logf("group complete %v after the kill; document fetches %v", time.Since(killed).Round(time.Millisecond), docs.counts())
}

// TestWorkerRunnerMetrics: a worker with a probe listener (OCRINVOICE_HEALTH_ADDR)
// serves the batch runner's metrics on /metrics: reconcile counts by result and their
// durations, groups by phase and the queue depth per priority, refreshed at each resync.
func TestWorkerRunnerMetrics(t *testing.T) {
	t.Parallel()
	rs := startRedisOnPort(t, 0)
	docs := newSlowDocs(t, 0)
	dataDir := t.TempDir()
	env := stackEnv(rs, dataDir, map[string]string{"OCRINVOICE_RUNNER_RESYNC": "200ms"})
	api := start(t, testEnv(t, env), "serve")
	env["OCRINVOICE_HEALTH_ADDR"] = "127.0.0.1:0"
	w := start(t, testEnv(t, env), "worker")
	id := api.createBatch(t, map[string]any{"name": "metrics", "spec": map[string]any{"parallelism": 1}, "documents": docs.documents(2)})
	if st := api.waitGroupFinished(t, id, 60*time.Second, nil); st["phase"] != "Complete" {
		t.Fatalf("group %v", st)
	}
	want := []string{
		`ocrinvoice_runner_groups{phase="Complete"} 1`,
		`ocrinvoice_runner_groups{phase="Running"} 0`,
		`ocrinvoice_runner_queue_tasks{queue="medium",state="pending"} 0`,
		`ocrinvoice_runner_queue_tasks{queue="urgent",state="retry"} 0`,
		`ocrinvoice_runner_reconciles_total{result="error"} 0`,
		`ocrinvoice_runner_reconcile_duration_seconds_count `,
	}
	var page string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, b := w.request(t, "GET", "/metrics", "")
		if code != 200 {
			t.Fatalf("GET /metrics: %d %s", code, b)
		}
		page = string(b)
		missing := ""
		for _, s := range want {
			if !strings.Contains(page, s) {
				missing = s
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics has no %q:\n%s", missing, page)
		}
	}
	var ok float64
	for _, line := range strings.Split(page, "\n") {
		if v, found := strings.CutPrefix(line, `ocrinvoice_runner_reconciles_total{result="success"} `); found {
			_, _ = fmt.Sscan(v, &ok)
		}
	}
	if ok < 3 { // creation, each job's events, the resyncs
		t.Errorf("%v successful reconciles", ok)
	}
}
