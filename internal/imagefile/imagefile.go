// Package imagefile reads what the image decoders (image/jpeg, golang.org/x/image/tiff)
// leave out of an image document: the EXIF orientation a JPEG asks for, and every page
// of a multi-page TIFF. The OCR reader (worker/ocr) and the page renderer
// (internal/pages) both read images through it, so that a document is turned and paged
// the same way for reading and for viewing.
//
// Every function takes the whole file as bytes, never panics on hostile input, and
// reads nothing beyond its headers.
package imagefile

import (
	"encoding/binary"
	"errors"
	"io"
)

// JPEGOrientation returns the EXIF Orientation tag (1..8) of a JPEG: 1 when data is not
// a JPEG, carries no EXIF block, or carries one that cannot be read (a broken EXIF block
// must not fail an otherwise good image).
func JPEGOrientation(data []byte) int {
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
		if marker == 0xDA || marker == 0xD9 { // start of scan / end of image: no more metadata
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

// tiffByteOrder is the byte order a TIFF header declares ("II*\0" or "MM\0*"); false
// when t does not start with one.
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

// The reasons TIFFPages gives for a TIFF whose pages it cannot list. Callers word them
// in their own errors.
var (
	ErrBadHeader    = errors.New("bad TIFF header")
	ErrLoop         = errors.New("the IFD chain loops")
	ErrTruncated    = errors.New("truncated file")
	ErrTooManyPages = errors.New("too many pages")
	ErrNoPages      = errors.New("no pages")
)

// TIFFPages walks the IFD chain of a classic (not Big) TIFF and returns the offset of
// every page's IFD, refusing loops. A chain whose tail is cut off keeps the pages read
// so far. A TIFF of more than maxPages pages is ErrTooManyPages; the other errors are
// ErrBadHeader, ErrLoop, ErrTruncated and ErrNoPages.
func TIFFPages(data []byte, maxPages int) ([]uint32, error) {
	bo, ok := tiffByteOrder(data)
	if !ok || len(data) < 8 {
		return nil, ErrBadHeader
	}
	var offs []uint32
	seen := map[uint32]bool{}
	off := bo.Uint32(data[4:])
	for off != 0 {
		if seen[off] {
			return nil, ErrLoop
		}
		seen[off] = true
		if int64(off)+2 > int64(len(data)) {
			if len(offs) > 0 {
				break // a truncated tail: keep the pages we have
			}
			return nil, ErrTruncated
		}
		offs = append(offs, off)
		if len(offs) > maxPages {
			return nil, ErrTooManyPages
		}
		n := int64(bo.Uint16(data[off:]))
		next := int64(off) + 2 + 12*n
		if next+4 > int64(len(data)) {
			break
		}
		off = bo.Uint32(data[next:])
	}
	if len(offs) == 0 {
		return nil, ErrNoPages
	}
	return offs, nil
}

// TIFFPage presents the TIFF data as a TIFF whose header points at the page whose IFD is
// at offset ifd (one of TIFFPages' offsets). Offsets in a TIFF are absolute, so that is
// all it takes for a single-page decoder (golang.org/x/image/tiff reads only the first
// IFD) to read any page, without copying the file. The reader is also an io.ReaderAt,
// which the tiff decoder uses directly. data must start with a TIFF header.
func TIFFPage(data []byte, ifd uint32) *PageReader {
	r := &PageReader{data: data}
	copy(r.head[:], data[:8])
	bo, _ := tiffByteOrder(data)
	bo.PutUint32(r.head[4:], ifd)
	return r
}

// PageReader reads one page of a multi-page TIFF as a TIFF of its own (TIFFPage).
type PageReader struct {
	data []byte
	head [8]byte
	off  int64
}

// ReadAt reads the file at off, its header pointing at the reader's page.
func (r *PageReader) ReadAt(p []byte, off int64) (int, error) {
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

// Read reads the file from where the last Read stopped.
func (r *PageReader) Read(p []byte) (int, error) {
	n, err := r.ReadAt(p, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}
