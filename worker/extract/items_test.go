package extract

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// itemsSummary renders line items as "amount description" lines for comparison.
func itemsSummary(items []invoice.LineItem) string {
	var out []string
	for _, li := range items {
		a := "-"
		if li.Amount != nil {
			a = fmt.Sprintf("%.2f", *li.Amount)
		}
		out = append(out, a+" "+li.Description)
	}
	return strings.Join(out, "\n")
}

// The pages of a German invoice whose item table runs over a page break.
const (
	deHead = `Muster GmbH · Industriestraße 8 · 70565 Stuttgart

Schreinerei Holz AG
Am Sägewerk 3
79098 Freiburg
                                              Rechnungsnummer:  RE-2024-0042
                                              Rechnungsdatum:   01.10.2024

`
	deHeader = "Pos   Beschreibung                     Menge    Einzelpreis         Gesamt\n"
	dePage1  = `1     Schrauben M6                        10           1,00          10,00
2     Muttern M6                          20           0,50          10,00
3     Unterlegscheiben                   100           0,10          10,00
`
	dePage2 = `4     Dübel 8 mm                          50           0,20          10,00
5     Holzleim 500 g                       2           5,00          10,00
`
	deTotals = `
                                          Nettobetrag                50,00
                                          USt 19 %                    9,50
                                          Gesamtbetrag               59,50
`
	deFooter    = "\n\n\n\n\nMuster GmbH · Sparkasse Stuttgart · IBAN DE89 3704 0044 0532 0130 00       Seite 1 von 2\n"
	dePage2Head = "Muster GmbH                     Rechnung RE-2024-0042                 Seite 2\n\n"
)

const deAll = "10.00\n10.00\n10.00\n10.00\n10.00"

// TestItemsAcrossPages: an item table continues on the next page after carry-over lines
// ("Übertrag", "carried forward", "Zwischensumme Seite 1") and page footers, with the
// columns learned from the header on the earlier page; a repeated header is no row, and
// a header left alone at the foot of a page heads the rows of the next.
func TestItemsAcrossPages(t *testing.T) {
	cases := []struct {
		name, text, want string
	}{
		{"carry-over lines, no header on page 2",
			deHead + deHeader + dePage1 +
				"                                          Übertrag                   30,00\n" + deFooter + "\f" +
				dePage2Head + "                                          Übertrag                   30,00\n" + dePage2 + deTotals,
			deAll},
		{"page footer only, no header on page 2",
			deHead + deHeader + dePage1 + deFooter + "\f" + dePage2Head + dePage2 + deTotals,
			deAll},
		{"page subtotal and repeated header",
			deHead + deHeader + dePage1 +
				"                                          Zwischensumme Seite 1      30,00\n" + deFooter + "\f" +
				dePage2Head + deHeader + dePage2 + deTotals,
			deAll},
		{"plain subtotal at the foot of page 1",
			deHead + deHeader + dePage1 +
				"                                          Zwischensumme              30,00\n" + deFooter + "\f" +
				dePage2Head + "                                          Übertrag                   30,00\n" + dePage2 + deTotals,
			deAll},
		{"header alone at the foot of page 1",
			deHead + "\n\n\n\n\n\n\n\n" + deHeader + deFooter + "\f" + dePage2Head + dePage1 + dePage2 + deTotals,
			deAll},
		{"English, carried forward and page x of y",
			`Acme Supplies Ltd, 1 High Street, Bristol BS1 4DJ

Invoice No: INV-7731                          Date: 12/11/2024

Description                          Qty       Unit price         Amount
Copy paper A4, 5 reams                 2            20.00          40.00
Toner cartridge black                  1            60.00          60.00
                                     Carried forward                100.00
                                                                Page 1 of 2
` + "\f" + `Acme Supplies Ltd                 Invoice INV-7731 (continued)

                                     Brought forward                100.00
Stapler, heavy duty                    1            25.00          25.00
Staples, box of 5000                   3             5.00          15.00

                                     Subtotal                       140.00
                                     VAT 20%                         28.00
                                     Total                          168.00
`,
			"40.00\n60.00\n25.00\n15.00"},
		{"items that name a page are items",
			deHead + `Pos   Beschreibung                     Menge    Einzelpreis         Gesamt
1     Anzeige Seite 3, 1/4 Seite           1         500,00         500,00
2     Anzeige Seite 1, 1/2 Seite           1         900,00         900,00
3     Beilage                              1         100,00         100,00

                                          Nettobetrag             1.500,00
`, "500.00\n900.00\n100.00"},
		{"a table that ends on page 1 does not swallow page 2",
			deHead + deHeader + dePage1 + `
                                          Nettobetrag                30,00
                                          USt 19 %                    5,70
                                          Gesamtbetrag               35,70
` + deFooter + "\f" + `Muster GmbH                     Rechnung RE-2024-0042                 Seite 2

Zahlungsbedingungen:
Lieferung         01.10.2024                                         30,00
`,
			"10.00\n10.00\n10.00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := extractText(t, c.text)
			var got []string
			for _, li := range res.Data.LineItems {
				if li.Amount == nil {
					got = append(got, "-")
					continue
				}
				got = append(got, fmt.Sprintf("%.2f", *li.Amount))
			}
			if g := strings.Join(got, "\n"); g != c.want {
				t.Errorf("items:\n%s\nwant amounts:\n%s", itemsSummary(res.Data.LineItems), c.want)
			}
			for _, li := range res.Data.LineItems {
				if strings.Contains(li.Description, "Übertrag") || strings.Contains(li.Description, "forward") || strings.Contains(li.Description, "Beschreibung") || strings.Contains(li.Description, "von 2") || strings.Contains(li.Description, "RE-2024") {
					t.Errorf("item %q is a carry-over, footer or header line", li.Description)
				}
			}
		})
	}
}

