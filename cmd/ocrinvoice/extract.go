package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker"
	"github.com/ocrinvoice/ocrinvoice/worker/einvoice/export"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/extract/templates"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

// extractLine is one line of `extract --json` output.
type extractLine struct {
	File              string                     `json:"file"`
	ExtractedData     *invoice.ExtractedData     `json:"extractedData,omitempty"`
	Confidence        *invoice.Confidence        `json:"confidence,omitempty"`
	ValidationResults *invoice.ValidationResults `json:"validationResults,omitempty"`
	DocumentInfo      *invoice.DocumentInfo      `json:"documentInfo,omitempty"`
	Template          string                     `json:"template,omitempty"`
	Error             string                     `json:"error,omitempty"`
}

// cliReadFlags are the reading and template flags shared by extract and eval.
type cliReadFlags struct {
	template string
	read     string
	lang     string
	dpi      int
}

func (rf *cliReadFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&rf.template, "template", "", "invoice2data template (`NAME|FILE|DIR`): a .yml/.yaml/.json file, a folder of them (selected by keywords), or a name found in $OCRINVOICE_TEMPLATE_DIR; empty or \"generic\" = generic rules only")
	choiceVar(fs, &rf.read, "read", string(ocr.ModeAuto), []string{string(ocr.ModeAuto), string(ocr.ModeText), string(ocr.ModeOCR)},
		"how to read: auto (an e-invoice from its XML; pages from the text layer where usable, else OCR), text (text layers only), ocr (rasterise and OCR every page)")
	fs.StringVar(&rf.lang, "lang", "eng", "Tesseract `languages` joined by '+', e.g. eng+deu")
	fs.IntVar(&rf.dpi, "dpi", 300, "rasterisation DPI for OCR of PDF pages")
}

// cliPipeline is a reader and the extraction options built from the flags.
type cliPipeline struct {
	reader *ocr.Reader
	ropts  ocr.Options
	xopts  extract.Options
}

func (rf *cliReadFlags) pipeline(getenv func(string) string) (*cliPipeline, error) {
	mode := ocr.Mode(rf.read)
	switch mode {
	case ocr.ModeAuto, ocr.ModeText, ocr.ModeOCR:
	default:
		return nil, fmt.Errorf("--read must be auto, text or ocr, not %q", rf.read)
	}
	p := &cliPipeline{ropts: ocr.Options{Mode: mode, Languages: rf.lang, DPI: rf.dpi}}
	switch t := strings.TrimSpace(rf.template); {
	case t == "" || strings.EqualFold(t, "generic"):
	default:
		if st, err := os.Stat(t); err == nil {
			if st.IsDir() {
				ts, err := templates.LoadPath(t)
				if err != nil {
					return nil, fmt.Errorf("load templates from %s: %w", t, err)
				}
				p.xopts.Templates = ts
			} else {
				tpl, err := templates.LoadFile(t)
				if err != nil {
					return nil, fmt.Errorf("load template %s: %w", t, err)
				}
				p.xopts.Template = tpl
			}
			break
		}
		dir := getenv("OCRINVOICE_TEMPLATE_DIR")
		if dir == "" {
			return nil, fmt.Errorf("template %q is neither a file nor a folder (set OCRINVOICE_TEMPLATE_DIR to look templates up by name)", t)
		}
		ts, err := templates.LoadPath(dir)
		if err != nil {
			return nil, fmt.Errorf("load templates from %s: %w", dir, err)
		}
		for _, x := range ts {
			if strings.EqualFold(x.Name, t) || strings.EqualFold(strings.TrimSuffix(x.Name, ".yml"), t) {
				p.xopts.Template = x
			}
		}
		if p.xopts.Template == nil {
			return nil, fmt.Errorf("no template named %q in %s", t, dir)
		}
	}
	r, err := ocr.NewReader(ocr.Config{Slots: runtime.NumCPU()})
	if err != nil {
		return nil, fmt.Errorf("start reader: %w", err)
	}
	p.reader = r
	return p, nil
}

// run reads and extracts one file through worker.Process, the path the queue worker takes.
func (p *cliPipeline) run(ctx context.Context, path string) extractLine {
	line := extractLine{File: path}
	out, err := worker.Process(ctx, p.reader, worker.Input{Path: path}, worker.Steps{Read: p.ropts, Extract: p.xopts})
	if err != nil {
		line.Error = err.Error()
		return line
	}
	line.ExtractedData = &out.Result.Data
	line.Confidence = &out.Result.Confidence
	line.ValidationResults = &out.Result.Validation
	line.DocumentInfo = &out.Info
	line.Template = out.Result.Template
	return line
}

const extractUsage = `Usage: ocrinvoice extract [flags] FILE...

Reads invoice documents (PDF, PNG, JPEG, TIFF, BMP, or CII/UBL e-invoice XML) and prints
the extracted data, confidence, validation results and document info of each, in the order
given; with --format cii|ubl, the invoice as EN 16931 XML instead. No server is needed.
Exit code 1 when any file failed (the others are still processed).
`

// extractCommand reads and extracts files locally, through the worker's pipeline.
func extractCommand() *command {
	return &command{
		name: "extract", summary: "read invoice files and print the extracted data",
		usage: extractUsage, files: true,
		setup: func(fs *flag.FlagSet, e *cmdEnv) runFunc {
			var rf cliReadFlags
			rf.register(fs)
			asJSON := fs.Bool("json", false, "print one JSON object per file and line (the same as --format json)")
			var format string
			choiceVar(fs, &format, "format", "text", []string{"text", "json", string(export.CII), string(export.UBL)},
				"output: text (for a person), json (one JSON object per file and line), cii or ubl (the invoice as EN 16931 XML)")
			outDir := fs.String("out", "", "with --format cii|ubl: write each file's XML into this `directory` (needed for more than one file; default: standard output)")
			return func(ctx context.Context, files []string) error {
				if *asJSON {
					format = "json"
				}
				return runExtract(ctx, rf, format, *outDir, files, e)
			}
		},
	}
}

