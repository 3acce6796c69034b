package extract

import "testing"

// TestMonthsFromVocab: written dates use vocab's month table, folded, so a month reads
// the same with or without its accents and in every language the templates read.
func TestMonthsFromVocab(t *testing.T) {
	for in, want := range map[string]string{
		"7. März 2014":      "2014-03-07",
		"7. Marz 2014":      "2014-03-07",
		"12 févr. 2023":     "2023-02-12",
		"12 fevr 2023":      "2023-02-12",
		"3 Sept. 2024":      "2024-09-03",
		"5 maja 2024":       "2024-05-05",
		"1 outubro 2024":    "2024-10-01",
		"August 3 , 2014":   "2014-08-03",
		"02 Juillet 2015":   "2015-07-02",
		"Jänner 15, 2021":   "2021-01-15",
		"15 setiembre 2021": "2021-09-15",
	} {
		if got, ok := ParseDate(in, DMY); !ok || got != want {
			t.Errorf("ParseDate(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// TestCurrencyMarksFromVocab: every sign in vocab's currency table is stripped around
// an amount, not only the ones the generic rules search running text for.
func TestCurrencyMarksFromVocab(t *testing.T) {
	for in, want := range map[string]float64{
		"12,50 zł": 12.5, "R$ 10,00": 10, "US$ 4.11": 4.11, "Rs. 120": 120, "RM 9.00": 9, "Fr. 7.50": 7.5, "100 kr": 100, "SGD 3.20": 3.2,
	} {
		if got, ok := ParseAmount(in, 0); !ok || got != want {
			t.Errorf("ParseAmount(%q) = %v, %v; want %v", in, got, ok, want)
		}
	}
}

// TestLegalFormsFromVocab: one table, four uses. A form that is also a common word ends
// a name at the end of a line but does not make a line a company name.
func TestLegalFormsFromVocab(t *testing.T) {
	for s, want := range map[string]bool{"Nordic Shipping AS": true, "Muster GmbH & Co. KG": true, "Kleingarten e.V.": true, "payable as agreed": false, "Total": false} {
		if got := hasLegalEnd(s); got != want {
			t.Errorf("hasLegalEnd(%q) = %v, want %v", s, got, want)
		}
	}
	for s, want := range map[string]bool{"ACME Trading": true, "Globex Corporation": true, "payable as agreed": false, "see e.g. page 2": false} {
		if got := companySuffix.MatchString(s); got != want {
			t.Errorf("companySuffix(%q) = %v, want %v", s, got, want)
		}
	}
	if !reLegalStart.MatchString("GmbH & Co. KG") || reLegalStart.MatchString("Gmbhstrasse 4") {
		t.Error("reLegalStart: a line of only the legal form continues the name, a street does not")
	}
	if !reStartsWithForm.MatchString("CO. (M) SDN BHD") || reStartsWithForm.MatchString("POPULAR BOOK") {
		t.Error("reStartsWithForm: a receipt's legal-form line continues the shop name")
	}
}
