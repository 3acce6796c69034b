package worker

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker/fetch"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// TestMain re-executes the test binary with OMP_THREAD_LIMIT=1 when it is missing:
// OpenMP reads it when Tesseract's library loads, before any Go code runs.
func TestMain(m *testing.M) {
	if os.Getenv("OMP_THREAD_LIMIT") == "" {
		cmd := exec.Command(os.Args[0], os.Args[1:]...)
		cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				os.Exit(ee.ExitCode())
			}
			fmt.Fprintln(os.Stderr, "re-exec test binary with OMP_THREAD_LIMIT=1:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// env is one running pipeline: a private Redis, a database, a service publishing job
// events, an asynq server with the real handler, a hub receiving those events, and a
// loopback HTTP server with documents.
type env struct {
	svc  *jobs.Service
	hub  *progress.Hub
	docs *httptest.Server
	// tasks is the queue client of svc; handler is the real handler the server runs.
	tasks   *tasks.Client
	handler *Handler
	// startWorker starts the asynq server of an env made with envOptions.paused; it
	// does nothing when the server already runs.
	startWorker func()
	// redis is the env's private Redis, for an asynq.Inspector.
	redis asynq.RedisClientOpt
	// db is svc's database.
	db *ent.Client
}

func scanPage() *image.Gray {
	// A blank 300 DPI letter page: no text layer, so every page goes through OCR.
	img := image.NewGray(image.Rect(0, 0, 2550, 3300))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for x := 200; x < 2350; x++ { // a rule, so the page is not entirely empty
		img.SetGray(x, 400, color.Gray{Y: 0})
	}
	return img
}

// fixedDocs are the documents every env serves, built once per test binary: the six
// scanned pages take seconds to encode under the race detector.
var fixedDocs = sync.OnceValue(func() map[string][]byte {
	scanned := make([]testdocs.Page, 6)
	for i := range scanned {
		scanned[i] = testdocs.Page{Image: scanPage()}
	}
	return map[string][]byte{
		"/invoice.pdf": testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines}),
		"/corrupt.pdf": []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage"),
		"/empty.pdf":   {},
		"/slow.pdf":    testdocs.PDF(scanned...),
	}
})

// newEnv is the environment of the tests: two workers, a 20 ms queue poll and page
// progress written every millisecond, so that tests are quick and see every event.
func newEnv(t testing.TB, client *ent.Client, allow bool) *env {
	t.Helper()
	return newEnvWith(t, client, envOptions{allow: allow, concurrency: 2,
		taskCheckInterval: 20 * time.Millisecond, progressEvery: time.Millisecond})
}

// envOptions vary newEnvWith. A zero field takes the default of the library it feeds
// (asynq, ocr, the handler), which is also what the product runs with.
type envOptions struct {
	allow             bool                              // fetcher allows 127.0.0.1
	concurrency       int                               // asynq concurrency and OCR slots; 0: NumCPU
	taskCheckInterval time.Duration                     // asynq idle poll; 0: asynq's 1 s
	progressEvery     time.Duration                     // handler's page-progress throttle; 0: 500 ms
	logger            *slog.Logger                      // handler's logger; nil: slog.Default()
	files             map[string][]byte                 // served besides the fixed documents
	wrap              func(asynq.Handler) asynq.Handler // wraps the real handler when set
	// routes are served before files (and the fixed documents), for answers that
	// change from one request to the next.
	routes map[string]http.Handler
	// fetch adjusts the fetcher's options (MaxBytes, Resolver) after allow was applied.
	fetch func(*fetch.Options)
	// paused: the asynq server is not started until env.startWorker is called.
	paused bool
	// heartbeats: the handler keeps job heartbeats (50 ms refresh, 1 s TTL).
	heartbeats bool
}

