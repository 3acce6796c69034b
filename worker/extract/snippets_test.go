package extract

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// fieldValue renders one contract path of data as text ("" when unknown).
func fieldValue(d invoice.ExtractedData, path string) string {
	inv := d.Invoice
	amt := func(v *float64) string {
		if v == nil {
			return ""
		}
		return fmt.Sprintf("%.2f", *v)
	}
	switch path {
	case "invoice.number":
		return inv.Number
	case "invoice.date":
		return inv.Date
	case "invoice.dueDate":
		return inv.DueDate
	case "invoice.supplier.name":
		return inv.Supplier.Name
	case "invoice.supplier.address":
		return inv.Supplier.Address
	case "invoice.supplier.taxId":
		return inv.Supplier.TaxID
	case "invoice.customer.name":
		return inv.Customer.Name
	case "invoice.customer.address":
		return inv.Customer.Address
	case "invoice.amounts.subtotal":
		return amt(inv.Amounts.Subtotal)
	case "invoice.amounts.tax":
		return amt(inv.Amounts.Tax)
	case "invoice.amounts.total":
		return amt(inv.Amounts.Total)
	case "invoice.amounts.currency":
		return inv.Amounts.Currency
	case "lineItems":
		return strconv.Itoa(len(d.LineItems))
	}
	return "?" + path
}

// TestSnippets runs extraction on the text snippets of testdata/snippets. Each file
// starts with "# path: want" lines ("~want" means "contains"), then "---", then the text.
func TestSnippets(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "snippets", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no snippets: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			head, text, ok := strings.Cut(string(b), "\n---\n")
			if !ok {
				t.Fatalf("%s: no --- separator", f)
			}
			res, err := Extract(FromText(text), Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(head, "\n") {
				path, want, ok := strings.Cut(strings.TrimPrefix(line, "# "), ": ")
				if !ok {
					continue
				}
				got := fieldValue(res.Data, path)
				if strings.HasPrefix(want, "~") {
					if !strings.Contains(strings.ToLower(got), strings.ToLower(want[1:])) {
						t.Errorf("%s = %q, want it to contain %q", path, got, want[1:])
					}
					continue
				}
				if got != want {
					t.Errorf("%s = %q, want %q", path, got, want)
				}
				if got != "" {
					c, ok := res.Confidence.Fields[path]
					if !ok || c <= 0 || c > 1 || math.IsNaN(c) {
						t.Errorf("%s: confidence %v (present %v), want in (0,1]", path, c, ok)
					}
				}
			}
		})
	}
}
