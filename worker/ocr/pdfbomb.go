package ocr

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/zlib"
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
)

// Limits of the decompression-bomb scan of a PDF (checkPDFStreams). Poppler inflates
// streams as it reads them, in little memory but with no bound on time: a few KB of
// nested Flate filters can hold gigabytes of content stream that pdftotext would parse
// for minutes, until the tool timeout, a failure that looks transient and is retried.
// The scan inflates every Flate stream first, only counting bytes, and refuses the
// document at once as ErrTooLarge (permanent) when one is a bomb.
const (
	// inflateFloor is how much any one stream may inflate to.
	inflateFloor = 64 << 20
	// inflateRatio: a stream may also inflate to this many times its encoded size. One
	// Flate layer cannot exceed about 1032:1, so only stacked filters go beyond.
	inflateRatio = 1100
	// inflateTotal bounds all streams of a document together (and the scan's time, about
	// a second per GiB).
	inflateTotal = 1 << 30
)

var (
	streamKeyword = []byte("stream")
	filterRe      = regexp.MustCompile(`/Filter\s*(\[[^\]]*\]|/[A-Za-z0-9]+)`)
	filterNameRe  = regexp.MustCompile(`/[A-Za-z0-9]+`)
	imageRe       = regexp.MustCompile(`/Subtype\s*/Image\b`)
	widthRe       = regexp.MustCompile(`/Width\s+(\d{1,12})\b`)
	heightRe      = regexp.MustCompile(`/Height\s+(\d{1,12})\b`)
)

// checkPDFStreams looks at every stream of a PDF before poppler does: an image XObject
// declaring more than maxPixels pixels, or a Flate stream inflating past the limits
// above, is ErrTooLarge naming the stream. Streams that cannot be parsed or inflated are
// left to poppler (which reports a corrupt document its own way).
func checkPDFStreams(ctx context.Context, data []byte, maxPixels int64) error {
	var total int64
	for pos := 0; pos < len(data); {
		i := bytes.Index(data[pos:], streamKeyword)
		if i < 0 {
			return nil
		}
		kw := pos + i
		pos = kw + len(streamKeyword)
		if kw >= 3 && string(data[kw-3:kw]) == "end" {
			continue // endstream
		}
		start := pos
		switch {
		case bytes.HasPrefix(data[start:], []byte("\r\n")):
			start += 2
		case bytes.HasPrefix(data[start:], []byte("\n")), bytes.HasPrefix(data[start:], []byte("\r")):
			start++
		default:
			continue // "stream" inside some other token
		}
		dict := streamDict(data, kw)
		if dict == nil {
			continue
		}
		end := bytes.Index(data[start:], []byte("endstream"))
		if end < 0 {
			end = len(data) - start
		}
		pos = start + end
		if err := ctx.Err(); err != nil {
			return err
		}
		if imageRe.Match(dict) {
			w, h := dictInt(widthRe, dict), dictInt(heightRe, dict)
			if w > 0 && h > 0 && (w > maxPixels || h > maxPixels || w*h > maxPixels) {
				return fmt.Errorf("inspect PDF: %w: an image of %dx%d pixels at byte %d, the limit is %d pixels (decompression bomb guard)",
					ErrTooLarge, w, h, kw, maxPixels)
			}
		}
		layers := flateLayers(dict)
		if layers == 0 {
			continue
		}
		enc := int64(end)
		limit := max(int64(inflateFloor), inflateRatio*enc)
		if rest := inflateTotal - total; limit > rest {
			limit = rest
		}
		n, ok := inflatedSize(data[start:start+end], layers, limit+1)
		if !ok {
			continue
		}
		if n > limit {
			if total+n > inflateTotal {
				return fmt.Errorf("inspect PDF: %w: its streams inflate to more than %d bytes (decompression bomb guard)", ErrTooLarge, int64(inflateTotal))
			}
			return fmt.Errorf("inspect PDF: %w: the stream at byte %d inflates from %d bytes to more than %d (decompression bomb guard)",
				ErrTooLarge, kw, enc, limit)
		}
		total += n
	}
	return nil
}

// checkPDFFile runs checkPDFStreams on the PDF at path.
func checkPDFFile(ctx context.Context, path string, maxPixels int64) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read PDF: %w", err)
	}
	return checkPDFStreams(ctx, data, maxPixels)
}

// streamDict returns the dictionary of the stream whose keyword is at kw: the bytes from
// the object's "obj" keyword (at most 64 KiB back) to kw, nil when there is none.
func streamDict(data []byte, kw int) []byte {
	from := max(0, kw-64<<10)
	o := bytes.LastIndex(data[from:kw], []byte("obj"))
	if o < 0 {
		return nil
	}
	return data[from+o : kw]
}

// flateLayers counts the Flate filters at the head of a stream's filter list (the ones
// applied first when decoding); it stops at the first other filter.
func flateLayers(dict []byte) int {
	m := filterRe.FindSubmatch(dict)
	if m == nil {
		return 0
	}
	n := 0
	for _, name := range filterNameRe.FindAll(m[1], -1) {
		if s := string(name); s != "/FlateDecode" && s != "/Fl" {
			break
		}
		n++
	}
	return n
}

func dictInt(re *regexp.Regexp, dict []byte) int64 {
	m := re.FindSubmatch(dict)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return v
}

// inflatedSize inflates enc through layers of Flate (zlib, or raw deflate as some
// writers emit) and returns how many bytes came out, reading at most limit; ok is false
// when the data does not inflate at all.
func inflatedSize(enc []byte, layers int, limit int64) (int64, bool) {
	var r io.Reader = bytes.NewReader(enc)
	for range layers {
		br := bufioReader(r)
		head, err := br.Peek(2)
		if err != nil {
			return 0, false
		}
		if head[0]&0x0f == 8 && (uint16(head[0])<<8|uint16(head[1]))%31 == 0 {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return 0, false
			}
			r = zr
		} else {
			r = flate.NewReader(br)
		}
	}
	n, err := io.CopyN(io.Discard, r, limit)
	if n == 0 && err != nil && err != io.EOF {
		return 0, false
	}
	return n, true
}

// peekReader is the little of bufio.Reader inflatedSize needs: Peek without consuming,
// and io.ByteReader so that flate reads no further than its stream.
type peekReader interface {
	io.Reader
	io.ByteReader
	Peek(n int) ([]byte, error)
}

func bufioReader(r io.Reader) peekReader {
	if p, ok := r.(peekReader); ok {
		return p
	}
	return bufio.NewReaderSize(r, 32<<10)
}
