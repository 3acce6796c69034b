package worker

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker/fetch"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// The tests of this file run every failure path of the pipeline end to end: a private
// Redis, a SQLite file, the asynq server with the real handler, Tesseract, and documents
// from the loopback test server (the only address the fetcher's allow-list opens). Each
// test has an env of its own, so they run in parallel.

// newPathEnv is newEnv (fetcher allowing 127.0.0.1, two workers, quick polls) on a
// fresh SQLite database, with o's routes, fetch and paused. It makes the test parallel
// once the database is migrated: ent's migration writes package-level schema tables,
// so two migrations must not run at once.
func newPathEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	return newPathEnvOn(t, databasetest.Open(t), o)
}

// newPathEnvOn is newPathEnv on db, migrated before.
func newPathEnvOn(t *testing.T, db *ent.Client, o envOptions) *env {
	t.Helper()
	t.Parallel()
	o.allow, o.concurrency = true, 2
	o.taskCheckInterval, o.progressEvery = 20*time.Millisecond, time.Millisecond
	return newEnvWith(t, db, o)
}

// createURL creates a job reading rawURL with the generic template.
func (e *env) createURL(t *testing.T, number, rawURL string) *ent.OcrInvoiceJob {
	t.Helper()
	j, err := e.svc.CreateJob(context.Background(), jobs.JobInput{JobNumber: number, DocumentName: "invoice.pdf", DocumentURL: rawURL, Template: "generic"})
	if err != nil {
		t.Fatalf("create job for %s: %v", rawURL, err)
	}
	// Queued, or already taken by a worker that was quicker than CreateJob's read-back.
	if j.Status == ocrinvoicejob.StatusCreated {
		t.Fatalf("new job is %s: it was not enqueued", j.Status)
	}
	return j
}

// get reads job id.
func (e *env) get(t *testing.T, id string) *ent.OcrInvoiceJob {
	t.Helper()
	j, err := e.svc.GetJob(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// hasTask tells whether Redis holds the task of job id, in any queue and state.
func (e *env) hasTask(t *testing.T, id string) bool {
	t.Helper()
	ok, err := e.tasks.HasJobTask(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// wantFailedAtOnce checks that j failed on its first attempt (no retry) with one
// errorLog line naming want.
func wantFailedAtOnce(t *testing.T, j *ent.OcrInvoiceJob, want string) {
	t.Helper()
	if j.Status != ocrinvoicejob.StatusFailed {
		t.Fatalf("status %s (log %q), want failed", j.Status, j.ErrorLog)
	}
	if !strings.Contains(j.ErrorLog, want) {
		t.Errorf("errorLog %q does not name %q", j.ErrorLog, want)
	}
	if j.RetryCount != 0 || strings.Count(j.ErrorLog, "\n") != 0 {
		t.Errorf("permanent failure was retried: retryCount %d, errorLog %q", j.RetryCount, j.ErrorLog)
	}
	if j.ExtractedData != nil || j.CompletedAt == nil {
		t.Errorf("failed job: extracted %v, completedAt %v", j.ExtractedData, j.CompletedAt)
	}
}

// wantLogLine checks that line is "RFC 3339 time, space, reason" with a reason naming want.
func wantLogLine(t *testing.T, line, want string) {
	t.Helper()
	at, reason, _ := strings.Cut(line, " ")
	if _, err := time.Parse(time.RFC3339, at); err != nil {
		t.Errorf("errorLog line %q does not start with an RFC 3339 time: %v", line, err)
	}
	if !strings.Contains(reason, want) {
		t.Errorf("errorLog line %q does not name %q", line, want)
	}
}

// pngHeader returns a PNG whose IHDR claims w x h 8-bit gray pixels, then a tiny IDAT
// (one compressed row of the real size would be w+1 bytes; it holds 16) and IEND: the
// header of a decompression bomb, without the bomb.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := make([]byte, 13) // width, height, bit depth 8, gray, deflate, no filter, no interlace
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8] = 8
	chunk("IHDR", ihdr)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	_, _ = zw.Write(make([]byte, 16))
	_ = zw.Close()
	chunk("IDAT", z.Bytes())
	chunk("IEND", nil)
	return b.Bytes()
}

// TestPipelinePixelBomb: an image whose header claims 50,000 x 50,000 pixels fails at
// once naming the pixel limit, without its pixels ever being allocated.
func TestPipelinePixelBomb(t *testing.T) {
	bomb := pngHeader(50_000, 50_000)
	if f, err := ocr.DetectFormat(bomb); err != nil || f != ocr.FormatPNG {
		t.Fatalf("fixture detected as %q, %v", f, err)
	}
	e := newPathEnv(t, envOptions{files: map[string][]byte{"/bomb.png": bomb}})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	j := e.wait(t, e.create(t, "BOMB-1", "/bomb.png").ID, 15*time.Second)
	took := time.Since(start)
	runtime.ReadMemStats(&after)

	wantFailedAtOnce(t, j, fmt.Sprintf("50000x50000 = 2500000000 pixels, the limit is %d", ocr.DefaultMaxPixels))
	// Decoding would allocate the 2.5 GB gray image before finding the data missing.
	// Other tests running in parallel allocate too, but far less than this.
	if n := after.TotalAlloc - before.TotalAlloc; n > 512<<20 {
		t.Errorf("the run allocated %d MiB: the image was decoded", n>>20)
	}
	if took > 10*time.Second {
		t.Errorf("refusing the bomb took %s", took)
	}
}

// TestPipelineOversizedDocument: a document over the fetcher's MaxBytes fails at once
// naming the limit, whether the server declares its length or streams it chunked.
func TestPipelineOversizedDocument(t *testing.T) {
	const limit = 64 << 10
	// A real invoice padded to 100 KiB after its end: without the limit the job completes.
	doc := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	doc = append(doc, bytes.Repeat([]byte{'\n'}, 100<<10-len(doc))...)
	e := newPathEnv(t, envOptions{
		fetch: func(o *fetch.Options) { o.MaxBytes = limit },
		routes: map[string]http.Handler{
			"/declared.pdf": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", fmt.Sprint(len(doc)))
				_, _ = w.Write(doc)
			}),
			"/chunked.pdf": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for b := doc; len(b) > 0; b = b[min(len(b), 4096):] {
					if _, err := w.Write(b[:min(len(b), 4096)]); err != nil {
						return // the fetcher stopped reading
					}
					w.(http.Flusher).Flush()
				}
			}),
		},
	})
	for _, tc := range []struct{ name, path, want string }{
		{"declared length", "/declared.pdf", fmt.Sprintf("document is %d bytes, over the %d-byte limit", len(doc), limit)},
		{"chunked", "/chunked.pdf", fmt.Sprintf("document is over the %d-byte limit", limit)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j := e.wait(t, e.create(t, "BIG-"+tc.name, tc.path).ID, 30*time.Second)
			wantFailedAtOnce(t, j, tc.want)
		})
	}
}

