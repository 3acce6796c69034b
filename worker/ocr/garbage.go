package ocr

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// A text layer can be present, long and still not be text: a font embedded without a
// Unicode map makes pdftotext print glyph ids or the producer's private codes (shifted
// ASCII such as ",QYRLFH" for "Invoice", runs of punctuation, letters of an unrelated
// block), and a broken map turns letters into other letters. usableText only catches the
// cases that leave replacement, private-use or control characters. garbageText judges
// the words themselves: a word is plausible when it reads like a number, a code
// (letters and digits), or a word of one script with vowels where the script writes
// them; a page whose words are mostly implausible, or whose Latin words lack vowels
// as no language does, is not text.

// Thresholds of garbageText, measured on the text layers of the dev invoices (the
// worst real page there: 0.4% bad characters, 24% of characters in implausible words,
// 33% vowels, 3% Latin Extended letters; see TestGarbageTextDevSet).
const (
	// minGarbageEvidence is how many letters, digits and symbols a page needs before it
	// is judged: a page with a few words says too little either way.
	minGarbageEvidence = 40
	// maxBadShare is the largest share of control, private-use and unassigned code
	// points (usableText's own limit).
	maxBadShare = 0.05
	// maxImplausibleShare is the largest share of a page's characters that may sit in
	// implausible words.
	maxImplausibleShare = 0.35
	// minVowelShare is the smallest share of vowels among the letters of alphabetic
	// (Latin, Greek, Cyrillic) words on a page with at least minVowelLetters of them.
	// European languages write 30..45% vowels; glyph ids shifted into capitals about 10%.
	minVowelShare   = 0.2
	minVowelLetters = 40
	// maxExtendedShare is the largest share of Latin letters from Latin Extended-A and
	// -B (U+0100..U+024F). Polish, Czech or Vietnamese write a tenth to a fifth of their
	// letters there; codes numbered from U+0100 write nearly all of them.
	maxExtendedShare = 0.4
)

// textScore is garbageText's view of a page.
type textScore struct {
	runes       int // letters, digits, punctuation and symbols in words
	bad         int // replacement, private-use, control, unassigned characters
	implausible int // characters in implausible words
	alpha       int // letters in words of letters of an alphabet that writes vowels
	vowels      int // vowels among them
	latin       int // Latin letters
	extended    int // Latin letters from Latin Extended-A and -B
}

// garbageText reports whether a page's text layer is not real text, and why (a short
// reason for warnings). Pages with too little text to judge are never garbage.
func garbageText(lines []layout.Line) (string, bool) {
	var s textScore
	for _, l := range lines {
		for _, w := range l.Words {
			s.add(w.Text)
		}
	}
	return s.verdict()
}

func (s textScore) verdict() (string, bool) {
	if s.runes < minGarbageEvidence {
		return "", false
	}
	if share := float64(s.bad) / float64(s.runes); share > maxBadShare {
		return fmt.Sprintf("%.0f%% of its characters are control, private-use or unassigned code points", 100*share), true
	}
	if share := float64(s.implausible) / float64(s.runes); share > maxImplausibleShare {
		return fmt.Sprintf("%.0f%% of its characters are in words that are neither words, numbers nor codes", 100*share), true
	}
	if s.alpha >= minVowelLetters {
		if share := float64(s.vowels) / float64(s.alpha); share < minVowelShare {
			return fmt.Sprintf("only %.0f%% of the letters of its words are vowels", 100*share), true
		}
	}
	if s.latin >= minVowelLetters {
		if share := float64(s.extended) / float64(s.latin); share > maxExtendedShare {
			return fmt.Sprintf("%.0f%% of its Latin letters are from the extended blocks", 100*share), true
		}
	}
	return "", false
}

// edgePunct may open or close a word without making it odd: brackets, quotes and
// sentence punctuation, currency and percent signs.
const edgePunct = `.,;:!?()[]{}"'«»„“”‘’*#%€$£¥+-–—/\|&@°§№<>=_~^` + "`" + cjkPunct

// joiners may stand inside a plausible word, number or code.
const joiners = ".,-/:'’&@_+#()*" + cjkPunct

// cjkPunct is the punctuation Chinese and Japanese set between characters, where
// pdftotext does not break words.
const cjkPunct = "，。、：；（）【】「」『』・·￥"

// add scores one word.
func (s *textScore) add(word string) {
	n := 0
	bad := 0
	for _, r := range word {
		if unicode.IsSpace(r) {
			continue
		}
		n++
		if badRune(r) {
			bad++
		}
	}
	if n == 0 {
		return
	}
	s.runes += n
	s.bad += bad
	if bad > 0 {
		s.implausible += n
		return
	}
	core := strings.Trim(word, edgePunct)
	if core == "" {
		// Only punctuation: rules, bullets, "--", "*". Odd only when long.
		if n > 3 && !sameRune(word) {
			s.implausible += n
		}
		return
	}
	if !plausibleWord(core) {
		s.implausible += n
		return
	}
	letters, vowels := 0, 0
	var script *unicode.RangeTable
	for _, r := range core {
		if !unicode.IsLetter(r) {
			continue
		}
		letters++
		script = scriptOf(r)
		if isVowel(r) {
			vowels++
		}
		if script == unicode.Latin {
			s.latin++
			if r >= 0x100 && r <= 0x24F {
				s.extended++
			}
		}
	}
	// Only words of letters count towards the vowel share: codes ("DE136695976",
	// "BS1") and abbreviations are consonant-heavy in any language. plausibleWord has
	// made sure the word is of one script.
	alphabet := script == unicode.Latin || script == unicode.Greek || script == unicode.Cyrillic
	if alphabet && letters >= 4 && letters == len([]rune(strings.Map(dropJoiners, core))) {
		s.alpha += letters
		s.vowels += vowels
	}
}

