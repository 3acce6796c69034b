package vocab

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMonth(t *testing.T) {
	for name, want := range map[string]int{
		"january": 1, "jan": 1, "janner": 1, "stycznia": 1,
		"fevrier": 2, "fevr": 2, "fev": 2, "feber": 2, "lutego": 2,
		"marz": 3, "maerz": 3, "mrz": 3, "mrt": 3, "marco": 3,
		"mai": 5, "mei": 5, "maj": 5,
		"aout": 8, "ago": 8, "sie": 8,
		"sept": 9, "setiembre": 9, "set": 9,
		"out": 10, "okt": 10, "pazdziernika": 10,
		"dec": 12, "dez": 12, "dic": 12, "gru": 12,
	} {
		if got, ok := Month(name); !ok || got != want {
			t.Errorf("Month(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
	for _, name := range []string{"", "marzipan", "total", "März"} {
		if got, ok := Month(name); ok {
			t.Errorf("Month(%q) = %d; want none (names are looked up folded)", name, got)
		}
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{"Février": "fevrier", "MÄRZ": "marz", "Août": "aout", "Straße": "strase", "déc.": "dec."} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMonthNamesLongestFirst: an alternation built from MonthNames takes "septembre"
// whole, not "sept" or "sep".
func TestMonthNamesLongestFirst(t *testing.T) {
	names := MonthNames()
	for i := 1; i < len(names); i++ {
		if len(names[i]) > len(names[i-1]) {
			t.Fatalf("%q before the longer %q", names[i-1], names[i])
		}
	}
	re := regexp.MustCompile(`^(?:` + strings.Join(names, "|") + `)`)
	if got := re.FindString("septembre 2024"); got != "septembre" {
		t.Errorf("alternation matched %q, want septembre", got)
	}
}

func TestCodeOfSign(t *testing.T) {
	for sign, want := range map[string]string{"€": "EUR", "$": "USD", "US$": "USD", "Rs.": "INR", "₹": "INR", "RM": "MYR",
		"Fr.": "CHF", "CHF": "CHF", "zł": "PLN", "kr": "SEK", "R$": "BRL", "A$": "AUD", "C$": "CAD", "¥": "JPY", "£": "GBP"} {
		if got, ok := CodeOfSign(sign); !ok || got != want {
			t.Errorf("CodeOfSign(%q) = %q, %v; want %q", sign, got, ok, want)
		}
	}
	if c, ok := CodeOfSign("EURO"); ok {
		t.Errorf("CodeOfSign(EURO) = %q; want none", c)
	}
}

// TestMarks: every code and sign is there once, and a mark comes before every mark it
// ends or starts with ("Rs." before "Rs", "US$" before "$").
func TestMarks(t *testing.T) {
	marks := Marks()
	seen := map[string]bool{}
	for i, m := range marks {
		if seen[m] {
			t.Errorf("%q twice", m)
		}
		seen[m] = true
		for _, later := range marks[i+1:] {
			if utf8.RuneCountInString(later) > utf8.RuneCountInString(m) {
				t.Errorf("%q before the longer %q", m, later)
			}
		}
	}
	for _, c := range Currencies {
		for _, s := range c.Signs {
			if !seen[s] {
				t.Errorf("sign %q of %s missing", s, c.Code)
			}
		}
	}
	for _, c := range Codes {
		if !seen[c] {
			t.Errorf("code %s missing", c)
		}
	}
}

// TestCurrencyTexts: every pattern compiles and finds its currency beside an amount
// but not a bare "$" or "RM" inside a word.
func TestCurrencyTexts(t *testing.T) {
	found := map[string]string{"EUR": "Total 12,00 €", "USD": "Total $12.00", "GBP": "£12", "INR": "Rs. 120", "MYR": "RM 9.00", "JPY": "¥1200"}
	for _, c := range Currencies {
		if c.Text == "" {
			continue
		}
		re := regexp.MustCompile(c.Text)
		if s, ok := found[c.Code]; ok && !re.MatchString(s) {
			t.Errorf("%s: %q not found in %q", c.Code, c.Text, s)
		}
	}
	for code, s := range map[string]string{"USD": "part $12", "MYR": "FIRM 12"} {
		for _, c := range Currencies {
			if c.Code == code && regexp.MustCompile(c.Text).MatchString(s) {
				t.Errorf("%s found in %q", code, s)
			}
		}
	}
}
