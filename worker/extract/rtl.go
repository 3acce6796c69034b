package extract

import (
	"slices"
	"strings"
	"unicode"
)

// rtlWord reports a word of a right-to-left script (Hebrew, Arabic and their kin).
func rtlWord(w word) bool {
	return strings.ContainsFunc(w.text, func(r rune) bool {
		return unicode.In(r, unicode.Hebrew, unicode.Arabic, unicode.Syriac, unicode.Thaana, unicode.Nko)
	})
}

// readingOrder returns a segment's words (sorted left to right) in reading order: runs
// of right-to-left words are read from the right. Segments without such words are
// returned as they are.
func readingOrder(ws []word) []word {
	if !slices.ContainsFunc(ws, rtlWord) {
		return ws
	}
	out := slices.Clone(ws)
	for i := 0; i < len(out); {
		if !rtlWord(out[i]) {
			i++
			continue
		}
		j := i + 1
		for j < len(out) && rtlWord(out[j]) {
			j++
		}
		slices.Reverse(out[i:j])
		i = j
	}
	return out
}
