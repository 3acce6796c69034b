package extract

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/validate"
)

// The wider field set: what the document is, the tax breakdown, the service period,
// references, payment details, the customer's tax id and the supplier's contacts.

// docTypeTitles are the words that name a document in its title, most specific first.
var docTypeTitles = []struct {
	l   label
	typ string
}{
	{lbl(`credit\s*note|credit\s*memo|gutschrifts?-?\s*(?:nummer|nr\.?)|(?:rechnungs)?gutschrift|rechnungskorrektur|stornorechnung|facture\s*d['’]avoir|avoir|note\s*de\s*crédit|creditnota|creditfactuur|nota\s*(?:de\s*)?crédito|factura\s*rectificativa|nota\s*(?:di\s*)?credito`, 1, ""), invoice.DocCreditNote},
	{lbl(`debit\s*note|debit\s*memo|belastungsanzeige|lastschriftanzeige|note\s*de\s*débit|nota\s*(?:de\s*)?débito|nota\s*(?:di\s*)?debito|debetnota`, 1, ""), invoice.DocDebitNote},
	{lbl(`pro\s*-?\s*forma(?:\s*-?\s*(?:invoice|rechnung|facture|factura|fattura|factuur))?|proformarechnung|proforma-rechnung`, 1, ""), invoice.DocProforma},
	// Insurance, rent and utility invoices name themselves by what they bill
	// ("Beitragsrechnung", "Mietrechnung", "Premium Notice", "Avis d'échéance"; not
	// "Berechnung", a calculation).
	{lbl(`(?:commercial\s*|tax\s*)?invoice|(?:\p{L}*[a-df-zäöüß])?rechnung|facture|factura|fattura|factuur|bill|premium\s*notice|renewal\s*notice|avis\s*d['’]échéance|appel\s*de\s*(?:loyers?|cotisations?|charges)`, 1, ""), invoice.DocInvoice},
	{lbl(`receipt|quittung|kassenbon|kassenbeleg|reçu|ricevuta|recibo|kassabon|kwitantie`, 1, ""), invoice.DocReceipt},
}

// findDocumentType reads the document's title: a short segment in the upper part of the
// first page, or the word before a number label ("Gutschrift Nr."); without one, an
// invoice number found by a strong label (numberScore) says "invoice". A credit note,
// debit note or pro-forma title wins over the generic word "invoice" wherever both
// appear; receipts are receipts unless their title says otherwise.
func (d *doc) findDocumentType(receipt bool, numberScore float64) (string, float64) {
	limit := 0
	for _, r := range d.rows {
		if r.page != 1 {
			break
		}
		limit++
	}
	limit = max(8, limit*6/10)
	best, bestPrio := "", len(docTypeTitles)
	for ri := 0; ri < len(d.rows) && ri < limit; ri++ {
		for _, s := range d.rows[ri].segs {
			t := strings.TrimSpace(s.text)
			numbered := reTitleNumberIn.MatchString(t)
			if n := len(strings.Fields(t)); n > 10 || n > 7 && !numbered {
				continue
			}
			for prio, dt := range docTypeTitles {
				m := dt.l.re.FindStringSubmatchIndex(t)
				if m == nil {
					continue
				}
				// The title word opens the segment, or a number label follows it.
				after := t[m[3]:]
				if strings.TrimSpace(t[:m[2]]) != "" && !reTitleNumber.MatchString(after) {
					continue
				}
				if strings.TrimSpace(after) != "" && !reTitleNumber.MatchString(after) && !reTitleTail.MatchString(after) && !numbered {
					continue
				}
				if dt.typ == invoice.DocCreditNote && reSelfBilled.MatchString(t) {
					// A self-billed invoice ("Gutschrift" in the German sense) is an invoice.
					prio = len(docTypeTitles) - 2
					dt.typ = invoice.DocInvoice
				}
				if prio < bestPrio {
					best, bestPrio = dt.typ, prio
				}
				break
			}
		}
	}
	if best == "" {
		// No title, but an invoice number label says what the document is.
		if numberScore >= 0.9 && !receipt {
			best = invoice.DocInvoice
		}
	}
	switch {
	case best == invoice.DocCreditNote || best == invoice.DocDebitNote || best == invoice.DocProforma:
		return best, 0.85
	case receipt:
		return invoice.DocReceipt, 0.7
	case best != "":
		return best, 0.8
	}
	return "", 0
}

