package ocr

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// letterheadPDF is a text-layer page whose issuer block is a picture: the supplier's
// name and VAT id exist only as pixels, at stampAt (points from the top left).
func letterheadPDF(t *testing.T) (string, [4]float64) {
	t.Helper()
	stamp := testdocs.TextImage([]string{"Nordwind Handel GmbH", "USt-IdNr. DE811234567"}, 14, 150)
	at := [4]float64{320, 40, float64(stamp.Rect.Dx()) * 72 / 150, float64(stamp.Rect.Dy()) * 72 / 150}
	pdf := testdocs.PDF(testdocs.Page{
		Lines: []string{"", "", "", "", "", "", "Rechnung Nr. R-2024-118", "Datum: 03.05.2024", "", "Gesamtbetrag: 119,00 EUR"},
		Stamp: stamp, StampAt: at,
	})
	return writeFile(t, "letterhead.pdf", pdf), at
}

func TestReadImageText(t *testing.T) {
	r := newTestReader(t)
	ctx := context.Background()
	path, at := letterheadPDF(t)
	doc, err := r.Read(ctx, path, Options{Mode: ModeText})
	if err != nil {
		t.Fatal(err)
	}
	before := docWords(doc)
	if slices.Contains(before, "DE811234567") {
		t.Fatalf("the text layer already holds the stamp's words: %q", before)
	}
	n, err := r.ReadImageText(ctx, path, doc, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	after := docWords(doc)
	for _, w := range []string{"Nordwind", "Handel", "GmbH", "DE811234567"} {
		if !slices.Contains(after, w) {
			t.Errorf("word %q not read from the image; words %q", w, after)
		}
	}
	if n != len(after)-len(before) || n < 4 {
		t.Errorf("added %d, words %d -> %d", n, len(before), len(after))
	}
	// Words the text layer has are painted out, not read twice.
	for _, w := range before {
		if c := count(after, w); c != count(before, w) {
			t.Errorf("text-layer word %q appears %d times after, %d before", w, c, count(before, w))
		}
	}
	// The new words sit where the image is, in the page's points.
	for _, l := range doc.Pages[0].Lines {
		for _, w := range l.Words {
			if w.Confidence == 1 {
				continue
			}
			b := w.Box
			if b.X0 < at[0]-2 || b.X1 > at[0]+at[2]+2 || b.Y0 < at[1]-2 || b.Y1 > at[1]+at[3]+2 {
				t.Errorf("word %q at %+v is outside the image %v", w.Text, b, at)
			}
		}
	}
	if len(doc.Warnings) != 1 || !strings.Contains(doc.Warnings[0], "printed as images") {
		t.Errorf("warnings %q", doc.Warnings)
	}
}

func TestReadImageTextNothingToRead(t *testing.T) {
	r := newTestReader(t)
	ctx := context.Background()
	plain := writeFile(t, "plain.pdf", testdocs.PDF(testdocs.Page{Lines: invoiceLines}))
	doc, err := r.Read(ctx, plain, Options{})
	if err != nil {
		t.Fatal(err)
	}
	lines := len(doc.Pages[0].Lines)
	before := r.readings.Load()
	if n, err := r.ReadImageText(ctx, plain, doc, 1, Options{}); n != 0 || err != nil {
		t.Errorf("a page without images: %d, %v", n, err)
	}
	if r.readings.Load() != before || len(doc.Pages[0].Lines) != lines {
		t.Error("a page without images was OCR'd")
	}
	if _, err := r.ReadImageText(ctx, plain, doc, 2, Options{}); err == nil {
		t.Error("page 2 of a one-page document: no error")
	}
	// A page read by OCR has no text layer to complete.
	scan := writeFile(t, "scan.pdf", testdocs.PDF(testdocs.Page{Image: renderText(invoiceLines, 100)}))
	sdoc, err := r.Read(ctx, scan, Options{DPI: 100})
	if err != nil {
		t.Fatal(err)
	}
	before = r.readings.Load()
	if n, err := r.ReadImageText(ctx, scan, sdoc, 1, Options{}); n != 0 || err != nil || r.readings.Load() != before {
		t.Errorf("an OCR page: %d, %v", n, err)
	}
}

func TestTextSizedImage(t *testing.T) {
	list := func(rows ...string) []byte {
		return []byte("page   num  type   width height color comp bpc  enc interp  object ID x-ppi y-ppi size ratio\n" +
			"--------------------------------------------------------------------------------------------\n" + strings.Join(rows, "\n"))
	}
	for _, tt := range []struct {
		out  []byte
		want bool
	}{
		{list(), false},
		{list("   1     0 image     796   289  rgb     3   8  jpeg   no         4  0   289   289 13.6K 2.0%"), true},
		{list("   1     0 image      12    12  gray    1   8  image  no         4  0    72    72  100B 50%"), false},
		{list("   1     0 image    2000    10  gray    1   8  image  no         4  0    72    72  100B 50%"), false},
		{list("   1     0 smask    796   289  gray    1   8  image  no         4  0   289   289 13.6K 2.0%"), false},
		{[]byte("garbage"), false},
	} {
		if got := textSizedImage(tt.out); got != tt.want {
			t.Errorf("%q: %v, want %v", tt.out, got, tt.want)
		}
	}
}

func count(words []string, w string) int {
	n := 0
	for _, x := range words {
		if x == w {
			n++
		}
	}
	return n
}
