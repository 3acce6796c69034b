package profile_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/extract/evaluate"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
	"github.com/ocrinvoice/ocrinvoice/worker/ocr"
	"github.com/ocrinvoice/ocrinvoice/worker/profile"
)

// devData returns the folder of real invoices with true values, or skips.
func devData(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("OCRINVOICE_SHARED_DATA")
	if dir == "" {
		dir = "../../../shared/data"
	}
	if _, err := os.Stat(filepath.Join(dir, "invoices-dev")); err != nil {
		t.Skipf("shared data not found at %s (set OCRINVOICE_SHARED_DATA)", dir)
	}
	return filepath.Join(dir, "invoices-dev")
}

// truthData is a record's truth as invoice data: what a person correcting the job
// would have entered.
func truthData(t testing.TB, r evaluate.Record) invoice.ExtractedData {
	t.Helper()
	d, err := r.Data()
	if err != nil {
		t.Fatalf("%s: %v", r.File, err)
	}
	return d
}

// supplierOf is the key documents are grouped by: the truth's supplier tax id, else
// its normalised name.
func supplierOf(t testing.TB, r evaluate.Record) string {
	d := truthData(t, r)
	if id := strings.ToUpper(strings.Join(strings.Fields(d.Invoice.Supplier.TaxID), "")); id != "" {
		return id
	}
	return profile.NormName(d.Invoice.Supplier.Name)
}

// devReader reads dev documents, keeping what it read in a cache folder so that OCR
// runs once per file (OCRINVOICE_PROFILE_CACHE, default the user cache folder).
type devReader struct {
	r     *ocr.Reader
	cache string
}