func dropJoiners(r rune) rune {
	if strings.ContainsRune(joiners, r) {
		return -1
	}
	return r
}

func sameRune(s string) bool {
	rs := []rune(s)
	for _, r := range rs[1:] {
		if r != rs[0] {
			return false
		}
	}
	return true
}

// badRune reports characters real text never carries: the replacement character,
// private-use and unassigned code points, controls and surrogates.
func badRune(r rune) bool {
	return r == unicode.ReplacementChar || unicode.Is(unicode.Co, r) || unicode.IsControl(r) ||
		unicode.Is(unicode.Cs, r) || !unicode.IsGraphic(r) && !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r)
}

// plausibleWord reports whether core (a word without its edge punctuation) reads as a
// number, a code or a word: letters, digits and marks of one script with at most two
// kinds of joiner between them, few joiners, and no symbol other than the joiners.
func plausibleWord(core string) bool {
	var script *unicode.RangeTable
	kinds := map[rune]bool{}
	joins, alnum, letters, humps := 0, 0, 0, 0
	prevLower, cjk := false, false
	for _, r := range core {
		switch {
		case unicode.IsLetter(r):
			letters++
			alnum++
			sc := scriptOf(r)
			switch {
			case sc == unicode.Han || sc == unicode.Hangul:
				// Chinese, Japanese and Korean run Latin codes and digits into their
				// words without a space.
				cjk = true
			case sc != nil:
				if script != nil && sc != script {
					return false // scripts mixed inside one word
				}
				script = sc
			}
			if unicode.IsUpper(r) && prevLower {
				humps++
			}
			prevLower = unicode.IsLower(r)
		case unicode.IsNumber(r):
			alnum++
			prevLower = false
		case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Mc, r):
			// combining marks belong to the letter before them
		case strings.ContainsRune(cjkPunct, r):
			prevLower = false
		case strings.ContainsRune(joiners, r):
			joins++
			kinds[r] = true
			prevLower = false // "Käufer/Leistungsempfänger", "Beispiel-Rechnungen"
		default:
			return false // a symbol inside a word
		}
	}
	if alnum == 0 {
		return false
	}
	if len(kinds) > 2 || joins > alnum {
		return false
	}
	// Camel case ("QualityHosting", "iViveLabs") joins words of several letters each;
	// text decoded through the wrong map changes case every letter or two.
	if humps >= 3 && letters < 5*humps && !cjk {
		return false
	}
	return true
}

// scripts are the scripts plausibleWord tells apart inside one word.
var scripts = []*unicode.RangeTable{unicode.Latin, unicode.Greek, unicode.Cyrillic, unicode.Arabic, unicode.Hebrew,
	unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul, unicode.Thai, unicode.Devanagari, unicode.Armenian, unicode.Georgian}

func scriptOf(r rune) *unicode.RangeTable {
	for _, t := range scripts {
		if unicode.Is(t, r) {
			// Japanese writes Han and kana in one word: one script for this purpose.
			if t == unicode.Hiragana || t == unicode.Katakana {
				return unicode.Han
			}
			return t
		}
	}
	return nil
}

// isVowel reports vowels of languages written in the Latin, Greek and Cyrillic
// alphabets, accented ones included.
func isVowel(r rune) bool {
	return strings.ContainsRune(vowels, unicode.ToLower(r))
}

const vowels = "aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿœāēīōūăąęěėįųůűőǎǐǒǔơư" + // Latin
	"αεηιουωάέήίόύώϊϋΐΰ" + // Greek
	"аеёиоуыэюяіїєў" // Cyrillic

// xmlSafe replaces what XML forbids in pdftotext's XHTML (control characters other
// than tab and newline, invalid UTF-8, U+FFFE and U+FFFF) with U+FFFD. pdftotext copies
// a font's undecodable codes into the output as they are; left there, they make the
// whole document unreadable instead of one page's text layer unusable.
func xmlSafe(b []byte) []byte {
	ok := true
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if !xmlChar(r) || r == utf8.RuneError && n == 1 {
			ok = false
			break
		}
		i += n
	}
	if ok {
		return b
	}
	out := make([]byte, 0, len(b)+64)
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if !xmlChar(r) || r == utf8.RuneError && n == 1 {
			r = unicode.ReplacementChar
		}
		out = utf8.AppendRune(out, r)
		i += n
	}
	return out
}

// xmlChar is XML 1.0's Char production.
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// garbageWarning is the note a document carries for a page whose text layer was
// refused: what was wrong and what was done instead.
func garbageWarning(page int, why string, mode Mode) string {
	if mode == ModeText {
		return fmt.Sprintf("page %d: the PDF text layer is not readable text (%s); the page is left empty (read it by OCR)", page, why)
	}
	return fmt.Sprintf("page %d: the PDF text layer is not readable text (%s); the page was read by OCR", page, why)
}
