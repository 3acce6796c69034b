package extract

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// TestDump prints the rows and segments the extractor sees for the file in
// OCRINVOICE_DUMP (a debugging aid; skipped otherwise).
func TestDump(t *testing.T) {
	path := os.Getenv("OCRINVOICE_DUMP")
	if path == "" {
		t.Skip("set OCRINVOICE_DUMP=FILE to print the extractor's view of a document")
	}
	r, err := ocr.NewReader(ocr.Config{Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	mode := ocr.Mode(os.Getenv("OCRINVOICE_DUMP_MODE"))
	ld, err := r.Read(context.Background(), path, ocr.Options{Mode: mode})
	if err != nil {
		t.Fatal(err)
	}
	d := buildDoc(ld)
	for i, row := range d.rows {
		fmt.Printf("%3d p%d y=%6.1f |", i, row.page, row.box.Y0)
		for _, s := range row.segs {
			fmt.Printf(" [%.0f-%.0f]%q", s.box.X0, s.box.X1, s.text)
		}
		fmt.Println()
	}
}