var (
	// reTitleNumber: a number label or a number after a title word.
	reTitleNumber = regexp.MustCompile(`(?i)^\s*(?:[-/:]\s*)?(?:no\.?|nr\.?|n°|nº|number|nummer|numéro|número|numero|#|\d)`)
	// reTitleTail: what else may follow a title word in its segment: punctuation, a
	// copy mark, an id with a digit ("Facture FA-2017-0010"), or a month and year
	// ("Mietrechnung Januar 2025").
	reTitleTail = regexp.MustCompile(`(?i)^\s*[-/:(]|^\s*(?:\d|\(|copy|kopie|duplikat|duplicate|original)|^\s*[A-Z]{0,6}[-/_.]?\d[\w/.\-]*\s*$|^\s*\p{L}{3,12}\.?\s+\d{4}\s*$`)
	// reTitleNumberIn: a number label with its number anywhere in the segment.
	reTitleNumberIn = regexp.MustCompile(`(?i)(?:^|\s)(?:nr\.?|no\.?|n°|nº|number|nummer|numéro|número|#)\s*:?\s*\S*\d`)
	reSelfBilled    = regexp.MustCompile(`(?i)selbst\s*ausgestellte|self[-\s]*bill|autofactur|autofattur|zelfgefactur`)
)

// taxRow is one row of a tax breakdown found on the page.
type taxRow struct {
	rate, base, amount float64
	row                int
}

var reRate = regexp.MustCompile(`(\d{1,2}(?:[.,]\d{1,2})?)\s?%`)

// findTaxBreakdown finds rows that print a tax rate with a net amount and the tax at
// that rate (base x rate = tax within rounding), both with cents. Rows of the item table can look the
// same; per rate the row with the largest base is kept, which is the summary row when
// there is one.
func (d *doc) findTaxBreakdown() []taxRow {
	byRate := map[float64]taxRow{}
	for ri, r := range d.rows {
		text := r.text
		rates := reRate.FindAllStringSubmatchIndex(text, -1)
		if len(rates) == 0 {
			continue
		}
		as := findAmounts(maskDates(text, d.order), d.dec)
		// A breakdown row holds a few amounts; a row of hundreds is a table dump, and
		// pairing its amounts would cost their square.
		if len(as) < 2 || len(as) > 12 || len(rates) > 6 {
			continue
		}
		for _, m := range rates {
			rate, ok := ParseAmount(text[m[2]:m[3]], ',')
			if strings.Contains(text[m[2]:m[3]], ".") {
				rate, ok = ParseAmount(text[m[2]:m[3]], '.')
			}
			if !ok || rate < 0 || rate > 30 {
				continue
			}
			var bestRow *taxRow
			for i := range as {
				for j := range as {
					b, a := as[i].Value, as[j].Value
					// Both are money: printed with cents, not a position or a quantity.
					if as[i].Decimals != 2 || as[j].Decimals != 2 {
						continue
					}
					if i == j || math.Abs(b) < 0.01 || math.Abs(a) >= math.Abs(b) {
						continue
					}
					if math.Abs(b*rate/100-a) > 0.0051+0.005*math.Ceil(math.Abs(b)/1000) {
						continue
					}
					if bestRow == nil || math.Abs(b) > math.Abs(bestRow.base) {
						bestRow = &taxRow{rate: rate, base: b, amount: a, row: ri}
					}
				}
			}
			if bestRow != nil {
				if o, ok := byRate[rate]; !ok || math.Abs(bestRow.base) > math.Abs(o.base) {
					byRate[rate] = *bestRow
				}
			}
		}
	}
	out := make([]taxRow, 0, len(byRate))
	for _, tr := range byRate {
		out = append(out, tr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rate > out[j].rate })
	return out
}

// sums returns the breakdown's total base and total tax.
func sums(rows []taxRow) (float64, float64) {
	var b, a float64
	for _, r := range rows {
		b += r.base
		a += r.amount
	}
	return round2(b), round2(a)
}

