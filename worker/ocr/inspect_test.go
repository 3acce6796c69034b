package ocr

import (
	"context"
	"errors"
	"testing"
)

// TestInspectPDFFromTextLayer: the page count and sizes taken from the text layer (no
// pdfinfo run) are pdfinfo's, for text pages and image-only pages alike; OCR mode still
// asks pdfinfo; a PDF over the page limit is refused before its page text is read.
func TestInspectPDFFromTextLayer(t *testing.T) {
	path := writeFile(t, "mixed.pdf", buildPDF(t,
		pdfPage{lines: invoiceLines},
		pdfPage{img: renderText([]string{"scanned page"}, 100)},
		pdfPage{lines: invoiceLines}))
	opts := Options{Timeout: DefaultTimeout, MaxPages: DefaultMaxPages, MemoryLimit: -1}
	want, err := readPDFInfo(context.Background(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []Mode{ModeAuto, ModeText, ModeOCR} {
		opts.Mode = mode
		info, text, err := inspectPDF(context.Background(), path, opts)
		if err != nil {
			t.Fatalf("mode %q: %v", mode, err)
		}
		if (text == nil) != (mode == ModeOCR) {
			t.Errorf("mode %q: text layer read = %v", mode, text != nil)
		}
		if info.Pages != want.Pages || len(info.Sizes) != len(want.Sizes) {
			t.Fatalf("mode %q: %d pages %v, pdfinfo says %d %v", mode, info.Pages, info.Sizes, want.Pages, want.Sizes)
		}
		for i := range want.Sizes {
			for k := range 2 {
				if d := info.Sizes[i][k] - want.Sizes[i][k]; d > 0.01 || d < -0.01 {
					t.Errorf("mode %q: page %d size %v, pdfinfo says %v", mode, i+1, info.Sizes[i], want.Sizes[i])
				}
			}
		}
	}
	opts.Mode, opts.MaxPages = ModeAuto, 2
	if _, _, err := inspectPDF(context.Background(), path, opts); !errors.Is(err, ErrTooLarge) {
		t.Errorf("3 pages with a limit of 2: %v, want ErrTooLarge", err)
	}
}

// TestNoPageText: without page text the pages keep their words and lines (what the
// generic extractor reads) and only the template text is left out.
func TestNoPageText(t *testing.T) {
	path := writeFile(t, "text.pdf", buildPDF(t, pdfPage{lines: invoiceLines}))
	r, err := NewReader(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	full, err := r.Read(context.Background(), path, Options{Mode: ModeText})
	if err != nil {
		t.Fatal(err)
	}
	lean, err := r.Read(context.Background(), path, Options{Mode: ModeText, NoPageText: true})
	if err != nil {
		t.Fatal(err)
	}
	if full.Pages[0].Text == "" || lean.Pages[0].Text != "" {
		t.Errorf("page text %q with it, %q without it", full.Pages[0].Text, lean.Pages[0].Text)
	}
	if len(lean.Pages[0].Lines) == 0 || len(lean.Pages[0].Lines) != len(full.Pages[0].Lines) {
		t.Errorf("%d lines without page text, %d with it", len(lean.Pages[0].Lines), len(full.Pages[0].Lines))
	}
}
