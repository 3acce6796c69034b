package extract

import (
	"strings"
	"testing"
)

// TestPartyBlocks runs extraction on small letter layouts and checks the party names and
// addresses: names wrapped over two lines, salutation, attention, GLN and customer-number
// lines around a name, the recipient window below a sender line, a delivery block beside
// the billing block, and a name whose first line stands above its "Name:" label.
func TestPartyBlocks(t *testing.T) {
	const body = `
Rechnung Nr. R-2024-0815                 Datum: 04.03.2024

Pos  Bezeichnung                Menge   Einzelpreis     Gesamt
1    Wartung Heizungsanlage         1      400,00 €   400,00 €

                                   Nettobetrag          400,00 €
                                   zzgl. 19% MwSt.       76,00 €
                                   Rechnungsbetrag      476,00 €
`
	cases := []struct {
		name string
		text string
		want map[string]string // path -> value ("~x": contains x); words compared, not line breaks
	}{
		{"window below sender line, salutation and customer number", `Haustechnik Brandt GmbH · Hauptstr. 5 · 80331 München

Herrn
Dr. Hans Beispiel
Lindenweg 12
54321 Musterdorf

Kunde: 40117
Ihre Bestellung vom 01.02.2024
` + body, map[string]string{
			"invoice.supplier.name":    "Haustechnik Brandt GmbH",
			"invoice.customer.name":    "Dr. Hans Beispiel",
			"invoice.customer.address": "~54321 Musterdorf",
		}},
		{"attention and GLN lines in a window with a street number first", `Ateliers Durand SARL - 12 rue des Lilas - 69003 Lyon

À l'attention de Mme Martin
Boulangerie du Centre SAS
GLN 3012345678901
8 place de la Mairie
38000 Grenoble
` + body, map[string]string{
			"invoice.supplier.name":    "Ateliers Durand SARL",
			"invoice.customer.name":    "Boulangerie du Centre SAS",
			"invoice.customer.address": "~38000 Grenoble",
		}},
		{"name wrapped over two lines, the second with the legal form", `Beispiel Handel KG · Ringstr. 1 · 10115 Berlin

Stadtwerke Musterstadt
Versorgungs GmbH
Postfach 12 34
20001 Hamburg
` + body, map[string]string{
			"invoice.customer.name":    "Stadtwerke Musterstadt Versorgungs GmbH",
			"invoice.customer.address": "~20001 Hamburg",
		}},
		{"a contact person below a name is not part of it", `Beispiel Handel KG · Ringstr. 1 · 10115 Berlin

Kunden AG Mitte
Hans Muster
Kundenstraße 15
69876 Frankfurt
` + body, map[string]string{
			"invoice.customer.name": "Kunden AG Mitte",
		}},
		{"delivery block beside the billing block", `Au Vieux Moulin SARL - 5 chemin Vert - 84000 Avignon


Adresse de livraison                            Hôtel des Pins
Hôtel des Pins Annexe                           Claire Dupont
14 avenue du Port                               3 rue Haute
97400 Saint-Denis                               97411 Saint-Paul
` + body, map[string]string{
			"invoice.customer.name":    "Hôtel des Pins",
			"invoice.customer.address": "~97411 Saint-Paul",
		}},
		{"wrapped name under a section label", `Rechnung Nr. R-77                        Datum: 04.03.2024

Verkäufer:
Energieversorgung Musterland
Vertriebsgesellschaft mbH
Am Kraftwerk 4
12345 Beispielstadt

Käufer:
Bäckerei Korn
Mühlweg 3
23456 Mehlingen
` + body, map[string]string{
			"invoice.supplier.name": "Energieversorgung Musterland Vertriebsgesellschaft mbH",
			"invoice.customer.name": "Bäckerei Korn",
		}},
		{"first name line above its Name: label", `Rechnung Nr. 01.234-5                    Datum: 06.12.2024

Verkäufer
Nummer:             549910
                    Muster Versicherung
Name:               Gegenseitigkeitsverein a.G.

Anschrift:          Musterweg 1
                    12345 Musterstadt

Käufer
Name:               Erika Beispiel

Anschrift:          Beispielweg 2
                    12346 Beispielhausen
` + body, map[string]string{
			"invoice.supplier.name":    "Muster Versicherung Gegenseitigkeitsverein a.G.",
			"invoice.customer.name":    "Erika Beispiel",
			"invoice.customer.address": "~12346 Beispielhausen",
		}},
		{"sender line whose separators were lost", `Au Vieux Moulin SARL 5 chemin Vert      84000 Avignon      France


Boulangerie du Centre
8 place de la Mairie
38000 Grenoble
` + body, map[string]string{
			"invoice.supplier.name":    "Au Vieux Moulin SARL",
			"invoice.supplier.address": "~84000 Avignon",
			"invoice.customer.name":    "Boulangerie du Centre",
		}},
		{"salutation line alone is not the name", `Rechnung Nr. R-78                        Datum: 04.03.2024

Rechnungsempfänger:
Herrn
      Max Beispiel
Am Hang 7
12345 Bergdorf
` + body, map[string]string{
			"invoice.customer.name": "Max Beispiel",
		}},
		{"address line read as two segments", `Rechnung Nr. R-79                        Datum: 04.03.2024

Verkäufer:
Kontor Nord GmbH
Hafenweg 3
3012 CN  Rotterdam
` + body, map[string]string{
			"invoice.supplier.name":    "Kontor Nord GmbH",
			"invoice.supplier.address": "~3012 CN Rotterdam",
		}},
		{"party name headings", `LOGO                                      FACTURE N° : F2024-0007
SELLER TRADE NAME                         BUYER NAME
Atelier Exemple                           Client Exemple
3 rue d'ici                               58 rue de la mer
75018 PARIS                               06000 NICE
` + body, map[string]string{
			"invoice.supplier.name": "Atelier Exemple",
			"invoice.customer.name": "Client Exemple",
		}},
		{"labelled rows inside a spaced party block", `Rechnung Nr. 471102                      Datum: 05.03.2024

Verkäufer
Name:               Grundbesitz GmbH & Co. KG

Ansprechpartner:    Max Mustermann

Abteilung:          Einkauf

Anschrift:          Musterstraße 42

                    75645 Frankfurt
` + body, map[string]string{
			"invoice.supplier.name":    "Grundbesitz GmbH & Co. KG",
			"invoice.supplier.address": "~75645 Frankfurt",
		}},
		{"letterhead address without a name line", `                  Kraxi Beispiel GmbH
                                                   Flugzeugallee 17
                                                   12345 Papierfeld
                                                   Deutschland

Papierflieger-Vertriebs-GmbH
Helga Musterfrau
Rabattstr. 25
34567 Osterhausen
` + body, map[string]string{
			"invoice.supplier.name":    "Kraxi Beispiel GmbH",
			"invoice.supplier.address": "~12345 Papierfeld",
			"invoice.customer.name":    "Papierflieger-Vertriebs-GmbH",
		}},
		{"attention line under a worded label, name wrapped before its legal form", `WKBT-TV                                             INVOICE
Kestrel Bay Television, LLC                         Invoice #:      24110317
1200 Harbor View Drive                              Invoice Date:   11/30/2024
Tampa, FL 33602

 BILL TO AGENCY:
 Attn: Media Accounting
 Harbor & Finch Media
 Partners, Inc.
 450 Lexington Avenue, 18th Floor
 New York, NY 10017
` + body, map[string]string{
			"invoice.customer.name":    "Harbor & Finch Media Partners, Inc.",
			"invoice.customer.address": "~New York, NY 10017",
		}},
		{"credit note recipient with a UK postcode", `Thistle & Pike Office Supplies Ltd
12 Canal Street
Manchester M1 3HW                                CREDIT NOTE

 CREDIT TO
 Brightwater Dental
 Cooperative
 4 Quay Road
 Salford M50 3AG
 Customer No. BW-0031
` + body, map[string]string{
			"invoice.customer.name":    "Brightwater Dental Cooperative",
			"invoice.customer.address": "~Salford M50 3AG",
		}},
		{"legal form ends a sender name followed by a remark", `Kontor Nord B.V. iov Webshop.example - Hafenweg 3 - 8401 BL Gorredijk

Strategic Corp
T.a.v. inkoop
Fakestraat 46
3500 MJ Utrecht
` + body, map[string]string{
			"invoice.supplier.name": "Kontor Nord B.V.",
			"invoice.customer.name": "Strategic Corp",
		}},
	}
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := extractText(t, c.text)
			for path, want := range c.want {
				got := words(fieldValue(res.Data, path))
				if w, ok := strings.CutPrefix(want, "~"); ok {
					if !strings.Contains(got, w) {
						t.Errorf("%s = %q, want it to contain %q", path, got, w)
					}
					continue
				}
				if got != want {
					t.Errorf("%s = %q, want %q", path, got, want)
				}
			}
		})
	}
}

