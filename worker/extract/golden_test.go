package extract

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files of TestGolden")

// TestGolden extracts whole synthetic documents (testdata/golden/*.txt, pages separated
// by form feeds) and compares the complete result with NAME.golden.json. Run with
// -update to regenerate after an intended change, and review the diff.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Extract(FromText(string(b)), Options{Now: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(struct {
				ExtractedData     any    `json:"extractedData"`
				Confidence        any    `json:"confidence"`
				ValidationResults any    `json:"validationResults"`
				Language          string `json:"language"`
			}{res.Data, res.Confidence, res.Validation, res.Language}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(f, ".txt") + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read %s (run go test -update to create it): %v", golden, err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the extraction (go test -run TestGolden -update to accept):\n%s", golden, got)
			}
		})
	}
}
