package export

import (
	"strings"
	"unicode"
)

// Address is a postal address split into the EN 16931 terms of BG-5 (seller) and BG-8
// (buyer).
type Address struct {
	// Lines are the address lines: BT-35/BT-50, BT-36/BT-51 and BT-162/BT-163 (a fourth
	// and later line are joined to the third with ", ").
	Lines []string
	// Postcode is BT-38/BT-53, City BT-37/BT-52, Subdivision BT-39/BT-54.
	Postcode    string
	City        string
	Subdivision string
}

// ParseAddress splits the model's one-string address by the convention the reader of
// worker/einvoice writes (its FormatAddress): the address lines, then "Postcode City",
// then the country subdivision when there is one, joined with ", ". It reads any string
// the way that reader's ParseAddress does, so that writing and reading again gives the
// same address:
//
// The "Postcode City" part is the last part whose first word contains a digit, when it
// is the last or the next-to-last part (then the last part is the subdivision); without
// one, the last part is the city. The parts before are the lines; empty parts are
// dropped. The postcode is the first word, or the first two for a British "OUT IN"
// code ("SW1A 1AA London").
func ParseAddress(s string) Address {
	var parts []string
	for _, p := range strings.Split(s, ", ") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	var a Address
	if len(parts) == 0 {
		return a
	}
	last := len(parts) - 1
	switch {
	case startsWithDigitWord(parts[last]):
		a.Postcode, a.City = splitPostcode(parts[last])
	case last >= 1 && startsWithDigitWord(parts[last-1]):
		a.Postcode, a.City = splitPostcode(parts[last-1])
		a.Subdivision = parts[last]
		last--
	default:
		a.City = parts[last]
	}
	if last > 0 {
		a.Lines = parts[:last]
	}
	return a
}

// startsWithDigitWord tells whether the first word of s contains a digit.
func startsWithDigitWord(s string) bool {
	w, _, _ := strings.Cut(s, " ")
	return strings.ContainsFunc(w, unicode.IsDigit)
}

// splitPostcode splits "POSTCODE CITY" at the first space, or at the second when the
// second word is the inward code of a British postcode.
func splitPostcode(s string) (postcode, city string) {
	postcode, city, _ = strings.Cut(s, " ")
	if in, rest, _ := strings.Cut(city, " "); isInwardCode(in) {
		postcode, city = postcode+" "+in, rest
	}
	return postcode, strings.TrimSpace(city)
}

// isInwardCode tells whether w is a British inward code: a digit and two capitals.
func isInwardCode(w string) bool {
	return len(w) == 3 && w[0] >= '0' && w[0] <= '9' &&
		w[1] >= 'A' && w[1] <= 'Z' && w[2] >= 'A' && w[2] <= 'Z'
}

// line returns the i-th EN 16931 address line (0, 1 or 2); the third carries every
// line from the third on, joined with ", ".
func (a Address) line(i int) string {
	if i > 2 || i >= len(a.Lines) {
		return ""
	}
	if i == 2 {
		return strings.Join(a.Lines[2:], ", ")
	}
	return a.Lines[i]
}
