package ocr

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func syms(s string, conf float64) []symbol {
	var out []symbol
	for i, r := range s {
		out = append(out, symbol{r: r, conf: conf, x: float64(i)})
	}
	return out
}

// TestVote checks the character-by-character vote between three readings of a word.
func TestVote(t *testing.T) {
	cases := []struct {
		name          string
		first         string
		firstConf     float64
		second, third string
		conf          float64
		whole         bool
		want          string
	}{
		{"two readings outvote a misread digit", "9.60", 0.55, "9.00", "9.00", 0.95, true, "9.00"},
		{"a letter read for a digit", "1o.50", 0.40, "10.50", "10.50", 0.90, true, "10.50"},
		{"the re-readings disagree", "9.60", 0.55, "9.00", "9.80", 0.95, true, "9.60"},
		{"the re-readings are no surer", "9.60", 0.90, "9.00", "9.00", 0.92, true, "9.60"},
		{"a digit is never replaced by a letter", "8:13:39", 0.40, "B:13:39", "B:13:39", 0.95, true, "8:13:39"},
		{"the decimal mark stays", "12,50", 0.40, "12.50", "12.50", 0.95, true, "12,50"},
		{"a broken amount read whole", "Yo.00", 0.20, "0.00", "0.00", 0.95, true, "0.00"},
		{"not whole beside another word", "Yo.00", 0.20, "0.00", "0.00", 0.95, false, "Yo.00"},
		{"a whole reading loses no digit", "60.24", 0.40, "0.24", "0.24", 0.95, true, "60.24"},
		{"words that are no numbers stay", "Tel:016", 0.40, "Tel;016", "Tel;016", 0.95, true, "Tel:016"},
		{"no second reading", "9.60", 0.55, "", "", 0, true, "9.60"},
		{"a date stays a possible date", "17/03/2017", 0.50, "17/03/2817", "17/03/2817", 0.95, true, "17/03/2017"},
		{"a date's digit outvoted", "17/08/2017", 0.50, "17/03/2017", "17/03/2017", 0.95, true, "17/03/2017"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, _, changed := vote(c.first, c.firstConf, syms(c.second, c.conf), syms(c.third, c.conf), c.whole)
			if got != c.want {
				t.Errorf("vote(%q, %q, %q) = %q, want %q", c.first, c.second, c.third, got, c.want)
			}
			if changed != (c.want != c.first) {
				t.Errorf("changed = %v", changed)
			}
		})
	}
}

// receiptLines is a synthetic till receipt, rendered by the tests.
var receiptLines = []string{
	"KEDAI BUKU CERIA SDN BHD",
	"NO. 8, JALAN MAWAR 3, 43000 KAJANG",
	"DATE: 14/02/2018",
	"EXERCISE BOOK A4          3.50",
	"PENCIL 2B                 1.80",
	"TOTAL                    26.70",
	"CASH                     50.00",
	"CHANGE                   23.30",
}

