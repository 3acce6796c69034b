package extract

import "testing"

// TestNumberSeparators: invoice numbers whose digit groups are joined by "/", "." or "-",
// with letter groups before or between them, come back whole.
func TestNumberSeparators(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"an invoice number label wins over a contract account", "Stadtwerke Muster\n\nVertragskonto     2100456789\nRechnungsnummer:  R-77\nZu zahlen         312,40 €\n", "R-77"},
		{"prefix, dash and slash", "Muster GmbH\n\n                         Rechnungsnummer:  RE-2024/00123\n                         Datum:            12.11.2024\nGesamtbetrag                            119,00 €\n", "RE-2024/00123"},
		{"dot and dash", "Acme Ltd\n\nInvoice No.   2024.11-0042\nInvoice date: 2024-11-12\nTotal                  $ 100.00\n", "2024.11-0042"},
		{"letter group before digits", "Acme Ltd\n\nInvoice No.: INV 12-345/AB      Date: 12/11/2024\nTotal                  $ 100.00\n", "INV 12-345/AB"},
		{"single letter before slashed groups", "ACME SARL\n\nFACTURE N° F 2024/11/0042 DU 12/11/2024\nTotal TTC                120,00 €\n", "F 2024/11/0042"},
		{"dotted digit groups, not an amount", "Muster GmbH\n\nRechnung Nr. 12.345.678 vom 12.11.2024\nNettobetrag     1.000,00 €\nUSt 19 %          190,00 €\nGesamtbetrag    1.190,00 €\n", "12.345.678"},
		{"groups around a spaced slash", "Acme Ltd\n\nInvoice number:  2024 / 00123\nTotal                  $ 100.00\n", "2024/00123"},
		{"words between the title and Nr.", "Muster Versicherung a.G.\n\nRechnung des Versicherers (575) Nr. 01.234.567.8-2018-1 vom 06.12.2018\nBruttosumme       50,00\n", "01.234.567.8-2018-1"},
		{"title and Nr. read as two segments", "Muster Verkehrsbetriebe\n\nHandelsrechnung (380)       Nr. E2018092011804       vom 20.09.2018\nBelegnummer: 2018092011804\nBruttosumme       50,00\n", "E2018092011804"},
		{"a lowercase word after the label is not a prefix", "Muster GmbH\n\nRechnung Nr. vom 12.11.2024\nGesamtbetrag    1.190,00 €\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := extractText(t, c.text).Data.Invoice.Number; got != c.want {
				t.Errorf("number = %q, want %q", got, c.want)
			}
		})
	}
}

// TestNumberFallbackLabels: without an invoice number label, the number an insurer,
// landlord or utility bills under (policy, contract, account, statement, reference,
// and the customer number last) is taken, with a lower confidence; dates, amounts,
// phone numbers, IBANs and postcodes never are.
func TestNumberFallbackLabels(t *testing.T) {
	cases := []struct{ name, text, want string }{
		{"insurance policy, German", "Muster Versicherung AG\n\nBeitragsrechnung 2025\nVersicherungsschein-Nr.:  01.234.567.8\nKundennummer:             40117\nBeitrag                   312,40 €\n", "01.234.567.8"},
		{"policy number, English", "Acme Insurance plc\n\nPremium notice\nPolicy No.   PX-4471-22\nAmount due     £ 312.40\n", "PX-4471-22"},
		{"Policennummer", "Muster Versicherung AG\n\nPolicennummer: 4711-0815-22\nBeitrag      312,40 €\n", "4711-0815-22"},
		{"rent contract", "Hausverwaltung Muster\n\nMietabrechnung 2024\nVertragsnummer:   MV-2019/0042\nKundennummer:     40117\nNachzahlung       312,40 €\n", "MV-2019/0042"},
		{"utility contract account", "Stadtwerke Muster\n\nJahresabrechnung\nVertragskonto     2100456789\nZu zahlen         312,40 €\n", "2100456789"},
		{"contrat, French", "EDF\n\nN° de contrat : CT-2018-1208\nMontant à payer   45,00 €\n", "CT-2018-1208"},
		{"police, French", "Assur SA\n\nN° de police : 88.123.456\nMontant à payer   45,00 €\n", "88.123.456"},
		{"account number", "City Power & Light\n\nAccount number: 0012-3456-78\nStatement date: 11/12/2024\nAmount due   $ 45.00\n", "0012-3456-78"},
		{"statement number", "City Water\n\nStatement No. ST-2024-11-007\nAmount due   $ 45.00\n", "ST-2024-11-007"},
		{"reference", "City Water\n\nReference: WTR/88412\nAmount due   $ 45.00\n", "WTR/88412"},
		{"customer number last", "Stadtwerke Muster\n\nKundennummer: 40117\nZu zahlen         312,40 €\n", "40117"},
		{"not a date", "Hausverwaltung Muster\n\nVertragsnummer:   12.03.2024\nZu zahlen         312,40 €\n", ""},
		{"not an amount", "Hausverwaltung Muster\n\nReference:   1.234,56\nZu zahlen         312,40 €\n", ""},
		{"not an IBAN", "Hausverwaltung Muster\n\nReferenz: DE89 3704 0044 0532 0130 00\nZu zahlen         312,40 €\n", ""},
		{"not a phone number", "City Water\n\nReference: +1 513 555 0142\nAmount due   $ 45.00\n", ""},
		{"not a postcode below an empty label", "Hausverwaltung Muster\n\nVertragsnummer:\nDE 12345 Musterstadt\nZu zahlen         312,40 €\n", ""},
		{"not a bank account", "City Water\n\nBank: First Bank   Account number: 12345678   Sort code: 12-34-56\nAmount due   $ 45.00\n", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := extractText(t, c.text)
			if got := res.Data.Invoice.Number; got != c.want {
				t.Errorf("number = %q, want %q", got, c.want)
			}
			if c.want == "" {
				return
			}
			if conf := res.Confidence.Fields["invoice.number"]; conf <= 0 || conf >= 0.7 {
				t.Errorf("confidence %v, want a lower one (0, 0.7) for a number without an invoice number label", conf)
			}
		})
	}
}
