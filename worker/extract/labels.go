package extract

import (
	"regexp"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/worker/extract/vocab"
)

// label is one way a field is announced on a document, with how much a value found next
// to it can be trusted (0..1).
type label struct {
	re     *regexp.Regexp
	weight float64
	// immediate: only a value directly after the label on the same segment counts
	// (for short, ambiguous words such as "vom", "du", "date").
	immediate bool
	lang      string
}

// lbl compiles a case-insensitive label pattern that must stand as whole words.
// The label text is submatch 1.
func lbl(p string, w float64, lang string) label {
	return label{re: regexp.MustCompile(`(?i)(?:^|[^\p{L}\p{N}])(` + foldAccents(p) + `)(?:[^\p{L}]|$)`), weight: w, lang: lang}
}

// accentFolds are the spellings a letter with a diacritic takes on real documents:
// plain ASCII transliterations ("Kaeufer") and what OCR with an English model reads
// ("Kaufer", "fiir" for "für").
var accentFolds = map[rune][]string{
	'ä': {"ae", "a"}, 'ö': {"oe", "o"}, 'ü': {"ue", "u", "ii"}, 'ß': {"ss"},
	'é': {"e"}, 'è': {"e"}, 'ê': {"e"}, 'ë': {"e"}, 'à': {"a"}, 'â': {"a"}, 'á': {"a"},
	'ç': {"c"}, 'í': {"i"}, 'ì': {"i"}, 'î': {"i"}, 'ï': {"i"}, 'ó': {"o"}, 'ò': {"o"},
	'ô': {"o"}, 'ú': {"u"}, 'ù': {"u"}, 'û': {"u"}, 'ñ': {"n"},
}

// foldAccents rewrites a regular expression so that each accented letter also matches
// its folds: outside a character class "ä" becomes "(?:ä|ae|a)"; inside one the
// single-letter folds join the class.
func foldAccents(p string) string {
	var b strings.Builder
	inClass, escaped := false, false
	for _, r := range p {
		folds, ok := accentFolds[r]
		switch {
		case escaped:
			escaped = false
			b.WriteRune(r)
			continue
		case r == '\\':
			escaped = true
		case r == '[':
			inClass = true
		case r == ']':
			inClass = false
		}
		if !ok {
			b.WriteRune(r)
			continue
		}
		if inClass {
			b.WriteRune(r)
			for _, f := range folds {
				if len(f) == 1 {
					b.WriteString(f)
				}
			}
			continue
		}
		b.WriteString("(?:" + string(r))
		for _, f := range folds {
			b.WriteString("|" + f)
		}
		b.WriteString(")")
	}
	return b.String()
}

func imm(l label) label { l.immediate = true; return l }

var numberLabels = []label{
	lbl(`invoice\s*(?:no\.?|nr\.?|number|num\.?|#|n°|nº|id)`, 1, "eng"),
	lbl(`inv\.?\s*(?:no\.?|#)`, 0.9, "eng"),
	lbl(`(?:bill|receipt|document|doc\.?)\s*(?:no\.?|#|number|num\.?)`, 0.75, "eng"),
	lbl(`booking\s*(?:id|no\.?|number|ref(?:erence)?)`, 0.85, "eng"),
	// "Rechnung des Versicherers (575) Nr.": one word naming the issuer may stand between.
	lbl(`(?:handels|schluss|teil|abschlags)?(?:rechnung|gutschrift)(?:\s+(?:des|der)\s+\p{L}+)?(?:\s*\([^)]{0,40}\))*\s*(?:nr\.?|nummer|no\.?|#)`, 1, "deu"),
	lbl(`rechnungs-?\s?(?:nr\.?|nummer|no\.?)`, 1, "deu"),
	lbl(`(?:gutschrift|beleg)\s*-?\s*(?:nr\.?|nummer)`, 0.9, "deu"),
	lbl(`belegnummer|gutschriftsnummer`, 0.9, "deu"),
	lbl(`(?:facture|fact\.)\s*(?:n°|no\.?|nº|numéro|num\.?|#|n\s?o)`, 1, "fra"),
	lbl(`(?:n°|numéro|no\.?)\s*(?:de\s*)?facture`, 1, "fra"),
	lbl(`factura\s*(?:n[º°o]\.?|núm\.?|número|#)`, 1, "spa"),
	lbl(`(?:n[º°]|número|num\.?)\s*(?:de\s*)?factura`, 1, "spa"),
	lbl(`fattura\s*(?:n[°.º]?|num\.?|numero|#)`, 1, "ita"),
	lbl(`numero\s*(?:di\s*)?fattura`, 1, "ita"),
	lbl(`factuur\s*-?(?:nummer|nr\.?|no\.?|#)`, 1, "nld"),
	lbl(`(?:commercial\s*|tax\s*|proforma\s*)?invoice`, 0.55, "eng"),
	lbl(`(?:handels)?rechnung|gutschrift`, 0.5, "deu"),
	lbl(`facture|avoir`, 0.55, "fra"),
	lbl(`factura`, 0.55, "spa"),
	lbl(`fattura`, 0.55, "ita"),
	lbl(`factuur`, 0.55, "nld"),
}

