package worker

// BenchmarkOCRJob (`make bench`; alone:
// go test -run '^$' -bench OCRJob -benchtime 5x ./worker/) measures whole OCR jobs on
// a warm service against the tesseract command line on the same pages.
//
// Pages: the first pages of the shared ZUGFeRD folder's PDFs
// (../shared/data/invoices-dev/zugferd-corpus, or $OCRINVOICE_SHARED_DATA/invoices-dev/...),
// rasterised at 300 DPI in gray by pdftoppm, ocrJobPages of them; the benchmark is
// skipped when the folder is missing.
//
//   - job: each page is one job of a PNG document, created through jobs.Service as the
//     API creates it (database insert, enqueue on a private redis-server), taken by the
//     product's asynq server and Handler (NumCPU slots, the product's queue poll),
//     fetched from a loopback HTTP server, read by OCR, extracted, validated and
//     stored, with its events published. All pages are created at once; the round's
//     time is from the first job's createdAt to the last job's completedAt, as stored.
//   - cli: the same PNG files through `tesseract FILE -` (OMP_THREAD_LIMIT=1, NumCPU
//     processes at once), from the first start to the last exit.
//
// Rounds alternate (job, cli, job, cli, ...), b.N of each after one warm-up round of
// each; job-s and cli-s are the medians of their rounds and ratio is job-s / cli-s
// (below 1: a whole job, with its queue, database and events, is quicker than the
// bare command line on the same pages); job-cpu-s, cli-cpu-s and cpu-ratio are the
// same for the CPU seconds of the rounds.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
)

// ocrJobPages is how many pages a round reads.
const ocrJobPages = 6

// ocrBenchPages rasterises the first page of the first ocrJobPages PDFs of the shared
// ZUGFeRD folder to 300 DPI gray PNGs and returns their paths, or skips.
func ocrBenchPages(b *testing.B) []string {
	b.Helper()
	needTools(b, "pdftoppm", "tesseract")
	root := os.Getenv("OCRINVOICE_SHARED_DATA")
	if root == "" {
		root = "../../shared/data"
	}
	dir := filepath.Join(root, "invoices-dev", "zugferd-corpus", "files")
	if _, err := os.Stat(dir); err != nil {
		b.Skipf("shared ZUGFeRD folder missing (%s): no real pages to read", dir)
	}
	var pdfs []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(strings.ToLower(p), ".pdf") {
			pdfs = append(pdfs, p)
		}
		return nil
	})
	sort.Strings(pdfs)
	out := b.TempDir()
	var pages []string
	for _, pdf := range pdfs {
		if len(pages) == ocrJobPages {
			break
		}
		base := filepath.Join(out, fmt.Sprintf("page-%d", len(pages)+1))
		cmd := exec.Command("pdftoppm", "-gray", "-r", "300", "-png", "-singlefile", "-f", "1", "-l", "1", pdf, base)
		if err := cmd.Run(); err != nil {
			continue // an encrypted or broken file: take the next
		}
		pages = append(pages, base+".png")
	}
	if len(pages) < ocrJobPages {
		b.Skipf("%d pages rasterised from %s, want %d", len(pages), dir, ocrJobPages)
	}
	return pages
}

func BenchmarkOCRJob(b *testing.B) {
	needTools(b, "redis-server")
	pages := ocrBenchPages(b)
	docs := make([]benchDoc, len(pages))
	for i, p := range pages {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		docs[i] = benchDoc{path: "/" + filepath.Base(p), data: data}
	}
	e := benchEnv(b, docs, nil)
	terminal := e.terminalEvents(b, 4*len(docs))
	ctx := context.Background()

	round := 0
	jobRound := func() time.Duration {
		round++
		ids := make([]string, len(docs))
		for i, d := range docs {
			ids[i] = e.createBenchJob(b, fmt.Sprintf("OCR-%d-%d", round, i), d)
		}
		awaitCompleted(b, terminal, len(docs))
		js, err := e.db.OcrInvoiceJob.Query().Where(ocrinvoicejob.IDIn(ids...)).All(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return jobsSpan(b, js)
	}
	cliRound := func() time.Duration {
		start := time.Now()
		next := make(chan string)
		errs := make(chan error, len(pages))
		var wg sync.WaitGroup
		for range runtime.NumCPU() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for p := range next {
					cmd := exec.Command("tesseract", p, "-")
					cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
					if out, err := cmd.Output(); err != nil || len(out) == 0 {
						errs <- fmt.Errorf("tesseract %s: %v", p, err)
					}
				}
			}()
		}
		for _, p := range pages {
			next <- p
		}
		close(next)
		wg.Wait()
		el := time.Since(start)
		select {
		case err := <-errs:
			b.Fatal(err)
		default:
		}
		return el
	}
	// Warm-up: engines loaded, models and files in the page cache, connections open.
	jobRound()
	cliRound()

	b.ResetTimer()
	var jobT, cliT []time.Duration
	var jobCPU, cliCPU []float64
	for range b.N {
		cpu0 := cpuSeconds()
		jobT = append(jobT, jobRound())
		cpu1 := cpuSeconds()
		cliT = append(cliT, cliRound())
		jobCPU, cliCPU = append(jobCPU, cpu1-cpu0), append(cliCPU, cpuSeconds()-cpu1)
	}
	b.StopTimer()
	seconds := func(ds []time.Duration) []float64 {
		out := make([]float64, len(ds))
		for i, d := range ds {
			out[i] = d.Seconds()
		}
		return out
	}
	j, c := median(seconds(jobT)), median(seconds(cliT))
	b.ReportMetric(j, "job-s")
	b.ReportMetric(c, "cli-s")
	b.ReportMetric(j/c, "ratio")
	// CPU seconds of a round (this process and its finished children: the worker's
	// engines, or the tesseract processes; not the redis-server), beside wall time
	// because the machine may be shared: when the wall ratio moves and this one does
	// not, the machine was busy with something else.
	jc, cc := median(jobCPU), median(cliCPU)
	b.ReportMetric(jc, "job-cpu-s")
	b.ReportMetric(cc, "cli-cpu-s")
	b.ReportMetric(jc/cc, "cpu-ratio")
	b.Logf("%d pages a round; job rounds %v; cli rounds %v", len(pages), jobT, cliT)
}

// median returns the median of xs (the mean of the middle two for an even count).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 0 {
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return s[len(s)/2]
}

// jobsSpan is the time from the first createdAt to the last completedAt of js, all
// completed.
func jobsSpan(b *testing.B, js []*ent.OcrInvoiceJob) time.Duration {
	b.Helper()
	var first, last time.Time
	for i, j := range js {
		if j.Status != ocrinvoicejob.StatusCompleted || j.CompletedAt == nil {
			b.Fatalf("job %s ended %s: %s", j.ID, j.Status, j.ErrorLog)
		}
		if i == 0 || j.CreatedAt.Before(first) {
			first = j.CreatedAt
		}
		if j.CompletedAt.After(last) {
			last = *j.CompletedAt
		}
	}
	return last.Sub(first)
}
