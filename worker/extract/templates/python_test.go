package templates

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// TestRegexAgainstPython runs every pattern of the shared invoice2data templates over the
// text of the shared invoices with our engine and with Python's `re` (python3 on PATH), and
// requires the same matches. It skips when python3 or the shared data is absent. Patterns
// that run longer than a second in Python (it has no match timeout) are not compared.
func TestRegexAgainstPython(t *testing.T) {
	if testing.Short() {
		t.Skip("compares with Python for about 30 s; skipped with -short")
	}
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	tdir := sharedData(t, "invoice2data-templates")
	ddir := sharedData(t, "invoices-dev/invoice2data-compare/files")
	ts, err := LoadPath(tdir)
	if err != nil {
		t.Fatal(err)
	}
	// Patterns applied to the whole text, and those the lines parser and the tables plugin
	// apply to one line at a time (several of the latter backtrack for minutes in Python
	// when run over a whole page, which they are never used on).
	whole, perLine := &patternSet{seen: map[string]bool{}}, &patternSet{seen: map[string]bool{}}
	var addLines func(l *invoice.LinesRule)
	addLines = func(l *invoice.LinesRule) {
		if l == nil {
			return
		}
		whole.add(l.Start, l.End)
		perLine.add(l.Line, l.FirstLine, l.LastLine)
		perLine.add(l.LineMore...)
		perLine.add(l.FirstLineMore...)
		perLine.add(l.LastLineMore...)
		perLine.add(l.SkipLine...)
		for i := range l.Rules {
			addLines(&l.Rules[i])
		}
	}
	for _, tpl := range ts {
		whole.add(tpl.Spec.Keywords...)
		whole.add(tpl.Spec.ExcludeKeywords...)
		for _, f := range tpl.Spec.Fields {
			whole.add(f.Regex...)
			addLines(f.Lines)
		}
		addLines(tpl.Spec.Lines)
		for _, tb := range tpl.Spec.Tables {
			whole.add(tb.Start, tb.End)
			perLine.add(tb.Body)
		}
	}
	var texts, names, lines []string
	seenLine := map[string]bool{}
	files, _ := filepath.Glob(filepath.Join(ddir, "*"))
	for _, f := range files {
		text, ok := documentText(t, f)
		if !ok {
			continue
		}
		texts = append(texts, text)
		names = append(names, filepath.Base(f))
		for _, l := range strings.Split(text, "\n") {
			if strings.TrimSpace(l) != "" && !seenLine[l] {
				seenLine[l] = true
				lines = append(lines, l)
			}
		}
	}
	if len(texts) == 0 {
		t.Skip("no text documents")
	}
	lineNames := make([]string, len(lines))
	for i, l := range lines {
		lineNames[i] = fmt.Sprintf("line %q", l)
	}
	t.Run("whole texts", func(t *testing.T) { comparePython(t, py, whole.list, texts, names) })
	t.Run("lines", func(t *testing.T) { comparePython(t, py, perLine.list, lines, lineNames) })
}

type patternSet struct {
	seen map[string]bool
	list []string
}

func (s *patternSet) add(ps ...string) {
	for _, p := range ps {
		if p != "" && !s.seen[p] {
			s.seen[p] = true
			s.list = append(s.list, p)
		}
	}
}

func comparePython(t *testing.T, py string, patterns, texts, names []string) {
	req, _ := json.Marshal(map[string]any{"patterns": patterns, "texts": texts, "timeout": 1})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", "python", "findall.py"))
	cmd.Stdin = bytes.NewReader(req)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	want := make([][][]string, len(raw))
	slow := 0
	for i, r := range raw {
		if string(r) == `"timeout"` {
			slow++
			continue
		}
		if err := json.Unmarshal(r, &want[i]); err != nil {
			t.Fatal(err)
		}
	}
	var compared, differ int
	for i, p := range patterns {
		if string(raw[i]) == `"timeout"` {
			continue // Python could not finish; nothing to compare with
		}
		re, err := compilePython(p, 5*time.Second)
		if want[i] == nil {
			if err == nil {
				t.Logf("pattern %q: Python rejects it, we accept it", p)
			}
			continue
		}
		if err != nil {
			t.Errorf("pattern %q: Python compiles it, we do not: %v", p, err)
			continue
		}
		for j, text := range texts {
			got, err := re.findAll(text)
			if err != nil {
				t.Errorf("pattern %q on %s: %v", p, names[j], err)
				continue
			}
			compared++
			w := want[i][j]
			if len(got) == 0 && len(w) == 0 {
				continue
			}
			if !reflect.DeepEqual(got, w) {
				differ++
				t.Errorf("pattern %q: got %q, Python %q", p, got, w)
			}
		}
	}
	t.Logf("%d patterns x %d texts compared, %d differ; %d patterns too slow in Python", len(patterns), len(texts), differ, slow)
	if compared == 0 {
		t.Error("nothing compared")
	}
}
