package ocr

import (
	"context"
	"errors"
	"image"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// newTestReader returns a Reader with two slots, closed when the test ends.
func newTestReader(t testing.TB) *Reader {
	t.Helper()
	r, err := NewReader(Config{Slots: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		want string
		err  error
	}{
		{"pdf", []byte("%PDF-1.7\n"), FormatPDF, nil},
		{"pdf after junk", []byte("\x00\x00junk%PDF-1.4"), FormatPDF, nil},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00"), FormatPNG, nil},
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0}, FormatJPEG, nil},
		{"tiff little endian", []byte("II*\x00\x08\x00\x00\x00"), FormatTIFF, nil},
		{"tiff big endian", []byte("MM\x00*\x00\x00\x00\x08"), FormatTIFF, nil},
		{"bmp", append([]byte("BM"), make([]byte, 20)...), FormatBMP, nil},
		{"empty", nil, "", ErrEmpty},
		{"text", []byte("Invoice 42, total 10 EUR"), "", ErrUnsupported},
		{"gif", []byte("GIF89a"), "", ErrUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DetectFormat(tt.head)
			if !errors.Is(err, tt.err) {
				t.Fatalf("DetectFormat error = %v, want %v", err, tt.err)
			}
			if tt.err != nil && !errors.Is(err, ErrBadDocument) {
				t.Errorf("error %v does not wrap ErrBadDocument", err)
			}
			if got != tt.want {
				t.Errorf("DetectFormat = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestReadFormats reads the synthetic invoice in every format and checks the words,
// the page structure and the document information.
func TestReadFormats(t *testing.T) {
	r := newTestReader(t)
	page := renderText(invoiceLines, 200)
	sideways := rotateGray(page, 270) // stored turned; EXIF orientation 6 turns it back

	tests := []struct {
		name   string
		file   string
		data   []byte
		format string
		pages  int
		source layout.Source
		opts   Options
	}{
		{"png", "inv.png", encodePNG(t, page), FormatPNG, 1, layout.SourceOCR, Options{}},
		{"jpeg", "inv.jpg", encodeJPEG(t, page, 1), FormatJPEG, 1, layout.SourceOCR, Options{}},
		{"jpeg exif rotated", "inv.jpg", encodeJPEG(t, sideways, 6), FormatJPEG, 1, layout.SourceOCR, Options{NoAutoRotate: true}},
		{"bmp", "inv.bmp", encodeBMP(t, page), FormatBMP, 1, layout.SourceOCR, Options{}},
		{"tiff multi-page", "inv.tif", encodeTIFF(page, page), FormatTIFF, 2, layout.SourceOCR, Options{}},
		{"pdf text layer", "inv.pdf", buildPDF(t, pdfPage{lines: invoiceLines}), FormatPDF, 1, layout.SourceTextLayer, Options{}},
		{"pdf scanned", "scan.pdf", buildPDF(t, pdfPage{img: renderText(invoiceLines, 200)}), FormatPDF, 1, layout.SourceOCR, Options{DPI: 200}},
		{"pdf text layer forced ocr", "inv.pdf", buildPDF(t, pdfPage{lines: invoiceLines}), FormatPDF, 1, layout.SourceOCR, Options{Mode: ModeOCR}},
		{"declared type ignored", "inv.pdf", encodePNG(t, page), FormatPNG, 1, layout.SourceOCR, Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.file, tt.data)
			var calls []int
			var mu sync.Mutex
			tt.opts.Progress = func(done, total int) {
				mu.Lock()
				defer mu.Unlock()
				if total != tt.pages {
					t.Errorf("progress total = %d, want %d", total, tt.pages)
				}
				calls = append(calls, done)
			}
			doc, err := r.Read(context.Background(), path, tt.opts)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if doc.Format != tt.format || doc.Size != int64(len(tt.data)) || len(doc.Pages) != tt.pages {
				t.Fatalf("doc = format %q size %d pages %d, want %q %d %d", doc.Format, doc.Size, len(doc.Pages), tt.format, len(tt.data), tt.pages)
			}
			if len(calls) != tt.pages || calls[len(calls)-1] != tt.pages {
				t.Errorf("progress calls = %v, want 1..%d", calls, tt.pages)
			}
			for i, p := range doc.Pages {
				if p.Number != i+1 || p.Source != tt.source || p.Width <= 0 || p.Height <= 0 {
					t.Errorf("page %d: number %d source %q size %.0fx%.0f", i+1, p.Number, p.Source, p.Width, p.Height)
				}
				if p.Width > p.Height && tt.source == layout.SourceOCR {
					t.Errorf("page %d is %.0fx%.0f: not turned upright", i+1, p.Width, p.Height)
				}
				for _, l := range p.Lines {
					for _, w := range l.Words {
						if w.Confidence < 0 || w.Confidence > 1 || w.Box.X1 < w.Box.X0 || w.Box.Y1 < w.Box.Y0 ||
							w.Box.X0 < l.Box.X0 || w.Box.X1 > l.Box.X1 {
							t.Errorf("page %d word %q: bad box %+v in line %+v or confidence %v", i+1, w.Text, w.Box, l.Box, w.Confidence)
						}
					}
				}
				// Page.Text keeps the columns: the totals row has its label and its amount
				// on one line, separated by several spaces.
				if !strings.Contains(p.Text, "Total") || !containsRow(p.Text, "Total", "342.60") {
					t.Errorf("page %d text lacks the row \"Total ... 342.60\":\n%s", i+1, p.Text)
				}
			}
			words := docWords(doc)
			if got := wordRecall(words, repeat(wantWords, tt.pages)); got < 0.9 {
				t.Errorf("word recall %.2f < 0.9; words: %q", got, words)
			}
			if tt.source == layout.SourceOCR {
				if doc.Language != "eng" {
					t.Errorf("Language = %q, want eng", doc.Language)
				}
			}
		})
	}
}

func repeat(s []string, n int) []string {
	var out []string
	for range n {
		out = append(out, s...)
	}
	return out
}

// containsRow reports whether some line of text has a, then at least two spaces, then b.
func containsRow(text, a, b string) bool {
	for _, l := range strings.Split(text, "\n") {
		i := strings.Index(l, a)
		if i < 0 {
			continue
		}
		rest := l[i+len(a):]
		j := strings.Index(rest, b)
		if j >= 2 && strings.TrimSpace(rest[:j]) == "" {
			return true
		}
	}
	return false
}

// TestReadMixedPDF reads a PDF whose first page has a text layer and whose second is a
// scan: each page is read its own way, and ModeText leaves the scan empty.
func TestReadMixedPDF(t *testing.T) {
	r := newTestReader(t)
	path := writeFile(t, "mixed.pdf", buildPDF(t, pdfPage{lines: invoiceLines}, pdfPage{img: renderText(invoiceLines, 200)}))
	tests := []struct {
		mode    Mode
		sources []layout.Source
		lines   []bool // whether each page has lines
		dpi     int
	}{
		{ModeAuto, []layout.Source{layout.SourceTextLayer, layout.SourceOCR}, []bool{true, true}, 200},
		{ModeText, []layout.Source{layout.SourceTextLayer, layout.SourceTextLayer}, []bool{true, false}, 0},
		{ModeOCR, []layout.Source{layout.SourceOCR, layout.SourceOCR}, []bool{true, true}, 200},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			doc, err := r.Read(context.Background(), path, Options{Mode: tt.mode, DPI: 200})
			if err != nil {
				t.Fatal(err)
			}
			if len(doc.Pages) != 2 || doc.DPI != tt.dpi {
				t.Fatalf("pages %d DPI %d, want 2 and %d", len(doc.Pages), doc.DPI, tt.dpi)
			}
			for i, p := range doc.Pages {
				if p.Source != tt.sources[i] || (len(p.Lines) > 0) != tt.lines[i] {
					t.Errorf("page %d: source %q lines %d, want %q lines=%v", i+1, p.Source, len(p.Lines), tt.sources[i], tt.lines[i])
				}
			}
		})
	}
}

// TestAutoRotate turns the synthetic page sideways and upside down and expects it read
// upright.
func TestAutoRotate(t *testing.T) {
	r := newTestReader(t)
	page := renderText(invoiceLines, 200)
	for _, deg := range []int{90, 180, 270} {
		t.Run(string(rune('0'+deg/90)), func(t *testing.T) {
			path := writeFile(t, "rot.png", encodePNG(t, rotateGray(page, deg)))
			doc, err := r.Read(context.Background(), path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			p := doc.Pages[0]
			if p.Width > p.Height {
				t.Errorf("page read as %.0fx%.0f: still sideways", p.Width, p.Height)
			}
			if got := wordRecall(docWords(doc), wantWords); got < 0.9 {
				t.Errorf("turned %d degrees: word recall %.2f < 0.9:\n%s", deg, got, p.Text)
			}
		})
	}
}

// TestBadInput checks that every broken input fails fast with a document error naming
// the problem.
func TestBadInput(t *testing.T) {
	r := newTestReader(t)
	good := buildPDF(t, pdfPage{lines: invoiceLines})
	// A PNG signature and an IHDR chunk declaring 20000x20000 pixels, nothing else: the
	// header alone must be refused.
	bomb := pngHeader(20000, 20000)
	smallPNG := encodePNG(t, renderText([]string{"x"}, 50))
	encrypted, err := os.ReadFile("testdata/encrypted.pdf")
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	tests := []struct {
		name string
		file string
		data []byte
		opts Options
		want error
		msg  string
	}{
		{"empty file", "e.pdf", nil, Options{}, ErrEmpty, "empty"},
		{"text renamed pdf", "notes.pdf", []byte("Invoice 42\nTotal 10.00\n"), Options{}, ErrUnsupported, "unsupported"},
		{"truncated pdf", "t.pdf", good[:len(good)/3], Options{}, ErrBadDocument, ""},
		{"corrupt pdf", "c.pdf", append([]byte("%PDF-1.4\n"), bytes100("garbage ")...), Options{}, ErrCorrupt, "corrupt"},
		{"encrypted pdf", "enc.pdf", encrypted, Options{}, ErrEncrypted, "password"},
		{"png bomb header", "big.png", bomb, Options{}, ErrTooLarge, "20000x20000"},
		{"truncated png", "t.png", smallPNG[:len(smallPNG)/2], Options{}, ErrCorrupt, "corrupt"},
		{"truncated jpeg", "t.jpg", encodeJPEG(t, renderText(invoiceLines, 100), 1)[:400], Options{}, ErrCorrupt, "corrupt"},
		{"tiff loop", "l.tif", tiffLoop(), Options{}, ErrCorrupt, "loops"},
		{"pixel limit", "p.png", encodePNG(t, renderText(invoiceLines, 200)), Options{MaxPixels: 1000}, ErrTooLarge, "limit"},
		{"page limit", "two.tif", encodeTIFF(renderText([]string{"a"}, 50), renderText([]string{"b"}, 50)), Options{MaxPages: 1}, ErrTooLarge, "pages"},
		{"pdf page limit", "two.pdf", buildPDF(t, pdfPage{lines: invoiceLines}, pdfPage{lines: invoiceLines}), Options{MaxPages: 1}, ErrTooLarge, "pages"},
		{"image in text mode", "i.png", smallPNG, Options{Mode: ModeText}, ErrNoTextLayer, "text layer"},
		{"scan in text mode", "s.pdf", buildPDF(t, pdfPage{img: renderText(invoiceLines, 100)}), Options{Mode: ModeText}, ErrNoTextLayer, "text layer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.file, tt.data)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			doc, err := r.Read(ctx, path, tt.opts)
			if err == nil {
				t.Fatalf("Read succeeded with %d pages, want error %v", len(doc.Pages), tt.want)
			}
			if !errors.Is(err, tt.want) || !errors.Is(err, ErrBadDocument) {
				t.Fatalf("error %q: want %v wrapping ErrBadDocument", err, tt.want)
			}
			if !strings.Contains(strings.ToLower(err.Error()), tt.msg) {
				t.Errorf("error %q does not mention %q", err, tt.msg)
			}
			// ReadBytes must agree.
			if len(tt.data) > 0 {
				if _, err := r.ReadBytes(ctx, tt.data, tt.file, tt.opts); !errors.Is(err, tt.want) {
					t.Errorf("ReadBytes error %v, want %v", err, tt.want)
				}
			}
		})
	}
}

func bytes100(s string) []byte { return []byte(strings.Repeat(s, 100)) }

// pngHeader returns only a PNG signature and a valid IHDR chunk for a w x h RGB image.
func pngHeader(w, h uint32) []byte {
	ihdr := []byte("IHDR")
	ihdr = append(ihdr, byte(w>>24), byte(w>>16), byte(w>>8), byte(w), byte(h>>24), byte(h>>16), byte(h>>8), byte(h), 8, 2, 0, 0, 0)
	out := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d")
	out = append(out, ihdr...)
	c := crc32IEEE(ihdr)
	return append(out, byte(c>>24), byte(c>>16), byte(c>>8), byte(c))
}

// tiffLoop is a TIFF whose IFD points back to itself as the next page.
func tiffLoop() []byte {
	data := encodeTIFF(renderText([]string{"a"}, 50))
	off := uint32(data[4]) | uint32(data[5])<<8 | uint32(data[6])<<16 | uint32(data[7])<<24
	n := int(data[off]) | int(data[off+1])<<8
	next := int(off) + 2 + 12*n
	copy(data[next:], data[4:8])
	return data
}

func TestInvalidOptions(t *testing.T) {
	r := newTestReader(t)
	path := writeFile(t, "i.png", encodePNG(t, renderText([]string{"hello"}, 100)))
	tests := []struct {
		name string
		opts Options
	}{
		{"unknown language", Options{Languages: "klingon"}},
		{"empty language part", Options{Languages: "eng+"}},
		{"osd is not a language", Options{Languages: "osd"}},
		{"bad mode", Options{Mode: "fast"}},
		{"bad dpi", Options{DPI: 10}},
		{"bad psm", Options{PSM: 2}},
		{"negative pixels", Options{MaxPixels: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Read(context.Background(), path, tt.opts)
			if !errors.Is(err, ErrInvalidOptions) || errors.Is(err, ErrBadDocument) {
				t.Fatalf("error %v, want ErrInvalidOptions (and not a document error)", err)
			}
		})
	}
}

// TestLanguages reads German text with deu when the model is installed.
func TestLanguages(t *testing.T) {
	r := newTestReader(t)
	if !r.langs["deu"] {
		t.Skip("tesseract-ocr-deu is not installed")
	}
	lines := []string{"RECHNUNG NR. 2024-118", "Rechnungsdatum: 05.02.2024", "Gesamtbetrag: 1.234,56 EUR"}
	path := writeFile(t, "de.png", encodePNG(t, renderText(lines, 200)))
	doc, err := r.Read(context.Background(), path, Options{Languages: "deu+eng"})
	if err != nil {
		t.Fatal(err)
	}
	if doc.Language != "deu+eng" {
		t.Errorf("Language = %q", doc.Language)
	}
	want := []string{"RECHNUNG", "2024-118", "Rechnungsdatum:", "05.02.2024", "Gesamtbetrag:", "1.234,56", "EUR"}
	if got := wordRecall(docWords(doc), want); got < 0.85 {
		t.Errorf("recall %.2f: %q", got, docWords(doc))
	}
}

// TestCancel: a cancelled context stops a read promptly with the context's error.
func TestCancel(t *testing.T) {
	r := newTestReader(t)
	pages := make([]*image.Gray, 6)
	for i := range pages {
		pages[i] = renderText(invoiceLines, 200)
	}
	path := writeFile(t, "many.tif", encodeTIFF(pages...))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	_, err := r.Read(ctx, path, Options{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if errors.Is(err, ErrBadDocument) {
		t.Errorf("cancellation reported as a bad document: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled read took %v", d)
	}
}

// TestClose: Read after Close fails with ErrClosed; Close is idempotent.
func TestClose(t *testing.T) {
	r, err := NewReader(Config{Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, "i.png", encodePNG(t, renderText([]string{"hello world"}, 150)))
	if _, err := r.Read(context.Background(), path, Options{}); err != nil {
		t.Fatal(err)
	}
	r.Close()
	r.Close()
	if _, err := r.Read(context.Background(), path, Options{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Read after Close: %v, want ErrClosed", err)
	}
}
