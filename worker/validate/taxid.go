package validate

import (
	"regexp"
	"strings"
	"unicode"
)

// TaxIDKind names a family of tax identifiers.
type TaxIDKind string

// Tax id kinds recognised by CheckTaxID.
const (
	KindEUVAT TaxIDKind = "eu-vat" // EU VAT id with country prefix (and CH/GB/NO forms)
	KindEIN   TaxIDKind = "us-ein" // US employer identification number, 12-3456789
	KindGSTIN TaxIDKind = "gstin"  // India GST identification number, 15 characters
	KindABN   TaxIDKind = "abn"    // Australian business number, 11 digits
)

// TaxIDResult is what CheckTaxID found out about an identifier.
type TaxIDResult struct {
	Kind       TaxIDKind
	Country    string // ISO 3166 alpha-2 (EL for Greece as VIES writes it)
	Normalized string // upper case, without spaces, dots and dashes (EIN keeps its dash)
	// FormatOK: the identifier has the country's shape.
	FormatOK bool
	// HasChecksum: the country defines a check digit that was verified.
	HasChecksum bool
	// ChecksumOK is meaningful only when HasChecksum.
	ChecksumOK bool
}

// Valid reports whether the id has the right shape and, where defined, checksum.
func (r TaxIDResult) Valid() bool { return r.FormatOK && (!r.HasChecksum || r.ChecksumOK) }

// vatFormats are the shapes of VAT ids after the country prefix.
var vatFormats = map[string]*regexp.Regexp{
	"AT": regexp.MustCompile(`^U\d{8}$`),
	"BE": regexp.MustCompile(`^[01]\d{9}$`),
	"BG": regexp.MustCompile(`^\d{9,10}$`),
	"CY": regexp.MustCompile(`^\d{8}[A-Z]$`),
	"CZ": regexp.MustCompile(`^\d{8,10}$`),
	"DE": regexp.MustCompile(`^\d{9}$`),
	"DK": regexp.MustCompile(`^\d{8}$`),
	"EE": regexp.MustCompile(`^\d{9}$`),
	"EL": regexp.MustCompile(`^\d{9}$`),
	"ES": regexp.MustCompile(`^[A-Z0-9]\d{7}[A-Z0-9]$`),
	"FI": regexp.MustCompile(`^\d{8}$`),
	"FR": regexp.MustCompile(`^[A-HJ-NP-Z0-9]{2}\d{9}$`),
	"HR": regexp.MustCompile(`^\d{11}$`),
	"HU": regexp.MustCompile(`^\d{8}$`),
	"IE": regexp.MustCompile(`^\d[A-Z0-9+*]\d{5}[A-Z]{1,2}$`),
	"IT": regexp.MustCompile(`^\d{11}$`),
	"LT": regexp.MustCompile(`^(\d{9}|\d{12})$`),
	"LU": regexp.MustCompile(`^\d{8}$`),
	"LV": regexp.MustCompile(`^\d{11}$`),
	"MT": regexp.MustCompile(`^\d{8}$`),
	"NL": regexp.MustCompile(`^\d{9}B\d{2}$`),
	"PL": regexp.MustCompile(`^\d{10}$`),
	"PT": regexp.MustCompile(`^\d{9}$`),
	"RO": regexp.MustCompile(`^\d{2,10}$`),
	"SE": regexp.MustCompile(`^\d{10}01$`),
	"SI": regexp.MustCompile(`^\d{8}$`),
	"SK": regexp.MustCompile(`^\d{10}$`),
	"GB": regexp.MustCompile(`^(\d{9}|\d{12}|GD\d{3}|HA\d{3})$`),
	"XI": regexp.MustCompile(`^(\d{9}|\d{12})$`),
	"CH": regexp.MustCompile(`^E\d{9}(MWST|TVA|IVA)?$`),
	"NO": regexp.MustCompile(`^\d{9}(MVA)?$`),
}

var (
	reEIN   = regexp.MustCompile(`^\d{2}-\d{7}$`)
	reGSTIN = regexp.MustCompile(`^\d{2}[A-Z]{5}\d{4}[A-Z][1-9A-Z]Z[0-9A-Z]$`)
	reABN   = regexp.MustCompile(`^\d{11}$`)
)

