package synth

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite ../evaluate/testdata/synthetic (PDFs, scans and truth.jsonl)")

const setDir = "../evaluate/testdata/synthetic"

// TestGeneratedFilesUpToDate checks that the committed PDFs and truth.jsonl are exactly
// what the generator makes now, and that every scan the truth names exists with the
// page size of its PDF at ScanDPI. With -update it rewrites the set first.
func TestGeneratedFilesUpToDate(t *testing.T) {
	if *update {
		if err := Write(context.Background(), setDir, true); err != nil {
			t.Fatal(err)
		}
	}
	docs := Generate()
	again := Generate()
	for i := range docs {
		if !bytes.Equal(docs[i].PDF, again[i].PDF) {
			t.Fatalf("%s: two generations differ", docs[i].ID)
		}
	}
	for _, d := range docs {
		got, err := os.ReadFile(filepath.Join(setDir, d.PDFFile()))
		if err != nil {
			t.Fatalf("%v (run go test ./worker/extract/synth -update)", err)
		}
		if !bytes.Equal(got, d.PDF) {
			t.Errorf("%s differs from the generator's output (run go test ./worker/extract/synth -update)", d.PDFFile())
		}
		checkScan(t, d)
	}
	truth, err := TruthJSONL(docs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(setDir, "truth.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, truth) {
		t.Error("truth.jsonl differs from the generator's output (run go test ./worker/extract/synth -update)")
	}
}

func checkScan(t *testing.T, d Document) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(setDir, d.ImageFile()))
	if err != nil {
		t.Errorf("scan of %s: %v", d.ID, err)
		return
	}
	w, h := a4Pixels()
	if strings.Contains(string(d.PDF[:min(len(d.PDF), 4000)]), "/MediaBox [0 0 612 792]") {
		w, h = 1700, 2200
	}
	switch {
	case d.Pages == 1:
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Errorf("scan of %s: %v", d.ID, err)
			return
		}
		if abs(cfg.Width-w) > 2 || abs(cfg.Height-h) > 2 {
			t.Errorf("scan of %s is %dx%d, want about %dx%d", d.ID, cfg.Width, cfg.Height, w, h)
		}
		if !bytes.Contains(b[:64], []byte("pHYs")) {
			t.Errorf("scan of %s declares no resolution", d.ID)
		}
	default:
		if !bytes.HasPrefix(b, []byte("II*\x00")) {
			t.Errorf("scan of %s is not a TIFF", d.ID)
		}
	}
	if len(b) > 400<<10 {
		t.Errorf("scan of %s is %d KB; keep scans small", d.ID, len(b)>>10)
	}
}

func a4Pixels() (int, int) { return 1654, 2339 }

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestScanMatchesCommitted re-scans one document and compares it loosely with the
// committed scan: the noise is the same, but poppler versions may anti-alias
// differently, so only the mean difference is bounded.
func TestScanMatchesCommitted(t *testing.T) {
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Skip("pdftoppm not installed")
	}
	var d Document
	for _, x := range Generate() {
		if x.ID == "en-credit-note-uk" {
			d = x
		}
	}
	b, err := Scan(context.Background(), filepath.Join(setDir, d.PDFFile()), d.Seed())
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(setDir, d.ImageFile()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	old, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Bounds() != old.Bounds() {
		t.Fatalf("bounds %v, committed %v", fresh.Bounds(), old.Bounds())
	}
	if diff := meanDiff(toGray(fresh), toGray(old)); diff > 3 {
		t.Errorf("mean grey difference %.2f from the committed scan", diff)
	}
}

func meanDiff(a, b *image.Gray) float64 {
	s := 0
	for i := range a.Pix {
		s += abs(int(a.Pix[i]) - int(b.Pix[i]))
	}
	return float64(s) / float64(len(a.Pix))
}

// TestTextLayer reads a generated PDF back with pdftotext: WinAnsi letters, the euro
// sign and the numbers come back as written.
func TestTextLayer(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not installed")
	}
	for _, d := range Generate() {
		if d.ID != "de-drei-steuersaetze" {
			continue
		}
		path := filepath.Join(t.TempDir(), "x.pdf")
		if err := os.WriteFile(path, d.PDF, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Jürgen Weißmüller", "RE-2024/00123", "4.027,14 €", "§ 12 Abs. 3 UStG", "Industriestraße 12 · 79108"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("text layer lacks %q:\n%s", want, out)
			}
		}
	}
}