var periodLabels = []label{
	lbl(`service\s*period|period\s*of\s*(?:service|supply|performance)|billing\s*period|invoic(?:e|ing)\s*period|flight\s*(?:dates?|period)|broadcast\s*(?:period|month|dates?)|air\s*dates?|schedule\s*dates?|campaign\s*(?:period|dates?)|delivery\s*period|rental\s*period|period`, 1, "eng"),
	lbl(`leistungszeitraum|abrechnungszeitraum|liefer(?:ungs)?zeitraum|leistungsperiode|abrechnungsperiode|zeitraum`, 1, "deu"),
	lbl(`période\s*de\s*(?:prestation|facturation|service|livraison)|période`, 1, "fra"),
	lbl(`periodo\s*de\s*(?:servicio|facturación|prestación)|periodo\s*di\s*(?:riferimento|fatturazione|competenza)|periodo`, 1, ""),
	lbl(`prestatieperiode|factuurperiode|periode`, 1, "nld"),
}

// dayLabels announce the single day of service or delivery (from = to).
var dayLabels = []label{
	lbl(`delivery\s*date|date\s*of\s*(?:supply|delivery|service)|service\s*date|ship(?:ping)?\s*date`, 0.8, "eng"),
	lbl(`leistungsdatum|lieferdatum|liefertag|leistungstag`, 0.8, "deu"),
	lbl(`date\s*de\s*(?:livraison|prestation)`, 0.8, "fra"),
	lbl(`fecha\s*de\s*(?:entrega|prestación)|data\s*(?:di\s*)?consegna`, 0.8, ""),
	lbl(`leverdatum|leveringsdatum`, 0.8, "nld"),
}

var reRangeSep = regexp.MustCompile(`(?i)^[\s:]*(?:-|–|—|to|bis|au|al|a|through|thru|until|tot|t/m|~)?[\s:]*$`)

// findServicePeriod reads a period announced by a period label (two dates joined by a
// dash or "to"/"bis"/"au"), or a single service or delivery day.
func (d *doc) findServicePeriod() (invoice.Period, float64) {
	for _, h := range d.findLabels(periodLabels) {
		for _, src := range d.sources(h) {
			ds := findDates(src.text, d.order)
			if len(ds) < 2 {
				continue
			}
			if strings.TrimSpace(strings.Trim(src.text[:ds[0].Start], " :.-")) != "" && len(strings.TrimSpace(src.text[:ds[0].Start])) > 6 {
				continue
			}
			if !reRangeSep.MatchString(src.text[ds[0].End:ds[1].Start]) {
				continue
			}
			if ds[1].Date < ds[0].Date {
				continue
			}
			return invoice.Period{From: ds[0].Date, To: ds[1].Date}, 0.85 * h.lab.weight * src.factor
		}
	}
	for _, c := range d.findDateField(dayLabels, nil) {
		return invoice.Period{From: c.str, To: c.str}, c.score * 0.8
	}
	return invoice.Period{}, 0
}

