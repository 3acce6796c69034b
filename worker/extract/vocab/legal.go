package vocab

import "strings"

// LegalForm is a company's legal form (or a word that marks a company name as one) as
// printed: a case-insensitive regexp fragment, and where the generic extractor looks for
// it. A form that is also a common word ("as", "ab", "e.g.") ends a name at the end of a
// line but does not mark one in the middle.
type LegalForm struct {
	Pattern string
	// InName: the form marks a company name wherever it stands in a line.
	InName bool
	// AtEnd: the form ends a name at the end of a line.
	AtEnd bool
	// AtStart: a line that starts with the form continues the name on the line above
	// ("GmbH & Co. KG" under the name).
	AtStart bool
	// ReceiptStart: a receipt's shop name line that starts with the form continues the
	// line above ("POPULAR BOOK" / "CO. (M) SDN BHD").
	ReceiptStart bool
}

// LegalForms are the legal forms the generic extractor knows: German, French, English,
// Dutch, Italian, Spanish, Malaysian and Indian, Nordic, Polish and Hungarian ones, and
// cooperatives and associations. InName forms are in the order their alternation tries
// them.
var LegalForms = []LegalForm{
	{Pattern: `gmbh(?:\s*&\s*co\.?\s*kg)?`, InName: true, AtEnd: true, AtStart: true, ReceiptStart: true},
	{Pattern: `ag`, InName: true, AtEnd: true, AtStart: true},
	{Pattern: `kg`, InName: true, AtEnd: true, AtStart: true},
	{Pattern: `kgaa`, AtEnd: true},
	{Pattern: `ohg`, InName: true, AtEnd: true},
	{Pattern: `e\.\s?k\.`, InName: true, AtEnd: true},
	{Pattern: `e\.\s?v\.`, AtEnd: true},
	{Pattern: `a\.\s?g\.`, AtEnd: true},
	{Pattern: `ug`, InName: true},
	{Pattern: `ug(?:\s*\(haftungsbeschränkt\))?`, AtEnd: true},
	{Pattern: `gbr`, InName: true, AtEnd: true},
	{Pattern: `mbh`, AtEnd: true, AtStart: true},
	{Pattern: `&\s*co`, AtStart: true},
	{Pattern: `co\.\s*kg`, AtStart: true},
	{Pattern: `sarl`, InName: true, AtEnd: true, AtStart: true},
	{Pattern: `s\.a\.r\.l\.`, InName: true, AtEnd: true},
	{Pattern: `sas`, InName: true, AtEnd: true, AtStart: true},
	{Pattern: `s\.a\.s\.`, InName: true, AtEnd: true},
	{Pattern: `sasu`, AtEnd: true},
	{Pattern: `sa`, InName: true, AtEnd: true},
	{Pattern: `s\.a\.`, InName: true, AtEnd: true, AtStart: true},
	{Pattern: `eurl`, InName: true, AtEnd: true},
	{Pattern: `sci`, InName: true, AtEnd: true},
	{Pattern: `snc`, AtEnd: true},
	{Pattern: `ltd\.?`, InName: true, AtEnd: true, AtStart: true, ReceiptStart: true},
	{Pattern: `limited`, InName: true, AtEnd: true, AtStart: true, ReceiptStart: true},
	{Pattern: `inc\.?`, InName: true, AtEnd: true, AtStart: true, ReceiptStart: true},
	{Pattern: `llc`, InName: true, AtEnd: true, AtStart: true, ReceiptStart: true},
	{Pattern: `l\.l\.c\.`, InName: true, AtEnd: true},
	{Pattern: `lp`, AtEnd: true},
	{Pattern: `corp\.?`, InName: true, AtEnd: true},
	{Pattern: `corporation`, InName: true, AtEnd: true},
	{Pattern: `co\.`, InName: true, ReceiptStart: true},
	{Pattern: `company`, InName: true},
	{Pattern: `plc`, InName: true, AtEnd: true},
	{Pattern: `llp`, InName: true, AtEnd: true},
	{Pattern: `b\.v\.`, InName: true, AtEnd: true, AtStart: true},
	{Pattern: `bv`, InName: true, AtEnd: true},
	{Pattern: `n\.v\.`, InName: true, AtEnd: true, AtStart: true},
	{Pattern: `nv`, InName: true, AtEnd: true},
	{Pattern: `v\.o\.f\.`, AtEnd: true},
	{Pattern: `s\.r\.l\.`, InName: true, AtEnd: true, AtStart: true},
	{Pattern: `srl`, InName: true, AtEnd: true},
	{Pattern: `s\.p\.a\.`, InName: true, AtEnd: true, AtStart: true},
	{Pattern: `spa`, InName: true, AtEnd: true},
	{Pattern: `s\.l\.`, InName: true, AtEnd: true},
	{Pattern: `sl`, InName: true, AtEnd: true},
	{Pattern: `s\.a\.u\.`, AtEnd: true},
	{Pattern: `pvt\.?`, InName: true},
	{Pattern: `pvt\.?\s*ltd\.?`, AtEnd: true},
	{Pattern: `private`, InName: true},
	{Pattern: `sdn\.?\s*bhd\.?`, InName: true, AtEnd: true, ReceiptStart: true},
	{Pattern: `s/b`, InName: true, ReceiptStart: true},
	{Pattern: `bhd`, InName: true, AtEnd: true, ReceiptStart: true},
	{Pattern: `\(m\)`, ReceiptStart: true},
	{Pattern: `oy`, AtEnd: true},
	{Pattern: `ab`, AtEnd: true},
	{Pattern: `as`, AtEnd: true},
	{Pattern: `a/s`, AtEnd: true},
	{Pattern: `aps`, AtEnd: true},
	{Pattern: `kft`, AtEnd: true},
	{Pattern: `sp\.\s*z\s*o\.\s*o\.`, AtEnd: true},
	{Pattern: `spółka\s+akcyjna`, AtEnd: true},
	{Pattern: `eg`, AtEnd: true},
	{Pattern: `e\.\s?g\.`, AtEnd: true},
	{Pattern: `cooperative`, AtEnd: true},
	{Pattern: `co-?op`, AtEnd: true},
	{Pattern: `genossenschaft`, AtEnd: true},
	{Pattern: `coöperatie`, AtEnd: true},
	{Pattern: `association`, AtEnd: true},
	{Pattern: `verein`, AtEnd: true},
	{Pattern: `stiftung`, AtEnd: true},
	{Pattern: `foundation`, AtEnd: true},
	{Pattern: `enterprise`, InName: true},
	{Pattern: `trading`, InName: true},
	{Pattern: `holding`, InName: true},
	{Pattern: `gruppe`, InName: true},
	{Pattern: `group`, InName: true},
}

// LegalFormsWhere is the regexp alternation (no group) of the forms that keep(f) selects,
// in table order.
func LegalFormsWhere(keep func(LegalForm) bool) string {
	var ps []string
	for _, f := range LegalForms {
		if keep(f) {
			ps = append(ps, f.Pattern)
		}
	}
	return strings.Join(ps, "|")
}
