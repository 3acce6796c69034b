package imagefile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
	"testing"

	"golang.org/x/image/tiff"
)

// grayTIFF writes an uncompressed 8-bit gray little-endian TIFF with one page per size
// (width, height), one strip per page, IFDs chained; page k is filled with value k+1.
func grayTIFF(sizes ...[2]int) []byte {
	bo := binary.LittleEndian
	out := []byte("II*\x00\x00\x00\x00\x00")
	prevNext := 4 // where the offset of the next IFD goes
	for k, sz := range sizes {
		w, h := sz[0], sz[1]
		strip := len(out)
		out = append(out, bytes.Repeat([]byte{byte(k + 1)}, w*h)...)
		if len(out)%2 == 1 {
			out = append(out, 0)
		}
		bo.PutUint32(out[prevNext:], uint32(len(out)))
		entries := [][3]uint32{ // tag, type (3 SHORT, 4 LONG), value
			{256, 4, uint32(w)}, {257, 4, uint32(h)}, {258, 3, 8}, {259, 3, 1}, {262, 3, 1},
			{273, 4, uint32(strip)}, {277, 3, 1}, {278, 4, uint32(h)}, {279, 4, uint32(w * h)},
		}
		out = bo.AppendUint16(out, uint16(len(entries)))
		for _, e := range entries {
			out = bo.AppendUint16(out, uint16(e[0]))
			out = bo.AppendUint16(out, uint16(e[1]))
			out = bo.AppendUint32(out, 1)
			if e[1] == 3 {
				out = bo.AppendUint16(out, uint16(e[2]))
				out = append(out, 0, 0)
			} else {
				out = bo.AppendUint32(out, e[2])
			}
		}
		prevNext = len(out)
		out = bo.AppendUint32(out, 0)
	}
	return out
}

// exifJPEG is a small JPEG carrying an EXIF block whose Orientation tag is o (no EXIF
// block when o is 0).
func exifJPEG(t *testing.T, o int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 4)), nil); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if o == 0 {
		return data
	}
	exif := []byte("Exif\x00\x00MM\x00*\x00\x00\x00\x08")
	exif = binary.BigEndian.AppendUint16(exif, 1)      // one entry:
	exif = binary.BigEndian.AppendUint16(exif, 0x0112) // Orientation,
	exif = binary.BigEndian.AppendUint16(exif, 3)      // SHORT,
	exif = binary.BigEndian.AppendUint32(exif, 1)      // one value
	exif = binary.BigEndian.AppendUint16(exif, uint16(o))
	exif = append(exif, 0, 0, 0, 0, 0, 0) // padding, no next IFD
	app1 := binary.BigEndian.AppendUint16([]byte{0xFF, 0xE1}, uint16(len(exif)+2))
	return append(append(append([]byte{}, data[:2]...), append(app1, exif...)...), data[2:]...)
}

func TestJPEGOrientation(t *testing.T) {
	for o := 1; o <= 8; o++ {
		if got := JPEGOrientation(exifJPEG(t, o)); got != o {
			t.Errorf("orientation %d read as %d", o, got)
		}
	}
	bad := exifJPEG(t, 9) // out of range
	cut := exifJPEG(t, 6)
	for name, data := range map[string][]byte{
		"no EXIF": exifJPEG(t, 0), "orientation 9": bad, "not a JPEG": []byte("\x89PNG\r\n\x1a\n"),
		"empty": nil, "cut in the EXIF block": cut[:20],
	} {
		if got := JPEGOrientation(data); got != 1 {
			t.Errorf("%s: orientation %d, want 1", name, got)
		}
	}
}

func TestTIFFPages(t *testing.T) {
	three := grayTIFF([2]int{3, 2}, [2]int{5, 4}, [2]int{2, 7})
	offs, err := TIFFPages(three, 3)
	if err != nil || len(offs) != 3 {
		t.Fatalf("three pages: %v %v", offs, err)
	}
	// Each page reads as a TIFF of its own, in its own size and pixels.
	for k, want := range [][2]int{{3, 2}, {5, 4}, {2, 7}} {
		img, err := tiff.Decode(TIFFPage(three, offs[k]))
		if err != nil {
			t.Fatalf("page %d: %v", k+1, err)
		}
		b := img.Bounds()
		if b.Dx() != want[0] || b.Dy() != want[1] || img.(*image.Gray).Pix[0] != byte(k+1) {
			t.Errorf("page %d: %v, first pixel %d; want %v filled with %d", k+1, b, img.(*image.Gray).Pix[0], want, k+1)
		}
	}

	loop := grayTIFF([2]int{2, 2})
	copy(loop[len(loop)-4:], loop[4:8]) // the only IFD's next IFD is itself
	noPages := grayTIFF([2]int{2, 2})
	copy(noPages[4:8], []byte{0, 0, 0, 0})
	truncated := append([]byte{}, three[:8]...)
	binary.LittleEndian.PutUint32(truncated[4:], 1000)
	tail := append([]byte{}, three...)
	binary.LittleEndian.PutUint32(tail[len(tail)-4:], 1<<20) // the last page points past the end
	for _, tc := range []struct {
		name  string
		data  []byte
		max   int
		pages int
		err   error
	}{
		{"too many pages", three, 2, 0, ErrTooManyPages},
		{"not a TIFF", []byte("GIF89a\x00\x00"), 5, 0, ErrBadHeader},
		{"header cut short", three[:6], 5, 0, ErrBadHeader},
		{"loop", loop, 5, 0, ErrLoop},
		{"first IFD past the end", truncated, 5, 0, ErrTruncated},
		{"no first IFD", noPages, 5, 0, ErrNoPages},
		{"cut-off tail keeps its pages", tail, 5, 3, nil},
	} {
		offs, err := TIFFPages(tc.data, tc.max)
		if !errors.Is(err, tc.err) || len(offs) != tc.pages {
			t.Errorf("%s: %d pages, %v; want %d, %v", tc.name, len(offs), err, tc.pages, tc.err)
		}
	}
}

// FuzzTIFFPages: any bytes list pages or fail, never panic, and every page listed can be
// handed to the decoder.
func FuzzTIFFPages(f *testing.F) {
	f.Add(grayTIFF([2]int{2, 2}, [2]int{3, 1}))
	f.Add([]byte("MM\x00*\x00\x00\x00\x08\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		offs, err := TIFFPages(data, 50)
		if err != nil {
			return
		}
		for _, off := range offs {
			_, _ = tiff.DecodeConfig(TIFFPage(data, off))
		}
		_ = JPEGOrientation(data)
	})
}