// TestItemRows: kinds of item rows seen on ZUGFeRD renderings, in small layouts.
func TestItemRows(t *testing.T) {
	head := "Muster GmbH\n\nRechnung Nr. R-1\nDatum: 01.10.2024\n\n"
	cases := []struct {
		name, text, want string
	}{
		{"numbers of several columns set as one segment",
			head + `Pos  Beschreibung              Nettopreis Menge USt.   Betrag
1    Trennblätter A4               9,9000 20 Stk 19 % 198,00
2    Ordner A4                     2,0000 10 Stk 19 %  20,00

                                      Nettobetrag     218,00
`, "198.00\n20.00"},
		{"a header word inside an item row",
			head + `Pos  Beschreibung          Nettopreis       Menge      USt.       Betrag
1    Grundpreis                3,9000       1 Stk       7 %         3,90
2    Stadtfahrt                2,0000     6,5 Stk       7 %        13,00

                                      Nettobetrag                 16,90
`, "3.90\n13.00"},
		{"a discount under its item, totals print the discounted sum",
			head + `Pos  Artikelbeschreibung        Menge        Preis           Entgelt
1    Kunstrasen                  3,00         4,00             12,00
                     abzgl. 16,7% Rabatt                           -2,00
2    Schweinesteak               5,00         5,50             27,50

     Zwischensumme                                              37,50
     Gesamtbetrag                                               44,63
`, "10.00\n27.50"},
		{"allowance rows already in the item's net amount",
			head + `Pos  Beschreibung          Nettopreis       Menge                 Betrag
1    Stahlcoil               100,0000      10 Stk                 850,00
     Abschlag Lagerware                                          -100,00
     Abschlag Direktbelieferung                                   -50,00

     Positionssumme                                               850,00
     Gesamtbetrag                                                1011,50
`, "850.00"},
		{"a price reduction that is an item of its own",
			head + `Pos  Bezeichnung              Menge        Einzelpreis           Gesamt
1    Rücknahme LED-Panel          4 Stk          84,50             338,00
2    Preisnachlass Kabelkanal laut Absprache
                                                                    45,00

                                      Summe netto                  383,00 €
`, "338.00\n45.00"},
		{"items spaced out by notes",
			head + `Pos  Beschreibung          Nettopreis       Menge                 Betrag
1    Trennblätter A4           9,9000      20 Stk                 198,00
     Bruttopreis: 9,9000




2    Joghurt Banane            5,5000      50 Stk                 275,00
     Bruttopreis: 5,5000

     Positionssumme                                               473,00
`, "198.00\n275.00"},
		{"document allowances after a subtotal are no items",
			head + `Pos  Artikelbeschreibung        Menge        Preis           Entgelt
1    Schweinesteak               5,00         5,50             27,50
2    Pfand                      20,00         2,77             55,40
     Zwischensumme                                              82,90
     abzgl. Sondernachlass 10%                                  -8,29
     zzgl. Versandkosten                                          5,80
     Rechnungssumme Netto                                        80,41
`, "27.50\n55.40"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := extractText(t, c.text)
			var got []string
			for _, li := range res.Data.LineItems {
				a := "-"
				if li.Amount != nil {
					a = fmt.Sprintf("%.2f", *li.Amount)
				}
				got = append(got, a)
			}
			if g := strings.Join(got, "\n"); g != c.want {
				t.Errorf("items:\n%s\nwant amounts:\n%s", itemsSummary(res.Data.LineItems), c.want)
			}
		})
	}
}

// TestItemsLongDocumentsFinish: a table of 40 pages with carry-over lines, and a page
// of 3,000 carry-over and page-counter lines, are read whole (BenchmarkCarryOverLines
// measures that the time per line stays flat).
func TestItemsLongDocumentsFinish(t *testing.T) {
	var b strings.Builder
	b.WriteString(deHead + deHeader)
	n := 0
	for p := 1; p <= 40; p++ {
		if p > 1 {
			b.WriteString("\f" + dePage2Head + "                                          Übertrag                   1,00\n")
		}
		for i := 0; i < 25; i++ {
			n++
			fmt.Fprintf(&b, "%-5d Artikel %-25d %4d %14s %14s\n", n, n, 1, "1,00", "1,00")
		}
		fmt.Fprintf(&b, "                                          Übertrag                   1,00\n\n\n\nSeite %d von 40\n", p)
	}
	b.WriteString(deTotals)
	var junk strings.Builder
	junk.WriteString(deHead + deHeader + dePage1)
	for i := 0; i < 3000; i++ {
		junk.WriteString("                                          Übertrag                   30,00   Seite 1 von 2\n")
	}
	for _, c := range []struct {
		name, text string
		want       int
	}{{"40 pages", b.String(), n}, {"3000 carry-over lines", junk.String(), 3}} {
		t.Run(c.name, func(t *testing.T) {
			res := extractText(t, c.text)
			if got := len(res.Data.LineItems); got != c.want {
				t.Errorf("%d items, want %d", got, c.want)
			}
		})
	}
}

// BenchmarkCarryOverLines measures extraction over pages of carry-over lines, 1,500 and
// 3,000 of them: the time per line should stay about the same (no quadratic walk).
func BenchmarkCarryOverLines(b *testing.B) {
	for _, n := range []int{1500, 3000} {
		var junk strings.Builder
		junk.WriteString(deHead + deHeader + dePage1)
		for range n {
			junk.WriteString("                                          Übertrag                   30,00   Seite 1 von 2\n")
		}
		doc := FromText(junk.String())
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Extract(doc, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(n), "µs/line")
		})
	}
}