// stubResolver resolves the names it maps and fails every other one: no DNS query ever
// leaves the test.
type stubResolver map[string][]netip.Addr

func (s stubResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if ips, ok := s[host]; ok {
		return append([]netip.Addr(nil), ips...), nil
	}
	return nil, fmt.Errorf("lookup %s: no such host (test resolver)", host)
}

// TestPipelinePrivateAddresses: a name resolving to a private address, the cloud
// metadata address, and a redirect from an allowed server to it fail at once naming the
// rule. The guard refuses before dialling, so no packet leaves loopback.
func TestPipelinePrivateAddresses(t *testing.T) {
	const metadata = "http://169.254.169.254/latest/meta-data/"
	e := newPathEnv(t, envOptions{
		fetch: func(o *fetch.Options) {
			o.Resolver = stubResolver{
				"invoices.corp.example": {netip.MustParseAddr("10.0.0.5")},
				// A literal 169.254.x address is already refused when the job is created;
				// a name resolving to it gets past that and must meet the guard.
				"metadata.corp.example": {netip.MustParseAddr("169.254.169.254")},
			}
		},
		routes: map[string]http.Handler{"/to-metadata": http.RedirectHandler(metadata, http.StatusFound)},
	})
	for _, tc := range []struct{ name, url, want string }{
		{"name resolving to 10.x", "http://invoices.corp.example/invoice.pdf", "address 10.0.0.5 is private (RFC 1918)"},
		{"name resolving to cloud metadata", "http://metadata.corp.example/latest/meta-data/", "address 169.254.169.254 is link-local"},
		{"redirect to cloud metadata", e.docs.URL + "/to-metadata", "address 169.254.169.254 is link-local"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j := e.wait(t, e.createURL(t, "SSRF-"+tc.name, tc.url).ID, 30*time.Second)
			wantFailedAtOnce(t, j, tc.want)
		})
	}
}

// nxResolver answers every name as a DNS server answers NXDOMAIN.
type nxResolver struct{}

