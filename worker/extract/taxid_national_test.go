package extract

import "testing"

// TestNationalTaxIDs: VAT numbers printed without their country prefix under the
// country's own label are read when their check digits hold, the customer's is not
// taken for the supplier's, and a number whose check fails is left alone.
func TestNationalTaxIDs(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"polish NIP with dashes, buyer first", `Faktura VAT nr FV/2024/11/7
Data wystawienia: 2024-11-05
Nabywca: Biuro Rachunkowe Kowalski Sp. z o.o.
NIP: 987-654-32-10
ul. Długa 5, 00-950 Warszawa
Sprzedawca: Hurtownia Papieru Nowak S.A.
NIP: 123-456-78-83
ul. Krótka 7, 30-001 Kraków
Razem do zapłaty: 123,00 PLN
`, "1234567883"},
		{"italian partita IVA", `Fattura n. 2024/118 del 05/11/2024
Cartoleria Rossi S.r.l.
Via Roma 12, 20121 Milano
P.IVA 01234567897
Totale fattura EUR 244,00
`, "01234567897"},
		{"check digit fails", `Faktura nr FV/2024/11/8
Data wystawienia: 2024-11-05
Sprzedawca: Hurtownia Papieru Nowak S.A.
NIP: 123-456-78-84
Razem do zapłaty: 123,00 PLN
`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := extractText(t, c.text)
			if got := res.Data.Invoice.Supplier.TaxID; got != c.want {
				t.Errorf("supplier tax id = %q, want %q", got, c.want)
			}
		})
	}
}

// TestDepartmentSuffix: a department printed after the company's name on its line is
// not part of the supplier's name; a name that is only a department stays as it is.
func TestDepartmentSuffix(t *testing.T) {
	cases := map[string]string{
		"Nordlicht Telecom Service Abonnés":  "Nordlicht Telecom",
		"Acme Widgets Customer Service":      "Acme Widgets",
		"Brunnen Stadtwerke - Kundenservice": "Brunnen Stadtwerke",
		"Customer Service":                   "Customer Service",
		"Servicegesellschaft Nord GmbH":      "Servicegesellschaft Nord GmbH",
	}
	for in, want := range cases {
		if got := partyName(in); got != want {
			t.Errorf("partyName(%q) = %q, want %q", in, got, want)
		}
	}
}
