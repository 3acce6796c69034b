// Package testdocs renders small synthetic documents for tests: PDFs with a real text
// layer or with a scanned image and no text layer, and PDFs drawn with an embedded
// TrueType font (TrueTypePDF), and files embedded as e-invoices embed their XML
// (HybridPDF). It depends on the standard library, golang.org/x/image and the pure data
// types of internal/invoice only, so any package's tests may use it.
package testdocs

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// Page is one page of a hand-built PDF: text drawn in Helvetica (a real text layer), or
// an image covering the page (a scan without a text layer).
type Page struct {
	Lines []string    // text lines, 11 pt, 14 pt apart, from the top left
	Image *image.Gray // when set, the page is this image and nothing else
	// Stamp, with Lines, is an image drawn on the text page at StampAt (x, y, width,
	// height in points from the page's top left): text printed as a picture, such as
	// a letterhead pasted in.
	Stamp   *image.Gray
	StampAt [4]float64
}

// PDF writes a minimal, valid PDF 1.4 (612x792 pt pages) with a correct xref table.
func PDF(pages ...Page) []byte { return HybridPDF(nil, pages...) }

// File is a file embedded in a PDF (HybridPDF), as ZUGFeRD and Factur-X embed their
// invoice XML.
type File struct {
	Name string // the file specification's /F and /UF
	MIME string // the stream's /Subtype, e.g. "text/xml"; empty: none
	Data []byte // stored FlateDecode-compressed
}

// HybridPDF is PDF with files embedded: each one an /EmbeddedFile stream listed in the
// catalog's /Names /EmbeddedFiles tree and its /AF array (PDF/A-3 style).
func HybridPDF(files []File, pages ...Page) []byte {
	var objs []string // object bodies; object n is objs[n-1]
	add := func(body string) int { objs = append(objs, body); return len(objs) }
	catalog := add("") // filled below
	pagesObj := add("")
	font := add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	var kids []string
	for _, p := range pages {
		var content, res string
		if p.Image != nil {
			im := add(imageObject(p.Image))
			content = "q 612 0 0 792 0 0 cm /Im0 Do Q"
			res = fmt.Sprintf("<< /XObject << /Im0 %d 0 R >> >>", im)
		} else {
			var sb strings.Builder
			sb.WriteString("BT /F1 11 Tf 14 TL 56 740 Td\n")
			for _, l := range p.Lines {
				l = strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(l)
				fmt.Fprintf(&sb, "(%s) Tj T*\n", l)
			}
			sb.WriteString("ET")
			res = fmt.Sprintf("<< /Font << /F1 %d 0 R >> >>", font)
			if p.Stamp != nil {
				a := p.StampAt
				fmt.Fprintf(&sb, "\nq %g 0 0 %g %g %g cm /Im0 Do Q", a[2], a[3], a[0], 792-a[1]-a[3])
				res = fmt.Sprintf("<< /Font << /F1 %d 0 R >> /XObject << /Im0 %d 0 R >> >>", font, add(imageObject(p.Stamp)))
			}
			content = sb.String()
		}
		c := add(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content))
		pg := add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources %s /Contents %d 0 R >>", pagesObj, res, c))
		kids = append(kids, fmt.Sprintf("%d 0 R", pg))
	}
	var names, af []string
	for _, f := range files {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(f.Data)
		zw.Close()
		sub := ""
		if f.MIME != "" {
			sub = " /Subtype /" + strings.ReplaceAll(f.MIME, "/", "#2F")
		}
		ef := add(fmt.Sprintf("<< /Type /EmbeddedFile%s /Filter /FlateDecode /Params << /Size %d >> /Length %d >>\nstream\n%s\nendstream",
			sub, len(f.Data), z.Len(), z.String()))
		name := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(f.Name)
		spec := add(fmt.Sprintf("<< /Type /Filespec /F (%s) /UF (%s) /EF << /F %d 0 R /UF %d 0 R >> /AFRelationship /Alternative >>", name, name, ef, ef))
		names = append(names, fmt.Sprintf("(%s) %d 0 R", name, spec))
		af = append(af, fmt.Sprintf("%d 0 R", spec))
	}
	extra := ""
	if len(files) > 0 {
		extra = fmt.Sprintf(" /Names << /EmbeddedFiles << /Names [%s] >> >> /AF [%s]", strings.Join(names, " "), strings.Join(af, " "))
	}
	objs[catalog-1] = fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R%s >>", pagesObj, extra)
	objs[pagesObj-1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids))
	return RawPDF(catalog, objs)
}

