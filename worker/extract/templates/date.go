package templates

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/ocrinvoice/ocrinvoice/worker/extract/vocab"
)

// monthAlternation is a regexp alternation of every month form, longest first, over the
// folded text.
var monthAlternation = strings.Join(vocab.MonthNames(), "|")

// strptimeCache holds compiled formats (format -> *regexp.Regexp or error). Formats come
// from templates, so the set is small; strptimeCacheMax bounds it against odd callers.
var (
	strptimeCache     sync.Map
	strptimeCacheSize atomic.Int64
)

const (
	strptimeCacheMax = 4096
	maxDateFormat    = 64  // longest strptime format accepted
	maxDateText      = 128 // longest date text parsed
)

func cacheFormat(format string, v any) {
	if strptimeCacheSize.Add(1) <= strptimeCacheMax {
		strptimeCache.Store(format, v)
	}
}

// compileStrftime turns a Python strptime format into an anchored regexp over folded text,
// with Python's rules: a run of white space in the format matches one or more spaces in
// the input, other characters match themselves (case-insensitive), the whole input must match.
func compileStrftime(format string) (*regexp.Regexp, error) {
	if len(format) > maxDateFormat {
		return nil, fmt.Errorf("date format %q is longer than %d bytes", format[:maxDateFormat], maxDateFormat)
	}
	if v, ok := strptimeCache.Load(format); ok {
		if err, isErr := v.(error); isErr {
			return nil, err
		}
		return v.(*regexp.Regexp), nil
	}
	var b strings.Builder
	b.WriteString(`^\s*`)
	rs := []rune(format)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		if unicode.IsSpace(c) {
			for i+1 < len(rs) && unicode.IsSpace(rs[i+1]) {
				i++
			}
			b.WriteString(`\s+`)
			continue
		}
		if c != '%' {
			b.WriteString(regexp.QuoteMeta(vocab.Fold(string(c))))
			continue
		}
		i++
		if i >= len(rs) {
			err := fmt.Errorf("date format %q ends with a lone %%", format)
			cacheFormat(format, err)
			return nil, err
		}
		d := rs[i]
		if d == '-' || d == '#' { // platform "no padding" flags; strptime is lenient anyway
			i++
			if i >= len(rs) {
				break
			}
			d = rs[i]
		}
		switch d {
		case 'd', 'e':
			b.WriteString(`(?P<d>3[01]|[12]\d|0[1-9]|[1-9]| [1-9])`)
		case 'm':
			b.WriteString(`(?P<m>1[0-2]|0[1-9]|[1-9])`)
		case 'Y':
			b.WriteString(`(?P<Y>\d{4})`)
		case 'y':
			b.WriteString(`(?P<y>\d{2})`)
		case 'b', 'B', 'h':
			b.WriteString(`(?P<b>(?:` + monthAlternation + `)\.?)`)
		case 'a', 'A':
			b.WriteString(`(?:\pL+\.?)`)
		case 'H':
			b.WriteString(`(?:2[0-3]|[0-1]\d|\d)`)
		case 'I':
			b.WriteString(`(?:1[0-2]|0[1-9]|[1-9])`)
		case 'M':
			b.WriteString(`(?:[0-5]\d|\d)`)
		case 'S':
			b.WriteString(`(?:6[0-1]|[0-5]\d|\d)`)
		case 'f':
			b.WriteString(`(?:\d{1,6})`)
		case 'p':
			b.WriteString(`(?:am|pm|a\.m\.|p\.m\.)`)
		case 'j':
			b.WriteString(`(?P<j>36[0-6]|3[0-5]\d|[12]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])`)
		case 'z':
			b.WriteString(`(?:[+-]\d\d:?\d\d|z)`)
		case 'Z':
			b.WriteString(`(?:[a-z]{2,5})`)
		case 'U', 'W':
			b.WriteString(`(?:5[0-3]|[0-4]\d|\d)`)
		case 'w', 'u':
			b.WriteString(`(?:[0-7])`)
		case '%':
			b.WriteString(`%`)
		default:
			err := fmt.Errorf("date format %q: unsupported directive %%%c", format, d)
			cacheFormat(format, err)
			return nil, err
		}
	}
	b.WriteString(`\s*$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		err = fmt.Errorf("date format %q: %w", format, err)
		cacheFormat(format, err)
		return nil, err
	}
	cacheFormat(format, re)
	return re, nil
}

// ParseDateFormat parses s with one Python strptime format (%d %m %Y %y %b %B %j %H %M %S
// %A %a %p %f %z %Z %%). Month names are accepted in English, German, French, Spanish,
// Italian, Dutch, Portuguese and Polish, as dateparser translates them before strptime. A format
// without a year takes the year of now. The result is YYYY-MM-DD.
func ParseDateFormat(s, format string, now time.Time) (string, error) {
	re, err := compileStrftime(format)
	if err != nil {
		return "", err
	}
	if len(s) > maxDateText {
		return "", fmt.Errorf("date text of %d bytes is too long", len(s))
	}
	m := re.FindStringSubmatch(vocab.Fold(s))
	if m == nil {
		return "", fmt.Errorf("date %q does not match format %q", s, format)
	}
	var y, mo, d, yday int
	for i, name := range re.SubexpNames() {
		v := strings.TrimSpace(m[i])
		if v == "" {
			continue
		}
		switch name {
		case "d":
			d, _ = strconv.Atoi(v)
		case "m":
			mo, _ = strconv.Atoi(v)
		case "Y":
			y, _ = strconv.Atoi(v)
		case "y":
			yy, _ := strconv.Atoi(v)
			y = pivotYear(yy)
		case "b":
			mo, _ = vocab.Month(strings.TrimSuffix(v, "."))
		case "j":
			yday, _ = strconv.Atoi(v)
		}
	}
	if y == 0 {
		y = now.Year()
	}
	if yday > 0 && mo == 0 && d == 0 {
		t := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, yday-1)
		if t.Year() != y {
			return "", fmt.Errorf("date %q: day of year %d out of range", s, yday)
		}
		return t.Format("2006-01-02"), nil
	}
	if mo == 0 {
		mo = 1
	}
	if d == 0 {
		d = 1
	}
	return ymd(y, mo, d)
}

// pivotYear is Python's %y rule: 69..99 are 1969..1999, 00..68 are 2000..2068.
func pivotYear(yy int) int {
	if yy >= 69 {
		return 1900 + yy
	}
	return 2000 + yy
}

func ymd(y, m, d int) (string, error) {
	if m < 1 || m > 12 || d < 1 || d > 31 || y < 1 {
		return "", fmt.Errorf("no such date %04d-%02d-%02d", y, m, d)
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return "", fmt.Errorf("no such date %04d-%02d-%02d", y, m, d)
	}
	return t.Format("2006-01-02"), nil
}

var (
	reNumericDate = regexp.MustCompile(`(\d{1,4})\s*[./\-]\s*(\d{1,2})\s*[./\-]\s*(\d{2,4})`)
	reCompactDate = regexp.MustCompile(`^\s*(\d{8})\s*$`)
	reDateToken   = regexp.MustCompile(`\pL+|\d+`)
	reOrdinal     = regexp.MustCompile(`(\d)(st|nd|rd|th|er|eme|e|o|a|ste|de|te)\b`)
)

// monthFirst reports whether an ambiguous numeric date is month-first for these languages,
// as dateparser decides it from the locale: English is month-first, the others day-first.
func monthFirst(langs []string) bool {
	if len(langs) == 0 {
		return true
	}
	return strings.HasPrefix(strings.ToLower(langs[0]), "en") && !strings.EqualFold(langs[0], "en-gb")
}

// ParseDate reads a date without a known format, as dateparser does for invoice2data:
// numeric dates (2020-03-15, 15.03.2020, 03/15/2020, 15/03/20, 20200315) and written ones
// in several languages ("15 March 2020", "March 15th, 2020", "15. März 2020", "15 janv. 2020",
// "Mon, 15 Mar 2020", "March 2020"). For a numeric date whose first two numbers could both be
// a month, langs decide the order: month-first for English (and no language, as dateparser's
// default), day-first otherwise; a value above 12 settles the order. Two-digit years follow
// Python's %y pivot. The result is YYYY-MM-DD.
func ParseDate(s string, langs []string) (string, error) {
	if len(s) > maxDateText {
		return "", fmt.Errorf("date text of %d bytes is too long", len(s))
	}
	f := vocab.Fold(s)
	f = reOrdinal.ReplaceAllString(f, "$1")
	if m := reCompactDate.FindStringSubmatch(f); m != nil {
		v := m[1]
		y, _ := strconv.Atoi(v[:4])
		mo, _ := strconv.Atoi(v[4:6])
		d, _ := strconv.Atoi(v[6:])
		if out, err := ymd(y, mo, d); err == nil && y > 1900 {
			return out, nil
		}
		d, _ = strconv.Atoi(v[:2])
		mo, _ = strconv.Atoi(v[2:4])
		y, _ = strconv.Atoi(v[4:])
		return ymd(y, mo, d)
	}
	if m := reNumericDate.FindStringSubmatch(f); m != nil {
		a, b, c := m[1], m[2], m[3]
		ai, _ := strconv.Atoi(a)
		bi, _ := strconv.Atoi(b)
		ci, _ := strconv.Atoi(c)
		if len(a) == 4 { // year first: Y-M-D
			return ymd(ai, bi, ci)
		}
		if len(a) == 3 {
			return "", fmt.Errorf("parse date %q: not a date", s)
		}
		y := ci
		if len(c) == 2 {
			y = pivotYear(ci)
		} else if len(c) == 3 {
			return "", fmt.Errorf("parse date %q: not a date", s)
		}
		mf := monthFirst(langs)
		if mf && ai > 12 {
			mf = false
		} else if !mf && bi > 12 && ai <= 12 {
			mf = true
		}
		if mf {
			return ymd(y, ai, bi)
		}
		return ymd(y, bi, ai)
	}
	// Written dates: find a month name, a year and a day among the tokens.
	toks := reDateToken.FindAllString(f, -1)
	month, year, day := 0, 0, 0
	var nums []string
	for _, t := range toks {
		if t[0] >= '0' && t[0] <= '9' {
			nums = append(nums, t)
			continue
		}
		if month == 0 {
			if n, ok := vocab.Month(t); ok {
				month = n
				continue
			}
		}
	}
	if month == 0 {
		return "", fmt.Errorf("parse date %q: no day, month and year found", s)
	}
	for _, n := range nums {
		v, _ := strconv.Atoi(n)
		switch {
		case len(n) == 4 && year == 0:
			year = v
		case len(n) <= 2 && day == 0 && v >= 1 && v <= 31:
			day = v
		case len(n) == 2 && year == 0:
			year = pivotYear(v)
		}
	}
	if year == 0 {
		return "", fmt.Errorf("parse date %q: no year", s)
	}
	if day == 0 {
		day = 1
	}
	out, err := ymd(year, month, day)
	if err != nil {
		return "", fmt.Errorf("parse date %q: %w", s, err)
	}
	return out, nil
}
