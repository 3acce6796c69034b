package rest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/pages"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
	"github.com/ocrinvoice/ocrinvoice/worker/fetch"
)

const jobsPath = "/api/v1/ocr-invoice-jobs"

// newPagesEnv is the REST API with uploads and page images over fresh stores. allow
// opens address ranges to the document fetcher (nil: the whole SSRF guard).
func newPagesEnv(t *testing.T, allow []netip.Prefix) (*env, *uploads.Store, *pages.Renderer) {
	t.Helper()
	for _, tool := range []string{"pdfinfo", "pdftoppm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s (poppler-utils) is needed: %v", tool, err)
		}
	}
	e := newEnv(t, databasetest.Open(t), nil)
	store, err := uploads.New(filepath.Join(t.TempDir(), "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := pages.New(pages.Options{
		Dir:     filepath.Join(t.TempDir(), "pages"),
		Fetcher: fetch.New(fetch.Options{Uploads: store, Allow: allow}),
	})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(e.logs, nil))
	e.serve(NewHandler(e.svc, logger, WithUploads(store, 0), WithPages(r)))
	return e, store, r
}

// uploadJob uploads data as p and creates a job on it; it returns the job's id.
func (e *env) uploadJob(p *auth.Principal, number, name string, data []byte) string {
	e.t.Helper()
	as := e.as(e.t, p)
	up := as.upload(part{"file", name, "", data}).must(e.t, http.StatusCreated).data()
	j := as.do("POST", jobsPath, e.jobBodyFor(number, map[string]any{
		"documentUrl": up["documentUrl"], "documentType": up["documentType"], "documentName": name,
	})).must(e.t, http.StatusCreated).data()
	return j["_id"].(string)
}

// pngSize decodes a PNG answer's size.
func pngSize(t *testing.T, r resp) (int, int) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "image/png" {
		t.Fatalf("Content-Type %q, want image/png (%d %.300s)", ct, r.status, r.raw)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(r.raw))
	if err != nil {
		t.Fatalf("answer is not a PNG: %v", err)
	}
	return cfg.Width, cfg.Height
}

// wantError checks an error answer's status, code and that its message says each of msgs.
func wantError(t *testing.T, r resp, status int, code string, msgs ...string) {
	t.Helper()
	if r.status != status || r.errCode() != code {
		t.Fatalf("got %d %s, want %d %s: %.400s", r.status, r.errCode(), status, code, r.raw)
	}
	for _, m := range msgs {
		if !strings.Contains(r.errMessage(), m) {
			t.Errorf("message %q does not say %q", r.errMessage(), m)
		}
	}
}

func twoPagePDF() []byte {
	return testdocs.PDF(
		testdocs.Page{Lines: testdocs.InvoiceLines},
		testdocs.Page{Lines: []string{"Page two", "Terms and conditions", "Payment within 30 days", "IBAN DE89 3704 0044 0532 0130 00"}},
	)
}

