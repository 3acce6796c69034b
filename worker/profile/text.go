package profile

import (
	"strings"
	"unicode"
)

// fold lower-cases s and keeps its letters and digits only: how label words are
// compared ("Rechnungs-Nr.:" -> "rechnungsnr").
func fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// foldCode is fold: identifiers compare without spaces, punctuation and case.
func foldCode(s string) string { return fold(s) }

// tokens splits s into folded words at everything that is not a letter or digit.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// foldText is a text's words, folded and joined by single spaces.
func foldText(s string) string { return strings.Join(tokens(s), " ") }

// ocrShape maps the characters OCR confuses most to one of them, so that "0" and
// "O", "1", "l" and "I", "5" and "S", "8" and "B" compare equal.
func ocrShape(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case 'o':
			return '0'
		case 'i', 'l', '|':
			return '1'
		case 's':
			return '5'
		case 'b':
			return '8'
		case 'z':
			return '2'
		}
		return r
	}, s)
}

// hasDigit tells whether s has a digit.
func hasDigit(s string) bool {
	for _, r := range s {
		if unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// near tells whether two folded words are the same word read with OCR noise: equal
// after ocrShape, or within one edit (two for words of eight or more letters) when the
// words have at least four letters.
func near(a, b string) bool {
	if a == b {
		return true
	}
	sa, sb := ocrShape(a), ocrShape(b)
	if sa == sb {
		return true
	}
	ra, rb := []rune(sa), []rune(sb)
	n := min(len(ra), len(rb))
	if n < 4 {
		return false
	}
	limit := 1
	if n >= 8 {
		limit = 2
	}
	return editDistance(ra, rb, limit) <= limit
}

// editDistance is the Levenshtein distance of a and b, or limit+1 as soon as it is
// known to exceed limit.
func editDistance(a, b []rune, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
