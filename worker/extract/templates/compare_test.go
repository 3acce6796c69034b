package templates

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
	"unicode"
)

// truthRecord is one line of an invoices-dev truth.jsonl (the fields scored here).
type truthRecord struct {
	File    string `json:"file"`
	Invoice struct {
		Number   string `json:"number"`
		Date     string `json:"date"`
		DueDate  string `json:"dueDate"`
		Supplier struct {
			Name    string          `json:"name"`
			TaxID   string          `json:"taxId"`
			Address json.RawMessage `json:"address"`
		} `json:"supplier"`
		Amounts struct {
			Subtotal *float64 `json:"subtotal"`
			Tax      *float64 `json:"tax"`
			Total    *float64 `json:"total"`
			Currency string   `json:"currency"`
		} `json:"amounts"`
	} `json:"invoice"`
	LineItems []struct {
		Amount *float64 `json:"amount"`
	} `json:"lineItems"`
}

// scoredFields counts the truth's fields that TestCompareSharedInvoices scores.
func (tr truthRecord) scoredFields() int {
	n := 0
	inv := tr.Invoice
	for _, s := range []string{inv.Number, inv.Date, inv.DueDate, inv.Supplier.Name, inv.Supplier.TaxID, inv.Amounts.Currency} {
		if s != "" {
			n++
		}
	}
	for _, f := range []*float64{inv.Amounts.Subtotal, inv.Amounts.Tax, inv.Amounts.Total} {
		if f != nil {
			n++
		}
	}
	if len(tr.LineItems) > 0 {
		n++
	}
	for _, li := range tr.LineItems {
		if li.Amount != nil {
			n++
		}
	}
	return n
}

// documentText is the text invoice2data reads: `pdftotext -layout` for PDFs, the file
// itself for .txt. ok is false for other formats (they need OCR).
func documentText(t testing.TB, path string) (string, bool) {
	t.Helper()
	if strings.EqualFold(filepath.Ext(path), ".pdf") {
		if _, err := exec.LookPath("pdftotext"); err != nil {
			t.Skip("pdftotext not installed")
		}
	}
	text, ok, err := readDocumentText(path)
	if err != nil {
		t.Fatal(err)
	}
	return text, ok
}

func readDocumentText(path string) (string, bool, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".txt":
		b, err := os.ReadFile(path)
		return string(b), err == nil, err
	case ".pdf":
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, "pdftotext", "-layout", path, "-").Output()
		if err != nil {
			return "", false, fmt.Errorf("pdftotext %s: %w", path, err)
		}
		return string(out), true, nil
	}
	return "", false, nil
}

func normName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) {
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func normID(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), ""))
}

// TestCompareSharedInvoices runs Select and Apply over the text-layer documents of
// invoices-dev/invoice2data-compare with the shared invoice2data templates and scores the
// fields as invoices-dev/README.md says (line items: the count, and each true amount
// among the predicted ones). Documents no template
// selects count as misses for all their fields. It fails when fewer than 90% of the fields
// of selected documents, or fewer than 75% of all scored fields, match.
func TestCompareSharedInvoices(t *testing.T) {
	tdir := sharedData(t, "invoice2data-templates")
	ddir := sharedData(t, "invoices-dev/invoice2data-compare")
	ts, err := LoadPath(tdir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(ddir, "truth.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var total, hits, unselected, docs, selected int
	perField := map[string][2]int{}
	score := func(doc, field string, ok bool, got, want any) {
		total++
		c := perField[field]
		c[1]++
		if ok {
			hits++
			c[0]++
		} else {
			t.Logf("%s: %s = %v, want %v", doc, field, got, want)
		}
		perField[field] = c
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var tr truthRecord
		if err := json.Unmarshal(sc.Bytes(), &tr); err != nil {
			t.Fatal(err)
		}
		text, ok := documentText(t, filepath.Join(ddir, tr.File))
		if !ok {
			continue
		}
		docs++
		tpl := Select(ts, text)
		if tpl == nil {
			t.Logf("%s: no template selected (%d fields missed)", tr.File, tr.scoredFields())
			unselected += tr.scoredFields()
			continue
		}
		selected++
		res, err := tpl.Apply(text)
		if err != nil {
			t.Errorf("%s: apply %s: %v", tr.File, tpl.Name, err)
			continue
		}
		t.Logf("%s: template %s, missing %v, warnings %v", tr.File, tpl.Name, res.Missing, res.Warnings)
		inv := tr.Invoice
		str := func(p string) string { return res.Fields[p].String }
		amount := func(field, p string, want *float64) {
			if want == nil {
				return
			}
			v := res.Fields[p].Float
			score(tr.File, field, v != nil && math.Abs(*v-*want) <= 0.01, v, *want)
		}
		if inv.Number != "" {
			score(tr.File, "number", normID(str("invoice.number")) == normID(inv.Number), str("invoice.number"), inv.Number)
		}
		if inv.Date != "" {
			score(tr.File, "date", res.Fields["invoice.date"].Date == inv.Date, res.Fields["invoice.date"].Date, inv.Date)
		}
		if inv.DueDate != "" {
			score(tr.File, "dueDate", res.Fields["invoice.dueDate"].Date == inv.DueDate, res.Fields["invoice.dueDate"].Date, inv.DueDate)
		}
		if inv.Supplier.Name != "" {
			name := str("invoice.supplier.name")
			if res.Fields["invoice.supplier.name"].Source == SourceIssuer {
				t.Logf("%s: supplier name from the template's issuer %q", tr.File, name)
			}
			score(tr.File, "supplier.name", normName(name) == normName(inv.Supplier.Name), name, inv.Supplier.Name)
		}
		if inv.Supplier.TaxID != "" {
			score(tr.File, "supplier.taxId", normID(str("invoice.supplier.taxId")) == normID(inv.Supplier.TaxID), str("invoice.supplier.taxId"), inv.Supplier.TaxID)
		}
		amount("subtotal", "invoice.amounts.subtotal", inv.Amounts.Subtotal)
		amount("tax", "invoice.amounts.tax", inv.Amounts.Tax)
		amount("total", "invoice.amounts.total", inv.Amounts.Total)
		if len(tr.LineItems) > 0 {
			score(tr.File, "lineItems.count", len(res.LineItems) == len(tr.LineItems), len(res.LineItems), len(tr.LineItems))
			for _, want := range tr.LineItems {
				if want.Amount == nil {
					continue
				}
				found := false
				for _, got := range res.LineItems {
					if got.Amount != nil && math.Abs(*got.Amount-*want.Amount) <= 0.01 {
						found = true
					}
				}
				score(tr.File, "lineItems.amount", found, "not among the line amounts", *want.Amount)
			}
		}
		if inv.Amounts.Currency != "" {
			score(tr.File, "currency", str("invoice.amounts.currency") == inv.Amounts.Currency, str("invoice.amounts.currency"), inv.Amounts.Currency)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for k, v := range perField {
		t.Logf("field %-15s %d/%d", k, v[0], v[1])
	}
	t.Logf("documents with a template: %d/%d", selected, docs)
	t.Logf("fields matching the truth on selected documents: %d/%d", hits, total)
	t.Logf("fields matching the truth on all documents: %d/%d", hits, total+unselected)
	if total == 0 || float64(hits) < 0.9*float64(total) {
		t.Errorf("only %d of %d fields of selected documents match the truth", hits, total)
	}
	if float64(hits) < 0.75*float64(total+unselected) {
		t.Errorf("only %d of %d fields match the truth", hits, total+unselected)
	}
}
