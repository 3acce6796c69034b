package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/lib/pq" // the admin connection that creates and drops the benchmark's database
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
)

// kinds are the requests loaded, in the order run at each concurrency; healthz first: the
// floor the others are read against.
var kinds = []string{"healthz", "list", "filter", "search", "get", "create", "graphql"}

// step is the measure of one request kind at one concurrency.
type step struct {
	kind    string
	c       int
	m       vegeta.Metrics
	rssPeak int64 // bytes, serve's peak resident memory during the step
}

// dbResult is the run against one database.
type dbResult struct {
	name     string
	seedTime time.Duration
	steps    []step
	rssStart int64 // after start-up, before the load
	rssPeak  int64
	rssEnd   int64
}

func bench(ctx context.Context, o options, stdout, stderr io.Writer) error {
	dir := o.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "benchscale-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	redisURL, stopRedis, err := startRedis(ctx, dir)
	if err != nil {
		return err
	}
	defer stopRedis()
	fmt.Fprintf(stdout, "benchscale: %d jobs per database, %v per step, concurrencies %v, %s\n", o.rows, o.duration, o.conc, hostInfo())
	var results []dbResult
	if o.sqlite {
		r, err := benchDB(ctx, o, "SQLite", "sqlite:"+filepath.Join(dir, "bench.db"), redisURL, dir, stdout)
		if err != nil {
			return fmt.Errorf("SQLite: %w", err)
		}
		results = append(results, r)
	}
	if o.pg != "" {
		dbURL, drop, err := createPGDatabase(ctx, o.pg)
		if err != nil {
			return err
		}
		r, err := benchDB(ctx, o, "PostgreSQL", dbURL, redisURL, dir, stdout)
		drop()
		if err != nil {
			return fmt.Errorf("PostgreSQL: %w", err)
		}
		results = append(results, r)
	}
	printMarkdown(stdout, o, results)
	return nil
}

func hostInfo() string {
	n := 0
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		n = strings.Count(string(b), "\nprocessor")
		if strings.HasPrefix(string(b), "processor") {
			n++
		}
	}
	return fmt.Sprintf("%d CPUs (load generator and serve share them)", n)
}

// benchDB seeds the database at dbURL, serves it and loads it.
func benchDB(ctx context.Context, o options, name, dbURL, redisURL, dir string, stdout io.Writer) (dbResult, error) {
	res := dbResult{name: name}
	fmt.Fprintf(stdout, "\n== %s: seeding %d jobs\n", name, o.rows)
	start := time.Now()
	if err := Seed(ctx, dbURL, o.rows, stdout); err != nil {
		return res, err
	}
	res.seedTime = time.Since(start)
	ids, err := sampleIDs(ctx, dbURL)
	if err != nil {
		return res, err
	}
	srv, err := startServe(ctx, o.bin, name, dbURL, redisURL, dir)
	if err != nil {
		return res, err
	}
	defer srv.stop()
	rss := newRSSSampler(srv.cmd.Process.Pid)
	defer rss.stop()
	res.rssStart = rss.current()
	targets := newTargeters(srv.base, ids, o.rows)
	if err := checkTargets(ctx, targets); err != nil {
		return res, fmt.Errorf("%w (serve log: %s)", err, srv.logPath)
	}
	for _, c := range o.conc {
		for _, kind := range kinds {
			rss.resetStep()
			m := attack(targets[kind], c, o.duration, kind)
			st := step{kind: kind, c: c, m: m, rssPeak: rss.stepPeak()}
			res.steps = append(res.steps, st)
			fmt.Fprintf(stdout, "%-10s c=%-3d %7d req  mean %9s  p50 %9s  p99 %9s  %8.1f req/s  ok %5.1f%%  RSS %s%s\n",
				kind, c, m.Requests, dur(m.Latencies.Mean), dur(m.Latencies.P50), dur(m.Latencies.P99), m.Throughput,
				m.Success*100, mb(st.rssPeak), firstError(m))
		}
	}
	res.rssPeak, res.rssEnd = rss.peak(), rss.current()
	fmt.Fprintf(stdout, "%s: serve RSS %s after start-up, peak %s, %s at the end\n", name, mb(res.rssStart), mb(res.rssPeak), mb(res.rssEnd))
	return res, nil
}

