package validate

import "testing"

func TestCheckTaxID(t *testing.T) {
	cases := []struct {
		id      string
		kind    TaxIDKind
		country string
		valid   bool
	}{
		{"DE136695976", KindEUVAT, "DE", true},
		{"DE 232 446 240", KindEUVAT, "DE", true},
		{"DE123456789", KindEUVAT, "DE", false}, // a sample number: wrong check digit
		{"FR60421938861", KindEUVAT, "FR", true},
		{"FR61421938861", KindEUVAT, "FR", false},
		{"NL810433941B01", KindEUVAT, "NL", true},
		{"NL810433942B01", KindEUVAT, "NL", false},
		{"IT00743110157", KindEUVAT, "IT", true},
		{"IT00743110158", KindEUVAT, "IT", false},
		{"BE0403170701", KindEUVAT, "BE", true},
		{"ATU13585627", KindEUVAT, "AT", true},
		{"ESA28015865", KindEUVAT, "ES", true},
		{"PL5260250274", KindEUVAT, "PL", true},
		{"PT501964843", KindEUVAT, "PT", true},
		{"DK13585628", KindEUVAT, "DK", true},
		{"FI20774740", KindEUVAT, "FI", true},
		{"LU15027442", KindEUVAT, "LU", true},
		{"DE12345678", KindEUVAT, "DE", false}, // too short
		{"06AABCO6063D1ZQ", KindGSTIN, "IN", true},
		{"06AABCO6063D1ZA", KindGSTIN, "IN", false},
		{"ABN 51 824 753 556", KindABN, "AU", true},
		{"ABN 51 824 753 557", KindABN, "AU", false},
		{"12-3456789", KindEIN, "US", true},
	}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			r, ok := CheckTaxID(c.id, "")
			if !ok {
				t.Fatalf("CheckTaxID(%q) not recognised", c.id)
			}
			if r.Kind != c.kind || r.Country != c.country || r.Valid() != c.valid {
				t.Errorf("CheckTaxID(%q) = %+v (valid %v); want kind %s country %s valid %v", c.id, r, r.Valid(), c.kind, c.country, c.valid)
			}
		})
	}
	for _, bad := range []string{"", "hello", "XX123456789", "12"} {
		t.Run("unknown "+bad, func(t *testing.T) {
			if _, ok := CheckTaxID(bad, ""); ok {
				t.Errorf("CheckTaxID(%q) recognised, want not", bad)
			}
		})
	}
}

// FuzzTaxID checks that any input is handled without a panic and that a valid result
// is stable under re-checking its normalised form.
func FuzzTaxID(f *testing.F) {
	for _, s := range []string{"DE136695976", "NL810433941B01", "06AABCO6063D1ZQ", "ABN 51 824 753 556", "12-3456789", "FRXX", "ESX1234567Z", "IE1234567FA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, ok := CheckTaxID(s, "")
		if !ok || !r.Valid() || r.Kind == KindABN || r.Kind == KindEIN {
			return
		}
		r2, ok2 := CheckTaxID(r.Normalized, "")
		if !ok2 || !r2.Valid() {
			t.Fatalf("%q valid as %q but its normal form is not: %+v", s, r.Normalized, r2)
		}
	})
}
