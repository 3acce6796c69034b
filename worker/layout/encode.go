package layout

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// MaxEncodedLayout is the largest EncodeLayout result, compressed: a document whose
// encoding is larger is refused rather than stored.
const MaxEncodedLayout = 4 << 20

// encodedCap is MaxEncodedLayout; tests lower it to reach it with a small document.
var encodedCap = MaxEncodedLayout

// maxDecodedLayout bounds the JSON DecodeLayout inflates, so that a small stored value
// cannot expand without limit (a gzip bomb).
const maxDecodedLayout = 64 << 20

// encodedVersion is the format of EncodeLayout's JSON; DecodeLayout refuses others.
const encodedVersion = 1

// encodedDoc is the JSON of EncodeLayout: short names, and each word as an array
// [text, x0, y0, x1, y1, confidence] so that a page of words stays small.
type encodedDoc struct {
	V        int           `json:"v"`
	Format   string        `json:"format,omitempty"`
	Size     int64         `json:"size,omitempty"`
	DPI      int           `json:"dpi,omitempty"`
	Language string        `json:"lang,omitempty"`
	Pages    []encodedPage `json:"pages"`
}

type encodedPage struct {
	N      int           `json:"n"`
	W      float64       `json:"w"`
	H      float64       `json:"h"`
	Source Source        `json:"src"`
	Lines  [][]wordTuple `json:"lines"`
}

// wordTuple is one word as [text, x0, y0, x1, y1, confidence].
type wordTuple [6]any

// round2 keeps two decimals: a hundredth of a point or pixel is far below what any
// reader of a stored layout can tell apart.
func round2(v float64) float64 { return math.Round(v*100) / 100 }