func firstError(m vegeta.Metrics) string {
	if len(m.Errors) == 0 {
		return ""
	}
	return "  first error: " + m.Errors[0]
}

// attack sends requests of tr back to back from c workers for d and measures them.
func attack(tr vegeta.Targeter, c int, d time.Duration, name string) vegeta.Metrics {
	a := vegeta.NewAttacker(vegeta.Workers(uint64(c)), vegeta.MaxWorkers(uint64(c)), vegeta.Connections(c),
		vegeta.MaxConnections(c), vegeta.KeepAlive(true), vegeta.Timeout(60*time.Second), vegeta.Redirects(vegeta.NoFollow))
	var m vegeta.Metrics
	for r := range a.Attack(tr, vegeta.Rate{}, d, name) {
		m.Add(r)
	}
	m.Close()
	return m
}

// newTargeters returns the request of each kind. Filters, searches and gets rotate over
// several values, creates make new jobs with new numbers.
func newTargeters(base string, ids []string, rows int) map[string]vegeta.Targeter {
	api := base + "/api/v1/ocr-invoice-jobs"
	rotate := func(method string, urls ...string) vegeta.Targeter {
		var n atomic.Uint64
		return func(t *vegeta.Target) error {
			t.Method, t.URL = method, urls[int(n.Add(1)-1)%len(urls)]
			return nil
		}
	}
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return api + "?" + v.Encode()
	}
	var filters, searches, gets []string
	for i, f := range []string{
		`{"status":"failed"}`,
		`{"createdBy":"%s","status":"completed"}`,
		`{"status":{"$in":["queued","processing"]},"priority":"urgent"}`,
		`{"createdBy":"%s","createdAt":{"$gte":"2024-01-01"}}`,
	} {
		if strings.Contains(f, "%s") {
			f = fmt.Sprintf(f, seedOwners[i%len(seedOwners)])
		}
		filters = append(filters, q("limit", "50", "filter", f))
	}
	for i := range 16 {
		k := (i*104729 + 17) % rows
		terms := []string{seedInvoiceNumber(k), strings.Fields(seedSupplier(k))[0], seedJobNumber(k), customerNames[i%len(customerNames)]}
		searches = append(searches, q("limit", "50", "search", terms[i%len(terms)]))
	}
	for _, id := range ids {
		gets = append(gets, api+"/"+id)
	}
	var created atomic.Uint64
	runID := randomHex(4)
	createT := func(t *vegeta.Target) error {
		n := created.Add(1)
		body, _ := json.Marshal(map[string]any{
			"jobNumber": fmt.Sprintf("BENCH-%s-%d", runID, n), "documentName": fmt.Sprintf("bench-%d.pdf", n),
			"documentUrl": fmt.Sprintf("https://files.example.com/bench/%d.pdf", n), "template": "generic",
			"metadata": map[string]any{"source": "benchscale"},
		})
		t.Method, t.URL, t.Body = http.MethodPost, api, body
		t.Header = http.Header{"Content-Type": {"application/json"}}
		return nil
	}
	gql, _ := json.Marshal(map[string]string{"query": `{ ocrInvoiceJobs(first: 50) { totalCount edges { cursor node { id jobNumber status createdAt } } } }`})
	graphqlT := func(t *vegeta.Target) error {
		t.Method, t.URL, t.Body = http.MethodPost, base+"/graphql", gql
		t.Header = http.Header{"Content-Type": {"application/json"}}
		return nil
	}
	return map[string]vegeta.Targeter{
		"healthz": rotate(http.MethodGet, base+"/healthz"),
		"list":    rotate(http.MethodGet, q("limit", "50")),
		"filter":  rotate(http.MethodGet, filters...),
		"search":  rotate(http.MethodGet, searches...),
		"get":     rotate(http.MethodGet, gets...),
		"create":  createT,
		"graphql": graphqlT,
	}
}

