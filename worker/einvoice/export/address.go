package export

import (
	"strings"

	"github.com/ocrinvoice/ocrinvoice/worker/einvoice"
)

// Address is a postal address split into the EN 16931 terms (lines BT-35/36/162,
// postcode, city, subdivision): the reader's convention, einvoice.Address.
type Address = einvoice.Address

// ParseAddress splits one address string as the reader joined it (einvoice.FormatAddress),
// so that what is read and written back comes out the same.
func ParseAddress(s string) Address { return einvoice.ParseAddress(s) }

// addressLine is line i of a, as EN 16931 has room for: BT-35, BT-36, and BT-162
// holding the third and every later line joined with ", ".
func addressLine(a Address, i int) string {
	if i > 2 || i >= len(a.Lines) {
		return ""
	}
	if i == 2 {
		return strings.Join(a.Lines[2:], ", ")
	}
	return a.Lines[i]
}
