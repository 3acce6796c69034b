package worker

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker/einvoice/export"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// BenchmarkEInvoiceJob compares, in one run, reading a hybrid e-invoice PDF from its
// embedded XML, with the cross-check (the text layer is read once more to compare the
// page with the XML) and without, with reading the same PDF through its text layer.
// The target is xml <= 1/5 of textlayer; cpu-ms/op counts the poppler processes too.
// The PDF is a dev ZUGFeRD sample when ../shared/data is there, else a synthetic one.
func BenchmarkEInvoiceJob(b *testing.B) {
	needTools(b, "pdftotext")
	pdf := benchHybridPDF(b)
	r, err := ocr.NewReader(ocr.Config{Slots: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for _, v := range []struct {
		name  string
		mode  ocr.Mode
		cross bool
	}{{"xml+crosscheck", ocr.ModeAuto, true}, {"xml", ocr.ModeAuto, false}, {"textlayer", ocr.ModeText, false}} {
		mode := v.mode
		b.Run(v.name, func(b *testing.B) {
			in := Input{Data: pdf, Name: "bench.pdf"}
			steps := Steps{Read: ocr.Options{Mode: mode}, NoCrossCheck: !v.cross}
			out, err := Process(context.Background(), r, in, steps)
			if err != nil {
				b.Fatal(err)
			}
			if (out.Info.Source == invoice.SourceEInvoice) != (mode == ocr.ModeAuto) {
				b.Fatalf("%s read from %q", mode, out.Info.Source)
			}
			b.ResetTimer()
			cpu0 := cpuSeconds()
			for b.Loop() {
				if _, err := Process(context.Background(), r, in, steps); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric((cpuSeconds()-cpu0)*1000/float64(b.N), "cpu-ms/op")
		})
	}
}

func benchHybridPDF(b *testing.B) []byte {
	root := os.Getenv("OCRINVOICE_SHARED_DATA")
	if root == "" {
		root = filepath.Join("..", "..", "shared", "data")
	}
	p := filepath.Join(root, "invoices-dev", "zugferd-corpus", "files", "XML-Rechnung", "FX", "EN16931_Einfach.pdf")
	if data, err := os.ReadFile(p); err == nil {
		return data
	}
	b.Logf("%s not available: a synthetic hybrid PDF is measured instead", p)
	xml, err := export.Write(acmeInvoice(), export.CII)
	if err != nil {
		b.Fatal(err)
	}
	return testdocs.HybridPDF([]testdocs.File{{Name: "factur-x.xml", MIME: "text/xml", Data: xml}}, testdocs.Page{Lines: testdocs.InvoiceLines})
}
