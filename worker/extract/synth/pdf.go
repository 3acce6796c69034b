package synth

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// Font is one of the standard 14 PDF fonts used here, written with WinAnsiEncoding so
// that Latin-1 letters (umlauts, accents), the euro sign and typographic dashes and
// quotes render and come back from a text extractor.
type Font int

// Fonts.
const (
	Helvetica Font = iota
	HelveticaBold
	TimesRoman
	TimesBold
	Courier
	CourierBold
	numFonts
)

var fontNames = [numFonts]string{"Helvetica", "Helvetica-Bold", "Times-Roman", "Times-Bold", "Courier", "Courier-Bold"}

// Page sizes in points.
const (
	A4Width      = 595.28
	A4Height     = 841.89
	LetterWidth  = 612.0
	LetterHeight = 792.0
)

// PDF is a document under construction. Coordinates given to its pages are in points
// from the top-left corner of the page (y grows downwards); the writer converts them to
// PDF's bottom-up user space. The output depends only on the calls made: no dates, ids
// or compression, so the same calls give the same bytes.
type PDF struct {
	Title string
	pages []*Page
}

// Page is one page of a PDF.
type Page struct {
	W, H float64
	ops  bytes.Buffer
}

// NewPage adds a page of the given size.
func (d *PDF) NewPage(w, h float64) *Page {
	p := &Page{W: w, H: h}
	d.pages = append(d.pages, p)
	return p
}

// Pages returns the number of pages.
func (d *PDF) Pages() int { return len(d.pages) }

func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-" {
		return "0"
	}
	return s
}

// winAnsi maps the runes of WinAnsiEncoding (Windows-1252) to their bytes; others are '?'.
var winAnsiHigh = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88, '‰': 0x89,
	'Š': 0x8a, '‹': 0x8b, 'Œ': 0x8c, 'Ž': 0x8e, '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95,
	'–': 0x96, '—': 0x97, '˜': 0x98, '™': 0x99, 'š': 0x9a, '›': 0x9b, 'œ': 0x9c, 'ž': 0x9e, 'Ÿ': 0x9f,
}

func encodeWinAnsi(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 0x20 && r < 0x7f, r >= 0xa0 && r <= 0xff:
			out = append(out, byte(r))
		case winAnsiHigh[r] != 0:
			out = append(out, winAnsiHigh[r])
		default:
			out = append(out, '?')
		}
	}
	return out
}

// TextWidth is the width in points of s set in font at size.
func TextWidth(font Font, size float64, s string) float64 {
	var tab *[224]uint16
	switch font {
	case Helvetica:
		tab = &helveticaWidths
	case HelveticaBold:
		tab = &helveticaBoldWidths
	case TimesRoman:
		tab = &timesRomanWidths
	case TimesBold:
		tab = &timesBoldWidths
	}
	w := 0.0
	for _, b := range encodeWinAnsi(s) {
		if tab == nil {
			w += 600
		} else if b >= 32 {
			w += float64(tab[b-32])
		}
	}
	return w * size / 1000
}

func pdfString(s string) string {
	var b strings.Builder
	b.WriteByte('(')
	for _, c := range encodeWinAnsi(s) {
		switch c {
		case '(', ')', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			if c >= 0x80 {
				fmt.Fprintf(&b, "\\%03o", c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte(')')
	return b.String()
}

// Text draws s with its baseline at (x, y).
func (p *Page) Text(x, y float64, font Font, size float64, s string) {
	if s == "" {
		return
	}
	fmt.Fprintf(&p.ops, "BT /F%d %s Tf %s %s Td %s Tj ET\n", font+1, num(size), num(x), num(p.H-y), pdfString(s))
}

// TextRight draws s so that it ends at x.
func (p *Page) TextRight(x, y float64, font Font, size float64, s string) {
	p.Text(x-TextWidth(font, size, s), y, font, size, s)
}

// TextCenter draws s centred on x.
func (p *Page) TextCenter(x, y float64, font Font, size float64, s string) {
	p.Text(x-TextWidth(font, size, s)/2, y, font, size, s)
}

// Line draws a line of width w.
func (p *Page) Line(x1, y1, x2, y2, w float64) {
	fmt.Fprintf(&p.ops, "%s w %s %s m %s %s l S\n", num(w), num(x1), num(p.H-y1), num(x2), num(p.H-y2))
}

// Rect draws a rectangle with its top-left corner at (x, y): filled with grey level
// fill (0 black .. 1 white) when fill >= 0, outlined with width stroke when stroke > 0.
func (p *Page) Rect(x, y, w, h, fill, stroke float64) {
	if fill >= 0 {
		fmt.Fprintf(&p.ops, "q %s g %s %s %s %s re f Q\n", num(fill), num(x), num(p.H-y-h), num(w), num(h))
	}
	if stroke > 0 {
		fmt.Fprintf(&p.ops, "%s w %s %s %s %s re S\n", num(stroke), num(x), num(p.H-y-h), num(w), num(h))
	}
}

// Bytes writes the document: catalog, page tree, the fonts, one content stream per
// page (uncompressed, so the bytes do not depend on a compressor), the cross-reference
// table and the trailer.
func (d *PDF) Bytes() []byte {
	var b bytes.Buffer
	var offsets []int
	obj := func(body string) int {
		offsets = append(offsets, b.Len())
		n := len(offsets)
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, body)
		return n
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	// Object numbers: 1 catalog, 2 page tree, 3 info, 4.. fonts, then per page: page, content.
	firstFont := 4
	firstPage := firstFont + int(numFonts)
	var kids []string
	for i := range d.pages {
		kids = append(kids, fmt.Sprintf("%d 0 R", firstPage+2*i))
	}
	obj("<< /Type /Catalog /Pages 2 0 R >>")
	obj(fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(d.pages)))
	obj(fmt.Sprintf("<< /Title %s /Producer (ocrinvoice synth) >>", pdfString(d.Title)))
	var fonts []string
	for i, name := range fontNames {
		obj(fmt.Sprintf("<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>", name))
		fonts = append(fonts, fmt.Sprintf("/F%d %d 0 R", i+1, firstFont+i))
	}
	for _, p := range d.pages {
		n := len(offsets) + 1
		obj(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] /Resources << /Font << %s >> >> /Contents %d 0 R >>",
			num(p.W), num(p.H), strings.Join(fonts, " "), n+1))
		obj(fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", p.ops.Len(), p.ops.String()))
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(offsets)+1)
	for _, o := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offsets)+1, xref)
	return b.Bytes()
}
