package ocr

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// zlibOf deflates b at the best compression.
func zlibOf(t testing.TB, b []byte) []byte {
	t.Helper()
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

// zlibRepeat deflates n copies of chunk without holding them in memory.
func zlibRepeat(t testing.TB, chunk []byte, n int) []byte {
	t.Helper()
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	for range n {
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}

// rawPDF writes a PDF from object bodies (object n is objs[n-1], 1 the catalog) with a
// correct xref table.
func rawPDF(objs ...string) []byte {
	return testdocs.RawPDF(1, objs)
}

// onePage is a one-page PDF (mediaBox) whose content stream is the given stream object.
func onePage(mediaBox, contentObj string) []byte {
	return rawPDF(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox ["+mediaBox+"] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
		contentObj,
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	)
}

func streamObj(dict string, data []byte) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

// tiffHeader is a little-endian TIFF whose only IFD declares w x h 8-bit gray pixels and
// holds none of them.
func tiffHeader(w, h uint32) []byte {
	bo := binary.LittleEndian
	out := []byte("II*\x00\x08\x00\x00\x00")
	entries := [][3]uint32{{256, 4, w}, {257, 4, h}, {258, 3, 8}, {259, 3, 1}, {262, 3, 1}, {273, 4, 8}, {277, 3, 1}, {278, 4, h}, {279, 4, w * h}}
	out = appendIFDEntries(out, entries)
	return bo.AppendUint32(out, 0)
}

// bmpHeader declares a w x h 24-bit BMP with no pixels.
func bmpHeader(w, h int32) []byte {
	bo := binary.LittleEndian
	out := []byte("BM")
	out = bo.AppendUint32(out, 54)
	out = bo.AppendUint32(out, 0)
	out = bo.AppendUint32(out, 54)
	out = bo.AppendUint32(out, 40)
	out = bo.AppendUint32(out, uint32(w))
	out = bo.AppendUint32(out, uint32(h))
	out = bo.AppendUint16(out, 1)
	out = bo.AppendUint16(out, 24)
	return append(out, make([]byte, 24)...)
}

// jpegHeader is SOI, a JFIF APP0 and a baseline SOF0 declaring w x h gray pixels, and
// no pixel data.
func jpegHeader(w, h uint16) []byte {
	out := []byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00}
	out = append(out, 0xFF, 0xC0, 0x00, 0x0B, 0x08)
	out = binary.BigEndian.AppendUint16(out, h)
	out = binary.BigEndian.AppendUint16(out, w)
	return append(out, 0x01, 0x01, 0x11, 0x00, 0xFF, 0xD9, 0, 0, 0, 0, 0, 0, 0, 0)
}

// TestHostileDocuments: decompression bombs and documents declaring absurd sizes fail
// at once with a permanent ErrTooLarge (or another document error), within bounded time
// and memory: nothing is decoded before the limits are checked, and no tool runs for
// long.
func TestHostileDocuments(t *testing.T) {
	r, err := NewReader(Config{Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	// 1 GiB of blanks, deflated twice: about 5 KB that poppler would parse for seconds
	// per GiB (minutes for a bigger one).
	spaces := zlibOf(t, zlibRepeat(t, bytes.Repeat([]byte(" "), 1<<20), 1<<10))
	// 1 GiB of text-showing operators, deflated twice.
	ops := zlibOf(t, zlibRepeat(t, bytes.Repeat([]byte("(AAAAAAAAAAAAAAAA) Tj "), 1<<16), 1<<10))
	pages := func(n int) []byte {
		kids := make([]string, n)
		objs := []string{"<< /Type /Catalog /Pages 2 0 R >>", ""}
		for i := range n {
			kids[i] = fmt.Sprintf("%d 0 R", i+3)
			objs = append(objs, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>")
		}
		objs[1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n)
		return rawPDF(objs...)
	}
	lyingCount := rawPDF(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 100000000 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
	)
	blank := streamObj("", []byte("q Q"))
	hugeImage := rawPDF(
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im0 5 0 R >> >> /Contents 4 0 R >>",
		streamObj("", []byte("q 612 0 0 792 0 0 cm /Im0 Do Q")),
		streamObj("/Type /XObject /Subtype /Image /Width 200000 /Height 200000 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode",
			zlibRepeat(t, make([]byte, 1<<20), 4)),
	)
	cases := []struct {
		name string
		data []byte
		opts Options
		want string
	}{
		{"flate bomb of blanks (two layers)", onePage("0 0 612 792", streamObj("/Filter [/FlateDecode /FlateDecode]", spaces)), Options{}, "decompression bomb guard"},
		{"flate bomb of text operators", onePage("0 0 612 792", streamObj("/Filter [/FlateDecode /FlateDecode]", ops)), Options{Mode: ModeOCR}, "decompression bomb guard"},
		{"flate bomb under the abbreviated filter name", onePage("0 0 612 792", streamObj("/Filter [/Fl /Fl]", spaces)), Options{}, "decompression bomb guard"},
		{"image declaring 200000x200000 pixels", hugeImage, Options{}, "200000x200000"},
		{"1,000 pages", pages(1000), Options{}, "1000 pages, the limit is 200"},
		{"page count of 100,000,000", lyingCount, Options{}, ""},
		{"page of 14400x14400 pt to rasterise", onePage("0 0 14400 14400", blank), Options{Mode: ModeOCR}, "pixels at 300 DPI"},
		{"page of 1e9 x 1e9 pt", onePage("0 0 1000000000 1000000000", blank), Options{Mode: ModeOCR}, "pixels"},
		{"png declaring 20000x20000", pngHeader(20000, 20000), Options{}, "20000x20000"},
		{"tiff declaring 20000x20000", tiffHeader(20000, 20000), Options{}, "20000x20000"},
		{"bmp declaring 20000x20000", bmpHeader(20000, 20000), Options{}, "20000x20000"},
		{"jpeg declaring 20000x20000", jpegHeader(20000, 20000), Options{}, "20000x20000"},
		{"jpeg declaring 65535x65535", jpegHeader(65535, 65535), Options{}, "65535x65535"},
		{"zip storing a PDF", append([]byte("PK\x03\x04\x14\x00\x00\x00\x00\x00"), pages(1)...), Options{}, "an archive"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := r.ReadBytes(ctx, tc.data, "hostile", tc.opts)
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrBadDocument) {
				t.Fatalf("ReadBytes = %v, want a permanent document error (ErrBadDocument)", err)
			}
			if tc.want != "" && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if took > 10*time.Second {
				t.Errorf("took %s", took)
			}
			// Allocation during the read (not live memory): the bomb is counted, never held.
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 256<<20 {
				t.Errorf("allocated %d MiB", grown>>20)
			}
			t.Logf("%s: %v (%s)", tc.name, err, took.Round(time.Millisecond))
		})
	}
}

// TestPDFStreamScanPassesRealDocuments: the bomb scan lets ordinary PDFs through (text
// pages, a deflated scan) and bounds a single honest Flate layer only by the total.
func TestPDFStreamScanPassesRealDocuments(t *testing.T) {
	ctx := context.Background()
	for name, data := range map[string][]byte{
		"text":  buildPDF(t, pdfPage{lines: invoiceLines}),
		"scan":  buildPDF(t, pdfPage{img: renderText(invoiceLines, 150)}),
		"mixed": buildPDF(t, pdfPage{lines: invoiceLines}, pdfPage{img: renderText([]string{"x"}, 100)}),
		// 100 MiB of zeros in one Flate layer is ~100 KB: under 1100:1, allowed.
		"one honest layer": onePage("0 0 612 792", streamObj("/Filter /FlateDecode", zlibRepeat(t, make([]byte, 1<<20), 100))),
	} {
		if err := checkPDFStreams(ctx, data, DefaultMaxPixels); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Over the document total: 5 streams of 300 MiB each, one layer.
	var objs []string
	objs = append(objs, "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [] /Count 0 >>")
	big := zlibRepeat(t, make([]byte, 1<<20), 300)
	for range 5 {
		objs = append(objs, streamObj("/Filter /FlateDecode", big))
	}
	if err := checkPDFStreams(ctx, rawPDF(objs...), DefaultMaxPixels); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "inflate to more than") {
		t.Errorf("five 300 MiB streams: %v, want ErrTooLarge over the total", err)
	}
}
