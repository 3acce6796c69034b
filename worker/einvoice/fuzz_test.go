package einvoice

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics and that every failure is one of the
// sentinel errors. The corpus is seeded with the samples, the hand-made fixtures and
// the bad inputs.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*")
	for _, syntax := range []string{"cii", "ubl"} {
		// Without the shared data the glob is empty and the fixtures seed alone.
		files, _ := filepath.Glob(filepath.Join(sharedDataDir(), "einvoices", syntax, "*.xml"))
		seeds = append(seeds, files...)
	}
	for _, p := range seeds {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(`<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"/>`))
	f.Add([]byte(`<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"><CreditNoteLine/></CreditNote>`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data, Limits{MaxBytes: 1 << 20})
		if err != nil {
			if doc != nil {
				t.Errorf("a document with error %v", err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrDTD) && !errors.Is(err, ErrNotEInvoice) && !errors.Is(err, ErrTooLarge) {
				t.Errorf("error %v is none of the sentinel errors", err)
			}
			return
		}
		if doc.Data.LineItems == nil || (doc.Info.Syntax != string(SyntaxCII) && doc.Info.Syntax != string(SyntaxUBL)) {
			t.Errorf("incomplete document: %+v", doc)
		}
		if s, err := Sniff(data); err != nil || string(s) != doc.Info.Syntax {
			t.Errorf("Sniff = %q, %v after Parse read %q", s, err, doc.Info.Syntax)
		}
	})
}
