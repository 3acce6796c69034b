package ocr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"slices"
	"strconv"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/ocrinvoice/ocrinvoice/internal/imagefile"
)

// decodeConfig reads only the header of one image (png, jpeg, bmp, tiff) and refuses it
// when its pixel count is above maxPixels, before any pixel is decoded.
func decodeConfig(data []byte, format string, maxPixels int64) (image.Config, error) {
	return decodeConfigReader(bytes.NewReader(data), format, maxPixels)
}

// decodeConfigReader is decodeConfig over a reader.
func decodeConfigReader(r io.Reader, format string, maxPixels int64) (image.Config, error) {
	var (
		cfg image.Config
		err error
	)
	switch format {
	case FormatPNG:
		cfg, err = png.DecodeConfig(r)
	case FormatJPEG:
		cfg, err = jpeg.DecodeConfig(r)
	case FormatBMP:
		cfg, err = bmp.DecodeConfig(r)
	case FormatTIFF:
		cfg, err = tiff.DecodeConfig(r)
	default:
		return cfg, fmt.Errorf("read %s header: %w", format, ErrUnsupported)
	}
	if err != nil {
		return cfg, imageError(format, "header", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, fmt.Errorf("read %s header: %w: %dx%d pixels", format, ErrEmpty, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return cfg, fmt.Errorf("read %s header: %w: %dx%d = %d pixels, the limit is %d (decompression bomb guard)",
			format, ErrTooLarge, cfg.Width, cfg.Height, px, maxPixels)
	}
	return cfg, nil
}

// imageError marks a decoder failure as a corrupt (or, for a decoder that does not
// know a variant, unsupported) document.
func imageError(format, what string, err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("read %s %s: %w: truncated file", format, what, ErrCorrupt)
	case isUnsupported(err):
		return fmt.Errorf("read %s %s: %w: %v", format, what, ErrUnsupported, err)
	}
	return fmt.Errorf("read %s %s: %w: %v", format, what, ErrCorrupt, err)
}

func isUnsupported(err error) bool {
	switch err.(type) {
	case png.UnsupportedError, jpeg.UnsupportedError, tiff.UnsupportedError:
		return true
	}
	return errors.Is(err, bmp.ErrUnsupported)
}

// decodeImage decodes one image after decodeConfig accepted it.
func decodeImageReader(r io.Reader, format string) (image.Image, error) {
	var (
		img image.Image
		err error
	)
	switch format {
	case FormatPNG:
		img, err = png.Decode(r)
	case FormatJPEG:
		img, err = jpeg.Decode(r)
	case FormatBMP:
		img, err = bmp.Decode(r)
	case FormatTIFF:
		img, err = tiff.Decode(r)
	default:
		err = ErrUnsupported
	}
	if err != nil {
		return nil, imageError(format, "image", err)
	}
	return img, nil
}

// toGray converts any image to 8-bit gray with its origin at 0,0. Alpha is composited
// over white, as a scanner or a viewer would show it.
func toGray(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok && g.Rect.Min == (image.Point{}) {
		return g
	}
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch src := img.(type) {
	case *image.YCbCr:
		// The Y plane is the gray image: copy it instead of converting every pixel.
		for y := 0; y < b.Dy(); y++ {
			off := src.YOffset(b.Min.X, b.Min.Y+y)
			copy(g.Pix[y*g.Stride:y*g.Stride+b.Dx()], src.Y[off:off+b.Dx()])
		}
		return g
	case *image.Gray:
		draw.Draw(g, g.Rect, src, b.Min, draw.Src)
		return g
	}
	white := image.NewUniform(color.White)
	draw.Draw(g, g.Rect, white, image.Point{}, draw.Src)
	draw.Draw(g, g.Rect, img, b.Min, draw.Over)
	return g
}

// rotateGray returns img turned clockwise by deg (0, 90, 180, 270).
func rotateGray(img *image.Gray, deg int) *image.Gray {
	deg = ((deg % 360) + 360) % 360
	if deg == 0 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	var out *image.Gray
	if deg == 180 {
		out = image.NewGray(image.Rect(0, 0, w, h))
	} else {
		out = image.NewGray(image.Rect(0, 0, h, w))
	}
	for y := 0; y < h; y++ {
		row := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):]
		for x := 0; x < w; x++ {
			v := row[x]
			switch deg {
			case 90: // (x,y) -> (h-1-y, x)
				out.Pix[x*out.Stride+(h-1-y)] = v
			case 180:
				out.Pix[(h-1-y)*out.Stride+(w-1-x)] = v
			case 270: // (x,y) -> (y, w-1-x)
				out.Pix[(w-1-x)*out.Stride+y] = v
			}
		}
	}
	return out
}