// TestRevoteFixesMisreadAmount reads a rendered receipt with real Tesseract, makes the
// first reading of the total disagree with the page (as a faint scan does: a digit
// misread, low confidence), and checks that the second and third readings of its crop
// vote it back, while every other word stays as the page reading had it.
func TestRevoteFixesMisreadAmount(t *testing.T) {
	r, err := NewReader(Config{Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	opts, err := r.normalize(Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := <-r.slots
	defer func() { r.slots <- s }()
	res, _, err := s.readImage(renderText(receiptLines, 300), opts, 300)
	if err != nil {
		t.Fatal(err)
	}
	// A clean page has few uncertain numbers; they are read again but stay as they are.
	if targets, _ := revoteTargets(res); len(targets) > 3 {
		t.Fatalf("a clean page has %d words to read again, want at most 3", len(targets))
	}
	idx := -1
	for i, b := range res.boxes {
		if b.Word == "26.70" {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("the first reading has no 26.70: %v", boxWords(res))
	}
	res.boxes[idx].Word, res.boxes[idx].Confidence = "26.78", 40
	targets, size := revoteTargets(res)
	found := false
	for _, tg := range targets {
		found = found || tg.idx == idx
	}
	if !found {
		t.Fatalf("targets %+v do not include the misread total", targets)
	}
	n0 := r.readings.Load()
	changed, err := s.revote(res, targets, size)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.boxes[idx].Word; got != "26.70" || changed != 1 {
		t.Errorf("after the vote the total reads %q (%d changed), want 26.70", got, changed)
	}
	if res.boxes[idx].Confidence <= 40 {
		t.Errorf("confidence after the vote %.0f, want above the misreading's 40", res.boxes[idx].Confidence)
	}
	if n := r.readings.Load() - n0; n != 0 {
		t.Errorf("the vote took %d page readings, want none (crops only)", n)
	}
}

func boxWords(res *ocrResult) []string {
	var w []string
	for _, b := range res.boxes {
		w = append(w, b.Word)
	}
	return w
}

// TestRevoteSharedReceipts reads a few shared scanned receipts and checks that the
// second reading runs on them and leaves every word it does not change as it was.
func TestRevoteSharedReceipts(t *testing.T) {
	dir := os.Getenv("OCRINVOICE_SHARED_DATA")
	if dir == "" {
		dir = "../../../shared/data"
	}
	files, _ := filepath.Glob(filepath.Join(dir, "invoices-dev", "sroie-zzzdavid", "img", "0[0-4]*.jpg"))
	if len(files) == 0 {
		t.Skip("shared data not found (set OCRINVOICE_SHARED_DATA)")
	}
	files = files[:1] // one scan: the test reads it twice, seconds each
	r, err := NewReader(Config{Slots: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, f := range files {
		on, err := r.Read(context.Background(), f, Options{})
		if err != nil {
			t.Fatal(err)
		}
		off, err := r.Read(context.Background(), f, Options{noRevote: true})
		if err != nil {
			t.Fatal(err)
		}
		a, b := docWords(on), docWords(off)
		if len(a) != len(b) {
			t.Fatalf("%s: %d words with the second reading, %d without", f, len(a), len(b))
		}
		diff := 0
		for i := range a {
			if a[i] != b[i] {
				diff++
				if !numberLike(b[i]) {
					t.Errorf("%s: %q became %q: only numbers are read again", f, b[i], a[i])
				}
			}
		}
		t.Logf("%s: %d of %d words changed by the vote", filepath.Base(f), diff, len(a))
	}
}

// BenchmarkOCRRevote measures what reading uncertain numbers again costs, on the same
// pages in the same run: "on" is the reader as it is, "off" skips the second reading
// (the reader before it). The figure of merit is on/off of cpu-s/page on the English
// pages (the synthetic invoice, and the English invoice PDF of the shared
// invoice2data folder when shared data is there); the synthetic receipt shows the
// cost on a receipt.
func BenchmarkOCRRevote(b *testing.B) {
	type page struct{ name, file string }
	dir := b.TempDir()
	eng := filepath.Join(dir, "english.png")
	if err := os.WriteFile(eng, encodePNG(b, renderText(invoiceLines, 300)), 0o644); err != nil {
		b.Fatal(err)
	}
	rcpt := filepath.Join(dir, "receipt.png")
	if err := os.WriteFile(rcpt, encodePNG(b, renderText(receiptLines, 300)), 0o644); err != nil {
		b.Fatal(err)
	}
	pages := []page{{"english-synthetic", eng}, {"receipt-synthetic", rcpt}}
	shared := os.Getenv("OCRINVOICE_SHARED_DATA")
	if shared == "" {
		shared = "../../../shared/data"
	}
	if f := filepath.Join(shared, "invoices-dev", "invoice2data-compare", "files", "AzureInterior.pdf"); fileExists(f) {
		pages = append(pages, page{"english-pdf", f})
	}
	if fs, _ := filepath.Glob(filepath.Join(shared, "invoices-dev", "sroie-zzzdavid", "img", "000.jpg")); len(fs) > 0 {
		pages = append(pages, page{"receipt-scan", fs[0]})
	}
	r, err := NewReader(Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for _, p := range pages {
		for _, mode := range []string{"off", "on"} {
			opts := Options{Mode: ModeOCR, noRevote: mode == "off"}
			b.Run(p.name+"/"+mode, func(b *testing.B) {
				if _, err := r.Read(context.Background(), p.file, opts); err != nil { // load the model
					b.Fatal(err)
				}
				n0, c0 := r.readings.Load(), r.cropReadings.Load()
				parallelPages(b, func() error {
					_, err := r.Read(context.Background(), p.file, opts)
					return err
				})
				b.ReportMetric(float64(r.readings.Load()-n0)/float64(b.N), "readings/page")
				b.ReportMetric(float64(r.cropReadings.Load()-c0)/float64(b.N), "crop-readings/page")
			})
		}
	}
}
