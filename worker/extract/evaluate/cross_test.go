package evaluate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/worker/extract"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// writeFolder writes n plain-text invoices made by doc(i) with their numbers as truth.
func writeFolder(t *testing.T, root, name string, n int, doc func(i int) (text, number string)) string {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Join(dir, "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	var truth strings.Builder
	for i := range n {
		text, number := doc(i)
		file := fmt.Sprintf("files/%d.txt", i)
		if err := os.WriteFile(filepath.Join(dir, file), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&truth, `{"file": %q, "invoice": {"number": %q}}`+"\n", file, number)
	}
	if err := os.WriteFile(filepath.Join(dir, "truth.jsonl"), []byte(truth.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCross judges three rules on three folders: reading a value below its label is
// needed by two folders (shared), reading it in the next column by one (suspect), and
// the derived tax by none (unused). The folder that alone needs a rule loses its score
// without it; the others keep theirs.
func TestCross(t *testing.T) {
	root := t.TempDir()
	below := func(prefix string) func(int) (string, string) {
		return func(i int) (string, string) {
			n := fmt.Sprintf("%s-%04d", prefix, 100+i*7)
			return fmt.Sprintf("Acme Ltd\n\nInvoice No.\n%s\n\nTotal 10.00\n", n), n
		}
	}
	dirs := []string{
		writeFolder(t, root, "below-a", 6, below("A")),
		writeFolder(t, root, "below-b", 5, below("BX")),
		writeFolder(t, root, "right", 5, func(i int) (string, string) {
			n := fmt.Sprintf("R%05d", 311+i)
			return fmt.Sprintf("Acme Ltd\n\nInvoice No.        %s\n\nTotal 10.00\n", n), n
		}),
	}
	rep, err := Cross(context.Background(), dirs, CrossConfig{
		Config: Config{Read: "text", Parallel: 2, ReadDoc: func(context.Context, string) (*layout.Document, error) {
			t.Fatal("plain-text documents need no reader")
			return nil, nil
		}},
		Rules: []extract.Rule{extract.RuleValueBelow, extract.RuleValueRight, extract.RuleDerivedTax},
		ExtractWithout: func(off []extract.Rule) func(*layout.Document) (invoice.ExtractedData, error) {
			return func(d *layout.Document) (invoice.ExtractedData, error) {
				r, err := extract.Extract(d, extract.Options{Without: off})
				return r.Data, err
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	rep.Print(&sb)
	t.Log("\n" + sb.String())
	verdicts := map[string]RuleScore{}
	for _, r := range rep.Rules {
		verdicts[r.Rule] = r
	}
	if v := verdicts["value-below"]; v.Verdict != VerdictShared || len(v.Helps) != 2 {
		t.Errorf("value-below: %+v, want shared by below-a and below-b", v)
	}
	if v := verdicts["value-right"]; v.Verdict != VerdictSuspect || v.Helps[0] != "right" {
		t.Errorf("value-right: %+v, want suspect, needed by right only", v)
	}
	if v := verdicts["derived-tax"]; v.Verdict != VerdictUnused {
		t.Errorf("derived-tax: %+v, want unused", v)
	}
	for _, f := range rep.Folders {
		if f.Mean != 1 {
			t.Errorf("%s: mean %.3f with every rule on, want 1", f.Folder, f.Mean)
		}
		own := f.Folder == "right"
		if own != (f.Cross < f.Mean) || own != (strings.Join(f.OwnOnly, ",") == "value-right") {
			t.Errorf("%s: cross %.3f (mean %.3f), own rules %v", f.Folder, f.Cross, f.Mean, f.OwnOnly)
		}
	}
}

// TestCrossReadsOnce checks that a cross evaluation reads each document once, however
// many rules it judges.
func TestCrossReadsOnce(t *testing.T) {
	var mu sync.Mutex
	reads := map[string]int{}
	read := memoRead(func(_ context.Context, p string) (*layout.Document, error) {
		mu.Lock()
		defer mu.Unlock()
		reads[p]++
		return extract.FromText("Invoice No. 1"), nil
	})
	for range 3 {
		for _, p := range []string{"a", "b"} {
			if _, err := read(context.Background(), p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if reads["a"] != 1 || reads["b"] != 1 {
		t.Errorf("reads = %v, want one per document", reads)
	}
}
