package einvoice

import (
	"strings"
	"unicode"
)

// Address is a postal address as EN 16931 structures it (BG-5 seller, BG-8 buyer),
// without the country, which the parties carry as their own field.
type Address struct {
	// Lines are the address lines (BT-35, BT-36, BT-162 for the seller), in order.
	Lines []string
	// Postcode is the post code (BT-38).
	Postcode string
	// City is the city (BT-37).
	City string
	// Subdivision is the country subdivision, e.g. a region or state (BT-39).
	Subdivision string
}

// addressSep separates the parts of a formatted address.
const addressSep = ", "

// FormatAddress writes an address as one string: the non-empty lines (trimmed), then
// "Postcode City" (one space between; either may be empty, the part is left out when
// both are), then the subdivision when there is one, all joined with ", ". The country
// is never part of the string. This is the convention of invoice.Supplier.Address and
// invoice.Customer.Address for e-invoices, shared by the reader and the writer.
func FormatAddress(a Address) string {
	var parts []string
	for _, l := range a.Lines {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	if pc := strings.TrimSpace(strings.TrimSpace(a.Postcode) + " " + strings.TrimSpace(a.City)); pc != "" {
		parts = append(parts, pc)
	}
	if s := strings.TrimSpace(a.Subdivision); s != "" {
		parts = append(parts, s)
	}
	return strings.Join(parts, addressSep)
}

// ParseAddress splits a string written by FormatAddress into its parts again; for any
// other string it makes the same reading. The part holding the postcode is the last
// part whose first word contains a digit, when it is the last or the next-to-last part
// (then the last part is the subdivision); without one, the last part is the city.
// Parts before are the lines.
//
// The convention cannot tell every address apart: ParseAddress(FormatAddress(a)) == a
// holds when the postcode is one word holding a digit (or a British "OUT IN" code) or is
// empty with the city set, no part contains ", ", the city does not start with a word
// holding a digit when there is no postcode, and a subdivision comes with a postcode.
func ParseAddress(s string) Address {
	var parts []string
	for _, p := range strings.Split(s, addressSep) {
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
// second word is the inward code of a British postcode ("SW1A 1AA London").
func splitPostcode(s string) (postcode, city string) {
	postcode, city, _ = strings.Cut(s, " ")
	if in, rest, _ := strings.Cut(city, " "); isInwardCode(in) {
		postcode, city = postcode+" "+in, rest
	}
	return postcode, strings.TrimSpace(city)
}

// isInwardCode tells whether w is a British inward code: a digit and two letters.
func isInwardCode(w string) bool {
	return len(w) == 3 && w[0] >= '0' && w[0] <= '9' &&
		unicode.IsUpper(rune(w[1])) && unicode.IsUpper(rune(w[2])) && w[1] < 0x80 && w[2] < 0x80
}
