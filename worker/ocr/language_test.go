package ocr

import (
	"context"
	"image"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// germanInvoiceLines is a synthetic German invoice page with umlauts and ß.
var germanInvoiceLines = []string{
	"Müller & Söhne GmbH",
	"Hauptstraße 12, 80331 München",
	"",
	"Rechnung Nr. 2024-0417",
	"Rechnungsdatum: 14.03.2024",
	"Kunde: Bäckerei Größer, Schloßallee 3",
	"",
	"Pos  Bezeichnung             Menge   Betrag",
	"1    Kupferdraht für Zäune      12   240,00",
	"2    Schrauben aus Stahl       300    45,50",
	"",
	"Nettobetrag                          285,50",
	"zzgl. MwSt 19%                        54,25",
	"Gesamtbetrag                         339,75",
	"",
	"Zahlbar innerhalb von 14 Tagen ohne Abzug.",
	"Vielen Dank für Ihren Auftrag!",
}

// frenchInvoiceLines is a synthetic French invoice page with accents.
var frenchInvoiceLines = []string{
	"Société Générale des Fournitures",
	"12 rue de la Paix, 75002 Paris",
	"",
	"FACTURE N° F-2024-0417",
	"Date de facture : 14/03/2024",
	"Client : Boulangerie Hélène",
	"",
	"Désignation              Quantité   Montant",
	"Fil de cuivre                 12     240,00",
	"Boulons en acier             300      45,50",
	"",
	"Total HT                            285,50",
	"TVA 20 %                             57,10",
	"Total TTC                           342,60",
	"",
	"Règlement à réception de la facture.",
	"Pénalités de retard : trois fois le taux d'intérêt légal.",
}

func TestFoldWord(t *testing.T) {
	for in, want := range map[string]string{
		"Straße,": "strasse", "Müller": "muller", "(Facture)": "facture", "Désignation:": "designation",
		"Niño": "nino", "12,50": "", "MwSt.": "mwst",
	} {
		if got := foldWord(in); got != want {
			t.Errorf("foldWord(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDetectLanguage(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
		ok   bool
	}{
		{"english invoice", strings.Join(invoiceLines, "\n"), "eng", false},
		{"english letter", "Thank you for your order. Please pay the amount due within 30 days of the invoice date to our account.", "eng", false},
		{"english invoice from a German supplier",
			"Müller GmbH Hauptstraße 5 München Invoice number 17 Date 2024-03-01 Description Qty Unit price Amount " +
				"Subtotal Tax Total due Please pay within 14 days Thank you for your order", "eng", false},
		{"german read by the English model", "Muller & Sohne GmbH Hauptstrabe 12 Rechnung Nr. 2024-0417 Rechnungsdatum: 14.03.2024 " +
			"Pos Bezeichnung Menge Betrag Kupferdraht fur Zaune Nettobetrag zzgl. MwSt 19% Gesamtbetrag Zahlbar innerhalb von 14 Tagen ohne Abzug", "deu", true},
		{"german with umlauts", "Gesamtbetrag für Lieferung und Leistung, zahlbar ohne Abzug. Größe Stück Straße", "deu", true},
		{"french", "FACTURE N° 12 Date de facture Client Désignation Quantité Montant Total HT TVA 20 % Total TTC Règlement à réception de la facture", "fra", true},
		{"spanish", "FACTURA Nº 12 Fecha de factura Cliente Descripción Cantidad Precio Importe Base imponible IVA 21 % Total Forma de pago: transferencia a la cuenta del banco", "spa", true},
		{"italian", "FATTURA N. 12 Data della fattura Cliente Descrizione Quantità Prezzo Importo Imponibile IVA 22 % Totale Pagamento entro 30 giorni Codice fiscale Partita IVA", "ita", true},
		{"dutch", "FACTUUR Factuurnummer 12 Factuurdatum Klant Omschrijving Aantal Prijs Bedrag Subtotaal BTW 21 % Totaal Betaling binnen 14 dagen op rekening van de klant", "nld", true},
		{"portuguese", "FATURA N.º 12 Data da fatura Cliente Descrição Quantidade Preço Valor IVA 23 % Total Pagamento até ao vencimento na conta do banco Contribuinte NIF", "por", true},
		{"too few words", "Rechnung 12", "eng", false},
		{"numbers only", "12 240,00 45,50 285,50 54,25 339,75", "eng", false},
		{"empty", "", "eng", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := detectLanguage(strings.Fields(tt.text))
			if got != tt.want || ok != tt.ok {
				t.Errorf("detectLanguage = %q, %v, want %q, %v (scores %v)", got, ok, tt.want, tt.ok, langScores(strings.Fields(tt.text)))
			}
		})
	}
}

// readLanguage reads lines rendered at 300 DPI as a PNG and returns the document's
// language, its words and how many recognitions the reading took.
func readLanguage(t *testing.T, r *Reader, opts Options, pages ...[]string) (string, []string, int64) {
	t.Helper()
	var data []byte
	if len(pages) == 1 {
		data = encodePNG(t, renderText(pages[0], 300))
	} else {
		var imgs []*image.Gray
		for _, p := range pages {
			imgs = append(imgs, renderText(p, 300))
		}
		data = encodeTIFF(imgs...)
	}
	before := r.readings.Load()
	doc, err := r.ReadBytes(context.Background(), data, "page", opts)
	if err != nil {
		t.Fatal(err)
	}
	return doc.Language, docWords(doc), r.readings.Load() - before
}

func TestLanguageAwareOCR(t *testing.T) {
	r := newTestReader(t)
	umlauts := []string{"Müller", "Söhne", "Hauptstraße", "München", "Bäckerei", "Größer,", "Schloßallee", "für", "Zäune", "Gesamtbetrag"}

	t.Run("german", func(t *testing.T) {
		engLang, engWords, engN := readLanguage(t, r, Options{KeepLanguages: true}, germanInvoiceLines)
		lang, words, n := readLanguage(t, r, Options{}, germanInvoiceLines)
		if engLang != "eng" || lang != "deu" {
			t.Fatalf("languages: kept %q, detected %q, want eng and deu", engLang, lang)
		}
		engRecall, recall := wordRecall(engWords, umlauts), wordRecall(words, umlauts)
		t.Logf("umlaut words read: eng %.2f, deu %.2f; recognitions %d vs %d", engRecall, recall, engN, n)
		if recall < 0.9 || recall <= engRecall {
			t.Errorf("umlaut words: deu read %.2f (%v), eng %.2f, want >= 0.9 and better", recall, words, engRecall)
		}
		for _, w := range []string{"Müller", "Hauptstraße", "Gesamtbetrag"} {
			if !slices.Contains(words, w) {
				t.Errorf("%q not read: %v", w, words)
			}
		}
		if n != engN+1 {
			t.Errorf("recognitions: %d, want the eng reading's %d plus one", n, engN)
		}
	})

	t.Run("french", func(t *testing.T) {
		lang, words, _ := readLanguage(t, r, Options{}, frenchInvoiceLines)
		if lang != "fra" {
			t.Fatalf("language %q, want fra", lang)
		}
		for _, w := range []string{"Société", "Générale", "Désignation", "Quantité", "Règlement", "réception"} {
			if !slices.Contains(words, w) {
				t.Errorf("%q not read: %v", w, words)
			}
		}
	})

	t.Run("english", func(t *testing.T) {
		_, _, keptN := readLanguage(t, r, Options{KeepLanguages: true}, invoiceLines)
		lang, words, n := readLanguage(t, r, Options{}, invoiceLines)
		if lang != "eng" {
			t.Errorf("language %q, want eng", lang)
		}
		if n != keptN {
			t.Errorf("recognitions with detection %d, without %d: English must not be read twice", n, keptN)
		}
		if rc := wordRecall(words, wantWords); rc < 0.9 {
			t.Errorf("word recall %.2f: %v", rc, words)
		}
	})

	t.Run("explicit languages kept", func(t *testing.T) {
		lang, _, _ := readLanguage(t, r, Options{Languages: "eng+fra"}, germanInvoiceLines)
		if lang != "eng+fra" {
			t.Errorf("language %q, want the caller's eng+fra", lang)
		}
	})

	t.Run("german pages decided once", func(t *testing.T) {
		lang, words, n := readLanguage(t, r, Options{}, germanInvoiceLines, germanInvoiceLines, germanInvoiceLines)
		if lang != "deu" {
			t.Fatalf("language %q, want deu", lang)
		}
		if c := strings.Count(strings.Join(words, " "), "Hauptstraße"); c != 3 {
			t.Errorf("Hauptstraße read on %d of 3 pages: %v", c, words)
		}
		// Each page is read at most twice (eng, then deu) unless it needed a
		// fallback pass; at least one page is read twice (the one that decides).
		if n < 4 || n > 6 {
			t.Errorf("recognitions %d for 3 pages, want 4..6", n)
		}
	})
}

// TestSlotKeepsPreviousModel checks that a slot switching between two language sets
// keeps both models loaded instead of loading one again at every switch.
func TestSlotKeepsPreviousModel(t *testing.T) {
	s := newSlot(slog.New(slog.DiscardHandler), nil)
	defer s.close()
	use := func(langs string) {
		t.Helper()
		if err := s.useLanguages(langs); err != nil {
			t.Fatal(err)
		}
		if s.langs != langs {
			t.Fatalf("slot languages %q after useLanguages(%q)", s.langs, langs)
		}
	}
	use("eng")
	eng := s.client
	use("deu+eng")
	deu := s.client
	if deu == eng || s.spare != eng || s.spareLangs != "eng" {
		t.Fatalf("after deu+eng: the eng client is not kept as the spare")
	}
	use("eng")
	if s.client != eng || s.spare != deu {
		t.Fatalf("back to eng: the kept client is not reused")
	}
	use("fra+eng") // replaces the least recently used model (deu+eng)
	if s.client != deu || s.spare != eng || s.spareLangs != "eng" {
		t.Fatalf("fra+eng: did not replace the least recently used model")
	}
	// Both clients read with their own model.
	img := renderText([]string{"Société Générale", "Désignation Quantité"}, 300)
	res, err := s.recognize(img, Options{Languages: "fra+eng", MaxPixels: DefaultMaxPixels}, 300)
	if err != nil {
		t.Fatal(err)
	}
	var words []string
	for _, b := range res.boxes {
		words = append(words, b.Word)
	}
	if !slices.Contains(words, "Société") {
		t.Errorf("fra+eng reading lost the accents: %v", words)
	}
}

// TestLanguageFromTextLayer checks that a PDF whose other pages have a text layer takes
// its language from them: the scanned page is read once, directly in that language.
func TestLanguageFromTextLayer(t *testing.T) {
	r := newTestReader(t)
	textDE := []string{"Rechnung Nr. 2024-0417", "Rechnungsdatum: 14.03.2024", "Pos Bezeichnung Menge Betrag",
		"Nettobetrag 285,50", "zzgl. MwSt 19% 54,25", "Gesamtbetrag 339,75", "Zahlbar innerhalb von 14 Tagen ohne Abzug."}
	for _, tt := range []struct {
		name  string
		text  []string
		scan  []string
		want  string
		words []string
	}{
		{"german", textDE, germanInvoiceLines, "deu", []string{"Müller", "Hauptstraße", "Schloßallee"}},
		{"english", invoiceLines, invoiceLines, "eng", []string{"Harbour", "Subtotal"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pdf := writeFile(t, "mixed.pdf", buildPDF(t, pdfPage{lines: tt.text}, pdfPage{img: renderText(tt.scan, 300)}))
			n0 := r.readings.Load()
			doc, err := r.Read(context.Background(), pdf, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if doc.Pages[0].Source != "text" || doc.Pages[1].Source != "ocr" {
				t.Fatalf("page sources %q, %q, want text and ocr", doc.Pages[0].Source, doc.Pages[1].Source)
			}
			if doc.Language != tt.want {
				t.Errorf("language %q, want %q", doc.Language, tt.want)
			}
			if n := r.readings.Load() - n0; n != 1 {
				t.Errorf("%d recognitions, want 1: the language is known before the scanned page is read", n)
			}
			words := docWords(&layout.Document{Pages: doc.Pages[1:]})
			for _, w := range tt.words {
				if !slices.Contains(words, w) {
					t.Errorf("%q not read: %v", w, words)
				}
			}
		})
	}
}
