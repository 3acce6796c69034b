package layout

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func sampleDoc() *Document {
	return &Document{Format: "pdf", Size: 12345, DPI: 300, Language: "eng+deu", Warnings: []string{"not kept"},
		Pages: []Page{
			{Number: 1, Width: 612, Height: 792, Source: SourceTextLayer, Text: "not kept", Lines: []Line{
				{Words: []Word{{Text: "Rechnung", Box: Box{10, 20, 60.123, 31}, Confidence: 1}, {Text: "Nr.", Box: Box{62, 20, 75, 31}, Confidence: 1}}},
				{Words: []Word{{Text: "Summe", Box: Box{10, 40, 50, 51}, Confidence: 1}, {Text: "1.234,56", Box: Box{300, 39.5, 350, 51.25}, Confidence: 1}}},
			}},
			{Number: 2, Width: 2480, Height: 3508, Source: SourceOCR, Lines: []Line{
				{Words: []Word{{Text: "Ünïcödé €", Box: Box{100, 200, 400, 260}, Confidence: 0.8731}}},
			}},
		}}
}

// TestEncodeLayoutRoundTrip: what DecodeLayout returns is what was encoded, boxes and
// confidences to a hundredth, line boxes and page texts rebuilt from the words.
func TestEncodeLayoutRoundTrip(t *testing.T) {
	in := sampleDoc()
	b, err := EncodeLayout(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeLayout(b)
	if err != nil {
		t.Fatal(err)
	}
	if out.Format != in.Format || out.Size != in.Size || out.DPI != in.DPI || out.Language != in.Language || len(out.Pages) != 2 {
		t.Fatalf("document %+v", out)
	}
	for i, p := range in.Pages {
		q := out.Pages[i]
		if q.Number != p.Number || q.Width != p.Width || q.Height != p.Height || q.Source != p.Source || len(q.Lines) != len(p.Lines) {
			t.Fatalf("page %d: %+v", i+1, q)
		}
		for j, l := range p.Lines {
			m := q.Lines[j]
			if m.Text() != l.Text() || len(m.Words) != len(l.Words) {
				t.Fatalf("page %d line %d: %q", i+1, j+1, m.Text())
			}
			for k, w := range l.Words {
				v := m.Words[k]
				for _, d := range []float64{v.Box.X0 - w.Box.X0, v.Box.Y0 - w.Box.Y0, v.Box.X1 - w.Box.X1, v.Box.Y1 - w.Box.Y1, v.Confidence - w.Confidence} {
					if math.Abs(d) > 0.005 {
						t.Errorf("word %q: %+v, want %+v", w.Text, v, w)
					}
				}
			}
		}
	}
	if got := out.Pages[0].Text; got != "Rechnung Nr.\nSumme 1.234,56" {
		t.Errorf("page text %q", got)
	}
	if lb := out.Pages[0].Lines[1].Box; lb != (Box{10, 39.5, 350, 51.25}) {
		t.Errorf("line box %+v", lb)
	}
	// An empty document encodes too.
	b, err = EncodeLayout(&Document{})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := DecodeLayout(b); err != nil || len(d.Pages) != 0 {
		t.Fatalf("empty: %+v %v", d, err)
	}
}

// TestEncodeLayoutSizeCap: a document whose encoding is past MaxEncodedLayout is
// refused with an error, not truncated.
func TestEncodeLayoutSizeCap(t *testing.T) {
	defer func(c int) { encodedCap = c }(encodedCap)
	encodedCap = 64 << 10
	r := rand.New(rand.NewPCG(1, 2))
	var lines []Line
	for i := 0; i < 10000; i++ {
		lines = append(lines, Line{Words: []Word{{Text: fmt.Sprintf("%x%x", r.Uint64(), r.Uint64()), Box: Box{r.Float64() * 600, r.Float64() * 800, r.Float64() * 600, r.Float64() * 800}, Confidence: r.Float64()}}})
	}
	_, err := EncodeLayout(&Document{Pages: []Page{{Number: 1, Width: 600, Height: 800, Lines: lines}}})
	if err == nil || !strings.Contains(err.Error(), "allowed") {
		t.Fatalf("err %v, want a size error", err)
	}
	if _, err := EncodeLayout(nil); err == nil {
		t.Error("nil document: no error")
	}
	nan := sampleDoc()
	nan.Pages[0].Lines[0].Words[0].Box.X0 = math.NaN()
	if _, err := EncodeLayout(nan); err == nil {
		t.Error("NaN box: no error")
	}
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

// TestDecodeLayoutCorrupt: bytes that are not an encoded layout are an error, and no
// document is returned.
func TestDecodeLayoutCorrupt(t *testing.T) {
	good, err := EncodeLayout(sampleDoc())
	if err != nil {
		t.Fatal(err)
	}
	var bomb bytes.Buffer
	w := gzip.NewWriter(&bomb)
	w.Write([]byte(`{"v":1,"pages":[],"x":"`))
	chunk := bytes.Repeat([]byte{'a'}, 1<<20)
	for i := 0; i < 65; i++ {
		w.Write(chunk)
	}
	w.Write([]byte(`"}`))
	w.Close()
	cases := map[string][]byte{
		"empty":           nil,
		"not gzip":        []byte("{\"v\":1}"),
		"truncated":       good[:len(good)/2],
		"not json":        gz(t, "hello"),
		"other version":   gz(t, `{"v":2,"pages":[]}`),
		"word not array":  gz(t, `{"v":1,"pages":[{"n":1,"w":1,"h":1,"src":"text","lines":[[{"t":"x"}]]}]}`),
		"short word":      gz(t, `{"v":1,"pages":[{"n":1,"w":1,"h":1,"src":"text","lines":[[["x",1,2]]]}]}`),
		"text not string": gz(t, `{"v":1,"pages":[{"n":1,"w":1,"h":1,"src":"text","lines":[[[7,1,2,3,4,1]]]}]}`),
		"confidence 2":    gz(t, `{"v":1,"pages":[{"n":1,"w":1,"h":1,"src":"text","lines":[[["x",1,2,3,4,2]]]}]}`),
		"page order":      gz(t, `{"v":1,"pages":[{"n":2,"w":1,"h":1,"src":"text","lines":[]}]}`),
		"negative size":   gz(t, `{"v":1,"pages":[{"n":1,"w":-1,"h":1,"src":"text","lines":[]}]}`),
		"too large":       make([]byte, MaxEncodedLayout+1),
		"gzip bomb":       bomb.Bytes(),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := DecodeLayout(b)
			if err == nil || d != nil {
				t.Fatalf("got %v, %v; want an error and no document", d, err)
			}
			if !strings.HasPrefix(err.Error(), "decode layout: ") {
				t.Errorf("error %q does not say what failed", err)
			}
		})
	}
}