func newDevReader(t testing.TB) *devReader {
	t.Helper()
	r, err := ocr.NewReader(ocr.Config{})
	if err != nil {
		t.Fatalf("reader: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	dir := os.Getenv("OCRINVOICE_PROFILE_CACHE")
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		dir = filepath.Join(base, "ocrinvoice-profile-test")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("cache: %v", err)
	}
	return &devReader{r: r, cache: dir}
}

// read reads path in mode (text or ocr; OCR with English and the languages of the
// dev data's European invoices).
func (d *devReader) read(ctx context.Context, path string, mode ocr.Mode) (*layout.Document, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	abs, _ := filepath.Abs(path)
	key := sha256.Sum256(fmt.Appendf(nil, "%s|%d|%d|%s|v1", abs, st.Size(), st.ModTime().UnixNano(), mode))
	file := filepath.Join(d.cache, hex.EncodeToString(key[:12])+".json")
	if b, err := os.ReadFile(file); err == nil {
		var doc layout.Document
		if json.Unmarshal(b, &doc) == nil {
			return &doc, nil
		}
	}
	opts := ocr.Options{Mode: mode, Languages: "eng"}
	if mode == ocr.ModeOCR && strings.HasSuffix(strings.ToLower(path), ".pdf") {
		opts.Languages = "eng+deu+fra"
	}
	doc, err := d.r.Read(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	if b, err := json.Marshal(doc); err == nil {
		_ = os.WriteFile(file, b, 0o644)
	}
	return doc, nil
}

// applicable tells whether a record's file is read in mode.
func applicable(file string, mode ocr.Mode) bool {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".pdf":
		return true
	case ".png", ".jpg", ".jpeg", ".tif", ".tiff":
		return mode == ocr.ModeOCR
	}
	return false
}

// groupScore is the score of one folder's "rest" documents before and after the
// profile learned from their group's first document.
type groupScore struct {
	folder, mode    string
	groups, rest    int
	before, after   map[string][2]int // field -> truths, correct
	misses          []string          // after the profile, for a person looking at failures
	regressions     []string          // right before, wrong after
	supplied, right int               // fields the profile set, and those that are right
}

// mean is the mean accuracy over the scored fields (Fields and WiderFields) that have
// truths.
func mean(c map[string][2]int) float64 {
	sum, n := 0.0, 0
	for _, f := range append(append([]string{}, evaluate.Fields...), evaluate.WiderFields...) {
		if v := c[f]; v[0] > 0 {
			sum += float64(v[1]) / float64(v[0])
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func tally(c map[string][2]int, outs []evaluate.Outcome) {
	for _, o := range outs {
		v := c[o.Field]
		v[0]++
		if o.Correct {
			v[1]++
		}
		c[o.Field] = v
	}
}

// scoreGroups learns, for each supplier of folder with two or more documents readable
// in mode, a profile from the first document's truth and scores the rest with and
// without it.
func scoreGroups(t testing.TB, dr *devReader, folder string, mode ocr.Mode) *groupScore {
	t.Helper()
	ctx := context.Background()
	recs, err := evaluate.LoadTruth(folder)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	groups := map[string][]evaluate.Record{}
	for _, r := range recs {
		if r.Excluded() || !applicable(r.File, mode) {
			continue
		}
		k := supplierOf(t, r)
		if k == "" {
			continue
		}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	gs := &groupScore{folder: filepath.Base(folder), mode: string(mode), before: map[string][2]int{}, after: map[string][2]int{}}
	for _, k := range order {
		g := groups[k]
		if len(g) < 2 {
			continue
		}
		gs.groups++
		first, err := dr.read(ctx, filepath.Join(folder, g[0].File), mode)
		if err != nil {
			t.Fatalf("%s: %v", g[0].File, err)
		}
		machine, err := extract.Extract(first, extract.Options{})
		if err != nil {
			t.Fatal(err)
		}
		keys, rules, err := profile.Learn(first, truthData(t, g[0]), machine.Data, nil, nil)
		if err != nil {
			t.Fatalf("learn %s: %v", g[0].File, err)
		}
		for _, r := range g[1:] {
			doc, err := dr.read(ctx, filepath.Join(folder, r.File), mode)
			if err != nil {
				t.Fatalf("%s: %v", r.File, err)
			}
			res, err := extract.Extract(doc, extract.Options{})
			if err != nil {
				t.Fatal(err)
			}
			before := evaluate.Score(r, res.Data)
			set, err := profile.ApplyWith(doc, rules, &res, profile.ApplyOptions{Identified: profile.SameSupplier(keys, profile.Keys(doc, res.Data))})
			if err != nil {
				t.Fatalf("apply to %s: %v", r.File, err)
			}
			after := evaluate.Score(r, res.Data)
			gs.rest++
			tally(gs.before, before)
			tally(gs.after, after)
			ok := map[string]bool{}
			for _, o := range before {
				ok[o.Field] = o.Correct
			}
			for _, o := range after {
				if !o.Correct {
					gs.misses = append(gs.misses, fmt.Sprintf("%s %s: truth %q got %q", r.File, o.Field, o.Truth, o.Predicted))
					if ok[o.Field] {
						gs.regressions = append(gs.regressions, fmt.Sprintf("%s %s: truth %q got %q", r.File, o.Field, o.Truth, o.Predicted))
					}
				}
			}
			truth := truthData(t, r)
			for _, p := range set {
				gs.supplied++
				if sameField(truth, res.Data, p) {
					gs.right++
				}
			}
		}
	}
	return gs
}

// sameField tells whether a supplied field agrees with the truth, where the truth has
// the field (fields without truth count as right: nothing says otherwise).
func sameField(truth, got invoice.ExtractedData, path string) bool {
	tb, _ := json.Marshal(truth)
	gb, _ := json.Marshal(got)
	var tm, gm map[string]any
	_ = json.Unmarshal(tb, &tm)
	_ = json.Unmarshal(gb, &gm)
	tv, gv := dig(tm, path), dig(gm, path)
	if tv == nil || tv == "" {
		return true
	}
	switch t := tv.(type) {
	case float64:
		g, ok := gv.(float64)
		return ok && (t-g < 0.0051 && g-t < 0.0051)
	case string:
		g, _ := gv.(string)
		return evaluate.NormName(t) == evaluate.NormName(g) || strings.EqualFold(strings.Join(strings.Fields(t), ""), strings.Join(strings.Fields(g), ""))
	}
	return true
}

func dig(m map[string]any, path string) any {
	var cur any = m
	for _, k := range strings.Split(path, ".") {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[k]
	}
	return cur
}

func (g *groupScore) report(t testing.TB) {
	t.Helper()
	t.Logf("%s (%s): %d groups, %d documents after the first: mean field accuracy %.3f before, %.3f after; the profile set %d fields, %d right",
		g.folder, g.mode, g.groups, g.rest, mean(g.before), mean(g.after), g.supplied, g.right)
	var fs []string
	for f := range g.after {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	for _, f := range fs {
		b, a := g.before[f], g.after[f]
		t.Logf("  %-26s %3d truths  %.3f -> %.3f", f, a[0], float64(b[1])/float64(b[0]), float64(a[1])/float64(a[0]))
	}
	for _, r := range g.regressions {
		t.Logf("  regression %s", r)
	}
	if os.Getenv("OCRINVOICE_PROFILE_MISSES") != "" {
		for _, m := range g.misses {
			t.Logf("  miss %s", m)
		}
	}
}

// Floors of the dev measurement, measured (see TestDevGroups' log); a change that
// lowers a folder's accuracy after learning below its floor fails.
var devFloors = map[string]float64{
	"zugferd-corpus/text":       0.97,
	"invoice2data-compare/text": 0.97,
	"sroie-zzzdavid/ocr":        0.89,
}

// TestDevGroups is the development measurement of issue 15: per folder, documents are
// grouped by supplier; each group's first document teaches a profile with its truth,
// and the rest are extracted with and without it. Text layers for the PDF folders and
// OCR for the receipts; OCRINVOICE_PROFILE_OCR=all adds OCR of every folder (slow the
// first time: read documents are cached, see devReader).
func TestDevGroups(t *testing.T) {
	data := devData(t)
	dr := newDevReader(t)
	runs := []struct {
		folder string
		mode   ocr.Mode
	}{
		{"zugferd-corpus", ocr.ModeText},
		{"invoice2data-compare", ocr.ModeText},
		{"sroie-zzzdavid", ocr.ModeOCR},
	}
	if os.Getenv("OCRINVOICE_PROFILE_OCR") == "all" {
		runs = append(runs, struct {
			folder string
			mode   ocr.Mode
		}{"zugferd-corpus", ocr.ModeOCR}, struct {
			folder string
			mode   ocr.Mode
		}{"invoice2data-compare", ocr.ModeOCR}, struct {
			folder string
			mode   ocr.Mode
		}{"sroie-zzzdavid-extra", ocr.ModeOCR})
	}
	for _, r := range runs {
		t.Run(r.folder+"/"+string(r.mode), func(t *testing.T) {
			g := scoreGroups(t, dr, filepath.Join(data, r.folder), r.mode)
			g.report(t)
			if g.rest == 0 {
				t.Fatalf("no group of two or more documents")
			}
			if b, a := mean(g.before), mean(g.after); a < b {
				t.Errorf("accuracy fell from %.3f to %.3f with the profile", b, a)
			}
			if floor, ok := devFloors[r.folder+"/"+string(r.mode)]; ok && mean(g.after) < floor {
				t.Errorf("accuracy after learning %.3f, below the floor %.3f", mean(g.after), floor)
			}
		})
	}
}

// TestEInvoiceTeachesScan: an e-invoice PDF's XML (exact truth) teaches the profile, on
// its text layer, and a plain scan of another invoice of the same supplier (the PDF
// rendered to an image and OCR'd) is extracted with it. Every supplier group of the
// ZUGFeRD folder with its last three scans; OCRINVOICE_PROFILE_OCR=all takes every scan.
func TestEInvoiceTeachesScan(t *testing.T) {
	data := filepath.Join(devData(t), "zugferd-corpus")
	dr := newDevReader(t)
	ctx := context.Background()
	recs, err := evaluate.LoadTruth(data)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	groups := map[string][]evaluate.Record{}
	for _, r := range recs {
		if r.Excluded() {
			continue
		}
		k := supplierOf(t, r)
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	all := os.Getenv("OCRINVOICE_PROFILE_OCR") == "all"
	before, after := map[string][2]int{}, map[string][2]int{}
	scans := 0
	for _, k := range order {
		g := groups[k]
		if len(g) < 2 {
			continue
		}
		path := filepath.Join(data, g[0].File)
		out, ok, err := worker.ReadEInvoice(ctx, dr.r, worker.Input{Path: path}, worker.Steps{Read: ocr.Options{Mode: ocr.ModeAuto}})
		if err != nil || !ok {
			t.Fatalf("%s: not read as an e-invoice: %v", g[0].File, err)
		}
		text, err := dr.read(ctx, path, ocr.ModeText)
		if err != nil {
			t.Fatal(err)
		}
		// The job's result is the XML's data: machine and truth are the same.
		_, rules, err := profile.Learn(text, out.Result.Data, out.Result.Data, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		rest := g[1:]
		if !all && len(rest) > 3 {
			rest = rest[len(rest)-3:]
		}
		for _, r := range rest {
			scan, err := dr.read(ctx, filepath.Join(data, r.File), ocr.ModeOCR)
			if err != nil {
				t.Fatal(err)
			}
			res, err := extract.Extract(scan, extract.Options{})
			if err != nil {
				t.Fatal(err)
			}
			tally(before, evaluate.Score(r, res.Data))
			if _, err := profile.Apply(scan, rules, &res); err != nil {
				t.Fatal(err)
			}
			tally(after, evaluate.Score(r, res.Data))
			scans++
		}
	}
	t.Logf("e-invoice XML -> scans of the same supplier: %d scans, mean field accuracy %.3f before, %.3f after", scans, mean(before), mean(after))
	for _, f := range append(append([]string{}, evaluate.Fields...), evaluate.WiderFields...) {
		if a := after[f]; a[0] > 0 {
			b := before[f]
			t.Logf("  %-26s %3d truths  %.3f -> %.3f", f, a[0], float64(b[1])/float64(b[0]), float64(a[1])/float64(a[0]))
		}
	}
	if scans == 0 {
		t.Fatal("no scans")
	}
	if mean(after) < mean(before) {
		t.Errorf("accuracy fell from %.3f to %.3f with the profile", mean(before), mean(after))
	}
	// Measured: 0.960 on the default scans (0.937 without the profile), 0.972 on all.
	if floor := 0.95; mean(after) < floor {
		t.Errorf("accuracy after learning %.3f, below the floor %.3f", mean(after), floor)
	}
}
