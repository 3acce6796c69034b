package worker

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// TestProcessImageText: a born-digital invoice whose issuer block is a picture gets its
// supplier from that picture, whether the job holds the file or its bytes; with
// NoImageText, or when the text layer names a supplier, the picture is not read.
func TestProcessImageText(t *testing.T) {
	r := newProcessReader(t)
	stamp := testdocs.TextImage([]string{"Nordwind Handel GmbH", "USt-IdNr. DE811234567"}, 14, 150)
	at := [4]float64{56, 40, float64(stamp.Rect.Dx()) * 72 / 150, float64(stamp.Rect.Dy()) * 72 / 150}
	lines := []string{"", "", "", "", "", "",
		"Rechnung", "Rechnungsnummer: R-2024-118", "Rechnungsdatum: 03.05.2024", "",
		"An: Globex Corporation", "Market Street 5, 80331 Munich", "",
		"Nettobetrag: 100,00 EUR", "MwSt 19%: 19,00 EUR", "Gesamtbetrag: 119,00 EUR"}
	pdf := testdocs.PDF(testdocs.Page{Lines: lines, Stamp: stamp, StampAt: at})
	path := filepath.Join(t.TempDir(), "letterhead.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, in := range map[string]Input{"path": {Path: path}, "bytes": {Data: pdf, Name: "letterhead.pdf"}} {
		out, err := Process(ctx, r, in, Steps{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		s := out.Result.Data.Invoice.Supplier
		if s.TaxID != "DE811234567" || s.Name != "Nordwind Handel GmbH" {
			t.Errorf("%s: supplier %q, tax id %q; want them from the picture", name, s.Name, s.TaxID)
		}
		if n := out.Result.Data.Invoice.Number; n != "R-2024-118" {
			t.Errorf("%s: number %q", name, n)
		}
		if out.Info.Source != "text" {
			t.Errorf("%s: source %q", name, out.Info.Source)
		}
	}
	out, err := Process(ctx, r, Input{Path: path}, Steps{NoImageText: true})
	if err != nil {
		t.Fatal(err)
	}
	if s := out.Result.Data.Invoice.Supplier; s.TaxID != "" || len(out.Doc.Warnings) != 0 {
		t.Errorf("NoImageText: supplier %+v, warnings %q", s, out.Doc.Warnings)
	}
	// A text layer that names its supplier is not completed from pictures.
	named := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines, Stamp: stamp, StampAt: [4]float64{320, 400, at[2], at[3]}})
	out, err = Process(ctx, r, Input{Data: named, Name: "named.pdf"}, Steps{Read: ocr.Options{Mode: ocr.ModeText}})
	if err != nil {
		t.Fatal(err)
	}
	if s := out.Result.Data.Invoice.Supplier; s.TaxID != "DE136695976" || len(out.Doc.Warnings) != 0 {
		t.Errorf("named supplier: %+v, warnings %q", s, out.Doc.Warnings)
	}
}
