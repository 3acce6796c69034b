package profile_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/extract/evaluate"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
	"github.com/ocrinvoice/ocrinvoice/worker/profile"
)

// benchDoc is a document a profile is learned from and one it is applied to.
type benchDoc struct {
	name          string
	learn, target *layout.Document
	truth         invoice.ExtractedData
}

// benchDocs are a synthetic pair and, when the dev data is there, two invoices of one
// supplier and layout read from their text layers (the first of three pages).
func benchDocs(b *testing.B) []benchDoc {
	first := supplierDoc{label: "Beleg", number: "BX-20417", date: "03.02.2024", net: "100,00", tax: "19,00", total: "119,00", customer: "K-4711"}
	second := supplierDoc{label: "Beleg", number: "BX-20533", date: "17.03.2024", net: "250,00", tax: "47,50", total: "297,50", customer: "K-4711"}
	docs := []benchDoc{{name: "synthetic", learn: first.doc(), target: second.doc(), truth: first.truth(b)}}
	dir := os.Getenv("OCRINVOICE_SHARED_DATA")
	if dir == "" {
		dir = "../../../shared/data"
	}
	dir = filepath.Join(dir, "invoices-dev", "zugferd-corpus")
	recs, err := evaluate.LoadTruth(dir)
	if err != nil {
		b.Logf("dev data not found (%v): synthetic documents only", err)
		return docs
	}
	dr := newDevReader(b)
	read := func(name string) (*layout.Document, evaluate.Record) {
		for _, r := range recs {
			if filepath.Base(r.File) == name {
				d, err := dr.read(context.Background(), filepath.Join(dir, r.File), ocr.ModeText)
				if err != nil {
					b.Fatal(err)
				}
				return d, r
			}
		}
		b.Fatalf("%s not in the dev data", name)
		return nil, evaluate.Record{}
	}
	learn, rec := read("EN16931_1_Teilrechnung.pdf")
	target, _ := read("EN16931_Einfach.pdf")
	return append(docs, benchDoc{name: "zugferd", learn: learn, target: target, truth: truthData(b, rec)})
}

// BenchmarkApply measures what a profile adds to a job, Keys and Apply, against
// Extract of the same document. The lookup of the profile is storage's and not
// measured here.
func BenchmarkApply(b *testing.B) {
	for _, d := range benchDocs(b) {
		machine, err := extract.Extract(d.learn, extract.Options{})
		if err != nil {
			b.Fatal(err)
		}
		_, rules, err := profile.Learn(d.learn, d.truth, machine.Data, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(d.name+"/extract", func(b *testing.B) {
			for b.Loop() {
				if _, err := extract.Extract(d.target, extract.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
		res, err := extract.Extract(d.target, extract.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(d.name+"/keys+apply", func(b *testing.B) {
			for b.Loop() {
				r := res
				r.Confidence.Fields = map[string]float64{}
				_ = profile.Keys(d.target, r.Data)
				if _, err := profile.Apply(d.target, rules, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(d.name+"/learn", func(b *testing.B) {
			for b.Loop() {
				if _, _, err := profile.Learn(d.learn, d.truth, machine.Data, rules, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
