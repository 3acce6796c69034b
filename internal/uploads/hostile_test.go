package uploads_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// zipOf builds a ZIP archive holding one entry; stored (not compressed) when store is
// set, so that the entry's bytes ("%PDF-...") appear near the start of the archive.
func zipOf(t *testing.T, name string, body []byte, store bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	method := zip.Deflate
	if store {
		method = zip.Store
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// boundedReader yields r, and fails the test if more than max bytes are read from it.
type boundedReader struct {
	t    *testing.T
	r    io.Reader
	n    int
	max  int
	over bool
}

func (b *boundedReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += n
	if b.n > b.max && !b.over {
		b.over = true
		b.t.Errorf("read %d bytes of a refused upload, want at most %d", b.n, b.max)
	}
	return n, err
}

// TestPutRefusesArchives: ZIP (also one storing a PDF, whose "%PDF-" then sits in the first
// bytes), gzip and other archives are an unsupported media type, refused from their first
// bytes without reading the rest (a zip bomb is never inflated nor even read), nothing stored.
func TestPutRefusesArchives(t *testing.T) {
	pdf := []byte("%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(pdf)
	zw.Close()
	// A "zip bomb": 1 GiB of zeros deflated, as a reader that makes its bytes lazily.
	bomb := io.MultiReader(bytes.NewReader([]byte("PK\x03\x04\x14\x00\x00\x00\x08\x00")), zeroReader{})
	for _, tc := range []struct {
		name string
		body io.Reader
	}{
		{"zip storing a PDF", bytes.NewReader(zipOf(t, "invoice.pdf", pdf, true))},
		{"zip deflating a PDF", bytes.NewReader(zipOf(t, "invoice.pdf", pdf, false))},
		{"zip named ../../etc/passwd", bytes.NewReader(zipOf(t, "../../etc/passwd", pdf, true))},
		{"empty zip", bytes.NewReader([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))},
		{"endless zip bomb", bomb},
		{"gzip", bytes.NewReader(gz.Bytes())},
		{"bzip2", strings.NewReader("BZh91AY&SY%PDF-1.4")},
		{"xz", strings.NewReader("\xfd7zXZ\x00%PDF-1.4")},
		{"7z", strings.NewReader("7z\xbc\xaf\x27\x1c%PDF-1.4")},
		{"rar", strings.NewReader("Rar!\x1a\x07\x00%PDF-1.4")},
		{"zstd", strings.NewReader("\x28\xb5\x2f\xfd%PDF-1.4")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			br := &boundedReader{t: t, r: tc.body, max: 1 << 20}
			_, err := s.Put(context.Background(), br, 0)
			if !errors.Is(err, uploads.ErrUnsupported) || apperr.KindOf(err) != apperr.KindUnsupportedMediaType {
				t.Fatalf("Put = %v (kind %s), want ErrUnsupported / UNSUPPORTED_MEDIA_TYPE", err, apperr.KindOf(err))
			}
			if msg := apperr.As(err).PublicMessage(); !strings.Contains(msg, "not a PDF, PNG, JPEG, TIFF or BMP") {
				t.Errorf("message %q", msg)
			}
			if names := files(t, s); len(names) != 0 {
				t.Errorf("a refused upload left %v", names)
			}
		})
	}
	if _, _, ok := uploads.Detect(zipOf(t, "a.pdf", pdf, true)); ok {
		t.Error("Detect accepted a ZIP storing a PDF")
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestUploadNamesCannotEscape: whatever name a client gives an upload, the stored file is
// named by its key inside the store's directory, and the documentName reported is the
// last path element, cleaned.
func TestUploadNamesCannotEscape(t *testing.T) {
	long := strings.Repeat("a", 100_000) + ".pdf"
	for _, tc := range []struct{ in, want string }{
		{"../../etc/passwd", "passwd"},
		{"../../../../../../tmp/x.pdf", "x.pdf"},
		{"/etc/passwd", "passwd"},
		{"/", "document.pdf"},
		{`..\..\windows\system32\config\sam`, "sam"},
		{`C:\invoice.pdf`, "invoice.pdf"},
		{"\\\\server\\share\\a.pdf", "a.pdf"},
		{"a.pdf\x00.exe", "a.pdf.exe"},
		{"\x00", "document.pdf"},
		{"..\x00", "document.pdf"},
		{"../..", "document.pdf"},
		{"in\nvoice\r.pdf", "invoice.pdf"},
		{"\x1b[31mred\x1b[0m.pdf", "[31mred[0m.pdf"},
		{"invoice\u202efdp.exe", "invoicefdp.exe"},
		{"\u2066a\u2069.pdf", "a.pdf"},
		{"ok\xff\xfe.pdf", "ok.pdf"},
		{".../...pdf", "...pdf"},
		{long, long[:uploads.MaxNameLen]},
		{"%2e%2e%2fetc%2fpasswd", "%2e%2e%2fetc%2fpasswd"},
	} {
		got := uploads.DocumentName(tc.in, "pdf")
		if got != tc.want {
			t.Errorf("DocumentName(%.60q) = %.60q, want %.60q", tc.in, got, tc.want)
		}
		if strings.ContainsAny(got, "/\\\x00") || got == ".." || got == "." {
			t.Errorf("DocumentName(%.60q) = %q is not a plain name", tc.in, got)
		}
	}

	// The file lands at <dir>/<key> and nowhere else, whatever the client called it.
	root := t.TempDir()
	s, err := uploads.New(filepath.Join(root, "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Put(context.Background(), strings.NewReader("%PDF-1.4 traversal test"), 0)
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			all = append(all, p)
		}
		return nil
	})
	if want := filepath.Join(root, "uploads", u.Key); len(all) != 1 || all[0] != want {
		t.Errorf("files under the root: %v, want only %s", all, want)
	}
	for _, key := range []string{"../../etc/passwd", "/etc/passwd", u.Key + "/../x", strings.ToUpper(u.Key), u.Key + "\x00"} {
		if _, err := s.Path(key); !errors.Is(err, uploads.ErrInvalidKey) {
			t.Errorf("Path(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
}
