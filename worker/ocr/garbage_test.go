package ocr

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"golang.org/x/image/font/gofont/goregular"

	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// garbageFixture is a one-page PDF of invoiceLines drawn with an embedded TrueType
// font whose characters are numbered by first use from 'A' and that has no ToUnicode
// map: it renders as the invoice, and pdftotext reads it as letter soup that passes
// usableText. Regenerate with: go test ./worker/ocr -run TestUpdateGarbageFixture -update
const garbageFixture = "testdata/garbage-layer.pdf"

func garbageLayerPDF() testdocs.TrueTypePDF {
	return testdocs.TrueTypePDF{TTF: goregular.TTF, FirstCode: 'A'}
}

func TestUpdateGarbageFixture(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata")
	}
	pdf, err := garbageLayerPDF().Build(invoiceLines)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(garbageFixture, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// linesOf turns text into layout lines of words, one line per input line.
func linesOf(text string) []layout.Line {
	var out []layout.Line
	for _, l := range strings.Split(text, "\n") {
		var ln layout.Line
		for _, w := range strings.Fields(l) {
			ln.Words = append(ln.Words, layout.Word{Text: w, Confidence: 1})
		}
		if len(ln.Words) > 0 {
			out = append(out, ln)
		}
	}
	return out
}

// shift maps every rune of s through f (a broken font's view of the text).
func shift(s string, f func(rune) rune) string { return strings.Map(f, s) }

func TestGarbageText(t *testing.T) {
	invoice := strings.Join(invoiceLines, "\n") + "\nPayment is due within thirty days of the invoice date.\n" +
		"Please quote the invoice number with your payment. Thank you for your business."
	german := "Rechnung Nr. RE-2024-0815 vom 12.03.2024\nLeistungsempfänger: Müller & Söhne GmbH, Hauptstraße 5, 80331 München\n" +
		"USt.-IdNr.: DE136695976  Pos. Bezeichnung Menge Einzelpreis Gesamtpreis\n1 Wartung der Heizungsanlage 2 Std. 85,00 170,00\n" +
		"Zwischensumme 170,00 EUR zzgl. 19% MwSt. 32,30 EUR Gesamtbetrag 202,30 EUR\nZahlbar innerhalb von 14 Tagen ohne Abzug. IBAN DE89 3704 0044 0532 0130 00"
	french := "Facture n° FA-2024-117 du 03/04/2024\nDésignation Quantité Prix unitaire HT Montant HT\nPrestation de conseil 3 450,00 1 350,00\n" +
		"Total HT 1 350,00 € TVA 20 % 270,00 € Total TTC 1 620,00 €\nÉchéance : 30 jours fin de mois. Pénalités de retard exigibles."
	rtl := "חשבונית מס מספר 2024-117 תאריך 12/03/2024\nלקוח: חברת האור בע\"מ סה\"כ לתשלום 1,170.00\n" +
		"فاتورة ضريبية رقم 4711 التاريخ 2024-03-12\nالمبلغ الإجمالي 1,250.00 ريال الضريبة 187.50 الإجمالي المستحق 1,437.50\n" +
		"Invoice 4711 Total 1,437.50 SAR"
	cjk := "增值税专用发票 发票号码：12345678 开票日期：2024年03月12日\n购买方名称：北京某某科技有限公司 纳税人识别号：91110108MA01ABCD2X\n" +
		"货物或应税劳务名称 规格型号 单位 数量 单价 金额 税率 税额\n*信息技术服务*软件开发 项 1 1000.00 1000.00 13% 130.00\n" +
		"价税合计（大写）壹仟壹佰叁拾圆整 （小写）￥1130.00\n請求書 株式会社サンプル 合計金額 ¥11,000（税込）"
	cyrillicGreek := "Счёт-фактура № 1234 от 12 марта 2024 г. Продавец: ООО «Ромашка», ИНН 7701234567\n" +
		"Наименование товара Количество Цена Сумма без НДС Итого к оплате 12 000,00 руб.\n" +
		"Τιμολόγιο Παροχής Υπηρεσιών Αριθμός 117 Ημερομηνία 12/03/2024 Σύνολο 1.240,00 ΦΠΑ 24%"
	numbers := strings.Repeat("1.234,56 7.890,12 00042 2024-03-12 19% 100.00 -5,00 (3.50)\n", 30)
	codes := strings.Repeat("QualityHosting iViveLabs McDonald GmbH USt.-Id.-Nr.: Art-Nr-Kunde Zu-/Abschlag m² DE136695976 INV-20417 BS1 4AB\n", 5)

	// Glyph ids of fonts in the Macintosh standard order are the ASCII code minus 29:
	// without a Unicode map, "Invoice" reads ",QYRLFH".
	glyphIDs := shift(invoice, func(r rune) rune {
		if r > ' '+29 {
			return r - 29
		}
		return r
	})
	privateUse := shift(invoice, func(r rune) rune {
		if r != ' ' && r != '\n' {
			return 0xE000 + r
		}
		return r
	})
	controls := shift(invoice, func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r - '0' + 1
		}
		return r
	})
	// Characters numbered by first use, read as Latin Extended letters.
	seen := map[rune]rune{}
	firstUse := shift(invoice+"\n"+german, func(r rune) rune {
		if r == ' ' || r == '\n' {
			return r
		}
		if c, ok := seen[r]; ok {
			return c
		}
		seen[r] = 0x100 + rune(len(seen))
		return seen[r]
	})
	// A broken map that swaps vowels for consonants: words of letters without vowels.
	noVowels := shift(german+"\n"+invoice, func(r rune) rune {
		if i := strings.IndexRune("aeiouäöüAEIOU", r); i >= 0 {
			return []rune("bcdfgjklmnpqrs")[i%14]
		}
		return r
	})
	randomCase := shift(invoice+"\n"+french, func() func(rune) rune {
		n := 0
		return func(r rune) rune {
			n++
			if n%2 == 0 {
				return unicode.ToUpper(r)
			}
			return unicode.ToLower(r)
		}
	}())
	mixedScripts := shift(invoice, func(r rune) rune {
		switch r {
		case 'o', 'O':
			return 'ж'
		case 'e', 'E':
			return 'ξ'
		case 'a', 'A':
			return 'א'
		}
		return r
	})
	symbols := shift(invoice, func(r rune) rune {
		if unicode.IsLetter(r) {
			return []rune("!#$%&*+<=>?@^~|")[int(r)%15]
		}
		return r
	})

	tests := []struct {
		name    string
		text    string
		garbage bool
	}{
		{"english invoice", invoice, false},
		{"german invoice", german, false},
		{"french invoice", french, false},
		{"hebrew and arabic with latin digits", rtl, false},
		{"chinese and japanese", cjk, false},
		{"cyrillic and greek", cyrillicGreek, false},
		{"numbers only", numbers, false},
		{"camel case, abbreviations and codes", codes, false},
		{"too little to judge", ",QYRLFH 7RWDO", false},
		{"glyph ids", glyphIDs, true},
		{"private use area", privateUse, true},
		{"control characters", controls, true},
		{"codes by first use", firstUse, true},
		{"words without vowels", noVowels, true},
		{"case changing every letter", randomCase, true},
		{"scripts mixed inside words", mixedScripts, true},
		{"symbols for letters", symbols, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			why, got := garbageText(linesOf(tt.text))
			if got != tt.garbage {
				t.Errorf("garbageText = %v (%s), want %v", got, why, tt.garbage)
			}
			if got && why == "" {
				t.Error("garbage without a reason")
			}
		})
	}
}

