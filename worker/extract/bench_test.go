package extract

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkExtract measures the extraction stage alone (no reading) on the synthetic
// golden documents: documents per second on already-read pages.
func BenchmarkExtract(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	if len(files) == 0 {
		b.Skip("no golden documents")
	}
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		doc := FromText(string(text))
		b.Run(filepath.Base(f), func(b *testing.B) {
			for b.Loop() {
				if _, err := Extract(doc, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