// numberFallbackLabels announce what an insurer, landlord or utility bills under when the
// document has no invoice number label: policy, contract, account and statement numbers,
// a reference, and the customer number as a last resort. Their weights stay below those
// of the invoice number labels, so the number they give has a lower confidence.
var numberFallbackLabels = []label{
	lbl(`policy\s*(?:no\.?|nr\.?|number|#)|policen?\s*-?\s*(?:nummer|nr\.?)|versicherungs(?:schein)?\s*-?\s*(?:nummer|nr\.?)|vs-?nr\.?|(?:n°|nº|no\.?|numéro)\s*(?:de\s*)?police|police\s*(?:n°|nº|no\.?)`, 0.65, ""),
	lbl(`contract\s*(?:no\.?|nr\.?|number|#|id)|agreement\s*(?:no\.?|number|#)|lease\s*(?:no\.?|number|#)|(?:miet)?vertrags?\s*-?\s*(?:nummer|nr\.?)|vertragskonto(?:nummer|\s*-?\s*nr\.?)?|(?:n°|nº|no\.?|numéro)\s*(?:de\s*)?contrat|contrat\s*(?:n°|nº|no\.?)`, 0.62, ""),
	lbl(`(?:customer\s*)?(?:account|acct\.?)\s*(?:no\.?|nr\.?|number|#)|statement\s*(?:no\.?|nr\.?|number|#)|(?:n°|numéro)\s*(?:de\s*)?compte(?:\s*client)?|abrechnungs\s*-?\s*(?:nummer|nr\.?)`, 0.6, ""),
	lbl(`(?:payment\s*)?reference(?:\s*(?:no\.?|number|#))?|ref\.?\s*(?:no\.?|number|#)|referenz(?:nummer)?|r[ée]f[ée]rence`, 0.5, ""),
	lbl(`kunden\s*-?\s*(?:nummer|nr\.?)|kd\.?\s*-?\s*nr\.?|customer\s*(?:no\.?|nr\.?|number|#|id)|(?:n°|numéro)\s*(?:de\s*)?client`, 0.4, ""),
}

// reBankRow: a row about a bank account, whose "account number" is not the customer's.
var reBankRow = regexp.MustCompile(`(?i)\b(?:bank|iban|bic|swift|sort\s*code|routing|blz|kontoinhaber|bankverbindung)\b`)

var dateLabels = []label{
	lbl(`invoice\s*date|date\s*of\s*invoice|date\s*of\s*issue|issue\s*date|billing\s*date|bill\s*date|date\s*issued`, 1, "eng"),
	lbl(`issued\s*(?:at|on)`, 0.9, "eng"),
	lbl(`rechnungsdatum|belegdatum|datum\s*der\s*rechnung|ausstellungsdatum|rechnungs-\s?datum`, 1, "deu"),
	lbl(`date\s*(?:de\s*(?:la\s*)?)?facture|date\s*d['’]émission|date\s*de\s*facturation`, 1, "fra"),
	lbl(`fecha\s*(?:de\s*)?(?:la\s*)?(?:factura|emisión|expedición)`, 1, "spa"),
	lbl(`data\s*(?:della\s*)?(?:fattura|emissione)`, 1, "ita"),
	lbl(`factuurdatum|factuur\s*datum`, 1, "nld"),
	lbl(`date|datum|fecha|data|datum`, 0.6, ""),
	imm(lbl(`vom|du|del|van|dated|on`, 0.55, "")),
}

