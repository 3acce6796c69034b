package templates

import (
	"os"
	"path/filepath"
	"testing"
)

// benchSetup returns the shared templates and one shared invoice text (pdftotext -layout),
// or the synthetic ones of testdata when the shared data is absent.
func benchSetup(b *testing.B) ([]*Template, string) {
	b.Helper()
	root := os.Getenv("OCRINVOICE_SHARED_DATA")
	if root == "" {
		root = filepath.Join("..", "..", "..", "..", "shared", "data")
	}
	tdir := filepath.Join(root, "invoice2data-templates")
	doc := filepath.Join(root, "invoices-dev", "invoice2data-compare", "files", "QualityHosting.pdf")
	if _, err := os.Stat(tdir); err != nil {
		ts, err := LoadPath(filepath.Join("testdata", "shapes"))
		if err != nil {
			b.Fatal(err)
		}
		text, err := os.ReadFile(filepath.Join("testdata", "texts", "legacy.txt"))
		if err != nil {
			b.Fatal(err)
		}
		return ts, string(text)
	}
	ts, err := LoadPath(tdir)
	if err != nil {
		b.Fatal(err)
	}
	return ts, documentTextOrSkip(b, doc)
}

func documentTextOrSkip(b *testing.B, path string) string {
	text, ok := documentText(b, path)
	if !ok {
		b.Skipf("%s has no text layer", path)
	}
	return text
}

// BenchmarkLoadSharedTemplates measures loading and compiling the template folder.
func BenchmarkLoadSharedTemplates(b *testing.B) {
	root := os.Getenv("OCRINVOICE_SHARED_DATA")
	if root == "" {
		root = filepath.Join("..", "..", "..", "..", "shared", "data")
	}
	dir := filepath.Join(root, "invoice2data-templates")
	if _, err := os.Stat(dir); err != nil {
		dir = filepath.Join("testdata", "shapes")
	}
	for b.Loop() {
		if _, err := LoadPath(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSelect measures choosing a template for one document among all of them.
func BenchmarkSelect(b *testing.B) {
	ts, text := benchSetup(b)
	for b.Loop() {
		if Select(ts, text) == nil {
			b.Fatal("no template selected")
		}
	}
}

// BenchmarkApply measures applying the selected template to its document.
func BenchmarkApply(b *testing.B) {
	ts, text := benchSetup(b)
	tpl := Select(ts, text)
	if tpl == nil {
		b.Fatal("no template selected")
	}
	for b.Loop() {
		if _, err := tpl.Apply(text); err != nil {
			b.Fatal(err)
		}
	}
}
