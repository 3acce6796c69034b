package validate

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/schematrontest"
	"github.com/ocrinvoice/ocrinvoice/worker/einvoice"
)

// goRules are the EN 16931 rules EN16931 implements, by the id the Schematron gives
// them: a code-list rule is checked there under a Factur-X id of its own.
var goRules = map[string][]string{
	"BR-02": {"BR-02"}, "BR-03": {"BR-03"}, "BR-04": {"BR-04"}, "BR-05": {"BR-05"}, "BR-06": {"BR-06"},
	"BR-07": {"BR-07"}, "BR-08": {"BR-08"}, "BR-09": {"BR-09"}, "BR-10": {"BR-10"}, "BR-11": {"BR-11"},
	"BR-12": {"BR-12"}, "BR-13": {"BR-13"}, "BR-14": {"BR-14"}, "BR-15": {"BR-15"}, "BR-16": {"BR-16"},
	"BR-CO-13": {"BR-CO-13"}, "BR-CO-14": {"BR-CO-14"}, "BR-CO-15": {"BR-CO-15"}, "BR-CO-16": {"BR-CO-16"}, "BR-CO-17": {"BR-CO-17"},
	"BR-45": {"BR-45"}, "BR-46": {"BR-46"}, "BR-47": {"BR-47"}, "BR-48": {"BR-48"},
	"BR-S-09": {"BR-S-09"}, "BR-S-10": {"BR-S-10"}, "BR-Z-09": {"BR-Z-09"}, "BR-Z-10": {"BR-Z-10"},
	"BR-E-09": {"BR-E-09"}, "BR-E-10": {"BR-E-10"}, "BR-AE-09": {"BR-AE-09"}, "BR-AE-10": {"BR-AE-10"},
	"BR-CL-04": {"FX-SCH-A-000595"},
	"BR-CL-14": {"FX-SCH-A-000580", "FX-SCH-A-000568"},
	"BR-CL-17": {"FX-SCH-A-000587"},
}

// TestEN16931AgreesWithSchematron: on every CII sample, and on copies broken on purpose,
// the rules EN16931 implements fire exactly where the reference Schematron's do (read
// through the e-invoice reader, strict: the findings of an e-invoice are errors).
func TestEN16931AgreesWithSchematron(t *testing.T) {
	dir := filepath.Join(sharedData(t), "einvoices")
	sch := filepath.Join(dir, "schemas", "schematron", "FACTUR-X_EN16931.sch")
	files, _ := filepath.Glob(filepath.Join(dir, "cii", "*.cii.xml"))
	if len(files) == 0 {
		t.Skipf("no CII samples in %s", dir)
	}
	// Copies broken on purpose, each in a way one implemented rule catches.
	einfach := filepath.Join(dir, "cii", "EN16931_Einfach.cii.xml")
	src, err := os.ReadFile(einfach)
	if err != nil {
		t.Fatal(err)
	}
	rabatte, err := os.ReadFile(filepath.Join(dir, "cii", "EN16931_Rabatte.cii.xml"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	// The net total off the lines less the allowances plus the charges (BR-CO-13; the
	// grand total then breaks BR-CO-15 too).
	const basis = "<ram:TaxBasisTotalAmount>193.77</ram:TaxBasisTotalAmount>"
	if !strings.Contains(string(rabatte), basis) {
		t.Fatalf("%q is not in the Rabatte sample", basis)
	}
	p := filepath.Join(tmp, "tax-basis.xml")
	if err := os.WriteFile(p, []byte(strings.Replace(string(rabatte), basis, "<ram:TaxBasisTotalAmount>194.77</ram:TaxBasisTotalAmount>", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	files = append(files, p)
	for name, edit := range map[string][2]string{
		"grand-total.xml":   {"<ram:GrandTotalAmount>529.87</ram:GrandTotalAmount>", "<ram:GrandTotalAmount>592.87</ram:GrandTotalAmount>"},
		"buyer-country.xml": {"<ram:CityName>Frankfurt</ram:CityName>\n          <ram:CountryID>DE</ram:CountryID>", "<ram:CityName>Frankfurt</ram:CityName>\n          <ram:CountryID>XX</ram:CountryID>"},
		"currency.xml":      {"<ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>", "<ram:InvoiceCurrencyCode>EUX</ram:InvoiceCurrencyCode>"},
	} {
		if !strings.Contains(string(src), edit[0]) {
			t.Fatalf("%s: %q is not in the sample", name, edit[0])
		}
		p := filepath.Join(tmp, name)
		out := strings.Replace(string(src), edit[0], edit[1], 1)
		if name == "currency.xml" { // the VAT total in the invoice currency too
			out = strings.ReplaceAll(out, `currencyID="EUR"`, `currencyID="EUX"`)
		}
		if err := os.WriteFile(p, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	ref := schematrontest.RunAll(t, sch, files)
	checked, fired := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := einvoice.Parse(data, einvoice.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		var got, want []string
		for _, e := range EN16931(doc.Data, true) {
			if e.Severity == invoice.SeverityError && len(goRules[e.Rule]) > 0 && !slices.Contains(got, e.Rule) {
				got = append(got, e.Rule)
			}
		}
		for _, fl := range ref[f] {
			if !fl.Fatal() {
				continue
			}
			for rule, ids := range goRules {
				if slices.Contains(ids, fl.ID) && !slices.Contains(want, rule) {
					want = append(want, rule)
				}
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: Go rules %v, Schematron %v", filepath.Base(f), got, want)
		}
		checked++
		fired += len(want)
	}
	if fired < 4 {
		t.Errorf("only %d implemented rules fired over the broken copies: the comparison proves little", fired)
	}
	t.Logf("%d documents, %d rule firings compared", checked, fired)
}
