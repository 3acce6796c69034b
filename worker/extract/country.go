package extract

import (
	"regexp"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/worker/validate"
)

// setCountries fills each party's country (ISO 3166-1 alpha-2), which an e-invoice
// needs (BT-40, BT-55), from what the document says about that party: a country named
// in its address, a postcode written with its country's prefix ("D-80333 München",
// "DE 80333 München"), else the country of its tax id when the id's check holds. It is
// never guessed from the currency or the language.
func (x *extraction) setCountries() {
	inv := &x.data.Invoice
	if inv.Supplier.Country == "" {
		if c, conf := partyCountry(inv.Supplier.Address, inv.Supplier.TaxID); c != "" {
			inv.Supplier.Country = c
			x.conf["invoice.supplier.country"] = conf * x.fieldConf("invoice.supplier.address", "invoice.supplier.taxId")
		}
	}
	if inv.Customer.Country == "" {
		if c, conf := partyCountry(inv.Customer.Address, inv.Customer.TaxID); c != "" {
			inv.Customer.Country = c
			x.conf["invoice.customer.country"] = conf * x.fieldConf("invoice.customer.address", "invoice.customer.taxId")
		}
	}
}

// fieldConf is the highest confidence of the given fields, 1 when none has one.
func (x *extraction) fieldConf(paths ...string) float64 {
	best, any := 0.0, false
	for _, p := range paths {
		if c, ok := x.conf[p]; ok {
			best, any = max(best, c), true
		}
	}
	if !any {
		return 1
	}
	return best
}

// partyCountry returns the country an address and tax id name, and how sure that is.
func partyCountry(address, taxID string) (string, float64) {
	if c := countryNamed(address); c != "" {
		return c, 0.95
	}
	if c := countryOfPostcode(address); c != "" {
		return c, 0.9
	}
	if c := countryOfPostalForm(address); c != "" {
		return c, 0.8
	}
	if taxID != "" {
		if r, ok := validate.CheckTaxID(taxID, ""); ok && r.Valid() && len(r.Country) == 2 {
			if r.Country == "EL" {
				return "GR", 0.85
			}
			return r.Country, 0.85
		}
	}
	return "", 0
}

// countryNames are country names as invoices print them, in the languages the
// extraction reads, by ISO code.
var countryNames = map[string][]string{
	"DE": {"germany", "deutschland", "allemagne", "alemania", "germania", "duitsland", "bundesrepublik deutschland"},
	"AT": {"austria", "österreich", "oesterreich", "autriche"},
	"CH": {"switzerland", "schweiz", "suisse", "svizzera", "suiza"},
	"FR": {"france", "frankreich", "francia", "frankrijk"},
	"NL": {"netherlands", "the netherlands", "nederland", "niederlande", "pays-bas", "paesi bassi", "países bajos", "holland"},
	"BE": {"belgium", "belgien", "belgique", "belgië", "belgie", "belgio", "bélgica"},
	"LU": {"luxembourg", "luxemburg", "lussemburgo", "luxemburgo"},
	"IT": {"italy", "italien", "italie", "italia"},
	"ES": {"spain", "spanien", "espagne", "españa", "espana", "spagna"},
	"PT": {"portugal", "portogallo"},
	"PL": {"poland", "polen", "pologne", "polska", "polonia"},
	"CZ": {"czech republic", "czechia", "tschechien", "česká republika"},
	"DK": {"denmark", "dänemark", "danmark", "danemark"},
	"SE": {"sweden", "schweden", "sverige", "suède"},
	"NO": {"norway", "norwegen", "norge", "norvège"},
	"FI": {"finland", "finnland", "suomi", "finlande"},
	"IE": {"ireland", "irland", "irlande"},
	"GB": {"united kingdom", "great britain", "england", "scotland", "wales", "vereinigtes königreich", "royaume-uni"},
	"US": {"united states", "united states of america", "usa", "u.s.a."},
	"CA": {"canada", "kanada"},
	"IN": {"india", "indien", "inde"},
	"MY": {"malaysia"},
	"SG": {"singapore", "singapur"},
	"AU": {"australia", "australien", "australie"},
	"GR": {"greece", "griechenland", "grèce"},
	"HU": {"hungary", "ungarn", "hongrie"},
	"RO": {"romania", "rumänien", "roumanie"},
	// French overseas departments have ISO codes of their own, and French VAT ids.
	"RE": {"réunion", "la réunion", "reunion"},
	"GP": {"guadeloupe"},
	"MQ": {"martinique"},
	"GF": {"guyane", "french guiana"},
	"YT": {"mayotte"},
}

