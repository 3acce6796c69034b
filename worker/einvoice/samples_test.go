package einvoice

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// sharedDataDir is the shared data folder: $OCRINVOICE_SHARED_DATA, else the one beside
// the checkout.
func sharedDataDir() string {
	if dir := os.Getenv("OCRINVOICE_SHARED_DATA"); dir != "" {
		return dir
	}
	return filepath.Join("..", "..", "..", "shared", "data")
}

// sharedData returns the shared data folder, or skips.
func sharedData(t testing.TB) string {
	t.Helper()
	dir := sharedDataDir()
	if _, err := os.Stat(filepath.Join(dir, "einvoices")); err != nil {
		t.Skipf("shared data not found at %s (set OCRINVOICE_SHARED_DATA): %v", dir, err)
	}
	return dir
}

// sampleFiles lists the XML samples of one syntax folder ("cii" or "ubl").
func sampleFiles(t testing.TB, syntax string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(sharedData(t), "einvoices", syntax, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples in einvoices/%s: %v", syntax, err)
	}
	return files
}

func parseFile(t testing.TB, path string) *Document {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Parse(data, Limits{})
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(path), err)
	}
	return doc
}

// TestSamplesParse reads every sample and checks what every e-invoice must have.
func TestSamplesParse(t *testing.T) {
	for _, syntax := range []string{"cii", "ubl"} {
		for _, f := range sampleFiles(t, syntax) {
			t.Run(syntax+"/"+filepath.Base(f), func(t *testing.T) {
				doc := parseFile(t, f)
				inv := doc.Data.Invoice
				if doc.Info.Syntax != syntax {
					t.Errorf("syntax %q, want %q", doc.Info.Syntax, syntax)
				}
				if doc.Info.Profile == "" || doc.TypeCode == "" {
					t.Errorf("profile %q, type code %q: want both", doc.Info.Profile, doc.TypeCode)
				}
				if inv.Number == "" || len(inv.Date) != 10 || inv.Amounts.Currency == "" || inv.DocumentType == "" {
					t.Errorf("header incomplete: %+v", inv)
				}
				if inv.Supplier.Name == "" || inv.Customer.Name == "" || inv.Supplier.Country == "" {
					t.Errorf("parties incomplete: %+v / %+v", inv.Supplier, inv.Customer)
				}
				if inv.Amounts.Total == nil || inv.Amounts.Subtotal == nil || inv.Amounts.Tax == nil || inv.AmountDue == nil {
					t.Errorf("amounts incomplete: %+v", inv.Amounts)
				}
				if len(inv.TaxBreakdown) == 0 || len(doc.Data.LineItems) == 0 {
					t.Errorf("%d tax rows, %d line items: want both", len(inv.TaxBreakdown), len(doc.Data.LineItems))
				}
				for i, li := range doc.Data.LineItems {
					if li.Description == "" || li.Amount == nil || li.Quantity == nil || li.UnitCode == "" {
						t.Errorf("line %d incomplete: %+v", i+1, li)
					}
				}
				if inv.Payment.DueDays != nil {
					t.Errorf("dueDays %d: EN 16931 has no such field", *inv.Payment.DueDays)
				}
				checkAddressRoundTrip(t, inv.Supplier.Address)
				checkAddressRoundTrip(t, inv.Customer.Address)
			})
		}
	}
}

// checkAddressRoundTrip checks that the address string reads back into the same parts.
func checkAddressRoundTrip(t *testing.T, s string) {
	t.Helper()
	if got := FormatAddress(ParseAddress(s)); got != s {
		t.Errorf("address %q reads back as %q (%+v)", s, got, ParseAddress(s))
	}
}

// TestSamplesCIIEqualsUBL compares each scenario written in both syntaxes: the model
// must not depend on the syntax.
func TestSamplesCIIEqualsUBL(t *testing.T) {
	compared := 0
	for _, f := range sampleFiles(t, "cii") {
		base := strings.TrimSuffix(filepath.Base(f), ".cii.xml")
		ublPath := filepath.Join(filepath.Dir(filepath.Dir(f)), "ubl", base+".ubl.xml")
		if _, err := os.Stat(ublPath); err != nil {
			t.Errorf("%s: no UBL twin: %v", base, err)
			continue
		}
		t.Run(base, func(t *testing.T) {
			cii, ubl := parseFile(t, f), parseFile(t, ublPath)
			if cii.TypeCode != ubl.TypeCode {
				t.Errorf("type code: CII %q, UBL %q", cii.TypeCode, ubl.TypeCode)
			}
			if forget, ok := syntaxDifferences[base]; ok {
				forget(&cii.Data)
				forget(&ubl.Data)
			}
			if !reflect.DeepEqual(cii.Data, ubl.Data) {
				diffData(t, cii.Data, ubl.Data)
			}
		})
		compared++
	}
	if compared < 14 {
		t.Errorf("compared %d scenarios, want the 14 of the samples", compared)
	}
}

// syntaxDifferences clears, in both readings, the fields in which the two files of a
// scenario really say different things.
var syntaxDifferences = map[string]func(d *invoice.ExtractedData){
	// The deliberately broken full-model sample: the UBL file has line amounts of 1000
	// where the CII file has 100 (so VAT 50 instead of 5 and tax bases 1000 instead of
	// 100, and allowance and charge bases of 1000 instead of 100) and carries no payment
	// means, where the CII file has a credit transfer account.
	"not_validating_full_invoice_based_onTest_EeISI_300_CENfullmodel": func(d *invoice.ExtractedData) {
		d.Invoice.Amounts.Tax = nil
		d.Invoice.Payment.IBAN = ""
		for i := range d.Invoice.TaxBreakdown {
			d.Invoice.TaxBreakdown[i].Base, d.Invoice.TaxBreakdown[i].Amount = nil, nil
		}
		for i := range d.LineItems {
			d.LineItems[i].Amount = nil
		}
		for i := range d.Invoice.Allowances {
			d.Invoice.Allowances[i].Base = nil
		}
	},
}

// diffData reports the differing fields of two readings.
func diffData(t *testing.T, a, b invoice.ExtractedData) {
	t.Helper()
	diffValue(t, "data", reflect.ValueOf(a), reflect.ValueOf(b))
}

func diffValue(t *testing.T, path string, a, b reflect.Value) {
	t.Helper()
	switch a.Kind() {
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			diffValue(t, path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
		}
	case reflect.Slice:
		if a.Len() != b.Len() {
			t.Errorf("%s: CII %d entries, UBL %d: %+v / %+v", path, a.Len(), b.Len(), a.Interface(), b.Interface())
			return
		}
		for i := 0; i < a.Len(); i++ {
			diffValue(t, path+"["+strconv.Itoa(i)+"]", a.Index(i), b.Index(i))
		}
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				t.Errorf("%s: CII %v, UBL %v", path, show(a), show(b))
			}
			return
		}
		diffValue(t, path, a.Elem(), b.Elem())
	default:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			t.Errorf("%s: CII %#v, UBL %#v", path, a.Interface(), b.Interface())
		}
	}
}

func show(v reflect.Value) any {
	if v.IsNil() {
		return "nil"
	}
	return v.Elem().Interface()
}
