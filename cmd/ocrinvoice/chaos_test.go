package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// The chaos suite (make chaos, OCRINVOICE_CHAOS=1): the real binary as subprocesses —
// `serve` and two `worker`s on a PostgreSQL cluster and a redis-server of the test's
// own — reads a batch of chaosDocs text-layer invoices while four faults hit it one
// after the other: a worker SIGKILLed (and started again), Redis restarted empty, the
// API SIGKILLed (and started again), PostgreSQL stopped for chaosPGOutage. A client
// loop lists and reads jobs through REST and GraphQL the whole time. It checks that
// every job completes, that no job is processed twice unless it was in flight at a
// fault, that every result equals a fault-free extraction of the same document (the
// extract subcommand), that each fault's recovery stays under its target, and that the
// client never sees a 5xx other than 503 with Retry-After; it prints a table of what it
// measured.
//
// Settings (environment):
//
//	OCRINVOICE_CHAOS=1                        run the suite (else it is skipped)
//	OCRINVOICE_CHAOS_BIN                      the binary to run [go build into a temporary folder]
//	OCRINVOICE_CHAOS_LOGS                     a folder to keep the processes' whole output in [none]
//	OCRINVOICE_CHAOS_WORKER_RECOVERY          target for a killed worker's jobs to complete after the kill [20s]
//	OCRINVOICE_CHAOS_REDIS_RECOVERY           target after Redis restarted empty [30s]
//	OCRINVOICE_CHAOS_API_RECOVERY             target for the API to answer again after its kill [15s]
//	OCRINVOICE_CHAOS_POSTGRES_RECOVERY        target after PostgreSQL is back [30s]
const (
	chaosDocs        = 200
	chaosPGOutage    = 10 * time.Second
	chaosConcurrency = 4 // per worker
	// chaosWaitLimit bounds every wait for a recovery; beyond it the fault is reported
	// as not recovered and the suite goes on with the next.
	chaosWaitLimit = 150 * time.Second
)

func chaosTarget(t *testing.T, env string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 20s", env, v)
	}
	return d
}

// chaosBinary returns OCRINVOICE_CHAOS_BIN, or builds the program into a temporary
// folder.
func chaosBinary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("OCRINVOICE_CHAOS_BIN"); b != "" {
		return b
	}
	bin := filepath.Join(t.TempDir(), "ocrinvoice")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// chaosProc is one subprocess of the program; start may be called again after a kill.
type chaosProc struct {
	name string
	bin  string
	env  []string
	args []string
	out  syncBuffer
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (p *chaosProc) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	fmt.Fprintf(&p.out, "--- started pid %d\n", cmd.Process.Pid)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
}

// kill SIGKILLs the process and waits for it to be gone.
func (p *chaosProc) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	fmt.Fprintf(&p.out, "--- SIGKILL pid %d\n", cmd.Process.Pid)
}

