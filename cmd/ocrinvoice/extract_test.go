package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker/einvoice/export"
)

// pdfText is one piece of text placed on a page, in points from the top-left corner.
type pdfText struct {
	x, y float64
	s    string
}

// writeTextPDF writes a one-page PDF with a Helvetica text layer: a minimal, valid
// file made by hand so that tests need no generator.
func writeTextPDF(t testing.TB, path string, items []pdfText) {
	t.Helper()
	var content bytes.Buffer
	content.WriteString("BT /F1 10 Tf\n")
	for _, it := range items {
		esc := strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(it.s)
		fmt.Fprintf(&content, "1 0 0 1 %.1f %.1f Tm (%s) Tj\n", it.x, 842-it.y, esc)
	}
	content.WriteString("ET\n")
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
	}
	if err := os.WriteFile(path, testdocs.RawPDF(1, objs), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sampleInvoice is a small English invoice laid out in columns.
var sampleInvoice = []pdfText{
	{50, 50, "Globex Corporation Ltd."}, {50, 64, "1 Main Street"}, {50, 78, "Springfield 12345"},
	{350, 50, "Invoice No:"}, {440, 50, "GX-1001"},
	{350, 64, "Invoice Date:"}, {440, 64, "2024-02-01"},
	{350, 78, "Due Date:"}, {440, 78, "2024-03-02"},
	{50, 120, "Bill To:"}, {50, 134, "Initech LLC"}, {50, 148, "9 Side Road"}, {50, 162, "Shelbyville 54321"},
	{50, 220, "Description"}, {300, 220, "Qty"}, {360, 220, "Unit Price"}, {480, 220, "Amount"},
	{50, 236, "Paper clips"}, {300, 236, "10"}, {360, 236, "2.00"}, {480, 236, "20.00"},
	{50, 250, "Staplers"}, {300, 250, "2"}, {360, 250, "15.00"}, {480, 250, "30.00"},
	{360, 290, "Subtotal"}, {480, 290, "50.00"},
	{360, 304, "Tax 10%"}, {480, 304, "5.00"},
	{360, 318, "Total USD"}, {480, 318, "55.00"},
}

func TestExtractCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "invoice.pdf")
	writeTextPDF(t, good, sampleInvoice)
	corrupt := filepath.Join(dir, "corrupt.pdf")
	os.WriteFile(corrupt, []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >>\nthis is not a pdf"), 0o644)
	textAsPDF := filepath.Join(dir, "notes.pdf")
	os.WriteFile(textAsPDF, []byte("just some notes, not a document\n"), 0o644)
	empty := filepath.Join(dir, "empty.pdf")
	os.WriteFile(empty, nil, 0o644)
	missing := filepath.Join(dir, "missing.pdf")

	cases := []struct {
		name     string
		files    []string
		wantErr  bool
		wantFail []bool // per file: an error line expected
	}{
		{"one good file", []string{good}, false, []bool{false}},
		{"missing file", []string{missing}, true, []bool{true}},
		{"corrupt pdf", []string{corrupt}, true, []bool{true}},
		{"text renamed pdf", []string{textAsPDF}, true, []bool{true}},
		{"empty file", []string{empty}, true, []bool{true}},
		{"bad files do not stop good ones; order kept", []string{missing, good, corrupt, good}, true, []bool{true, false, true, false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"--json", "--read", "text"}, c.files...)
			err := run(context.Background(), append([]string{"extract"}, args...), func(string) string { return "" }, &out, &errOut)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %v; stderr %s", err, c.wantErr, errOut.String())
			}
			if err != nil && !errors.Is(err, errSilent) {
				t.Errorf("err = %v, want errSilent (exit code 1 after reporting)", err)
			}
			sc := bufio.NewScanner(&out)
			i := 0
			for sc.Scan() {
				var l extractLine
				if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
					t.Fatalf("line %d is not JSON: %v: %s", i, err, sc.Text())
				}
				if i >= len(c.files) {
					t.Fatalf("more lines than files")
				}
				if l.File != c.files[i] {
					t.Errorf("line %d file = %q, want %q", i, l.File, c.files[i])
				}
				if (l.Error != "") != c.wantFail[i] {
					t.Errorf("line %d error = %q, want failure %v", i, l.Error, c.wantFail[i])
				}
				if l.Error == "" {
					if l.ExtractedData == nil || l.Confidence == nil || l.ValidationResults == nil || l.DocumentInfo == nil {
						t.Fatalf("line %d lacks a section: %s", i, sc.Text())
					}
					inv := l.ExtractedData.Invoice
					if inv.Number != "GX-1001" || inv.Date != "2024-02-01" || inv.DueDate != "2024-03-02" {
						t.Errorf("header = %q %q %q", inv.Number, inv.Date, inv.DueDate)
					}
					if inv.Amounts.Total == nil || *inv.Amounts.Total != 55 || inv.Amounts.Currency != "USD" {
						t.Errorf("amounts = %+v", inv.Amounts)
					}
					if len(l.ExtractedData.LineItems) != 2 {
						t.Errorf("line items = %+v", l.ExtractedData.LineItems)
					}
					if !l.ValidationResults.IsValid {
						t.Errorf("validation = %+v", l.ValidationResults)
					}
					if l.DocumentInfo.Pages != 1 || l.DocumentInfo.Format != "pdf" {
						t.Errorf("documentInfo = %+v", l.DocumentInfo)
					}
				}
				i++
			}
			if i != len(c.files) {
				t.Errorf("%d lines for %d files", i, len(c.files))
			}
		})
	}
}