func TestJobPagesPDF(t *testing.T) {
	e, _, r := newPagesEnv(t, nil)
	pdf := twoPagePDF()
	id := e.uploadJob(&submitterA, "PAGES-1", "two.pdf", pdf)
	viewer := e.as(t, &viewerA)
	path := jobsPath + "/" + id + "/pages/"

	one := viewer.do("GET", path+"1?width=600", nil).must(t, http.StatusOK)
	if w, h := pngSize(t, one); w != 600 || h != 776 { // 612x792 pt pages
		t.Errorf("page 1 at width 600 is %dx%d, want 600x776", w, h)
	}
	if cc := one.header.Get("Cache-Control"); !strings.Contains(cc, "private") || !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control %q, want private and immutable", cc)
	}
	sum := sha256.Sum256(pdf)
	if et := one.header.Get("ETag"); !strings.Contains(et, hex.EncodeToString(sum[:])) || !strings.Contains(et, "-p1-w600-") {
		t.Errorf("ETag %q does not name the document's digest, page and width", et)
	}
	if got := r.Renders(); got != 1 {
		t.Fatalf("renders after the first page: %d, want 1", got)
	}

	t.Run("default width", func(t *testing.T) {
		if w, _ := pngSize(t, viewer.do("GET", path+"1", nil).must(t, http.StatusOK)); w != pages.DefaultWidth {
			t.Errorf("width %d, want the default %d", w, pages.DefaultWidth)
		}
	})

	t.Run("page 2 differs from page 1", func(t *testing.T) {
		two := viewer.do("GET", path+"2?width=600", nil).must(t, http.StatusOK)
		if w, h := pngSize(t, two); w != 600 || h != 776 {
			t.Errorf("page 2 is %dx%d", w, h)
		}
		a, _ := png.Decode(bytes.NewReader(one.raw))
		b, _ := png.Decode(bytes.NewReader(two.raw))
		if differing(a, b) < 100 {
			t.Errorf("pages 1 and 2 look the same (%d pixels differ)", differing(a, b))
		}
		if one.header.Get("ETag") == two.header.Get("ETag") {
			t.Error("pages 1 and 2 share an ETag")
		}
	})

	t.Run("cache hit does not render again", func(t *testing.T) {
		before := r.Renders()
		again := viewer.do("GET", path+"1?width=600", nil).must(t, http.StatusOK)
		if !bytes.Equal(again.raw, one.raw) || again.header.Get("ETag") != one.header.Get("ETag") {
			t.Error("the cached page differs from the first answer")
		}
		// A second job of the same document (another owner's upload of the same bytes)
		// shares the cache.
		other := e.uploadJob(&submitterB, "PAGES-B", "same.pdf", pdf)
		e.as(t, &submitterB).do("GET", jobsPath+"/"+other+"/pages/1?width=600", nil).must(t, http.StatusOK)
		if got := r.Renders(); got != before {
			t.Errorf("renders went from %d to %d on cached pages", before, got)
		}
	})

	t.Run("If-None-Match answers 304", func(t *testing.T) {
		nm := viewer.do("GET", path+"1?width=600", nil, "If-None-Match", one.header.Get("ETag"))
		if nm.status != http.StatusNotModified || len(nm.raw) != 0 {
			t.Errorf("got %d with %d bytes, want 304 without a body", nm.status, len(nm.raw))
		}
	})

	t.Run("page past the end", func(t *testing.T) {
		wantError(t, viewer.do("GET", path+"3", nil), http.StatusNotFound, "NOT_FOUND", "page 3", "2 pages")
		// Also on a fresh renderer that has not learnt the count: it asks the PDF.
		e2, _, _ := newPagesEnv(t, nil)
		id2 := e2.uploadJob(&submitterA, "PAGES-2", "two.pdf", pdf)
		wantError(t, e2.as(t, &viewerA).do("GET", jobsPath+"/"+id2+"/pages/9", nil), http.StatusNotFound, "NOT_FOUND", "page 9", "2 pages")
	})

	t.Run("bad page numbers and widths", func(t *testing.T) {
		for _, q := range []string{"0", "-1", "abc", "1.5", "+1", "99999999999999999999999", "1?width=2001", "1?width=100000", "1?width=15",
			"1?width=0", "1?width=-5", "1?width=abc", "1?width=600&width=700", "1?height=10", "1?width="} {
			r := viewer.do("GET", path+q, nil)
			if r.status != http.StatusBadRequest || r.errCode() != "INVALID" {
				t.Errorf("%s: %d %.200s, want 400 INVALID", q, r.status, r.raw)
			}
		}
		wantError(t, viewer.do("GET", path+"1?width=2001", nil), http.StatusBadRequest, "INVALID", "width", "2000")
	})

	t.Run("another owner's job is 404", func(t *testing.T) {
		wantError(t, e.as(t, &submitterB).do("GET", path+"1", nil), http.StatusNotFound, "NOT_FOUND")
		wantError(t, e.as(t, &submitterB).do("GET", path+"1?width=600", nil, "If-None-Match", one.header.Get("ETag")), http.StatusNotFound, "NOT_FOUND")
	})

	t.Run("anonymous is 401", func(t *testing.T) {
		if got := e.as(t, nil).do("GET", path+"1", nil).status; got != http.StatusUnauthorized {
			t.Errorf("got %d, want 401", got)
		}
	})
}

// differing counts the pixels whose gray levels differ by more than 16.
func differing(a, b image.Image) int {
	if a == nil || b == nil || a.Bounds() != b.Bounds() {
		return 1 << 30
	}
	n := 0
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			ga := color.GrayModel.Convert(a.At(x, y)).(color.Gray).Y
			gb := color.GrayModel.Convert(b.At(x, y)).(color.Gray).Y
			if max(ga, gb)-min(ga, gb) > 16 {
				n++
			}
		}
	}
	return n
}

