package validate

import (
	"strings"
)

// ibanLengths is the length of an IBAN per country (ISO 13616 registry), for the
// countries whose invoices are common; other countries are checked by checksum only.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
	"EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
	"IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
	"PT": 25, "RO": 24, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TR": 26,
}

// NormalizeIBAN removes spaces and dashes and upper-cases s.
func NormalizeIBAN(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\u00a0", "").Replace(strings.TrimSpace(s)))
}

// CheckIBAN reports whether s (spaces allowed) is an IBAN: two letters, two check digits
// and 11 to 30 letters or digits, of its country's length when known, whose ISO 7064
// mod 97-10 checksum is 1.
func CheckIBAN(s string) bool {
	v := NormalizeIBAN(s)
	if len(v) < 15 || len(v) > 34 {
		return false
	}
	for i, r := range v {
		switch {
		case i < 2 && (r < 'A' || r > 'Z'):
			return false
		case i >= 2 && i < 4 && (r < '0' || r > '9'):
			return false
		case !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'):
			return false
		}
	}
	if n, ok := ibanLengths[v[:2]]; ok && len(v) != n {
		return false
	}
	rearranged := v[4:] + v[:4]
	rem := 0
	for _, r := range rearranged {
		if r >= 'A' {
			n := int(r-'A') + 10
			rem = (rem*100 + n) % 97
		} else {
			rem = (rem*10 + int(r-'0')) % 97
		}
	}
	return rem == 1
}

// CheckBIC reports whether s is shaped like a BIC (ISO 9362): four letters of the bank,
// two of the country, two letters or digits of the location and an optional branch of
// three.
func CheckBIC(s string) bool {
	v := strings.ToUpper(strings.TrimSpace(s))
	if len(v) != 8 && len(v) != 11 {
		return false
	}
	for i, r := range v {
		letter := r >= 'A' && r <= 'Z'
		digit := r >= '0' && r <= '9'
		if i < 6 && !letter || i >= 6 && !letter && !digit {
			return false
		}
	}
	return true
}