func TestXMLSafe(t *testing.T) {
	in := []byte("<word>a\x03b\xffc\x00</word>\n\t<x/>")
	got := string(xmlSafe(in))
	if want := "<word>a\uFFFDb\uFFFDc\uFFFD</word>\n\t<x/>"; got != want {
		t.Errorf("xmlSafe = %q, want %q", got, want)
	}
	clean := []byte("<word>Rechnung über 12,00 €</word>")
	if got := xmlSafe(clean); &got[0] != &clean[0] {
		t.Error("clean input was copied")
	}
}

// TestReadGarbageTextLayer reads PDFs whose text layers are garbage but whose pages
// render correctly: in auto mode they are read by OCR and the document says why; in
// text mode they are not passed off as text. The same page with a correct Unicode map
// stays a text layer.
func TestReadGarbageTextLayer(t *testing.T) {
	r := newTestReader(t)
	identity, err := testdocs.TrueTypePDF{TTF: goregular.TTF}.Build(invoiceLines)
	if err != nil {
		t.Fatal(err)
	}
	mapped, err := testdocs.TrueTypePDF{TTF: goregular.TTF, ToUnicode: true}.Build(invoiceLines)
	if err != nil {
		t.Fatal(err)
	}
	fixture, err := os.ReadFile(garbageFixture)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		pdf     []byte
		garbage bool
	}{
		{"codes by first use, no ToUnicode (fixture)", fixture, true},
		{"glyph ids, no ToUnicode", identity, true},
		{"glyph ids with ToUnicode", mapped, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "doc.pdf", tt.pdf)
			doc, err := r.Read(context.Background(), path, Options{DPI: 200})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			p := doc.Pages[0]
			words := docWords(doc)
			if rec := wordRecall(words, wantWords); rec < 0.8 {
				t.Errorf("word recall %.2f, want >= 0.8; words %q", rec, words)
			}
			if !tt.garbage {
				if p.Source != layout.SourceTextLayer || len(doc.Warnings) != 0 {
					t.Errorf("source %q, warnings %q: a correct text layer was refused", p.Source, doc.Warnings)
				}
				return
			}
			if p.Source != layout.SourceOCR {
				t.Errorf("page source = %q, want ocr (the text layer is garbage)", p.Source)
			}
			if len(doc.Warnings) != 1 || !strings.Contains(doc.Warnings[0], "page 1: the PDF text layer is not readable text") ||
				!strings.Contains(doc.Warnings[0], "read by OCR") {
				t.Errorf("warnings = %q, want one saying page 1 was read by OCR", doc.Warnings)
			}
			_, err = r.Read(context.Background(), path, Options{Mode: ModeText})
			if !errors.Is(err, ErrNoTextLayer) {
				t.Errorf("text mode: err = %v, want ErrNoTextLayer (the garbage is not text)", err)
			}
		})
	}
}

