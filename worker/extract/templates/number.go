package templates

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// ParseAmount reads a number as printed on an invoice.
//
// decimalSep is the template's options.decimal_separator. When it is set, the rule is
// invoice2data's: the separator may appear at most once, it is the decimal point, and every
// other '.', ',', '\” or space is a thousands separator ("1.234,56" with "," is 1234.56).
// When it is empty the separator is inferred: with both '.' and ',' present the last one
// is decimal; a single ',' followed by one or two digits is decimal ("12,5", "1 234,56");
// otherwise '.' is decimal and ',' groups thousands ("1,234.56", "1,234").
//
// Currency symbols, ISO codes and other letters around the number are ignored. A leading
// or trailing '-', parentheses "(12.00)" and a trailing "cr" or "CR" make it negative.
// A string without digits is an error.
func ParseAmount(s, decimalSep string) (float64, error) {
	raw := s
	s = strings.TrimSpace(s)
	neg := false
	low := strings.ToLower(s)
	if strings.HasSuffix(low, "cr") {
		neg = true
		s = s[:len(s)-2]
	}
	if strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")") {
		neg = true
		s = s[1 : len(s)-1]
	}
	// Keep digits and separators; note a sign next to the digits.
	var b strings.Builder
	seenDigit := false
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			seenDigit = true
			b.WriteRune(r)
		case r == '.' || r == ',' || r == '\'' || r == '’' || r == ' ' || r == '\u00a0' || r == '\u202f':
			if seenDigit {
				b.WriteRune(r)
			}
		case r == '-' || r == '−' || r == '–':
			if !seenDigit || strings.TrimFunc(s[i+len(string(r)):], unicode.IsSpace) == "" {
				neg = true
			}
		}
	}
	num := strings.TrimRight(b.String(), ".,' \u00a0\u202f’")
	if !seenDigit || num == "" {
		return 0, fmt.Errorf("parse amount %q: no digits", raw)
	}
	dec := decimalSep
	if dec == "" {
		dec = inferDecimal(num)
	}
	if strings.Count(num, dec) > 1 {
		return 0, fmt.Errorf("parse amount %q: decimal separator %q appears more than once", raw, dec)
	}
	intPart, frac, hasFrac := strings.Cut(num, dec)
	clean := stripSeparators(intPart)
	if hasFrac {
		clean += "." + stripSeparators(frac)
	}
	if clean == "" || clean == "." {
		return 0, fmt.Errorf("parse amount %q: no digits", raw)
	}
	v, err := strconv.ParseFloat(clean, 64)
	if err != nil {
		return 0, fmt.Errorf("parse amount %q: %w", raw, err)
	}
	if neg {
		v = -v
	}
	return v, nil
}

func stripSeparators(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// inferDecimal picks the decimal separator of a number that has only digits and separators.
func inferDecimal(num string) string {
	lastDot := strings.LastIndexByte(num, '.')
	lastComma := strings.LastIndexByte(num, ',')
	switch {
	case lastDot >= 0 && lastComma >= 0:
		if lastComma > lastDot {
			return ","
		}
		return "."
	case lastDot >= 0 && strings.Count(num, ".") > 1:
		return "," // "1.234.567": dots group thousands
	case lastComma >= 0:
		after := len(num) - lastComma - 1
		if strings.Count(num, ",") == 1 && after > 0 && after != 3 {
			return ","
		}
		// "1 234,567" is still a decimal comma when spaces group the thousands.
		if strings.Count(num, ",") == 1 && after == 3 && strings.ContainsAny(num[:lastComma], " \u00a0\u202f'") {
			return ","
		}
		return "."
	}
	return "."
}
