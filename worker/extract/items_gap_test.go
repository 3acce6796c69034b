package extract

import (
	"strings"
	"testing"
)

// TestItemsSpacedApart reads a table whose items are blocks of several rows set far
// apart (as scans of some e-invoice renderings show them, where the gap between two
// items is larger than four lines), and stops at other content after a gap.
func TestItemsSpacedApart(t *testing.T) {
	block := func(pos, code, desc, price, qty, amount string) string {
		return "  " + pos + "   " + code + "      " + desc + strings.Repeat(" ", 22-len(desc)) + price + "     " + qty + "    19 %\n" +
			"      4012345001235                                                        " + amount + "\n" +
			"      (GTIN)\n"
	}
	gap := strings.Repeat("\n", 6)
	text := "Lieferant GmbH\nRechnung Nr. 4711 vom 05.03.2018\n\n" +
		"  Pos  Art-Nr     Beschreibung              Nettopreis   Menge    Steuersatz    Nettobetrag\n\n" +
		block("1", "TB100A4", "Trennblätter A4", "9,9000", "20 Stk", "198,00") + gap +
		block("2", "ARNR2", "Joghurt Banane", "5,5000", "50 Stk", "275,00") + gap +
		"  Bitte überweisen Sie den Betrag von 529,87 EUR bis zum 04.04.2018.\n" + gap +
		"  Summe netto                                                              473,00\n"
	res, err := Extract(FromText(text), Options{})
	if err != nil {
		t.Fatal(err)
	}
	items := res.Data.LineItems
	if len(items) != 2 {
		t.Fatalf("items = %+v, want the two spaced-apart items", items)
	}
	for i, want := range []float64{198, 275} {
		if items[i].Amount == nil || *items[i].Amount != want {
			t.Errorf("item %d amount = %v, want %v", i+1, items[i].Amount, want)
		}
	}
}

// TestItemsProgramAndPremiumColumns reads tables whose columns are named by what is
// billed: a broadcast schedule (Program / Rate) and insurance premiums (Bezeichnung /
// Beitrag).
func TestItemsProgramAndPremiumColumns(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       []float64
	}{
		{"broadcast", "WKBT-TV\nINVOICE  Invoice #: 24110317\n\n" +
			"Ln Day   Air Date   Air Time     Len   Program / ISCI                     Rate\n" +
			" 1  Mon  10/28/24   6:00:00 AM   :30   Good Morning Tampa Bay           450.00\n" +
			" 2  Tue  10/29/24   7:17:07 PM   :30   Midday News                      300.00\n" +
			" 3  Thu  10/31/24   12:34:14 PM  :15   Evening News 6PM               1,250.00\n" +
			"Total Spots: 3                         Gross Amount                  $2,000.00\n", []float64{450, 300, 1250}},
		{"premium", "Nordsee Versicherung AG\nBeitragsrechnung\n\n" +
			"Pos. Bezeichnung                               VersSt.       Beitrag\n" +
			"1    Wohngebäudeversicherung Jahresbeitrag       19 %         486,20\n" +
			"2    Glasversicherung                            19 %          39,00\n" +
			"                   Summe netto                                525,20 €\n", []float64{486.2, 39}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := Extract(FromText(c.text), Options{})
			if err != nil {
				t.Fatal(err)
			}
			items := res.Data.LineItems
			if len(items) != len(c.want) {
				t.Fatalf("items = %+v, want %d", items, len(c.want))
			}
			for i, w := range c.want {
				if items[i].Amount == nil || *items[i].Amount != w {
					t.Errorf("item %d amount = %v, want %v", i+1, ptrStr(items[i].Amount), w)
				}
			}
		})
	}
}
