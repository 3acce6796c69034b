package pdfattach

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// FuzzFiles checks that Files never panics and keeps its limits, whatever the input.
func FuzzFiles(f *testing.F) {
	for _, seed := range [][]byte{simplePDF(), objStmPDF(), indirectLengthPDF(), nestedPDF(), spellingPDF(), truncatedPDF(), encryptedXRefStmPDF()} {
		f.Add(seed)
	}
	lim := Limits{MaxFileBytes: 1 << 20, MaxFiles: 4}
	f.Fuzz(func(t *testing.T, pdf []byte) {
		files, err := Files(pdf, lim)
		if err != nil {
			if files != nil {
				t.Fatalf("files %v along with error %v", names(files), err)
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrEncrypted) {
				t.Fatalf("error %v wraps none of the package's errors", err)
			}
			return
		}
		if len(files) > lim.MaxFiles {
			t.Fatalf("%d files, limit %d", len(files), lim.MaxFiles)
		}
		for _, f := range files {
			if int64(len(f.Data)) > lim.MaxFileBytes {
				t.Fatalf("%s: %d bytes, limit %d", f.Name, len(f.Data), lim.MaxFileBytes)
			}
		}
	})
}

// TestHostileInputIsLinear feeds inputs built to make a naive scanner quadratic (every
// object or trailer opening a string that never closes, every stream missing its end)
// and checks that each is read in well under a second.
func TestHostileInputIsLinear(t *testing.T) {
	const n = 50_000
	cases := map[string]string{
		"unclosed strings":      "1 0 obj(",
		"unclosed dictionaries": "1 0 obj<</A[",
		"unclosed trailers":     "trailer<</A(",
		"streams without end":   "1 0 obj<</Type/EmbeddedFile/Length 99999999>>stream\n",
		"indirect lengths":      "1 0 obj<</Length 1 0 R>>stream\nendstream ",
		"file specifications":   "1 0 obj<</EF<</F 1 0 R>>/F(",
	}
	for name, unit := range cases {
		t.Run(name, func(t *testing.T) {
			pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte(unit), n)...)
			start := time.Now()
			files, err := Files(pdf, Limits{})
			if d := time.Since(start); d > time.Second {
				t.Errorf("%d bytes took %v", len(pdf), d)
			}
			t.Logf("%d files, %v", len(files), err)
		})
	}
}
