package synth

import (
	"fmt"
	"math/big"
	"strings"
	"time"
)

// makeIBAN returns the IBAN of a country and basic bank account number with its
// ISO 13616 check digits.
func makeIBAN(country, bban string) string {
	var digits strings.Builder
	for _, r := range bban + country + "00" {
		if r >= 'A' && r <= 'Z' {
			fmt.Fprintf(&digits, "%d", r-'A'+10)
		} else {
			digits.WriteRune(r)
		}
	}
	n, _ := new(big.Int).SetString(digits.String(), 10)
	check := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return fmt.Sprintf("%s%02d%s", country, check, bban)
}

// spots lays out a station's schedule: n spots from start, programmes and rates taken
// in turn, each on a later or equal day than the one before.
func spots(start time.Time, n int, progs []string, rates []money, lengths []string) []item {
	days := []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	var out []item
	for i := 0; i < n; i++ {
		t := start.AddDate(0, 0, (i*27)/n)
		k := i % len(progs)
		hh := []int{6, 7, 12, 17, 18, 19, 22, 23}[(i*5)%8]
		mm := (i * 17) % 60
		ap := "AM"
		h12 := hh
		if hh >= 12 {
			ap = "PM"
			if hh > 12 {
				h12 = hh - 12
			}
		}
		out = append(out, item{
			desc: progs[k], qty: 1, price: rates[k%len(rates)],
			cols: []string{days[t.Weekday()], t.Format("01/02/06"), fmt.Sprintf("%d:%02d:%02d %s", h12, mm, (i*7)%60, ap),
				lengths[i%len(lengths)], progs[k]},
		})
	}
	return out
}