// newEnvWith starts an env as o says; everything stops at the test's cleanup.
func newEnvWith(t testing.TB, client *ent.Client, o envOptions) *env {
	t.Helper()
	rs := redistest.Start(t)
	opt := asynq.RedisClientOpt{Addr: rs.Addr}
	qc := tasks.NewClient(opt)
	t.Cleanup(func() { _ = qc.Close() })
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rc.Close() })
	hub := progress.NewHub(rc, progress.HubOptions{Buffer: 256})
	t.Cleanup(func() { _ = hub.Close() })
	select {
	case <-hub.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("progress hub not subscribed")
	}
	svc := jobs.NewService(client, qc, jobs.Options{PricePerPage: jobs.DefaultPricePerPage,
		Events: progress.NewPublisher(rc, progress.PublisherOptions{})})
	if err := svc.EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}

	files := maps.Clone(fixedDocs())
	for p, b := range o.files {
		files[p] = b
	}
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rh, ok := o.routes[r.URL.Path]; ok {
			rh.ServeHTTP(w, r)
			return
		}
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(docs.Close)

	reader, err := ocr.NewReader(ocr.Config{Slots: o.concurrency})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reader.Close() })
	fo := fetch.Options{}
	if o.allow {
		fo.Allow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}
	if o.fetch != nil {
		o.fetch(&fo)
	}
	var beats *tasks.Heartbeats
	if o.heartbeats {
		beats = &tasks.Heartbeats{Redis: rc, Interval: 50 * time.Millisecond, TTL: time.Second}
	}
	handler := NewHandler(Config{Jobs: svc, Reader: reader, Fetcher: fetch.New(fo), ProgressEvery: o.progressEvery,
		Logger: o.logger, Heartbeats: beats})
	var h asynq.Handler = handler
	if o.wrap != nil {
		h = o.wrap(h)
	}
	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency:              o.concurrency,
		Queues:                   tasks.QueuePriorities(),
		TaskCheckInterval:        o.taskCheckInterval,
		DelayedTaskCheckInterval: 100 * time.Millisecond,
		RetryDelayFunc:           func(int, error, *asynq.Task) time.Duration { return 100 * time.Millisecond },
		LogLevel:                 asynq.ErrorLevel,
	})
	mux := asynq.NewServeMux()
	mux.Handle(tasks.TypeOCRInvoice, h)
	var once sync.Once
	start := func() {
		once.Do(func() {
			if err := srv.Start(mux); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(srv.Shutdown)
		})
	}
	if !o.paused {
		start()
	}
	return &env{svc: svc, hub: hub, docs: docs, tasks: qc, handler: handler, startWorker: start, redis: opt, db: client}
}

// events subscribes to every job's events; pass them to stream.
func (e *env) events(t testing.TB) <-chan progress.Event {
	t.Helper()
	ch, stop := e.hub.Subscribe(context.Background(), "")
	t.Cleanup(stop)
	return ch
}

// stream returns the events of job id up to its first terminal one.
func stream(t testing.TB, ch <-chan progress.Event, id string, limit time.Duration) []progress.Event {
	t.Helper()
	var out []progress.Event
	deadline := time.After(limit)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("event stream closed after %+v", out)
			}
			if ev.JobID != id {
				continue
			}
			out = append(out, ev)
			if ev.Terminal() {
				return out
			}
		case <-deadline:
			t.Fatalf("no terminal event for job %s within %s; got %+v", id, limit, out)
		}
	}
}

// fromStart drops the events published before the first run started (the queued event
// of the job's creation, or of its retry): those of the worker's run remain.
func fromStart(evs []progress.Event) []progress.Event {
	for i, ev := range evs {
		if ev.Status == "processing" {
			return evs[i:]
		}
	}
	return nil
}

