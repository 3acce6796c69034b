package schematrontest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sharedData returns the shared data folder's sub folder, or skips the test when it is
// absent.
func sharedData(t testing.TB, sub string) string {
	t.Helper()
	root := os.Getenv("OCRINVOICE_SHARED_DATA")
	if root == "" {
		root = filepath.Join("..", "..", "..", "shared", "data")
	}
	p := filepath.Join(root, sub)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data %s not available (set OCRINVOICE_SHARED_DATA): %v", p, err)
	}
	return p
}

// fatalIDs returns the sorted, distinct ids of the fatal failures.
func fatalIDs(fs []Failure) []string {
	var ids []string
	for _, f := range fs {
		if f.Fatal() && !slices.Contains(ids, f.ID) {
			ids = append(ids, f.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// brokenCopy writes a copy of src to dir with old replaced by new (once; the test fails
// when old is not in src) and returns its path.
func brokenCopy(t *testing.T, src, dir, name, old, new string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", src, old)
	}
	p := filepath.Join(dir, name)
	write(t, p, strings.Replace(string(b), old, new, 1))
	return p
}

// TestEN16931Samples validates every CII sample, and broken copies of one, against the
// EN 16931 Schematron in one Saxon run.
func TestEN16931Samples(t *testing.T) {
	data := sharedData(t, "einvoices")
	sch := filepath.Join(data, "schemas", "schematron", "FACTUR-X_EN16931.sch")
	files, err := filepath.Glob(filepath.Join(data, "cii", "*.cii.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CII samples in %s: %v", data, err)
	}
	einfach := filepath.Join(data, "cii", "EN16931_Einfach.cii.xml")
	dir := t.TempDir()
	// Every sample is valid except where listed. The two XRechnung samples break rules of
	// this Factur-X schema: their guideline id (BT-24) is XRechnung 3.0's, which is not in
	// its code list 1 (FX-SCH-A-000556), and the seller contact has both a person and a
	// department name (CII-SR-465). The EeISI sample named not_validating breaks no rule of
	// this schema version (every assertion of every rule holds even when each rule is
	// checked on its own, without the first-matching-rule filter), so it has none.
	want := map[string][]string{}
	for _, f := range files {
		want[f] = nil
		if strings.HasPrefix(filepath.Base(f), "XRECHNUNG_") {
			want[f] = []string{"CII-SR-465", "FX-SCH-A-000556"}
		}
	}
	broken := []struct {
		name, old, new string
		ids            []string
	}{
		{"grand-total.xml", "<ram:GrandTotalAmount>529.87<", "<ram:GrandTotalAmount>530.87<",
			// The grand total is no longer total without VAT + VAT (BR-CO-15), and the amount
			// due no longer the grand total less the paid amount (BR-CO-16).
			[]string{"BR-CO-15", "BR-CO-16"}},
		{"buyer-country.xml", "<ram:CountryID>DE</ram:CountryID>\n        </ram:PostalTradeAddress>\n      </ram:BuyerTradeParty>", "<ram:CountryID>XX</ram:CountryID>\n        </ram:PostalTradeAddress>\n      </ram:BuyerTradeParty>",
			// The buyer's country is not in the ISO 3166-1 code list.
			[]string{"FX-SCH-A-000568"}},
		{"seller-name.xml", "<ram:Name>Lieferant GmbH</ram:Name>", "",
			// No seller name (BT-27), and the element the Factur-X profile requires is gone.
			[]string{"BR-06", "FX-SCH-A-000409"}},
		{"category.xml", "<ram:CategoryCode>S</ram:CategoryCode>", "<ram:CategoryCode>X</ram:CategoryCode>",
			// The first line's category is no code of UNTDID 5305, and its net amount is missing
			// from the sum of the standard rated lines at its rate (BR-S-08).
			[]string{"BR-S-08", "FX-SCH-A-000619"}},
	}
	for _, b := range broken {
		p := brokenCopy(t, einfach, dir, b.name, b.old, b.new)
		files = append(files, p)
		want[p] = b.ids
	}
	got := RunAll(t, sch, files)
	for _, f := range files {
		if ids := fatalIDs(got[f]); !slices.Equal(ids, want[f]) {
			t.Errorf("%s: fatal failures %v, want %v", filepath.Base(f), ids, want[f])
			for _, x := range got[f] {
				t.Logf("  %+v", x)
			}
		}
	}
}
