package ocr

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// benchPDF returns a one-page PDF to benchmark: the first one-page PDF of the shared
// ZUGFeRD folder when it exists (a real invoice page), else the synthetic invoice.
func benchPDF(b *testing.B) string {
	b.Helper()
	dir := os.Getenv("OCRINVOICE_SHARED_DATA")
	if dir == "" {
		dir = "../../../shared/data"
	}
	var files []string
	filepath.WalkDir(filepath.Join(dir, "invoices-dev", "zugferd-corpus", "files"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(strings.ToLower(p), ".pdf") {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	for _, f := range files {
		out, err := exec.Command("pdfinfo", f).Output()
		if err == nil && strings.Contains(string(out), "\nPages:           1\n") {
			b.Logf("benchmark page: %s", f)
			return f
		}
	}
	b.Log("benchmark page: synthetic invoice (shared data not found)")
	return writeFile(b, "bench.pdf", buildPDF(b, pdfPage{lines: invoiceLines}))
}

// parallelPages runs fn for n pages, runtime.NumCPU() at a time, and reports seconds
// per page and pages per second.
func parallelPages(b *testing.B, fn func() error) {
	b.Helper()
	workers := runtime.NumCPU()
	b.ResetTimer()
	start := time.Now()
	cpu0 := cpuSeconds()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	next := make(chan struct{})
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				if err := fn(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < b.N; i++ {
		select {
		case next <- struct{}{}:
		case err := <-errs:
			close(next)
			b.Fatal(err)
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	el := time.Since(start).Seconds()
	// CPU seconds (this process and its children: pdftoppm, tesseract) per page are
	// reported beside wall time because the machine may be shared.
	b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/page")
	b.ReportMetric(el/float64(b.N), "s/page")
	b.ReportMetric(float64(b.N)/el, "pages/s")
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

// BenchmarkOCRPage compares reading a 300 DPI page by OCR through Reader.Read
// (pdftoppm -gray + a pooled gosseract client, NumCPU pages at once) with the
// tesseract command line on the same page as a gray PNG (OMP_THREAD_LIMIT=1, NumCPU
// processes at once). The ratio reader/cli of their s/page is the figure of merit.
func BenchmarkOCRPage(b *testing.B) {
	pdf := benchPDF(b)
	png := filepath.Join(b.TempDir(), "page")
	if out, err := exec.Command("pdftoppm", "-gray", "-r", "300", "-png", "-singlefile", "-f", "1", "-l", "1", pdf, png).CombinedOutput(); err != nil {
		b.Fatalf("pdftoppm: %v %s", err, out)
	}
	png += ".png"
	b.Run("reader", func(b *testing.B) {
		r, err := NewReader(Config{})
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		opts := Options{Mode: ModeOCR}
		if _, err := r.Read(context.Background(), pdf, opts); err != nil { // load the model once
			b.Fatal(err)
		}
		parallelPages(b, func() error {
			_, err := r.Read(context.Background(), pdf, opts)
			return err
		})
	})
	b.Run("tesseract-cli", func(b *testing.B) {
		if _, err := exec.LookPath("tesseract"); err != nil {
			b.Skip("tesseract command not installed")
		}
		parallelPages(b, func() error {
			cmd := exec.Command("tesseract", png, "-")
			cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
			_, err := cmd.Output()
			return err
		})
	})
}

// BenchmarkTextLayerPage reads the same page from its text layer, NumCPU pages at once:
// "page-text" runs pdftotext twice (words with boxes, and the page text templates
// match), "words" once (Options.NoPageText, a job without a template).
func BenchmarkTextLayerPage(b *testing.B) {
	pdf := benchPDF(b)
	r, err := NewReader(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for _, c := range []struct {
		name string
		opts Options
	}{{"page-text", Options{Mode: ModeText}}, {"words", Options{Mode: ModeText, NoPageText: true}}} {
		b.Run(c.name, func(b *testing.B) {
			parallelPages(b, func() error {
				_, err := r.Read(context.Background(), pdf, c.opts)
				return err
			})
		})
	}
}

// BenchmarkOCRLanguage measures what language detection costs, on the same pages in the
// same run: each page is read with the default languages and detection on ("detect")
// and with KeepLanguages ("keep", the reading without detection). English pages must
// cost the same both ways (no second reading); German pages pay a second reading of
// the first page with deu. Pages: the synthetic English and German invoices
// rendered at 300 DPI, an English invoice PDF of the shared invoice2data folder and
// the German ZUGFeRD page of BenchmarkOCRPage, both read by OCR, when shared data is
// there.
func BenchmarkOCRLanguage(b *testing.B) {
	type page struct {
		name, file string
	}
	dir := b.TempDir()
	eng := filepath.Join(dir, "english.png")
	deu := filepath.Join(dir, "german.png")
	if err := os.WriteFile(eng, encodePNG(b, renderText(invoiceLines, 300)), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(deu, encodePNG(b, renderText(germanInvoiceLines, 300)), 0o644); err != nil {
		b.Fatal(err)
	}
	pages := []page{{"english-synthetic", eng}, {"german-synthetic", deu}}
	shared := os.Getenv("OCRINVOICE_SHARED_DATA")
	if shared == "" {
		shared = "../../../shared/data"
	}
	if f := filepath.Join(shared, "invoices-dev", "invoice2data-compare", "files", "AzureInterior.pdf"); fileExists(f) {
		pages = append(pages, page{"english-pdf", f})
	}
	if f := benchPDF(b); strings.HasPrefix(f, shared) {
		pages = append(pages, page{"german-pdf", f})
	}
	r, err := NewReader(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for _, p := range pages {
		for _, mode := range []string{"keep", "detect"} {
			opts := Options{Mode: ModeOCR, KeepLanguages: mode == "keep"}
			b.Run(p.name+"/"+mode, func(b *testing.B) {
				if _, err := r.Read(context.Background(), p.file, opts); err != nil { // load the models
					b.Fatal(err)
				}
				n0 := r.readings.Load()
				parallelPages(b, func() error {
					_, err := r.Read(context.Background(), p.file, opts)
					return err
				})
				b.ReportMetric(float64(r.readings.Load()-n0)/float64(b.N), "readings/page")
			})
		}
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
