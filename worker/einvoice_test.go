package worker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker/einvoice"
	"github.com/ocrinvoice/ocrinvoice/worker/einvoice/export"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// acmeInvoice is the invoice testdocs.InvoiceLines prints, as an e-invoice holds it.
func acmeInvoice() invoice.ExtractedData { return testdocs.InvoiceData() }

func mustXML(t *testing.T, d invoice.ExtractedData, syn export.Syntax) []byte {
	t.Helper()
	b, err := export.Write(d, syn)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func findings(v invoice.ValidationResults, field string) []invoice.ValidationError {
	var out []invoice.ValidationError
	for _, e := range v.Errors {
		if field == "" || e.Field == field {
			out = append(out, e)
		}
	}
	return out
}

// TestProcessEInvoiceXML: a standalone CII or UBL document is read from its XML in auto
// mode, exactly (confidence 1, source einvoice); text and ocr modes refuse it; XML that
// is not an e-invoice, and an XML bomb, are bad documents.
func TestProcessEInvoiceXML(t *testing.T) {
	r := newProcessReader(t)
	want := acmeInvoice()
	for _, syn := range []export.Syntax{export.CII, export.UBL} {
		xml := mustXML(t, want, syn)
		out, err := Process(context.Background(), r, Input{Data: xml, Name: "invoice.xml"}, Steps{})
		if err != nil {
			t.Fatalf("%s: %v", syn, err)
		}
		got := out.Result.Data
		if got.Invoice.Number != want.Invoice.Number || *got.Invoice.Amounts.Total != 238 || len(got.LineItems) != 2 ||
			got.Invoice.Supplier.Country != "DE" || *got.LineItems[1].TaxRate != 19 {
			t.Errorf("%s: read %+v", syn, got)
		}
		if out.Info.Source != invoice.SourceEInvoice || out.Info.EInvoice == nil || out.Info.EInvoice.Syntax != string(syn) ||
			out.Info.Format != "xml" || out.Info.Pages != 0 {
			t.Errorf("%s: info %+v", syn, out.Info)
		}
		if out.Result.Confidence.Overall != 1 || out.Result.Confidence.Fields["invoice.amounts.total"] != 1 {
			t.Errorf("%s: confidence %+v", syn, out.Result.Confidence)
		}
		if !out.Result.Validation.IsValid {
			t.Errorf("%s: findings on a valid e-invoice: %+v", syn, out.Result.Validation.Errors)
		}
		for _, mode := range []ocr.Mode{ocr.ModeText, ocr.ModeOCR} {
			_, err := Process(context.Background(), r, Input{Data: xml, Name: "invoice.xml"}, Steps{Read: ocr.Options{Mode: mode}})
			if re := (*ReadError)(nil); !errors.As(err, &re) || !errors.Is(err, ocr.ErrUnsupported) || !strings.Contains(err.Error(), "auto") {
				t.Errorf("%s in %s mode: %v, want an unsupported-format ReadError pointing to auto", syn, mode, err)
			}
		}
	}
	for name, tc := range map[string]struct {
		data []byte
		is   error
	}{
		"xhtml":          {[]byte(`<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body>Invoice</body></html>`), ocr.ErrUnsupported},
		"billion laughs": {[]byte(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`), ocr.ErrBadDocument},
		"truncated":      {mustXML(t, want, export.CII)[:300], ocr.ErrBadDocument},
	} {
		_, err := Process(context.Background(), r, Input{Data: tc.data, Name: name + ".xml"}, Steps{})
		if re := (*ReadError)(nil); !errors.As(err, &re) || !errors.Is(err, tc.is) {
			t.Errorf("%s: %v, want a ReadError that is %v", name, err, tc.is)
		}
	}
}

// TestProcessHybridPDF: a PDF that embeds its invoice as XML is read from the XML in
// auto mode (the page only cross-checks it), and from its page in text mode; a page
// that shows other values than the XML gives a warning naming both.
func TestProcessHybridPDF(t *testing.T) {
	r := newProcessReader(t)
	want := acmeInvoice()
	xml := mustXML(t, want, export.CII)
	pdf := testdocs.HybridPDF([]testdocs.File{{Name: "factur-x.xml", MIME: "text/xml", Data: xml}}, testdocs.Page{Lines: testdocs.InvoiceLines})
	path := filepath.Join(t.TempDir(), "hybrid.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]Input{"path": {Path: path}, "bytes": {Data: pdf, Name: "hybrid.pdf"}} {
		out, err := Process(context.Background(), r, in, Steps{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out.Info.Source != invoice.SourceEInvoice || out.Info.EInvoice == nil || out.Info.EInvoice.Attachment != "factur-x.xml" || out.Info.Pages != 1 || out.Info.Format != "pdf" {
			t.Errorf("%s: info %+v", name, out.Info)
		}
		if len(out.Result.Data.LineItems) != 2 || *out.Result.Data.LineItems[0].TaxRate != 19 {
			t.Errorf("%s: items %+v", name, out.Result.Data.LineItems)
		}
		for _, e := range out.Result.Validation.Errors {
			if strings.Contains(e.Message, "cross-check") {
				t.Errorf("%s: cross-check finding on a page that agrees: %+v", name, e)
			}
		}
	}
	// --read text measures the page reader: the XML is ignored.
	out, err := Process(context.Background(), r, Input{Data: pdf, Name: "hybrid.pdf"}, Steps{Read: ocr.Options{Mode: ocr.ModeText}})
	if err != nil {
		t.Fatal(err)
	}
	if out.Info.Source != invoice.SourceText || out.Info.EInvoice != nil || len(out.Result.Data.LineItems) == 0 || out.Result.Data.LineItems[0].TaxRate != nil {
		t.Errorf("text mode: info %+v items %+v", out.Info, out.Result.Data.LineItems)
	}

	// The page says 238.00, the XML 283.00 and another IBAN: a payer must hear of it.
	tampered := acmeInvoice()
	tampered.Invoice.Amounts.Total, tampered.Invoice.AmountDue = invoice.Float(283), invoice.Float(283)
	tampered.Invoice.Amounts.Tax = invoice.Float(83)
	tampered.Invoice.TaxBreakdown[0].Amount = invoice.Float(83)
	pdf = testdocs.HybridPDF([]testdocs.File{{Name: "factur-x.xml", MIME: "text/xml", Data: mustXML(t, tampered, export.UBL)}},
		testdocs.Page{Lines: testdocs.InvoiceLines})
	out, err = Process(context.Background(), r, Input{Data: pdf, Name: "tampered.pdf"}, Steps{})
	if err != nil {
		t.Fatal(err)
	}
	f := findings(out.Result.Validation, "invoice.amounts.total")
	if len(f) != 1 || f[0].Severity != invoice.SeverityWarning || !strings.Contains(f[0].Message, "238.00") || !strings.Contains(f[0].Message, "283.00") {
		t.Errorf("total findings %+v, want one warning naming 238.00 and 283.00 (all: %+v)", f, out.Result.Validation.Errors)
	}
	if f := findings(out.Result.Validation, "invoice.amounts.tax"); len(f) != 1 || !strings.Contains(f[0].Message, "38.00") {
		t.Errorf("tax findings %+v", f)
	}
	if f := findings(out.Result.Validation, "invoice.number"); len(f) != 0 {
		t.Errorf("number findings on an agreeing number: %+v", f)
	}
	// Without the cross-check the page is not read: no page count, no warning.
	out, err = Process(context.Background(), r, Input{Data: pdf, Name: "tampered.pdf"}, Steps{NoCrossCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if f := findings(out.Result.Validation, "invoice.amounts.total"); len(f) != 0 || out.Info.Pages != 0 || out.Info.Source != invoice.SourceEInvoice {
		t.Errorf("no cross-check: findings %+v pages %d source %q", f, out.Info.Pages, out.Info.Source)
	}
}

// TestProcessHybridBadAttachments: an attachment that claims to be XML and is not, or
// two embedded invoices that disagree, leave the XML aside with a finding and the page
// is read; an embedded invoice whose lines do not add up is read, with EN 16931 errors.
func TestProcessHybridBadAttachments(t *testing.T) {
	r := newProcessReader(t)
	page := testdocs.Page{Lines: testdocs.InvoiceLines}
	other := acmeInvoice()
	other.Invoice.Number = "INV-2024-0043"
	for name, tc := range map[string]struct {
		files    []testdocs.File
		severity invoice.Severity
		says     string
	}{
		"not xml": {[]testdocs.File{{Name: "factur-x.xml", MIME: "text/xml", Data: []byte("%PDF-1.4 this is no XML")}}, invoice.SeverityWarning, "factur-x.xml"},
		"other xml": {[]testdocs.File{{Name: "factur-x.xml", MIME: "text/xml", Data: []byte(`<?xml version="1.0"?><Order xmlns="urn:example:order"/>`)}},
			invoice.SeverityWarning, "not a readable e-invoice"},
		"two that disagree": {[]testdocs.File{
			{Name: "factur-x.xml", MIME: "text/xml", Data: mustXML(t, acmeInvoice(), export.CII)},
			{Name: "xrechnung.xml", MIME: "text/xml", Data: mustXML(t, other, export.UBL)},
		}, invoice.SeverityError, "disagree"},
	} {
		pdf := testdocs.HybridPDF(tc.files, page)
		out, err := Process(context.Background(), r, Input{Data: pdf, Name: name + ".pdf"}, Steps{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out.Info.Source != invoice.SourceText || out.Result.Data.Invoice.Number != "INV-2024-0042" {
			t.Errorf("%s: source %q number %q, want the page's reading", name, out.Info.Source, out.Result.Data.Invoice.Number)
		}
		found := false
		for _, e := range out.Result.Validation.Errors {
			found = found || (e.Severity == tc.severity && strings.Contains(e.Message, tc.says))
		}
		if !found {
			t.Errorf("%s: no %s finding saying %q in %+v", name, tc.severity, tc.says, out.Result.Validation.Errors)
		}
	}

	// An e-invoice that disagrees with itself: its grand total says 248.00 where net
	// 200.00 and tax 38.00 make 238.00.
	xml := []byte(strings.Replace(string(mustXML(t, acmeInvoice(), export.CII)), ">238.00<", ">248.00<", 1))
	doc, err := einvoice.Parse(xml, einvoice.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if *doc.Data.Invoice.Amounts.Total != 248 {
		t.Fatalf("the altered XML reads total %v", *doc.Data.Invoice.Amounts.Total)
	}
	out, err := Process(context.Background(), r, Input{Data: xml, Name: "self-contradicting.xml"}, Steps{})
	if err != nil {
		t.Fatal(err)
	}
	rule := ""
	for _, e := range out.Result.Validation.Errors {
		if e.Rule == "BR-CO-15" && e.Severity == invoice.SeverityError {
			rule = e.Rule
		}
	}
	if out.Result.Validation.IsValid || rule == "" {
		t.Errorf("self-contradicting e-invoice: valid %v findings %+v, want a BR-CO-15 error", out.Result.Validation.IsValid, out.Result.Validation.Errors)
	}
}

// TestProcessNotValidatingSamples: the EN 16931 samples built to fail are read and
// reported invalid: the UBL one with the business rules it breaks (its lines add up to
// ten times its net total, and its grand total is not net + VAT), the CII one with its
// IBAN, whose check digits are wrong (the reference Schematron finds nothing in it).
func TestProcessNotValidatingSamples(t *testing.T) {
	root := os.Getenv("OCRINVOICE_SHARED_DATA")
	if root == "" {
		root = filepath.Join("..", "..", "shared", "data")
	}
	dir := filepath.Join(root, "einvoices")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared data not available at %s: %v", dir, err)
	}
	r := newProcessReader(t)
	for file, want := range map[string][]string{
		"ubl/not_validating_full_invoice_based_onTest_EeISI_300_CENfullmodel.ubl.xml": {"BR-CO-13", "BR-CO-15"},
		"cii/not_validating_full_invoice_based_onTest_EeISI_300_CENfullmodel.cii.xml": {"invoice.payment.iban"},
	} {
		out, err := Process(context.Background(), r, Input{Path: filepath.Join(dir, file)}, Steps{})
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if out.Result.Validation.IsValid || out.Info.Source != invoice.SourceEInvoice {
			t.Errorf("%s: valid %v source %q", file, out.Result.Validation.IsValid, out.Info.Source)
		}
		for _, w := range want {
			found := false
			for _, e := range out.Result.Validation.Errors {
				found = found || (e.Severity == invoice.SeverityError && (e.Rule == w || e.Field == w))
			}
			if !found {
				t.Errorf("%s: no error %s in %+v", file, w, out.Result.Validation.Errors)
			}
		}
	}
}