// tail is the end of the process's output, for failure messages.
func (p *chaosProc) tail() string {
	s := p.out.String()
	if len(s) > 4000 {
		s = "..." + s[len(s)-4000:]
	}
	return fmt.Sprintf("--- %s:\n%s", p.name, s)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// chaosFetch is one request for a document.
type chaosFetch struct {
	start, end time.Time
	served     bool // the whole document was sent
}

// chaosDocServer serves document i at /doc/i.pdf. The first request of each document
// is answered after the delay in force when it arrives (the pacing of the batch, so that
// work is in flight at every fault); later ones (a job run again) at once. Every request
// is recorded.
type chaosDocServer struct {
	*httptest.Server
	docs    [][]byte
	delay   atomic.Int64 // time.Duration
	mu      sync.Mutex
	fetches map[int][]chaosFetch
}

// chaosInvoice is document i: the test invoice with its own number and customer.
func chaosInvoice(i int) []byte {
	lines := slices.Clone(testdocs.InvoiceLines)
	for j, l := range lines {
		l = strings.ReplaceAll(l, "INV-2024-0042", fmt.Sprintf("INV-CHAOS-%04d", i))
		l = strings.ReplaceAll(l, "Globex Corporation", fmt.Sprintf("Globex Branch %d", i))
		lines[j] = l
	}
	return testdocs.PDF(testdocs.Page{Lines: lines})
}

func newChaosDocServer(t *testing.T, n int) *chaosDocServer {
	t.Helper()
	d := &chaosDocServer{fetches: map[int][]chaosFetch{}}
	for i := range n {
		d.docs = append(d.docs, chaosInvoice(i))
	}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/doc/"), ".pdf"))
		if err != nil || i < 0 || i >= len(d.docs) {
			http.NotFound(w, r)
			return
		}
		f := chaosFetch{start: time.Now()}
		d.mu.Lock()
		first := len(d.fetches[i]) == 0
		idx := len(d.fetches[i])
		d.fetches[i] = append(d.fetches[i], f)
		d.mu.Unlock()
		if first {
			select {
			case <-time.After(time.Duration(d.delay.Load())):
			case <-r.Context().Done():
			}
		}
		if r.Context().Err() == nil {
			w.Header().Set("Content-Type", "application/pdf")
			_, err = w.Write(d.docs[i])
			f.served = err == nil
		}
		f.end = time.Now()
		d.mu.Lock()
		d.fetches[i][idx] = f
		d.mu.Unlock()
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *chaosDocServer) url(i int) string { return fmt.Sprintf("%s/doc/%d.pdf", d.URL, i) }

// snapshot returns a copy of the requests so far.
func (d *chaosDocServer) snapshot() map[int][]chaosFetch {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make(map[int][]chaosFetch, len(d.fetches))
	for k, v := range d.fetches {
		out[k] = slices.Clone(v)
	}
	return out
}

// inFlight counts the requests not answered yet.
func (d *chaosDocServer) inFlight() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, fs := range d.fetches {
		for _, f := range fs {
			if f.end.IsZero() {
				n++
			}
		}
	}
	return n
}