// NormalizeTaxID upper-cases id and removes spaces, dots and dashes.
func NormalizeTaxID(id string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(id) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '+' || r == '*' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// CheckTaxID recognises id as an EU (or CH, GB, NO) VAT id with its country prefix,
// a US EIN ("12-3456789"), an Indian GSTIN or an Australian ABN (kindHint "abn" or an
// "ABN" prefix needed, as 11 digits alone are ambiguous), checks the country's format and,
// where the country defines one, the check digit. ok is false when id matches no known
// kind.
func CheckTaxID(id string, kindHint TaxIDKind) (TaxIDResult, bool) {
	raw := strings.TrimSpace(id)
	up := strings.ToUpper(raw)
	if strings.HasPrefix(up, "ABN") {
		kindHint = KindABN
		up = up[3:]
	}
	if reEIN.MatchString(strings.TrimSpace(up)) {
		r := TaxIDResult{Kind: KindEIN, Country: "US", Normalized: strings.TrimSpace(up), FormatOK: true}
		return r, true
	}
	n := NormalizeTaxID(up)
	if kindHint == KindABN || (kindHint == "" && false) {
		r := TaxIDResult{Kind: KindABN, Country: "AU", Normalized: n, FormatOK: reABN.MatchString(n), HasChecksum: true}
		r.ChecksumOK = r.FormatOK && abnOK(n)
		return r, true
	}
	if len(n) == 15 && reGSTIN.MatchString(n) {
		return TaxIDResult{Kind: KindGSTIN, Country: "IN", Normalized: n, FormatOK: true, HasChecksum: true, ChecksumOK: gstinOK(n)}, true
	}
	if len(n) < 4 {
		return TaxIDResult{}, false
	}
	cc := n[:2]
	if cc == "GR" {
		cc = "EL"
	}
	f, ok := vatFormats[cc]
	if !ok {
		return TaxIDResult{}, false
	}
	body := n[2:]
	r := TaxIDResult{Kind: KindEUVAT, Country: cc, Normalized: cc + body, FormatOK: f.MatchString(body)}
	if check, ok := vatChecks[cc]; ok && r.FormatOK {
		r.HasChecksum = true
		r.ChecksumOK = check(body)
	}
	return r, true
}

var vatChecks = map[string]func(string) bool{
	"DE": deOK,
	"FR": frOK,
	"IT": luhnIT,
	"NL": nlOK,
	"BE": beOK,
	"AT": atOK,
	"DK": weighted(mod11Zero, 2, 7, 6, 5, 4, 3, 2, 1),
	"FI": finOK,
	"PL": plOK,
	"PT": ptOK,
	"ES": esOK,
	"LU": luOK,
}

func digitsOf(s string) []int {
	d := make([]int, len(s))
	for i, r := range s {
		d[i] = int(r - '0')
	}
	return d
}

// deOK: ISO 7064 MOD 11,10 over 8 digits, the 9th is the check digit.
func deOK(b string) bool {
	d := digitsOf(b)
	p := 10
	for i := 0; i < 8; i++ {
		s := (d[i] + p) % 10
		if s == 0 {
			s = 10
		}
		p = (2 * s) % 11
	}
	c := 11 - p
	if c == 10 {
		c = 0
	}
	return c == d[8]
}

// frOK: key = (12 + 3 * (SIREN mod 97)) mod 97 for numeric keys; alphanumeric keys
// (new-style) are accepted on format only.
func frOK(b string) bool {
	key := b[:2]
	if key[0] < '0' || key[0] > '9' || key[1] < '0' || key[1] > '9' {
		return true
	}
	siren := 0
	for _, r := range b[2:] {
		siren = siren*10 + int(r-'0')
	}
	k := (12 + 3*(siren%97)) % 97
	return k == int(key[0]-'0')*10+int(key[1]-'0')
}

// luhnIT: the Italian partita IVA is a Luhn number.
func luhnIT(b string) bool { return luhn(b) }

func luhn(b string) bool {
	sum := 0
	d := digitsOf(b)
	for i := len(d) - 1; i >= 0; i-- {
		x := d[i]
		if (len(d)-1-i)%2 == 1 {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
	}
	return sum%10 == 0
}

// nlOK: the old mod-11 check (weights 9..2, -1) or the 2020 sole-trader mod-97 check.
func nlOK(b string) bool {
	d := digitsOf(b[:9])
	sum := 0
	for i := 0; i < 8; i++ {
		sum += d[i] * (9 - i)
	}
	sum -= d[8]
	if sum%11 == 0 {
		return true
	}
	// mod 97 over "NL" + body with letters as numbers (N=23, L=21, B=11).
	s := "2321" + b[:9] + "11" + b[10:]
	rem := 0
	for _, r := range s {
		rem = (rem*10 + int(r-'0')) % 97
	}
	return rem == 1
}

// beOK: 97 - (first 8 digits mod 97) equals the last two.
func beOK(b string) bool {
	n := 0
	for _, r := range b[:8] {
		n = n*10 + int(r-'0')
	}
	c := int(b[8]-'0')*10 + int(b[9]-'0')
	return 97-n%97 == c
}

// atOK: Austrian UID check digit.
func atOK(b string) bool {
	d := digitsOf(b[1:])
	s := 0
	for i := 0; i < 7; i++ {
		x := d[i]
		if i%2 == 1 {
			x *= 2
			x = x/10 + x%10
		}
		s += x
	}
	c := (10 - (s+4)%10) % 10
	return c == d[7]
}

func mod11Zero(sum int, _ []int) bool { return sum%11 == 0 }

func weighted(ok func(int, []int) bool, w ...int) func(string) bool {
	return func(b string) bool {
		d := digitsOf(b)
		if len(d) != len(w) {
			return false
		}
		s := 0
		for i := range w {
			s += d[i] * w[i]
		}
		return ok(s, d)
	}
}

func finOK(b string) bool {
	w := []int{7, 9, 10, 5, 8, 4, 2}
	d := digitsOf(b)
	s := 0
	for i := range w {
		s += d[i] * w[i]
	}
	c := 11 - s%11
	if c == 11 {
		c = 0
	}
	return c != 10 && c == d[7]
}

func plOK(b string) bool {
	w := []int{6, 5, 7, 2, 3, 4, 5, 6, 7}
	d := digitsOf(b)
	s := 0
	for i := range w {
		s += d[i] * w[i]
	}
	return s%11 != 10 && s%11 == d[9]
}

func ptOK(b string) bool {
	d := digitsOf(b)
	s := 0
	for i := 0; i < 8; i++ {
		s += d[i] * (9 - i)
	}
	c := 11 - s%11
	if c >= 10 {
		c = 0
	}
	return c == d[8]
}

func luOK(b string) bool {
	n := 0
	for _, r := range b[:6] {
		n = n*10 + int(r-'0')
	}
	return n%89 == int(b[6]-'0')*10+int(b[7]-'0')
}

// esOK checks Spanish NIF/CIF forms where the rules are simple; other forms pass on format.
func esOK(b string) bool {
	const letters = "TRWAGMYFPDXBNJZSQVHLCKE"
	first := b[0]
	last := b[8]
	if first >= '0' && first <= '9' && last >= 'A' && last <= 'Z' {
		n := 0
		for _, r := range b[:8] {
			if r < '0' || r > '9' {
				return false
			}
			n = n*10 + int(r-'0')
		}
		return letters[n%23] == last
	}
	return true
}

// gstinOK: base-36 weighted checksum of the first 14 characters.
func gstinOK(n string) bool {
	const cs = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	sum := 0
	for i := 0; i < 14; i++ {
		v := strings.IndexByte(cs, n[i])
		if v < 0 {
			return false
		}
		f := 1
		if i%2 == 1 {
			f = 2
		}
		p := v * f
		sum += p/36 + p%36
	}
	c := (36 - sum%36) % 36
	return cs[c] == n[14]
}

// abnOK: subtract 1 from the first digit, weights 10,1,3,...,19, sum divisible by 89.
func abnOK(n string) bool {
	w := []int{10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19}
	d := digitsOf(n)
	if len(d) != 11 {
		return false
	}
	d[0]--
	s := 0
	for i := range w {
		s += d[i] * w[i]
	}
	return s%89 == 0
}
