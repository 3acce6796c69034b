package pages

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// maxTIFFPages bounds how many pages of a TIFF are counted.
const maxTIFFPages = 1000

// decodeImage decodes page (1-based) of an image document: every format has one page
// but TIFF, which has one per IFD. The header is read first and an image of more than
// maxPixels pixels is refused before any pixel is decoded (the decompression-bomb guard
// of worker/ocr). It returns the page count when it could tell it, and the EXIF
// orientation (1..8) a JPEG asks for.
func decodeImage(data []byte, docType string, page int, maxPixels int64) (image.Image, int, int, error) {
	open := func() io.Reader { return bytes.NewReader(data) }
	n := 1
	if docType == "tiff" {
		offs, err := tiffPageOffsets(data)
		if err != nil {
			return nil, 0, 1, err
		}
		n = len(offs)
		if page <= n {
			off := offs[page-1]
			open = func() io.Reader { return newTIFFPageReader(data, off) }
		}
	}
	if page > n {
		return nil, n, 1, nil
	}
	var cfg image.Config
	var err error
	switch docType {
	case "png":
		cfg, err = png.DecodeConfig(open())
	case "jpg":
		cfg, err = jpeg.DecodeConfig(open())
	case "bmp":
		cfg, err = bmp.DecodeConfig(open())
	case "tiff":
		cfg, err = tiff.DecodeConfig(open())
	default:
		return nil, n, 1, fmt.Errorf("is of an unknown format %q", docType)
	}
	if err != nil {
		return nil, n, 1, imageError(err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, n, 1, fmt.Errorf("has no pixels (%dx%d)", cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return nil, n, 1, fmt.Errorf("is too large: %dx%d = %d pixels, the limit is %d (decompression bomb guard)",
			cfg.Width, cfg.Height, px, maxPixels)
	}
	var img image.Image
	switch docType {
	case "png":
		img, err = png.Decode(open())
	case "jpg":
		img, err = jpeg.Decode(open())
	case "bmp":
		img, err = bmp.Decode(open())
	case "tiff":
		img, err = tiff.Decode(open())
	}
	if err != nil {
		return nil, n, 1, imageError(err)
	}
	orient := 1
	if docType == "jpg" {
		orient = jpegEXIFOrientation(data)
	}
	return img, n, orient, nil
}

// imageError says what is wrong with an image a decoder refused.
func imageError(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return errors.New("is damaged (truncated file)")
	}
	return fmt.Errorf("is damaged (%v)", err)
}

// orientedSize is the size of an image of w x h pixels once turned upright by EXIF
// orientation o: orientations 5 to 8 swap the sides.
func orientedSize(w, h, o int) (int, int) {
	if o >= 5 && o <= 8 {
		return h, w
	}
	return w, h
}

// orient turns img upright according to EXIF orientation o (1..8), as the worker reads
// a JPEG (worker/ocr applyEXIFOrientation), so that page-relative evidence boxes fit.
func orient(img *image.NRGBA, o int) *image.NRGBA {
	if o < 2 || o > 8 {
		return img
	}
	w, h := img.Rect.Dx(), img.Rect.Dy()
	ow, oh := orientedSize(w, h, o)
	dst := image.NewNRGBA(image.Rect(0, 0, ow, oh))
	for y := range h {
		for x := range w {
			var dx, dy int
			switch o {
			case 2: // mirrored
				dx, dy = w-1-x, y
			case 3: // turned 180
				dx, dy = w-1-x, h-1-y
			case 4: // 180 and mirrored
				dx, dy = x, h-1-y
			case 5: // 90 clockwise and mirrored (transpose)
				dx, dy = y, x
			case 6: // 90 clockwise
				dx, dy = h-1-y, x
			case 7: // 270 clockwise and mirrored (transverse)
				dx, dy = h-1-y, w-1-x
			case 8: // 270 clockwise
				dx, dy = y, w-1-x
			}
			copy(dst.Pix[dy*dst.Stride+dx*4:dy*dst.Stride+dx*4+4], img.Pix[y*img.Stride+x*4:y*img.Stride+x*4+4])
		}
	}
	return dst
}

// jpegEXIFOrientation returns the EXIF Orientation tag of a JPEG (1 when absent or
// unreadable), as worker/ocr reads it.
func jpegEXIFOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	i := 2
	for i+4 <= len(data) {
		if data[i] != 0xFF {
			return 1
		}
		marker := data[i+1]
		if marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01 {
			i += 2
			continue
		}
		if marker == 0xDA || marker == 0xD9 {
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 1
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) > 6 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 from the first IFD of a TIFF structure (EXIF).
func tiffOrientation(t []byte) int {
	bo, ok := tiffByteOrder(t)
	if !ok || len(t) < 8 {
		return 1
	}
	off := int(bo.Uint32(t[4:]))
	if off < 8 || off+2 > len(t) {
		return 1
	}
	n := int(bo.Uint16(t[off:]))
	for k := range n {
		e := off + 2 + 12*k
		if e+12 > len(t) {
			return 1
		}
		if bo.Uint16(t[e:]) == 0x0112 {
			if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
				return v
			}
			return 1
		}
	}
	return 1
}

func tiffByteOrder(t []byte) (binary.ByteOrder, bool) {
	if len(t) < 4 {
		return nil, false
	}
	switch string(t[:4]) {
	case "II*\x00":
		return binary.LittleEndian, true
	case "MM\x00*":
		return binary.BigEndian, true
	}
	return nil, false
}

// tiffPageOffsets walks the IFD chain of a classic TIFF and returns the offset of every
// page's IFD (at most maxTIFFPages), refusing loops.
func tiffPageOffsets(data []byte) ([]uint32, error) {
	bo, ok := tiffByteOrder(data)
	if !ok || len(data) < 8 {
		return nil, errors.New("is damaged (bad TIFF header)")
	}
	var offs []uint32
	seen := map[uint32]bool{}
	off := bo.Uint32(data[4:])
	for off != 0 {
		if seen[off] {
			return nil, errors.New("is damaged (its page chain loops)")
		}
		seen[off] = true
		if int64(off)+2 > int64(len(data)) {
			if len(offs) > 0 {
				break
			}
			return nil, errors.New("is damaged (truncated file)")
		}
		offs = append(offs, off)
		if len(offs) > maxTIFFPages {
			return nil, fmt.Errorf("has more than %d pages", maxTIFFPages)
		}
		n := int64(bo.Uint16(data[off:]))
		next := int64(off) + 2 + 12*n
		if next+4 > int64(len(data)) {
			break
		}
		off = bo.Uint32(data[next:])
	}
	if len(offs) == 0 {
		return nil, errors.New("has no pages")
	}
	return offs, nil
}

// tiffPageReader presents a TIFF whose header points at another page's IFD, so the
// single-page decoder reads any page (see worker/ocr).
type tiffPageReader struct {
	data []byte
	head [8]byte
	off  int64
}

func newTIFFPageReader(data []byte, ifd uint32) *tiffPageReader {
	r := &tiffPageReader{data: data}
	copy(r.head[:], data[:8])
	bo, _ := tiffByteOrder(data)
	bo.PutUint32(r.head[4:], ifd)
	return r
}

func (r *tiffPageReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= int64(len(r.data)) {
		return 0, io.EOF
	}
	n := copy(p, r.data[off:])
	if off < 8 {
		copy(p, r.head[off:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (r *tiffPageReader) Read(p []byte) (int, error) {
	n, err := r.ReadAt(p, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}
