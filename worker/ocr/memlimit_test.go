package ocr

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// TestToolMemoryLimit: pdftoppm rendering a page at 600 DPI under a 16 MiB address-space
// limit runs out of memory (poppler says "Out of memory" and still exits 0); that is
// ErrMemoryLimit, a permanent document error (ErrTooLarge, ErrBadDocument) naming the
// tool and the limit — not a blank page read as if it were the document, and not a
// crash. Without a limit, or with the default one, the same run succeeds; a tool killed
// by SIGSEGV under a limit is counted as out of memory too.
func TestToolMemoryLimit(t *testing.T) {
	if !MemoryLimitSupported() {
		t.Skip("prlimit (util-linux) is not installed")
	}
	ctx := context.Background()
	path := writeFile(t, "invoice.pdf", testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines}))
	render := func(mem int64) ([]byte, error) {
		return runTool(ctx, 30*time.Second, 1<<30, mem, "pdftoppm", "-gray", "-r", "600", "-f", "1", "-l", "1", path)
	}
	_, err := render(16 << 20)
	if !errors.Is(err, ErrMemoryLimit) || !errors.Is(err, ErrBadDocument) {
		t.Fatalf("render under 16 MiB: %v, want ErrMemoryLimit", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "pdftoppm ran out of memory under its limit of 16 MiB") {
		t.Errorf("message %q does not say which tool and which limit", msg)
	}
	for _, mem := range []int64{0, DefaultToolMemoryLimit} {
		out, err := render(mem)
		if err != nil {
			t.Fatalf("render with limit %d: %v", mem, err)
		}
		if img, err := decodePGM(out); err != nil || img.Bounds().Dx() < 4000 {
			t.Errorf("render with limit %d: %d bytes, %v", mem, len(out), err)
		}
	}
	if _, err := runTool(ctx, 10*time.Second, 1024, DefaultToolMemoryLimit, "sh", "-c", "kill -SEGV $$"); !errors.Is(err, ErrMemoryLimit) {
		t.Errorf("a tool killed by SIGSEGV under a limit: %v, want ErrMemoryLimit", err)
	}
	var te *toolError
	if _, err := runTool(ctx, 10*time.Second, 1024, 0, "sh", "-c", "kill -SEGV $$"); !errors.As(err, &te) {
		t.Errorf("a tool killed by SIGSEGV without a limit: %v, want a tool error", err)
	}

	// Through a Reader: the whole read fails with the permanent error.
	r, err := NewReader(Config{Slots: 1, ToolMemoryLimit: 16 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.ReadBytes(ctx, testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines}), "invoice.pdf", Options{Mode: ModeOCR, DPI: 600})
	if !errors.Is(err, ErrMemoryLimit) || !strings.Contains(err.Error(), "ran out of memory under its limit of 16 MiB") {
		t.Fatalf("read under a 16 MiB tool limit: %v, want ErrMemoryLimit", err)
	}
}
