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
// worker/einvoice writes: address lines joined with ", ", then "Postcode City" as the
// last part, optionally followed by one more part, the country subdivision.
//
// The "Postcode City" part is the last part whose first token contains a digit; the
// parts before it are lines and a part after it is the subdivision (more than one
// part after it are joined with ", "). Without such a part, the last part is the city
// and the parts before it are lines; a single part without a postcode is the city when
// it holds no digit and a line otherwise. Empty parts are dropped.
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
	pc := -1
	for i := len(parts) - 1; i >= 0; i-- {
		if first, _, _ := strings.Cut(parts[i], " "); strings.ContainsFunc(first, unicode.IsDigit) {
			pc = i
			break
		}
	}
	switch {
	case pc >= 0:
		a.Lines = parts[:pc]
		code, city, _ := strings.Cut(parts[pc], " ")
		a.Postcode, a.City = code, strings.TrimSpace(city)
		if pc+1 < len(parts) {
			a.Subdivision = strings.Join(parts[pc+1:], ", ")
		}
	case len(parts) == 1 && strings.ContainsFunc(parts[0], unicode.IsDigit):
		a.Lines = parts
	default:
		a.Lines = parts[:len(parts)-1]
		a.City = parts[len(parts)-1]
	}
	if len(a.Lines) == 0 {
		a.Lines = nil
	}
	return a
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
