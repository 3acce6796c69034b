package worker

// Benchmarks of the job pipeline (`make bench`; alone:
// go test -run '^$' -bench 'Pipeline|ExtractFloor|QueueLatency' -benchtime 20x ./worker/).
//
//   - BenchmarkPipelineThroughput pushes b.N jobs through the product's path:
//     jobs.Service.CreateJob (SQLite insert, enqueue on a private redis-server), an
//     asynq server running the real Handler with the worker's concurrency (NumCPU) and
//     the product's queue poll (tasks.TaskCheckInterval), each task fetching its
//     document from a loopback HTTP server, reading its text layer (pdfinfo,
//     pdftotext), extracting, writing progress and results to SQLite and publishing
//     events. The clock runs from the moment every worker slot holds a job (the first
//     NumCPU jobs are created untimed and held at the handler's door) to the last
//     "completed" event; the other jobs are created, as the API would, while the
//     first ones run. So the figure excludes the idle poll before the first task is
//     taken, which BenchmarkQueueLatency measures.
//   - BenchmarkExtractFloor reads and extracts the same documents with the library
//     alone (ocr.Reader.ReadBytes + ExtractDocument, the calls Handler.run makes, with
//     the built-in template's options), NumCPU documents at a time.
//   - BenchmarkQueueLatency measures how long a job waits in the queue when it
//     reaches an idle worker: from CreateJob returning to the handler being called
//     (which calls StartProcessing at once), as p50-ms and p99-ms.
//
// Reading the ratio: both throughput benchmarks report s/job (wall time per job at
// NumCPU concurrency, the same figure as ns/op) and jobs/s. Pipeline s/job divided by
// floor s/job is what the service costs on top of reading and extracting: 1.0 would
// mean queue, fetch, database and events are free; 2.0 that they take as long as the
// work itself. cpu-s/job (CPU of this process and of its finished children such as
// pdftotext; the redis-server child is still running, so not counted) tells whether
// the machine was busy with something else: when wall s/job rises and cpu-s/job does
// not, the figures were taken on a shared, loaded machine. The end of a pipeline run
// has fewer jobs than slots in flight; use -benchtime 20x or more to amortise it.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os/exec"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// benchDoc is a document the benchmarks process, served at path by the env's server.
type benchDoc struct {
	path string
	data []byte
}

// benchDocuments returns four different synthetic invoices with a text layer: other
// vendors, numbers, dates and 2 to 11 line items; the last one has a second page of
// terms.
func benchDocuments() []benchDoc {
	vendors := []struct{ name, addr, vat, currency string }{
		{"ACME Office Supplies GmbH", "Hauptstrasse 1, 10115 Berlin, Germany", "DE136695976", "EUR"},
		{"Nordwind Logistik AG", "Hafenweg 12, 20457 Hamburg, Germany", "DE811569869", "EUR"},
		{"Blue Harbor Trading Ltd", "12 Quay Street, Bristol BS1 4DJ, United Kingdom", "GB980780684", "GBP"},
		{"Studio Rossi S.r.l.", "Via Roma 8, 20121 Milano, Italy", "IT00743110157", "EUR"},
	}
	docs := make([]benchDoc, len(vendors))
	for k, v := range vendors {
		lines := []string{
			v.name, v.addr, "VAT ID: " + v.vat, "",
			"INVOICE",
			fmt.Sprintf("Invoice No.: INV-2024-%04d", 101+k*37),
			fmt.Sprintf("Invoice Date: %02d.0%d.2024", 3+k*6, 2+k),
			fmt.Sprintf("Due Date: %02d.0%d.2024", 3+k*6, 3+k),
			"",
			"Bill to:", "Globex Corporation", "Market Street 5, 80331 Munich", "",
			"Description          Qty    Unit Price     Amount",
		}
		var subtotal float64
		for i := range 2 + 3*k {
			qty, unit := 1+i%4, 12.5*float64(i+1)
			subtotal += float64(qty) * unit
			lines = append(lines, fmt.Sprintf("Item %-15s %d      %.2f          %.2f", fmt.Sprintf("no. %d", i+1), qty, unit, float64(qty)*unit))
		}
		tax := subtotal * 0.19
		lines = append(lines, "",
			fmt.Sprintf("Subtotal: %.2f %s", subtotal, v.currency),
			fmt.Sprintf("VAT 19%%: %.2f %s", tax, v.currency),
			fmt.Sprintf("Total: %.2f %s", subtotal+tax, v.currency))
		pages := []testdocs.Page{{Lines: lines}}
		if k == len(vendors)-1 {
			pages = append(pages, testdocs.Page{Lines: []string{
				"Terms and conditions", "",
				"Payment within 30 days of the invoice date without deduction.",
				"Goods remain our property until paid in full.",
				"Place of jurisdiction: Milano.",
			}})
		}
		docs[k] = benchDoc{path: fmt.Sprintf("/bench-%d.pdf", k+1), data: testdocs.PDF(pages...)}
	}
	return docs
}

