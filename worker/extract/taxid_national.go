package extract

import (
	"regexp"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/worker/validate"
)

// nationalTaxIDLabels name a VAT number that its country prints without the country
// prefix: the Polish NIP, the Italian partita IVA, the Portuguese NIF/NIPC, the Spanish
// NIF/CIF and the Belgian enterprise (BTW/TVA) number. Such a value is only taken when
// the country's check digits hold, so a customer number or a phone number under a
// loose label is not read as a tax id.
var nationalTaxIDLabels = []struct {
	re        *regexp.Regexp
	countries []string
}{
	{regexp.MustCompile(`(?i)\bNIP\b`), []string{"PL"}},
	{regexp.MustCompile(`(?i)\b(?:P\.?\s?IVA|partita\s+IVA)\b`), []string{"IT"}},
	{regexp.MustCompile(`(?i)\b(?:NIF|NIPC|CIF)\b`), []string{"PT", "ES"}},
	{regexp.MustCompile(`(?i)\b(?:BTW|TVA|ondernemingsnummer)\b`), []string{"BE"}},
}

// reNationalValue is the value after such a label: punctuation or "Nr"/"n°", then 8 to
// 12 digits (a letter may open or close a Spanish one) in groups joined by spaces, dots,
// dashes or slashes.
var reNationalValue = regexp.MustCompile(`^(?i:[\s.:#°º-]|n[r°º]\.?)*([0-9A-Z](?:[ .\-/]?[0-9]){7,11}[ .\-/]?[0-9A-Z]?)`)

// nationalTaxIDs returns the labelled national VAT numbers of the document that pass
// their country's check, written as printed without separators. They score below a
// prefixed VAT id so that one wins when the document shows both.
func (d *doc) nationalTaxIDs(cus party) []cand {
	var cs []cand
	for ri, r := range d.rows {
		if cus.rows[ri] || d.underCustomerHeading(ri) {
			continue
		}
		t := rowPlain(r)
		for _, l := range nationalTaxIDLabels {
			for _, loc := range l.re.FindAllStringIndex(t, -1) {
				if customerContext.MatchString(t[max(0, loc[0]-30):loc[0]]) {
					continue
				}
				if v, ok := nationalValue(t[loc[1]:], l.countries); ok {
					cs = append(cs, cand{str: v, score: 0.65, conf: rowConf(r), row: ri, how: "national"})
				}
			}
		}
	}
	return cs
}

// nationalValue reads the value at the start of s and returns it without separators
// when it is a valid VAT number of one of the countries.
func nationalValue(s string, countries []string) (string, bool) {
	m := reNationalValue.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	body := strings.Map(func(r rune) rune {
		if r == ' ' || r == '.' || r == '-' || r == '/' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(m[1])))
	for _, cc := range countries {
		res, ok := validate.CheckTaxID(cc+body, "")
		if ok && res.FormatOK && res.HasChecksum && res.ChecksumOK {
			return body, true
		}
	}
	return "", false
}

// reSupplierHeading opens the supplier's block ("Sprzedawca:", "Seller:", "Verkäufer:").
var reSupplierHeading = regexp.MustCompile(`(?i)^\s*(?:sprzedawca|seller|supplier|verk[äa]ufer|vendor|fournisseur|vendeur|emisor|proveedor|fornitore|cedente|leverancier|lieferant)\b`)

// underCustomerHeading reports whether row ri sits in a block that a customer heading
// opens a few rows above it ("Nabywca:" / "Bill to:"), with no supplier heading between.
func (d *doc) underCustomerHeading(ri int) bool {
	for k := ri - 1; k >= 0 && k >= ri-4 && d.rows[k].page == d.rows[ri].page; k-- {
		t := rowPlain(d.rows[k])
		if reSupplierHeading.MatchString(t) {
			return false
		}
		if loc := customerContext.FindStringIndex(t); loc != nil && loc[0] < 3 {
			return true
		}
	}
	return false
}
