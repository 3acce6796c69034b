package synth

import (
	"math"
	"sort"
	"strings"
	"time"
)

// item is one line item. Its amount is quantity × unit price, rounded to the cent.
type item struct {
	desc  string
	qty   float64
	unit  string
	price money
	rate  float64 // VAT rate in percent
	// cols are extra printed columns of layouts that have them (a spot's air date,
	// time, length and programme on a station invoice).
	cols []string
}

func (it item) amount() money { return money(math.Round(it.qty * float64(it.price))) }

// party is a supplier or customer as printed.
type party struct {
	pre      []string // salutation or attention lines above the name (Herrn, Attn:)
	name     []string // the name, one or two printed lines
	post     []string // lines between name and street (GLN, customer number, department)
	street   string
	postcode string
	city     string
	region   string // US state
	country  string // ISO code
	foreign  string // printed country line, when printed
	taxID    string
	phone    string
	email    string
	web      string
}

func (p party) fullName() string { return strings.Join(p.name, " ") }

// cityLine prints the postcode and city the way the party's country writes them.
func (p party) cityLine() string {
	switch p.country {
	case "US":
		return p.city + ", " + p.region + " " + p.postcode
	case "GB", "IE":
		return p.city + " " + p.postcode
	}
	return p.postcode + " " + p.city
}

// ref is a printed reference with its kind in the invoice field set.
type ref struct {
	kind, label, value string
}

// doc is the specification of one synthetic document: what it says and how it is laid out.
type doc struct {
	id     string
	lang   string // en, de, fr
	kinds  []string
	layout func(d *doc) *PDF
	note   string // what the document exercises, for the truth's meta

	credit      bool
	title       string // printed title (Rechnung, Credit Note, Avoir, Premium Notice ...)
	number      string
	numberLabel string
	date, due   time.Time
	period      [2]time.Time
	periodLabel string

	ms       moneyStyle
	ds       dateStyle
	currency string // ISO 4217
	sym      string // printed currency symbol or code after/before amounts

	supplier, customer party
	custNo             string // customer number, printed in the info block
	custVAT            string // the customer's VAT id, printed near the customer
	po                 string // purchase order printed with an order label
	refs               []ref
	iban, bic          string
	terms              string

	items      []item
	noTax      bool    // no tax lines at all (US media, US insurance)
	commission float64 // agency commission in percent of the gross
	prepaid    money   // a prepayment deducted after the total

	// Page layout.
	font, bold   Font
	letter       bool              // US Letter instead of A4
	addressRight bool              // recipient window on the right (French letters)
	split        int               // line items on page 1 when the table continues on page 2; -1: the header alone ends page 1
	repeatHeader bool              // the continued table repeats its header
	carry        bool              // carry-over lines (Übertrag) at the page break
	policy       bool              // premium/rent notice: items without quantity columns
	labels       map[string]string // a layout's own wording for some labels, by key
	preface      []string          // text lines before the table
	extra        []string          // text lines after the totals
}

func (d *doc) subtotal() money {
	var s money
	for _, it := range d.items {
		s += it.amount()
	}
	return s
}

// rateRow is one row of a tax breakdown.
type rateRow struct {
	rate         float64
	base, amount money
}