// needTools skips the benchmark when a program it runs is not installed.
func needTools(b *testing.B, names ...string) {
	b.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			b.Skipf("%s is not installed", n)
		}
	}
}

// benchEnv starts the pipeline as the product runs it (NumCPU workers, the product's
// queue poll, default progress throttle), serving docs; the handler's logs are
// formatted and discarded, as a worker logging at info would format them.
func benchEnv(b *testing.B, docs []benchDoc, wrap func(asynq.Handler) asynq.Handler) *env {
	b.Helper()
	files := map[string][]byte{}
	for _, d := range docs {
		files[d.path] = d.data
	}
	return newEnvWith(b, databasetest.Open(b), envOptions{
		allow:             true,
		taskCheckInterval: tasks.TaskCheckInterval,
		logger:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		files:             files,
		wrap:              wrap,
	})
}

// createBenchJob creates a job for doc through the service, as the API does.
func (e *env) createBenchJob(b *testing.B, number string, doc benchDoc) string {
	j, err := e.svc.CreateJob(context.Background(), jobs.JobInput{
		JobNumber: number, DocumentName: doc.path[1:], DocumentURL: e.docs.URL + doc.path, Template: jobs.BuiltinTemplateName,
	})
	if err != nil {
		b.Fatalf("create job: %v", err)
	}
	return j.ID
}

// terminalEvents forwards the terminal events of every job to a channel that holds
// capacity of them without blocking the hub; it stops at the benchmark's cleanup.
func (e *env) terminalEvents(b *testing.B, capacity int) <-chan progress.Event {
	ch := e.events(b)
	out := make(chan progress.Event, capacity)
	go func() {
		for ev := range ch {
			if ev.Terminal() {
				select {
				case out <- ev:
				default: // more terminal events than jobs: a bug the count will show
				}
			}
		}
	}()
	return out
}

func BenchmarkPipelineThroughput(b *testing.B) {
	needTools(b, "redis-server", "tesseract", "pdfinfo", "pdftotext")
	docs := benchDocuments()
	g := &startGate{}
	e := benchEnv(b, docs, g.wrap)
	terminal := e.terminalEvents(b, b.N+len(docs))
	// Warm up (engines, connections, page cache): each document once, untimed.
	for i, d := range docs {
		e.createBenchJob(b, fmt.Sprintf("WARM-%d", i), d)
	}
	awaitCompleted(b, terminal, len(docs))

	// Start with every worker slot holding a job, so that the timed run does not
	// begin with an idle poll (BenchmarkQueueLatency measures that wait): the first
	// jobs are taken while the gate holds them, then the gate opens, the clock starts
	// and the remaining jobs are created while the first ones run.
	first := min(runtime.NumCPU(), b.N) // the worker's concurrency
	g.close(first)
	for i := range first {
		e.createBenchJob(b, fmt.Sprintf("BENCH-%d", i), docs[i%len(docs)])
	}
	g.awaitHeld(b)

	b.ResetTimer()
	start, cpu0 := time.Now(), cpuSeconds()
	g.open()
	for i := first; i < b.N; i++ {
		e.createBenchJob(b, fmt.Sprintf("BENCH-%d", i), docs[i%len(docs)])
	}
	awaitCompleted(b, terminal, b.N)
	el, cpu := time.Since(start).Seconds(), cpuSeconds()-cpu0
	b.StopTimer()

	reportThroughput(b, el, cpu)
	retried, err := e.db.OcrInvoiceJob.Query().Where(ocrinvoicejob.RetryCountGT(0)).Count(context.Background())
	if err == nil && retried > 0 {
		b.Logf("%d of %d jobs were retried", retried, b.N+len(docs))
	}
}

