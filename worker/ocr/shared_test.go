package ocr

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
)

// sharedData returns the folder of real invoices with true values, or skips.
func sharedData(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("OCRINVOICE_SHARED_DATA")
	if dir == "" {
		dir = "../../../shared/data"
	}
	if _, err := os.Stat(filepath.Join(dir, "invoices-dev")); err != nil {
		t.Skipf("shared data not found at %s (set OCRINVOICE_SHARED_DATA)", dir)
	}
	return filepath.Join(dir, "invoices-dev")
}

// normWords splits text into words with surrounding punctuation removed, for
// comparing two readings of the same page.
func normWords(words []string) []string {
	var out []string
	for _, w := range words {
		w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		if w != "" {
			out = append(out, w)
		}
	}
	return out
}

// every returns about n items spread evenly over s (all of them when
// OCRINVOICE_OCR_FULL is set).
func every[T any](s []T, n int) []T {
	if os.Getenv("OCRINVOICE_OCR_FULL") != "" || len(s) <= n {
		return s
	}
	var out []T
	step := float64(len(s)) / float64(n)
	for i := 0; i < n; i++ {
		out = append(out, s[int(float64(i)*step)])
	}
	return out
}

// TestOCRAccuracyZUGFeRD rasterises born-digital invoices (ModeOCR, 300 DPI) and
// compares the words read by Tesseract with the words of the same pages' text layer:
// the share of text-layer words that OCR found (letters and digits, exact). By default
// a sample of the folder is read; OCRINVOICE_OCR_FULL=1 reads all of it.
func TestOCRAccuracyZUGFeRD(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: OCR of real invoices")
	}
	dir := filepath.Join(sharedData(t), "zugferd-corpus")
	var files []string
	filepath.WalkDir(filepath.Join(dir, "files"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(strings.ToLower(p), ".pdf") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Skip("no PDFs in zugferd-corpus")
	}
	r := newTestReader(t)
	langs := os.Getenv("OCRINVOICE_OCR_LANGS")
	if langs == "" {
		langs = "eng+deu"
	}
	var found, total int
	start := time.Now()
	pages := 0
	for _, f := range every(files, 4) {
		ref, err := r.Read(context.Background(), f, Options{Mode: ModeText, MaxPages: 1000})
		if err != nil {
			t.Logf("%s: text layer: %v", filepath.Base(f), err)
			continue
		}
		// Only the first page: enough words, and it keeps the test short.
		ref.Pages = ref.Pages[:1]
		hyp, err := r.Read(context.Background(), f, Options{Mode: ModeOCR, Languages: langs, MaxPages: 1000, PSM: envInt("OCRINVOICE_OCR_PSM")})
		if err != nil {
			t.Errorf("%s: OCR: %v", filepath.Base(f), err)
			continue
		}
		hyp.Pages = hyp.Pages[:1]
		pages++
		rw, hw := normWords(docWords(ref)), normWords(docWords(hyp))
		acc := wordRecall(hw, rw)
		found += int(acc*float64(len(rw)) + 0.5)
		total += len(rw)
		t.Logf("%-60s words %4d recall %.3f", strings.TrimPrefix(f, dir+"/files/"), len(rw), acc)
	}
	if total == 0 {
		t.Skip("no page read")
	}
	acc := float64(found) / float64(total)
	t.Logf("zugferd OCR word recall (%s, 300 DPI): %.3f over %d words, %d pages, %.1fs", langs, acc, total, pages, time.Since(start).Seconds())
	if acc < 0.85 {
		t.Errorf("word recall %.3f < 0.85", acc)
	}
}

// TestOCRAccuracyReceipts reads scanned receipts and checks that the true company,
// date and total strings (meta.raw in truth.jsonl) appear in the page text (after
// collapsing white space). A sample by default; OCRINVOICE_OCR_FULL=1 reads all.
func TestOCRAccuracyReceipts(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: OCR of real receipts")
	}
	dir := filepath.Join(sharedData(t), "sroie-zzzdavid")
	f, err := os.Open(filepath.Join(dir, "truth.jsonl"))
	if err != nil {
		t.Skipf("no truth.jsonl: %v", err)
	}
	defer f.Close()
	type rec struct {
		File string `json:"file"`
		Meta struct {
			Raw map[string]string `json:"raw"`
		} `json:"meta"`
	}
	var recs []rec
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r rec
		if err := json.Unmarshal(sc.Bytes(), &r); err == nil && r.File != "" {
			recs = append(recs, r)
		}
	}
	r := newTestReader(t)
	found := map[string]int{}
	seen := map[string]int{}
	start := time.Now()
	for _, rc := range every(recs, 8) {
		doc, err := r.Read(context.Background(), filepath.Join(dir, rc.File), Options{PSM: envInt("OCRINVOICE_OCR_PSM")})
		if err != nil {
			t.Errorf("%s: %v", rc.File, err)
			continue
		}
		text := collapse(doc.Pages[0].Text)
		for _, k := range []string{"company", "date", "total"} {
			v := collapse(rc.Meta.Raw[k])
			if v == "" {
				continue
			}
			seen[k]++
			if strings.Contains(text, v) {
				found[k]++
			} else if testing.Verbose() {
				t.Logf("%s: %s %q not found", rc.File, k, v)
			}
		}
	}
	var all, n int
	for k, s := range seen {
		t.Logf("receipts: %s found verbatim in %d/%d", k, found[k], s)
		all += found[k]
		n += s
	}
	if n == 0 {
		t.Skip("no receipts read")
	}
	t.Logf("receipts: %.3f of true strings found verbatim, %.1fs", float64(all)/float64(n), time.Since(start).Seconds())
	if float64(all)/float64(n) < 0.6 {
		t.Errorf("only %d/%d true strings found", all, n)
	}
}

func collapse(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), " ")) }

func envInt(name string) int {
	v, _ := strconv.Atoi(os.Getenv(name))
	return v
}

// TestOCRAccuracyPNGRenderings reads the PNG renderings in invoice2data-compare and
// compares their words with the text layer of the PDF of the same name.
func TestOCRAccuracyPNGRenderings(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: OCR of real invoices")
	}
	dir := filepath.Join(sharedData(t), "invoice2data-compare", "files")
	pngs, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	r := newTestReader(t)
	var found, total int
	for _, p := range pngs {
		pdf := strings.TrimSuffix(p, ".png") + ".pdf"
		ref, err := r.Read(context.Background(), pdf, Options{Mode: ModeText})
		if err != nil {
			continue
		}
		hyp, err := r.Read(context.Background(), p, Options{})
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
			continue
		}
		ref.Pages = ref.Pages[:1]
		rw, hw := normWords(docWords(ref)), normWords(docWords(hyp))
		acc := wordRecall(hw, rw)
		found += int(acc*float64(len(rw)) + 0.5)
		total += len(rw)
		t.Logf("%-28s words %4d recall %.3f", filepath.Base(p), len(rw), acc)
	}
	if total == 0 {
		t.Skip("no PNG with a PDF twin")
	}
	acc := float64(found) / float64(total)
	t.Logf("invoice2data PNG OCR word recall (eng): %.3f over %d words", acc, total)
	if acc < 0.8 {
		t.Errorf("word recall %.3f < 0.8", acc)
	}
}
