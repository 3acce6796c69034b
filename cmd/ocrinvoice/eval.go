package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

const evalUsage = `Usage: ocrinvoice eval --data DIR[,DIR...] [flags]

Runs extraction over documents with known true values (truth.jsonl) and prints the
accuracy per field and the mean over fields with at least 5 truths.
With --read text, images are not applicable (skipped); with --read ocr, PDFs are
rasterised and OCR'd and plain-text records are skipped.
With --cross, every switchable generic rule is judged on every folder given: a rule
that only one folder needs is suspect, and each folder is scored again without the
rules only it needs (its cross score).
`

// evalOptions are eval's flags beyond the reading ones.
type evalOptions struct {
	rf                 cliReadFlags
	data, match, cache string
	without            string
	asJSON, misses     bool
	cross              bool
	noImageText        bool
	limit              int
}

// evalCommand scores extraction against folders with truth.jsonl.
func evalCommand() *command {
	return &command{
		name: "eval", summary: "score extraction against a folder with truth.jsonl",
		// The rules are listed in the help: --cross and --without name them.
		help: func(w io.Writer) {
			fmt.Fprint(w, evalUsage)
			fmt.Fprintln(w, "\nRules (for --without; --cross judges them all):")
			for _, r := range extract.Rules() {
				fmt.Fprintf(w, "  %-18s %s\n", r, r.Doc())
			}
			fs := newFlagSet("eval")
			evalFlags(fs)
			writeFlags(w, fs)
		},
		setup: func(fs *flag.FlagSet, e *cmdEnv) runFunc {
			o := evalFlags(fs)
			return func(ctx context.Context, args []string) error {
				if len(args) > 0 {
					return usageErrorf("eval", "unexpected argument %q (folders go in --data)", args[0])
				}
				if o.data == "" {
					return usageErrorf("eval", "--data is required")
				}
				if o.cross && o.without != "" {
					return usageErrorf("eval", "--cross judges every rule itself; leave out --without")
				}
				return runEval(ctx, o, e)
			}
		},
	}
}

// evalFlags defines eval's flags on fs.
func evalFlags(fs *flag.FlagSet) *evalOptions {
	o := &evalOptions{}
	o.rf.register(fs)
	fs.StringVar(&o.data, "data", "", "`folder` with truth.jsonl, or a parent folder: every subfolder with truth.jsonl gets a table; several joined by commas")
	fs.BoolVar(&o.asJSON, "json", false, "print the tables as JSON (one object per folder and line)")
	fs.BoolVar(&o.noImageText, "no-image-text", false, "do not read the text a text-layer PDF prints as images when no supplier is found (as a job does)")
	fs.BoolVar(&o.misses, "misses", false, "also list every wrong field (truth vs prediction)")
	fs.IntVar(&o.limit, "limit", 0, "score only the first N applicable documents of each folder (0 = all)")
	fs.StringVar(&o.match, "match", "", "score only documents whose path contains this `text`")
	fs.StringVar(&o.cache, "cache", "", "`folder` where read documents are kept and reused (speeds up repeated OCR runs; the reader is skipped for cached files)")
	fs.BoolVar(&o.cross, "cross", false, "judge each generic rule on every folder: its gain per folder, whether only one folder needs it (suspect), and each folder's score without the rules only it needs")
	fs.StringVar(&o.without, "without", "", "comma-separated generic `rules` to switch off (listed above)")
	return o
}

// runEval scores the folders of o.data and prints the tables.
func runEval(ctx context.Context, o *evalOptions, e *cmdEnv) error {
	getenv, stdout := e.getenv, e.stdout
	rf := o.rf
	var folders []string
	for _, d := range strings.Split(o.data, ",") {
		fs, err := evaluate.Folders(strings.TrimSpace(d))
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		folders = append(folders, fs...)
	}
	off, err := extract.ParseRules(o.without)
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
			return cachedRead(ctx, o.cache, path, rf, !o.noImageText, func() (*layout.Document, error) {
				doc, err := p.reader.Read(ctx, path, p.ropts)
				if err != nil || o.noImageText {
					return doc, err
				}
				// As a job does: a text layer without a supplier gets the text its
				// first page prints as images (worker.NeedsImageText).
				out, err := worker.ExtractDocument(doc, p.xopts)
				if err != nil || !worker.NeedsImageText(out) {
					return doc, nil
				}
				out, err = worker.WithImageText(ctx, p.reader, path, out, p.ropts, p.xopts)
				if err != nil {
					return nil, err
				}
				return out.Doc, nil
			})
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
		Limit: o.limit,
		Match: o.match,
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	if o.cross {
		rep, err := evaluate.Cross(ctx, folders, evaluate.CrossConfig{Config: cfg, ExtractWithout: extractWithout})
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		if o.asJSON {
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
		if !o.misses {
			kept := t.Wrong[:0]
			for _, m := range t.Wrong {
				if m.Field == "error" {
					kept = append(kept, m)
				}
			}
			t.Wrong = kept
		}
		if o.asJSON {
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
func cachedRead(_ context.Context, dir, path string, rf cliReadFlags, imageText bool, read func() (*layout.Document, error)) (*layout.Document, error) {
	if dir == "" {
		return read()
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	abs, _ := filepath.Abs(path)
	key := sha256.Sum256([]byte(fmt.Sprintf("%s|%d|%d|%s|%s|%d|%t", abs, st.Size(), st.ModTime().UnixNano(), rf.read, rf.lang, rf.dpi, imageText)))
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
