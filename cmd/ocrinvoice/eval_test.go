package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEvalCrossAndWithout runs `eval --cross` and `eval --without` on a folder of
// plain-text invoices whose numbers sit below their labels.
func TestEvalCrossAndWithout(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "files"), 0o755); err != nil {
		t.Fatal(err)
	}
	var truth strings.Builder
	for i := range 5 {
		n := fmt.Sprintf("INV-%03d", 40+i)
		file := fmt.Sprintf("files/%d.txt", i)
		body := fmt.Sprintf("Acme Ltd\n\nInvoice No.\n%s\n\nTotal 12.50\n", n)
		if err := os.WriteFile(filepath.Join(dir, file), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&truth, `{"file": %q, "invoice": {"number": %q}}`+"\n", file, n)
	}
	if err := os.WriteFile(filepath.Join(dir, "truth.jsonl"), []byte(truth.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(string) string { return "" }
	eval := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"eval", "--data", dir, "--read", "text"}, args...), env, &out, &errOut)
		return out.String(), err
	}

	out, err := eval("--cross")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "value-below") || !strings.Contains(out, "suspect (only "+filepath.Base(dir)) {
		t.Errorf("cross report lacks the rule below labels or its verdict:\n%s", out)
	}
	out, err = eval("--without", "value-below")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "invoice.number                  5       0") {
		t.Errorf("with value-below off, no number should be read:\n%s", out)
	}
	if _, err := eval("--without", "no-such-rule"); err == nil || !strings.Contains(err.Error(), "known: ") {
		t.Errorf("unknown rule: err = %v, want the known rules listed", err)
	}
	if _, err := eval("--cross", "--without", "value-below"); err == nil {
		t.Error("--cross with --without: no error")
	}
}