// checkTargets sends one request of each kind and fails unless it succeeds with a
// non-empty answer, or runs past the API's statement deadline (503 UNAVAILABLE, which the
// load then counts): a benchmark of error pages measures nothing.
func checkTargets(ctx context.Context, targets map[string]vegeta.Targeter) error {
	for _, kind := range kinds {
		var t vegeta.Target
		if err := targets[kind](&t); err != nil {
			return err
		}
		req, err := t.Request()
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			return fmt.Errorf("%s: %w", kind, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable && bytes.Contains(body, []byte("UNAVAILABLE")) {
			// Past the statement deadline: a result of the benchmark (counted as failures),
			// not a mistake in the request.
			continue
		}
		if resp.StatusCode/100 != 2 || bytes.Contains(body, []byte(`"errors"`)) {
			return fmt.Errorf("%s %s: %d %.300s", t.Method, t.URL, resp.StatusCode, body)
		}
		if kind != "healthz" && kind != "get" && kind != "create" && !bytes.Contains(body, []byte(`"total`)) {
			return fmt.Errorf("%s: no total in %.300s", kind, body)
		}
	}
	return nil
}

// sampleIDs returns up to 1,000 job ids spread over the table.
func sampleIDs(ctx context.Context, dbURL string) ([]string, error) {
	c, err := database.OpenWith(ctx, dbURL, database.Options{})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	ids, err := c.OcrInvoiceJob.Query().Order(ocrinvoicejob.ByID()).Select(ocrinvoicejob.FieldID).Strings(ctx)
	if err != nil {
		return nil, fmt.Errorf("sample ids: %w", err)
	}
	step := max(1, len(ids)/1000)
	var out []string
	for i := 0; i < len(ids); i += step {
		out = append(out, ids[i])
	}
	return out, nil
}

type serveProc struct {
	cmd     *exec.Cmd
	base    string
	logPath string
	done    chan struct{}
}

// startServe starts `bin serve` on a free port and waits for /readyz.
func startServe(ctx context.Context, bin, name, dbURL, redisURL, dir string) (*serveProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "serve-"+name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(abs, "serve")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"DATABASE_URL=" + dbURL, "REDIS_URL=" + redisURL,
		"OCRINVOICE_ADDR=127.0.0.1:" + strconv.Itoa(port),
		"OCRINVOICE_DATA_DIR=" + filepath.Join(dir, "data-"+name),
		// Every request is a local admin, and no per-client limit answers 429 to the
		// generator: the benchmark measures the server, not its throttles.
		"OCRINVOICE_AUTH=none", "OCRINVOICE_RATE_LIMIT=0", "OCRINVOICE_ANONYMOUS_RATE=0", "OCRINVOICE_QUERY_BUDGET=0",
		"OCRINVOICE_LOG_LEVEL=warn",
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s serve: %w", bin, err)
	}
	p := &serveProc{cmd: cmd, base: "http://127.0.0.1:" + strconv.Itoa(port), logPath: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(p.done) }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(p.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("serve exited at start-up (log: %s)", logPath)
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("serve not ready after 2m (log: %s)", logPath)
		}
	}
}

// stop asks serve to shut down (SIGINT) and kills it if it has not after 30 s.
func (p *serveProc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// startRedis runs a private redis-server (no persistence) on a free port.
func startRedis(ctx context.Context, dir string) (string, func(), error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start redis-server: %w", err)
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for i := 0; ; i++ {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return "redis://" + addr + "/0", stop, nil
		}
		if i == 100 || ctx.Err() != nil {
			stop()
			return "", nil, fmt.Errorf("redis-server on %s: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// createPGDatabase creates a database of its own on the server of admin and returns its
// URL and the function that drops it.
func createPGDatabase(ctx context.Context, admin string) (string, func(), error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, fmt.Errorf("-pg: %w", err)
	}
	db, err := sql.Open("postgres", admin)
	if err != nil {
		return "", nil, err
	}
	name := "benchscale_" + randomHex(6)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create database %s on %s: %w", name, redact(admin), err)
	}
	u.Path = "/" + name
	drop := func() {
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "benchscale: drop database %s: %v\n", name, err)
		}
		db.Close()
	}
	return u.String(), drop, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// rssSampler reads a process's resident memory (VmRSS) every 100 ms.
type rssSampler struct {
	pid                int
	mu                 sync.Mutex
	last, max, stepMax int64
	quit               chan struct{}
	wg                 sync.WaitGroup
}

func newRSSSampler(pid int) *rssSampler {
	r := &rssSampler{pid: pid, quit: make(chan struct{})}
	r.sample()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-r.quit:
				return
			case <-t.C:
				r.sample()
			}
		}
	}()
	return r
}

