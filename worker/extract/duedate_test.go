package extract

import "testing"

// TestDueDateInSentence reads due dates stated in a sentence about the payment, and
// does not take the end of a period ("bis zum") for one.
func TestDueDateInSentence(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"de", "Muster GmbH\nRechnung Nr. 4711\nRechnungsdatum: 14.11.2024\nGesamtbetrag 119,00 €\n\nBitte überweisen Sie den Betrag bis zum 28.11.2024 ohne Abzug.\n", "2024-11-28"},
		{"de long date", "Muster GmbH\nRechnung Nr. 4711\nRechnungsdatum: 14.11.2024\nGesamtbetrag 119,00 €\n\nBitte zahlen Sie die Summe bis spätestens 29. März 2025.\n", "2025-03-29"},
		{"fr", "Dupont SARL\nFacture n° F-2024-12\nDate : 05/11/2024\nTotal TTC 120,00 €\n\nPaiement à réception, au plus tard le 20/11/2024.\n", "2024-11-20"},
		{"en", "Acme Ltd\nInvoice No: 77\nInvoice Date: 05/11/2024\nTotal £120.00\n\nPlease pay by 03/12/2024 quoting the invoice number.\n", "2024-12-03"},
		{"period is not due", "Muster GmbH\nRechnung Nr. 4711\nRechnungsdatum: 14.11.2024\nLeistungszeitraum vom 01.11.2024 bis zum 30.11.2024\nGesamtbetrag 119,00 €\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := Extract(FromText(c.text), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Data.Invoice.DueDate; got != c.want {
				t.Errorf("dueDate = %q, want %q", got, c.want)
			}
		})
	}
}

// TestDocumentTypeBilledThing reads invoices titled by what they bill (rent, insurance
// premiums) as invoices, and a calculation ("Berechnung") as no title.
func TestDocumentTypeBilledThing(t *testing.T) {
	for _, c := range []struct{ title, want string }{
		{"Mietrechnung Januar 2025", "invoice"},
		{"Beitragsrechnung", "invoice"},
		{"Premium Notice", "invoice"},
		{"Avis d'échéance", "invoice"},
		{"Berechnung der Zinsen", ""},
	} {
		t.Run(c.title, func(t *testing.T) {
			text := "Nordsee Versicherung AG\nAm Hafenkopf 2, 26382 Wilhelmshaven\n\n" + c.title + "\n\nVertragsnummer: VS 40-1234567/2\nDatum: 10.12.2024\nBetrag 486,20 €\n"
			res, err := Extract(FromText(text), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Data.Invoice.DocumentType; got != c.want {
				t.Errorf("documentType = %q, want %q", got, c.want)
			}
		})
	}
}