// dateNegative marks a date label or context that is about something other than the
// issue date.
var dateNegative = regexp.MustCompile(foldAccents(`(?i)(due|order|deliver|delivery|liefer|leistung|fällig|échéance|echeance|bestell|commande|auftrag|vencim|scaden|verval|period|zeitraum|check\s*(?:in|out)|payment|zahl|paiement|pago|prélèvement|skonto|geburt|birth|print|expir|until|bis|valid|ship|versand|exped|gemäß|gemäss|laut|bestellung|lieferschein|according|selon|conforme)`))

var dueLabels = []label{
	lbl(`due\s*date|date\s*due|payment\s*due(?:\s*date)?|due\s*(?:on|by)|pay(?:able)?\s*(?:until|by|before)|remit\s*(?:until|by)|payment\s*date`, 1, "eng"),
	lbl(`fällig(?:keit|keitsdatum)?(?:\s*am)?|zahlbar\s*(?:bis|am)|zahlungsziel|netto\s*bis|zahlungstermin|zu\s*zahlen\s*bis`, 1, "deu"),
	lbl(`date\s*d['’]échéance|échéance|date\s*limite\s*de\s*(?:paiement|règlement)|à\s*régler\s*avant\s*le|payable\s*(?:avant|le)`, 1, "fra"),
	lbl(`fecha\s*de\s*vencimiento|vencimiento`, 1, "spa"),
	lbl(`data\s*(?:di\s*)?scadenza|scadenza`, 1, "ita"),
	lbl(`vervaldatum|vervaldag|te\s*betalen\s*(?:voor|vóór|uiterlijk)`, 1, "nld"),
	// The due date in a sentence ("Bitte überweisen Sie den Betrag bis zum 28.11.2024",
	// "au plus tard le 20/11/2024", "please pay by 3 May 2024"): the words tie the date to
	// the payment, so that a period's "bis zum" is not read as one.
	lbl(`(?:betrag|summe|rechnung|(?:überweisen|zahlen|begleichen)\s+sie)\s+(?:bitte\s+)?(?:bis\s+spätestens|spätestens\s+bis|bis)(?:\s+zum)?`, 0.9, "deu"),
	lbl(`(?:paiement|régler|réglée?|payer|payée?|règlement|virement)[^.\d]{0,30}?(?:au\s*plus\s*tard|avant)(?:\s*le)?`, 0.9, "fra"),
	lbl(`please\s*(?:pay|remit)\s*(?:by|before|until|no\s*later\s*than)|(?:payment|paid)\s*(?:is\s*)?(?:due\s*)?(?:by|before|no\s*later\s*than)`, 0.9, "eng"),
}

var totalLabels = []label{
	lbl(`grand\s*total|total\s*ttc|montant\s*ttc|total\s*(?:amount\s*)?due|amount\s*due|balance\s*due|invoice\s*total|total\s*for\s*this\s*invoice|total\s*amount|total\s*payable|amount\s*payable|total\s*(?:incl\.?|including|inc\.?)(?:\s*(?:vat|tax|gst))?|total\s*sales\s*(?:\(?incl\w*\s*gst\)?)?|rounded\s*total|total\s*rounded|total\s*inclusive|nett\s*total|net\s*amount\s*due`, 1, "eng"),
	lbl(`bruttosumme|bruttobetrag|brutto|gesamtbetrag|rechnungsbetrag|rechnungssumme|endbetrag|gesamtsumme|gesamt\s*brutto|summe\s*brutto|bruttorechnungsbetrag|total\s*brutto`, 1, "deu"),
	lbl(`total\s*facture|montant\s*total`, 1, "fra"),
	// What is left to pay: the total unless a prepayment was made, so a stated total wins.
	lbl(`net\s*à\s*payer|total\s*à\s*payer|somme\s*à\s*payer|montant\s*à\s*payer`, 0.85, "fra"),
	lbl(`total\s*factura|importe\s*total|total\s*a\s*pagar`, 1, "spa"),
	lbl(`totale\s*(?:fattura|documento|da\s*pagare)|importo\s*totale`, 1, "ita"),
	lbl(`totaalbedrag|factuur\s*totaal|totaal\s*(?:incl\.?|inclusief)(?:\s*btw)?|te\s*betalen`, 1, "nld"),
	// A credit note's grand total.
	lbl(`total\s*credit|credit\s*(?:note\s*)?total|total\s*(?:of\s*)?(?:this\s*)?credit\s*note|credit\s*note\s*amount`, 1, "eng"),
	lbl(`gutschriftsbetrag|gutschriftbetrag|gutschriftssumme|gesamtgutschrift|gutschrift\s*gesamt|erstattungsbetrag`, 1, "deu"),
	lbl(`montant\s*(?:total\s*)?de\s*l['’]avoir|total\s*(?:de\s*l['’])?avoir|montant\s*de\s*l['’]avoir`, 1, "fra"),
	lbl(`gross\s*(?:amount|total|billing|invoice\s*amount)|total\s*gross|invoice\s*amount`, 0.9, "eng"),
	lbl(`gross`, 0.8, "eng"),
	lbl(`total|totaal|totale|summe|gesamt|zahlbetrag|zu\s*zahlen|due\s*payable|solde\s*à\s*payer|to\s*pay|amount`, 0.6, ""),
}