// refLabels announce references, by kind.
var refLabels = []struct {
	kind string
	l    label
}{
	{invoice.RefOrder, lbl(`purchase\s*order(?:\s*(?:no\.?|nr\.?|number|#))?|p\.?\s*o\.?\s*(?:no\.?|number|#)|po\s*#|customer\s*order(?:\s*(?:no\.?|number))?|your\s*order(?:\s*(?:no\.?|number|#))?|order\s*(?:no\.?|number|#|ref(?:erence)?)|bestell(?:nummer|-?\s*nr\.?)|bestellung\s*(?:nr\.?|nummer)|ihre\s*bestellung(?:\s*(?:nr\.?|nummer))?|auftrags?(?:nummer|-?\s*nr\.?)|bon\s*de\s*commande|(?:n°|no\.?|numéro)\s*(?:de\s*)?commande|commande\s*(?:n°|nº|no\.?)|votre\s*commande|(?:número\s*de\s*)?pedido(?:\s*n[º°o]\.?)?|(?:numero\s*)?ordine(?:\s*n[°.º]?)?|bestelnummer|inkoopordernummer|ordernummer|uw\s*bestelling|bestellung`, 1, "")},
	{invoice.RefOrder, lbl(`your\s*ref(?:erence)?|votre\s*r[ée]f(?:[ée]rence)?|ihre\s*referenz|ihr\s*zeichen|uw\s*referentie|su\s*referencia|vostro\s*riferimento`, 0.8, "")},
	{invoice.RefContract, lbl(`contract\s*(?:no\.?|nr\.?|number|#|id|ref(?:erence)?)?|agreement\s*(?:no\.?|number|#)|policy\s*(?:no\.?|number|#)|vertrags?(?:nummer|-?\s*nr\.?|konto)|vertrag|versicherungs(?:schein)?(?:nummer|-?\s*nr\.?)|policen?(?:nummer|-?\s*nr\.?)|(?:n°|numéro)\s*(?:de\s*)?(?:contrat|police)|contrat|contrato|contratto|contractnummer|polisnummer|r[ée]f\.?\s*(?:du\s*)?march[ée]|march[ée]\s*n°`, 1, "")},
	{invoice.RefDeliveryNote, lbl(`delivery\s*note(?:\s*(?:no\.?|number|#))?|packing\s*slip(?:\s*(?:no\.?|#))?|lieferschein(?:nummer|-?\s*nr\.?)?|bon\s*de\s*livraison|albar[aá]n|documento\s*di\s*trasporto|ddt|pakbon(?:nummer)?|afleverbon`, 1, "")},
	{invoice.RefCustomerNumber, lbl(`customer\s*(?:no\.?|nr\.?|number|#|id|account(?:\s*(?:no\.?|number))?)|client\s*(?:no\.?|number|#|id)|account\s*(?:no\.?|number|#)|advertiser\s*(?:no\.?|number|#|id|code)|kunden\s*-?\s*(?:nummer|nr\.?)|kd\.?\s*-?\s*nr\.?|(?:n°|numéro)\s*(?:de\s*)?client|code\s*client|référence\s*client|número\s*de\s*cliente|codice\s*cliente|klant(?:nummer|nr\.?)|debiteur(?:nummer|nr\.?)`, 1, "")},
}

// findReferences reads the references the document prints: orders, contracts, delivery
// notes and customer numbers. The invoice number is never one of them.
func (d *doc) findReferences(number string) []invoice.Reference {
	var out []invoice.Reference
	seen := map[string]bool{}
	for _, rl := range refLabels {
		for _, h := range d.findLabels([]label{rl.l}) {
			seg := d.rows[h.row].segs[h.seg].text
			after := seg[h.b:]
			if reRefNotValue.MatchString(after) {
				continue
			}
			// A bank account is not a customer account.
			if rl.kind == invoice.RefCustomerNumber && reBankContext.MatchString(seg[:h.a]) {
				continue
			}
			for _, src := range d.sources(h) {
				if src.how == "below" && !isLabelOnly(seg[h.a:]) && strings.TrimSpace(strings.Trim(after, ":.#")) != "" {
					break
				}
				v, _, _, ok := d.parseNumber(src.text)
				if !ok {
					continue
				}
				if eqID(v, number) || validate.CheckIBAN(v) {
					break
				}
				key := rl.kind + "\x00" + strings.ToUpper(v)
				if !seen[key] {
					seen[key] = true
					out = append(out, invoice.Reference{Kind: rl.kind, Value: v})
				}
				break
			}
		}
	}
	return out
}

var (
	reRefNotValue = regexp.MustCompile(`(?i)^\s*(?:date|datum|du\b|vom\b|from\b|del\b|type|art\b|terms|bedingungen|conditions)`)
	reBankContext = regexp.MustCompile(`(?i)(?:bank|iban|kto|konto)\W*$`)
)

// eqID compares two ids ignoring case and spaces.
func eqID(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	norm := func(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), "")) }
	return norm(a) == norm(b)
}