// breakdown groups the items by VAT rate, highest rate first; the tax of each rate is
// computed on the rate's base, as on the printed breakdown.
func (d *doc) breakdown() []rateRow {
	if d.noTax {
		return nil
	}
	by := map[float64]money{}
	for _, it := range d.items {
		by[it.rate] += it.amount()
	}
	var out []rateRow
	for r, b := range by {
		out = append(out, rateRow{rate: r, base: b, amount: money(math.Round(float64(b) * r / 100))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rate > out[j].rate })
	return out
}

func (d *doc) tax() money {
	var t money
	for _, r := range d.breakdown() {
		t += r.amount
	}
	return t
}

func (d *doc) total() money { return d.subtotal() + d.tax() }

func (d *doc) discount() money {
	return money(math.Round(float64(d.total()) * d.commission / 100))
}

func (d *doc) amountDue() money { return d.total() - d.discount() - d.prepaid }

// m prints an amount in the document's style without a currency.
func (d *doc) m(v money) string { return d.ms.fmt(v) }

// mc prints an amount with the document's currency sign placed as its locale does.
func (d *doc) mc(v money) string {
	switch {
	case d.sym == "":
		return d.m(v)
	case d.sym == "$" || d.sym == "£" || d.sym == "€" && d.ms == usMoney:
		if v < 0 {
			return "-" + d.sym + d.m(-v)
		}
		return d.sym + d.m(v)
	}
	return d.m(v) + " " + d.sym
}

func (d *doc) dt(t time.Time) string { return d.ds.fmt(t) }

// pageCount is 2 when the item table is split over a second page, else 1.
func (d *doc) pageCount() int {
	if d.split != 0 {
		return 2
	}
	return 1
}

// writePreface writes the preface lines from y down in the given size and leading, with
// a gap after them when there are any, and returns the y below them.
func (d *doc) writePreface(p *Page, x, y, size, lead float64) float64 {
	for _, l := range d.preface {
		p.Text(x, y, d.font, size, l)
		y += lead
	}
	if len(d.preface) > 0 {
		y += 10
	}
	return y
}

// words of the three languages used by the layouts.
var words = map[string]map[string]string{
	"de": {
		"invoice": "Rechnung", "credit": "Gutschrift", "number": "Rechnungsnummer", "creditNumber": "Gutschrift-Nr.",
		"date": "Rechnungsdatum", "due": "Zahlbar bis", "dueInfo": "Fällig am", "custNo": "Kundennummer", "po": "Ihre Bestellung",
		"period": "Leistungszeitraum", "pos": "Pos.", "desc": "Bezeichnung", "qty": "Menge", "unit": "Einheit",
		"price": "Einzelpreis", "vat": "USt.", "amount": "Gesamt", "subtotal": "Summe netto",
		"taxOn": "zzgl. USt. %s %% auf %s", "total": "Rechnungsbetrag", "creditTotal": "Gutschriftsbetrag",
		"prepaid": "abzgl. Anzahlung", "due2": "Zahlbetrag", "rateH": "USt.-Satz", "baseH": "Netto",
		"taxH": "USt.-Betrag", "grossH": "Brutto", "page": "Seite %d von %d", "carry": "Übertrag",
		"carryTo": "Übertrag auf Seite %d", "vatID": "USt-IdNr.", "bank": "Bankverbindung", "custVAT": "Ihre USt-IdNr.",
		"dear": "Sehr geehrte Damen und Herren,", "intro": "wir erlauben uns, Ihnen folgende Leistungen in Rechnung zu stellen:",
		"creditIntro": "wir schreiben Ihnen folgende Beträge gut:", "pay": "Bitte überweisen Sie den Betrag bis zum %s ohne Abzug.",
		"creditPay": "Der Betrag wird Ihrem Konto innerhalb von 14 Tagen gutgeschrieben.", "thanks": "Vielen Dank für Ihren Auftrag.",
		"phone": "Tel.", "email": "E-Mail",
	},
	"fr": {
		"invoice": "Facture", "credit": "Avoir", "number": "N° de facture", "creditNumber": "N° d'avoir",
		"date": "Date de facture", "due": "Date d'échéance", "dueInfo": "Date d'échéance", "custNo": "N° client", "po": "Votre commande",
		"period": "Période de prestation", "pos": "Réf.", "desc": "Désignation", "qty": "Qté", "unit": "Unité",
		"price": "P.U. HT", "vat": "TVA", "amount": "Montant HT", "subtotal": "Total HT",
		"taxOn": "TVA %s %% sur %s", "total": "Total TTC", "creditTotal": "Total TTC de l'avoir",
		"prepaid": "Acompte versé", "due2": "Net à payer", "rateH": "Taux TVA", "baseH": "Base HT",
		"taxH": "Montant TVA", "grossH": "Total TTC", "page": "Page %d/%d", "carry": "Report",
		"carryTo": "À reporter page %d", "vatID": "N° TVA intracom.", "bank": "Coordonnées bancaires", "custVAT": "Votre N° TVA",
		"dear": "Madame, Monsieur,", "intro": "Veuillez trouver ci-dessous le détail de notre facturation :",
		"creditIntro": "Nous avons le plaisir de vous adresser l'avoir suivant :", "pay": "Paiement à réception, au plus tard le %s. Pas d'escompte pour paiement anticipé.",
		"creditPay": "Le montant sera déduit de votre prochaine facture ou remboursé sur demande.", "thanks": "Nous vous remercions de votre confiance.",
		"phone": "Tél.", "email": "Courriel",
	},
	"en": {
		"invoice": "Invoice", "credit": "Credit Note", "number": "Invoice No.", "creditNumber": "Credit Note No.",
		"date": "Invoice Date", "due": "Due Date", "dueInfo": "Payment Due", "custNo": "Customer No.", "po": "PO Number",
		"period": "Service Period", "pos": "#", "desc": "Description", "qty": "Qty", "unit": "Unit",
		"price": "Unit Price", "vat": "VAT", "amount": "Amount", "subtotal": "Subtotal",
		"taxOn": "VAT %s%% on %s", "total": "Total", "creditTotal": "Total Credit",
		"prepaid": "Less deposit received", "due2": "Amount Due", "rateH": "VAT Rate", "baseH": "Net",
		"taxH": "VAT", "grossH": "Gross", "page": "Page %d of %d", "carry": "Brought forward",
		"carryTo": "Carried forward to page %d", "vatID": "VAT Reg. No.", "bank": "Bank details", "custVAT": "Customer VAT No.",
		"dear": "Dear Sir or Madam,", "intro": "Please find below the details of this invoice:",
		"creditIntro": "We have credited your account as follows:", "pay": "Please pay by %s.",
		"creditPay": "This amount will be offset against your next invoice.", "thanks": "Thank you for your business.",
		"phone": "Phone", "email": "Email",
	},
}

// label returns the document's own wording for key, or def.
func (d *doc) label(key, def string) string {
	if s, ok := d.labels[key]; ok {
		return s
	}
	return def
}

func (d *doc) w(key string) string {
	if s, ok := d.labels[key]; ok {
		return s
	}
	if s, ok := words[d.lang][key]; ok {
		return s
	}
	return words["en"][key]
}
