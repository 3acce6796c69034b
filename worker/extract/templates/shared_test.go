package templates

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedData returns the shared data folder, or skips the test when it is absent.
func sharedData(t testing.TB, sub string) string {
	t.Helper()
	root := os.Getenv("OCRINVOICE_SHARED_DATA")
	if root == "" {
		root = filepath.Join("..", "..", "..", "..", "shared", "data")
	}
	p := filepath.Join(root, sub)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared data %s not available (set OCRINVOICE_SHARED_DATA): %v", p, err)
	}
	return p
}

// TestLoadSharedTemplates loads every invoice2data template of the shared folder, each on
// its own so that one failure names its file and the others still run.
func TestLoadSharedTemplates(t *testing.T) {
	dir := sharedData(t, "invoice2data-templates")
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && IsTemplateFile(d.Name()) {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 100 {
		t.Fatalf("found only %d templates under %s", len(files), dir)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(dir, f)
		t.Run(rel, func(t *testing.T) {
			tpl, err := LoadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(tpl.Spec.Keywords) == 0 || tpl.Spec.Issuer == "" {
				t.Errorf("loaded without keywords or issuer: %+v", tpl.Spec)
			}
			if len(tpl.order) == 0 && tpl.lines == nil {
				t.Errorf("no fields loaded")
			}
		})
	}
	all, err := LoadPath(dir)
	if err != nil {
		t.Fatalf("LoadPath: %v", err)
	}
	if len(all) != len(files) {
		t.Errorf("LoadPath loaded %d templates, want %d", len(all), len(files))
	}
}
