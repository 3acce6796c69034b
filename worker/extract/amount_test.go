package extract

import (
	"math"
	"testing"
)

func TestParseAmount(t *testing.T) {
	cases := []struct {
		in   string
		hint DecimalSep
		want float64
		ok   bool
	}{
		{"1.234,56", 0, 1234.56, true},
		{"1,234.56", 0, 1234.56, true},
		{"1 234,56", 0, 1234.56, true},
		{"1'234.50", 0, 1234.5, true},
		{"$4.11", 0, 4.11, true},
		{"€ -9,32", 0, -9.32, true},
		{"(12.00)", 0, -12, true},
		{"12.00-", 0, -12, true},
		{"RM 9.00", 0, 9, true},
		{"Rs 1939", 0, 1939, true},
		{"529,87 EUR", 0, 529.87, true},
		{"3,3333", 0, 3.3333, true},
		{"0.025", 0, 0.025, true},
		{"1.234", 0, 1234, true},
		{"1.234", ',', 1234, true},
		{"1,234", ',', 1.234, true},
		{"2.321,00", 0, 2321, true},
		{"4.053,67", ',', 4053.67, true},
		{"1.234.567,89", 0, 1234567.89, true},
		{"12.5", 0, 12.5, true},
		{"", 0, 0, false},
		{"abc", 0, 0, false},
		{"12a", 0, 0, false},
		{"1,23,4", 0, 0, false},
		{"12.34567", 0, 0, false},
		{"DE123456789", 0, 0, false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, ok := ParseAmount(c.in, c.hint)
			if ok != c.ok || (ok && math.Abs(got-c.want) > 1e-9) {
				t.Errorf("ParseAmount(%q, %q) = %v, %v; want %v, %v", c.in, c.hint, got, ok, c.want, c.ok)
			}
		})
	}
}

func TestFindAmounts(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want []float64
	}{
		{"skips percent and dates", "Tax 15% on $ 112.90 on 03/20/2023   $ 16.94", []float64{112.90, 16.94}},
		{"skips ids", "IBAN DE88200800000970375700 total 12,50", []float64{12.5}},
		{"columns", "1  278.61  14.50%  40.39  319.00", []float64{1, 278.61, 40.39, 319}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []float64
			for _, a := range findAmounts(maskDates(c.in, DMY), '.') {
				got = append(got, a.Value)
			}
			if len(got) != len(c.want) {
				t.Fatalf("findAmounts(%q) = %v, want %v", c.in, got, c.want)
			}
			for i := range got {
				if math.Abs(got[i]-c.want[i]) > 1e-9 {
					t.Fatalf("findAmounts(%q) = %v, want %v", c.in, got, c.want)
				}
			}
		})
	}
}

func TestDetectDecimalSep(t *testing.T) {
	if got := detectDecimalSep("Summe 1.234,56\nMwSt 19,00"); got != ',' {
		t.Errorf("German text: got %q, want ','", got)
	}
	if got := detectDecimalSep("Total $1,234.56\nTax 0.00"); got != '.' {
		t.Errorf("English text: got %q, want '.'", got)
	}
}

// FuzzParseAmount checks that any input gives a finite value or false, never a panic.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1.234,56", "$4.11", "(12.00)", "1 234,56", "-", "€", "1e5", "٣٤", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := ParseAmount(s, 0)
		if ok && (math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Fatalf("ParseAmount(%q) = %v", s, v)
		}
		_ = findAmounts(s, ',')
	})
}