// amountDueLabels announce what is left to pay after deductions from the total.
var amountDueLabels = []label{
	lbl(`(?:total\s*)?amount\s*due|balance\s*due|total\s*due|net\s*(?:amount\s*)?due|net\s*payable|amount\s*payable|balance\s*payable|please\s*pay(?:\s*this\s*amount)?|pay\s*this\s*amount|amount\s*to\s*(?:be\s*)?pa(?:y|id)|to\s*pay|due\s*payable|remaining\s*(?:balance|amount)|amount\s*remaining|net\s*(?:due|to)\s*station|station\s*net|net\s*billing|balance\s*(?:owing|outstanding)`, 1, "eng"),
	lbl(`zahlbetrag|zu\s*zahlen(?:der\s*betrag)?|noch\s*zu\s*zahlen(?:der\s*betrag)?|restbetrag|offener\s*betrag|fälliger\s*betrag|auszahlungsbetrag|zahlbar|überweisungsbetrag`, 1, "deu"),
	lbl(`net\s*à\s*payer|reste\s*à\s*payer|montant\s*(?:net\s*)?à\s*payer|solde\s*(?:à\s*payer|dû)|total\s*à\s*payer|somme\s*à\s*payer|montant\s*dû`, 1, "fra"),
	lbl(`total\s*a\s*pagar|importe\s*a\s*pagar|líquido\s*a\s*pagar|a\s*pagar`, 1, "spa"),
	lbl(`totale\s*da\s*pagare|netto\s*a\s*pagare|da\s*pagare|saldo`, 1, "ita"),
	lbl(`te\s*betalen|openstaand\s*bedrag|nog\s*te\s*betalen|saldo`, 1, "nld"),
}

// dueNegative: text right after an amount-due label that makes it something else.
var dueNegative = regexp.MustCompile(`(?i)^[\s:]*(?:date|datum|on\b|by\b|am\b|bis\b|le\b|until|within|innerhalb|in\s*\d|days|tage)`)

// deductionLabels announce amounts taken off the invoice total: agency commission,
// discounts, prepayments and payments already made.
var deductionLabels = []label{
	lbl(`(?:less\s*)?(?:agency\s*)?commission|agency\s*comm\.?|less\s*(?:agency\s*)?(?:comm\.?|discount|payments?|deposit|credit)|a\.?\s*/?\s*c\.?\s*comm(?:ission)?|prepaid(?:\s*amount)?|prepayments?|amount\s*paid|paid\s*(?:amount|to\s*date)|payments?\s*(?:received|made|applied)|deposit\s*(?:paid|received)|advance\s*payments?|previous\s*(?:balance|payments?)|credits?\s*applied|(?:cash\s*|early\s*payment\s*)?discount`, 1, "eng"),
	lbl(`agenturprovision|ae-?\s*provision|mittlerprovision|provision|(?:erhaltene\s*|geleistete\s*)?anzahlung(?:en)?|vorauszahlung(?:en)?|abschlagszahlung(?:en)?|bereits\s*(?:gezahlt|bezahlt|geleistet|erhalten)(?:er\s*betrag)?|abzüglich|abzgl\.?|skonto|rabatt|gezahlter\s*betrag`, 1, "deu"),
	lbl(`commission(?:\s*d['’]agence)?|acomptes?(?:\s*versés?)?|déjà\s*(?:payé|réglé|versé)|avance|remise|escompte|montant\s*payé`, 1, "fra"),
	lbl(`anticipo|descuento|comisión|ya\s*pagado|importe\s*pagado`, 1, "spa"),
	lbl(`acconto|anticipo|sconto|provvigione|già\s*pagato|importo\s*pagato`, 1, "ita"),
	lbl(`aanbetaling|vooruitbetaling|korting|reeds\s*betaald|provisie`, 1, "nld"),
}

