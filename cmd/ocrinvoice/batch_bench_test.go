package main

// BenchmarkBatch500 (`make bench`; alone:
// go test -run '^$' -bench Batch500 -benchtime 1x ./cmd/ocrinvoice/) measures a batch
// end to end against its floor:
//
//   - batch: one `serve` and two `worker` processes (run in this test process, one
//     task slot each: 2 workers) on one private redis-server and one SQLite file; a
//     group of 500 text-layer invoices (internal/testdocs, 500 URLs of a loopback
//     server) is created with POST /api/v1/ocr-job-groups, parallelism 0, and the clock
//     runs from the POST to the group's phase Complete seen through REST (polled every
//     50 ms). So it includes the batch insert, the runner's releases, the queue, the
//     fetches, reading, extracting, the database writes, the events and the status.
//   - floor: the same 500 documents through the extraction library alone
//     (ocr.Reader.ReadBytes + worker.ExtractDocument with the built-in template's
//     options, the calls the task handler makes), 2 at a time.
//
// It reports batch-s/job, floor-s/job and their ratio (1.0: the service costs nothing on
// top of reading and extracting), and the CPU seconds per job of each: when wall time
// rises and CPU does not, the machine was busy with something else.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

const batchBenchDocs = 500

func BenchmarkBatch500(b *testing.B) {
	for _, tool := range []string{"tesseract", "pdfinfo", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			b.Skipf("%s is not installed", tool)
		}
	}
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	docs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write(pdf)
	}))
	b.Cleanup(docs.Close)
	rs := redistest.Start(b)
	dir := b.TempDir()
	env := map[string]string{
		"REDIS_URL":                     "redis://" + rs.Addr + "/0",
		"DATABASE_URL":                  "sqlite:" + filepath.Join(dir, "jobs.db"),
		"OCRINVOICE_DATA_DIR":           dir,
		"OCRINVOICE_ADDR":               "127.0.0.1:0",
		"OCRINVOICE_FETCH_ALLOW_CIDRS":  "127.0.0.0/8",
		"OCRINVOICE_WORKER_CONCURRENCY": "1",
		"OCRINVOICE_LOG_FORMAT":         "json",
		"OCRINVOICE_SHUTDOWN_TIMEOUT":   "5s",
		"OCRINVOICE_AUTH":               "none",
	}
	getenv := func(k string) string { return env[k] }
	addr := benchStart(b, getenv, "serve")
	benchStart(b, getenv, "worker")
	benchStart(b, getenv, "worker")

	var body strings.Builder
	body.WriteString(`{"name": "bench", "spec": {"parallelism": 0}, "documents": [`)
	for i := range batchBenchDocs {
		if i > 0 {
			body.WriteString(",")
		}
		fmt.Fprintf(&body, `{"documentUrl": "%s/doc/%d.pdf", "documentName": "invoice-%d.pdf"}`, docs.URL, i, i)
	}
	body.WriteString("]}")

	floor, floorCPU := benchFloor(b, pdf)
	b.ResetTimer()
	var batch time.Duration
	cpu0 := cpuSeconds()
	for range b.N {
		start := time.Now()
		resp, err := http.Post("http://"+addr+"/api/v1/ocr-job-groups", "application/json", strings.NewReader(body.String()))
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("create group: %d %s", resp.StatusCode, out)
		}
		id := between(string(out), `"_id":"`, `"`)
		for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
			resp, err := http.Get("http://" + addr + "/api/v1/ocr-job-groups/" + id)
			if err != nil {
				b.Fatal(err)
			}
			st, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			phase := between(string(st), `"phase":"`, `"`)
			if phase == "Complete" {
				if !strings.Contains(string(st), fmt.Sprintf(`"succeeded":%d`, batchBenchDocs)) {
					b.Fatalf("group complete without %d successes: %s", batchBenchDocs, st)
				}
				break
			}
			if phase == "Failed" || time.Now().After(deadline) {
				b.Fatalf("group %s: %s", phase, st)
			}
		}
		batch += time.Since(start)
	}
	b.StopTimer()
	cpu := cpuSeconds() - cpu0
	perJob := batch.Seconds() / float64(b.N*batchBenchDocs)
	floorPerJob := floor.Seconds() / batchBenchDocs
	b.ReportMetric(perJob, "batch-s/job")
	b.ReportMetric(1/perJob, "batch-jobs/s")
	b.ReportMetric(floorPerJob, "floor-s/job")
	b.ReportMetric(perJob/floorPerJob, "ratio")
	b.ReportMetric(cpu/float64(b.N*batchBenchDocs), "batch-cpu-s/job")
	b.ReportMetric(floorCPU/batchBenchDocs, "floor-cpu-s/job")
}

// cpuSeconds is the user+system CPU time of this process (API, workers, runner) and its
// waited-for children (pdfinfo, pdftotext; not the redis-server, still running).
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

// benchFloor reads and extracts n copies of pdf with the library alone, 2 at a time,
// and returns how long that took and the CPU seconds it used.
func benchFloor(b *testing.B, pdf []byte) (time.Duration, float64) {
	b.Helper()
	ctx := context.Background()
	svc := jobs.NewService(databasetest.Open(b), nil, jobs.Options{})
	if err := svc.EnsureBuiltins(ctx); err != nil {
		b.Fatal(err)
	}
	tpl, err := svc.GetTemplate(ctx, jobs.BuiltinTemplateName)
	if err != nil {
		b.Fatal(err)
	}
	reader, err := ocr.NewReader(ocr.Config{Slots: 2})
	if err != nil {
		b.Fatal(err)
	}
	defer reader.Close()
	ro := ocr.Options{Languages: tpl.Languages, DPI: tpl.Dpi, PSM: tpl.PageSegmentationMode}
	one := func() error {
		doc, err := reader.ReadBytes(ctx, pdf, "invoice.pdf", ro)
		if err != nil {
			return err
		}
		spec := tpl.Spec
		_, err = worker.ExtractDocument(doc, extract.Options{Spec: &spec})
		return err
	}
	if err := one(); err != nil {
		b.Fatal(err)
	}
	start, cpu0 := time.Now(), cpuSeconds()
	next := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				if err := one(); err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
				}
			}
		}()
	}
	for range batchBenchDocs {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	if first != nil {
		b.Fatal(first)
	}
	return time.Since(start), cpuSeconds() - cpu0
}

// benchStart runs the program with args in this process until the benchmark ends; for
// serve it returns the bound HTTP address.
func benchStart(b *testing.B, getenv func(string) string, args ...string) string {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	ctx = withListenHook(ctx, func(addr string) { addrc <- addr })
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, getenv, io.Discard, io.Discard) }()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	if args[0] != "serve" {
		return ""
	}
	select {
	case addr := <-addrc:
		return addr
	case err := <-done:
		b.Fatalf("%v ended: %v", args, err)
	case <-time.After(60 * time.Second):
		b.Fatalf("%v did not listen", args)
	}
	return ""
}

// between returns the text of s after the first open up to the next close.
func between(s, open, close string) string {
	_, after, ok := strings.Cut(s, open)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, close)
	return v
}