// mirrorGray flips img left to right.
func mirrorGray(img *image.Gray) *image.Gray {
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		row := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):]
		for x := 0; x < b.Dx(); x++ {
			out.Pix[y*out.Stride+b.Dx()-1-x] = row[x]
		}
	}
	return out
}

// applyEXIFOrientation turns a decoded JPEG upright according to its EXIF Orientation
// tag (1..8).
func applyEXIFOrientation(img *image.Gray, orientation int) *image.Gray {
	switch orientation {
	case 2:
		return mirrorGray(img)
	case 3:
		return rotateGray(img, 180)
	case 4:
		return mirrorGray(rotateGray(img, 180))
	case 5:
		return mirrorGray(rotateGray(img, 90))
	case 6:
		return rotateGray(img, 90)
	case 7:
		return mirrorGray(rotateGray(img, 270))
	case 8:
		return rotateGray(img, 270)
	}
	return img
}

// tiffPageOffsets lists the IFD offset of every page of a TIFF (imagefile.TIFFPages),
// at most maxPages of them, in the reader's errors: ErrCorrupt, ErrTooLarge, ErrEmpty.
func tiffPageOffsets(data []byte, maxPages int) ([]uint32, error) {
	offs, err := imagefile.TIFFPages(data, maxPages)
	switch {
	case err == nil:
		return offs, nil
	case errors.Is(err, imagefile.ErrTooManyPages):
		return nil, fmt.Errorf("read tiff pages: %w: more than %d pages", ErrTooLarge, maxPages)
	case errors.Is(err, imagefile.ErrNoPages):
		return nil, fmt.Errorf("read tiff pages: %w: no pages", ErrEmpty)
	case errors.Is(err, imagefile.ErrBadHeader):
		return nil, fmt.Errorf("read tiff pages: %w: bad header", ErrCorrupt)
	case errors.Is(err, imagefile.ErrLoop):
		return nil, fmt.Errorf("read tiff pages: %w: IFD chain loops", ErrCorrupt)
	default:
		return nil, fmt.Errorf("read tiff pages: %w: %v", ErrCorrupt, err)
	}
}

// bytesReader wraps data as an io.Reader that is also an io.ReaderAt.
func bytesReader(data []byte) io.Reader { return bytes.NewReader(data) }

// imageDPI returns the resolution an image declares (PNG pHYs, JPEG JFIF density,
// TIFF XResolution), or 0 when it declares none we trust.
func imageDPI(data []byte, format string) int {
	switch format {
	case FormatPNG:
		i := bytes.Index(data, []byte("pHYs"))
		if i < 0 || i+13 > len(data) {
			return 0
		}
		ppu := binary.BigEndian.Uint32(data[i+4:])
		if data[i+12] == 1 { // unit: metre
			return plausibleDPI(float64(ppu) * 0.0254)
		}
	case FormatJPEG:
		if len(data) > 18 && string(data[6:11]) == "JFIF\x00" {
			unit := data[13]
			x := float64(binary.BigEndian.Uint16(data[14:]))
			switch unit {
			case 1:
				return plausibleDPI(x)
			case 2:
				return plausibleDPI(x * 2.54)
			}
		}
	case FormatBMP:
		if len(data) >= 42 {
			ppm := binary.LittleEndian.Uint32(data[38:])
			return plausibleDPI(float64(ppm) * 0.0254)
		}
	}
	return 0
}

// plausibleDPI keeps resolutions a scan or a rendering really uses; 72 and 96 are
// usually a program's default rather than a measurement, but they are still the best
// guess available.
func plausibleDPI(v float64) int {
	d := int(v + 0.5)
	if d < 50 || d > 2400 {
		return 0
	}
	return d
}

// encodePGM writes a gray image as binary PGM (P5), the cheapest format Tesseract's
// image reader (leptonica) accepts.
func encodePGM(img *image.Gray) []byte {
	b := img.Bounds()
	head := "P5\n" + strconv.Itoa(b.Dx()) + " " + strconv.Itoa(b.Dy()) + "\n255\n"
	out := make([]byte, 0, len(head)+b.Dx()*b.Dy())
	out = append(out, head...)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		off := img.PixOffset(b.Min.X, y)
		out = append(out, img.Pix[off:off+b.Dx()]...)
	}
	return out
}

