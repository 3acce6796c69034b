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
