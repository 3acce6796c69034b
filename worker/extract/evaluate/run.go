package evaluate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// Config says how to run one evaluation.
type Config struct {
	// Read is the reading mode: "text" (text layers only: images are not applicable and
	// are skipped), "ocr" (everything is rasterised and OCR'd; plain-text records are
	// skipped) or "auto".
	Read string
	// ReadDoc reads one document file in the Read mode.
	ReadDoc func(ctx context.Context, path string) (*layout.Document, error)
	// Extract turns a document into data.
	Extract func(doc *layout.Document) (invoice.ExtractedData, error)
	// Structured, when set, is asked first for every file: it returns the data of a
	// structured document (an e-invoice's XML), or ok false when the file must be read
	// with ReadDoc and Extract. `eval --read auto` sets it.
	Structured func(ctx context.Context, path string) (data invoice.ExtractedData, ok bool, err error)
	// Parallel documents at once (default 1).
	Parallel int
	// Limit, when > 0, scores only the first Limit applicable documents.
	Limit int
	// Match, when set, scores only records whose file path contains it.
	Match string
}

var imageExt = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".tif": true, ".tiff": true, ".bmp": true}

// applicable says whether a record's file is read in mode, and how.
func applicable(file, mode string) (ok bool, plain bool) {
	ext := strings.ToLower(filepath.Ext(file))
	switch {
	case ext == ".txt":
		return mode != "ocr", true
	case imageExt[ext]:
		return mode != "text", false
	case ext == ".pdf":
		return true, false
	}
	return false, false
}

// Run scores every applicable record of dir (which holds truth.jsonl).
func Run(ctx context.Context, dir string, cfg Config) (*Table, error) {
	recs, err := LoadTruth(dir)
	if err != nil {
		return nil, err
	}
	t := &Table{Folder: filepath.Base(dir), Read: cfg.Read}
	type job struct {
		i   int
		rec Record
	}
	var jobs []job
	for i, r := range recs {
		if cfg.Match != "" && !strings.Contains(r.File, cfg.Match) {
			continue
		}
		if r.Excluded() {
			t.Excluded++
			continue
		}
		if ok, _ := applicable(r.File, cfg.Read); !ok {
			t.Skipped++
			continue
		}
		if cfg.Limit > 0 && len(jobs) >= cfg.Limit {
			t.Skipped++
			continue
		}
		jobs = append(jobs, job{i, r})
	}
	type result struct {
		outs []Outcome
		err  error
	}
	results := make([]result, len(jobs))
	par := max(cfg.Parallel, 1)
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for k, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			path := filepath.Join(dir, j.rec.File)
			if cfg.Structured != nil {
				data, ok, err := cfg.Structured(ctx, path)
				switch {
				case err != nil:
					results[k] = result{err: fmt.Errorf("read %s: %w", j.rec.File, err)}
					return
				case ok:
					results[k] = result{outs: Score(j.rec, data)}
					return
				}
			}
			var doc *layout.Document
			var err error
			if _, plain := applicable(j.rec.File, cfg.Read); plain {
				var b []byte
				b, err = os.ReadFile(path)
				if err == nil {
					doc = extract.FromText(string(b))
				}
			} else {
				doc, err = cfg.ReadDoc(ctx, path)
			}
			if err != nil {
				results[k] = result{err: fmt.Errorf("read %s: %w", j.rec.File, err)}
				return
			}
			data, err := cfg.Extract(doc)
			if err != nil {
				results[k] = result{err: fmt.Errorf("extract %s: %w", j.rec.File, err)}
				return
			}
			results[k] = result{outs: Score(j.rec, data)}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", dir, err)
	}
	counts := map[string][2]int{}
	for k, r := range results {
		if r.err != nil {
			t.Failed++
			t.Wrong = append(t.Wrong, Miss{File: jobs[k].rec.File, Outcome: Outcome{Field: "error", Predicted: r.err.Error()}})
			// A document that cannot be read scores zero on every field its truth has.
			r.outs = Score(jobs[k].rec, invoice.ExtractedData{})
		} else {
			t.Documents++
		}
		for _, o := range r.outs {
			c := counts[o.Field]
			c[0]++
			if o.Correct {
				c[1]++
			} else if r.err == nil {
				t.Wrong = append(t.Wrong, Miss{File: jobs[k].rec.File, Outcome: o})
			}
			counts[o.Field] = c
		}
	}
	t.Tally(counts)
	SortMisses(t.Wrong)
	return t, nil
}

// Folders returns dir itself when it holds truth.jsonl, else its subfolders that do.
func Folders(dir string) ([]string, error) {
	if _, err := os.Stat(filepath.Join(dir, "truth.jsonl")); err == nil {
		return []string{dir}, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(p, "truth.jsonl")); err == nil {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no truth.jsonl in %s or its subfolders", dir)
	}
	return out, nil
}
