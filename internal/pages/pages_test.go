package pages

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
	"github.com/ocrinvoice/ocrinvoice/worker/fetch"
)

// newRenderer is a Renderer over a fresh upload store; put stores a document in it and
// returns the Document to render.
func newRenderer(t testing.TB, maxCache int64) (*Renderer, func([]byte) Document) {
	t.Helper()
	store, err := uploads.New(filepath.Join(t.TempDir(), "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Options{Dir: filepath.Join(t.TempDir(), "pages"), MaxCacheBytes: maxCache,
		Fetcher: fetch.New(fetch.Options{Uploads: store})})
	if err != nil {
		t.Fatal(err)
	}
	return r, func(data []byte) Document {
		up, err := store.Put(context.Background(), bytes.NewReader(data), 0)
		if err != nil {
			t.Fatal(err)
		}
		return Document{URL: up.URL}
	}
}

func decodePNG(t testing.TB, p *Page) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(p.PNG))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img
}

func wantKind(t *testing.T, err error, kind apperr.Kind, msg string) {
	t.Helper()
	if apperr.KindOf(err) != kind || !strings.Contains(err.Error(), msg) {
		t.Fatalf("error %v, want %s saying %q", err, kind, msg)
	}
}

func gray(w, h int, fill func(x, y int) uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Pix[y*img.Stride+x] = fill(x, y)
		}
	}
	return img
}

// mean is the mean gray level of a rectangle of img.
func mean(img image.Image, r image.Rectangle) float64 {
	var sum, n float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			sum += float64(color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y)
			n++
		}
	}
	return sum / n
}

func TestTIFFPages(t *testing.T) {
	r, put := newRenderer(t, 0)
	white := gray(200, 100, func(int, int) uint8 { return 0xff })
	black := gray(100, 200, func(int, int) uint8 { return 0 })
	doc := put(encodeTIFF(white, black))
	p, err := r.Render(context.Background(), doc, 2, 50)
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, p)
	if b := img.Bounds(); b.Dx() != 50 || b.Dy() != 100 {
		t.Errorf("page 2 (100x200) at width 50 is %v, want 50x100", b)
	}
	if m := mean(img, img.Bounds()); m > 10 {
		t.Errorf("page 2 is black, got mean gray %.0f", m)
	}
	_, err = r.Render(context.Background(), doc, 3, 50)
	wantKind(t, err, apperr.KindNotFound, "the document has 2 pages")
}

func TestJPEGTurnedUprightByEXIF(t *testing.T) {
	r, put := newRenderer(t, 0)
	// Left half black, right half white; EXIF 6 asks for a quarter turn clockwise, which
	// puts the left half on top.
	src := gray(200, 100, func(x, _ int) uint8 {
		if x < 100 {
			return 0
		}
		return 0xff
	})
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, src, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	p, err := r.Render(context.Background(), put(withEXIFOrientation(buf.Bytes(), 6)), 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, p)
	if b := img.Bounds(); b.Dx() != 100 || b.Dy() != 200 {
		t.Fatalf("200x100 JPEG turned upright at width 100 is %v, want 100x200", b)
	}
	top, bottom := mean(img, image.Rect(0, 10, 100, 90)), mean(img, image.Rect(0, 110, 100, 190))
	if top > 30 || bottom < 225 {
		t.Errorf("top %.0f bottom %.0f: want the black half on top", top, bottom)
	}
}

// withEXIFOrientation inserts an APP1 EXIF segment with Orientation o after the SOI.
func withEXIFOrientation(jpg []byte, o uint16) []byte {
	bo := binary.BigEndian
	exif := []byte("Exif\x00\x00MM\x00*\x00\x00\x00\x08")
	exif = bo.AppendUint16(exif, 1)               // one entry
	exif = bo.AppendUint16(exif, 0x0112)          // Orientation
	exif = bo.AppendUint16(exif, 3)               // SHORT
	exif = bo.AppendUint32(exif, 1)               // count
	exif = append(bo.AppendUint16(exif, o), 0, 0) // value
	exif = bo.AppendUint32(exif, 0)               // no next IFD
	seg := append([]byte{0xFF, 0xE1}, bo.AppendUint16(nil, uint16(len(exif)+2))...)
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, exif...)
	return append(out, jpg[2:]...)
}

