package extract

import "testing"

// TestDateChoice: the invoice date is not the date of an associated invoice, of a
// service period's end, of a stylesheet version, or one after the due date.
func TestDateChoice(t *testing.T) {
	const items = `
Pos  Bezeichnung                Menge   Einzelpreis     Gesamt
1    Wartung                        1      100,00 €   100,00 €
                                   Nettobetrag          100,00 €
                                   zzgl. 19% MwSt.       19,00 €
                                   Gesamtbetrag         119,00 €
`
	cases := []struct{ name, text, want string }{
		{"associated invoice and service period", `FACTURE N° : F2024-0042
Date :            02/04/2024

DATE DE FACTURE ASSOCIÉE : 29/02/2024
Date début : 01/03/2024
Date fin : 31/03/2024
` + items, "2024-04-02"},
		{"stylesheet version dates", `Stylesheet-Version: 2.0 vom 18.10.2018
Codelisten-Version: 3.0 vom 15.11.2019

Rechnung Nr. 471102 vom 05.03.2020
` + items, "2020-03-05"},
		{"a date after the due date", `Rechnung Nr. 5001 vom 02.04.2024

Datum: 20.05.2024
Zahlbar bis: 02.05.2024
` + items, "2024-04-02"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := extractText(t, c.text).Data.Invoice.Date; got != c.want {
				t.Errorf("invoice date = %q, want %q", got, c.want)
			}
		})
	}
}

// TestDueDatePhrase: "Bitte überweisen Sie bis zum ..." announces the due date.
func TestDueDatePhrase(t *testing.T) {
	text := `Rechnung # RE-2024/501 vom 22.05.2024

Summe netto: 496,00 €
Zuzügl. USt: 75,04 €
Bitte überweisen Sie bis zum 12.06.2024:
Summe inkl. USt: 571,04 €
`
	if got := extractText(t, text).Data.Invoice.DueDate; got != "2024-06-12" {
		t.Errorf("due date = %q, want 2024-06-12", got)
	}
}