// countryNameRe finds any of countryNames as whole words; its groups are matched back
// to codes through countryByName.
var countryNameRe, countryByName = func() (*regexp.Regexp, map[string]string) {
	by := map[string]string{}
	var alts []string
	for code, names := range countryNames {
		for _, n := range names {
			by[n] = code
			alts = append(alts, regexp.QuoteMeta(n))
		}
	}
	// Longer names first, so that "united states of america" wins over "united states".
	for i := range alts {
		for j := i + 1; j < len(alts); j++ {
			if len(alts[j]) > len(alts[i]) {
				alts[i], alts[j] = alts[j], alts[i]
			}
		}
	}
	return regexp.MustCompile(`(?i)(?:^|[^\pL])(` + strings.Join(alts, "|") + `)(?:$|[^\pL])`), by
}()

// countryNamed returns the country the last country name in s names, or "".
func countryNamed(s string) string {
	ms := countryNameRe.FindAllStringSubmatch(s, -1)
	if len(ms) == 0 {
		return ""
	}
	return countryByName[strings.ToLower(ms[len(ms)-1][1])]
}

// postcodePrefixes are the country prefixes written before a postcode, with the form
// of that country's postcodes: "D-80333", "DE 80333", "CH-8001", "F-75001".
var postcodePrefixes = []struct {
	prefixes []string
	code     string
	postcode string
}{
	{[]string{"DE", "D"}, "DE", `\d{5}`},
	{[]string{"AT", "A"}, "AT", `\d{4}`},
	{[]string{"CH"}, "CH", `\d{4}`},
	{[]string{"FR", "F"}, "FR", `\d{5}`},
	{[]string{"BE", "B"}, "BE", `\d{4}`},
	{[]string{"LU", "L"}, "LU", `\d{4}`},
	{[]string{"NL"}, "NL", `\d{4} ?[A-Z]{2}`},
	{[]string{"IT", "I"}, "IT", `\d{5}`},
	{[]string{"ES", "E"}, "ES", `\d{5}`},
	{[]string{"DK"}, "DK", `\d{4}`},
	{[]string{"PL"}, "PL", `\d{2}-\d{3}`},
}

// postcodeRes holds one expression per entry of postcodePrefixes. A prefix needs a
// dash, or a space and a city after the postcode: "Dover, DE 19901" is a US state and ZIP
// code at the end of a line, "DE 80333 München" a German postcode before its city.
var postcodeRes = func() []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(postcodePrefixes))
	for i, p := range postcodePrefixes {
		pre := strings.Join(p.prefixes, "|")
		out[i] = regexp.MustCompile(`(?:^|[\s,])(?:(?:` + pre + `)-` + p.postcode + `\b|(?:` + pre + `) ` + p.postcode + ` +\pL)`)
	}
	return out
}()

// countryOfPostcode returns the country whose prefix stands before a postcode in s.
func countryOfPostcode(s string) string {
	for i, re := range postcodeRes {
		if re.MatchString(s) {
			return postcodePrefixes[i].code
		}
	}
	return ""
}

// postalForms are address endings whose form only one country uses: a US state and ZIP
// code ("Tampa, FL 33602"), a Canadian province and postal code ("Toronto, ON M5V 2T6"),
// a UK postcode ("London SW1A 1AA").
var postalForms = []struct {
	code string
	re   *regexp.Regexp
}{
	{"US", regexp.MustCompile(`,\s*(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY)\.?\s+\d{5}(?:-\d{4})?\s*$`)},
	{"CA", regexp.MustCompile(`(?:,\s*|\s)(?:AB|BC|MB|NB|NL|NS|NT|NU|ON|PE|QC|SK|YT)\s+[A-Z]\d[A-Z] ?\d[A-Z]\d\s*$`)},
	{"GB", regexp.MustCompile(`(?:^|[\s,])[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}\s*$`)},
}

// countryOfPostalForm returns the country whose postal form ends s, or "".
func countryOfPostalForm(s string) string {
	s = strings.TrimSpace(s)
	for _, f := range postalForms {
		if f.re.MatchString(s) {
			return f.code
		}
	}
	return ""
}