// TestPartyLabelRest covers a name that starts on its section label's row.
func TestPartyLabelRest(t *testing.T) {
	text := `INVOICE                                   Invoice No: INV-5521
                                          Date: 03/04/2024
Bill To: Northwind Traders and
         Wholesale Partners Ltd
         12 Harbour Road
         Springfield, IL 62704

Ship To: Attn. Receiving Dock
         Contoso Warehouse Inc
         99 Depot Street
         Springfield, IL 62705

Item   Description            Qty     Price     Amount
1      Pallet wrap              4     25.00     100.00
                              Subtotal          100.00
                              Total             100.00
`
	res := extractText(t, text)
	if got, want := strings.Join(strings.Fields(res.Data.Invoice.Customer.Name), " "), "Northwind Traders and Wholesale Partners Ltd"; got != want {
		t.Errorf("customer name = %q, want %q", got, want)
	}
}

// TestLetterheadBlock: with no label and no sender line, the upper of two address
// blocks is the supplier's letterhead and the other the recipient.
func TestLetterheadBlock(t *testing.T) {
	text := `                                                        Quality Since 1990
Azurite Design Studio
4557 Silva Street
Fremont CA 94538
United States


                                        Contoso Retail
                                        215 Vine St
                                        Scranton PA 18503
                                        United States

Invoice INV/2024/0042
Invoice Date: 03/20/2024          Due Date: 04/04/2024

Description                 Quantity    Unit Price      Amount
Office Chair                    1.00         70.00    $ 70.00
                                            Subtotal  $ 70.00
                                            Total     $ 70.00
`
	res := extractText(t, text)
	inv := res.Data.Invoice
	if inv.Supplier.Name != "Azurite Design Studio" || !strings.Contains(inv.Supplier.Address, "Fremont CA 94538") {
		t.Errorf("supplier = %q at %q, want Azurite Design Studio at ... Fremont CA 94538", inv.Supplier.Name, inv.Supplier.Address)
	}
	if inv.Customer.Name != "Contoso Retail" {
		t.Errorf("customer = %q, want Contoso Retail", inv.Customer.Name)
	}
}
