package worker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

func newProcessReader(t *testing.T) *ocr.Reader {
	t.Helper()
	r, err := ocr.NewReader(ocr.Config{Slots: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestProcessFileAndBytes: a file and the same bytes give the same invoice, and the
// document info is DocumentInfo's.
func TestProcessFileAndBytes(t *testing.T) {
	r := newProcessReader(t)
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	path := filepath.Join(t.TempDir(), "invoice.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	steps := Steps{Read: ocr.Options{Mode: ocr.ModeText}}
	for name, in := range map[string]Input{"path": {Path: path}, "bytes": {Data: pdf, Name: "invoice.pdf"}} {
		out, err := Process(context.Background(), r, in, steps)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		inv := out.Result.Data.Invoice
		if inv.Number != "INV-2024-0042" || inv.Date != "2024-03-15" || inv.Amounts.Total == nil || *inv.Amounts.Total != 238 {
			t.Errorf("%s: got number %q date %q total %v", name, inv.Number, inv.Date, inv.Amounts.Total)
		}
		if want := DocumentInfo(out.Doc, out.Result.Language); out.Info != want || out.Info.Pages != 1 || out.Info.Format != "pdf" {
			t.Errorf("%s: info %+v, want %+v (1 pdf page)", name, out.Info, want)
		}
	}
}

// TestProcessReadError: a document the reader refuses comes back as *ReadError carrying
// the reader's message unchanged, and extraction is not reached.
func TestProcessReadError(t *testing.T) {
	r := newProcessReader(t)
	called := false
	_, err := Process(context.Background(), r, Input{Data: []byte("not a document"), Name: "x.bin"},
		Steps{Extracting: func(*layout.Document) error { called = true; return nil }})
	var re *ReadError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *ReadError", err, err)
	}
	if !errors.Is(err, ocr.ErrBadDocument) {
		t.Errorf("error %v does not unwrap to ocr.ErrBadDocument", err)
	}
	if err.Error() != re.Err.Error() {
		t.Errorf("message %q changed from the reader's %q", err.Error(), re.Err.Error())
	}
	if called {
		t.Error("Extracting was called for a document that could not be read")
	}
}

// TestProcessExtracting: the hook sees the read document, and its error ends the run as is.
func TestProcessExtracting(t *testing.T) {
	r := newProcessReader(t)
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	stop := errors.New("cancelled")
	pages := 0
	out, err := Process(context.Background(), r, Input{Data: pdf, Name: "invoice.pdf"}, Steps{
		Read:       ocr.Options{Mode: ocr.ModeText},
		Extracting: func(d *layout.Document) error { pages = len(d.Pages); return stop },
	})
	if err != stop || out != nil {
		t.Fatalf("got %v, %v; want nil, the hook's error", out, err)
	}
	if pages != 1 {
		t.Errorf("hook saw %d pages, want 1", pages)
	}
	var re *ReadError
	if errors.As(err, &re) {
		t.Error("the hook's error is reported as a reading error")
	}
}

// TestProcessPageTextOnlyForTemplates: without a template the text PDF is read without
// its page text (one poppler run less) and gives the same invoice; a job spec with
// template fields gets the page text its regexes match, and the template's value.
func TestProcessPageTextOnlyForTemplates(t *testing.T) {
	r := newProcessReader(t)
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	in := Input{Data: pdf, Name: "invoice.pdf"}
	plain, err := Process(context.Background(), r, in, Steps{Read: ocr.Options{Mode: ocr.ModeText}})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Doc.Pages[0].Text != "" {
		t.Errorf("page text read without a template: %q", plain.Doc.Pages[0].Text)
	}
	if plain.Result.Data.Invoice.Number != "INV-2024-0042" {
		t.Errorf("number %q without page text", plain.Result.Data.Invoice.Number)
	}
	spec := &invoice.TemplateSpec{Keywords: []string{"ACME"}, Fields: map[string]invoice.FieldRule{"invoice_number": {Regex: []string{`(INV-\d+)-\d+`}}}}
	tpl, err := Process(context.Background(), r, in, Steps{Read: ocr.Options{Mode: ocr.ModeText}, Extract: extract.Options{Spec: spec}})
	if err != nil {
		t.Fatal(err)
	}
	if tpl.Doc.Pages[0].Text == "" {
		t.Error("no page text for a template")
	}
	if got := tpl.Result.Data.Invoice.Number; got != "INV-2024" {
		t.Errorf("template number %q, want INV-2024", got)
	}
}
