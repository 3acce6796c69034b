package ocr

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"strconv"
	"strings"
	"unicode"

	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// Text printed as pictures on a page that otherwise has a text layer: a letterhead or
// issuer block pasted in as a scan, a logo spelling the company name. The text layer
// does not hold it, so a born-digital invoice can miss its supplier entirely.
// ReadImageText reads it, and only it: the page is rasterised, every word the text
// layer already has is painted white, and what is left is OCR'd once.

// Limits of ReadImageText.
const (
	// minImageSide and minImageArea are the smallest embedded image (in its own
	// pixels) that can carry a line of text worth reading; smaller ones are icons,
	// bullets and rules.
	minImageSide = 16
	minImageArea = 64 * 64
	// imageTextMinConf drops words the OCR is unsure of: what is left on a masked page
	// besides pictures of text is lines, boxes and graphics, which Tesseract turns into
	// low-confidence letter soup.
	imageTextMinConf = 0.6
	// maskMargin widens each text-layer word's box when it is painted out, in pixels
	// at the reading DPI, so that anti-aliased edges of the glyphs go too.
	maskMargin = 2
)

// ReadImageText OCRs the text that page (1-based) of the PDF at path prints as images,
// and adds it to doc's page as lines of their own, in the page's units (points), with
// the OCR's word confidences. doc is the document Read gave for that PDF; the page must
// have been read from its text layer. It returns how many words were added: 0 when the
// page embeds no image large enough to hold text, or the images hold none. It costs a
// poppler listing of the page's images and, only when there is one, a rasterisation
// and one OCR reading of the page, so callers use it when the text layer leaves
// something out (worker.Process does when no supplier is found).
func (r *Reader) ReadImageText(ctx context.Context, path string, doc *layout.Document, page int, opts Options) (int, error) {
	opts, err := r.normalize(opts)
	if err != nil {
		return 0, err
	}
	if page < 1 || page > len(doc.Pages) {
		return 0, fmt.Errorf("read images of page %d: the document has %d pages", page, len(doc.Pages))
	}
	pg := &doc.Pages[page-1]
	if pg.Source != layout.SourceTextLayer || pg.Width <= 0 || pg.Height <= 0 {
		return 0, nil
	}
	has, err := hasTextSizedImage(ctx, path, page, opts)
	if err != nil || !has {
		return 0, err
	}
	scale := float64(opts.DPI) / 72
	w, h := pg.Width*scale, pg.Height*scale
	if w*h > float64(opts.MaxPixels) {
		return 0, fmt.Errorf("rasterise PDF page %d: %w: %.0fx%.0f pixels at %d DPI, the limit is %d",
			page, ErrTooLarge, w, h, opts.DPI, opts.MaxPixels)
	}
	img, err := rasterise(ctx, path, page, int64(w*h*1.1)+4096, opts)
	if err != nil {
		return 0, err
	}
	// The raster's own size decides the scale: pdftoppm rounds the page to pixels.
	sx := float64(img.Rect.Dx()) / pg.Width
	sy := float64(img.Rect.Dy()) / pg.Height
	var words []string
	for _, l := range pg.Lines {
		for _, wd := range l.Words {
			words = append(words, wd.Text)
			maskBox(img, wd.Box, sx, sy)
		}
	}
	o := opts
	if !opts.KeepLanguages && opts.Languages == DefaultLanguages {
		o.Languages = r.chooseLanguages(words, opts)
	}
	res, err := r.recognize(ctx, func(s *slot) (*ocrResult, error) { return s.recognize(img, o, opts.DPI) })
	if err != nil {
		return 0, fmt.Errorf("OCR images of PDF page %d: %w", page, err)
	}
	read := ocrPage(res, page)
	added := 0
	for _, l := range read.Lines {
		var keep []layout.Word
		for _, wd := range l.Words {
			if wd.Confidence < imageTextMinConf || !hasAlnum(wd.Text) {
				continue
			}
			b := layout.Box{X0: wd.Box.X0 / sx, Y0: wd.Box.Y0 / sy, X1: wd.Box.X1 / sx, Y1: wd.Box.Y1 / sy}
			if overlapsWords(pg.Lines, b) {
				continue
			}
			keep = append(keep, layout.Word{Text: wd.Text, Box: b, Confidence: wd.Confidence})
		}
		if len(keep) == 0 {
			continue
		}
		nl := layout.Line{Words: keep, Box: keep[0].Box}
		for _, wd := range keep[1:] {
			nl.Box = union(nl.Box, wd.Box)
		}
		pg.Lines = append(pg.Lines, nl)
		added += len(keep)
	}
	if added > 0 {
		doc.Warnings = append(doc.Warnings, fmt.Sprintf("page %d: %d words printed as images were read by OCR (%s)", page, added, o.Languages))
	}
	return added, nil
}

// hasTextSizedImage tells whether page embeds an image large enough to hold a line of
// text (pdfimages -list).
func hasTextSizedImage(ctx context.Context, path string, page int, opts Options) (bool, error) {
	p := strconv.Itoa(page)
	out, err := runTool(ctx, opts.Timeout, maxInfoOutput, opts.MemoryLimit, "pdfimages", "-list", "-f", p, "-l", p, path)
	if err != nil {
		return false, classifyPopplerError(fmt.Sprintf("list images of PDF page %d", page), err)
	}
	return textSizedImage(out), nil
}

// textSizedImage reads `pdfimages -list` output: page num type width height ...; masks
// and stencils (type "smask", "stencil") do not count.
func textSizedImage(out []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 || f[2] != "image" {
			continue
		}
		w, err1 := strconv.Atoi(f[3])
		h, err2 := strconv.Atoi(f[4])
		if err1 == nil && err2 == nil && w >= minImageSide && h >= minImageSide && w*h >= minImageArea {
			return true
		}
	}
	return false
}

// maskBox paints box (page units) white on img, scaled by sx, sy, with maskMargin.
func maskBox(img *image.Gray, b layout.Box, sx, sy float64) {
	r := image.Rect(int(b.X0*sx)-maskMargin, int(b.Y0*sy)-maskMargin, int(b.X1*sx+0.999)+maskMargin, int(b.Y1*sy+0.999)+maskMargin).Intersect(img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
		for i := range row {
			row[i] = 0xff
		}
	}
}

// overlapsWords tells whether b covers more than a third of a word already on the
// page (the OCR read a glyph the mask left an edge of).
func overlapsWords(lines []layout.Line, b layout.Box) bool {
	for _, l := range lines {
		if l.Box.X1 < b.X0 || l.Box.X0 > b.X1 || l.Box.Y1 < b.Y0 || l.Box.Y0 > b.Y1 {
			continue
		}
		for _, w := range l.Words {
			ix := min(w.Box.X1, b.X1) - max(w.Box.X0, b.X0)
			iy := min(w.Box.Y1, b.Y1) - max(w.Box.Y0, b.Y0)
			if ix <= 0 || iy <= 0 {
				continue
			}
			a := (b.X1 - b.X0) * (b.Y1 - b.Y0)
			if a <= 0 || ix*iy > a/3 {
				return true
			}
		}
	}
	return false
}

func hasAlnum(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}
