package profile

import (
	"fmt"
	"hash/fnv"
	"strings"
	"unicode"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// Keys reads the supplier keys of a document from its extraction result and layout,
// for the lookup: the supplier's tax id and the payment IBAN (upper case, letters and
// digits only), the supplier's name (lower case, punctuation and legal-form words
// dropped, spaces collapsed) and the fingerprint of the first page's layout. ld may be
// nil: the fingerprint is empty then.
func Keys(ld *layout.Document, data invoice.ExtractedData) invoice.SupplierKeys {
	return invoice.SupplierKeys{
		TaxID:       normCode(data.Invoice.Supplier.TaxID),
		IBAN:        normCode(data.Invoice.Payment.IBAN),
		Name:        NormName(data.Invoice.Supplier.Name),
		Fingerprint: Fingerprint(ld),
	}
}

// SameSupplier tells whether a document whose keys are doc prints the supplier a
// profile with keys profile was taught by the same name: the same supplier name read
// (its name key), or, where no name was read, the same tax id or IBAN. A layout that
// looks the same (the fingerprint) does not count: two suppliers may bill from the same
// software. Such a document gets the supplier name the corrections taught even where
// the page prints another (ApplyOptions.Identified); a page that prints a different
// name than the one the profile learned from keeps its own.
func SameSupplier(profile, doc invoice.SupplierKeys) bool {
	if doc.Name != "" {
		return profile.Name == doc.Name
	}
	return profile.TaxID != "" && profile.TaxID == doc.TaxID ||
		profile.IBAN != "" && profile.IBAN == doc.IBAN
}

// normCode is s upper case with letters and digits only.
func normCode(s string) string {
	return strings.ToUpper(fold(s))
}

// legalForms are the words of company legal forms that NormName drops, folded.
var legalForms = map[string]bool{
	"gmbh": true, "mbh": true, "ag": true, "kg": true, "kgaa": true, "ohg": true, "ug": true, "ev": true, "gbr": true,
	"bv": true, "nv": true, "vof": true, "inc": true, "incorporated": true, "ltd": true, "limited": true, "llc": true,
	"llp": true, "lp": true, "plc": true, "corp": true, "corporation": true, "co": true, "company": true,
	"sa": true, "sas": true, "sasu": true, "sarl": true, "eurl": true, "srl": true, "spa": true, "sl": true,
	"sdn": true, "bhd": true, "pty": true, "pvt": true, "oy": true, "ab": true, "as": true, "aps": true,
	"kft": true, "sro": true, "sp": true, "zoo": true,
}

// NormName normalises a supplier's name for the lookup: lower case, dots dropped
// ("B.V." -> "bv"), other punctuation a space, legal-form words ("GmbH", "Sdn Bhd",
// "B.V.", "Inc") dropped, spaces collapsed. A name of legal-form words only is kept
// without dropping them.
func NormName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '.' || r == '\'' || r == '’':
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	all := strings.Fields(b.String())
	var kept []string
	for _, w := range all {
		if !legalForms[w] {
			kept = append(kept, w)
		}
	}
	if len(kept) == 0 {
		kept = all
	}
	return strings.Join(kept, " ")
}

// Fingerprint is a 64-bit SimHash of the first page's layout, as 16 hex digits: its
// features are the page's label words (words with three or more letters and no digit,
// folded) with their coarse place (a 4x8 grid of the page). Documents of one layout
// differ in a few bits; "" when ld has no words.
func Fingerprint(ld *layout.Document) string {
	if ld == nil || len(ld.Pages) == 0 {
		return ""
	}
	pages := prepare(&layout.Document{Pages: ld.Pages[:1]})
	p := &pages[0]
	var acc [64]int
	n := 0
	for _, l := range p.lines {
		for i, w := range l.words {
			f := l.folds[i]
			if len([]rune(f)) < 3 || hasDigit(w.Text) {
				continue
			}
			cx := (w.Box.X0 + w.Box.X1) / 2 / p.w
			cy := (w.Box.Y0 + w.Box.Y1) / 2 / p.h
			// A word's column and its row are two features, so that a layout whose
			// lower part moves down with more items keeps half of them.
			for _, feat := range []string{fmt.Sprintf("%s@x%d", f, bucket(cx, 4)), fmt.Sprintf("%s@y%d", f, bucket(cy, 8))} {
				h := fnv.New64a()
				h.Write([]byte(feat))
				v := h.Sum64()
				for bit := range acc {
					if v&(1<<bit) != 0 {
						acc[bit]++
					} else {
						acc[bit]--
					}
				}
			}
			n++
		}
	}
	if n == 0 {
		return ""
	}
	var out uint64
	for bit, c := range acc {
		if c > 0 {
			out |= 1 << bit
		}
	}
	return fmt.Sprintf("%016x", out)
}

// bucket is v's cell of n equal cells of 0..1.
func bucket(v float64, n int) int {
	i := int(v * float64(n))
	return min(max(i, 0), n-1)
}