// Documents returns the specifications of the synthetic set, in a fixed order.
func documents() []*doc {
	var ds []*doc
	add := func(d *doc) {
		if d.font == d.bold {
			d.font, d.bold = Helvetica, HelveticaBold
		}
		ds = append(ds, d)
	}

	// --- US broadcast stations invoicing advertising agencies: gross, 15 % agency
	// commission, net amount due, flight dates, contract and estimate numbers.
	add(&doc{
		id: "us-station-tv", lang: "en", kinds: []string{"agencyCommission", "usFormats", "wrappedName", "salutation"},
		note:   "TV station to agency; gross, 15% commission, net due; agency name over two lines under an Attn line",
		layout: stationLayout, title: "Invoice", number: "24110317", date: day(2024, 11, 30), due: day(2024, 12, 30),
		period: [2]time.Time{day(2024, 10, 28), day(2024, 11, 24)}, ms: usMoney, ds: usDate, currency: "USD", sym: "$",
		supplier: party{name: []string{"Kestrel Bay Television, LLC"}, street: "1200 Harbor View Drive", city: "Tampa", region: "FL", postcode: "33602", country: "US", phone: "(813) 555-0142"},
		customer: party{pre: []string{"Attn: Media Accounting"}, name: []string{"Harbor & Finch Media", "Partners, Inc."}, street: "450 Lexington Avenue, 18th Floor", city: "New York", region: "NY", postcode: "10017", country: "US"},
		refs:     []ref{{"contract", "Contract #", "C-88412"}, {"order", "Estimate #", "0457"}},
		terms:    "Net 30", noTax: true, commission: 15,
		items: spots(day(2024, 10, 28), 14, []string{"Good Morning Tampa Bay", "Midday News", "Evening News 6PM", "Late Show"},
			[]money{45000, 30000, 125000, 60000}, []string{":30", ":30", ":15"}),
		extra: []string{"WKBT-TV", "Advertiser:|Sunbelt Auto Group", "Product:|Year-End Sales Event", "Broadcast Month:|November 2024", "Salesperson:|D. Moreno"},
	})
	add(&doc{
		id: "us-station-radio-2page", lang: "en", kinds: []string{"agencyCommission", "usFormats", "twoPageTable", "repeatedHeader"},
		note:   "radio traffic printout in Courier; spot table over two pages with the header repeated",
		layout: stationLayout, title: "Invoice", number: "R24-11/0458", date: day(2024, 12, 2), due: day(2025, 1, 1),
		period: [2]time.Time{day(2024, 11, 4), day(2024, 12, 1)}, ms: usMoney, ds: usDate, currency: "USD", sym: "$",
		supplier: party{name: []string{"Prairie Wind Radio Group, Inc."}, street: "88 Depot Street", city: "Omaha", region: "NE", postcode: "68102", country: "US", phone: "402-555-0199"},
		customer: party{name: []string{"Bluestem Advertising LLC"}, post: []string{"Media Payables"}, street: "2301 Farnam Street, Suite 400", city: "Omaha", region: "NE", postcode: "68131", country: "US"},
		refs:     []ref{{"contract", "Order #", "KQ-20418"}, {"order", "Estimate #", "EST-2211"}},
		terms:    "Net 30 days", noTax: true, commission: 15, font: Courier, bold: CourierBold, split: 24, repeatHeader: true,
		items: spots(day(2024, 11, 4), 38, []string{"Morning Drive", "Farm Report", "Afternoon Drive", "Saturday Polka Hour", "Night Country"},
			[]money{8500, 6000, 9500, 4000, 3500}, []string{":60", ":30"}),
		labels: map[string]string{"gross": "Total Gross", "commission": "Agency Comm. 15.00%", "net": "Net Due", "neg": "-"},
		extra:  []string{"KQRS-FM 101.3", "Advertiser:|Heartland Farm & Feed", "Product:|Winter Seed Program", "Broadcast Month:|November 2024"},
	})
	add(&doc{
		id: "us-station-cable", lang: "en", kinds: []string{"agencyCommission", "usFormats", "separatorNumber", "purchaseOrder"},
		note:   "cable network invoice in Times; number with space, dash and slash; PO number",
		layout: stationLayout, title: "Invoice", number: "INV 12-345/AB", date: day(2025, 1, 6), due: day(2025, 2, 5),
		period: [2]time.Time{day(2024, 12, 2), day(2024, 12, 29)}, ms: usMoney, ds: usDate, currency: "USD", sym: "$",
		supplier: party{name: []string{"Cascade Cable Sales Corporation"}, street: "700 Pine Street", city: "Seattle", region: "WA", postcode: "98101", country: "US", phone: "206-555-0123"},
		customer: party{pre: []string{"Attn: Accounts Payable"}, name: []string{"Rainier Media Buying Co."}, street: "1501 4th Avenue", city: "Seattle", region: "WA", postcode: "98101", country: "US"},
		refs:     []ref{{"contract", "Contract #", "CC-2024-7781"}, {"order", "Estimate #", "311"}},
		po:       "PO-55120", terms: "Net 30", noTax: true, commission: 15, font: TimesRoman, bold: TimesBold,
		items: spots(day(2024, 12, 2), 10, []string{"NW Outdoors", "Cooking Live", "Game Night"},
			[]money{22500, 18000, 41000}, []string{":30"}),
		labels: map[string]string{"gross": "Gross Total", "commission": "Less 15% Agency Commission", "net": "Total Amount Due", "neg": "-"},
		extra:  []string{"CASCADE CABLE 24", "Advertiser:|Evergreen Credit Union", "Product:|Home Loans Q4", "Broadcast Month:|December 2024"},
	})

	// --- German invoices with 19 %, 7 % and 0 % VAT and a breakdown table.
	add(&doc{
		id: "de-drei-steuersaetze", lang: "de", kinds: []string{"threeVATRates", "euFormats", "separatorNumber", "salutation"},
		note:   "DE wholesale invoice, VAT 19/7/0 with a breakdown; RE-2024/00123; Herrn salutation",
		layout: letterLayout, title: "Rechnung", number: "RE-2024/00123", date: day(2024, 11, 14), due: day(2024, 11, 28),
		ms: deMoney, ds: deDate, currency: "EUR", sym: "€",
		supplier: party{name: []string{"Sonnenhof Handelsgesellschaft mbH"}, street: "Industriestraße 12", postcode: "79108", city: "Freiburg im Breisgau", country: "DE", taxID: "DE287654321", phone: "0761 555 120", email: "buchhaltung@sonnenhof-handel.de"},
		customer: party{pre: []string{"Herrn"}, name: []string{"Jürgen Weißmüller"}, street: "Schloßbergweg 3", postcode: "79280", city: "Au", country: "DE"},
		custNo:   "K-10442", iban: makeIBAN("DE", "680900000012345678"), bic: "GENODE61FR1",
		items: []item{
			{desc: "Photovoltaikmodul 410 Wp (§ 12 Abs. 3 UStG)", qty: 12, unit: "Stk", price: 18900, rate: 0},
			{desc: "Wechselrichter 5 kW (§ 12 Abs. 3 UStG)", qty: 1, unit: "Stk", price: 124000, rate: 0},
			{desc: "Bio-Apfelsaft naturtrüb 6 x 1 l", qty: 4, unit: "Kiste", price: 1290, rate: 7},
			{desc: "Gartenschlauch 25 m", qty: 2, unit: "Stk", price: 3499, rate: 19},
			{desc: "Montageschienen Aluminium 2,4 m", qty: 10, unit: "Stk", price: 2750, rate: 19},
			{desc: "Fachbuch Photovoltaik-Praxis", qty: 1, unit: "Stk", price: 4990, rate: 7},
		},
	})
	add(&doc{
		id: "de-handwerk-zeitraum", lang: "de", kinds: []string{"threeVATRates", "euFormats", "separatorNumber", "wrappedName", "servicePeriod", "gln"},
		note:   "DE trade invoice in Times, 19/7/0, 2024.11-0042, service period, customer name over two lines with a GLN line",
		layout: letterLayout, title: "Rechnung", number: "2024.11-0042", date: day(2024, 12, 3), due: day(2025, 1, 2),
		period: [2]time.Time{day(2024, 11, 1), day(2024, 11, 30)}, ms: deMoney, ds: deDate, currency: "EUR", sym: "EUR",
		font: TimesRoman, bold: TimesBold,
		supplier: party{name: []string{"Haustechnik Brandl GmbH"}, street: "Am Mühlbach 7", postcode: "84028", city: "Landshut", country: "DE", taxID: "DE813579246", phone: "0871 555 77", email: "info@brandl-haustechnik.de"},
		customer: party{name: []string{"Wohnungsbaugenossenschaft", "Isartal eG"}, post: []string{"GLN 4012345000009"}, street: "Ländgasse 41", postcode: "84028", city: "Landshut", country: "DE"},
		custNo:   "20931", custVAT: "DE129876543", iban: makeIBAN("DE", "743500000020031977"), bic: "BYLADEM1LAH",
		items: []item{
			{desc: "Wartung Heizungsanlage Haus A", qty: 6.5, unit: "h", price: 6800, rate: 19},
			{desc: "Umwälzpumpe Hocheffizienz", qty: 2, unit: "Stk", price: 28900, rate: 19},
			{desc: "Installation Balkonkraftwerk 0 %", qty: 1, unit: "psch", price: 45000, rate: 0},
			{desc: "Brotzeit Baustelle (Bewirtung)", qty: 8, unit: "Port.", price: 650, rate: 7},
		},
	})
	add(&doc{
		id: "fr-facture-trois-tva", lang: "fr", kinds: []string{"threeVATRates", "frFormats", "separatorNumber"},
		note:   "FR invoice, TVA 20/10/5,5 with a breakdown, 1 234,56 numbers, recipient on the right",
		layout: letterLayout, title: "Facture", number: "FAC-2024/1187", date: day(2024, 10, 21), due: day(2024, 11, 20),
		ms: frMoney, ds: frDate, currency: "EUR", sym: "€", addressRight: true,
		supplier: party{name: []string{"Traiteur Lefèvre SARL"}, street: "14 rue des Épiciers", postcode: "69002", city: "Lyon", country: "FR", taxID: "FR45512345678", phone: "04 72 55 01 23", email: "compta@traiteur-lefevre.fr"},
		customer: party{name: []string{"Mairie de Villeurbanne"}, post: []string{"Service des fêtes"}, street: "Place Lazare-Goujon", postcode: "69100", city: "Villeurbanne", country: "FR"},
		custNo:   "C2291", po: "BC-24-0931", iban: makeIBAN("FR", "30002005500000157845Z02"), bic: "CRLYFRPP",
		items: []item{
			{desc: "Buffet froid (120 couverts)", qty: 120, unit: "pers.", price: 2450, rate: 10},
			{desc: "Vin rouge Côtes-du-Rhône", qty: 36, unit: "btl", price: 890, rate: 20},
			{desc: "Location de vaisselle", qty: 1, unit: "forfait", price: 35000, rate: 20},
			{desc: "Pâtisseries à emporter", qty: 120, unit: "pièce", price: 320, rate: 5.5},
			{desc: "Service en salle (4 serveurs)", qty: 20, unit: "h", price: 3800, rate: 20},
		},
	})

	// --- Policy, contract and rent notices: the number stands under a policy or
	// contract label, there is no invoice-number label.
	add(&doc{
		id: "de-versicherung-beitrag", lang: "de", kinds: []string{"policyNumber", "euFormats", "salutation", "servicePeriod"},
		note:   "DE insurance premium notice; Versicherungsschein-Nr.; Frau salutation; insurance tax 19 %",
		layout: letterLayout, policy: true, title: "Beitragsrechnung", number: "VS 40-1234567/2", numberLabel: "Versicherungsschein-Nr.",
		date: day(2024, 12, 10), due: day(2025, 1, 1), period: [2]time.Time{day(2025, 1, 1), day(2025, 12, 31)}, periodLabel: "Versicherungszeitraum",
		ms: deMoney, ds: deDate, currency: "EUR", sym: "€",
		supplier: party{name: []string{"Nordsee Versicherung AG"}, street: "Am Hafenkopf 2", postcode: "26382", city: "Wilhelmshaven", country: "DE", taxID: "DE115599331", phone: "04421 555 0", email: "service@nordsee-vers.de"},
		customer: party{pre: []string{"Frau"}, name: []string{"Dr. Annegret Köhler-Ståhl"}, street: "Deichstraße 19a", postcode: "26384", city: "Wilhelmshaven", country: "DE"},
		custNo:   "4711-0815", iban: makeIBAN("DE", "282501100001234567"), bic: "BRLADE21WHV",
		labels: map[string]string{"vat": "VersSt.", "taxOn": "zzgl. Versicherungsteuer %s %% auf %s", "total": "Zu zahlender Beitrag", "amount": "Beitrag"},
		extra:  []string{"Der Beitrag wird zum Fälligkeitstag per SEPA-Lastschrift eingezogen (Mandatsreferenz NV-88123)."},
		items: []item{
			{desc: "Wohngebäudeversicherung Jahresbeitrag 2025", qty: 1, price: 48620, rate: 19},
			{desc: "Elementarschaden-Baustein", qty: 1, price: 9480, rate: 19},
			{desc: "Glasversicherung", qty: 1, price: 3900, rate: 19},
		},
	})
	add(&doc{
		id: "en-insurance-premium", lang: "en", kinds: []string{"policyNumber", "usFormats", "salutation", "separatorNumber"},
		note:   "US insurance premium notice, Policy No. with slash, Mr salutation, no tax",
		layout: letterLayout, policy: true, letter: true, title: "Premium Notice", number: "HX-2024/55120", numberLabel: "Policy No.",
		date: day(2024, 9, 15), due: day(2024, 10, 1), period: [2]time.Time{day(2024, 10, 1), day(2025, 9, 30)}, periodLabel: "Policy Period",
		ms: usMoney, ds: usDate, currency: "USD", sym: "$", noTax: true,
		supplier: party{name: []string{"Great Plains Mutual Insurance Company"}, street: "500 Walnut Street", city: "Des Moines", region: "IA", postcode: "50309", country: "US", phone: "515-555-0188", email: "billing@gpmutual.com"},
		customer: party{pre: []string{"Mr"}, name: []string{"Daniel O'Connor"}, street: "2207 Cottonwood Lane", city: "Ames", region: "IA", postcode: "50010", country: "US"},
		refs:     []ref{{"customerNumber", "Account No.", "AC-7731-004"}},
		items: []item{
			{desc: "Homeowners policy, annual premium", qty: 1, price: 142800},
			{desc: "Scheduled personal property endorsement", qty: 1, price: 12600},
			{desc: "Installment fee", qty: 1, price: 500},
		},
	})
	add(&doc{
		id: "fr-loyer-avis-echeance", lang: "fr", kinds: []string{"policyNumber", "frFormats", "separatorNumber", "servicePeriod"},
		note:   "FR commercial rent notice; N° de contrat; TVA 20 %; period du ... au ...",
		layout: letterLayout, policy: true, title: "Avis d'échéance", number: "2024/LOC/0087", numberLabel: "N° de contrat",
		date: day(2024, 12, 15), due: day(2025, 1, 5), period: [2]time.Time{day(2025, 1, 1), day(2025, 3, 31)}, periodLabel: "Période",
		ms: frMoney, ds: frDate, currency: "EUR", sym: "€", addressRight: true,
		supplier: party{name: []string{"SCI Les Tilleuls"}, street: "3 avenue Jean-Jaurès", postcode: "33000", city: "Bordeaux", country: "FR", taxID: "FR72412345670", email: "gestion@sci-tilleuls.fr"},
		customer: party{name: []string{"Boulangerie Dupré-Gaël"}, pre: []string{"À l'attention de Mme Dupré"}, street: "27 cours de l'Intendance", postcode: "33000", city: "Bordeaux", country: "FR"},
		iban:     makeIBAN("FR", "10907000010123456789011"), bic: "BORDFRPP",
		items: []item{
			{desc: "Loyer commercial 1er trimestre 2025", qty: 1, price: 420000, rate: 20},
			{desc: "Provision sur charges", qty: 1, price: 36000, rate: 20},
			{desc: "Taxe foncière (quote-part)", qty: 1, price: 21500, rate: 20},
		},
	})
	add(&doc{
		id: "de-miete-vertragsnummer", lang: "de", kinds: []string{"policyNumber", "euFormats", "separatorNumber", "longDates", "prepaid"},
		note:   "DE commercial rent invoice; Vertragsnummer; long German dates; a deposit deducted (amount due below the total)",
		layout: letterLayout, policy: true, title: "Mietrechnung Januar 2025", number: "MV-2019/0042-3", numberLabel: "Vertragsnummer",
		date: day(2024, 12, 20), due: day(2025, 1, 3), period: [2]time.Time{day(2025, 1, 1), day(2025, 1, 31)}, periodLabel: "Mietzeitraum",
		ms: deMoney, ds: longDEDate, currency: "EUR", sym: "€", prepaid: 50000, font: TimesRoman, bold: TimesBold,
		supplier: party{name: []string{"Grundbesitz Elbufer GmbH & Co. KG"}, street: "Große Elbstraße 145", postcode: "22767", city: "Hamburg", country: "DE", taxID: "DE301122334", phone: "040 555 3300"},
		customer: party{pre: []string{"Firma"}, name: []string{"Kaffeerösterei Hafenblick UG (haftungsbeschränkt)"}, street: "Große Elbstraße 145", postcode: "22767", city: "Hamburg", country: "DE"},
		iban:     makeIBAN("DE", "200505501234567890"), bic: "HASPDEHHXXX",
		extra: []string{"Die Anzahlung aus der Nebenkostenabrechnung 2023 wird verrechnet."},
		items: []item{
			{desc: "Nettokaltmiete Gewerbefläche EG", qty: 1, price: 185000, rate: 19},
			{desc: "Nebenkostenvorauszahlung", qty: 1, price: 32000, rate: 19},
			{desc: "Stellplatz Tiefgarage Nr. 12", qty: 1, price: 9500, rate: 19},
		},
	})

	// --- Credit notes printed with positive amounts.
	add(&doc{
		id: "en-credit-note-uk", lang: "en", kinds: []string{"creditNote", "ukFormats", "separatorNumber"},
		note:   "UK credit note, positive amounts, 20% VAT, refers to the original invoice",
		layout: modernLayout, credit: true, title: "Credit Note", number: "CN-2024/0193", date: day(2024, 11, 8),
		ms: usMoney, ds: ukDate, currency: "GBP", sym: "£",
		supplier: party{name: []string{"Thistle & Pike Office Supplies Ltd"}, street: "12 Canal Street", city: "Manchester", postcode: "M1 3HW", country: "GB", taxID: "GB 123 4567 89", phone: "0161 555 0100", email: "accounts@thistlepike.co.uk"},
		customer: party{name: []string{"Brightwater Dental Practice"}, street: "4 Quay Road", city: "Salford", postcode: "M50 3AG", country: "GB"},
		refs:     []ref{{"other", "Original Invoice", "INV-2024/1042"}}, custNo: "BW-0031",
		items: []item{
			{desc: "Returned: ergonomic chair (damaged)", qty: 2, price: 18950, rate: 20},
			{desc: "Returned: A4 copier paper, box of 5 reams", qty: 3, price: 2399, rate: 20},
		},
	})
	add(&doc{
		id: "de-gutschrift", lang: "de", kinds: []string{"creditNote", "euFormats", "separatorNumber"},
		note:   "DE credit note (Gutschrift) with positive amounts, 19 %",
		layout: letterLayout, credit: true, title: "Gutschrift", number: "GS-2024/00017", date: day(2024, 10, 2),
		ms: deMoney, ds: deDate, currency: "EUR", sym: "€",
		supplier: party{name: []string{"Elektro Vogt & Söhne OHG"}, street: "Bahnhofstraße 88", postcode: "70173", city: "Stuttgart", country: "DE", taxID: "DE246813579", phone: "0711 555 8800"},
		customer: party{name: []string{"Schreinerei Zimmermann"}, street: "Talweg 4", postcode: "70567", city: "Stuttgart", country: "DE"},
		custNo:   "30077", refs: []ref{{"other", "zu Rechnung", "RE-2024/04412"}},
		items: []item{
			{desc: "Rücknahme LED-Panel 60x60 (Transportschaden)", qty: 4, unit: "Stk", price: 8450, rate: 19},
			{desc: "Preisnachlass Kabelkanal laut Absprache", qty: 1, unit: "psch", price: 4500, rate: 19},
		},
	})
	add(&doc{
		id: "fr-avoir", lang: "fr", kinds: []string{"creditNote", "frFormats", "wrappedName"},
		note:   "FR credit note (Avoir), positive amounts, TVA 20 %, customer name over two lines",
		layout: letterLayout, credit: true, title: "Avoir", number: "AV-2024-0031", date: day(2024, 12, 5),
		ms: frMoney, ds: frDate, currency: "EUR", sym: "€", addressRight: true,
		supplier: party{name: []string{"Imprimerie Rousseau & Fils"}, street: "8 rue Gutenberg", postcode: "44000", city: "Nantes", country: "FR", taxID: "FR19823456789", phone: "02 40 55 66 77"},
		customer: party{name: []string{"Association des Commerçants", "du Quartier Bouffay"}, street: "2 place du Bouffay", postcode: "44000", city: "Nantes", country: "FR"},
		refs:     []ref{{"other", "Facture d'origine", "FAC-2024/0977"}},
		items: []item{
			{desc: "Remboursement affiches A2 (erreur de couleur)", qty: 200, unit: "ex.", price: 185, rate: 20},
			{desc: "Geste commercial", qty: 1, unit: "forfait", price: 5000, rate: 20},
		},
	})

	// --- Line-item tables continued on a second page.
	add(&doc{
		id: "de-zwei-seiten-uebertrag", lang: "de", kinds: []string{"twoPageTable", "carryOver", "euFormats"},
		note:   "DE invoice, 30 rows, header on page 1 only, carry-over lines at the break, 19/7 %",
		layout: letterLayout, title: "Rechnung", number: "24-3318", date: day(2024, 11, 29), due: day(2024, 12, 13),
		ms: deMoney, ds: deDate, currency: "EUR", sym: "€", split: 26, carry: true,
		supplier: party{name: []string{"Büro- und Schulbedarf Krämer e.K."}, street: "Marktplatz 5", postcode: "34117", city: "Kassel", country: "DE", taxID: "DE198765432", phone: "0561 555 41"},
		customer: party{name: []string{"Grundschule am Weinberg"}, post: []string{"Sekretariat"}, street: "Weinbergstraße 20", postcode: "34117", city: "Kassel", country: "DE"},
		custNo:   "S-0815", iban: makeIBAN("DE", "520503530001122334"), bic: "HELADEF1KAS",
		items: officeItems(30),
	})
	add(&doc{
		id: "en-two-page-repeated-header", lang: "en", kinds: []string{"twoPageTable", "repeatedHeader", "usFormats", "purchaseOrder"},
		note:   "US invoice, 40 rows over two pages with the header repeated, sales tax, PO",
		layout: modernLayout, letter: true, title: "Invoice", number: "100482", date: day(2025, 2, 3), due: day(2025, 3, 5),
		ms: usMoney, ds: usDate, currency: "USD", sym: "$", split: 22, repeatHeader: true, po: "4500021987",
		supplier: party{name: []string{"Lone Star Lab Supply, Inc."}, street: "9800 Research Blvd", city: "Austin", region: "TX", postcode: "78759", country: "US", phone: "(512) 555-0170", email: "ar@lonestarlab.com"},
		customer: party{name: []string{"Bluebonnet Analytical Services"}, street: "310 Congress Avenue", city: "Austin", region: "TX", postcode: "78701", country: "US"},
		terms:    "Net 30", items: labItems(40, 8.25),
	})
	add(&doc{
		id: "en-header-previous-page", lang: "en", kinds: []string{"twoPageTable", "headerOnPreviousPage", "euFormats", "ukFormats"},
		note:   "IE invoice in euro; the table header ends page 1, all rows are on page 2 without a header",
		layout: modernLayout, title: "Invoice", number: "DUB-88123", date: day(2025, 1, 17), due: day(2025, 2, 16),
		ms: usMoney, ds: ukDate, currency: "EUR", sym: "€", split: -1,
		supplier: party{name: []string{"Liffey Software Consulting Ltd"}, street: "22 Pearse Street", city: "Dublin", postcode: "D02 YX88", country: "IE", taxID: "IE6388047V", email: "billing@liffeysoft.ie"},
		customer: party{name: []string{"Connemara Tours Ltd"}, street: "Main Street", city: "Clifden", postcode: "H71 WP83", country: "IE"},
		iban:     makeIBAN("IE", "AIBK93115212345678"), bic: "AIBKIE2D",
		preface: projectNotes(),
		items: []item{
			{desc: "Booking platform: discovery workshop", qty: 2, price: 95000, rate: 23},
			{desc: "Booking platform: API integration", qty: 64, price: 11500, rate: 23},
			{desc: "Booking platform: payment provider setup", qty: 12, price: 11500, rate: 23},
			{desc: "Hosting, January 2025", qty: 1, price: 18900, rate: 23},
			{desc: "Support hours", qty: 7.5, price: 9500, rate: 23},
		},
	})

	// --- Wrapped party names, attention lines, customer numbers, GLN.
	add(&doc{
		id: "en-wrapped-names-us", lang: "en", kinds: []string{"wrappedName", "salutation", "usFormats", "purchaseOrder"},
		note:   "US invoice, supplier and customer names over two lines, Attn and customer-number lines",
		layout: modernLayout, letter: true, title: "Invoice", number: "GL-77310", date: day(2024, 8, 19), due: day(2024, 9, 18),
		ms: usMoney, ds: usDate, currency: "USD", sym: "$", po: "PO 88-1203", custNo: "C-40912",
		supplier: party{name: []string{"Great Lakes Industrial Supply", "and Fastener Company"}, street: "1450 W Fulton Market", city: "Chicago", region: "IL", postcode: "60607", country: "US", phone: "(312) 555-0163", email: "invoices@glisf.com"},
		customer: party{pre: []string{"Attn: Accounts Payable"}, name: []string{"Milwaukee River Boatworks", "Cooperative"}, street: "800 N Water Street", city: "Milwaukee", region: "WI", postcode: "53202", country: "US"},
		terms:    "Net 30", font: TimesRoman, bold: TimesBold,
		items: []item{
			{desc: "Stainless hex bolts 3/8\" x 2\", box of 100", qty: 12, price: 4275, rate: 5.5},
			{desc: "Marine grade rivets, box of 500", qty: 4, price: 8990, rate: 5.5},
			{desc: "Bronze through-hull fitting 1-1/2\"", qty: 6, price: 12450, rate: 5.5},
			{desc: "Freight", qty: 1, price: 18500, rate: 5.5},
		},
	})
	add(&doc{
		id: "de-namen-umbruch-gln", lang: "de", kinds: []string{"wrappedName", "gln", "salutation", "euFormats"},
		note:   "DE invoice, supplier name over two lines in the letterhead, Firma + two-line customer name + GLN and customer number",
		layout: letterLayout, title: "Rechnung", number: "R 2024 11 0815", date: day(2024, 11, 22), due: day(2024, 12, 6),
		ms: deMoney, ds: deDate, currency: "EUR", sym: "€",
		supplier: party{name: []string{"Mühlenbäckerei Sauerteig", "Großhandel GmbH"}, street: "Mühlenweg 1", postcode: "48143", city: "Münster", country: "DE", taxID: "DE277788899", phone: "0251 555 90", email: "rechnung@sauerteig-gh.de"},
		customer: party{pre: []string{"Firma"}, name: []string{"Bäckerei und Konditorei", "Müller-Lüdenscheidt GmbH"}, post: []string{"GLN 4000001123456", "Kd.-Nr. 55120"}, street: "Königsstraße 61", postcode: "48143", city: "Münster", country: "DE"},
		iban:     makeIBAN("DE", "400501500000123456"), bic: "WELADED1MST",
		items: []item{
			{desc: "Roggenmehl Type 1150, 25 kg", qty: 20, unit: "Sack", price: 1890, rate: 7},
			{desc: "Weizenmehl Type 550, 25 kg", qty: 40, unit: "Sack", price: 1640, rate: 7},
			{desc: "Backpapier Rolle 50 m", qty: 12, unit: "Rolle", price: 790, rate: 19},
			{desc: "Transportkisten Mehrweg", qty: 30, unit: "Stk", price: 450, rate: 19},
		},
	})
	add(&doc{
		id: "fr-nom-sur-deux-lignes", lang: "fr", kinds: []string{"wrappedName", "salutation", "frFormats", "longDates"},
		note:   "FR invoice, long French dates, supplier and customer names over two lines, attention line",
		layout: letterLayout, title: "Facture", number: "F2024-0456", date: day(2024, 7, 12), due: day(2024, 8, 11),
		ms: frMoney, ds: longFRDate, currency: "EUR", sym: "€", addressRight: true, font: TimesRoman, bold: TimesBold,
		supplier: party{name: []string{"Domaine Viticole des Coteaux", "de Saint-Émilion SAS"}, street: "Lieu-dit La Gaffelière", postcode: "33330", city: "Saint-Émilion", country: "FR", taxID: "FR61345678912", phone: "05 57 55 24 24"},
		customer: party{pre: []string{"À l'attention de M. Dubois"}, name: []string{"Société Coopérative Agricole", "des Vignerons de Bourgogne"}, street: "12 route de Beaune", postcode: "21200", city: "Beaune", country: "FR"},
		custNo:   "CL-0871", custVAT: "FR83456789123", iban: makeIBAN("FR", "20041010050500013M02606"), bic: "PSSTFRPPBOR",
		items: []item{
			{desc: "Saint-Émilion Grand Cru 2019, carton de 6", qty: 25, unit: "carton", price: 16200, rate: 20},
			{desc: "Bouchons liège naturel (lot de 1000)", qty: 2, unit: "lot", price: 31000, rate: 20},
		},
	})

	// --- Number and date formats.
	add(&doc{
		id: "us-services-formats", lang: "en", kinds: []string{"usFormats", "purchaseOrder"},
		note:   "US services invoice, MM/DD/YYYY, 1,234.56, sales tax, long thousands",
		layout: modernLayout, letter: true, title: "Invoice", number: "2025-0117", date: day(2025, 1, 31), due: day(2025, 3, 2),
		ms: usMoney, ds: usDate, currency: "USD", sym: "$", po: "PO-20250112",
		period:   [2]time.Time{day(2025, 1, 1), day(2025, 1, 31)},
		supplier: party{name: []string{"Summit Peak IT Services LLC"}, street: "1700 Lincoln Street, Suite 2000", city: "Denver", region: "CO", postcode: "80203", country: "US", phone: "303-555-0111", email: "billing@summitpeakit.com"},
		customer: party{name: []string{"Front Range Health Partners"}, street: "4500 E 9th Avenue", city: "Denver", region: "CO", postcode: "80220", country: "US"},
		terms:    "Net 30",
		items: []item{
			{desc: "Managed services, 250 endpoints", qty: 250, price: 4500, rate: 8.81},
			{desc: "Microsoft 365 E3 licenses", qty: 250, price: 3600, rate: 8.81},
			{desc: "On-site engineer", qty: 36, price: 14500, rate: 8.81},
		},
	})
	add(&doc{
		id: "de-lange-datumsangaben", lang: "de", kinds: []string{"threeVATRates", "euFormats", "longDates", "prepaid"},
		note:   "DE invoice with long dates (15. März 2025), 19/7/0, an advance payment deducted",
		layout: letterLayout, title: "Schlussrechnung", number: "SR-2025/0007", date: day(2025, 3, 15), due: day(2025, 3, 29),
		ms: deMoney, ds: longDEDate, currency: "EUR", sym: "€", prepaid: 200000,
		period:   [2]time.Time{day(2025, 2, 3), day(2025, 3, 7)},
		supplier: party{name: []string{"Gartenbau Eichenlaub GmbH"}, street: "Gärtnerweg 9", postcode: "01109", city: "Dresden", country: "DE", taxID: "DE311223344", email: "buero@eichenlaub-garten.de"},
		customer: party{pre: []string{"Herrn"}, name: []string{"Prof. Dr. Matthias Größler"}, street: "Weißer Hirsch 14", postcode: "01324", city: "Dresden", country: "DE"},
		iban:     makeIBAN("DE", "850503000221012345"), bic: "OSDDDE81XXX",
		extra: []string{"Abschlagszahlung vom 10. Februar 2025 wurde berücksichtigt."},
		items: []item{
			{desc: "Neuanlage Staudenbeet inkl. Pflanzen", qty: 1, unit: "psch", price: 348000, rate: 19},
			{desc: "Obstbäume Hochstamm (Pflanzgut)", qty: 3, unit: "Stk", price: 8900, rate: 7},
			{desc: "Solarleuchten-Set (§ 12 Abs. 3 UStG)", qty: 1, unit: "Set", price: 64000, rate: 0},
		},
	})
	add(&doc{
		id: "en-nl-eu-formats", lang: "en", kinds: []string{"euFormats", "separatorNumber"},
		note:   "English invoice from NL with European numbers (1.234,56) and DD.MM.YYYY dates, 21 % VAT",
		layout: modernLayout, title: "Invoice", number: "NL-24/1187", date: day(2024, 6, 4), due: day(2024, 7, 4),
		ms: deMoney, ds: deDate, currency: "EUR", sym: "€",
		supplier: party{name: []string{"Grachtenhuis Design B.V."}, street: "Keizersgracht 241", postcode: "1016 EA", city: "Amsterdam", country: "NL", taxID: "NL812345678B01", email: "finance@grachtenhuis.nl"},
		customer: party{name: []string{"Hanse Möbelwerk GmbH"}, street: "Speicherstadt 3", postcode: "20457", city: "Hamburg", country: "DE", foreign: "Germany"},
		custVAT:  "DE298765430", iban: makeIBAN("NL", "INGB0001234567"), bic: "INGBNL2A",
		items: []item{
			{desc: "Showroom interior concept", qty: 1, price: 1250000, rate: 21},
			{desc: "3D visualisations", qty: 8, price: 42500, rate: 21},
			{desc: "Travel expenses Hamburg", qty: 1, price: 68750, rate: 21},
		},
	})
	return ds
}

