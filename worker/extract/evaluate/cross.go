package evaluate

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// CrossConfig says how to run a cross evaluation: Config without its Extract, the rules
// to judge, and an extraction with a given set of rules switched off.
type CrossConfig struct {
	Config
	// Rules are judged one at a time (default: extract.Rules()).
	Rules []extract.Rule
	// ExtractWithout returns the extraction with the rules off switched off.
	ExtractWithout func(off []extract.Rule) func(*layout.Document) (invoice.ExtractedData, error)
}

// Verdicts of a rule in a cross evaluation.
const (
	// VerdictShared: two or more folders score better with the rule.
	VerdictShared = "shared"
	// VerdictSuspect: exactly one folder scores better with it; its worth on documents
	// of other kinds is unproven.
	VerdictSuspect = "suspect"
	// VerdictHarmful: no folder scores better with it and some score worse.
	VerdictHarmful = "harmful"
	// VerdictUnused: no folder's score moves.
	VerdictUnused = "unused"
)

// RuleScore is what one rule is worth on each folder.
type RuleScore struct {
	Rule string `json:"rule"`
	Doc  string `json:"doc"`
	// Gain per folder: the folder's mean with every rule on minus its mean with this
	// rule off (positive: the rule helps).
	Gain    map[string]float64 `json:"gain"`
	Helps   []string           `json:"helps,omitempty"`
	Hurts   []string           `json:"hurts,omitempty"`
	Verdict string             `json:"verdict"`
}

// CrossFolder is one folder's score, and its score without the rules only it needs.
type CrossFolder struct {
	Folder string  `json:"folder"`
	Mean   float64 `json:"mean"`
	// Cross is the mean with the folder's own suspect rules switched off: what the
	// folder scores when judged only by rules that other folders need too.
	Cross   float64  `json:"cross"`
	OwnOnly []string `json:"ownRules,omitempty"`
}

// CrossReport is the result of Cross.
type CrossReport struct {
	Read    string        `json:"read"`
	Folders []CrossFolder `json:"folders"`
	Rules   []RuleScore   `json:"rules"`
}

// gainEps is the smallest change in a mean that counts (one field of one document in a
// folder of a thousand).
const gainEps = 1e-6

// Cross scores every folder with every rule on, then with each rule off in turn, and
// judges the rules: a rule that only one folder needs is suspect, because nothing shows
// that it holds on documents of another kind. Each folder's cross score is its mean with
// its own suspect rules off. Documents are read once (ReadDoc is memoised); only the
// extraction runs again. Folders where no document is applicable are left out.
func Cross(ctx context.Context, dirs []string, cfg CrossConfig) (*CrossReport, error) {
	rules := cfg.Rules
	if len(rules) == 0 {
		rules = extract.Rules()
	}
	base := cfg.Config
	base.ReadDoc = memoRead(cfg.ReadDoc)
	run := func(dir string, off []extract.Rule) (*Table, error) {
		c := base
		c.Extract = cfg.ExtractWithout(off)
		return Run(ctx, dir, c)
	}
	rep := &CrossReport{Read: cfg.Read}
	var used []string
	means := map[string]float64{}
	for _, dir := range dirs {
		t, err := run(dir, nil)
		if err != nil {
			return nil, err
		}
		if t.Documents+t.Failed == 0 {
			continue
		}
		used = append(used, dir)
		means[dir] = t.MeanAll
	}
	for _, r := range rules {
		rs := RuleScore{Rule: string(r), Doc: r.Doc(), Gain: map[string]float64{}}
		for _, dir := range used {
			t, err := run(dir, []extract.Rule{r})
			if err != nil {
				return nil, err
			}
			g := means[dir] - t.MeanAll
			name := folderName(dir)
			rs.Gain[name] = g
			switch {
			case g > gainEps:
				rs.Helps = append(rs.Helps, name)
			case g < -gainEps:
				rs.Hurts = append(rs.Hurts, name)
			}
		}
		rs.Verdict = verdict(len(rs.Helps), len(rs.Hurts))
		rep.Rules = append(rep.Rules, rs)
	}
	for _, dir := range used {
		name := folderName(dir)
		cf := CrossFolder{Folder: name, Mean: means[dir], Cross: means[dir]}
		var own []extract.Rule
		for _, rs := range rep.Rules {
			if rs.Verdict == VerdictSuspect && rs.Helps[0] == name {
				own = append(own, extract.Rule(rs.Rule))
				cf.OwnOnly = append(cf.OwnOnly, rs.Rule)
			}
		}
		if len(own) > 0 {
			t, err := run(dir, own)
			if err != nil {
				return nil, err
			}
			cf.Cross = t.MeanAll
		}
		rep.Folders = append(rep.Folders, cf)
	}
	return rep, nil
}

