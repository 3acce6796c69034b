package synth

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"
)

// ScanDPI is the resolution of the scans.
const ScanDPI = 200

// Scan rasterises the PDF at path with pdftoppm at ScanDPI in grey, degrades every page
// with Degrade and encodes the result: a PNG for one page, a multi-page TIFF for more.
// Both declare ScanDPI.
func Scan(ctx context.Context, path string, seed uint64) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "synth-scan-")
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "pdftoppm", "-r", fmt.Sprint(ScanDPI), "-gray", "-png", path, filepath.Join(tmp, "p"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pdftoppm %s: %w: %s", path, err, out)
	}
	names, err := filepath.Glob(filepath.Join(tmp, "p-*.png"))
	if err != nil || len(names) == 0 {
		return nil, fmt.Errorf("pdftoppm %s: no pages", path)
	}
	sort.Strings(names)
	var pages []*image.Gray
	for i, n := range names {
		f, err := os.Open(n)
		if err != nil {
			return nil, fmt.Errorf("scan: %w", err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", n, err)
		}
		pages = append(pages, Degrade(toGray(img), seed+uint64(i)))
	}
	if len(pages) == 1 {
		return encodePNG(pages[0])
	}
	return encodeTIFF(pages)
}

func toGray(img image.Image) *image.Gray {
	if g, ok := img.(*image.Gray); ok {
		return g
	}
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			g.Set(x, y, color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)))
		}
	}
	return g
}

// Degrade makes a clean rendering look scanned, deterministically from seed: a rotation
// of 0.25..0.8 degrees either way (bilinear), a light 3×3 blur, grey paper (white
// becomes 225..240), dark speckle and a few light dropouts, and finally 16 grey levels,
// which keeps the files small.
func Degrade(src *image.Gray, seed uint64) *image.Gray {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	angle := (0.25 + 0.55*rng.Float64()) * math.Pi / 180
	if rng.IntN(2) == 0 {
		angle = -angle
	}
	img := rotate(src, angle)
	img = blur(img)
	paper := 225 + rng.IntN(16)
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	for i, v := range img.Pix {
		img.Pix[i] = uint8(int(v) * paper / 255)
	}
	// Speckle: small dark dots, more of them near the edges as on a scanner glass.
	n := w * h / 4000
	for k := 0; k < n; k++ {
		x, y := rng.IntN(w), rng.IntN(h)
		if rng.IntN(3) == 0 {
			x = rng.IntN(w/12 + 1)
			if rng.IntN(2) == 0 {
				x = w - 1 - x
			}
		}
		r := rng.IntN(2)
		dark := uint8(30 + rng.IntN(90))
		for dy := 0; dy <= r; dy++ {
			for dx := 0; dx <= r; dx++ {
				if x+dx < w && y+dy < h {
					img.Pix[(y+dy)*img.Stride+x+dx] = dark
				}
			}
		}
	}
	// Dropouts: single light pixels, which break strokes here and there.
	for k := 0; k < n/2; k++ {
		x, y := rng.IntN(w), rng.IntN(h)
		img.Pix[y*img.Stride+x] = uint8(paper)
	}
	for i, v := range img.Pix {
		img.Pix[i] = (v & 0xf0) | (v >> 4)
	}
	return img
}

func rotate(src *image.Gray, angle float64) *image.Gray {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewGray(image.Rect(0, 0, w, h))
	cx, cy := float64(w)/2, float64(h)/2
	sin, cos := math.Sincos(angle)
	at := func(x, y int) float64 {
		if x < 0 || y < 0 || x >= w || y >= h {
			return 255
		}
		return float64(src.Pix[y*src.Stride+x])
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx, dy := float64(x)-cx, float64(y)-cy
			sx := cos*dx + sin*dy + cx
			sy := -sin*dx + cos*dy + cy
			x0, y0 := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(x0), sy-float64(y0)
			v := at(x0, y0)*(1-fx)*(1-fy) + at(x0+1, y0)*fx*(1-fy) + at(x0, y0+1)*(1-fx)*fy + at(x0+1, y0+1)*fx*fy
			dst.Pix[y*dst.Stride+x] = uint8(v + 0.5)
		}
	}
	return dst
}

