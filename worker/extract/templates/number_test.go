package templates

import (
	"math"
	"testing"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in, sep string
		want    float64
	}{
		{"1.234,56", ",", 1234.56},
		{"1,234.56", ".", 1234.56},
		{"1 234,56", ",", 1234.56},
		{"1'234.56", ".", 1234.56},
		{"1.234", ",", 1234},
		{"1.234", ".", 1.234},
		{"12", ",", 12},
		{"€ 12,50", ",", 12.5},
		{"12.50 EUR", ".", 12.5},
		{"-7,00", ",", -7},
		{"7,00-", ",", -7},
		{"(7.00)", ".", -7},
		{"12.00cr", ".", -12},
		// inferred separator (no decimal_separator in the template)
		{"1.234,56", "", 1234.56},
		{"1,234.56", "", 1234.56},
		{"1 234,56", "", 1234.56},
		{"12,5", "", 12.5},
		{"1,234", "", 1234},
		{"1.234", "", 1.234},
		{"1.234.567", "", 1234567},
		{"1,234,567.89", "", 1234567.89},
		{"1.234.567,89", "", 1234567.89},
		{"0,99", "", 0.99},
		{"Rs. 1,939", "", 1939},
		{"$4.11", "", 4.11},
	}
	for _, tc := range tests {
		t.Run(tc.in+"|"+tc.sep, func(t *testing.T) {
			got, err := ParseAmount(tc.in, tc.sep)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("ParseAmount(%q, %q) = %v, want %v", tc.in, tc.sep, got, tc.want)
			}
		})
	}
	for _, bad := range []struct{ in, sep string }{{"", "."}, {"EUR", ","}, {"1,234,56", ","}, {"-", ""}} {
		if v, err := ParseAmount(bad.in, bad.sep); err == nil {
			t.Errorf("ParseAmount(%q, %q) = %v, want an error", bad.in, bad.sep, v)
		}
	}
}

func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1.234,56", "1,234.56", "1 234,56", "(7.00)", "12cr", "€-3", "", "..,,", "9e99"} {
		f.Add(s, "")
		f.Add(s, ",")
		f.Add(s, ".")
	}
	f.Fuzz(func(t *testing.T, s, sep string) {
		v, err := ParseAmount(s, sep)
		if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) && len(s) < 300 {
			t.Errorf("ParseAmount(%q, %q) = %v without error", s, sep, v)
		}
	})
}
