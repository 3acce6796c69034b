package templates

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestTranslatePython(t *testing.T) {
	tests := []struct{ in, want string }{
		{`(?P<name>\d+)`, `(?<name>\d+)`},
		{`(?P<a>x)(?P=a)`, `(?<a>x)\k<a>`},
		{`\d{,3}`, `\d{0,3}`},
		{`a{2,}`, `a{2,}`},
		{`x{,}`, `x{,}`},
		{`end\Z`, `end\z`},
		{`[[]x]`, `[\[]x]`},
		{`[]a]`, `[\]a]`},
		{`[^]a]`, `[^\]a]`},
		{`[a-z-[b]]`, `[a-z-\[b]]`},
		{`\(?P<x>`, `\(?P<x>`},
		{`[(?P<]`, `[(?P<]`},
		{`(?u)\w+`, `\w+`},
		{`(?iu)abc`, `(?i)abc`},
		{`(?i:abc)`, `(?i:abc)`},
		{`(?<=€\s)\d+`, `(?<=€\s)\d+`},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := translatePython(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("translatePython(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	for _, bad := range []string{`abc\`, `[abc`} {
		if _, err := translatePython(bad); err == nil {
			t.Errorf("translatePython(%q): no error", bad)
		}
	}
}

// TestPythonRegexFeatures runs patterns that Go's regexp rejects or reads differently and
// checks that findAll gives what Python's re.findall gives.
func TestPythonRegexFeatures(t *testing.T) {
	tests := []struct {
		name, pattern, text string
		want                []string
	}{
		{"lookbehind", `(?<=Total:\s)(\d+\.\d\d)`, "Sub: 1.00\nTotal: 12.50", []string{"12.50"}},
		{"negative lookbehind", `(?<!Sub)Total (\d+)`, "SubTotal 5 Total 7", []string{"7"}},
		{"lookahead", `(\d+)(?=\s*EUR)`, "10 USD 20 EUR", []string{"20"}},
		{"python {,n}", `(\d{,3})€`, "12345€", []string{"345"}},
		{"named group", `Invoice (?P<nr>[A-Z]+-\d+)`, "Invoice AB-12 and Invoice CD-3", []string{"AB-12", "CD-3"}},
		{"named backreference", `(?P<q>['"])(.+?)(?P=q)`, `say "hi" and 'yo'`, []string{`"`, `'`}},
		{"numbered backreference", `(\w)\1`, "abba cc", []string{"b", "c"}},
		{"no group is the whole match", `\d{4}-\d\d`, "2020-01 and 2021-02", []string{"2020-01", "2021-02"}},
		{"dot does not cross lines", `A(.+)B`, "A1\n2B", nil},
		{"inline dotall", `(?s)A(.+)B`, "A1\n2B", []string{"1\n2"}},
		{"caret is start of text only", `^(\d+)`, "1\n2", []string{"1"}},
		{"inline multiline", `(?m)^(\d+)`, "1\n2", []string{"1", "2"}},
		{"groups numbered in pattern order", `(?P<a>x)(y)`, "xy", []string{"x"}},
		{"unicode word", `Réf\.\s(\w+)`, "Réf. Größe", []string{"Größe"}},
		{"optional group not taking part", `A(\d)?B`, "AB A1B", []string{"", "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			re, err := compilePython(tc.pattern, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			got, err := re.findAll(tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("findAll(%q, %q) = %q, want %q", tc.pattern, tc.text, got, tc.want)
			}
		})
	}
}

func TestPythonSubAndSplit(t *testing.T) {
	subs := []struct{ pattern, repl, text, want string }{
		{`(?P<qty>\d{2}\s)L`, `\g<qty>LTR`, "12 L oil", "12 LTR oil"},
		{`(\d+),(\d\d)`, `\1.\2`, "12,50", "12.50"},
		{`e´ `, `é`, "caf e´ ", "caf é"},
		{`\$`, `USD$`, "$5", "USD$5"},
		{`L.P.\s`, `LPG`, "L.P. gas", "LPGgas"},
	}
	for _, tc := range subs {
		t.Run("sub "+tc.pattern, func(t *testing.T) {
			re, err := compilePython(tc.pattern, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			got, err := re.sub(tc.text, tc.repl)
			if err != nil || got != tc.want {
				t.Errorf("sub = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	re, _ := compilePython(`\n\n`, time.Second)
	got, err := re.split("a\n\nb\nc\n\n")
	if err != nil || !reflect.DeepEqual(got, []string{"a", "b\nc", ""}) {
		t.Errorf("split = %q, %v", got, err)
	}
}

// TestCatastrophicRegexTimesOut checks that a pattern with exponential backtracking fails
// with an error naming it, within its timeout, instead of hanging.
func TestCatastrophicRegexTimesOut(t *testing.T) {
	text := strings.Repeat("a", 40) + "!"
	tests := []struct {
		name    string
		pattern string
	}{
		{"nested plus", `^(a+)+$`},
		{"nested star with alternation", `^(a|aa)*$`},
		{"word runs", `^(\w+\s?)*$`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			re, err := compilePython(tc.pattern, 100*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = re.findAll(text)
			elapsed := time.Since(start)
			if err == nil {
				t.Fatalf("no error after %s", elapsed)
			}
			if elapsed > 3*time.Second {
				t.Errorf("took %s with a 100ms timeout", elapsed)
			}
			if !errors.Is(err, ErrMatchTimeout) {
				t.Errorf("error %q does not wrap ErrMatchTimeout", err)
			}
			if !strings.Contains(err.Error(), strconv.Quote(tc.pattern)) {
				t.Errorf("error %q does not name the pattern", err)
			}
		})
	}

	t.Run("Apply keeps the other fields", func(t *testing.T) {
		tpl := mustSpecTemplate(t, map[string]string{
			"invoice_number": `No (\d+)`,
			"slow":           `^(a+)+$`,
		}, WithMatchTimeout(100*time.Millisecond))
		res, err := tpl.Apply(text + "\nNo 42")
		if err == nil || !strings.Contains(err.Error(), `field "slow"`) || !strings.Contains(err.Error(), "timeout") {
			t.Fatalf("Apply error = %v, want a timeout naming field slow", err)
		}
		if res == nil || res.Fields["invoice.number"].String != "42" {
			t.Errorf("result beside the timeout = %+v", res)
		}
	})
}