// blur mixes each pixel with its neighbours (1 2 1 / 2 12 2 / 1 2 1): a slight softening.
func blur(src *image.Gray) *image.Gray {
	b := src.Bounds()
	w, h := b.Dx(), b.Dy()
	dst := image.NewGray(image.Rect(0, 0, w, h))
	copy(dst.Pix, src.Pix)
	k := [3][3]int{{1, 2, 1}, {2, 12, 2}, {1, 2, 1}}
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			s := 0
			for j := -1; j <= 1; j++ {
				row := (y + j) * src.Stride
				for i := -1; i <= 1; i++ {
					s += k[j+1][i+1] * int(src.Pix[row+x+i])
				}
			}
			dst.Pix[y*dst.Stride+x] = uint8(s / 24)
		}
	}
	return dst
}

// encodePNG writes a 4-bit greyscale PNG (the image has 16 levels) with a pHYs chunk
// declaring ScanDPI.
func encodePNG(img *image.Gray) ([]byte, error) {
	pal := make(color.Palette, 16)
	for i := range pal {
		pal[i] = color.Gray{Y: uint8(i * 17)}
	}
	b := img.Bounds()
	p := image.NewPaletted(b, pal)
	for i, v := range img.Pix {
		p.Pix[i] = v >> 4
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, p); err != nil {
		return nil, fmt.Errorf("encode png: %w", err)
	}
	data := buf.Bytes()
	// Insert pHYs after IHDR (8-byte signature + 25-byte IHDR chunk).
	ppm := uint32(math.Round(ScanDPI / 0.0254))
	var chunk bytes.Buffer
	body := make([]byte, 13)
	copy(body, "pHYs")
	binary.BigEndian.PutUint32(body[4:], ppm)
	binary.BigEndian.PutUint32(body[8:], ppm)
	body = append(body[:12], 1)
	binary.Write(&chunk, binary.BigEndian, uint32(9))
	chunk.Write(body)
	binary.Write(&chunk, binary.BigEndian, crc32.ChecksumIEEE(body))
	out := append([]byte{}, data[:33]...)
	out = append(out, chunk.Bytes()...)
	return append(out, data[33:]...), nil
}

// encodeTIFF writes a little-endian multi-page TIFF: per page one 8-bit greyscale strip (16 levels used),
// Deflate-compressed, with X/YResolution ScanDPI.
func encodeTIFF(pages []*image.Gray) ([]byte, error) {
	var out bytes.Buffer
	out.Write([]byte{'I', 'I', 42, 0, 0, 0, 0, 0}) // IFD offset patched below
	le := binary.LittleEndian
	prevNext := 4 // where the offset of the next IFD is written
	for _, img := range pages {
		w, h := img.Bounds().Dx(), img.Bounds().Dy()
		raw := make([]byte, 0, w*h)
		for y := 0; y < h; y++ {
			raw = append(raw, img.Pix[y*img.Stride:y*img.Stride+w]...)
		}
		var z bytes.Buffer
		zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
		zw.Write(raw)
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("encode tiff: %w", err)
		}
		stripOff := out.Len()
		out.Write(z.Bytes())
		if out.Len()%2 == 1 {
			out.WriteByte(0)
		}
		resOff := out.Len()
		res := make([]byte, 8)
		le.PutUint32(res, ScanDPI)
		le.PutUint32(res[4:], 1)
		out.Write(res)
		ifdOff := out.Len()
		b := out.Bytes()
		le.PutUint32(b[prevNext:], uint32(ifdOff))
		type entry struct {
			tag, typ uint16
			count    uint32
			value    uint32
		}
		entries := []entry{
			{256, 4, 1, uint32(w)}, {257, 4, 1, uint32(h)}, {258, 3, 1, 8}, {259, 3, 1, 8}, {262, 3, 1, 1},
			{273, 4, 1, uint32(stripOff)}, {277, 3, 1, 1}, {278, 4, 1, uint32(h)}, {279, 4, 1, uint32(z.Len())},
			{282, 5, 1, uint32(resOff)}, {283, 5, 1, uint32(resOff)}, {296, 3, 1, 2},
		}
		ifd := make([]byte, 2+12*len(entries)+4)
		le.PutUint16(ifd, uint16(len(entries)))
		for i, e := range entries {
			o := 2 + 12*i
			le.PutUint16(ifd[o:], e.tag)
			le.PutUint16(ifd[o+2:], e.typ)
			le.PutUint32(ifd[o+4:], e.count)
			if e.typ == 3 {
				le.PutUint16(ifd[o+8:], uint16(e.value))
			} else {
				le.PutUint32(ifd[o+8:], e.value)
			}
		}
		out.Write(ifd)
		prevNext = ifdOff + 2 + 12*len(entries)
	}
	return out.Bytes(), nil
}