var (
	reIBAN       = regexp.MustCompile(`\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b`)
	reBICLabel   = regexp.MustCompile(`(?i)(?:^|[^\p{L}])(?:bic|swift)(?:\s*[/-]?\s*(?:swift|bic))?(?:\s*-?\s*code)?\s*[:.]?\s*([A-Z]{4}\s?[A-Z]{2}\s?[A-Z0-9]{2}(?:\s?[A-Z0-9]{3})?)\b`)
	reTermsLabel = regexp.MustCompile(foldAccents(`(?i)(?:^|[^\p{L}])(payment\s*terms?|terms\s*of\s*payment|terms|zahlungsbedingung(?:en)?|zahlungsziel|zahlungskonditionen|konditionen|conditions?\s*de\s*(?:paiement|règlement)|modalités\s*de\s*(?:paiement|règlement)|condiciones\s*de\s*pago|forma\s*de\s*pago|termini\s*di\s*pagamento|condizioni\s*di\s*pagamento|betalingsvoorwaarden|betalingstermijn|betalingsconditie)\s*:?`))
	reTermsText  = regexp.MustCompile(`(?i)(?:^|\W)(?:zahlbar|payable|fällig)\s*(?:bis|by|until|before|avant|am|on|innerhalb|within|sofort|immediately|sous|à|net)\b|(?:zahlbar|payable|payment\s*(?:is\s*)?due|due|pay|à\s*régler|payer|pagadero|pagabile|te\s*betalen|betaling)\b[^.;\n]{0,30}?\b(?:innerhalb|within|in|sous|à|en|entro|binnen)\b[^.;\n]{0,12}?\d{1,3}\s*(?:tagen|tage|days|jours|días|dias|giorni|dagen)|(?:^|\W)net\s*\d{1,3}(?:\s*days)?\b|\d{1,3}\s*(?:tage|days|jours|días|giorni|dagen)\s*(?:netto|net|nach|after|from|à\s*compter|fin\s*de\s*mois|date\s*de\s*facture)|(?:due|payable|zahlbar|fällig)\s*(?:on|upon|upon\s*the)?\s*(?:receipt|sofort|immediately)|sofort\s*(?:zahlbar|fällig)|sofort\s*ohne\s*abzug|à\s*réception`)
	reDays       = regexp.MustCompile(`(?i)(\d{1,3})\s*(?:tagen|tage|tg\.|days|jours|j\b|días|dias|giorni|gg\.?|dagen)|net\s*(\d{1,3})\b|netto\s*(\d{1,3})\b`)
	reImmediate  = regexp.MustCompile(`(?i)receipt|sofort|immediately|réception|upon\s*presentation|bei\s*erhalt`)
)

// findPayment reads the IBAN (the first whose mod-97 check passes), the BIC printed by
// a BIC/SWIFT label, the payment terms and their number of days.
func (d *doc) findPayment() (invoice.Payment, map[string]float64) {
	var p invoice.Payment
	conf := map[string]float64{}
	for _, r := range d.rows {
		if p.IBAN != "" {
			break
		}
		for _, s := range r.segs {
			for _, loc := range reIBAN.FindAllStringIndex(s.text, -1) {
				parts := strings.Fields(s.text[loc[0]:loc[1]])
				for n := len(parts); n >= 1 && p.IBAN == ""; n-- {
					v := strings.Join(parts[:n], "")
					if validate.CheckIBAN(v) {
						p.IBAN = validate.NormalizeIBAN(v)
						conf["invoice.payment.iban"] = layout.Clamp01(0.95 * (0.5 + 0.5*s.conf(loc[0], loc[1])))
					}
				}
				if p.IBAN != "" {
					break
				}
			}
		}
	}
	for _, r := range d.rows {
		if m := reBICLabel.FindStringSubmatch(r.text); m != nil {
			v := strings.ReplaceAll(m[1], " ", "")
			if validate.CheckBIC(v) {
				p.BIC = v
				conf["invoice.payment.bic"] = 0.85
				break
			}
		}
	}
	// Terms: a labelled value, else a sentence that states a term.
	for ri, r := range d.rows {
		if p.Terms != "" {
			break
		}
		for _, s := range r.segs {
			loc := reTermsLabel.FindStringSubmatchIndex(s.text)
			if loc == nil || strings.TrimSpace(s.text[:loc[2]]) != "" {
				continue
			}
			v := strings.TrimSpace(strings.TrimLeft(s.text[loc[1]:], " :"))
			if v == "" && ri+1 < len(d.rows) && d.rows[ri+1].page == r.page {
				// The value is to the right, or on the next row.
				if next := nextSegment(r, s); next != "" {
					v = next
				} else if reTermsText.MatchString(d.rows[ri+1].text) || reDays.MatchString(d.rows[ri+1].text) {
					v = strings.TrimSpace(d.rows[ri+1].segs[0].text)
				}
			}
			if v != "" && len(v) <= 160 && !isLabelOnly(v) {
				p.Terms = v
				conf["invoice.payment.terms"] = 0.8
				break
			}
		}
	}
	if p.Terms == "" {
		for _, r := range d.rows {
			for _, s := range r.segs {
				if len(s.text) <= 160 && mayStateTerms(s.text) && reTermsText.MatchString(s.text) {
					p.Terms = strings.TrimSpace(s.text)
					conf["invoice.payment.terms"] = 0.6
					break
				}
			}
			if p.Terms != "" {
				break
			}
		}
	}
	if p.Terms != "" {
		if m := reDays.FindStringSubmatch(p.Terms); m != nil {
			for _, g := range m[1:] {
				if n, err := strconv.Atoi(g); err == nil && g != "" {
					p.DueDays = &n
					break
				}
			}
		} else if reImmediate.MatchString(p.Terms) {
			zero := 0
			p.DueDays = &zero
		}
		if p.DueDays != nil {
			conf["invoice.payment.dueDays"] = conf["invoice.payment.terms"]
		}
	}
	return p, conf
}