func (e *env) create(t testing.TB, number, path string) *ent.OcrInvoiceJob {
	t.Helper()
	j, err := e.svc.CreateJob(context.Background(), jobs.JobInput{
		JobNumber: number, DocumentName: strings.TrimPrefix(path, "/"), DocumentURL: e.docs.URL + path, Template: "generic",
	})
	if err != nil {
		t.Fatalf("create job: %v", err)
	}
	// Queued, or already taken by a worker that was quicker than CreateJob's read-back.
	if j.Status == ocrinvoicejob.StatusCreated {
		t.Fatalf("new job is %s: it was not enqueued", j.Status)
	}
	return j
}

// wait polls the job until it reaches a terminal state or the limit passes.
func (e *env) wait(t testing.TB, id string, limit time.Duration) *ent.OcrInvoiceJob {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		j, err := e.svc.GetJob(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		switch j.Status {
		case ocrinvoicejob.StatusCompleted, ocrinvoicejob.StatusFailed, ocrinvoicejob.StatusCancelled:
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after %s (progress %+v, log %q)", id, j.Status, limit, j.Progress, j.ErrorLog)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPipelineCompletes(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, true)
		j := e.wait(t, e.create(t, "OK-1", "/invoice.pdf").ID, 60*time.Second)
		if j.Status != ocrinvoicejob.StatusCompleted {
			t.Fatalf("status %s, log %q", j.Status, j.ErrorLog)
		}
		inv := j.ExtractedData.Invoice
		if inv.Number != "INV-2024-0042" || inv.Date != "2024-03-15" || inv.Amounts.Total == nil || *inv.Amounts.Total != 238 {
			t.Errorf("extracted %+v", inv)
		}
		if j.DocumentInfo == nil || j.DocumentInfo.Pages != 1 || j.DocumentInfo.Format != "pdf" {
			t.Errorf("documentInfo %+v", j.DocumentInfo)
		}
		if j.Progress.Percentage != 100 || j.StartedAt == nil || j.CompletedAt == nil || j.ProcessingTime == nil {
			t.Errorf("progress %+v startedAt %v completedAt %v processingTime %v", j.Progress, j.StartedAt, j.CompletedAt, j.ProcessingTime)
		}
		if j.Cost <= 0 || j.DocumentSha256 == "" || j.Confidence == nil || j.ValidationResults == nil {
			t.Errorf("cost %v sha %q confidence %v validation %v", j.Cost, j.DocumentSha256, j.Confidence, j.ValidationResults)
		}
		// The evidence of each value is stored with the job: where the total is printed.
		ev, ok := j.Evidence["invoice.amounts.total"]
		if !ok || ev.Page != 1 || ev.Box == nil || ev.Source != "text" || !strings.Contains(ev.Text, "238") {
			t.Errorf("evidence of the total: %+v (ok %v); all: %v", ev, ok, j.Evidence)
		}
		if j.MachineData == nil || j.MachineData.Invoice.Number != inv.Number || j.ReviewStatus != ocrinvoicejob.ReviewStatusUnreviewed {
			t.Errorf("machine data %v, review status %s", j.MachineData, j.ReviewStatus)
		}
	})
}

