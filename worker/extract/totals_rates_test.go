package extract

import "testing"

// TestSeveralRatesNotOneRow reads an invoice with three VAT rates whose tax summary
// prints net, tax and gross per rate: one rate's row adds up (net + tax = gross) but is
// not the invoice's totals; the subtotal and tax are the sums over the rates, and the
// total is the labelled grand total.
func TestSeveralRatesNotOneRow(t *testing.T) {
	text := `Sonnenhof Handel GmbH
Rechnung Nr. 2024-118                                 Datum: 14.11.2024

Pos  Bezeichnung                     Menge   Einzelpreis   USt.        Gesamt
1    Modul 410 Wp                       12        189,00     0 %     2.268,00
2    Montageschienen                    10         27,50    19 %       275,00
3    Fachbuch                            1         49,90     7 %        49,90

                                     Summe netto                    2.592,90 €
                                     zzgl. USt. 19 % auf 275,00        52,25 €
                                     zzgl. USt. 7 % auf 49,90           3,49 €
                                     zzgl. USt. 0 % auf 2.268,00        0,00 €
                                     Rechnungsbetrag                2.648,64 €

USt.-Satz            Netto          USt.-Betrag          Brutto
19 %                275,00                52,25          327,25
7 %                  49,90                 3,49           53,39
0 %               2.268,00                 0,00        2.268,00
`
	res, err := Extract(FromText(text), Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Data.Invoice.Amounts
	for _, c := range []struct {
		name string
		got  *float64
		want float64
	}{{"subtotal", a.Subtotal, 2592.90}, {"tax", a.Tax, 55.74}, {"total", a.Total, 2648.64}} {
		if c.got == nil || *c.got != c.want {
			t.Errorf("%s = %v, want %.2f", c.name, ptrStr(c.got), c.want)
		}
	}
	if n := len(res.Data.Invoice.TaxBreakdown); n != 3 {
		t.Errorf("tax breakdown has %d rates, want 3", n)
	}
}

func ptrStr(v *float64) any {
	if v == nil {
		return "nil"
	}
	return *v
}

// TestCreditNoteTotals reads the grand total of credit notes under their own labels
// ("Total Credit", "Gutschriftsbetrag", "Total de l'avoir"), printed positive.
func TestCreditNoteTotals(t *testing.T) {
	for _, c := range []struct{ name, text string }{
		{"en", "Thistle Office Supplies Ltd\nCREDIT NOTE\nCredit Note No. CN-2024/0193\n\nDESCRIPTION              QTY   UNIT PRICE    AMOUNT\nReturned chairs            2       189.50    379.00\nReturned paper             3        23.99     71.97\n\n                      Subtotal             £450.97\n                      VAT 20% on 450.97     £90.19\n                      Total Credit         £541.16\n"},
		{"de", "Elektro Vogt OHG\nGutschrift\nGutschrift-Nr.: GS-2024/00017\n\nPos. Bezeichnung        Menge  Einzelpreis  USt.   Gesamt\n1    Rücknahme Panel       4        84,50  19 %   338,00\n2    Preisnachlass         1        45,00  19 %    45,00\n\n                 Summe netto                   383,00 €\n                 zzgl. USt. 19 % auf 383,00     72,77 €\n                 Gutschriftsbetrag             455,77 €\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := Extract(FromText(c.text), Options{})
			if err != nil {
				t.Fatal(err)
			}
			inv := res.Data.Invoice
			want := map[string]float64{"en": 541.16, "de": 455.77}[c.name]
			if inv.Amounts.Total == nil || *inv.Amounts.Total != want {
				t.Errorf("total = %v, want %.2f", ptrStr(inv.Amounts.Total), want)
			}
			if inv.DocumentType != "creditNote" {
				t.Errorf("documentType = %q, want creditNote", inv.DocumentType)
			}
		})
	}
}
