package pdfattach

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// corpusDir returns the folder of ZUGFeRD / Factur-X PDFs, or skips the test when the
// shared data is absent.
func corpusDir(t testing.TB) string {
	t.Helper()
	return sharedDir(t, "zugferd-corpus")
}

// sharedDir returns a folder's files under the shared development invoices, or skips
// the test when it is absent.
func sharedDir(t testing.TB, name string) string {
	t.Helper()
	root := os.Getenv("OCRINVOICE_SHARED_DATA")
	if root == "" {
		root = filepath.Join("..", "..", "..", "shared", "data")
	}
	dir := filepath.Join(root, "invoices-dev", name, "files")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared data not found at %s (set OCRINVOICE_SHARED_DATA): %v", dir, err)
	}
	return dir
}

// corpusPDFs lists the PDFs under dir, recursively.
func corpusPDFs(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.EqualFold(filepath.Ext(p), ".pdf") {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// needPdfdetach skips the test when poppler's pdfdetach is not installed.
func needPdfdetach(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("pdfdetach")
	if err != nil {
		t.Skipf("pdfdetach (poppler-utils) not installed: %v", err)
	}
	return path
}

// popplerList returns the names that `pdfdetach -list` prints for file.
func popplerList(t *testing.T, tool, file string) []string {
	t.Helper()
	out, err := exec.Command(tool, "-list", file).Output()
	if err != nil {
		t.Fatalf("pdfdetach -list %s: %v", file, err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	var names []string
	for _, l := range lines[1:] { // the first line counts the files
		_, name, ok := strings.Cut(l, ": ")
		if !ok {
			t.Fatalf("pdfdetach -list %s: unexpected line %q", file, l)
		}
		names = append(names, name)
	}
	return names
}

// TestCorpusMatchesPdfdetach compares Files with poppler's pdfdetach on every corpus PDF:
// the same number of files, the same names and byte-identical contents.
func TestCorpusMatchesPdfdetach(t *testing.T) {
	dir := corpusDir(t)
	tool := needPdfdetach(t)
	pdfs := corpusPDFs(t, dir)
	if len(pdfs) < 40 {
		t.Fatalf("found only %d PDFs under %s", len(pdfs), dir)
	}
	for _, file := range pdfs {
		rel, _ := filepath.Rel(dir, file)
		t.Run(rel, func(t *testing.T) { compareWithPdfdetach(t, tool, file) })
	}
}

// TestOtherPDFsMatchPdfdetach does the same on the invoice2data PDFs, which are not
// hybrid invoices: most have no attachment, one has.
func TestOtherPDFsMatchPdfdetach(t *testing.T) {
	dir := sharedDir(t, "invoice2data-compare")
	tool := needPdfdetach(t)
	pdfs := corpusPDFs(t, dir)
	if len(pdfs) < 5 {
		t.Fatalf("found only %d PDFs under %s", len(pdfs), dir)
	}
	for _, file := range pdfs {
		t.Run(filepath.Base(file), func(t *testing.T) { compareWithPdfdetach(t, tool, file) })
	}
}

// compareWithPdfdetach checks that Files and pdfdetach find the same files in file: as
// many, with the same names and byte-identical contents.
func compareWithPdfdetach(t *testing.T, tool, file string) {
	pdf, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Files(pdf, Limits{})
	if err != nil {
		t.Fatalf("Files: %v", err)
	}
	want := popplerList(t, tool, file)
	out := t.TempDir()
	if msg, err := exec.Command(tool, "-saveall", "-o", out, file).CombinedOutput(); err != nil {
		t.Fatalf("pdfdetach -saveall: %v: %s", err, msg)
	}
	names := names(got)
	sort.Strings(names)
	sort.Strings(want)
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Fatalf("names: got %q, pdfdetach lists %q", names, want)
	}
	for _, f := range got {
		saved, err := os.ReadFile(filepath.Join(out, f.Name))
		if err != nil {
			t.Fatalf("read what pdfdetach saved: %v", err)
		}
		if !bytes.Equal(f.Data, saved) {
			t.Errorf("%s: %d bytes differ from pdfdetach's %d bytes", f.Name, len(f.Data), len(saved))
		}
	}
}

// benchPDF is the corpus file the benchmarks read: a typical ~150 KB Factur-X invoice.
const benchPDF = "XML-Rechnung/FX/EN16931_Einfach.pdf"

// BenchmarkFiles measures Files on one corpus PDF; compare with BenchmarkPdfdetach.
func BenchmarkFiles(b *testing.B) {
	pdf, err := os.ReadFile(filepath.Join(corpusDir(b), benchPDF))
	if err != nil {
		b.Skipf("benchmark PDF: %v", err)
	}
	b.SetBytes(int64(len(pdf)))
	b.ReportAllocs()
	for b.Loop() {
		files, err := Files(pdf, Limits{})
		if err != nil || len(files) != 1 {
			b.Fatalf("Files: %d files, %v", len(files), err)
		}
	}
}

// BenchmarkPdfdetach measures `pdfdetach -saveall` on the same PDF as BenchmarkFiles.
func BenchmarkPdfdetach(b *testing.B) {
	file := filepath.Join(corpusDir(b), benchPDF)
	tool := needPdfdetach(b)
	out := b.TempDir()
	for b.Loop() {
		if msg, err := exec.Command(tool, "-saveall", "-o", out, file).CombinedOutput(); err != nil {
			b.Fatalf("pdfdetach: %v: %s", err, msg)
		}
	}
}

// BenchmarkFilesNoAttachment measures Files on an ordinary invoice PDF without
// attachments, the common case for the service.
func BenchmarkFilesNoAttachment(b *testing.B) {
	pdf, err := os.ReadFile(filepath.Join(sharedDir(b, "invoice2data-compare"), "AmazonWebServices.pdf"))
	if err != nil {
		b.Skipf("benchmark PDF: %v", err)
	}
	b.SetBytes(int64(len(pdf)))
	b.ReportAllocs()
	for b.Loop() {
		if files, err := Files(pdf, Limits{}); err != nil || files != nil {
			b.Fatalf("Files: %d files, %v", len(files), err)
		}
	}
}