// TestPipelineEventStream: a job run end to end publishes processing first, completed
// (100 %) last, and percentages that never go down, every event naming the job's owner;
// a failed job's last event carries the reason.
func TestPipelineEventStream(t *testing.T) {
	e := newEnv(t, databasetest.Open(t), true)
	ch := e.events(t)
	j := e.create(t, "EV-OK", "/slow.pdf") // six scanned pages: page events too
	evs := fromStart(stream(t, ch, j.ID, 90*time.Second))
	if first := evs[0]; first.Status != "processing" || first.Progress.Percentage != 0 {
		t.Errorf("first event %+v, want processing at 0%%", first)
	}
	if last := evs[len(evs)-1]; last.Status != "completed" || last.Progress.Percentage != 100 || last.Message != "" {
		t.Errorf("last event %+v, want completed at 100%%", last)
	}
	pages := 0
	for i, ev := range evs {
		if i > 0 && ev.Progress.Percentage < evs[i-1].Progress.Percentage {
			t.Errorf("percentage went down: %+v then %+v", evs[i-1], ev)
		}
		if i < len(evs)-1 && ev.Status != "processing" {
			t.Errorf("event %d has status %s before the end", i, ev.Status)
		}
		if strings.HasPrefix(ev.Progress.CurrentStep, "read page") {
			pages++
		}
		// Scoped subscribers skip other owners' events by it, without reading the job.
		if ev.Owner == nil || *ev.Owner != j.CreatedBy {
			t.Errorf("event %d (%s) has owner %v, want the job's createdBy %q", i, ev.Progress.CurrentStep, ev.Owner, j.CreatedBy)
		}
	}
	for _, step := range steps {
		found := false
		for _, ev := range evs {
			found = found || ev.Progress.CurrentStep == step
		}
		if !found {
			t.Errorf("no event for step %q in %+v", step, evs)
		}
	}
	if pages == 0 {
		t.Errorf("no page progress events in %+v", evs)
	}

	f := e.create(t, "EV-FAIL", "/missing.pdf")
	evs = stream(t, ch, f.ID, 30*time.Second)
	if last := evs[len(evs)-1]; last.Status != "failed" || !strings.Contains(last.Message, "404") {
		t.Errorf("last event of a failing job %+v, want failed naming 404", last)
	}
}

func TestPipelineFailures(t *testing.T) {
	c := databasetest.Open(t)
	e := newEnv(t, c, true)
	closed := newEnv(t, databasetest.Open(t), false)
	cases := []struct {
		name, path, want string
		e                *env
	}{
		{"not found", "/missing.pdf", "404", e},
		{"corrupt pdf", "/corrupt.pdf", "corrupt", e},
		{"empty file", "/empty.pdf", "empty", e},
		{"loopback refused", "/invoice.pdf", "loopback", closed},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			j := tc.e.wait(t, tc.e.create(t, fmt.Sprintf("FAIL-%d", i), tc.path).ID, 30*time.Second)
			if j.Status != ocrinvoicejob.StatusFailed {
				t.Fatalf("status %s, want failed", j.Status)
			}
			if !strings.Contains(strings.ToLower(j.ErrorLog), tc.want) {
				t.Errorf("errorLog %q does not mention %q", j.ErrorLog, tc.want)
			}
			if j.RetryCount != 0 {
				t.Errorf("permanent failure was retried %d times", j.RetryCount)
			}
		})
	}
}

func TestPipelineCancelWhileProcessing(t *testing.T) {
	e := newEnv(t, databasetest.Open(t), true)
	ctx := context.Background()
	ch := e.events(t)
	j := e.create(t, "SLOW-1", "/slow.pdf")
	deadline := time.Now().Add(30 * time.Second)
	for {
		cur, err := e.svc.GetJob(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cur.Status == ocrinvoicejob.StatusProcessing && strings.HasPrefix(cur.Progress.CurrentStep, "read") {
			break
		}
		if time.Now().After(deadline) || cur.Status != ocrinvoicejob.StatusQueued && cur.Status != ocrinvoicejob.StatusProcessing {
			t.Fatalf("job did not reach the read step: %s %+v", cur.Status, cur.Progress)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := e.svc.CancelJob(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // long enough for the handler to reach its end
	got, err := e.svc.GetJob(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != ocrinvoicejob.StatusCancelled || got.ExtractedData != nil {
		t.Fatalf("after cancel: status %s, extracted %v", got.Status, got.ExtractedData)
	}
	// The cancel published the cancelled event; the worker that stopped publishes no
	// second one, nor progress after it.
	evs := stream(t, ch, j.ID, 5*time.Second)
	if last := evs[len(evs)-1]; last.Status != "cancelled" {
		t.Errorf("last event %+v, want cancelled", last)
	}
	select {
	case ev := <-ch:
		if ev.JobID == j.ID {
			t.Errorf("event after the cancel: %+v", ev)
		}
	case <-time.After(500 * time.Millisecond):
	}
}