// imageObject is img as a FlateDecode gray image XObject.
func imageObject(img *image.Gray) string {
	b := img.Bounds()
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	for y := 0; y < b.Dy(); y++ {
		row := (y+b.Min.Y-img.Rect.Min.Y)*img.Stride + (b.Min.X - img.Rect.Min.X)
		zw.Write(img.Pix[row : row+b.Dx()])
	}
	zw.Close()
	return fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream",
		b.Dx(), b.Dy(), z.Len(), z.String())
}

// TextImage draws lines in the Go Regular font at size points and dpi, black on white,
// with a margin of half a line: a picture of text, to embed with Page.Stamp.
func TextImage(lines []string, size float64, dpi int) *image.Gray {
	face, err := opentype.NewFace(goRegular, &opentype.FaceOptions{Size: size, DPI: float64(dpi), Hinting: font.HintingFull})
	if err != nil {
		panic(err)
	}
	defer face.Close()
	px := float64(dpi) / 72
	lineH := px * size * 1.5
	d := font.Drawer{Face: face}
	w := 0
	for _, l := range lines {
		w = max(w, d.MeasureString(l).Ceil())
	}
	img := image.NewGray(image.Rect(0, 0, w+int(lineH), int(lineH*float64(len(lines)+1))))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	d.Dst, d.Src = img, image.NewUniform(color.Black)
	for i, l := range lines {
		d.Dot = fixed.P(int(lineH/2), int(lineH*float64(i+1)))
		d.DrawString(l)
	}
	return img
}

var goRegular = func() *opentype.Font {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		panic(err)
	}
	return f
}()

// InvoiceLines is a small English invoice whose values tests can check:
// number INV-2024-0042, date 2024-03-15, due 2024-04-14, subtotal 200.00, tax 38.00,
// total 238.00 EUR, two line items.
var InvoiceLines = []string{
	"ACME Office Supplies GmbH",
	"Hauptstrasse 1, 10115 Berlin, Germany",
	"VAT ID: DE136695976",
	"",
	"INVOICE",
	"Invoice No.: INV-2024-0042",
	"Invoice Date: 15.03.2024",
	"Due Date: 14.04.2024",
	"",
	"Bill to:",
	"Globex Corporation",
	"Market Street 5, 80331 Munich",
	"",
	"Description          Qty    Unit Price     Amount",
	"Paper A4 box          4      25.00          100.00",
	"Toner cartridge       2      50.00          100.00",
	"",
	"Subtotal: 200.00 EUR",
	"VAT 19%: 38.00 EUR",
	"Total: 238.00 EUR",
}

// InvoiceData is the invoice InvoiceLines prints, as an EN 16931 e-invoice holds it
// (countries, VAT category, line tax rates), for tests that embed it as XML.
func InvoiceData() invoice.ExtractedData {
	f := invoice.Float
	return invoice.ExtractedData{
		Invoice: invoice.Invoice{
			Number: "INV-2024-0042", Date: "2024-03-15", DueDate: "2024-04-14", DocumentType: invoice.DocInvoice,
			Supplier:     invoice.Supplier{Name: "ACME Office Supplies GmbH", Address: "Hauptstrasse 1, 10115 Berlin", Country: "DE", TaxID: "DE136695976"},
			Customer:     invoice.Customer{Name: "Globex Corporation", Address: "Market Street 5, 80331 Munich", Country: "DE"},
			Amounts:      invoice.Amounts{Subtotal: f(200), Tax: f(38), Total: f(238), Currency: "EUR"},
			AmountDue:    f(238),
			TaxBreakdown: []invoice.TaxRate{{Rate: f(19), Base: f(200), Amount: f(38), Category: "S"}},
		},
		LineItems: []invoice.LineItem{
			{Description: "Paper A4 box", Quantity: f(4), UnitPrice: f(25), Amount: f(100), TaxRate: f(19), UnitCode: "C62"},
			{Description: "Toner cartridge", Quantity: f(2), UnitPrice: f(50), Amount: f(100), TaxRate: f(19), UnitCode: "C62"},
		},
	}
}

// RawPDF serialises object bodies as a PDF 1.4 file (object n is objs[n-1]) with a
// correct cross-reference table and a trailer naming object root as the catalog; for
// tests that build unusual documents (bombs, huge pages) object by object.
func RawPDF(root int, objs []string) []byte {
	var buf bytes.Buffer
	buf.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	offs := make([]int, len(objs))
	for i, body := range objs {
		offs[i] = buf.Len()
		fmt.Fprintf(&buf, "%d 0 obj\n%s\nendobj\n", i+1, body)
	}
	xref := buf.Len()
	fmt.Fprintf(&buf, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&buf, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&buf, "trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, root, xref)
	return buf.Bytes()
}
