package ocr

import (
	"slices"
	"strings"
	"unicode"
)

// Right-to-left text in a PDF is drawn in visual order: the glyphs of a Hebrew or Arabic
// word go from its last letter on the left to its first on the right. pdftotext's
// -bbox-layout prints each word's characters in that drawing order, so "חשבונית"
// comes out as "תינובשח"; its -layout text is in reading order but wrapped in bidi
// embedding marks. The reader turns both into plain text in reading order: words keep
// their boxes and their left-to-right place in the line, their characters are in the
// order they are read, and the marks are dropped.

// rtlRune reports letters of right-to-left scripts.
func rtlRune(r rune) bool {
	return unicode.In(r, unicode.Hebrew, unicode.Arabic, unicode.Syriac, unicode.Thaana, unicode.Nko)
}

// ltrRune reports characters that keep left-to-right order inside a right-to-left word:
// digits and letters of left-to-right scripts.
func ltrRune(r rune) bool {
	return unicode.IsDigit(r) || unicode.IsLetter(r) && !rtlRune(r)
}

// mirror maps brackets to their mirror image, which right-to-left text draws.
var mirror = map[rune]rune{'(': ')', ')': '(', '[': ']', ']': '[', '{': '}', '}': '{', '<': '>', '>': '<', '«': '»', '»': '«'}

// logicalWord turns a word printed in visual order into reading order when it holds
// right-to-left letters: the characters are reversed, except runs of digits and
// left-to-right letters (with the separators inside them, as in "1,170.00"), which
// keep their order, and brackets are mirrored back. Other words are returned as they
// are.
func logicalWord(s string) string {
	if !strings.ContainsFunc(s, rtlRune) {
		return s
	}
	rs := []rune(s)
	slices.Reverse(rs)
	for i := 0; i < len(rs); {
		if !ltrRune(rs[i]) {
			if m, ok := mirror[rs[i]]; ok {
				rs[i] = m
			}
			i++
			continue
		}
		j := i + 1
		for j < len(rs) && (ltrRune(rs[j]) || strings.ContainsRune(".,:/-", rs[j]) && j+1 < len(rs) && ltrRune(rs[j+1])) {
			j++
		}
		slices.Reverse(rs[i:j])
		i = j
	}
	return string(rs)
}

// dropBidiMarks removes the invisible directional formatting characters (embeddings,
// overrides, isolates and marks) pdftotext wraps right-to-left text in.
func dropBidiMarks(s string) string {
	if !strings.ContainsFunc(s, isBidiMark) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isBidiMark(r) {
			return -1
		}
		return r
	}, s)
}

func isBidiMark(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }
