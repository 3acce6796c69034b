package extract

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ocrinvoice/ocrinvoice/worker/extract/vocab"
)

// DateOrder says how an all-numeric date with day and month both <= 12 is read.
type DateOrder int

// Date orders.
const (
	DMY DateOrder = iota // 05.03.2018, 25/12/2018 (most of the world)
	MDY                  // 03/20/2023 (United States)
)

// month returns the number of a month name or abbreviation as printed ("März", "Sept.",
// "févr"), from vocab's table; false when it is none.
func month(name string) (int, bool) {
	return vocab.Month(vocab.Fold(strings.TrimSuffix(name, ".")))
}

const monthAlt = `[A-Za-zÄÖÜäöüéèûôÉÈÛÔ]{3,10}\.?`

var (
	reISODate = regexp.MustCompile(`\b(\d{4})[-./](\d{1,2})[-./](\d{1,2})\b`)
	// One pattern per separator so that "19- 21/03/2018" cannot swallow the real date.
	reNumDates = []*regexp.Regexp{
		regexp.MustCompile(`(\d{1,2})\s?(\.)\s?(\d{1,2})\s?\.\s?(\d{4}|\d{2})\b`),
		regexp.MustCompile(`(\d{1,2})\s?(/)\s?(\d{1,2})\s?/\s?(\d{4}|\d{2})\b`),
		regexp.MustCompile(`(\d{1,2})\s?(-)\s?(\d{1,2})\s?-\s?(\d{4}|\d{2})\b`),
	}
	reDayMonthY = regexp.MustCompile(`(?i)\b(\d{1,2})(?:st|nd|rd|th|er|\.|º)?[\s-]*(?:de\s+)?(` + monthAlt + `)[\s,-]*(?:de\s+)?(\d{4}|\d{2})\b`)
	reMonthDayY = regexp.MustCompile(`(?i)\b(` + monthAlt + `)\s*(\d{1,2})(?:st|nd|rd|th)?\s*,?\s*(\d{4})\b`)
)

// dateSpan is one date found in a text.
type dateSpan struct {
	Date       string // YYYY-MM-DD
	Start, End int
	Ambiguous  bool // numeric with day and month both <= 12
}

// ParseDate reads the first date in s, numeric ("05.03.2018", "03/20/2023", "2019-06-10",
// "25/12/18") or written ("7. Mai 2014", "August 3 , 2014", "Jan 1, 2022", "02 Juillet
// 2015"), and returns it as YYYY-MM-DD. order decides numeric dates whose day and month
// are both <= 12. It reports false when s holds no valid calendar date.
func ParseDate(s string, order DateOrder) (string, bool) {
	ds := findDates(s, order)
	if len(ds) == 0 {
		return "", false
	}
	return ds[0].Date, true
}

// DatesIn returns every date in text as YYYY-MM-DD, each numeric date whose day and
// month could be swapped read both ways, so that a caller asking "is this date on the
// page?" does not depend on the page's date order.
func DatesIn(text string) []string {
	var out []string
	for _, order := range []DateOrder{DMY, MDY} {
		for _, d := range findDates(text, order) {
			if !slices.Contains(out, d.Date) {
				out = append(out, d.Date)
			}
		}
	}
	return out
}

// findDates returns every date in text, left to right, without overlaps.
func findDates(text string, order DateOrder) []dateSpan {
	if len(text) > 1<<16 {
		text = text[:1<<16]
	}
	var out []dateSpan
	taken := func(a, b int) bool {
		for _, d := range out {
			if a < d.End && b > d.Start {
				return true
			}
		}
		return false
	}
	for _, m := range reISODate.FindAllStringSubmatchIndex(text, -1) {
		y, _ := strconv.Atoi(text[m[2]:m[3]])
		mo, _ := strconv.Atoi(text[m[4]:m[5]])
		d, _ := strconv.Atoi(text[m[6]:m[7]])
		if s, ok := mkDate(y, mo, d); ok {
			out = append(out, dateSpan{Date: s, Start: m[0], End: m[1]})
		}
	}
	var numMatches [][]int
	for _, re := range reNumDates {
		numMatches = append(numMatches, re.FindAllStringSubmatchIndex(text, -1)...)
	}
	for _, m := range numMatches {
		if taken(m[0], m[1]) {
			continue
		}
		// A preceding digit or separator means this is part of a longer number.
		if m[0] > 0 && strings.ContainsRune("0123456789.,/", rune(text[m[0]-1])) {
			continue
		}
		a, _ := strconv.Atoi(text[m[2]:m[3]])
		b, _ := strconv.Atoi(text[m[6]:m[7]])
		ys := text[m[8]:m[9]]
		y, _ := strconv.Atoi(ys)
		if len(ys) == 2 {
			y += 2000
			if y > time.Now().Year()+10 {
				y -= 100
			}
		}
		day, mon := a, b
		amb := a <= 12 && b <= 12 && a != b
		if order == MDY && b <= 31 && a <= 12 || a <= 12 && b > 12 {
			day, mon = b, a
		}
		if s, ok := mkDate(y, mon, day); ok {
			out = append(out, dateSpan{Date: s, Start: m[0], End: m[1], Ambiguous: amb})
		}
	}
	for _, m := range reDayMonthY.FindAllStringSubmatchIndex(text, -1) {
		if taken(m[0], m[1]) {
			continue
		}
		mon, ok := month(text[m[4]:m[5]])
		if !ok {
			continue
		}
		d, _ := strconv.Atoi(text[m[2]:m[3]])
		ys := text[m[6]:m[7]]
		y, _ := strconv.Atoi(ys)
		if len(ys) == 2 {
			y += 2000
		}
		if s, ok := mkDate(y, mon, d); ok {
			out = append(out, dateSpan{Date: s, Start: m[0], End: m[1]})
		}
	}
	for _, m := range reMonthDayY.FindAllStringSubmatchIndex(text, -1) {
		if taken(m[0], m[1]) {
			continue
		}
		mon, ok := month(text[m[2]:m[3]])
		if !ok {
			continue
		}
		d, _ := strconv.Atoi(text[m[4]:m[5]])
		y, _ := strconv.Atoi(text[m[6]:m[7]])
		if s, ok := mkDate(y, mon, d); ok {
			out = append(out, dateSpan{Date: s, Start: m[0], End: m[1]})
		}
	}
	sortSpans(out)
	return out
}

func sortSpans(ds []dateSpan) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && ds[j].Start < ds[j-1].Start; j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

func mkDate(y, m, d int) (string, bool) {
	if y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31 {
		return "", false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return "", false
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, m, d), true
}

// detectDateOrder decides DMY or MDY from the numeric dates in the text (a first part
// above 12 proves DMY, a second part above 12 proves MDY) and otherwise from the
// language hint and currency: US dollars with English text read month first.
func detectDateOrder(text string, lang string, usd bool) DateOrder {
	dmy, mdy := 0, 0
	var all [][]string
	for _, re := range reNumDates {
		all = append(all, re.FindAllStringSubmatch(text, -1)...)
	}
	for _, m := range all {
		a, _ := strconv.Atoi(m[1])
		b, _ := strconv.Atoi(m[3])
		if a > 12 && b <= 12 {
			dmy++
		}
		if b > 12 && a <= 12 {
			mdy++
		}
	}
	switch {
	case dmy > mdy:
		return DMY
	case mdy > dmy:
		return MDY
	}
	if lang == "eng" && usd {
		return MDY
	}
	return DMY
}