// decodePGM parses a binary PGM (P5, maxval 255) as written by pdftoppm -gray, sharing
// the pixel bytes with data.
func decodePGM(data []byte) (*image.Gray, error) {
	var fields [3]int
	i, f := 2, 0
	if len(data) < 2 || string(data[:2]) != "P5" {
		return nil, fmt.Errorf("parse PGM: not a P5 image")
	}
	for f < 3 {
		for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t') {
			i++
		}
		if i < len(data) && data[i] == '#' {
			for i < len(data) && data[i] != '\n' {
				i++
			}
			continue
		}
		start := i
		for i < len(data) && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		if start == i {
			return nil, fmt.Errorf("parse PGM: bad header")
		}
		v, err := strconv.Atoi(string(data[start:i]))
		if err != nil {
			return nil, fmt.Errorf("parse PGM: %w", err)
		}
		fields[f] = v
		f++
	}
	i++ // the single white space after maxval
	w, h, maxv := fields[0], fields[1], fields[2]
	if maxv != 255 || w <= 0 || h <= 0 || i+w*h > len(data) {
		return nil, fmt.Errorf("parse PGM: unsupported or truncated %dx%d maxval %d", w, h, maxv)
	}
	return &image.Gray{Pix: data[i : i+w*h], Stride: w, Rect: image.Rect(0, 0, w, h)}, nil
}

// upscaleGray enlarges img by an integer factor with bilinear interpolation. Tesseract
// reads best with capital letters around 30 pixels high; small photographed receipts
// are often far below that.
func upscaleGray(img *image.Gray, factor int) *image.Gray {
	if factor <= 1 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := image.NewGray(image.Rect(0, 0, w*factor, h*factor))
	f := float64(factor)
	for y := 0; y < h*factor; y++ {
		sy := (float64(y)+0.5)/f - 0.5
		y0 := int(sy)
		if sy < 0 {
			sy, y0 = 0, 0
		}
		y1 := min(y0+1, h-1)
		fy := sy - float64(y0)
		r0 := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y0):]
		r1 := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y1):]
		orow := out.Pix[y*out.Stride:]
		for x := 0; x < w*factor; x++ {
			sx := (float64(x)+0.5)/f - 0.5
			x0 := int(sx)
			if sx < 0 {
				sx, x0 = 0, 0
			}
			x1 := min(x0+1, w-1)
			fx := sx - float64(x0)
			top := float64(r0[x0])*(1-fx) + float64(r0[x1])*fx
			bot := float64(r1[x0])*(1-fx) + float64(r1[x1])*fx
			orow[x] = uint8(top*(1-fy) + bot*fy + 0.5)
		}
	}
	return out
}

// textLineHeight estimates the typical height in pixels of the text lines of a page
// image without recognising anything: the page is cut into vertical strips (so that
// lines of neighbouring columns do not merge), and in each strip the runs of rows that
// hold dark pixels are measured; the median run over the page is returned, 0 when the
// page shows too few lines to tell.
func textLineHeight(img *image.Gray) float64 {
	const strips = 8
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < strips*8 || h < 64 {
		return 0
	}
	sw := w / strips
	minInk := max(2, sw/200)
	var runs []int
	for s := 0; s < strips; s++ {
		x0 := b.Min.X + s*sw
		run := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := img.Pix[img.PixOffset(x0, y):]
			dark := 0
			for x := 0; x < sw; x++ {
				if row[x] < 128 {
					dark++
				}
			}
			if dark >= minInk {
				run++
				continue
			}
			if run >= 4 && run <= h/8 {
				runs = append(runs, run)
			}
			run = 0
		}
	}
	if len(runs) < 20 {
		return 0
	}
	slices.Sort(runs)
	return float64(runs[len(runs)/2])
}

// downscaleGray shrinks img by factor f (0 < f < 1) averaging the source pixels each
// destination pixel covers (so thin strokes fade rather than vanish).
func downscaleGray(img *image.Gray, f float64) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := max(1, int(float64(w)*f)), max(1, int(float64(h)*f))
	out := image.NewGray(image.Rect(0, 0, dw, dh))
	sx, sy := float64(w)/float64(dw), float64(h)/float64(dh)
	for y := 0; y < dh; y++ {
		y0, y1 := int(float64(y)*sy), min(h, max(int(float64(y)*sy)+1, int(float64(y+1)*sy)))
		for x := 0; x < dw; x++ {
			x0, x1 := int(float64(x)*sx), min(w, max(int(float64(x)*sx)+1, int(float64(x+1)*sx)))
			sum, n := 0, 0
			for yy := y0; yy < y1; yy++ {
				row := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+yy):]
				for xx := x0; xx < x1; xx++ {
					sum += int(row[xx])
					n++
				}
			}
			out.Pix[y*out.Stride+x] = uint8((sum + n/2) / n)
		}
	}
	return out
}