// EncodeLayout serialises a read document compactly for storing with a job: its pages
// (number, size, source) and their lines of words (text, box, confidence), as gzip'd
// JSON. Page texts, warnings and line boxes are left out: DecodeLayout rebuilds line
// boxes from their words and page texts from their lines. It returns an error for a nil
// document and when the result would exceed MaxEncodedLayout bytes.
func EncodeLayout(d *Document) ([]byte, error) {
	if d == nil {
		return nil, errors.New("encode layout: no document")
	}
	e := encodedDoc{V: encodedVersion, Format: d.Format, Size: d.Size, DPI: d.DPI, Language: d.Language, Pages: make([]encodedPage, 0, len(d.Pages))}
	for _, p := range d.Pages {
		ep := encodedPage{N: p.Number, W: round2(p.Width), H: round2(p.Height), Source: p.Source, Lines: make([][]wordTuple, 0, len(p.Lines))}
		for _, l := range p.Lines {
			ws := make([]wordTuple, 0, len(l.Words))
			for _, w := range l.Words {
				if !finite(w.Box.X0, w.Box.Y0, w.Box.X1, w.Box.Y1, w.Confidence) {
					return nil, fmt.Errorf("encode layout: page %d: word %q has a box or confidence that is not a number", p.Number, w.Text)
				}
				ws = append(ws, wordTuple{w.Text, round2(w.Box.X0), round2(w.Box.Y0), round2(w.Box.X1), round2(w.Box.Y1), round2(w.Confidence)})
			}
			ep.Lines = append(ep.Lines, ws)
		}
		e.Pages = append(e.Pages, ep)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	lw := &limitWriter{w: zw, left: maxDecodedLayout}
	if err := json.NewEncoder(lw).Encode(e); err != nil {
		return nil, fmt.Errorf("encode layout: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("encode layout: %w", err)
	}
	if buf.Len() > encodedCap {
		return nil, fmt.Errorf("encode layout: %d bytes compressed, more than the %d allowed", buf.Len(), encodedCap)
	}
	return buf.Bytes(), nil
}

// limitWriter fails once more than left bytes are written, so that encoding a huge
// document stops early instead of compressing all of it.
type limitWriter struct {
	w    io.Writer
	left int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.left {
		return 0, fmt.Errorf("more than %d bytes of JSON", maxDecodedLayout)
	}
	l.left -= len(p)
	return l.w.Write(p)
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// DecodeLayout reads what EncodeLayout wrote. Line boxes are the union of their words'
// boxes and each page's Text is its lines joined by '\n'. It returns an error for bytes
// that are not such an encoding (not gzip, not its JSON, another format version, more
// than MaxEncodedLayout bytes or an inflated size past its bound, a word that is not
// [text, x0, y0, x1, y1, confidence], a page numbered out of order); nothing is
// returned with an error.
func DecodeLayout(b []byte) (*Document, error) {
	if len(b) == 0 {
		return nil, errors.New("decode layout: empty")
	}
	if len(b) > MaxEncodedLayout {
		return nil, fmt.Errorf("decode layout: %d bytes, more than the %d allowed", len(b), MaxEncodedLayout)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode layout: %w", err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, maxDecodedLayout+1))
	if err != nil {
		return nil, fmt.Errorf("decode layout: %w", err)
	}
	if len(raw) > maxDecodedLayout {
		return nil, fmt.Errorf("decode layout: inflates past %d bytes", maxDecodedLayout)
	}
	var e encodedDoc
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("decode layout: %w", err)
	}
	if e.V != encodedVersion {
		return nil, fmt.Errorf("decode layout: format version %d, want %d", e.V, encodedVersion)
	}
	d := &Document{Format: e.Format, Size: e.Size, DPI: e.DPI, Language: e.Language, Pages: make([]Page, 0, len(e.Pages))}
	for i, ep := range e.Pages {
		if ep.N != i+1 {
			return nil, fmt.Errorf("decode layout: page %d is numbered %d", i+1, ep.N)
		}
		if !finite(ep.W, ep.H) || ep.W < 0 || ep.H < 0 {
			return nil, fmt.Errorf("decode layout: page %d has a bad size", ep.N)
		}
		p := Page{Number: ep.N, Width: ep.W, Height: ep.H, Source: ep.Source, Lines: make([]Line, 0, len(ep.Lines))}
		var text strings.Builder
		for li, ews := range ep.Lines {
			l := Line{Words: make([]Word, 0, len(ews))}
			for wi, t := range ews {
				w, err := t.word()
				if err != nil {
					return nil, fmt.Errorf("decode layout: page %d line %d word %d: %w", ep.N, li+1, wi+1, err)
				}
				if wi == 0 {
					l.Box = w.Box
				} else {
					l.Box = Box{min(l.Box.X0, w.Box.X0), min(l.Box.Y0, w.Box.Y0), max(l.Box.X1, w.Box.X1), max(l.Box.Y1, w.Box.Y1)}
				}
				l.Words = append(l.Words, w)
			}
			if li > 0 {
				text.WriteByte('\n')
			}
			text.WriteString(l.Text())
			p.Lines = append(p.Lines, l)
		}
		p.Text = text.String()
		d.Pages = append(d.Pages, p)
	}
	return d, nil
}

// word checks and converts one [text, x0, y0, x1, y1, confidence] tuple.
func (t wordTuple) word() (Word, error) {
	s, ok := t[0].(string)
	if !ok {
		return Word{}, errors.New("text is not a string")
	}
	var v [5]float64
	for i := range v {
		n, ok := t[i+1].(json.Number)
		if !ok {
			return Word{}, fmt.Errorf("element %d is not a number", i+2)
		}
		f, err := n.Float64()
		if err != nil || !finite(f) {
			return Word{}, fmt.Errorf("element %d is not a finite number", i+2)
		}
		v[i] = f
	}
	if v[4] < 0 || v[4] > 1 {
		return Word{}, fmt.Errorf("confidence %v is outside 0..1", v[4])
	}
	return Word{Text: s, Box: Box{v[0], v[1], v[2], v[3]}, Confidence: v[4]}, nil
}
