package uploads_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

func newStore(t *testing.T) *uploads.Store {
	t.Helper()
	s, err := uploads.New(filepath.Join(t.TempDir(), "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// files lists the names in the store's directory.
func files(t *testing.T, s *uploads.Store) []string {
	t.Helper()
	entries, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestPutStoresByContent(t *testing.T) {
	s := newStore(t)
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	u, err := s.Put(context.Background(), bytes.NewReader(pdf), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := uploads.Upload{Key: sum(pdf), URL: "upload://" + sum(pdf), SHA256: sum(pdf), Size: int64(len(pdf)), ContentType: "application/pdf", DocumentType: "pdf"}
	if u != want {
		t.Fatalf("Put = %+v, want %+v", u, want)
	}
	f, err := s.Open(u.Key)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, pdf) {
		t.Fatal("stored bytes differ")
	}

	// The same bytes again: same key, one file, no leftovers.
	again, err := s.Put(context.Background(), bytes.NewReader(pdf), 0)
	if err != nil || again != u {
		t.Fatalf("second Put = %+v, %v; want %+v", again, err, u)
	}
	if names := files(t, s); len(names) != 1 || names[0] != u.Key {
		t.Fatalf("store holds %v, want just %s", names, u.Key)
	}
	if p, err := s.Path(u.Key); err != nil || p != filepath.Join(s.Dir(), u.Key) {
		t.Fatalf("Path = %q, %v", p, err)
	}
}

func TestPutDetectsFormats(t *testing.T) {
	s := newStore(t)
	pad := bytes.Repeat([]byte{0}, 32)
	tests := []struct {
		name, docType, contentType string
		head                       []byte
	}{
		{"pdf", "pdf", "application/pdf", []byte("%PDF-1.7\n")},
		{"pdf after junk", "pdf", "application/pdf", append(bytes.Repeat([]byte("x"), 500), "%PDF-1.4"...)},
		{"png", "png", "image/png", []byte("\x89PNG\r\n\x1a\n")},
		{"jpeg", "jpg", "image/jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0}},
		{"tiff little-endian", "tiff", "image/tiff", []byte("II*\x00")},
		{"tiff big-endian", "tiff", "image/tiff", []byte("MM\x00*")},
		{"bmp", "bmp", "image/bmp", []byte("BM")},
		{"cii e-invoice", "xml", "application/xml", []byte(`<?xml version="1.0"?><rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"></rsm:CrossIndustryInvoice>`)},
		// A licence comment longer than the first KiB before the root element, as the
		// ZUGFeRD samples have.
		{"ubl e-invoice after a long comment", "xml", "application/xml", []byte("\xef\xbb\xbf<?xml version=\"1.0\"?>\n<!-- " + strings.Repeat("licence text ", 400) +
			` --><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"></Invoice>`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := s.Put(context.Background(), bytes.NewReader(append(tt.head, pad...)), 0)
			if err != nil {
				t.Fatal(err)
			}
			if u.DocumentType != tt.docType || u.ContentType != tt.contentType {
				t.Fatalf("detected %s %s, want %s %s", u.DocumentType, u.ContentType, tt.docType, tt.contentType)
			}
		})
	}
}

// slowReader yields its bytes in small pieces, as a network body does.
type slowReader struct {
	r io.Reader
}

func (s slowReader) Read(p []byte) (int, error) {
	if len(p) > 100 {
		p = p[:100]
	}
	return s.r.Read(p)
}

func TestPutRefusals(t *testing.T) {
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("a"), 5000)...)
	tests := []struct {
		name     string
		body     io.Reader
		max      int64
		sentinel error
		kind     apperr.Kind
		msg      string
	}{
		{"empty", strings.NewReader(""), 0, uploads.ErrEmpty, apperr.KindInvalid, "empty"},
		{"text", strings.NewReader("hello, this is not an invoice"), 0, uploads.ErrUnsupported, apperr.KindUnsupportedMediaType, "not a PDF, PNG, JPEG, TIFF or BMP file, nor a CII or UBL e-invoice"},
		{"xml that is no e-invoice", strings.NewReader(`<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>`), 0, uploads.ErrUnsupported, apperr.KindUnsupportedMediaType, "XML but not an e-invoice"},
		{"xml with a DTD", strings.NewReader(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&a;</Invoice>`), 0, uploads.ErrUnsupported, apperr.KindUnsupportedMediaType, "XML but not an e-invoice"},
		{"zip", strings.NewReader("PK\x03\x04rest"), 0, uploads.ErrUnsupported, apperr.KindUnsupportedMediaType, "PK"},
		{"over the limit", bytes.NewReader(pdf), 4096, uploads.ErrTooLarge, apperr.KindTooLarge, "4 KiB (4096 bytes)"},
		{"over the limit within the head", bytes.NewReader(pdf), 100, uploads.ErrTooLarge, apperr.KindTooLarge, "100 bytes"},
		{"over the limit, slow body", slowReader{bytes.NewReader(pdf)}, 4999, uploads.ErrTooLarge, apperr.KindTooLarge, "4999 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			_, err := s.Put(context.Background(), tt.body, tt.max)
			if !errors.Is(err, tt.sentinel) || apperr.KindOf(err) != tt.kind {
				t.Fatalf("Put error %v (kind %s), want %v of kind %s", err, apperr.KindOf(err), tt.sentinel, tt.kind)
			}
			if msg := apperr.As(err).PublicMessage(); !strings.Contains(msg, tt.msg) {
				t.Errorf("message %q does not say %q", msg, tt.msg)
			}
			if names := files(t, s); len(names) != 0 {
				t.Errorf("a refused upload left %v", names)
			}
		})
	}
	t.Run("exactly the limit", func(t *testing.T) {
		s := newStore(t)
		u, err := s.Put(context.Background(), bytes.NewReader(pdf), int64(len(pdf)))
		if err != nil || u.Size != int64(len(pdf)) {
			t.Fatalf("Put at the limit = %+v, %v", u, err)
		}
	})
}

// failingReader yields a PDF head, then an error.
type failingReader struct{ sent bool }

func (f *failingReader) Read(p []byte) (int, error) {
	if !f.sent {
		f.sent = true
		return copy(p, append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("b"), 2000)...)), nil
	}
	return 0, errors.New("connection reset")
}

func TestPutInterruptedLeavesNothing(t *testing.T) {
	t.Run("reader fails", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Put(context.Background(), &failingReader{}, 0)
		if !errors.Is(err, uploads.ErrRead) || !strings.Contains(err.Error(), "connection reset") || apperr.KindOf(err) != apperr.KindInternal {
			t.Fatalf("Put = %v, want the reader's error wrapped in ErrRead", err)
		}
		if names := files(t, s); len(names) != 0 {
			t.Errorf("left %v", names)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		s := newStore(t)
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		go func() {
			_, _ = pw.Write(append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("c"), 3000)...))
			cancel()
			_, _ = pw.Write([]byte("more"))
			pw.Close()
		}()
		_, err := s.Put(ctx, pr, 0)
		pr.Close() // unblocks the writer
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put = %v, want context.Canceled", err)
		}
		if names := files(t, s); len(names) != 0 {
			t.Errorf("left %v", names)
		}
	})
}

func TestConcurrentPutsOfTheSameBytes(t *testing.T) {
	s := newStore(t)
	pdf := testdocs.PDF(testdocs.Page{Lines: []string{"Invoice 1"}})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Put(context.Background(), bytes.NewReader(pdf), 0)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if names := files(t, s); len(names) != 1 || names[0] != sum(pdf) {
		t.Fatalf("store holds %v", names)
	}
}

func TestKeysAreStrict(t *testing.T) {
	s := newStore(t)
	good := strings.Repeat("ab", 32)
	bad := []string{
		"", "../../etc/passwd", "..", "/etc/passwd", strings.Repeat("A", 64), strings.Repeat("a", 63),
		strings.Repeat("a", 65), good[:63] + "g", good + "/", "./" + good[2:], good[:32] + "\x00" + good[33:],
	}
	for _, k := range bad {
		if uploads.ValidKey(k) {
			t.Errorf("ValidKey(%q) = true", k)
		}
		if _, err := s.Path(k); !errors.Is(err, uploads.ErrInvalidKey) || apperr.KindOf(err) != apperr.KindInvalid {
			t.Errorf("Path(%q) error %v, want ErrInvalidKey", k, err)
		}
		if f, err := s.Open(k); !errors.Is(err, uploads.ErrInvalidKey) {
			if f != nil {
				f.Close()
			}
			t.Errorf("Open(%q) error %v, want ErrInvalidKey", k, err)
		}
	}
	if _, err := s.Open(good); !errors.Is(err, uploads.ErrNotFound) || apperr.KindOf(err) != apperr.KindNotFound {
		t.Errorf("Open(missing) error %v, want ErrNotFound", err)
	}

	urls := []struct {
		raw string
		ok  bool
	}{
		{"upload://" + good, true},
		{"UPLOAD://" + good, true},
		{"upload://../../etc/passwd", false},
		{"upload://" + good + "/x", false},
		{"upload://" + good + "?a=b", false},
		{"upload://" + good + "#f", false},
		{"upload:" + good, false},
		{"upload:///" + good, false},
		{"upload://u@" + good, false},
		{"upload://" + strings.ToUpper(good), false},
		{"https://example.com/" + good, false},
		{"upload://", false},
	}
	for _, tt := range urls {
		key, err := uploads.KeyFromURL(tt.raw)
		if (err == nil) != tt.ok {
			t.Errorf("KeyFromURL(%q) = %q, %v; want ok=%v", tt.raw, key, err, tt.ok)
		}
		if err == nil && key != good {
			t.Errorf("KeyFromURL(%q) = %q", tt.raw, key)
		}
		if err != nil && !errors.Is(err, uploads.ErrInvalidKey) {
			t.Errorf("KeyFromURL(%q) error %v does not wrap ErrInvalidKey", tt.raw, err)
		}
	}
	if uploads.URL(good) != "upload://"+good {
		t.Errorf("URL = %q", uploads.URL(good))
	}
}

func TestNewRemovesStaleTempFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "uploads")
	s, err := uploads.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, ".tmp-stale")
	fresh := filepath.Join(dir, ".tmp-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := uploads.New(s.Dir()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file kept: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temp file (a live write) removed: %v", err)
	}
	if _, err := uploads.New(""); err == nil {
		t.Error("New(\"\") succeeded")
	}
}

func TestDocumentName(t *testing.T) {
	long := strings.Repeat("é", uploads.MaxNameLen+10)
	tests := []struct{ in, want string }{
		{"invoice.pdf", "invoice.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\me\scan.tif`, "scan.tif"},
		{"re\x01po\x7frt.pdf", "report.pdf"},
		{"bad\xffutf8.png", "badutf8.png"},
		{"  spaced.pdf  ", "spaced.pdf"},
		{"", "document.pdf"},
		{"..", "document.pdf"},
		{"dir/", "document.pdf"},
		{long, strings.Repeat("é", uploads.MaxNameLen)},
	}
	for _, tt := range tests {
		if got := uploads.DocumentName(tt.in, "pdf"); got != tt.want {
			t.Errorf("DocumentName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