func officeItems(n int) []item {
	names := []struct {
		d    string
		u    string
		p    money
		rate float64
	}{
		{"Collegeblock A4 kariert", "Stk", 189, 19}, {"Bleistift HB", "Stk", 45, 19}, {"Radiergummi", "Stk", 60, 19},
		{"Wasserfarbkasten 12 Farben", "Stk", 749, 19}, {"Kinderbuch „Die Sonne“", "Stk", 1295, 7}, {"Schere für Linkshänder", "Stk", 329, 19},
		{"Atlas Grundschule", "Stk", 1990, 7}, {"Klebestift 40 g", "Stk", 149, 19}, {"Heftumschlag blau", "Stk", 39, 19},
		{"Lesebuch Klasse 3", "Stk", 1650, 7},
	}
	var out []item
	for i := 0; i < n; i++ {
		x := names[i%len(names)]
		q := float64(5 + (i*7)%26)
		desc := x.d
		if i >= len(names) {
			desc = fmt.Sprintf("%s, Satz %d", x.d, 1+i/len(names))
		}
		out = append(out, item{desc: desc, qty: q, unit: x.u, price: x.p, rate: x.rate})
	}
	return out
}

func labItems(n int, rate float64) []item {
	base := []struct {
		d string
		p money
	}{
		{"Nitrile gloves, M, box of 100", 1299}, {"Pipette tips 200 uL, rack of 96", 2450}, {"Centrifuge tubes 50 mL, case", 8900},
		{"Petri dishes 90 mm, sleeve of 20", 1475}, {"Ethanol 70%, 4 L", 3850}, {"pH buffer kit", 6420}, {"Lab markers, pack of 10", 1199},
		{"Microscope slides, box of 72", 995},
	}
	var out []item
	for i := 0; i < n; i++ {
		x := base[i%len(base)]
		out = append(out, item{desc: fmt.Sprintf("%s, lot %d", x.d, 2401+i), qty: float64(1 + (i*5)%9), price: x.p, rate: rate})
	}
	return out
}

func projectNotes() []string {
	var out []string
	for i, s := range []string{
		"This invoice covers the first phase of the booking platform project agreed in the statement",
		"of work of 4 November 2024. Work was carried out remotely and on site in Clifden. All hours",
		"are recorded in the shared project tracker; a detailed timesheet is available on request.",
		"Phase 2 (mobile app) will be invoiced separately on completion of the acceptance tests.",
	} {
		out = append(out, s)
		if i == 1 {
			out = append(out, "")
		}
	}
	// Enough notes that the table header falls at the bottom of the first page.
	for k := 0; k < 3; k++ {
		out = append(out, "", "Milestones: requirements signed off; staging environment live; payment provider sandbox tested;",
			"content migration of 140 tour pages; training session for four staff members; go-live checklist.")
	}
	return out
}
