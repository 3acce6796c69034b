package einvoice

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkParse reads one CII sample (the partial invoice, 4 lines).
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(sharedData(b), "einvoices", "cii", "EN16931_1_Teilrechnung.cii.xml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
