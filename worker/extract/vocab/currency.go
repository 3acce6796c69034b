package vocab

import (
	"sort"
	"unicode/utf8"
)

// Currency is one currency as invoices print it.
type Currency struct {
	// Code is the ISO 4217 code.
	Code string
	// Signs are the symbols and abbreviations printed beside an amount, exactly as
	// printed ("€", "US$", "Rs.").
	Signs []string
	// Text is the pattern (Go regexp syntax) by which the generic extractor counts the
	// currency in running text: a bare sign there can be something else ("$" in front of
	// a part number, "RM" inside a word), so most signs count only beside an amount, and
	// the currency's name in words counts too. Empty: running text names it by its ISO
	// code only ("kr" and "Fr." are ordinary abbreviations, and "kr" is also the Danish
	// and Norwegian crown).
	Text string
}

// Currencies are the currencies known by sign, in the order the generic extractor
// prefers them when a document names several equally often.
var Currencies = []Currency{
	{Code: "EUR", Signs: []string{"€"}, Text: `€|(?i:\beuros?\b)`},
	{Code: "USD", Signs: []string{"$", "US$"}, Text: `(?:^|[^A-Za-z$])(?:US)?\$\s?\d[\d,]*\.\d{2}\b|(?i:\bus\s*dollars?\b)`},
	{Code: "GBP", Signs: []string{"£"}, Text: `£`},
	{Code: "INR", Signs: []string{"₹", "Rs", "Rs."}, Text: `₹|(?:^|[^A-Za-z])Rs\.?\s?-?\d|(?i:rupees)`},
	{Code: "MYR", Signs: []string{"RM"}, Text: `(?:^|[^A-Za-z])RM\s?\d|\(RM\)|(?:^|\s)RM(?:\s|$)`},
	{Code: "CHF", Signs: []string{"CHF", "Fr."}},
	{Code: "JPY", Signs: []string{"¥"}, Text: `¥`},
	{Code: "AUD", Signs: []string{"A$"}},
	{Code: "CAD", Signs: []string{"C$"}},
	{Code: "PLN", Signs: []string{"zł"}},
	{Code: "SEK", Signs: []string{"kr"}},
	{Code: "BRL", Signs: []string{"R$"}},
}

// Codes are the ISO 4217 codes invoices are read for.
var Codes = []string{"EUR", "USD", "GBP", "CHF", "INR", "MYR", "AUD", "CAD", "JPY", "SEK", "NOK", "DKK", "PLN",
	"CZK", "HUF", "SGD", "HKD", "CNY", "NZD", "ZAR", "RON", "BGN", "TRY", "BRL", "MXN", "AED"}

var bySign = func() map[string]string {
	m := map[string]string{}
	for _, c := range Currencies {
		for _, s := range c.Signs {
			m[s] = c.Code
		}
	}
	return m
}()

// CodeOfSign returns the ISO code of a currency sign as printed ("€" -> "EUR",
// "Rs." -> "INR"); false when s is no known sign.
func CodeOfSign(s string) (string, bool) {
	c, ok := bySign[s]
	return c, ok
}

// Marks are every ISO code and currency sign, longest first (in characters), so that a
// caller stripping them from an amount takes "Rs." before "Rs" and "US$" before "$".
func Marks() []string {
	out := append([]string(nil), Codes...)
	for _, c := range Currencies {
		for _, s := range c.Signs {
			if _, isCode := codeSet[s]; !isCode {
				out = append(out, s)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return utf8.RuneCountInString(out[i]) > utf8.RuneCountInString(out[j])
	})
	return out
}

var codeSet = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range Codes {
		m[c] = true
	}
	return m
}()
