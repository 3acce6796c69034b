package extract

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ocrinvoice/ocrinvoice/worker/extract/vocab"
)

// DecimalSep is a document's decimal separator: '.' or ','. Zero means "decide per value".
type DecimalSep byte

// amountToken matches one amount-like token inside a line: optional sign or
// parenthesis, digits with optional grouping (".", ",", "'", thin or plain space between
// groups of three) and an optional decimal part.
var amountToken = regexp.MustCompile(`[-−(]?\d{1,3}(?:(?:[.,'’\x{202f}\x{a0}]|\s)\d{3})+(?:[.,]\d{1,4})?-?\)?|[-−(]?\d+(?:[.,]\d{1,4})?-?\)?`)

// ParseAmount parses one monetary amount such as "1.234,56", "1,234.56", "1 234,56",
// "$4.11", "€ -9,32", "(12.00)", "12.00-", "RM 9.00" or "1939". hint is the document's
// decimal separator when known (0 = infer from the value: a separator followed by one,
// two or four digits is decimal; one followed by exactly three digits is grouping unless
// the integer part is 0). It reports false when s holds no amount or holds other text
// than an amount and a currency.
func ParseAmount(s string, hint DecimalSep) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return 0, false
	}
	s, neg, ok := stripSign(s)
	if !ok {
		return 0, false
	}
	n, ok := scanNumber(s)
	if !ok {
		return 0, false
	}
	decPos, ok := n.decimalPos(hint)
	if !ok {
		return 0, false
	}
	return n.value(decPos, neg)
}

// stripSign removes currency marks on either side and the sign: a leading or trailing
// minus, or parentheses around the amount. It reports false when nothing is left.
func stripSign(s string) (rest string, neg, ok bool) {
	s = stripCurrency(s)
	if s == "" {
		return "", false, false
	}
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg = true
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "−") {
		neg = true
		s = strings.TrimSpace(strings.TrimLeft(s, "-−"))
	} else if strings.HasSuffix(s, "-") {
		neg = true
		s = strings.TrimSpace(strings.TrimSuffix(s, "-"))
	}
	s = stripCurrency(s)
	return s, neg, s != ""
}

// sepAt is a separator inside a number and the count of digits before it.
type sepAt struct {
	r   rune
	pos int
}

// scannedNumber is an amount's digits and the separators between them.
type scannedNumber struct {
	digits string
	nd     int // len(digits)
	seps   []sepAt
}

// scanNumber splits s into digits and separators. Only digits, separators and spaces
// may be there, and 1 to 15 digits.
func scanNumber(s string) (scannedNumber, bool) {
	var digits strings.Builder
	n := scannedNumber{seps: make([]sepAt, 0, 4)}
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
			n.nd++
		case r == '.' || r == ',' || r == '\'' || r == '’' || r == ' ' || r == '\u00a0' || r == '\u202f':
			n.seps = append(n.seps, sepAt{r, n.nd})
		default:
			return scannedNumber{}, false
		}
	}
	if n.nd == 0 || n.nd > 15 {
		return scannedNumber{}, false
	}
	n.digits = digits.String()
	return n, true
}

// decimalPos is the number of integer digits when the number has a decimal separator,
// else -1. It reports false when the separators do not make a number: a decimal part of
// none or more than four digits, or grouping that is not every three digits.
func (n scannedNumber) decimalPos(hint DecimalSep) (int, bool) {
	if len(n.seps) == 0 {
		return -1, true
	}
	last := n.seps[len(n.seps)-1]
	decPos := n.decimalAt(last, hint)
	if fracLen := n.nd - last.pos; decPos >= 0 && (fracLen == 0 || fracLen > 4) {
		return 0, false
	}
	return decPos, n.groupedByThree(decPos, last)
}

// decimalAt decides whether the last separator is the decimal one (its position) or
// groups thousands (-1).
func (n scannedNumber) decimalAt(last sepAt, hint DecimalSep) int {
	if last.r != '.' && last.r != ',' {
		return -1 // spaces/apostrophes only: grouping
	}
	fracLen := n.nd - last.pos
	countSame, otherKinds := 0, false
	for i, sp := range n.seps {
		if sp.r == last.r {
			countSame++
		} else if i < len(n.seps)-1 {
			otherKinds = true
		}
	}
	switch {
	case otherKinds && countSame == 1:
		return last.pos
	case countSame > 1:
		return -1 // "1.234.567": grouping only
	case hint != 0 && byte(last.r) == byte(hint):
		return last.pos
	case hint != 0 && fracLen == 3 && last.pos > 0 && n.digits[:last.pos] != "0":
		return -1 // the other separator with three digits after it: grouping
	case fracLen == 3 && last.pos > 0 && n.digits[:last.pos] != "0" && hint == 0:
		return -1 // ambiguous "1,234" / "1.234": grouping is the common reading of money
	}
	return last.pos
}

// groupedByThree reports whether every grouping separator sits every three digits.
func (n scannedNumber) groupedByThree(decPos int, last sepAt) bool {
	intLen := n.nd
	if decPos >= 0 {
		intLen = decPos
	}
	for _, sp := range n.seps {
		if decPos >= 0 && sp.pos == decPos && sp.r == last.r {
			continue
		}
		if (intLen-sp.pos)%3 != 0 || sp.pos == 0 {
			return false
		}
	}
	return true
}

