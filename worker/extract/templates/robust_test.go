package templates

import (
	"path/filepath"
	"testing"
	"time"
)

// TestApplyEveryTemplateToEveryDocument applies each shared template to each shared text
// document, matching or not: nothing may panic, and apart from match timeouts (reported
// as errors) every call must succeed.
func TestApplyEveryTemplateToEveryDocument(t *testing.T) {
	if testing.Short() {
		t.Skip("applies ~200 templates to ~12 documents; skipped with -short")
	}
	tdir := sharedData(t, "invoice2data-templates")
	ddir := sharedData(t, "invoices-dev/invoice2data-compare/files")
	ts, err := LoadPath(tdir, WithMatchTimeout(250*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(ddir, "*"))
	var calls, timeouts int
	start := time.Now()
	for _, f := range files {
		text, ok := documentText(t, f)
		if !ok {
			continue
		}
		for _, tpl := range ts {
			calls++
			res, err := tpl.Apply(text)
			if err != nil {
				timeouts++
				t.Logf("%s on %s: %v", tpl.Name, filepath.Base(f), err)
				if res == nil {
					t.Errorf("%s on %s: no result beside the error", tpl.Name, filepath.Base(f))
				}
			}
		}
	}
	t.Logf("%d Apply calls in %s, %d with a match timeout", calls, time.Since(start), timeouts)
}