func (nxResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// TestPipelineUnknownHost: a document on a host name that does not exist (NXDOMAIN)
// fails at once, saying so, instead of being retried for minutes.
func TestPipelineUnknownHost(t *testing.T) {
	e := newPathEnv(t, envOptions{fetch: func(o *fetch.Options) { o.Resolver = nxResolver{} }})
	j := e.wait(t, e.createURL(t, "NX-1", "https://invoices.no-such-host.invalid/invoice.pdf").ID, 30*time.Second)
	wantFailedAtOnce(t, j, "resolve invoices.no-such-host.invalid: no such host")
}

// eventsUntil collects the events of every job until job id's first terminal one.
func eventsUntil(t *testing.T, ch <-chan progress.Event, id string, limit time.Duration) map[string][]progress.Event {
	t.Helper()
	out := map[string][]progress.Event{}
	deadline := time.After(limit)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("event stream closed after %+v", out)
			}
			out[ev.JobID] = append(out[ev.JobID], ev)
			if ev.JobID == id && ev.Terminal() {
				return out
			}
		case <-deadline:
			t.Fatalf("no terminal event for job %s within %s; got %+v", id, limit, out)
		}
	}
}

// wantNeverRan checks that job id is still cancelled and was never started.
func (e *env) wantNeverRan(t *testing.T, id string) {
	t.Helper()
	j := e.get(t, id)
	if j.Status != ocrinvoicejob.StatusCancelled || j.StartedAt != nil || j.ExtractedData != nil || j.DocumentSha256 != "" {
		t.Errorf("cancelled job: status %s, startedAt %v, extracted %v, sha %q", j.Status, j.StartedAt, j.ExtractedData, j.DocumentSha256)
	}
}