func (r *rssSampler) sample() {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", r.pid))
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return
			}
			r.mu.Lock()
			r.last = kb * 1024
			r.max, r.stepMax = max(r.max, r.last), max(r.stepMax, r.last)
			r.mu.Unlock()
			return
		}
	}
}

func (r *rssSampler) resetStep() {
	r.sample()
	r.mu.Lock()
	r.stepMax = r.last
	r.mu.Unlock()
}

func (r *rssSampler) stepPeak() int64 {
	r.sample()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stepMax
}

func (r *rssSampler) peak() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.max
}

func (r *rssSampler) current() int64 {
	r.sample()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

func (r *rssSampler) stop() {
	select {
	case <-r.quit:
	default:
		close(r.quit)
	}
	r.wg.Wait()
}

func dur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.3fms", float64(d)/1e6)
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }

// printMarkdown prints the results as the README's table: at c=1 the mean latency and
// its ratio to /healthz's; at the higher concurrencies the throughput and the ratio of
// /healthz's throughput to it (how many times dearer than the floor).
func printMarkdown(w io.Writer, o options, results []dbResult) {
	fmt.Fprintf(w, "\n%d jobs; each cell: c=1 mean latency, else requests/s; (×N) = N times the /healthz floor of the same column.\n\n", o.rows)
	head, sep := "| request |", "|---|"
	for _, r := range results {
		for _, c := range o.conc {
			head += fmt.Sprintf(" %s c=%d |", r.name, c)
			sep += "---|"
		}
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, sep)
	for _, kind := range kinds {
		line := "| " + kind + " |"
		for _, r := range results {
			for _, c := range o.conc {
				var floor, s *step
				for i := range r.steps {
					if r.steps[i].c == c && r.steps[i].kind == "healthz" {
						floor = &r.steps[i]
					}
					if r.steps[i].c == c && r.steps[i].kind == kind {
						s = &r.steps[i]
					}
				}
				if s == nil || floor == nil {
					line += " — |"
					continue
				}
				bad := ""
				if s.m.Success < 1 {
					bad = fmt.Sprintf(", %.0f%% ok", s.m.Success*100)
				}
				switch {
				case s.m.Success == 0:
					line += " no success |"
				case c == 1:
					line += fmt.Sprintf(" %s (×%.1f%s) |", dur(s.m.Latencies.Mean), ratio(float64(s.m.Latencies.Mean), float64(floor.m.Latencies.Mean)), bad)
				default:
					line += fmt.Sprintf(" %.0f/s (×%.1f%s) |", s.m.Throughput, ratio(floor.m.Throughput, s.m.Throughput), bad)
				}
			}
		}
		fmt.Fprintln(w, line)
	}
	line := "| serve RSS (start / peak / end) |"
	for _, r := range results {
		line += fmt.Sprintf(" %s / %s / %s |", mb(r.rssStart), mb(r.rssPeak), mb(r.rssEnd)) + strings.Repeat(" |", len(o.conc)-1)
	}
	fmt.Fprintln(w, line)
	line = "| seed time |"
	for _, r := range results {
		line += fmt.Sprintf(" %s |", r.seedTime.Round(time.Second)) + strings.Repeat(" |", len(o.conc)-1)
	}
	fmt.Fprintln(w, line)
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