// totalNegative: text right after a "total" label that makes it something else.
var totalNegative = regexp.MustCompile(`(?i)^[\s:]*(?:ohne|netto|net\b|nett\b|excl|exkl|ht\b|hors|der\s|des\s|tax|vat|mwst|ust|tva|btw|gst\b|qty|quantity|items?\b|discount|rabatt|savings|weight|gewicht|pieces|stück|positionen|zuschl|abschl|articles|artikel|nombre|menge|anzahl|charges?\b|credits?\b|paid|bezahlt|anzahl|incl\.?\s*btw\s*€?\s*$)`)

// totalNegativeBefore: text right before a total label that makes it something else.
var totalNegativeBefore = regexp.MustCompile(`(?i)(?:sub|zwischen|netto|net|tax|vat|mwst|ust|steuer|tva|btw|teil|positions|waren|page|seiten|subtotal|items|qty|posten)[\s-]*$`)

var subtotalLabels = []label{
	lbl(`sub\s*-?\s*total|subtotaal|subtotale|net\s*total|total\s*net|net\s*amount|total\s*(?:excl\.?|excluding|before)\s*(?:vat|tax|gst)|total\s*before\s*tax|amount\s*untaxed|untaxed\s*amount|taxable\s*amount`, 1, "eng"),
	lbl(`nettobetrag|nettosumme|netto-?\s?summe|summe\s*netto|gesamt\s*netto|netto\s*gesamt|rechnungssumme\s*ohne\s*(?:ust|mwst)\.?|summe\s*ohne\s*(?:ust|mwst)|zwischensumme|gesamtbetrag\s*netto|warenwert\s*netto|nettowarenwert|total\s*netto|summe\s*positionen|netto`, 1, "deu"),
	lbl(`total\s*h\.?\s*t\.?|montant\s*h\.?\s*t\.?|total\s*hors\s*taxes?|sous-?\s*total|montant\s*net|base\s*ht`, 1, "fra"),
	lbl(`base\s*imponible|subtotal|importe\s*neto`, 1, "spa"),
	lbl(`imponibile|totale\s*imponibile|totale\s*netto`, 1, "ita"),
	lbl(`exclusief\s*btw|excl\.?\s*btw|totaal\s*excl\.?(?:\s*btw)?|subtotaal|netto\s*bedrag|grondslag|bedrag\s*excl\.?(?:\s*btw)?`, 1, "nld"),
	lbl(`positionssumme|warenwert|summe\s*der\s*positionen`, 0.6, "deu"),
}

var taxLabels = []label{
	lbl(`total\s*tax(?:es)?|tax\s*total|vat\s*total|total\s*vat|tax\s*amount|vat\s*amount|sales\s*tax|total\s*gst|gst\s*amount|gst\s*total`, 1, "eng"),
	lbl(`steuerbetrag|umsatzsteuerbetrag|mwst\.?-?\s*betrag|ust\.?-?\s*betrag|summe\s*(?:mwst|ust)\.?|mehrwertsteuer|umsatzsteuer|gesamt\s*(?:mwst|ust)|steuer`, 1, "deu"),
	lbl(`total\s*(?:tva|taxes)|montant\s*(?:de\s*la\s*)?tva|tva`, 1, "fra"),
	lbl(`total\s*iva|cuota\s*iva|importe\s*iva|iva`, 1, "spa"),
	lbl(`totale\s*iva|imposta|iva`, 1, "ita"),
	lbl(`btw\s*bedrag|totaal\s*btw|btw`, 1, "nld"),
	lbl(`tax|vat|gst|mwst\.?|ust\.?|sst`, 0.8, ""),
}

// taxNegative after a tax label: the label is about ids, rates or bases, not the amount.
var taxNegative = regexp.MustCompile(`(?i)^[\s.:]*(?:-?\s*id|-?\s*nr|-?\s*no\b|-?\s*n°|number|nummer|reg|code|identif|intra|ident|rate|satz|%?\s*(?:base|grondslag|basis)|summary|invoice|rechnung|\(\s*if|exempt|befreit|payée|acquitt|client|collect|inclu|incl|exclu|excl|registration|pflichtig|klasse)`)