// TestPipelineCancelWhileQueued: cancelling a queued job removes its task from Redis;
// a worker started afterwards never runs it.
func TestPipelineCancelWhileQueued(t *testing.T) {
	ctx := context.Background()
	e := newPathEnv(t, envOptions{paused: true})
	j := e.create(t, "Q-CANCEL", "/invoice.pdf")
	if !e.hasTask(t, j.ID) {
		t.Fatal("queued job has no task in Redis")
	}
	c, err := e.svc.CancelJob(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != ocrinvoicejob.StatusCancelled {
		t.Fatalf("after cancel: %s", c.Status)
	}
	if e.hasTask(t, j.ID) {
		t.Fatal("the task of the cancelled job is still in Redis")
	}

	ch := e.events(t)
	e.startWorker()
	// A job queued after the cancelled one: once the worker has finished it, it has
	// been through the queue where the cancelled job's task was.
	probe := e.create(t, "Q-PROBE", "/missing.pdf")
	evs := eventsUntil(t, ch, probe.ID, 30*time.Second)
	// The cancel's own event may arrive after the subscription; a run would start with
	// a processing one.
	if got := fromStart(evs[j.ID]); len(got) != 0 {
		t.Errorf("the worker ran the cancelled job: events %+v", got)
	}
	e.wantNeverRan(t, j.ID)
}

// TestPipelineCancelledJobRedelivered: a task of a cancelled job delivered again (a
// duplicate enqueue, asynq's at-least-once delivery) is dropped: the job stays
// cancelled, without results.
func TestPipelineCancelledJobRedelivered(t *testing.T) {
	ctx := context.Background()
	e := newPathEnv(t, envOptions{paused: true})

	t.Run("direct call", func(t *testing.T) { // first: the worker is not running yet
		j := e.create(t, "REDELIVER-D", "/invoice.pdf")
		if _, err := e.svc.CancelJob(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		task, _, err := tasks.NewOCRInvoiceTask(j.ID, string(j.Priority))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.handler.ProcessTask(ctx, task); err != nil {
			t.Errorf("ProcessTask of a cancelled job: %v, want nil (task dropped)", err)
		}
		e.wantNeverRan(t, j.ID)
	})

	t.Run("through the queue", func(t *testing.T) {
		j := e.create(t, "REDELIVER-Q", "/invoice.pdf")
		if _, err := e.svc.CancelJob(ctx, j.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.tasks.EnqueueJob(ctx, j.ID, string(j.Priority)); err != nil {
			t.Fatal(err)
		}
		if !e.hasTask(t, j.ID) {
			t.Fatal("re-enqueued task is not in Redis")
		}
		ch := e.events(t)
		e.startWorker()
		deadline := time.Now().Add(30 * time.Second)
		for e.hasTask(t, j.ID) {
			if time.Now().After(deadline) {
				t.Fatal("the worker did not take the re-enqueued task")
			}
			time.Sleep(20 * time.Millisecond)
		}
		// The task is deleted when the handler has returned: a run that wrongly started
		// has published its events by then.
		probe := e.create(t, "REDELIVER-PROBE", "/missing.pdf")
		if got := eventsUntil(t, ch, probe.ID, 60*time.Second)[j.ID]; len(got) != 0 {
			t.Errorf("the worker ran the cancelled job: events %+v", got)
		}
		e.wantNeverRan(t, j.ID)
	})
}

// flaky answers 503 to its first failures requests and serves doc afterwards.
type flaky struct {
	doc      []byte
	failures int64
	hits     atomic.Int64
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.hits.Add(1) <= f.failures {
		http.Error(w, "try again later", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write(f.doc)
}

// TestPipelineTransientFailure: a 503 is retried (the job goes back to queued with the
// attempt logged) and the job completes on the next attempt; a server that keeps
// answering 503 fails the job after the last retry, each attempt logged.
func TestPipelineTransientFailure(t *testing.T) {
	doc := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	once := &flaky{doc: doc, failures: 1}
	always := &flaky{doc: doc, failures: 1 << 30}
	e := newPathEnv(t, envOptions{routes: map[string]http.Handler{"/once.pdf": once, "/always.pdf": always}})

	t.Run("then success", func(t *testing.T) {
		ch := e.events(t)
		id := e.create(t, "FLAKY-1", "/once.pdf").ID
		evs := fromStart(eventsUntil(t, ch, id, 60*time.Second)[id])
		j := e.get(t, id)
		if j.Status != ocrinvoicejob.StatusCompleted || j.ExtractedData == nil || j.ExtractedData.Invoice.Number != "INV-2024-0042" {
			t.Fatalf("status %s (log %q), extracted %v; want completed", j.Status, j.ErrorLog, j.ExtractedData)
		}
		if j.RetryCount != 1 || once.hits.Load() != 2 {
			t.Errorf("retryCount %d after %d downloads, want 1 after 2", j.RetryCount, once.hits.Load())
		}
		// The completed attempt cleared errorLog; the failed one is in attempts.
		if j.ErrorLog != "" {
			t.Errorf("errorLog %q after the job completed, want empty", j.ErrorLog)
		}
		if n := len(j.Attempts); n != 2 || j.Attempts[0].Outcome != "retry" || !strings.Contains(j.Attempts[0].Error, "HTTP 503") || j.Attempts[1].Outcome != "completed" {
			t.Errorf("attempts %+v, want the failed attempt (HTTP 503, retry) then the completed one", j.Attempts)
		}
		// processing, failed attempt published as queued with its reason, processing again, completed.
		var statuses []string
		for _, ev := range evs {
			if len(statuses) == 0 || statuses[len(statuses)-1] != ev.Status {
				statuses = append(statuses, ev.Status)
			}
			if ev.Status == "queued" && !strings.Contains(ev.Message, "HTTP 503") {
				t.Errorf("retry event %+v does not carry the reason", ev)
			}
		}
		if got := strings.Join(statuses, " "); got != "processing queued processing completed" {
			t.Errorf("statuses %q, want processing queued processing completed", got)
		}
	})

	t.Run("retries exhausted", func(t *testing.T) {
		j := e.wait(t, e.create(t, "FLAKY-2", "/always.pdf").ID, 60*time.Second)
		if j.Status != ocrinvoicejob.StatusFailed {
			t.Fatalf("status %s (log %q), want failed", j.Status, j.ErrorLog)
		}
		attempts := tasks.MaxRetry + 1
		if j.RetryCount != tasks.MaxRetry || always.hits.Load() != int64(attempts) {
			t.Errorf("retryCount %d after %d downloads, want %d after %d", j.RetryCount, always.hits.Load(), tasks.MaxRetry, attempts)
		}
		lines := strings.Split(j.ErrorLog, "\n")
		if len(lines) != attempts {
			t.Errorf("errorLog %q, want %d lines", j.ErrorLog, attempts)
		}
		for _, l := range lines {
			wantLogLine(t, l, "HTTP 503")
		}
		if j.CompletedAt == nil {
			t.Error("failed job has no completedAt")
		}
	})
}

// TestPipelineRetryAfterFailure: a job that failed permanently (404) and is retried
// once the document exists goes queued -> processing -> completed with retryCount
// incremented; RetryJob clears the previous run's results and timings, and the completed
// run clears errorLog while attempts keep the failed run.
func TestPipelineRetryAfterFailure(t *testing.T) {
	ctx := context.Background()
	doc := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	var available atomic.Bool
	e := newPathEnv(t, envOptions{routes: map[string]http.Handler{
		"/later.pdf": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !available.Load() {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write(doc)
		}),
	}})
	ch := e.events(t)
	id := e.create(t, "LATER-1", "/later.pdf").ID
	eventsUntil(t, ch, id, 30*time.Second) // the first run's, ending with failed
	failed := e.get(t, id)
	wantFailedAtOnce(t, failed, "404")

	available.Store(true)
	r, err := e.svc.RetryJob(ctx, failed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != ocrinvoicejob.StatusQueued || r.RetryCount != 1 {
		t.Errorf("after RetryJob: status %s retryCount %d, want queued 1", r.Status, r.RetryCount)
	}
	if r.StartedAt != nil || r.CompletedAt != nil || r.ProcessingTime != nil || r.Progress.Percentage != 0 || r.ExtractedData != nil {
		t.Errorf("after RetryJob the previous run is not cleared: startedAt %v completedAt %v processingTime %v progress %+v",
			r.StartedAt, r.CompletedAt, r.ProcessingTime, r.Progress)
	}
	evs := fromStart(eventsUntil(t, ch, failed.ID, 60*time.Second)[failed.ID])
	if first, last := evs[0], evs[len(evs)-1]; first.Status != "processing" || last.Status != "completed" {
		t.Errorf("events of the retried run %+v, want processing first and completed last", evs)
	}
	j := e.get(t, failed.ID)
	if j.Status != ocrinvoicejob.StatusCompleted || j.ExtractedData == nil || j.ExtractedData.Invoice.Number != "INV-2024-0042" {
		t.Fatalf("retried job: status %s (log %q), extracted %v", j.Status, j.ErrorLog, j.ExtractedData)
	}
	if j.RetryCount != 1 {
		t.Errorf("retryCount %d, want 1", j.RetryCount)
	}
	if j.StartedAt == nil || j.CompletedAt == nil || !j.StartedAt.After(*failed.CompletedAt) || j.DocumentSha256 == "" {
		t.Errorf("retried run: startedAt %v completedAt %v (first run ended %v), sha %q", j.StartedAt, j.CompletedAt, failed.CompletedAt, j.DocumentSha256)
	}
	// The completed run cleared errorLog; the failed one stays in attempts.
	if j.ErrorLog != "" {
		t.Errorf("errorLog %q after the retried run completed, want empty", j.ErrorLog)
	}
	if n := len(j.Attempts); n != 2 || j.Attempts[0].Outcome != "failed" || !strings.Contains(j.Attempts[0].Error, "404") || j.Attempts[1].Outcome != "completed" {
		t.Errorf("attempts %+v, want the failed run (404) then the completed one", j.Attempts)
	}
	// The completed event is published before the handler returns, asynq deletes the
	// task after: give it a moment.
	for deadline := time.Now().Add(5 * time.Second); e.hasTask(t, j.ID); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Error("the completed job's task is still in Redis")
			break
		}
	}
}

// lateDelete is the queue client as RetryJob sees it when the job's previous task is
// still active at that moment: the worker has written "failed" (and published it) but
// asynq archives the task only after ProcessTask returned. The delete finds the task
// active and asks it to stop, which changes nothing any more; here it does nothing.
type lateDelete struct{ *tasks.Client }

func (lateDelete) DeleteJobTask(context.Context, string, string) error { return nil }

// TestPipelineRetryReplacesFinishedTask: a job retried while its failed task is still
// in Redis (active, then archived) runs again: the enqueue replaces a task that will
// not run any more instead of taking it for "already queued".
func TestPipelineRetryReplacesFinishedTask(t *testing.T) {
	ctx := context.Background()
	doc := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	var available atomic.Bool
	db := databasetest.Open(t)
	e := newPathEnvOn(t, db, envOptions{routes: map[string]http.Handler{
		"/later.pdf": http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !available.Load() {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write(doc)
		}),
	}})
	svc := jobs.NewService(db, lateDelete{e.tasks}, jobs.Options{})
	failed := e.wait(t, e.create(t, "LATE-1", "/later.pdf").ID, 30*time.Second)
	wantFailedAtOnce(t, failed, "404")

	available.Store(true)
	r, err := svc.RetryJob(ctx, failed.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The worker may take the task before RetryJob reads the job back.
	if r.Status != ocrinvoicejob.StatusQueued && r.Status != ocrinvoicejob.StatusProcessing && r.Status != ocrinvoicejob.StatusCompleted {
		t.Fatalf("after RetryJob: %s", r.Status)
	}
	j := e.wait(t, failed.ID, 30*time.Second)
	if j.Status != ocrinvoicejob.StatusCompleted || j.RetryCount != 1 {
		t.Fatalf("retried job: status %s retryCount %d (log %q), want completed 1", j.Status, j.RetryCount, j.ErrorLog)
	}
}
