package ocr

import (
	"strings"
	"unicode"
)

// Language detection decides, from the words of a first reading with the English model,
// whether a page is written in one of the other languages Tesseract has a model for,
// and so whether a second reading with that model is worth its cost. It is a cheap,
// deterministic count of function words, invoice vocabulary and letters with
// diacritics per language: the English model reads "Rechnung", "und" and "facture"
// correctly and usually drops the diacritics, so words are compared with their
// diacritics folded, and any diacritics it did keep count as extra evidence.

// langWords lists, per Tesseract language, words that are common on invoices in that
// language and rare in the others (folded: lower case, no diacritics). Words shared by
// several languages ("de", "la", "total") are left out: they say little.
var langWords = map[string][]string{
	"eng": {"the", "and", "of", "to", "for", "invoice", "bill", "amount", "due", "tax", "payment", "please",
		"thank", "you", "your", "number", "date", "description", "quantity", "qty", "price", "subtotal",
		"balance", "terms", "from", "with", "this", "is", "are", "by", "on", "at", "our", "customer", "order",
		"sales", "ship", "shipping", "paid", "account", "phone", "address", "within", "days", "unit", "each"},
	"deu": {"der", "die", "das", "und", "mit", "fur", "von", "zu", "den", "dem", "des", "ist", "sie", "wir",
		"bitte", "rechnung", "rechnungsnummer", "rechnungsdatum", "datum", "betrag", "gesamtbetrag", "summe",
		"mwst", "ust", "umsatzsteuer", "mehrwertsteuer", "steuer", "netto", "brutto", "zahlbar", "zahlung",
		"bis", "menge", "einzelpreis", "gesamt", "preis", "kunde", "kundennummer", "lieferung", "leistung",
		"strasse", "str", "gmbh", "bank", "uberweisung", "tage", "ohne", "abzug", "nr", "zzgl", "inkl",
		"pos", "bezeichnung", "artikel", "stuck", "vielen", "dank", "auftrag", "lieferschein", "seite"},
	"fra": {"le", "les", "des", "du", "et", "pour", "par", "sur", "au", "aux", "une", "est", "vous", "nous",
		"facture", "montant", "tva", "ht", "ttc", "prix", "quantite", "designation", "reglement", "paiement",
		"echeance", "client", "date", "numero", "total", "net", "payer", "sarl", "sas", "rue", "avenue",
		"conditions", "escompte", "penalites", "retard", "taux", "remise", "unitaire", "livraison", "merci",
		"commande", "siret", "capital", "banque"},
	"spa": {"el", "los", "las", "del", "y", "con", "para", "por", "una", "que", "factura", "importe",
		"iva", "cantidad", "precio", "descripcion", "fecha", "cliente", "numero", "base", "imponible",
		"nif", "cif", "pago", "vencimiento", "calle", "subtotal", "total", "forma", "unidad", "gracias",
		"pedido", "envio", "sl", "sa", "banco", "cuenta", "dias"},
	"ita": {"il", "lo", "gli", "di", "del", "della", "dei", "delle", "e", "con", "per", "da", "una", "che",
		"fattura", "importo", "iva", "imponibile", "quantita", "prezzo", "descrizione", "data", "cliente",
		"numero", "totale", "partita", "pagamento", "scadenza", "via", "srl", "spa", "codice", "fiscale",
		"aliquota", "sconto", "grazie", "ordine", "consegna", "giorni", "banca"},
	"nld": {"de", "het", "een", "en", "van", "voor", "met", "op", "is", "u", "uw", "wij", "factuur",
		"factuurnummer", "factuurdatum", "bedrag", "btw", "totaal", "subtotaal", "datum", "aantal", "prijs",
		"omschrijving", "klant", "klantnummer", "betaling", "betalen", "binnen", "dagen", "excl", "incl",
		"straat", "bv", "kvk", "rekening", "bedankt", "levering", "vervaldatum", "stuks"},
	"por": {"o", "os", "as", "do", "da", "dos", "das", "em", "no", "na", "com", "para", "por", "um", "uma",
		"fatura", "factura", "valor", "iva", "quantidade", "preco", "descricao", "data", "cliente", "numero",
		"contribuinte", "nif", "pagamento", "vencimento", "rua", "lda", "total", "obrigado", "encomenda",
		"entrega", "taxa", "desconto", "dias", "banco", "conta"},
}

// langLetters are letters with diacritics that, kept by the first reading, point to a
// language. Each occurrence counts letterWeight.
var langLetters = map[string]string{
	"deu": "äöüß",
	"fra": "éèêàçëîôùœ",
	"spa": "ñ¿¡áíóú",
	"ita": "ìò",
	"por": "ãõâ",
}

// Detection thresholds. A language other than English is chosen only when its words
// score at least minLangScore, at least langOverEnglish times English's score, and at
// least langOverRunnerUp times the next language's; anything less keeps English and
// costs no second reading.
const (
	minLangScore     = 6.0
	langOverEnglish  = 2.0
	langOverRunnerUp = 1.25
	// A kept letter with a diacritic counts this much for each language listing it.
	letterWeight = 0.5
)

// langIndex maps a folded word to the languages that list it.
var langIndex = func() map[string][]string {
	m := map[string][]string{}
	for _, l := range langOrder {
		for _, w := range langWords[l] {
			m[w] = append(m[w], l)
		}
	}
	return m
}()

// langOrder fixes the iteration order (ties go to the earlier language).
var langOrder = []string{"eng", "deu", "fra", "spa", "ita", "nld", "por"}

// langScores scores words (as read, any case, punctuation around them allowed) for
// every language of langOrder.
func langScores(words []string) map[string]float64 {
	s := map[string]float64{}
	for _, w := range words {
		for _, r := range strings.ToLower(w) {
			for l, letters := range langLetters {
				if strings.ContainsRune(letters, r) {
					s[l] += letterWeight
				}
			}
		}
		f := foldWord(w)
		if f == "" {
			continue
		}
		ls := langIndex[f]
		for _, l := range ls {
			// A word listed by several languages counts once in total, shared.
			s[l] += 1 / float64(len(ls))
		}
	}
	return s
}

// detectLanguage returns the Tesseract language that words (a first reading with the
// English model) are written in, and whether it is clearly not English.
func detectLanguage(words []string) (string, bool) {
	s := langScores(words)
	best, second := "", 0.0
	for _, l := range langOrder[1:] {
		switch {
		case best == "" || s[l] > s[best]:
			if best != "" {
				second = max(second, s[best])
			}
			best = l
		default:
			second = max(second, s[l])
		}
	}
	b := s[best]
	if b < minLangScore || b < langOverEnglish*s["eng"] || b < langOverRunnerUp*second {
		return "eng", false
	}
	return best, true
}

// foldWord lower-cases w, strips punctuation around it and folds letters with
// diacritics to their base letter (ß to "ss"); "" for a word without letters.
func foldWord(w string) string {
	w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) })
	if w == "" {
		return ""
	}
	var b strings.Builder
	for _, r := range strings.ToLower(w) {
		switch r {
		case 'ä', 'à', 'á', 'â', 'ã':
			b.WriteByte('a')
		case 'ö', 'ò', 'ó', 'ô', 'õ':
			b.WriteByte('o')
		case 'ü', 'ù', 'ú', 'û':
			b.WriteByte('u')
		case 'é', 'è', 'ê', 'ë':
			b.WriteByte('e')
		case 'í', 'ì', 'î', 'ï':
			b.WriteByte('i')
		case 'ç':
			b.WriteByte('c')
		case 'ñ':
			b.WriteByte('n')
		case 'ß':
			b.WriteString("ss")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
