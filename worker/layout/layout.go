// Package layout holds the positioned text of a read document: pages of words with
// boxes and confidences, as produced by worker/ocr (from a PDF text layer or from
// Tesseract) and consumed by worker/extract. It is pure Go and imports nothing of ours.
package layout

// Source says how a page's text was obtained.
type Source string

// Sources of page text.
const (
	SourceTextLayer Source = "text" // pdftotext
	SourceOCR       Source = "ocr"  // Tesseract
)

// Box is a rectangle in page coordinates (points for text layers, pixels for OCR;
// Page.Width/Height are in the same unit). X0,Y0 is the top-left corner.
type Box struct {
	X0, Y0, X1, Y1 float64
}

// Word is one word with its box and confidence in 0..1 (1 for text layers).
type Word struct {
	Text       string
	Box        Box
	Confidence float64
}

// Clamp01 returns v within 0..1, the range of a Confidence (NaN stays NaN).
func Clamp01(v float64) float64 {
	switch {
	case v < 0:
		return 0
	case v > 1:
		return 1
	}
	return v
}

// Line is a run of words that a reader sees as one line, left to right.
type Line struct {
	Words []Word
	Box   Box
}

// Text joins the line's words with single spaces.
func (l Line) Text() string {
	n := 0
	for _, w := range l.Words {
		n += len(w.Text) + 1
	}
	b := make([]byte, 0, n)
	for i, w := range l.Words {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, w.Text...)
	}
	return string(b)
}

// Page is one page of a document in reading order.
type Page struct {
	Number        int // 1-based
	Width, Height float64
	Source        Source
	Lines         []Line
	// Text is the page's plain text (lines joined by '\n', layout-preserving where the
	// reader offers it, e.g. `pdftotext -layout`). Templates match against it.
	Text string
}

// Document is everything read from one file.
type Document struct {
	Pages []Page
	// Format is the detected format: pdf, png, jpeg, tiff, bmp.
	Format string
	// Size is the file size in bytes.
	Size int64
	// DPI is the resolution the pages were read at (0 for pure text layers).
	DPI int
	// Language is the Tesseract language string used (e.g. "eng+deu") or detected.
	Language string
	// Warnings are notes from the reader about how pages were read, e.g. a PDF text
	// layer that was not real text and was replaced by OCR.
	Warnings []string
}