func TestJobPagesConcurrentRequestsRenderOnce(t *testing.T) {
	e, _, r := newPagesEnv(t, nil)
	id := e.uploadJob(&submitterA, "PAGES-C", "two.pdf", twoPagePDF())
	h := authenticated(e.raw, &viewerA)
	var wg sync.WaitGroup
	bodies := make([][]byte, 12)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", jobsPath+"/"+id+"/pages/2?width=500", nil))
			if rec.Code != http.StatusOK {
				t.Errorf("request %d: %d %.200s", i, rec.Code, rec.Body.Bytes())
			}
			bodies[i] = rec.Body.Bytes()
		}()
	}
	wg.Wait()
	if got := r.Renders(); got != 1 {
		t.Errorf("12 concurrent requests rendered %d times, want 1", got)
	}
	for i := range bodies {
		if !bytes.Equal(bodies[i], bodies[0]) {
			t.Errorf("answer %d differs from answer 0", i)
		}
	}
}

func TestJobPagesImages(t *testing.T) {
	e, _, _ := newPagesEnv(t, nil)
	viewer := e.as(t, &viewerA)

	t.Run("PNG upload is scaled, aspect kept", func(t *testing.T) {
		img := image.NewGray(image.Rect(0, 0, 300, 150))
		for i := range img.Pix {
			img.Pix[i] = 0xff
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		id := e.uploadJob(&submitterA, "IMG-1", "scan.png", buf.Bytes())
		r := viewer.do("GET", jobsPath+"/"+id+"/pages/1?width=600", nil).must(t, http.StatusOK)
		if w, h := pngSize(t, r); w != 600 || h != 300 {
			t.Errorf("300x150 PNG at width 600 is %dx%d, want 600x300", w, h)
		}
		wantError(t, viewer.do("GET", jobsPath+"/"+id+"/pages/2", nil), http.StatusNotFound, "NOT_FOUND", "page 2", "1 page")
	})

	t.Run("corrupt PNG", func(t *testing.T) {
		id := e.uploadJob(&submitterA, "IMG-2", "broken.png", []byte("\x89PNG\r\n\x1a\nthis is not a PNG stream at all"))
		wantError(t, viewer.do("GET", jobsPath+"/"+id+"/pages/1", nil), http.StatusUnprocessableEntity, "FAILED_PRECONDITION", "PNG image", "damaged")
	})

	t.Run("decompression bomb is refused from its header", func(t *testing.T) {
		id := e.uploadJob(&submitterA, "IMG-3", "bomb.png", pngHeader(100_000, 100_000))
		wantError(t, viewer.do("GET", jobsPath+"/"+id+"/pages/1", nil), http.StatusUnprocessableEntity, "FAILED_PRECONDITION", "too large", "decompression bomb")
	})
}

// pngHeader is the start of a PNG declaring w x h 8-bit gray pixels: signature and IHDR.
func pngHeader(w, h uint32) []byte {
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8] = 8 // bit depth; colour type 0 (gray), compression, filter, interlace 0
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	crc := crc32.NewIEEE()
	crc.Write([]byte("IHDR"))
	crc.Write(ihdr[:])
	b.WriteString("IHDR")
	b.Write(ihdr[:])
	_ = binary.Write(&b, binary.BigEndian, crc.Sum32())
	return b.Bytes()
}