// value is the number with its decimal point after decPos digits (none when -1).
func (n scannedNumber) value(decPos int, neg bool) (float64, bool) {
	s := n.digits
	if decPos >= 0 {
		s = s[:decPos] + "." + s[decPos:]
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// currencyMarks are removed around amounts: vocab's currency codes and signs, longest
// first, and the French gross and net marks.
var currencyMarks = append(vocab.Marks(), "TTC", "HT")

func stripCurrency(s string) string {
	for changed := true; changed; {
		changed = false
		s = strings.TrimSpace(s)
		for _, m := range currencyMarks {
			if strings.HasPrefix(s, m) {
				rest := s[len(m):]
				if m[0] >= 'A' && m[0] <= 'Z' && rest != "" && unicode.IsLetter(firstRune(rest)) {
					continue
				}
				s = rest
				changed = true
			}
			if strings.HasSuffix(s, m) {
				rest := s[:len(s)-len(m)]
				if m[0] >= 'A' && m[0] <= 'Z' && rest != "" && unicode.IsLetter(lastRune(rest)) {
					continue
				}
				s = rest
				changed = true
			}
		}
	}
	return strings.TrimSpace(s)
}

func firstRune(s string) rune {
	for _, r := range s {
		return r
	}
	return 0
}

// lastRune is the last rune of s (0 when empty), in constant time: findAmounts asks it of
// every prefix of a row.
func lastRune(s string) rune {
	if s == "" {
		return 0
	}
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

// amountSpan is one amount found inside a text.
type amountSpan struct {
	Value      float64
	Start, End int // byte offsets in the text
	Decimals   int // digits after the decimal separator (0 when none)
	Currency   bool
}

// findAmounts returns the amounts in text, left to right. Tokens that are part of
// dates, percentages, long identifiers or words are skipped.
func findAmounts(text string, hint DecimalSep) []amountSpan {
	var out []amountSpan
	for _, loc := range amountToken.FindAllStringIndex(text, -1) {
		a, b := loc[0], loc[1]
		tok := text[a:b]
		// Reject tokens glued to letters or to other digits/separators (ids, dates, times).
		if a > 0 {
			p := lastRune(text[:a])
			if unicode.IsLetter(p) || unicode.IsDigit(p) || p == '/' || p == '.' || p == ':' || p == '-' || p == '#' {
				continue
			}
		}
		if b < len(text) {
			n := firstRune(text[b:])
			if unicode.IsLetter(n) && !strings.HasPrefix(text[b:], "EUR") && !strings.HasPrefix(text[b:], "USD") {
				continue
			}
			if unicode.IsDigit(n) || n == '/' || n == '%' || n == ':' || n == '_' {
				continue
			}
			if (n == '.' || n == ',' || n == '-') && b+1 < len(text) && unicode.IsDigit(firstRune(text[b+1:])) {
				continue
			}
			if strings.HasPrefix(strings.TrimLeft(text[b:], " "), "%") {
				continue
			}
		}
		// "($4,200.00)": a bracketed negative with the currency inside the bracket.
		bracketed := false
		if strings.HasSuffix(tok, ")") && !strings.HasPrefix(tok, "(") {
			if reOpenCurrency.MatchString(text[:a]) {
				bracketed = true
				tok = strings.TrimSuffix(tok, ")")
			}
		}
		v, ok := ParseAmount(tok, hint)
		if !ok {
			continue
		}
		if bracketed {
			v = -v
		}
		dec := 0
		t := strings.TrimRight(tok, "-)")
		if i := strings.LastIndexAny(t, ".,"); i >= 0 {
			frac := len(t) - i - 1
			if frac <= 4 && frac != 3 || (hint != 0 && t[i] == byte(hint)) {
				dec = frac
			}
		}
		cur := false
		before := strings.TrimSpace(text[max(0, a-4):a])
		after := strings.TrimSpace(text[b:min(len(text), b+4)])
		for _, m := range []string{"€", "$", "£", "₹", "RM", "Rs", "EUR", "USD", "GBP", "INR"} {
			if strings.HasSuffix(before, m) || strings.HasPrefix(after, m) {
				cur = true
			}
		}
		out = append(out, amountSpan{Value: v, Start: a, End: b, Decimals: dec, Currency: cur})
	}
	return out
}

var reOpenCurrency = regexp.MustCompile(`\(\s*(?:[$€£¥₹]|EUR|USD|GBP|RM|Rs\.?)\s*$`)

// detectDecimalSep decides the document's decimal separator from how amounts with two
// decimals are written. It returns 0 when there is no evidence.
func detectDecimalSep(text string) DecimalSep {
	comma := len(commaDec.FindAllStringIndex(text, -1))
	dot := len(dotDec.FindAllStringIndex(text, -1))
	switch {
	case comma > dot:
		return ','
	case dot > comma:
		return '.'
	}
	return 0
}

var (
	commaDec = regexp.MustCompile(`(?:^|[^\d.,])\d{1,3}(?:\.\d{3})*,\d{2}(?:[^\d.,]|$)`)
	dotDec   = regexp.MustCompile(`(?:^|[^\d.,])\d{1,3}(?:,\d{3})*\.\d{2}(?:[^\d.,]|$)`)
)

// round2 rounds to cents.
func round2(v float64) float64 { return math.Round(v*100) / 100 }