// runExtract reads and extracts files and prints them in format.
func runExtract(ctx context.Context, rf cliReadFlags, format, outDir string, files []string, e *cmdEnv) error {
	getenv, stdout, stderr := e.getenv, e.stdout, e.stderr
	if len(files) == 0 {
		return usageErrorf("extract", "no files given")
	}
	xmlOut := format == string(export.CII) || format == string(export.UBL)
	switch {
	case xmlOut && len(files) > 1 && outDir == "":
		return usageErrorf("extract", "--format %s with %d files needs --out DIR (one XML file each)", format, len(files))
	case outDir != "" && !xmlOut:
		return usageErrorf("extract", "--out is for --format cii or ubl")
	}
	p, err := rf.pipeline(getenv)
	if err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	defer p.reader.Close()

	// Files run in parallel; output keeps the input order.
	lines := make([]chan extractLine, len(files))
	for i := range lines {
		lines[i] = make(chan extractLine, 1)
	}
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	go func() {
		for i, f := range files {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				lines[i] <- p.run(ctx, f)
			}()
		}
	}()
	failed := 0
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	for i := range files {
		l := <-lines[i]
		if l.Error != "" {
			failed++
		}
		if xmlOut {
			if err := writeEInvoice(stdout, stderr, l, export.Syntax(format), outDir); err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", l.File, err)
				if l.Error == "" {
					failed++
				}
			}
			continue
		}
		if format == "json" {
			if err := enc.Encode(l); err != nil {
				return fmt.Errorf("extract: write output: %w", err)
			}
			continue
		}
		printSummary(stdout, stderr, l)
	}
	wg.Wait()
	if failed > 0 {
		if format != "json" {
			fmt.Fprintf(stderr, "%d of %d files failed\n", failed, len(files))
		}
		return errSilent
	}
	return nil
}

// printSummary writes one file's result for a person.
func printSummary(w, ew io.Writer, l extractLine) {
	if l.Error != "" {
		fmt.Fprintf(ew, "%s: error: %s\n", l.File, l.Error)
		return
	}
	d := l.ExtractedData
	inv := d.Invoice
	c := l.Confidence.Fields
	amt := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprintf("%.2f", *v)
	}
	or := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	fmt.Fprintf(w, "%s  (%d pages, %s%s)\n", l.File, l.DocumentInfo.Pages, l.DocumentInfo.Format, func() string {
		if l.Template != "" {
			return ", template " + l.Template
		}
		return ""
	}())
	row := func(label, value, path string) {
		conf := ""
		if v, ok := c[path]; ok {
			conf = fmt.Sprintf("  (%.0f%%)", v*100)
		}
		fmt.Fprintf(w, "  %-16s %s%s\n", label, value, conf)
	}
	row("Invoice number", or(inv.Number), "invoice.number")
	row("Date", or(inv.Date), "invoice.date")
	row("Due date", or(inv.DueDate), "invoice.dueDate")
	row("Supplier", or(inv.Supplier.Name), "invoice.supplier.name")
	row("  address", or(inv.Supplier.Address), "invoice.supplier.address")
	row("  tax id", or(inv.Supplier.TaxID), "invoice.supplier.taxId")
	row("Customer", or(inv.Customer.Name), "invoice.customer.name")
	row("  address", or(inv.Customer.Address), "invoice.customer.address")
	row("Subtotal", amt(inv.Amounts.Subtotal), "invoice.amounts.subtotal")
	row("Tax", amt(inv.Amounts.Tax), "invoice.amounts.tax")
	row("Total", amt(inv.Amounts.Total), "invoice.amounts.total")
	row("Currency", or(inv.Amounts.Currency), "invoice.amounts.currency")
	row("Line items", fmt.Sprint(len(d.LineItems)), "lineItems")
	for _, li := range d.LineItems {
		fmt.Fprintf(w, "    - %-40.40s qty %s  price %s  amount %s\n", li.Description, amt(li.Quantity), amt(li.UnitPrice), amt(li.Amount))
	}
	status := "valid"
	if !l.ValidationResults.IsValid {
		status = "INVALID"
	}
	fmt.Fprintf(w, "  Validation: %s, overall confidence %.0f%%\n", status, l.Confidence.Overall*100)
	for _, e := range l.ValidationResults.Errors {
		fmt.Fprintf(w, "    %s %s: %s\n", e.Severity, e.Field, e.Message)
	}
}

// writeEInvoice writes one file's invoice as EN 16931 XML: to stdout, or to
// DIR/<file name>.<syntax>.xml with --out. A file that failed, or whose data lacks what
// EN 16931 requires, is an error naming what is missing.
func writeEInvoice(stdout, stderr io.Writer, l extractLine, syn export.Syntax, dir string) error {
	if l.Error != "" {
		fmt.Fprintf(stderr, "%s: error: %s\n", l.File, l.Error)
		return nil
	}
	xml, err := export.Write(*l.ExtractedData, syn)
	if err != nil {
		return err
	}
	if dir == "" {
		_, err = stdout.Write(xml)
		return err
	}
	name := filepath.Join(dir, strings.TrimSuffix(filepath.Base(l.File), filepath.Ext(l.File))+"."+string(syn)+".xml")
	if err := os.WriteFile(name, xml, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%s -> %s\n", l.File, name)
	return nil
}
