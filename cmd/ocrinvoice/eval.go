package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/extract/evaluate"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
)

func runEval(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var rf cliReadFlags
	rf.register(fs)
	data := fs.String("data", "", "folder with truth.jsonl, or a parent folder: every subfolder with truth.jsonl gets a table; several joined by commas")
	asJSON := fs.Bool("json", false, "print the tables as JSON (one object per folder and line)")
	misses := fs.Bool("misses", false, "also list every wrong field (truth vs prediction)")
	limit := fs.Int("limit", 0, "score only the first N applicable documents of each folder (0 = all)")
	match := fs.String("match", "", "score only documents whose path contains this text")
	cache := fs.String("cache", "", "folder where read documents are kept and reused (speeds up repeated OCR runs; the reader is skipped for cached files)")
	cross := fs.Bool("cross", false, "judge each generic rule on every folder: its gain per folder, whether only one folder needs it (suspect), and each folder's score without the rules only it needs")
	without := fs.String("without", "", "comma-separated generic rules to switch off (see --cross for their names)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: ocrinvoice eval --data DIR [--read auto|text|ocr] [--template FILE|DIR] [--json] [--misses]")
		fmt.Fprintln(stderr, "\nRuns extraction over documents with known true values (truth.jsonl) and prints the")
		fmt.Fprintln(stderr, "accuracy per field and the mean over fields with at least 5 truths.")
		fmt.Fprintln(stderr, "With --read text, images are not applicable (skipped); with --read ocr, PDFs are")
		fmt.Fprintln(stderr, "rasterised and OCR'd and plain-text records are skipped.")
		fmt.Fprintln(stderr, "With --cross, every switchable generic rule is judged on every folder given: a rule")
		fmt.Fprintln(stderr, "that only one folder needs is suspect, and each folder is scored again without the")
		fmt.Fprintln(stderr, "rules only it needs (its cross score). Rules:")
		for _, r := range extract.Rules() {
			fmt.Fprintf(stderr, "  %-18s %s\n", r, r.Doc())
		}
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		fs.Usage()
		return errors.New("eval: --data is required")
	}
	var folders []string
	for _, d := range strings.Split(*data, ",") {
		fs, err := evaluate.Folders(strings.TrimSpace(d))
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		folders = append(folders, fs...)
	}
	off, err := extract.ParseRules(*without)
	if err != nil {
		return fmt.Errorf("eval: --without: %w", err)
	}
	p, err := rf.pipeline(getenv)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	defer p.reader.Close()
	extractWithout := func(off []extract.Rule) func(*layout.Document) (invoice.ExtractedData, error) {
		xo := p.xopts
		xo.Without = off
		return func(doc *layout.Document) (invoice.ExtractedData, error) {
			out, err := worker.ExtractDocument(doc, xo)
			if err != nil {
				return invoice.ExtractedData{}, err
			}
			return out.Result.Data, nil
		}
	}
	cfg := evaluate.Config{
		Read: rf.read,
		ReadDoc: func(ctx context.Context, path string) (*layout.Document, error) {
			return cachedRead(ctx, *cache, path, rf, func() (*layout.Document, error) { return p.reader.Read(ctx, path, p.ropts) })
		},
		Extract:  extractWithout(off),
		Parallel: runtime.NumCPU(),
		// --read auto reads an e-invoice from its XML first, as a job does.
		Structured: func(ctx context.Context, path string) (invoice.ExtractedData, bool, error) {
			if rf.read != "" && rf.read != string(ocr.ModeAuto) {
				return invoice.ExtractedData{}, false, nil
			}
			out, ok, err := worker.ReadEInvoice(ctx, p.reader, worker.Input{Path: path}, worker.Steps{Read: p.ropts, Extract: p.xopts})
			if !ok || err != nil {
				return invoice.ExtractedData{}, false, err
			}
			return out.Result.Data, true, nil
		},
		Limit: *limit,
		Match: *match,
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	if *cross {
		if len(off) > 0 {
			return errors.New("eval: --cross judges every rule itself; leave out --without")
		}
		rep, err := evaluate.Cross(ctx, folders, evaluate.CrossConfig{Config: cfg, ExtractWithout: extractWithout})
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		if *asJSON {
			if err := enc.Encode(rep); err != nil {
				return fmt.Errorf("eval: write output: %w", err)
			}
			return nil
		}
		rep.Print(stdout)
		return nil
	}
	for _, dir := range folders {
		t, err := evaluate.Run(ctx, dir, cfg)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		if t.Folder == "sroie-zzzdavid" && rf.read == "text" {
			t.Note = "scanned receipts: OCR only, not applicable to --read text"
		}
		if !*misses {
			kept := t.Wrong[:0]
			for _, m := range t.Wrong {
				if m.Field == "error" {
					kept = append(kept, m)
				}
			}
			t.Wrong = kept
		}
		if *asJSON {
			if err := enc.Encode(t); err != nil {
				return fmt.Errorf("eval: write output: %w", err)
			}
			continue
		}
		t.Print(stdout)
		for _, m := range t.Wrong {
			fmt.Fprintf(stdout, "    miss %-26s %s\n        truth %q\n        got   %q\n", m.Field, m.File, m.Truth, m.Predicted)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

// cachedRead returns the document read before for the same file, mode, languages and DPI
// from dir, or reads it and stores it there. dir "" disables the cache.
func cachedRead(_ context.Context, dir, path string, rf cliReadFlags, read func() (*layout.Document, error)) (*layout.Document, error) {
	if dir == "" {
		return read()
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	abs, _ := filepath.Abs(path)
	key := sha256.Sum256([]byte(fmt.Sprintf("%s|%d|%d|%s|%s|%d", abs, st.Size(), st.ModTime().UnixNano(), rf.read, rf.lang, rf.dpi)))
	file := filepath.Join(dir, hex.EncodeToString(key[:12])+".json")
	if b, err := os.ReadFile(file); err == nil {
		var doc layout.Document
		if json.Unmarshal(b, &doc) == nil {
			return &doc, nil
		}
	}
	doc, err := read()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create cache %s: %w", dir, err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode %s for the cache: %w", path, err)
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return nil, fmt.Errorf("write cache %s: %w", file, err)
	}
	return doc, nil
}
