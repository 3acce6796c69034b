package ocr

import (
	"context"
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

func TestLogicalWord(t *testing.T) {
	tests := []struct{ visual, want string }{
		{"תינובשח", "חשבונית"},
		{`מ"עב`, `בע"מ`},
		{"ةروتاف", "فاتورة"},
		{"4711", "4711"},
		{"Invoice", "Invoice"},
		{"1,170.00", "1,170.00"},
		{"ח\"ש1,170.00", "1,170.00ש\"ח"},
		{"(םולש)", "(שלום)"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := logicalWord(tt.visual); got != tt.want {
			t.Errorf("logicalWord(%q) = %q, want %q", tt.visual, got, tt.want)
		}
	}
	if got := dropBidiMarks("\u202bשלום\u202c \u202a4711\u202c\u200f"); got != "שלום 4711" {
		t.Errorf("dropBidiMarks = %q", got)
	}
}

// TestReadRightToLeft reads a Hebrew page drawn right to left with an embedded font
// and a ToUnicode map: its text layer is used (real text, not garbage), its words and
// its page text are in reading order, without bidi marks.
func TestReadRightToLeft(t *testing.T) {
	ttf, err := os.ReadFile("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
	if err != nil {
		t.Skipf("DejaVu Sans not installed (apt-get install fonts-dejavu-core): %v", err)
	}
	lines := []string{
		`חברת האור בע"מ`,
		"רחוב הרצל 12, תל אביב",
		"חשבונית מס 4711",
		"תאריך 12/03/2024",
		"שירותי ייעוץ לחודש מרץ",
		`סה"כ לתשלום 1170.00`,
	}
	rtl := func(r rune) bool { return unicode.Is(unicode.Hebrew, r) }
	pdf, err := testdocs.TrueTypePDF{TTF: ttf, ToUnicode: true, RTL: rtl}.Build(lines)
	if err != nil {
		t.Fatal(err)
	}
	r := newTestReader(t)
	doc, err := r.Read(context.Background(), writeFile(t, "he.pdf", pdf), Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := doc.Pages[0]
	if p.Source != layout.SourceTextLayer || len(doc.Warnings) > 0 {
		t.Fatalf("source %q, warnings %q: a Hebrew text layer was refused", p.Source, doc.Warnings)
	}
	words := map[string]bool{}
	for _, w := range docWords(doc) {
		words[w] = true
	}
	for _, want := range []string{"חברת", "האור", `בע"מ`, "חשבונית", "4711", "12/03/2024", "1170.00", "ייעוץ"} {
		if !words[want] {
			t.Errorf("word %q missing from %q", want, docWords(doc))
		}
	}
	if strings.ContainsFunc(p.Text, isBidiMark) {
		t.Errorf("page text keeps bidi marks: %q", p.Text)
	}
	if !strings.Contains(p.Text, lines[0]) || !strings.Contains(p.Text, "חשבונית מס") {
		t.Errorf("page text not in reading order:\n%s", p.Text)
	}
}
