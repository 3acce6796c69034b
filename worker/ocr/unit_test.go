package ocr

import (
	"bytes"
	"context"
	"errors"
	"image"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/imagefile"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

func TestRunToolLimits(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		max     int
		cmd     []string
		want    error
	}{
		{"timeout", 200 * time.Millisecond, 1 << 20, []string{"sleep", "10"}, ErrToolTimeout},
		{"output flood", 10 * time.Second, 1 << 16, []string{"yes"}, errOutputLimit},
		{"ok", 10 * time.Second, 1 << 10, []string{"echo", "hi"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			out, err := runTool(context.Background(), tt.timeout, tt.max, 0, tt.cmd[0], tt.cmd[1:]...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if tt.want == nil && string(out) != "hi\n" {
				t.Errorf("output %q", out)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	t.Run("exit code", func(t *testing.T) {
		_, err := runTool(context.Background(), time.Second, 1024, 0, "sh", "-c", "echo 'Syntax Error: broken' >&2; exit 1")
		var te *toolError
		if !errors.As(err, &te) || te.Code != 1 || !strings.Contains(te.Stderr, "broken") {
			t.Fatalf("error %v, want toolError with code 1", err)
		}
		if err := classifyPopplerError("x", err); !errors.Is(err, ErrCorrupt) {
			t.Errorf("classified as %v, want ErrCorrupt", err)
		}
	})
}

func word(text string, x0, y0, x1, y1 float64) layout.Word {
	return layout.Word{Text: text, Box: layout.Box{X0: x0, Y0: y0, X1: x1, Y1: y1}, Confidence: 0.9}
}

func line(words ...layout.Word) layout.Line {
	l := layout.Line{Words: words, Box: words[0].Box}
	for _, w := range words[1:] {
		l.Box = union(l.Box, w.Box)
	}
	return l
}

func TestLayoutText(t *testing.T) {
	// 10 pixels per character, lines 20 pixels high.
	tests := []struct {
		name  string
		lines []layout.Line
		want  string
	}{
		{"empty", nil, ""},
		{"one line", []layout.Line{line(word("Total", 0, 0, 50, 20), word("9.99", 60, 0, 100, 20))}, "Total 9.99"},
		{"columns joined on one row, gap kept",
			[]layout.Line{line(word("Total", 0, 100, 50, 120)), line(word("9.99", 300, 102, 340, 122))},
			"Total" + strings.Repeat(" ", 25) + "9.99"},
		{"rows in order, blank line for a large gap",
			[]layout.Line{line(word("Second", 0, 200, 60, 220)), line(word("First", 0, 0, 50, 20))},
			"First\n\n\nSecond"},
		{"indent relative to the leftmost word",
			[]layout.Line{line(word("Name", 100, 0, 140, 20)), line(word("Street", 200, 25, 260, 45))},
			"Name\n          Street"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := layoutText(tt.lines); got != tt.want {
				t.Errorf("layoutText =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestUsableText(t *testing.T) {
	mk := func(s string) []layout.Line {
		var ws []layout.Word
		for _, f := range strings.Fields(s) {
			ws = append(ws, layout.Word{Text: f})
		}
		return []layout.Line{{Words: ws}}
	}
	tests := []struct {
		name string
		text string
		want bool
	}{
		{"invoice text", "Invoice number 42 dated 2024-03-01 total 100.00 EUR", true},
		{"page number only", "Page 1", false},
		{"font without unicode map", strings.Repeat("\uE001\uE002\uE003 ", 20) + "Invoice number 42 dated 2024 total", false},
		{"replacement characters", strings.Repeat("\uFFFD", 40) + " Invoice number 42 dated 2024", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := usableText(mk(tt.text)); got != tt.want {
				t.Errorf("usableText = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRotateAndEXIF(t *testing.T) {
	// A 3x2 image with distinct pixels: 1 2 3 / 4 5 6.
	src := &image.Gray{Pix: []byte{1, 2, 3, 4, 5, 6}, Stride: 3, Rect: image.Rect(0, 0, 3, 2)}
	tests := []struct {
		name string
		got  *image.Gray
		want []byte
		w, h int
	}{
		{"rotate 90", rotateGray(src, 90), []byte{4, 1, 5, 2, 6, 3}, 2, 3},
		{"rotate 180", rotateGray(src, 180), []byte{6, 5, 4, 3, 2, 1}, 3, 2},
		{"rotate 270", rotateGray(src, 270), []byte{3, 6, 2, 5, 1, 4}, 2, 3},
		{"mirror", mirrorGray(src), []byte{3, 2, 1, 6, 5, 4}, 3, 2},
		{"exif 6 = rotate 90", applyEXIFOrientation(src, 6), []byte{4, 1, 5, 2, 6, 3}, 2, 3},
		{"exif 1 unchanged", applyEXIFOrientation(src, 1), []byte{1, 2, 3, 4, 5, 6}, 3, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got.Rect.Dx() != tt.w || tt.got.Rect.Dy() != tt.h || !bytes.Equal(tt.got.Pix, tt.want) {
				t.Errorf("got %dx%d %v, want %dx%d %v", tt.got.Rect.Dx(), tt.got.Rect.Dy(), tt.got.Pix, tt.w, tt.h, tt.want)
			}
		})
	}
	for o := 1; o <= 8; o++ {
		jpg := encodeJPEG(t, src, o)
		if got := imagefile.JPEGOrientation(jpg); got != o {
			t.Errorf("EXIF orientation %d read back as %d", o, got)
		}
	}
}

func TestPGMRoundTrip(t *testing.T) {
	src := renderText([]string{"abc"}, 50)
	got, err := decodePGM(encodePGM(src))
	if err != nil {
		t.Fatal(err)
	}
	if got.Rect != src.Rect || !bytes.Equal(got.Pix, src.Pix) {
		t.Fatal("PGM round trip changed the image")
	}
	for _, bad := range []string{"", "P6\n1 1\n255\n\x00", "P5\n2 2\n255\n\x00", "P5\nx y\n255\n"} {
		if _, err := decodePGM([]byte(bad)); err == nil {
			t.Errorf("decodePGM(%q) succeeded", bad)
		}
	}
}

// FuzzImageHeaders feeds arbitrary bytes to the header-only checks that run before
// any pixel is decoded: they must return an error or a config, never panic or hang.
func FuzzImageHeaders(f *testing.F) {
	f.Add(encodeTIFF(renderText([]string{"a"}, 30)))
	f.Add(tiffLoop())
	f.Add(pngHeader(20000, 20000))
	f.Add(encodeJPEG(f, renderText([]string{"a"}, 30), 6))
	f.Add([]byte("BM\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		format, err := DetectFormat(data)
		if err != nil {
			return
		}
		switch format {
		case FormatTIFF:
			offs, err := tiffPageOffsets(data, 50)
			if err != nil {
				return
			}
			for _, off := range offs {
				_, _ = decodeConfigReader(imagefile.TIFFPage(data, off), format, 1e6)
			}
		case FormatJPEG:
			_ = imagefile.JPEGOrientation(data)
			_, _ = decodeConfig(data, format, 1e6)
		case FormatPNG, FormatBMP:
			_, _ = decodeConfig(data, format, 1e6)
			_ = imageDPI(data, format)
		}
	})
}

// TestTextLineHeight: the estimate follows the rendered text size (11 pt at 150, 300 and
// 600 DPI), and a page without enough lines gives 0.
func TestTextLineHeight(t *testing.T) {
	lines := []string{}
	for i := 0; i < 30; i++ {
		lines = append(lines, "Invoice line with several words   12.50   3   37.50")
	}
	prev := 0.0
	for _, dpi := range []int{150, 300, 600} {
		lh := textLineHeight(renderText(lines, dpi))
		// 11 pt text: letters with ascenders and descenders are about 0.9 em high.
		want := 11 * 0.9 * float64(dpi) / 72
		if lh < 0.6*want || lh > 1.4*want || lh <= prev {
			t.Errorf("%d DPI: line height %.0f px, want about %.0f and above the previous %.0f", dpi, lh, want, prev)
		}
		prev = lh
	}
	if lh := textLineHeight(renderText([]string{"one line"}, 300)); lh != 0 {
		t.Errorf("single line page: %.0f, want 0", lh)
	}
	if lh := textLineHeight(image.NewGray(image.Rect(0, 0, 10, 10))); lh != 0 {
		t.Errorf("tiny image: %.0f, want 0", lh)
	}
}

// TestDownscaleGray: sizes follow the factor and area averaging keeps mean brightness.
func TestDownscaleGray(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 101, 60))
	for y := 0; y < 60; y++ {
		for x := 0; x < 101; x++ {
			if (x/2+y/2)%2 == 0 {
				img.Pix[y*img.Stride+x] = 255
			}
		}
	}
	mean := func(g *image.Gray) float64 {
		sum := 0
		for _, p := range g.Pix {
			sum += int(p)
		}
		return float64(sum) / float64(len(g.Pix))
	}
	for _, f := range []float64{0.9, 0.75, 0.5, 0.33} {
		out := downscaleGray(img, f)
		if b := out.Bounds(); b.Dx() != int(101*f) || b.Dy() != int(60*f) {
			t.Errorf("factor %v: %v", f, b)
		}
		if d := mean(out) - mean(img); d > 20 || d < -20 {
			t.Errorf("factor %v: mean brightness %.0f, source %.0f", f, mean(out), mean(img))
		}
	}
}