// fetchingAt returns the documents with a request under way at t0 (started before, not
// answered by then).
func (d *chaosDocServer) fetchingAt(t0 time.Time) []int {
	var out []int
	for i, fs := range d.snapshot() {
		for _, f := range fs {
			if f.start.Before(t0) && (f.end.IsZero() || f.end.After(t0)) {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// union returns the sorted documents of a and b.
func union(a, b []int) []int {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// chaosDB reads the jobs straight from the test's PostgreSQL cluster (not through the
// API that the faults hit).
type chaosDB struct {
	db *sql.DB
}

// chaosJob is a job as stored.
type chaosJob struct {
	status    string
	completed time.Time
	data      []byte
}

// jobs returns the jobs of the batch by document index; an error while the database
// is down.
func (c *chaosDB) jobs(ctx context.Context, docURL func(int) string, n int) (map[int]chaosJob, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	rows, err := c.db.QueryContext(ctx, `SELECT document_url, status, completed_at, extracted_data FROM ocr_invoice_jobs`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byURL := make(map[string]int, n)
	for i := range n {
		byURL[docURL(i)] = i
	}
	out := make(map[int]chaosJob, n)
	for rows.Next() {
		var u, st string
		var at sql.NullTime
		var data []byte
		if err := rows.Scan(&u, &st, &at, &data); err != nil {
			return nil, err
		}
		if i, ok := byURL[u]; ok {
			out[i] = chaosJob{status: st, completed: at.Time, data: data}
		}
	}
	return out, rows.Err()
}

// chaosClient is the client loop: REST and GraphQL reads of the batch's jobs, every
// answer counted by the phase (fault) in force.
type chaosClient struct {
	base  string
	hc    *http.Client
	phase atomic.Pointer[string]
	group string
	ids   []string

	mu        sync.Mutex
	codes     map[string]map[string]int // phase -> "REST 200", "GraphQL 503", "error" ...
	bad       []string                  // 5xx other than 503 with Retry-After, and INTERNAL errors
	requests  int
	completed map[string]string // job id -> completedAt seen through REST
}

func (c *chaosClient) record(kind string, resp *http.Response, body []byte, err error) {
	phase := *c.phase.Load()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests++
	if c.codes[phase] == nil {
		c.codes[phase] = map[string]int{}
	}
	if err != nil {
		c.codes[phase][kind+" no answer"]++
		return
	}
	c.codes[phase][fmt.Sprintf("%s %d", kind, resp.StatusCode)]++
	switch {
	case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
	case resp.StatusCode >= 500:
		c.bad = append(c.bad, fmt.Sprintf("%s %s: %d (Retry-After %q) %.300s", phase, kind, resp.StatusCode, resp.Header.Get("Retry-After"), body))
	case bytes.Contains(body, []byte(`"INTERNAL"`)):
		c.bad = append(c.bad, fmt.Sprintf("%s %s: %d with an INTERNAL error %.300s", phase, kind, resp.StatusCode, body))
	}
}

func (c *chaosClient) do(kind, method, path, body string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
	}
	c.record(kind, resp, b, err)
	return resp, b, err
}

// loop reads until ctx ends: the batch's jobs a page at a time (REST and GraphQL), one
// job by id (both), and the group.
func (c *chaosClient) loop(ctx context.Context) {
	const gqlList = `query($after: Cursor, $g: ID!) { ocrInvoiceJobs(first: 50, after: $after, where: {groupId: $g}) { totalCount pageInfo { endCursor hasNextPage } edges { node { id status completedAt } } } }`
	const gqlNode = `query($id: ID!) { node(id: $id) { ... on OcrInvoiceJob { id status completedAt extractedData { invoice { number } } } } }`
	var cursor any
	for i := 0; ctx.Err() == nil; i++ {
		switch i % 4 {
		case 0:
			q := url.Values{"filter": {`{"group":"` + c.group + `"}`}, "limit": {"100"}, "offset": {strconv.Itoa((i / 4 % 2) * 100)}}
			resp, b, err := c.do("REST", "GET", "/api/v1/ocr-invoice-jobs?"+q.Encode(), "")
			if err == nil && resp.StatusCode == 200 {
				c.seeCompleted(b)
			}
		case 1:
			c.do("REST", "GET", "/api/v1/ocr-invoice-jobs/"+c.ids[rand.IntN(len(c.ids))], "")
		case 2:
			resp, b, err := c.do("GraphQL", "POST", "/graphql", gqlBody(gqlList, map[string]any{"after": cursor, "g": c.group}))
			cursor = nil
			if err == nil && resp.StatusCode == 200 {
				var out struct {
					Data struct {
						Jobs struct {
							PageInfo struct {
								EndCursor   string `json:"endCursor"`
								HasNextPage bool   `json:"hasNextPage"`
							} `json:"pageInfo"`
						} `json:"ocrInvoiceJobs"`
					} `json:"data"`
				}
				if json.Unmarshal(b, &out) == nil && out.Data.Jobs.PageInfo.HasNextPage {
					cursor = out.Data.Jobs.PageInfo.EndCursor
				}
			}
		case 3:
			if i%8 == 3 {
				c.do("GraphQL", "POST", "/graphql", gqlBody(gqlNode, map[string]any{"id": c.ids[rand.IntN(len(c.ids))]}))
			} else {
				c.do("REST", "GET", "/api/v1/ocr-job-groups/"+c.group, "")
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// seeCompleted records the completedAt of every job in a REST list answer; one that
// changes once seen is a job completed twice.
func (c *chaosClient) seeCompleted(b []byte) {
	var env struct {
		Data []struct {
			ID          string `json:"_id"`
			CompletedAt string `json:"completedAt"`
		} `json:"data"`
	}
	if json.Unmarshal(b, &env) != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, j := range env.Data {
		if j.CompletedAt == "" {
			continue
		}
		if prev, ok := c.completed[j.ID]; ok && prev != j.CompletedAt {
			c.bad = append(c.bad, fmt.Sprintf("job %s: completedAt changed from %s to %s (completed twice)", j.ID, prev, j.CompletedAt))
		}
		c.completed[j.ID] = j.CompletedAt
	}
}

// chaosFault is one row of the table.
type chaosFault struct {
	name   string
	target time.Duration
	limit  time.Duration // how long the recovery was waited for
	// completedFrom, when set, is where the recovery starts for the jobs of inFlight,
	// which is then also measured by their completedAt.
	completedFrom time.Time
	recovery      time.Duration // -1: not recovered within limit
	what          string        // what the recovery time measures
	inFlight      []int         // documents in flight at the fault (may run again)
	rerun         int
}

func TestChaos(t *testing.T) {
	if os.Getenv("OCRINVOICE_CHAOS") != "1" {
		t.Skip("chaos suite: set OCRINVOICE_CHAOS=1 (make chaos)")
	}
	targets := map[string]time.Duration{
		"worker SIGKILL":      chaosTarget(t, "OCRINVOICE_CHAOS_WORKER_RECOVERY", 20*time.Second),
		"Redis restart empty": chaosTarget(t, "OCRINVOICE_CHAOS_REDIS_RECOVERY", 30*time.Second),
		"API SIGKILL":         chaosTarget(t, "OCRINVOICE_CHAOS_API_RECOVERY", 15*time.Second),
		"PostgreSQL stop 10s": chaosTarget(t, "OCRINVOICE_CHAOS_POSTGRES_RECOVERY", 30*time.Second),
	}
	began := time.Now()
	bin := chaosBinary(t)
	t.Logf("binary %s (%v)", bin, time.Since(began).Round(time.Millisecond))
	pg := startPostgres(t)
	rs := startRedisOnPort(t, 0)
	docs := newChaosDocServer(t, chaosDocs)

	// The reference: the same documents read by the extract subcommand, no service.
	ref := chaosReference(t, bin, docs.docs)

	dataDir := t.TempDir()
	apiPort := freePort(t)
	base := []string{
		"DATABASE_URL=" + pg.URL(),
		"REDIS_URL=" + rs.url(),
		"OCRINVOICE_DATA_DIR=" + dataDir,
		"OCRINVOICE_FETCH_ALLOW_CIDRS=127.0.0.0/8",
		"OCRINVOICE_AUTH=none",
		"OCRINVOICE_LOG_LEVEL=info",
		"OMP_THREAD_LIMIT=1",
	}
	api := &chaosProc{name: "serve", bin: bin, args: []string{"serve"},
		env: append(slices.Clone(base), fmt.Sprintf("OCRINVOICE_ADDR=127.0.0.1:%d", apiPort),
			// The client loop stands for many clients behind one address: it is not to be
			// slowed by the per-address limits, which have tests of their own.
			"OCRINVOICE_ANONYMOUS_RATE=0", "OCRINVOICE_QUERY_BUDGET=0")}
	workerEnv := append(slices.Clone(base),
		"OCRINVOICE_WORKER_CONCURRENCY="+strconv.Itoa(chaosConcurrency),
		"OCRINVOICE_REQUEUE_INTERVAL=1s",
		"OCRINVOICE_RUNNER_RESYNC=1s",
		"OCRINVOICE_RUNNER_LEASE=2s",
		"OCRINVOICE_SHUTDOWN_TIMEOUT=2s")
	w1 := &chaosProc{name: "worker-1", bin: bin, args: []string{"worker"}, env: workerEnv}
	w2 := &chaosProc{name: "worker-2", bin: bin, args: []string{"worker"}, env: workerEnv}
	procs := []*chaosProc{api, w1, w2}
	t.Cleanup(func() {
		for _, p := range procs {
			p.kill()
		}
		if t.Failed() {
			for _, p := range procs {
				t.Log(p.tail())
			}
		}
		// OCRINVOICE_CHAOS_LOGS=DIR keeps each process's whole output as DIR/NAME.log.
		if dir := os.Getenv("OCRINVOICE_CHAOS_LOGS"); dir != "" {
			for _, p := range procs {
				if err := os.WriteFile(filepath.Join(dir, p.name+".log"), []byte(p.out.String()), 0o644); err != nil {
					t.Log(err)
				}
			}
		}
	})
	apiBase := fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	hc := &http.Client{Timeout: 5 * time.Second}
	ready := func(limit time.Duration) time.Duration {
		start := time.Now()
		for time.Since(start) < limit {
			resp, err := hc.Get(apiBase + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return time.Since(start)
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		return -1
	}
	api.start(t)
	if ready(60*time.Second) < 0 {
		t.Fatalf("serve not ready within 60s\n%s", api.tail())
	}
	w1.start(t)
	w2.start(t)

	db, err := sql.Open("postgres", pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	store := &chaosDB{db: db}
	ctx := context.Background()
	jobsNow := func() map[int]chaosJob {
		for {
			j, err := store.jobs(ctx, docs.url, chaosDocs)
			if err == nil {
				return j
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// The batch: every job released at once. It is paced by the first download of each
	// document (5 s: about 1.6 jobs a second on 2 x 4 slots), so that work is in flight
	// at every fault whatever the recoveries take; runs again are not slowed.
	docs.delay.Store(int64(5 * time.Second))
	list := make([]map[string]any, chaosDocs)
	for i := range list {
		list[i] = map[string]any{"documentUrl": docs.url(i), "documentName": fmt.Sprintf("chaos-%03d.pdf", i)}
	}
	body, _ := json.Marshal(map[string]any{"name": "chaos", "documents": list})
	resp, err := hc.Post(apiBase+"/api/v1/ocr-job-groups", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create batch: %d %s", resp.StatusCode, out)
	}
	var created struct {
		Data struct {
			ID string `json:"_id"`
		} `json:"data"`
	}
	decode(t, out, &created)
	var ids []string
	for off := 0; off < chaosDocs; off += 100 {
		q := url.Values{"filter": {`{"group":"` + created.Data.ID + `"}`}, "limit": {"100"}, "offset": {strconv.Itoa(off)}}
		resp, err := hc.Get(apiBase + "/api/v1/ocr-invoice-jobs?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		var env struct {
			Data []struct {
				ID string `json:"_id"`
			} `json:"data"`
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		decode(t, b, &env)
		for _, j := range env.Data {
			ids = append(ids, j.ID)
		}
	}
	if len(ids) != chaosDocs {
		t.Fatalf("batch has %d jobs, want %d", len(ids), chaosDocs)
	}

	client := &chaosClient{base: apiBase, hc: &http.Client{Timeout: 5 * time.Second}, group: created.Data.ID, ids: ids,
		codes: map[string]map[string]int{}, completed: map[string]string{}}
	setPhase := func(s string) { client.phase.Store(&s) }
	setPhase("steady")
	cctx, stopClient := context.WithCancel(ctx)
	clientDone := make(chan struct{})
	go func() { defer close(clientDone); client.loop(cctx) }()
	defer func() { stopClient(); <-clientDone }()

	// waitBusy waits until n documents are being fetched (work in flight for the fault).
	waitBusy := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(60 * time.Second); docs.inFlight() < n; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Errorf("fewer than %d documents in flight after 60s", n)
				return
			}
		}
	}
	var faults []*chaosFault
	// pending is what earlier faults left unfinished: a later fault does not count it
	// as its own.
	pending := func() map[int]bool {
		js := jobsNow()
		out := map[int]bool{}
		for _, f := range faults {
			for _, i := range f.inFlight {
				if js[i].status != "completed" {
					out[i] = true
				}
			}
		}
		return out
	}
	processing := func() []int {
		old := pending()
		var out []int
		for i, j := range jobsNow() {
			if j.status == "processing" && !old[i] {
				out = append(out, i)
			}
		}
		slices.Sort(out)
		return out
	}
	// waitFor polls the jobs until done says so and returns how long after since that
	// was (-1: not within limit).
	waitFor := func(since time.Time, limit time.Duration, done func(js map[int]chaosJob) bool) time.Duration {
		for time.Since(since) < limit {
			if js, err := store.jobs(ctx, docs.url, chaosDocs); err == nil && done(js) {
				return time.Since(since)
			}
			time.Sleep(100 * time.Millisecond)
		}
		return -1
	}
	completed := func(want []int) func(js map[int]chaosJob) bool {
		return func(js map[int]chaosJob) bool {
			for _, i := range want {
				if js[i].status != "completed" {
					return false
				}
			}
			return true
		}
	}
	// waitLimit bounds the wait for one fault's recovery: twice its target, at least
	// 30 s, at most chaosWaitLimit.
	waitLimit := func(target time.Duration) time.Duration { return min(chaosWaitLimit, max(2*target, 30*time.Second)) }
	// 1. A worker is SIGKILLed with jobs in flight and started again at once (as a
	// restarting pod would be). Its jobs are those whose document download the kill cut.
	waitBusy(2 * chaosConcurrency)
	setPhase("worker SIGKILL")
	f := &chaosFault{name: "worker SIGKILL", target: targets["worker SIGKILL"], what: "kill -> the killed worker's jobs completed"}
	killed := time.Now()
	w1.kill()
	w1.start(t)
	time.Sleep(500 * time.Millisecond)
	for i, fs := range docs.snapshot() {
		for _, x := range fs {
			if !x.served && !x.end.IsZero() && x.start.Before(killed) && x.end.After(killed) {
				f.inFlight = append(f.inFlight, i)
			}
		}
	}
	f.inFlight = union(f.inFlight, nil)
	if len(f.inFlight) == 0 {
		t.Errorf("the killed worker had no download in flight")
	}
	f.limit = waitLimit(f.target)
	f.recovery, f.completedFrom = waitFor(killed, f.limit, completed(f.inFlight)), killed
	faults = append(faults, f)
	t.Logf("worker SIGKILL: %d jobs in flight on it; recovery %v", len(f.inFlight), f.recovery)

	// 2. Redis restarted empty: every task is lost, queued ones and running ones.
	waitBusy(chaosConcurrency)
	setPhase("Redis restart empty")
	f = &chaosFault{name: "Redis restart empty", target: targets["Redis restart empty"],
		what: "restart -> jobs processing at it completed, and one queued at it started"}
	f.inFlight = processing()
	var queued []int
	for i, j := range jobsNow() {
		if j.status == "queued" {
			queued = append(queued, i)
		}
	}
	restarted := time.Now()
	rs.restart(t)
	f.inFlight = union(f.inFlight, docs.fetchingAt(restarted))
	f.limit = waitLimit(f.target)
	var ranAgain, started time.Duration = -1, -1
	f.recovery = waitFor(restarted, f.limit, func(js map[int]chaosJob) bool {
		if ranAgain < 0 && completed(f.inFlight)(js) {
			ranAgain = time.Since(restarted)
		}
		for _, i := range queued {
			if started < 0 && js[i].status != "queued" {
				started = time.Since(restarted)
			}
		}
		return ranAgain >= 0 && (started >= 0 || len(queued) == 0)
	})
	faults = append(faults, f)
	t.Logf("Redis restart: %d processing (completed after %v), %d queued (the first started after %v)", len(f.inFlight), ranAgain, len(queued), started)

	// 3. The API is SIGKILLed and started again at once; the workers do not need it.
	setPhase("API SIGKILL")
	f = &chaosFault{name: "API SIGKILL", target: targets["API SIGKILL"], what: "kill -> the API ready again (restarted at once)"}
	apiKilled := time.Now()
	api.kill()
	api.start(t)
	f.limit = waitLimit(f.target)
	if ready(f.limit) >= 0 {
		f.recovery = time.Since(apiKilled)
	} else {
		f.recovery = -1
	}
	faults = append(faults, f)

	// 4. PostgreSQL is stopped (immediate shutdown) for chaosPGOutage, then started.
	waitBusy(chaosConcurrency)
	setPhase("PostgreSQL stop 10s")
	f = &chaosFault{name: "PostgreSQL stop 10s", target: targets["PostgreSQL stop 10s"],
		what: "back up -> jobs processing at the stop completed"}
	f.inFlight = processing()
	if err := pg.pgctl("stop", "-m", "immediate", "-w"); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	f.inFlight = union(f.inFlight, docs.fetchingAt(stopped))
	time.Sleep(chaosPGOutage)
	pg.start(t)
	back := time.Now()
	t.Logf("PostgreSQL down for %v", back.Sub(stopped).Round(time.Millisecond))
	f.limit = waitLimit(f.target)
	f.recovery, f.completedFrom = waitFor(back, f.limit, completed(f.inFlight)), back
	faults = append(faults, f)

	// The rest of the batch, unpaced.
	setPhase("after the faults")
	docs.delay.Store(0)
	all := make([]int, chaosDocs)
	for i := range all {
		all[i] = i
	}
	tail := time.Now()
	finished := waitFor(tail, 45*time.Second, completed(all))
	time.Sleep(300 * time.Millisecond) // a few more client reads of the finished batch
	stopClient()
	<-clientDone

	// Every job completed once, unless it was in flight at a fault; results as the
	// reference.
	final := jobsNow()
	// A recovery measured by jobs completing is exact even when the wait gave up first:
	// the time of the last completedAt (the same clock) after the fault.
	for k, f := range faults {
		if f.completedFrom.IsZero() || len(f.inFlight) == 0 {
			continue
		}
		var last time.Time
		for _, i := range f.inFlight {
			j := final[i]
			if j.status != "completed" {
				last = time.Time{}
				break
			}
			if j.completed.After(last) {
				last = j.completed
			}
		}
		if !last.IsZero() {
			if d := last.Sub(f.completedFrom); f.recovery < 0 || d > f.recovery {
				faults[k].recovery = d
			}
		}
	}
	fetches := docs.snapshot()
	mayRerun := map[int]bool{}
	for _, f := range faults {
		for _, i := range f.inFlight {
			mayRerun[i] = true
		}
	}
	faultAt := []time.Time{killed, restarted, apiKilled, stopped, tail}
	statuses := map[string]int{}
	for i := range chaosDocs {
		j := final[i]
		statuses[j.status]++
		fs := fetches[i]
		if len(fs) > 1 {
			// Attribute the run again to the fault before its second fetch.
			for k := len(faultAt) - 2; k >= 0; k-- {
				if fs[1].start.After(faultAt[k]) {
					faults[k].rerun++
					break
				}
			}
			if !mayRerun[i] {
				t.Errorf("document %d fetched %d times but was not in flight at a fault", i, len(fs))
			}
		}
		if j.status != "completed" {
			continue // reported below, once
		}
		var got invoice.ExtractedData
		if err := json.Unmarshal(j.data, &got); err != nil {
			t.Errorf("document %d: extracted data %q: %v", i, j.data, err)
			continue
		}
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(ref[i])
		if !bytes.Equal(gb, wb) {
			t.Errorf("document %d: extracted\n  %s\nwant (reference)\n  %s", i, gb, wb)
		}
	}
	if finished < 0 || statuses["completed"] != chaosDocs {
		var stuck []int
		for i := range chaosDocs {
			if final[i].status != "completed" {
				stuck = append(stuck, i)
			}
		}
		t.Errorf("the batch did not complete within 45s after the faults: jobs by status %v; not completed: documents %v", statuses, stuck)
	}

	// The table.
	var tb strings.Builder
	fmt.Fprintf(&tb, "\nchaos: %d documents, serve + 2 workers x %d, PostgreSQL and Redis of its own; suite %v\n",
		chaosDocs, chaosConcurrency, time.Since(began).Round(time.Second))
	fmt.Fprintf(&tb, "%-20s %-12s %7s %9s %7s  %-24s %s\n", "fault", "recovery", "target", "in flight", "re-run", "5xx seen by the client", "recovery measures")
	for _, f := range faults {
		rec := fmt.Sprintf("> %v", time.Since(f.completedFrom).Round(time.Second))
		if f.completedFrom.IsZero() {
			rec = fmt.Sprintf("> %v", f.limit)
		}
		if f.recovery >= 0 {
			rec = f.recovery.Round(100 * time.Millisecond).String()
		}
		fmt.Fprintf(&tb, "%-20s %-12s %7s %9d %7d  %-24s %s\n", f.name, rec, f.target, len(f.inFlight), f.rerun, client.fiveXX(f.name), f.what)
	}
	fmt.Fprintf(&tb, "%-20s %-12s %7s %9s %7s  %-24s\n", "(rest of the batch)", "", "", "", "", client.fiveXX("after the faults"))
	fmt.Fprintf(&tb, "jobs: %v; client: %d requests, answers by phase:\n", statuses, client.requests)
	for _, ph := range []string{"steady", "worker SIGKILL", "Redis restart empty", "API SIGKILL", "PostgreSQL stop 10s", "after the faults"} {
		fmt.Fprintf(&tb, "  %-20s %v\n", ph, client.codes[ph])
	}
	t.Log(tb.String())

	for _, b := range client.bad {
		t.Errorf("client: %s", b)
	}
	for _, f := range faults {
		switch {
		case f.recovery < 0:
			t.Errorf("%s: not recovered (%s)", f.name, f.what)
		case f.recovery > f.target:
			t.Errorf("%s: recovery %v, over its target %v (%s)", f.name, f.recovery.Round(100*time.Millisecond), f.target, f.what)
		}
	}
}

// fiveXX sums the 5xx answers of a phase by code, "-" for none.
func (c *chaosClient) fiveXX(phase string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	by := map[string]int{}
	for k, n := range c.codes[phase] {
		f := strings.Fields(k)
		if len(f) == 2 && strings.HasPrefix(f[1], "5") {
			by[f[1]] += n
		}
	}
	if len(by) == 0 {
		return "-"
	}
	var parts []string
	for code, n := range by {
		parts = append(parts, fmt.Sprintf("%s x%d", code, n))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// chaosReference reads the documents with `extract --json --read text` (no service,
// no faults) and returns their extracted data by index.
func chaosReference(t *testing.T, bin string, docs [][]byte) []invoice.ExtractedData {
	t.Helper()
	dir := t.TempDir()
	files := make([]string, len(docs))
	for i, d := range docs {
		files[i] = filepath.Join(dir, fmt.Sprintf("%03d.pdf", i))
		if err := os.WriteFile(files[i], d, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"extract", "--json", "--read", "text"}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("extract: %v\n%s", err, stderr.String())
	}
	byFile := map[string]invoice.ExtractedData{}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var l extractLine
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatalf("extract output %q: %v", line, err)
		}
		if l.Error != "" || l.ExtractedData == nil {
			t.Fatalf("extract %s: %s", l.File, l.Error)
		}
		byFile[l.File] = *l.ExtractedData
	}
	ref := make([]invoice.ExtractedData, len(docs))
	for i, f := range files {
		d, ok := byFile[f]
		if !ok {
			t.Fatalf("extract printed nothing for %s", f)
		}
		if want := fmt.Sprintf("INV-CHAOS-%04d", i); d.Invoice.Number != want {
			t.Fatalf("reference of document %d reads number %q, want %q", i, d.Invoice.Number, want)
		}
		ref[i] = d
	}
	return ref
}