// startGate holds tasks at the handler's door while it is closed.
type startGate struct {
	mu   sync.Mutex
	gate chan struct{} // non-nil while closed; closing it lets the held tasks in
	held chan struct{} // one value per task held
	n    int           // tasks to hold
}

// close makes the next n tasks wait at the door.
func (g *startGate) close(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gate, g.held, g.n = make(chan struct{}), make(chan struct{}, n), n
}

// awaitHeld waits until the gate holds its n tasks.
func (g *startGate) awaitHeld(b *testing.B) {
	b.Helper()
	deadline := time.After(time.Minute)
	for i := range g.n {
		select {
		case <-g.held:
		case <-deadline:
			b.Fatalf("%d of %d jobs reached the worker within a minute", i, g.n)
		}
	}
}

// open lets the held tasks in and every later one pass.
func (g *startGate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.gate)
	g.gate = nil
}

func (g *startGate) wrap(h asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		g.mu.Lock()
		gate, held := g.gate, g.held
		g.mu.Unlock()
		if gate != nil {
			select {
			case held <- struct{}{}:
			default: // more tasks than the gate counts: they wait all the same
			}
			select {
			case <-gate:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return h.ProcessTask(ctx, t)
	})
}

// awaitCompleted waits for n terminal events and fails unless all are "completed".
func awaitCompleted(b *testing.B, terminal <-chan progress.Event, n int) {
	b.Helper()
	deadline := time.After(time.Minute + time.Duration(n)*5*time.Second)
	for i := range n {
		select {
		case ev := <-terminal:
			if ev.Status != progress.StatusCompleted {
				b.Fatalf("job %s ended %s: %s", ev.JobID, ev.Status, ev.Message)
			}
		case <-deadline:
			b.Fatalf("%d of %d jobs completed before the deadline", i, n)
		}
	}
}

func BenchmarkExtractFloor(b *testing.B) {
	needTools(b, "tesseract", "pdfinfo", "pdftotext")
	ctx := context.Background()
	// The handler's options come from the job's template: use the built-in one, as
	// the pipeline benchmark's jobs do.
	svc := jobs.NewService(databasetest.Open(b), nil, jobs.Options{})
	if err := svc.EnsureBuiltins(ctx); err != nil {
		b.Fatal(err)
	}
	tpl, err := svc.GetTemplate(ctx, jobs.BuiltinTemplateName)
	if err != nil {
		b.Fatal(err)
	}
	reader, err := ocr.NewReader(ocr.Config{}) // NumCPU slots, as the worker has
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = reader.Close() })
	ro := ocr.Options{Languages: tpl.Languages, DPI: tpl.Dpi, PSM: tpl.PageSegmentationMode}
	docs := benchDocuments()
	one := func(d benchDoc) error {
		doc, err := reader.ReadBytes(ctx, d.data, d.path[1:], ro)
		if err != nil {
			return fmt.Errorf("read %s: %w", d.path, err)
		}
		spec := tpl.Spec
		_, err = ExtractDocument(doc, extract.Options{Spec: &spec})
		return err
	}
	for _, d := range docs {
		if err := one(d); err != nil {
			b.Fatal(err)
		}
	}

	b.ResetTimer()
	start, cpu0 := time.Now(), cpuSeconds()
	next := make(chan benchDoc)
	errs := make(chan error, runtime.NumCPU())
	var wg sync.WaitGroup
	for range runtime.NumCPU() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range next {
				if err := one(d); err != nil {
					errs <- err
					for range next { // drain, so the feeder never blocks
					}
					return
				}
			}
		}()
	}
	for i := range b.N {
		next <- docs[i%len(docs)]
	}
	close(next)
	wg.Wait()
	el, cpu := time.Since(start).Seconds(), cpuSeconds()-cpu0
	b.StopTimer()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	reportThroughput(b, el, cpu)
}