func TestExtractCommandUsage(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"no files", nil},
		{"bad read mode", []string{"--read", "fast", "x.pdf"}},
		{"unknown template", []string{"--template", "nope", "x.pdf"}},
		{"unknown flag", []string{"--colour", "x.pdf"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), append([]string{"extract"}, c.args...), func(string) string { return "" }, &out, &errOut)
			if err == nil {
				t.Fatalf("no error for %v", c.args)
			}
		})
	}
}

func TestExtractHumanSummary(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "invoice.pdf")
	writeTextPDF(t, good, sampleInvoice)
	var out, errOut bytes.Buffer
	if err := run(context.Background(), append([]string{"extract"}, []string{good}...), func(string) string { return "" }, &out, &errOut); err != nil {
		t.Fatalf("%v: %s", err, errOut.String())
	}
	for _, want := range []string{"GX-1001", "Initech LLC", "55.00", "Validation: valid"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}

// TestExtractEInvoiceFormats: --format cii|ubl writes the invoice as EN 16931 XML (to
// standard output for one file, into --out for several); a file whose data lacks what
// EN 16931 requires is an error naming the business terms; bad flag combinations are
// refused before anything is read.
func TestExtractEInvoiceFormats(t *testing.T) {
	dir := t.TempDir()
	f := invoice.Float
	data := invoice.ExtractedData{Invoice: invoice.Invoice{
		Number: "X-1", Date: "2024-03-15", DueDate: "2024-04-14",
		Supplier:     invoice.Supplier{Name: "ACME GmbH", Address: "Hauptstrasse 1, 10115 Berlin", Country: "DE", TaxID: "DE136695976"},
		Customer:     invoice.Customer{Name: "Globex", Address: "Market Street 5, 80331 Munich", Country: "DE"},
		Amounts:      invoice.Amounts{Subtotal: f(100), Tax: f(19), Total: f(119), Currency: "EUR"},
		AmountDue:    f(119),
		TaxBreakdown: []invoice.TaxRate{{Rate: f(19), Base: f(100), Amount: f(19), Category: "S"}},
	}, LineItems: []invoice.LineItem{{Description: "Widget", Quantity: f(1), UnitPrice: f(100), Amount: f(100), TaxRate: f(19)}}}
	ubl, err := export.Write(data, export.UBL)
	if err != nil {
		t.Fatal(err)
	}
	xmlPath := filepath.Join(dir, "in.xml")
	if err := os.WriteFile(xmlPath, ubl, 0o644); err != nil {
		t.Fatal(err)
	}
	// A plain PDF of a receipt-like page: no buyer country, no lines EN 16931 accepts.
	plain := filepath.Join(dir, "plain.pdf")
	if err := os.WriteFile(plain, testdocs.PDF(testdocs.Page{Lines: []string{"Invoice 7", "Total 10.00"}}), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"extract"}, args...), func(string) string { return "" }, &out, &errOut)
		return out.String(), errOut.String(), err
	}
	if out, _, err := run("--format", "cii", xmlPath); err != nil || !strings.Contains(out, "<rsm:CrossIndustryInvoice") || !strings.Contains(out, "X-1") {
		t.Errorf("UBL in, CII out: %v %.200s", err, out)
	}
	outDir := t.TempDir()
	if _, msg, err := run("--format", "ubl", "--out", outDir, xmlPath, plain); err == nil || !strings.Contains(msg, "BT-") {
		t.Errorf("two files, one incomplete: err %v, stderr %q (want the missing terms)", err, msg)
	}
	if b, err := os.ReadFile(filepath.Join(outDir, "in.ubl.xml")); err != nil || !bytes.Contains(b, []byte("<Invoice")) {
		t.Errorf("--out file: %v %.100s", err, b)
	}
	for _, bad := range [][]string{{"--format", "pdf", xmlPath}, {"--format", "cii", xmlPath, plain}, {"--out", outDir, xmlPath}} {
		if _, _, err := run(bad...); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