func TestCacheIsBounded(t *testing.T) {
	const limit = 40 << 10
	r, put := newRenderer(t, limit)
	doc := put(testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines}))
	ctx := context.Background()
	var last *Page
	for w := 200; w <= 600; w += 40 {
		p, err := r.Render(ctx, doc, 1, w)
		if err != nil {
			t.Fatal(err)
		}
		last = p
	}
	var total int64
	entries, _ := os.ReadDir(r.opts.Dir)
	for _, e := range entries {
		info, _ := e.Info()
		total += info.Size()
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	if total > limit {
		t.Errorf("cache holds %d bytes, over its limit of %d", total, limit)
	}
	if len(entries) >= 11 {
		t.Errorf("nothing was evicted: %d files", len(entries))
	}
	renders := r.Renders()
	again, err := r.Render(ctx, doc, 1, 600)
	if err != nil || !again.Cached || !bytes.Equal(again.PNG, last.PNG) {
		t.Errorf("the latest page is not served from the cache (cached %v, err %v)", again != nil && again.Cached, err)
	}
	if _, err := r.Render(ctx, doc, 1, 200); err != nil {
		t.Fatal(err)
	}
	if got := r.Renders(); got != renders+1 {
		t.Errorf("renders %d, want %d: the oldest page should have been evicted and drawn again", got, renders+1)
	}
}

func TestRenderRefusals(t *testing.T) {
	r, put := newRenderer(t, 0)
	ctx := context.Background()
	pdf := put(testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines}))
	_, err := r.Render(ctx, pdf, 0, 100)
	wantKind(t, err, apperr.KindInvalid, "starts at 1")
	_, err = r.Render(ctx, pdf, 1, MaxWidth+1)
	wantKind(t, err, apperr.KindInvalid, "2000")
	// A page count the job knows answers before anything is fetched.
	_, err = r.Render(ctx, Document{URL: "https://invoices.example.com/x.pdf", SHA256: strings.Repeat("0", 64), Pages: 2}, 3, 100)
	wantKind(t, err, apperr.KindNotFound, "the document has 2 pages")
	if r.Renders() != 0 {
		t.Error("a refused request rendered")
	}
	xml := put([]byte(`<?xml version="1.0"?><rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"/>`))
	_, err = r.Render(ctx, xml, 1, 100)
	wantKind(t, err, apperr.KindFailedPrecondition, "no pages")
	// A page ten times as tall as wide... is fine; fifty times is refused.
	tall := put(encodeTIFF(gray(10, 500, func(int, int) uint8 { return 0x80 })))
	_, err = r.Render(ctx, tall, 1, 100)
	wantKind(t, err, apperr.KindFailedPrecondition, "taller than wide")
	ctxDone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Render(ctxDone, pdf, 1, 321); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled request: %v", err)
	}
}

func TestParsePDFInfo(t *testing.T) {
	out := []byte("Title: x\nPages:           3\nPage    2 size: 612 x 792 pts (letter)\nPage    2 rot:  90\n")
	n, w, h := parsePDFInfo(out, 2)
	if n != 3 || w != 792 || h != 612 {
		t.Errorf("got %d pages, %gx%g; want 3, 792x612 (turned)", n, w, h)
	}
}

// encodeTIFF writes uncompressed 8-bit gray pages as one TIFF (as worker/ocr's tests do).
func encodeTIFF(pages ...*image.Gray) []byte {
	bo := binary.LittleEndian
	out := []byte("II*\x00\x00\x00\x00\x00")
	prevNext := 4
	for _, img := range pages {
		b := img.Bounds()
		stripOff := len(out)
		for y := 0; y < b.Dy(); y++ {
			out = append(out, img.Pix[y*img.Stride:y*img.Stride+b.Dx()]...)
		}
		if len(out)%2 == 1 {
			out = append(out, 0)
		}
		bo.PutUint32(out[prevNext:], uint32(len(out)))
		entries := [][3]uint32{
			{256, 4, uint32(b.Dx())}, {257, 4, uint32(b.Dy())}, {258, 3, 8}, {259, 3, 1}, {262, 3, 1},
			{273, 4, uint32(stripOff)}, {277, 3, 1}, {278, 4, uint32(b.Dy())}, {279, 4, uint32(b.Dx() * b.Dy())},
		}
		out = bo.AppendUint16(out, uint16(len(entries)))
		for _, e := range entries {
			out = bo.AppendUint16(out, uint16(e[0]))
			out = bo.AppendUint16(out, uint16(e[1]))
			out = bo.AppendUint32(out, 1)
			if e[1] == 3 {
				out = append(bo.AppendUint16(out, uint16(e[2])), 0, 0)
			} else {
				out = bo.AppendUint32(out, e[2])
			}
		}
		prevNext = len(out)
		out = bo.AppendUint32(out, 0)
	}
	return out
}

