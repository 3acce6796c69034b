// Package synth makes the synthetic invoice set of
// worker/extract/evaluate/testdata/synthetic: invoices of the kinds extraction finds hard
// (US broadcast-station invoices to agencies with gross, agency commission and net
// amount due; German and French invoices with three VAT rates and a breakdown table;
// invoice numbers with separators and policy or contract numbers in place of an invoice
// number; party names wrapped over two lines with salutation, attention, GLN and
// customer-number lines; credit notes printed with positive amounts; line-item tables
// continued on a second page, with and without a repeated header and with the header
// alone on the first page; US, European and French number and date formats), in
// English, German and French, in three layouts (a European business letter, with a
// variant for premium and rent notices; an English-style invoice; a US station invoice)
// that vary in font, page size, address side and wording.
//
// Each document is a real PDF with a text layer, written by the small PDF writer of
// this package (standard 14 fonts with WinAnsiEncoding, lines, shaded bars, several
// pages), and a noisy 200 DPI greyscale scan of it: the PDF rasterised by pdftoppm -r 200,
// then rotated by less than a degree, slightly blurred, put on grey paper and speckled,
// all from a seed derived from the document's id. A one-page document's scan is a PNG,
// a longer one's a multi-page TIFF (one image per page), so that one truth record covers
// the whole document. truth.jsonl holds two records per document (the PDF and its
// scan) in the development data's format; see Record.
//
// The PDFs and truth.jsonl depend only on this package's code, so regenerating them
// gives the same bytes (TestGeneratedFilesUpToDate checks this); the scans also depend
// on the installed poppler. Regenerate everything with
//
//	go run ./worker/extract/synth/cmd -out worker/extract/evaluate/testdata/synthetic
//
// (only the PDFs and truth with -images=false), or with
// go test ./worker/extract/synth -update.
package synth

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
)

// Document is one generated document.
type Document struct {
	ID    string
	PDF   []byte
	Pages int
	// Truth is the record of the PDF; the scan's record differs in File and
	// meta.rasterOf only.
	Truth Record
}

// PDFFile is the document's PDF, relative to the set's folder.
func (d Document) PDFFile() string { return "files/pdf/" + d.ID + ".pdf" }

// ImageFile is the document's scan, relative to the set's folder: a PNG for one page,
// a multi-page TIFF for more.
func (d Document) ImageFile() string {
	if d.Pages > 1 {
		return "files/scan/" + d.ID + ".tiff"
	}
	return "files/scan/" + d.ID + ".png"
}

// Seed is the noise seed of the document's scan.
func (d Document) Seed() uint64 {
	h := fnv.New64a()
	h.Write([]byte(d.ID))
	return h.Sum64()
}

// Generate builds every document of the set, in a fixed order.
func Generate() []Document {
	var out []Document
	for _, s := range documents() {
		pdf := s.layout(s)
		d := Document{ID: s.id, PDF: pdf.Bytes(), Pages: pdf.Pages()}
		d.Truth = s.truth(d.PDFFile(), d.Pages)
		out = append(out, d)
	}
	return out
}

// TruthJSONL returns truth.jsonl for docs: each document's PDF record followed by its
// scan's.
func TruthJSONL(docs []Document) ([]byte, error) {
	var b bytes.Buffer
	for _, d := range docs {
		for k, file := range []string{d.PDFFile(), d.ImageFile()} {
			r := d.Truth
			r.File = file
			meta := map[string]any{}
			for key, v := range d.Truth.Meta {
				meta[key] = v
			}
			if k == 1 {
				meta["rasterOf"] = d.PDFFile()
				meta["dpi"] = ScanDPI
			}
			r.Meta = meta
			line, err := marshalLine(r)
			if err != nil {
				return nil, fmt.Errorf("encode truth of %s: %w", file, err)
			}
			b.Write(line)
		}
	}
	return b.Bytes(), nil
}

// Write generates the set into dir: files/pdf/*.pdf, truth.jsonl and, when images is
// true, files/scan/* (which needs pdftoppm). Files of the set that are no longer
// generated are not removed.
func Write(ctx context.Context, dir string, images bool) error {
	docs := Generate()
	for _, sub := range []string{"files/pdf", "files/scan"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", sub, err)
		}
	}
	for _, d := range docs {
		pdfPath := filepath.Join(dir, d.PDFFile())
		if err := os.WriteFile(pdfPath, d.PDF, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", pdfPath, err)
		}
		if !images {
			continue
		}
		img, err := Scan(ctx, pdfPath, d.Seed())
		if err != nil {
			return fmt.Errorf("scan %s: %w", d.ID, err)
		}
		if err := os.WriteFile(filepath.Join(dir, d.ImageFile()), img, 0o644); err != nil {
			return fmt.Errorf("write scan of %s: %w", d.ID, err)
		}
	}
	truth, err := TruthJSONL(docs)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "truth.jsonl"), truth, 0o644); err != nil {
		return fmt.Errorf("write truth: %w", err)
	}
	return nil
}