func reportThroughput(b *testing.B, seconds, cpu float64) {
	b.ReportMetric(seconds/float64(b.N), "s/job")
	b.ReportMetric(float64(b.N)/seconds, "jobs/s")
	b.ReportMetric(cpu/float64(b.N), "cpu-s/job")
}

// cpuSeconds is the user+system CPU time of this process and its waited-for children.
func cpuSeconds() float64 {
	var t float64
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			t += time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
		}
	}
	return t
}

// BenchmarkQueueLatency creates one job at a time, each reaching an idle worker, and
// measures create->start: from CreateJob returning to the real handler being called.
// The handler then runs the job to its end untimed, and a random pause follows, so
// that jobs arrive at random moments of the worker's idle poll as API requests do.
// An idle asynq worker polls Redis every TaskCheckInterval (asynq sleeps between 0.5
// and 1.5 times it), so expect p50 near half of it and p99 approaching 1.5 times it;
// p99 of fewer than 100 samples is the largest sample.
func BenchmarkQueueLatency(b *testing.B) {
	needTools(b, "redis-server", "tesseract", "pdfinfo", "pdftotext")
	b.Run("check-interval="+tasks.TaskCheckInterval.String(), func(b *testing.B) {
		started := make(chan jobStart, 16)
		wrap := func(h asynq.Handler) asynq.Handler {
			return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
				at := time.Now()
				if p, err := tasks.ParsePayload(t); err == nil {
					started <- jobStart{id: p.JobID, at: at}
				}
				return h.ProcessTask(ctx, t)
			})
		}
		docs := benchDocuments()[:1] // a one-page text invoice: short runs between samples
		e := benchEnv(b, docs, wrap)
		events := e.events(b)
		run := func(number string) time.Duration {
			id := e.createBenchJob(b, number, docs[0])
			created := time.Now()
			var s jobStart
			select {
			case s = <-started:
			case <-time.After(time.Minute):
				b.Fatalf("job %s not started within a minute", id)
			}
			if s.id != id {
				b.Fatalf("started job %s, want %s", s.id, id)
			}
			lat := s.at.Sub(created) // negative when the worker started it before CreateJob returned
			b.StopTimer()
			if ev := stream(b, events, id, time.Minute); ev[len(ev)-1].Status != progress.StatusCompleted {
				b.Fatalf("job %s ended %+v", id, ev[len(ev)-1])
			}
			time.Sleep(rand.N(3 * tasks.TaskCheckInterval / 2))
			b.StartTimer()
			return lat
		}
		run("WARM")

		samples := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N {
			samples = append(samples, run(fmt.Sprintf("LAT-%d", i)))
		}
		b.StopTimer()
		slices.Sort(samples)
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		b.ReportMetric(ms(percentile(samples, 0.50)), "p50-ms")
		b.ReportMetric(ms(percentile(samples, 0.99)), "p99-ms")
		var sum time.Duration
		for _, s := range samples {
			sum += s
		}
		b.Logf("create->start over %d jobs: min %.1f ms, mean %.1f ms, max %.1f ms", len(samples),
			ms(samples[0]), ms(sum/time.Duration(len(samples))), ms(samples[len(samples)-1]))
	})
}

type jobStart struct {
	id string
	at time.Time
}

// percentile returns the nearest-rank p-quantile of sorted samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