func verdict(helps, hurts int) string {
	switch {
	case helps >= 2:
		return VerdictShared
	case helps == 1:
		return VerdictSuspect
	case hurts > 0:
		return VerdictHarmful
	}
	return VerdictUnused
}

// folderName is the name Run gives a folder's table.
func folderName(dir string) string { return filepath.Base(dir) }

// memoRead reads each path once; later calls get the same document (or error).
// Extraction does not modify the document it is given.
func memoRead(read func(context.Context, string) (*layout.Document, error)) func(context.Context, string) (*layout.Document, error) {
	type entry struct {
		once sync.Once
		doc  *layout.Document
		err  error
	}
	var mu sync.Mutex
	seen := map[string]*entry{}
	return func(ctx context.Context, path string) (*layout.Document, error) {
		mu.Lock()
		e, ok := seen[path]
		if !ok {
			e = &entry{}
			seen[path] = e
		}
		mu.Unlock()
		e.once.Do(func() { e.doc, e.err = read(ctx, path) })
		return e.doc, e.err
	}
}

// Print writes the report for a person: a table of gains per rule and folder, then each
// folder's mean and cross score.
func (r *CrossReport) Print(w io.Writer) {
	names := make([]string, 0, len(r.Folders))
	for _, f := range r.Folders {
		names = append(names, f.Folder)
	}
	fmt.Fprintf(w, "cross-check (read %s): gain in mean accuracy (incl. wider fields) when each rule is on\n", r.Read)
	fmt.Fprintf(w, "  %-18s", "rule")
	for _, n := range names {
		fmt.Fprintf(w, " %*s", max(len(n), 7), n)
	}
	fmt.Fprintf(w, "  verdict\n")
	rules := append([]RuleScore(nil), r.Rules...)
	sort.SliceStable(rules, func(i, j int) bool { return rules[i].Rule < rules[j].Rule })
	for _, rs := range rules {
		fmt.Fprintf(w, "  %-18s", rs.Rule)
		for _, n := range names {
			fmt.Fprintf(w, " %+*.3f", max(len(n), 7), rs.Gain[n])
		}
		v := rs.Verdict
		if rs.Verdict == VerdictSuspect {
			v += " (only " + rs.Helps[0] + " needs it"
			if len(rs.Hurts) > 0 {
				v += "; hurts " + strings.Join(rs.Hurts, ", ")
			}
			v += ")"
		} else if len(rs.Hurts) > 0 {
			v += " (hurts " + strings.Join(rs.Hurts, ", ") + ")"
		}
		fmt.Fprintf(w, "  %s\n", v)
	}
	fmt.Fprintf(w, "\n  %-28s %7s %7s  %s\n", "folder", "mean", "cross", "rules only this folder needs")
	for _, f := range r.Folders {
		own := strings.Join(f.OwnOnly, ", ")
		if own == "" {
			own = "-"
		}
		fmt.Fprintf(w, "  %-28s %7.3f %7.3f  %s\n", f.Folder, f.Mean, f.Cross, own)
	}
}