// TestGarbageFixtureIsGarbage checks the committed fixture against the tools: pdftotext
// finds letters in it but not the invoice's words, while the page renders as the
// invoice (TestReadGarbageTextLayer reads it back by OCR).
func TestGarbageFixtureIsGarbage(t *testing.T) {
	opts := Options{Timeout: DefaultTimeout, MaxPages: DefaultMaxPages, MemoryLimit: -1}
	text, err := readTextLayer(context.Background(), garbageFixture, opts)
	if err != nil {
		t.Fatal(err)
	}
	var words []string
	for _, l := range text[0].Lines {
		for _, w := range l.Words {
			words = append(words, w.Text)
		}
	}
	if !usableText(text[0].Lines) {
		t.Errorf("the fixture's layer fails usableText; it should pass it and be caught by garbageText only")
	}
	if rec := wordRecall(words, wantWords); rec > 0.1 {
		t.Errorf("pdftotext reads the fixture's words (recall %.2f): it is not garbage: %q", rec, words)
	}
	if why, bad := garbageText(text[0].Lines); !bad {
		t.Errorf("garbageText accepts the fixture: %q", words)
	} else {
		t.Logf("refused: %s", why)
	}
}

// TestGarbageTextDevSet scores every page of every PDF text layer among the dev
// invoices: none may be taken for garbage.
func TestGarbageTextDevSet(t *testing.T) {
	dir := sharedData(t)
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".pdf") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		t.Skip("no PDFs among the dev invoices")
	}
	opts := Options{Timeout: DefaultTimeout, MaxPages: DefaultMaxPages, MemoryLimit: -1}
	pages := 0
	worst := [4]float64{0, 0, 1, 0} // bad share, implausible share, vowel share, Latin Extended share
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		info, err := readPDFInfo(context.Background(), f, opts)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		text, err := readTextLayer(context.Background(), f, opts)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		// The text layer's pages stand in for pdfinfo's count and sizes (inspectPDF).
		if got := pdfFromText(text); got.Pages != info.Pages {
			t.Errorf("%s: %d pages from the text layer, pdfinfo says %d", rel, got.Pages, info.Pages)
		} else {
			for i := range got.Sizes {
				if dw, dh := got.Sizes[i][0]-info.Sizes[i][0], got.Sizes[i][1]-info.Sizes[i][1]; dw*dw+dh*dh > 1e-4 {
					t.Errorf("%s: page %d is %v from the text layer, pdfinfo says %v", rel, i+1, got.Sizes[i], info.Sizes[i])
				}
			}
		}
		for i, p := range text {
			var s textScore
			for _, l := range p.Lines {
				for _, w := range l.Words {
					s.add(w.Text)
				}
			}
			if why, bad := s.verdict(); bad {
				t.Errorf("%s page %d: real text layer taken for garbage: %s", rel, i+1, why)
			}
			if s.runes >= minGarbageEvidence {
				worst[0] = max(worst[0], float64(s.bad)/float64(s.runes))
				worst[1] = max(worst[1], float64(s.implausible)/float64(s.runes))
			}
			if s.latin >= minVowelLetters {
				worst[3] = max(worst[3], float64(s.extended)/float64(s.latin))
			}
			if s.alpha >= minVowelLetters {
				worst[2] = min(worst[2], float64(s.vowels)/float64(s.alpha))
			}
			pages++
		}
	}
	t.Logf("%d pages of %d PDFs; worst page: %.3f bad characters, %.3f in implausible words, %.2f vowels, %.2f Latin Extended",
		pages, len(files), worst[0], worst[1], worst[2], worst[3])
}

// BenchmarkGarbageText measures the score of one text-layer page of about 2,000
// characters (what the check adds to reading a PDF page from its text layer).
func BenchmarkGarbageText(b *testing.B) {
	lines := linesOf(strings.Repeat(strings.Join(invoiceLines, "\n")+"\n", 8))
	for b.Loop() {
		garbageText(lines)
	}
}