// TestTruthConsistent checks the arithmetic of every truth record: the breakdown sums
// to subtotal and tax, subtotal + tax = total, total - discount - prepaid = amount due,
// the items sum to the subtotal (or the total when there is no tax), and the IBANs pass
// their checksum.
func TestTruthConsistent(t *testing.T) {
	docs := Generate()
	if len(docs) < 20 {
		t.Errorf("%d documents, want at least 20", len(docs))
	}
	kinds := map[string]int{}
	near := func(a, b float64) bool { return a-b < 0.005 && b-a < 0.005 }
	for _, d := range docs {
		r := d.Truth
		for _, k := range r.Meta["kinds"].([]string) {
			kinds[k]++
		}
		a := r.Invoice.Amounts
		var items float64
		for _, it := range r.LineItems {
			items += it.Amount
		}
		if a.Subtotal != nil {
			var base, tax float64
			for _, b := range r.Invoice.TaxBreakdown {
				base += b.Base
				tax += b.Amount
			}
			if !near(base, *a.Subtotal) || !near(tax, *a.Tax) || !near(*a.Subtotal+*a.Tax, *a.Total) || !near(items, *a.Subtotal) {
				t.Errorf("%s: amounts do not add up: %+v", d.ID, a)
			}
		} else if !near(items, *a.Total) {
			t.Errorf("%s: items %.2f, total %.2f", d.ID, items, *a.Total)
		}
		due := *a.Total
		if a.Discount != nil {
			due -= *a.Discount
		}
		if a.Prepaid != nil {
			due -= *a.Prepaid
		}
		if !near(due, *a.DuePayable) {
			t.Errorf("%s: due %.2f, want %.2f", d.ID, *a.DuePayable, due)
		}
		if p := r.Invoice.Payment; p != nil && !ibanValid(p.IBAN) {
			t.Errorf("%s: IBAN %s fails its checksum", d.ID, p.IBAN)
		}
		if _, err := json.Marshal(r); err != nil {
			t.Fatal(err)
		}
	}
	for k, n := range map[string]int{"agencyCommission": 3, "threeVATRates": 3, "separatorNumber": 3, "policyNumber": 3,
		"wrappedName": 3, "salutation": 3, "gln": 2, "creditNote": 3, "twoPageTable": 3, "repeatedHeader": 2, "carryOver": 1,
		"headerOnPreviousPage": 1, "usFormats": 3, "euFormats": 3, "frFormats": 3, "servicePeriod": 3} {
		if kinds[k] < n {
			t.Errorf("kind %s has %d documents, want at least %d", k, kinds[k], n)
		}
	}
}

func ibanValid(iban string) bool {
	if len(iban) < 5 {
		return false
	}
	return makeIBAN(iban[:2], iban[4:]) == iban
}

func TestMakeIBAN(t *testing.T) {
	if got := makeIBAN("DE", "370400440532013000"); got != "DE89370400440532013000" {
		t.Errorf("makeIBAN = %s", got)
	}
	if got := makeIBAN("GB", "WEST12345698765432"); got != "GB82WEST12345698765432" {
		t.Errorf("makeIBAN = %s", got)
	}
}

func TestMoneyAndDateStyles(t *testing.T) {
	for _, c := range []struct {
		st   moneyStyle
		v    money
		want string
	}{{usMoney, 123456, "1,234.56"}, {deMoney, 123456, "1.234,56"}, {frMoney, 123456789, "1 234 567,89"}, {usMoney, -5, "-0.05"}, {deMoney, 99, "0,99"}} {
		if got := c.st.fmt(c.v); got != c.want {
			t.Errorf("fmt(%d) = %q, want %q", c.v, got, c.want)
		}
	}
	d := day(2025, 3, 5)
	for st, want := range map[dateStyle]string{usDate: "03/05/2025", deDate: "05.03.2025", frDate: "05/03/2025",
		longENDate: "March 5, 2025", longDEDate: "5. März 2025", longFRDate: "5 mars 2025", ukDate: "5 Mar 2025"} {
		if got := st.fmt(d); got != want {
			t.Errorf("date style %d = %q, want %q", st, got, want)
		}
	}
}