var taxIDLabels = []label{
	lbl(`ust\.?\s*-?\s*id\.?\s*-?\s*(?:nr\.?)?|ust-?idnr\.?|ustid|umsatzsteuer-?\s*id(?:entifikationsnummer)?|vat\s*(?:id|no\.?|number|reg\.?(?:istration)?\s*(?:no\.?)?)|vat|tva(?:\s*intra(?:communautaire)?)?|n°\s*tva|btw(?:-?\s*(?:nummer|nr\.?|id))?|p\.?\s*iva|partita\s*iva|nif|cif|gstin|gst\s*(?:no\.?|reg\.?\s*no\.?|id)|abn|ein|tax\s*id|tin|uid(?:-?nr\.?)?|mwst-?nr\.?|steuer-?\s*(?:nr\.?|nummer)|siret|service\s*tax\s*#?`, 1, ""),
}

// customerContext: a tax id label or block announced as the customer's.
var customerContext = regexp.MustCompile(foldAccents(`(?i)(client|kunde|kunden|customer|käufer|buyer|acheteur|uw\s|your|votre|ihre|destinataire|empfänger|bill\s*to|cliente|klant|afnemer|nabywca|odbiorca)`))

var supplierSectionLabels = []label{
	lbl(`verkäufer|seller|supplier|lieferant|vendor|sold\s*by|fournisseur|vendeur|émetteur|proveedor|emisor|fornitore|cedente|leverancier|service\s*provider|rechnungssteller|sprzedawca|issuer|from|von|bill\s*from|invoice\s*from|absender|payee|remit\s*to`, 1, ""),
}

var customerSectionLabels = []label{
	lbl(`bill\s*to|billed\s*to|invoice\s*to|invoiced\s*to|sold\s*to|ship\s*to|deliver\s*to|customer|client|käufer|kunde|rechnungsempfänger|leistungsempfänger|empfänger|rechnungsadresse|rechnungsanschrift|facturé\s*à|facture\s*à|adresse\s*de\s*facturation|destinataire|cliente|facturar\s*a|fatturare\s*a|intestatario|destinatario|factuuradres|klant|afnemer|nabywca|odbiorca|billing\s*address|buyer|acheteur|guest\s*name|attn\.?|to`, 1, ""),
}

// nameLabel is "Name:" inside a party block.
var nameLabel = regexp.MustCompile(`(?i)^(?:name|nom|raison\s*sociale|firma|firmenname|nombre|nome|naam|company)\s*:?\s*`)

// companySuffix finds a legal form or company word that marks a line as a company name
// (vocab.LegalForms InName); the group is the form.
var companySuffix = regexp.MustCompile(`(?i)(?:^|[\s,])(` + vocab.LegalFormsWhere(func(f vocab.LegalForm) bool { return f.InName }) + `)(?:[\s,.)(]|$)`)

// isLabelOnly reports whether s is only a label (ends with a colon and holds no digits).
func isLabelOnly(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasSuffix(s, ":") && !strings.ContainsAny(s, "0123456789")
}

// langLabels are frequent words used to guess the document's language.
var langWords = map[string][]string{
	"deu": {"rechnung", "datum", "betrag", "summe", "menge", "steuer", "mwst", "ust", "zahlbar", "gesamt", "netto", "brutto", "und", "der", "die", "für", "bitte"},
	"fra": {"facture", "date", "montant", "total", "quantité", "tva", "prix", "payer", "règlement", "le", "la", "les", "des", "pour", "à"},
	"spa": {"factura", "fecha", "importe", "cantidad", "iva", "precio", "total", "el", "los", "las", "para", "pago"},
	"ita": {"fattura", "data", "importo", "quantità", "iva", "prezzo", "totale", "il", "della", "per", "pagamento"},
	"nld": {"factuur", "datum", "bedrag", "aantal", "btw", "prijs", "totaal", "de", "het", "van", "een", "voor", "betalen"},
	"eng": {"invoice", "date", "amount", "quantity", "total", "tax", "price", "the", "and", "for", "payment", "due", "bill"},
}

// detectLanguage returns the Tesseract code of the language whose frequent words occur
// most often in text.
func detectLanguage(text string) string {
	counts := map[string]int{}
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r > 127)
	}) {
		for lang, ws := range langWords {
			for _, x := range ws {
				if w == x {
					counts[lang]++
				}
			}
		}
	}
	best, n := "eng", 0
	for _, lang := range []string{"eng", "deu", "fra", "nld", "spa", "ita"} {
		if counts[lang] > n {
			best, n = lang, counts[lang]
		}
	}
	return best
}