// termsWords are the word stems one of which every reTermsText match holds: a cheap
// test before the expensive expression.
var termsWords = []string{"zahl", "pay", "due", "régl", "regl", "pag", "betal", "net", "tag", "day", "jour", "día", "dia", "giorn", "dag", "fäll", "fall", "sofort", "recei", "récep", "recep"}

func mayStateTerms(s string) bool {
	l := strings.ToLower(s)
	for _, w := range termsWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// nextSegment is the text of the segment right of s in r, or "".
func nextSegment(r row, s segment) string {
	for i := range r.segs {
		if r.segs[i].box.X0 > s.box.X1 {
			return strings.TrimSpace(r.segs[i].text)
		}
	}
	return ""
}

// findCustomerTaxID returns a tax id announced as the customer's (by its label or by
// standing in the customer's block) that is not the supplier's.
func (d *doc) findCustomerTaxID(cus party, supplierID string) (cand, bool) {
	var cs []cand
	sections := d.sectionRows()
	for ri, r := range d.rows {
		for si, s := range r.segs {
			for _, loc := range reTaxIDToken.FindAllStringIndex(s.text, -1) {
				tok := s.text[loc[0]:loc[1]]
				res, ok := checkTrimmed(tok)
				if !ok || res.Kind == validate.KindEIN {
					continue
				}
				before := rowBefore(r, si, loc[0], 40)
				if ri > 0 && strings.TrimSpace(before) == "" {
					before = d.rows[ri-1].text
				}
				if reBankBefore.MatchString(before) {
					continue
				}
				if eqID(res.Normalized, supplierID) {
					continue
				}
				sc := 0.0
				switch {
				case customerContext.MatchString(before):
					sc = 0.85
				case cus.rows[ri]:
					sc = 0.75
				case d.sectionAbove(ri, sections) == "customer":
					sc = 0.7
				default:
					continue
				}
				if res.HasChecksum && res.ChecksumOK {
					sc += 0.1
				}
				cs = append(cs, cand{str: res.Normalized, score: sc, conf: s.conf(loc[0], loc[1]), row: ri, how: "scan"})
			}
		}
	}
	return best(cs)
}

var (
	reEmail      = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	rePhoneLabel = regexp.MustCompile(foldAccents(`(?i)(?:^|[^\p{L}])(?:(?:tel(?:efon|ephone|éfono|efono)?|phone|fon|ph|téléphone|mobile|mob|handy)\.?\s*(?:no\.?|nr\.?|number)?\s*[:.]?|t\s*[:.])\s*(\+?\(?\d[\d\s()/.\-]{5,20}\d)`))
	reWebsite    = regexp.MustCompile(`(?i)\b(?:https?://)?www\.[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}(?:/[^\s,;]*)?|https?://[a-z0-9\-]+(?:\.[a-z0-9\-]+)+(?:/[^\s,;]*)?`)
	reWebLabel   = regexp.MustCompile(`(?i)(?:^|[^\p{L}])(?:web(?:site|seite)?|internet|homepage|url|site)\s*:?\s*([a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,})\b`)
)

// deliveryLabels open a delivery address block, whose contacts are the customer's.
var deliveryLabels = []label{
	lbl(`adresse\s*de\s*livraison|lieferadresse|lieferanschrift|delivery\s*address|shipping\s*address|ship\s*to|deliver\s*to|afleveradres|dirección\s*de\s*entrega|indirizzo\s*di\s*consegna`, 1, ""),
}

// findContacts reads the supplier's e-mail address, telephone number and website. The
// customer's block, and the rows under a customer or delivery address heading, are not
// the supplier's; an e-mail address in the website's domain is preferred. A fax number
// is not a telephone.
func (d *doc) findContacts(cus party) (email, phone, website string) {
	sections := map[int]string{}
	for k, v := range d.sectionRows() {
		sections[k] = v
	}
	for _, h := range d.findLabels(deliveryLabels) {
		if h.a <= 1 {
			sections[h.row] = "customer"
		}
	}
	theirs := func(ri int) bool { return cus.rows[ri] || d.sectionAbove(ri, sections) == "customer" }
	for ri, r := range d.rows {
		if theirs(ri) {
			continue
		}
		t := r.text
		if phone == "" {
			for _, m := range rePhoneLabel.FindAllStringSubmatchIndex(t, -1) {
				v := strings.TrimSpace(strings.TrimRight(t[m[2]:m[3]], " -/."))
				digits := 0
				for _, c := range v {
					if c >= '0' && c <= '9' {
						digits++
					}
				}
				if digits < 6 || digits > 15 {
					continue
				}
				phone = v
				break
			}
		}
		if website == "" {
			if m := reWebsite.FindString(t); m != "" && !strings.Contains(m, "@") {
				website = strings.TrimRight(m, ".")
			} else if m := reWebLabel.FindStringSubmatch(t); m != nil && !strings.Contains(t, "@"+m[1]) {
				website = m[1]
			}
		}
	}
	domain := strings.ToLower(website)
	if i := strings.Index(domain, "://"); i >= 0 {
		domain = domain[i+3:]
	}
	domain = strings.TrimPrefix(strings.SplitN(domain, "/", 2)[0], "www.")
	bestScore := -1
	for ri, r := range d.rows {
		for _, m := range reEmail.FindAllString(r.text, -1) {
			m = strings.TrimRight(m, ".")
			sc := 1
			if theirs(ri) {
				sc = 0
			}
			if domain != "" && strings.HasSuffix(strings.ToLower(m), "@"+domain) || domain != "" && strings.HasSuffix(strings.ToLower(m), "."+domain) {
				sc += 2
			}
			if sc > bestScore && sc > 0 {
				email, bestScore = m, sc
			}
		}
	}
	return email, phone, website
}

// rowBefore is up to n bytes of the row's text before byte a of segment si: the
// segment's own text and the segments left of it.
func rowBefore(r row, si, a, n int) string {
	parts := make([]string, 0, si+1)
	for k := 0; k < si; k++ {
		parts = append(parts, r.segs[k].text)
	}
	parts = append(parts, r.segs[si].text[:a])
	t := strings.Join(parts, "   ")
	if len(t) > n {
		t = t[len(t)-n:]
	}
	return t
}

// sectionRows maps the rows that open a party section ("Käufer:", "Bill to", "Seller")
// to "customer" or "supplier".
func (d *doc) sectionRows() map[int]string {
	if d.sections != nil {
		return d.sections
	}
	out := map[int]string{}
	defer func() { d.sections = out }()
	for _, set := range []struct {
		labels []label
		kind   string
	}{{supplierSectionLabels, "supplier"}, {customerSectionLabels, "customer"}} {
		for _, h := range d.findLabels(set.labels) {
			s := d.rows[h.row].segs[h.seg]
			lt := strings.ToLower(strings.TrimSpace(s.text[h.a:h.b]))
			if h.a > 1 || lt == "to" || lt == "from" || lt == "von" || lt == "attn" || lt == "attn." {
				continue
			}
			if _, ok := sectionRest(s.text[h.b:]); ok {
				out[h.row] = set.kind
			}
		}
	}
	return out
}

// sectionAbove is the kind of the nearest party section opened at most 12 rows above
// row ri on its page, or "".
func (d *doc) sectionAbove(ri int, sections map[int]string) string {
	for k := ri - 1; k >= 0 && k >= ri-12; k-- {
		if d.rows[k].page != d.rows[ri].page {
			return ""
		}
		if kind, ok := sections[k]; ok {
			return kind
		}
	}
	return ""
}