// BenchmarkRender measures a page drawn (fetch from the upload store, pdfinfo, pdftoppm,
// cache write) against the same page answered from the cache, at the default width.
func BenchmarkRender(b *testing.B) {
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	photo := gray(2480, 3508, func(x, y int) uint8 { return uint8(x ^ y) }) // A4 at 300 DPI
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, photo); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{{"pdf", pdf}, {"png-a4-300dpi", pngBuf.Bytes()}} {
		b.Run(tc.name+"/first", func(b *testing.B) {
			r, put := newRenderer(b, 1<<30)
			doc := put(tc.data)
			w := MinWidth
			for b.Loop() {
				// A new width each time: nothing is cached.
				w++
				if w > MaxWidth {
					w = MinWidth + 1
				}
				if _, err := r.Render(context.Background(), doc, 1, DefaultWidth-500+w%1000); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/cached", func(b *testing.B) {
			r, put := newRenderer(b, 1<<30)
			doc := put(tc.data)
			if _, err := r.Render(context.Background(), doc, 1, DefaultWidth); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				p, err := r.Render(context.Background(), doc, 1, DefaultWidth)
				if err != nil || !p.Cached {
					b.Fatalf("not cached: %v", err)
				}
			}
		})
	}
}

func TestDecodePPM(t *testing.T) {
	img, err := decodePPM([]byte("P6\n# drawn by poppler\n2 1\n255\n\x01\x02\x03\x04\x05\x06"))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 2 || img.Bounds().Dy() != 1 || img.Pix[4] != 4 || img.Pix[7] != 0xff {
		t.Errorf("decoded %v %v", img.Bounds(), img.Pix)
	}
	for _, bad := range []string{"", "P5\n1 1\n255\n\x00", "P6\n1 1\n65535\n\x00\x00\x00\x00\x00\x00", "P6\n2 2\n255\n\x00\x00\x00",
		"P6\n# only a comment", "P6\nx y\n255\n", "P6\n9999999999 9999999999\n255\n", "P6\n1 1\n255"} {
		if _, err := decodePPM([]byte(bad)); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

func TestRemoveDocuments(t *testing.T) {
	r, put := newRenderer(t, 0)
	ctx := context.Background()
	a := put(testdocs.PDF(testdocs.Page{Lines: []string{"Invoice A"}}))
	b := put(testdocs.PDF(testdocs.Page{Lines: []string{"Invoice B"}}))
	for _, w := range []int{100, 200} {
		for _, d := range []Document{a, b} {
			if _, err := r.Render(ctx, d, 1, w); err != nil {
				t.Fatal(err)
			}
		}
	}
	keyA, _ := uploads.KeyFromURL(a.URL)
	keyB, _ := uploads.KeyFromURL(b.URL)
	n, err := RemoveDocuments(r.opts.Dir, []string{keyA, "../../etc", "*"})
	if err != nil || n != 2 {
		t.Fatalf("removed %d (%v), want A's 2 pages", n, err)
	}
	left, _ := filepath.Glob(filepath.Join(r.opts.Dir, "*.png"))
	if len(left) != 2 || !strings.Contains(left[0], keyB) || !strings.Contains(left[1], keyB) {
		t.Errorf("left %v, want B's 2 pages", left)
	}
	before := r.Renders()
	if p, err := r.Render(ctx, a, 1, 100); err != nil || p.Cached || r.Renders() != before+1 {
		t.Errorf("A's page after removal: cached %v, err %v", p != nil && p.Cached, err)
	}
}

func TestRendersWaitForASlot(t *testing.T) {
	r, put := newRenderer(t, 0)
	doc := put(testdocs.PDF(testdocs.Page{Lines: []string{"Invoice S"}}))
	for range cap(r.slots) {
		r.slots <- struct{}{} // every slot busy
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := r.Render(ctx, doc, 1, 100); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("render without a free slot: %v, want the caller's deadline", err)
	}
	if r.Renders() != 0 {
		t.Fatal("rendered without a slot")
	}
	<-r.slots
	if _, err := r.Render(context.Background(), doc, 1, 100); err != nil || r.Renders() != 1 {
		t.Fatalf("render with a free slot: %v (renders %d)", err, r.Renders())
	}
}