func TestJobPagesBadDocuments(t *testing.T) {
	e, store, r := newPagesEnv(t, nil)
	viewer := e.as(t, &viewerA)

	t.Run("corrupt PDF", func(t *testing.T) {
		id := e.uploadJob(&submitterA, "BAD-1", "broken.pdf", []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"))
		r := viewer.do("GET", jobsPath+"/"+id+"/pages/1", nil)
		wantError(t, r, http.StatusUnprocessableEntity, "FAILED_PRECONDITION", "PDF", "damaged")
	})

	t.Run("e-invoice XML job has no pages", func(t *testing.T) {
		j := e.as(t, &submitterA).do("POST", jobsPath, e.jobBodyFor("XML-1", map[string]any{
			"documentUrl": "https://invoices.example.com/x.xml", "documentType": "xml", "documentName": "x.xml",
		})).must(t, http.StatusCreated).data()
		wantError(t, viewer.do("GET", jobsPath+"/"+j["_id"].(string)+"/pages/1", nil), http.StatusUnprocessableEntity, "FAILED_PRECONDITION", "XML", "no pages")
	})

	t.Run("document deleted after retention is 410, cached pages too", func(t *testing.T) {
		id := e.uploadJob(&submitterA, "GONE-1", "gone.pdf", testdocs.PDF(testdocs.Page{Lines: []string{"Invoice GONE-1", "Total 10.00"}}))
		viewer.do("GET", jobsPath+"/"+id+"/pages/1", nil).must(t, http.StatusOK)
		e.as(t, &submitterA).do("POST", jobsPath+"/"+id+"/cancel", nil).must(t, http.StatusOK)
		res, err := e.svc.ExpireDocuments(context.Background(), store, time.Now().Add(time.Hour), 0)
		if err != nil || res.Jobs == 0 {
			t.Fatalf("expire documents: %+v %v", res, err)
		}
		before := r.Renders()
		wantError(t, viewer.do("GET", jobsPath+"/"+id+"/pages/1", nil), http.StatusGone, "GONE", "deleted", "retention")
		if r.Renders() != before {
			t.Error("a deleted document was rendered")
		}
	})

	t.Run("upload missing from the store is 410", func(t *testing.T) {
		id := e.uploadJob(&submitterA, "GONE-2", "lost.pdf", testdocs.PDF(testdocs.Page{Lines: []string{"Invoice GONE-2"}}))
		j, err := e.svc.GetJob(auth.WithPrincipal(context.Background(), submitterA), id)
		if err != nil {
			t.Fatal(err)
		}
		key, _ := uploads.KeyFromURL(j.DocumentURL)
		if err := removeFile(store, key); err != nil {
			t.Fatal(err)
		}
		wantError(t, viewer.do("GET", jobsPath+"/"+id+"/pages/1", nil), http.StatusGone, "GONE", "no longer stored")
	})

	t.Run("document changed since the job read it", func(t *testing.T) {
		id := e.uploadJob(&submitterA, "CHG-1", "chg.pdf", testdocs.PDF(testdocs.Page{Lines: []string{"Invoice CHG-1"}}))
		if err := e.c.OcrInvoiceJob.UpdateOneID(id).SetDocumentSha256(strings.Repeat("ab", 32)).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantError(t, viewer.do("GET", jobsPath+"/"+id+"/pages/1", nil), http.StatusUnprocessableEntity, "FAILED_PRECONDITION", "changed since the job read it")
	})
}

// removeFile deletes an upload's file behind the store's back, as a lost disk would.
func removeFile(s *uploads.Store, key string) error {
	return exec.Command("rm", filepath.Join(s.Dir(), key)).Run()
}

func TestJobPagesURLDocumentThroughTheGuard(t *testing.T) {
	pdf := twoPagePDF()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		_, _ = w.Write(pdf)
	}))
	t.Cleanup(srv.Close)
	docURL := srv.URL + "/invoice.pdf"

	t.Run("guarded: loopback refused", func(t *testing.T) {
		e, _, r := newPagesEnv(t, nil)
		j := e.as(t, &submitterA).do("POST", jobsPath, e.jobBodyFor("URL-1", map[string]any{"documentUrl": docURL})).must(t, http.StatusCreated).data()
		res := e.as(t, &viewerA).do("GET", jobsPath+"/"+j["_id"].(string)+"/pages/1", nil)
		wantError(t, res, http.StatusUnprocessableEntity, "FAILED_PRECONDITION", "cannot be fetched", "refused")
		if r.Renders() != 0 {
			t.Error("a refused document was rendered")
		}
	})

	t.Run("allowed range: fetched and drawn", func(t *testing.T) {
		e, _, r := newPagesEnv(t, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
		j := e.as(t, &submitterA).do("POST", jobsPath, e.jobBodyFor("URL-2", map[string]any{"documentUrl": docURL})).must(t, http.StatusCreated).data()
		path := jobsPath + "/" + j["_id"].(string) + "/pages/"
		if w, h := pngSize(t, e.as(t, &viewerA).do("GET", path+"2?width=300", nil).must(t, http.StatusOK)); w != 300 || h != 388 {
			t.Errorf("page 2 at 300 is %dx%d, want 300x388", w, h)
		}
		e.as(t, &viewerA).do("GET", path+"2?width=300", nil).must(t, http.StatusOK)
		if got := r.Renders(); got != 1 {
			t.Errorf("renders %d, want 1 (the second answer from the cache)", got)
		}
		wantError(t, e.as(t, &viewerA).do("GET", path+"5", nil), http.StatusNotFound, "NOT_FOUND", "2 pages")
	})
}

func TestJobPagesWithoutRenderer(t *testing.T) {
	e := newEnv(t, databasetest.Open(t), nil)
	j := e.createJob("NOPAGES-1", nil)
	wantError(t, e.do("GET", fmt.Sprintf("%s/%s/pages/1", jobsPath, j["_id"]), nil), http.StatusServiceUnavailable, "UNAVAILABLE", "not available")
}
