package einvoice

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/worker/extract/evaluate"
)

// corpusTruth is one line of the ZUGFeRD corpus's truth.jsonl, the fields compared here.
type corpusTruth struct {
	File    string `json:"file"`
	Invoice struct {
		Number   *string `json:"number"`
		Date     *string `json:"date"`
		DueDate  *string `json:"dueDate"`
		Supplier struct {
			Name  *string `json:"name"`
			TaxID *string `json:"taxId"`
		} `json:"supplier"`
		Customer struct {
			Name *string `json:"name"`
		} `json:"customer"`
		Amounts struct {
			Subtotal *float64 `json:"subtotal"`
			Tax      *float64 `json:"tax"`
			Total    *float64 `json:"total"`
			Currency *string  `json:"currency"`
		} `json:"amounts"`
	} `json:"invoice"`
	LineItems []struct {
		Amount *float64 `json:"amount"`
	} `json:"lineItems"`
}

// TestCorpusEmbeddedXML extracts the XML attachment of every dev PDF of the ZUGFeRD
// corpus with pdfdetach, reads it and compares it with the corpus truth. Every field is
// compared, also where the truth is empty (then the reading must be empty too).
func TestCorpusEmbeddedXML(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pdfdetach on 48 PDFs")
	}
	dir := filepath.Join(sharedData(t), "invoices-dev", "zugferd-corpus")
	truths := loadCorpusTruth(t, filepath.Join(dir, "truth.jsonl"))
	if _, err := exec.LookPath("pdfdetach"); err != nil {
		t.Skipf("pdfdetach (poppler-utils) not installed: %v", err)
	}
	var pdfs []string
	err := filepath.WalkDir(filepath.Join(dir, "files"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".pdf") {
			pdfs = append(pdfs, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pdfs) == 0 {
		t.Fatal("no PDFs in the corpus")
	}
	read := map[string]*Document{}
	var fields, misses, v1 int
	miss := func(file, field string, want, got any) {
		misses++
		t.Logf("MISS %s %s: truth %v, read %v", file, field, want, got)
	}
	for _, pdf := range pdfs {
		rel, _ := filepath.Rel(dir, pdf)
		rel = filepath.ToSlash(rel)
		truth, ok := truths[rel]
		if !ok {
			t.Errorf("%s: no truth", rel)
			continue
		}
		if strings.Contains(rel, "/ZUGFeRDv1/") {
			v1++
		}
		doc, err := parseAttachment(t, pdf)
		if err != nil {
			// The whole record is missed: count every field the truth has.
			n := compareTruth(truth, nil, func(string, any, any) {})
			fields += n
			misses += n
			t.Logf("MISS %s: %v (%d fields)", rel, err, n)
			continue
		}
		read[rel] = doc
		fields += compareTruth(truth, doc, func(field string, want, got any) { miss(rel, field, want, got) })
	}
	agree := 1 - float64(misses)/float64(fields)
	t.Logf("%d PDFs (%d ZUGFeRD 1.0), %d fields compared, %d misses, agreement %.4f", len(pdfs), v1, fields, misses, agree)
	if agree < 0.99 {
		t.Errorf("agreement %.4f over %d fields, want at least 0.99", agree, fields)
	}
	if v1 == 0 {
		t.Error("no ZUGFeRD 1.0 PDF was compared")
	}
	scoreWithEvaluate(t, dir, read)
}

// scoreWithEvaluate scores the readings with the project's extraction scoring, which
// also covers addresses, amount due, purchase order, customer tax id and document type.
func scoreWithEvaluate(t *testing.T, dir string, read map[string]*Document) {
	t.Helper()
	records, err := evaluate.LoadTruth(dir)
	if err != nil {
		t.Fatal(err)
	}
	total, correct := 0, 0
	perField := map[string][2]int{}
	for _, r := range records {
		doc := read[r.File]
		if doc == nil {
			continue
		}
		for _, o := range evaluate.Score(r, doc.Data) {
			c := perField[o.Field]
			c[1]++
			total++
			if o.Correct {
				c[0]++
				correct++
			} else {
				t.Logf("SCORE MISS %s %s: truth %q, read %q", r.File, o.Field, o.Truth, o.Predicted)
			}
			perField[o.Field] = c
		}
	}
	fieldNames := append(append([]string{}, evaluate.Fields...), evaluate.WiderFields...)
	for _, f := range fieldNames {
		if c, ok := perField[f]; ok {
			t.Logf("evaluate %-28s %d/%d", f, c[0], c[1])
		}
	}
	t.Logf("evaluate: %d/%d fields correct", correct, total)
	if total == 0 || float64(correct) < 0.99*float64(total) {
		t.Errorf("evaluate scores %d/%d, want at least 99%%", correct, total)
	}
}

func loadCorpusTruth(t *testing.T, path string) map[string]corpusTruth {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("corpus truth not found: %v", err)
	}
	defer f.Close()
	out := map[string]corpusTruth{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var r corpusTruth
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out[r.File] = r
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// parseAttachment saves the PDF's attachments into a temporary folder and parses the
// XML one.
func parseAttachment(t *testing.T, pdf string) (*Document, error) {
	t.Helper()
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if msg, err := exec.CommandContext(ctx, "pdfdetach", "-saveall", "-o", out, pdf).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pdfdetach: %v: %s", err, msg)
	}
	xmls, _ := filepath.Glob(filepath.Join(out, "*.xml"))
	if len(xmls) != 1 {
		return nil, fmt.Errorf("%d XML attachments, want 1", len(xmls))
	}
	data, err := os.ReadFile(xmls[0])
	if err != nil {
		return nil, err
	}
	return Parse(data, Limits{})
}

// compareTruth compares a reading (nil: none) with the truth, calls miss for each
// differing field and returns how many fields it compared.
func compareTruth(tr corpusTruth, doc *Document, miss func(field string, want, got any)) int {
	n := 0
	str := func(field string, want *string, got string) {
		n++
		w := ""
		if want != nil {
			w = strings.TrimSpace(*want)
		}
		if doc == nil || w != got {
			miss(field, fmt.Sprintf("%q", w), fmt.Sprintf("%q", got))
		}
	}
	num := func(field string, want, got *float64) {
		n++
		if doc == nil || (want == nil) != (got == nil) || (want != nil && math.Abs(*want-*got) > 0.0005) {
			miss(field, fmtNum(want), fmtNum(got))
		}
	}
	var d Document
	if doc != nil {
		d = *doc
	}
	inv := d.Data.Invoice
	ti := tr.Invoice
	str("number", ti.Number, inv.Number)
	str("date", ti.Date, inv.Date)
	str("dueDate", ti.DueDate, inv.DueDate)
	str("supplier.name", ti.Supplier.Name, inv.Supplier.Name)
	str("supplier.taxId", ti.Supplier.TaxID, inv.Supplier.TaxID)
	str("customer.name", ti.Customer.Name, inv.Customer.Name)
	num("amounts.subtotal", ti.Amounts.Subtotal, inv.Amounts.Subtotal)
	num("amounts.tax", ti.Amounts.Tax, inv.Amounts.Tax)
	num("amounts.total", ti.Amounts.Total, inv.Amounts.Total)
	str("amounts.currency", ti.Amounts.Currency, inv.Amounts.Currency)
	n++
	if doc == nil || len(d.Data.LineItems) != len(tr.LineItems) {
		miss("lineItems.count", len(tr.LineItems), len(d.Data.LineItems))
	}
	for i, li := range tr.LineItems {
		var got *float64
		if i < len(d.Data.LineItems) {
			got = d.Data.LineItems[i].Amount
		}
		num(fmt.Sprintf("lineItems[%d].amount", i), li.Amount, got)
	}
	return n
}

func fmtNum(f *float64) string {
	if f == nil {
		return "nil"
	}
	return fmt.Sprintf("%g", *f)
}
