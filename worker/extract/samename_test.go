package extract

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// TestCustomerIsNotSupplier reads the OCR of a noisy synthetic scan (made by
// worker/extract/synth, read by worker/ocr, kept as layout JSON) whose sender line OCR
// split over two rows and whose letterhead it split before the legal form: the
// supplier is the whole letterhead name, and the customer is not the supplier.
func TestCustomerIsNotSupplier(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "scan_sender_split.layout.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ld layout.Document
	if err := json.Unmarshal(b, &ld); err != nil {
		t.Fatal(err)
	}
	res, err := Extract(&ld, Options{})
	if err != nil {
		t.Fatal(err)
	}
	inv := res.Data.Invoice
	if inv.Supplier.Name != "Haustechnik Brandl GmbH" {
		t.Errorf("supplier %q, want the letterhead's name with its legal form, which OCR set apart", inv.Supplier.Name)
	}
	if sameName(inv.Supplier.Name, inv.Customer.Name) {
		t.Errorf("supplier %q, customer %q: the customer must not be the supplier", inv.Supplier.Name, inv.Customer.Name)
	}
	for _, c := range []struct {
		a, b string
		same bool
	}{{"Haustechnik Brandl GmbH", "haustechnik  brandl GmbH.", true}, {"Brandl GmbH", "Brandl AG", false}, {"", "", false}} {
		if got := sameName(c.a, c.b); got != c.same {
			t.Errorf("sameName(%q, %q) = %v, want %v", c.a, c.b, got, c.same)
		}
	}
}
