package export

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Amounts are held as integer hundredths (cents, or hundredths of a percent for rates)
// and prices and quantities as integer ten-thousandths, so that sums are exact and no
// float noise reaches the XML.

// cents returns v in hundredths, rounded half away from zero.
func cents(v float64) int64 { return int64(math.Round(v * 100)) }

// tenThousandths returns v in ten-thousandths, rounded half away from zero.
func tenThousandths(v float64) int64 { return int64(math.Round(v * 10000)) }

// formatFixed writes n/10^scale with at least minDecimals and at most scale decimals.
func formatFixed(n int64, scale, minDecimals int) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	for len(s) <= scale {
		s = "0" + s
	}
	intPart, frac := s[:len(s)-scale], s[len(s)-scale:]
	for len(frac) > minDecimals && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	out := intPart
	if frac != "" {
		out += "." + frac
	}
	if neg && n != 0 {
		out = "-" + out
	}
	return out
}

// amount formats hundredths with two decimals ("12.30").
func amount(c int64) string { return formatFixed(c, 2, 2) }

// price formats ten-thousandths with two to four decimals ("9.90", "0.1234").
func price(p int64) string { return formatFixed(p, 4, 2) }

// quantity formats ten-thousandths with up to four decimals ("20", "1.5").
func quantity(q int64) string { return formatFixed(q, 4, 0) }

// optional formats *v with format, "" for nil.
func optional(v *int64, format func(int64) string) string {
	if v == nil {
		return ""
	}
	return format(*v)
}

// parseDate reads a model date (YYYY-MM-DD); ok is false for an empty or malformed one
// and for year 0, which xs:date does not have.
func parseDate(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	return t, err == nil && t.Year() >= 1
}

// cleanText returns s without the characters XML 1.0 cannot carry (most C0 controls,
// surrogates, U+FFFE and U+FFFF, invalid UTF-8) and with surrounding space trimmed.
func cleanText(s string) string {
	ok := true
	for _, r := range s {
		if !xmlChar(r) {
			ok = false
			break
		}
	}
	if ok && utf8.ValidString(s) {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !(r == utf8.RuneError && size == 1) && xmlChar(r) {
			b.WriteRune(r)
		}
		i += size
	}
	return strings.TrimSpace(b.String())
}

// xmlChar reports whether r is a Char of XML 1.0.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

// isoCountries are the ISO 3166-1 alpha-2 codes, for BT-40/BT-55 and VAT id prefixes.
var isoCountries = func() map[string]bool {
	const list = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
		"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
		"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
		"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT " +
		"MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
		"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG " +
		"UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XI"
	m := map[string]bool{}
	for _, c := range strings.Fields(list) {
		m[c] = true
	}
	return m
}()

// vatCountry returns the country of a VAT identifier's two-letter prefix ("EL" is
// Greece), or "" when id does not start with one.
func vatCountry(id string) string {
	if len(id) < 3 {
		return ""
	}
	p := id[:2]
	if p == "EL" {
		return "GR"
	}
	if isoCountries[p] {
		return p
	}
	return ""
}
