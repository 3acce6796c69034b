package extract

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// devData returns the development invoices folder or skips the test.
func devData(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("OCRINVOICE_SHARED_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "data")
	}
	dir = filepath.Join(dir, "invoices-dev")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("development data not found at %s (set OCRINVOICE_SHARED_DATA): %v", dir, err)
	}
	return dir
}

// devFiles lists the files of a folder's truth.jsonl whose extension is one of exts,
// leaving out the records whose page shows something else than their data.
func devFiles(t *testing.T, dir string, exts ...string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "truth.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var rec struct {
			File string
			Meta struct {
				VisualMatch *bool `json:"visualMatch"`
			}
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Meta.VisualMatch != nil && !*rec.Meta.VisualMatch {
			continue
		}
		for _, e := range exts {
			if strings.EqualFold(filepath.Ext(rec.File), e) {
				out = append(out, filepath.Join(dir, rec.File))
			}
		}
	}
	return out
}

// locatedShare extracts each file read in mode and returns the share of its non-empty
// fields that are printed as such (not a document type, country or code) whose
// evidence has a page, and a per-field report.
func locatedShare(t *testing.T, files []string, mode ocr.Mode, lang string) (float64, string) {
	t.Helper()
	r, err := ocr.NewReader(ocr.Config{Slots: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	type stat struct{ n, found int }
	per := map[string]*stat{}
	total, found := 0, 0
	for _, f := range files {
		doc, err := r.Read(context.Background(), f, ocr.Options{Mode: mode, Languages: lang})
		if err != nil {
			t.Errorf("read %s: %v", f, err)
			continue
		}
		res, err := Extract(doc, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for path, ev := range res.Evidence {
			if kindOf(path) == evNone {
				continue
			}
			key := genericPath(path)
			s := per[key]
			if s == nil {
				s = &stat{}
				per[key] = s
			}
			s.n++
			total++
			if ev.Page > 0 {
				s.found++
				found++
			}
		}
	}
	keys := make([]string, 0, len(per))
	for k := range per {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, "  %-34s %4d/%-4d %.2f\n", k, per[k].found, per[k].n, float64(per[k].found)/float64(per[k].n))
	}
	if total == 0 {
		return 0, sb.String()
	}
	return float64(found) / float64(total), sb.String()
}

// TestEvidenceDevText measures, on the development PDFs' text layers, the share of
// extracted fields whose evidence is found on a page; a change that loses evidence
// fails under the floor (measured: 0.995 zugferd-corpus, 1.000 invoice2data-compare;
// the floors leave a small slack).
func TestEvidenceDevText(t *testing.T) {
	dir := devData(t)
	for _, c := range []struct {
		folder string
		floor  float64
	}{{"zugferd-corpus", 0.97}, {"invoice2data-compare", 0.97}} {
		t.Run(c.folder, func(t *testing.T) {
			files := devFiles(t, filepath.Join(dir, c.folder), ".pdf")
			share, report := locatedShare(t, files, ocr.ModeText, "eng")
			t.Logf("%s, text layer, %d documents: %.3f of the fields located\n%s", c.folder, len(files), share, report)
			if share < c.floor {
				t.Errorf("%s: %.3f of the fields located on a page, floor %.2f", c.folder, share, c.floor)
			}
		})
	}
}

// TestEvidenceDevOCR is TestEvidenceDevText on OCR: minutes of Tesseract, so it runs
// only when OCRINVOICE_EVAL_OCR is set ("all", or a number of documents per folder)
// and never with -short. Measured on the first 12 documents of each folder: 0.952
// sroie-zzzdavid, 0.985 zugferd-corpus (rasterised).
func TestEvidenceDevOCR(t *testing.T) {
	v := os.Getenv("OCRINVOICE_EVAL_OCR")
	if v == "" || testing.Short() {
		t.Skip("set OCRINVOICE_EVAL_OCR=all (or a per-folder document count) to measure evidence on OCR")
	}
	limit := 0
	if v != "all" {
		if _, err := fmt.Sscan(v, &limit); err != nil {
			t.Fatalf("OCRINVOICE_EVAL_OCR=%q: want all or a number", v)
		}
	}
	dir := devData(t)
	for _, c := range []struct {
		folder, lang string
		exts         []string
		floor        float64
	}{{"sroie-zzzdavid", "eng", []string{".jpg"}, 0.90}, {"zugferd-corpus", "eng+deu", []string{".pdf"}, 0.93}} {
		t.Run(c.folder, func(t *testing.T) {
			files := devFiles(t, filepath.Join(dir, c.folder), c.exts...)
			if limit > 0 && len(files) > limit {
				files = files[:limit]
			}
			share, report := locatedShare(t, files, ocr.ModeOCR, c.lang)
			t.Logf("%s, OCR, %d documents: %.3f of the fields located\n%s", c.folder, len(files), share, report)
			if share < c.floor {
				t.Errorf("%s: %.3f of the fields located on a page, floor %.2f", c.folder, share, c.floor)
			}
		})
	}
}

// BenchmarkEvidence measures what evidence costs: Extract over the synthetic PDFs
// (read once from their text layers), each document with Options.NoEvidence and
// without, interleaved so that a busy machine slows both alike. It reports the time per
// document of each and evidence's share of extraction time ("evidence_%"). The
// sub-benchmark locate-only times Locator.Evidence alone (its own word index included)
// on the extracted data.
func BenchmarkEvidence(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join("evaluate", "testdata", "synthetic", "files", "pdf", "*.pdf"))
	if len(files) == 0 {
		b.Skip("no synthetic PDFs")
	}
	r, err := ocr.NewReader(ocr.Config{Slots: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	docs := make([]*layout.Document, 0, len(files))
	for _, f := range files {
		d, err := r.Read(context.Background(), f, ocr.Options{Mode: ocr.ModeText})
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, d)
	}
	b.Run("extract", func(b *testing.B) {
		var off, on time.Duration
		for b.Loop() {
			for _, d := range docs {
				t0 := time.Now()
				if _, err := Extract(d, Options{NoEvidence: true}); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, err := Extract(d, Options{}); err != nil {
					b.Fatal(err)
				}
				off, on = off+t1.Sub(t0), on+time.Since(t1)
			}
		}
		n := float64(b.N * len(docs))
		b.ReportMetric(float64(off.Microseconds())/n, "µs/doc-without")
		b.ReportMetric(float64(on.Microseconds())/n, "µs/doc-with")
		b.ReportMetric(100*float64(on-off)/float64(off), "evidence_%")
	})
	b.Run("locate-only", func(b *testing.B) {
		data := make([]invoice.ExtractedData, len(docs))
		for i, d := range docs {
			res, err := Extract(d, Options{NoEvidence: true})
			if err != nil {
				b.Fatal(err)
			}
			data[i] = res.Data
		}
		for b.Loop() {
			for i, d := range docs {
				if len(NewLocator(d).Evidence(data[i], invoice.SourceText, 1)) == 0 {
					b.Fatal("no evidence")
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(docs)), "µs/doc")
	})
}
