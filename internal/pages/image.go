package pages

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/ocrinvoice/ocrinvoice/internal/imagefile"
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
			open = func() io.Reader { return imagefile.TIFFPage(data, off) }
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
		orient = imagefile.JPEGOrientation(data)
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

// tiffPageOffsets lists the IFD offset of every page of a TIFF (imagefile.TIFFPages),
// at most maxTIFFPages of them, its errors worded as the ends of "the document ...".
func tiffPageOffsets(data []byte) ([]uint32, error) {
	offs, err := imagefile.TIFFPages(data, maxTIFFPages)
	switch {
	case err == nil:
		return offs, nil
	case errors.Is(err, imagefile.ErrTooManyPages):
		return nil, fmt.Errorf("has more than %d pages", maxTIFFPages)
	case errors.Is(err, imagefile.ErrNoPages):
		return nil, errors.New("has no pages")
	case errors.Is(err, imagefile.ErrLoop):
		return nil, errors.New("is damaged (its page chain loops)")
	default: // a bad header, a truncated file
		return nil, fmt.Errorf("is damaged (%v)", err)
	}
}
