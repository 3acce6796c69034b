package rest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

const uploadsPath = "/api/v1/uploads"

// newUploadEnv is newEnv with uploads enabled over a fresh store, limited to maxBytes.
func newUploadEnv(t *testing.T, maxBytes int64) (*env, *uploads.Store) {
	t.Helper()
	e := newEnv(t, databasetest.Open(t), nil)
	store, err := uploads.New(filepath.Join(t.TempDir(), "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(e.logs, nil))
	e.serve(NewHandler(e.svc, logger, WithUploads(store, maxBytes)))
	return e, store
}

// part is one field of a multipart body; a file part has a file name.
type part struct {
	field, filename, contentType string
	data                         []byte
}

// multipartBody encodes parts and returns the body and its Content-Type.
func multipartBody(t *testing.T, parts ...part) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, p.field)
		if p.filename != "" {
			disp += fmt.Sprintf(`; filename=%q`, p.filename)
		}
		h.Set("Content-Disposition", disp)
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.data)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

func (e *env) upload(parts ...part) resp {
	e.t.Helper()
	body, ct := multipartBody(e.t, parts...)
	return e.do("POST", uploadsPath, body, "Content-Type", ct)
}

func storedFiles(t *testing.T, s *uploads.Store) []string {
	t.Helper()
	entries, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range entries {
		out = append(out, en.Name())
	}
	return out
}

func TestUploadDocument(t *testing.T) {
	if uploads.MaxNameLen != jobs.MaxDocumentNameLen {
		t.Fatalf("uploads.MaxNameLen %d != jobs.MaxDocumentNameLen %d: an upload's documentName could not name a job", uploads.MaxNameLen, jobs.MaxDocumentNameLen)
	}
	e, store := newUploadEnv(t, 0)
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})

	var first map[string]any
	t.Run("stores a PDF", func(t *testing.T) {
		r := e.upload(part{"file", "invoice-42.pdf", "application/pdf", pdf}).must(t, http.StatusCreated)
		first = r.data()
		sha := fmt.Sprint(first["sha256"])
		if first["documentUrl"] != "upload://"+sha || len(sha) != 64 || first["size"] != float64(len(pdf)) ||
			first["documentName"] != "invoice-42.pdf" || first["documentType"] != "pdf" {
			t.Fatalf("upload answered %s", r.raw)
		}
		if got := keysInOrder(t, rawField(t, r.raw, "data")); !slices.Equal(got, []string{"documentUrl", "sha256", "size", "documentName", "documentType"}) {
			t.Errorf("keys %v", got)
		}
		f, err := store.Open(sha)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	})
	t.Run("same bytes again: same URL, one file", func(t *testing.T) {
		r := e.upload(part{"note", "", "", []byte("ignored")}, part{"file", "copy.pdf", "", pdf}).must(t, http.StatusCreated)
		if r.data()["documentUrl"] != first["documentUrl"] || r.data()["documentName"] != "copy.pdf" {
			t.Fatalf("second upload answered %s", r.raw)
		}
		if files := storedFiles(t, store); len(files) != 1 {
			t.Fatalf("store holds %v", files)
		}
	})
	t.Run("a job names the upload", func(t *testing.T) {
		j := e.createJob("UP-1", map[string]any{"documentUrl": first["documentUrl"], "documentName": first["documentName"]})
		if j["documentUrl"] != first["documentUrl"] || j["documentType"] != "pdf" {
			t.Fatalf("job %v", j)
		}
	})
	t.Run("format from the bytes, not the name; a name when none is sent", func(t *testing.T) {
		png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1}, 64)...)
		r := e.upload(part{"file", "", "application/pdf", png}).must(t, http.StatusCreated)
		if r.data()["documentType"] != "png" || r.data()["documentName"] != "document.png" {
			t.Fatalf("answered %s", r.raw)
		}
		jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{2}, 64)...)
		r = e.upload(part{"file", "scan.pdf", "", jpeg}).must(t, http.StatusCreated)
		if r.data()["documentType"] != "jpg" || r.data()["documentName"] != "scan.pdf" {
			t.Fatalf("answered %s", r.raw)
		}
	})
	t.Run("file names lose their directories", func(t *testing.T) {
		tiff := append([]byte("II*\x00"), bytes.Repeat([]byte{3}, 64)...)
		r := e.upload(part{"file", "../../etc/report.tif", "", tiff}).must(t, http.StatusCreated)
		if r.data()["documentName"] != "report.tif" {
			t.Fatalf("documentName %q", r.data()["documentName"])
		}
	})
}

func TestUploadRefusals(t *testing.T) {
	const limit = 4096
	e, store := newUploadEnv(t, limit)
	pdfOf := func(n int) []byte {
		return append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("a"), n-9)...)
	}
	okBody, okCT := multipartBody(t, part{"file", "a.pdf", "", pdfOf(100)})
	cases := []struct {
		name   string
		body   []byte
		hdr    []string
		status int
		code   string
		field  string
		msg    string
	}{
		{"JSON body", []byte(`{"file":"x"}`), []string{"Content-Type", "application/json"}, 415, "UNSUPPORTED_MEDIA_TYPE", "", "multipart/form-data"},
		{"no content type", okBody, []string{"Content-Type", ""}, 415, "UNSUPPORTED_MEDIA_TYPE", "", "got Content-Type none"},
		{"multipart without boundary", okBody, []string{"Content-Type", "multipart/form-data"}, 415, "UNSUPPORTED_MEDIA_TYPE", "", "multipart/form-data"},
		{"urlencoded form", []byte("file=abc"), []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "UNSUPPORTED_MEDIA_TYPE", "", "field \"file\""},
		{"no file field", nil, nil, 400, "INVALID", "file", "file"},
		{"empty file", nil, nil, 400, "INVALID", "file", "empty"},
		{"text file", nil, nil, 415, "UNSUPPORTED_MEDIA_TYPE", "file", "not a PDF, PNG, JPEG, TIFF or BMP"},
		{"over the limit", nil, nil, 413, "TOO_LARGE", "file", "4 KiB (4096 bytes)"},
		{"body declared over the limit", okBody, []string{"Content-Type", okCT, "Content-Length", "99999999"}, 413, "TOO_LARGE", "file", "4096 bytes"},
		{"malformed multipart", []byte("--xyz\r\nnot a part header\r\n"), []string{"Content-Type", "multipart/form-data; boundary=xyz"}, 400, "INVALID", "", "multipart"},
		{"body cut off inside the file", nil, nil, 400, "INVALID", "file", "could not read"},
	}
	mp := func(parts ...part) ([]byte, []string) {
		b, ct := multipartBody(t, parts...)
		return b, []string{"Content-Type", ct}
	}
	for i := range cases {
		c := &cases[i]
		switch c.name {
		case "no file field":
			c.body, c.hdr = mp(part{"document", "a.pdf", "", pdfOf(100)})
		case "empty file":
			c.body, c.hdr = mp(part{"file", "a.pdf", "", nil})
		case "text file":
			c.body, c.hdr = mp(part{"file", "a.pdf", "application/pdf", []byte("just some text, no document")})
		case "over the limit":
			c.body, c.hdr = mp(part{"file", "a.pdf", "", pdfOf(limit + 1)})
		case "body cut off inside the file":
			b, hdr := mp(part{"file", "a.pdf", "", pdfOf(3000)})
			c.body, c.hdr = b[:2000], hdr
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			hdr := c.hdr
			if len(hdr) == 0 {
				t.Fatal("case has no headers")
			}
			r := e.doRaw("POST", uploadsPath, c.body, hdr...)
			t.Logf("%d %s", r.status, r.errMessage())
			if r.status != c.status || r.errCode() != c.code || !strings.Contains(r.errMessage(), c.msg) {
				t.Fatalf("got %d %s, want %d %s saying %q", r.status, r.raw, c.status, c.code, c.msg)
			}
			if c.field != "" && !slices.Contains(r.errFields(), c.field) {
				t.Errorf("details %v do not name %s", r.errFields(), c.field)
			}
			if files := storedFiles(t, store); len(files) != 0 {
				t.Errorf("a refused upload left %v in the store", files)
			}
		})
	}
	t.Run("exactly the limit is accepted", func(t *testing.T) {
		e.upload(part{"file", "a.pdf", "", pdfOf(limit)}).must(t, http.StatusCreated)
	})
	t.Run("jobs refuse upload URLs that are not keys", func(t *testing.T) {
		for _, u := range []string{"upload://../../etc/passwd", "upload://abc", "upload://" + strings.Repeat("A", 64)} {
			r := e.do("POST", "/api/v1/ocr-invoice-jobs", e.jobBodyFor("UP-BAD", map[string]any{"documentUrl": u})).must(t, http.StatusBadRequest)
			if !slices.Contains(r.errFields(), "documentUrl") || !strings.Contains(r.errMessage(), "64 lowercase hex") {
				t.Errorf("%s: %s", u, r.raw)
			}
		}
		if n := e.countJobs(); n != 0 {
			t.Errorf("%d jobs created", n)
		}
	})
}

func TestUploadsNotConfigured(t *testing.T) {
	e := newEnv(t, databasetest.Open(t), nil)
	body, ct := multipartBody(t, part{"file", "a.pdf", "", []byte("%PDF-1.4\n")})
	r := e.do("POST", uploadsPath, body, "Content-Type", ct).must(t, http.StatusServiceUnavailable)
	if !strings.Contains(r.errMessage(), "uploads are not available") {
		t.Fatalf("answered %s", r.raw)
	}
}

// doRaw is do with a raw body and headers as given (Content-Length included).
func (e *env) doRaw(method, path string, body []byte, hdr ...string) resp {
	e.t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		switch {
		case hdr[i] == "Content-Length":
			fmt.Sscan(hdr[i+1], &req.ContentLength)
		case hdr[i+1] == "":
			req.Header.Del(hdr[i])
		default:
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	r := resp{status: rec.Code, header: rec.Header(), raw: rec.Body.Bytes()}
	if err := json.Unmarshal(r.raw, &r.body); err != nil {
		e.t.Fatalf("%s %s: response is not a JSON object: %v\n%s", method, path, err, r.raw)
	}
	return r
}

// TestUploadJobDocumentType: a job (or a batch document) naming an upload without
// documentType gets the type detected from the upload's bytes, before any extension of
// its name.
func TestUploadJobDocumentType(t *testing.T) {
	e, _ := newUploadEnv(t, 0)
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 64)...)
	jpeg := append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{8}, 64)...)
	pngURL := e.upload(part{"file", "scan", "", png}).must(t, http.StatusCreated).data()["documentUrl"]
	jpegURL := e.upload(part{"file", "photo.pdf", "", jpeg}).must(t, http.StatusCreated).data()["documentUrl"]

	j := e.createJob("UPTYPE-1", map[string]any{"documentUrl": pngURL, "documentName": "scan"})
	if j["documentType"] != "png" {
		t.Errorf("job on a PNG upload named without extension: documentType %v, want png", j["documentType"])
	}
	j = e.createJob("UPTYPE-2", map[string]any{"documentUrl": jpegURL, "documentName": "photo.pdf"})
	if j["documentType"] != "jpg" {
		t.Errorf("job on a JPEG upload named .pdf: documentType %v, want jpg", j["documentType"])
	}
	// An explicit documentType is still the client's to give (and validated).
	j = e.createJob("UPTYPE-3", map[string]any{"documentUrl": pngURL, "documentName": "scan", "documentType": "png"})
	if j["documentType"] != "png" {
		t.Errorf("documentType %v", j["documentType"])
	}
	e.do("POST", "/api/v1/ocr-invoice-jobs", e.jobBodyFor("UPTYPE-4", map[string]any{"documentUrl": pngURL, "documentName": "scan", "documentType": "gif"})).
		must(t, http.StatusBadRequest)
	// A PUT without documentType infers it again.
	id := j["_id"].(string)
	u := e.do("PUT", "/api/v1/ocr-invoice-jobs/"+id, e.jobBodyFor("UPTYPE-3", map[string]any{"documentUrl": jpegURL, "documentName": "scan"})).must(t, http.StatusOK).data()
	if u["documentType"] != "jpg" {
		t.Errorf("after a PUT naming the JPEG upload: documentType %v, want jpg", u["documentType"])
	}
	// An upload that does not exist is a 404 naming documentUrl, not a 400 on documentType.
	r := e.do("POST", "/api/v1/ocr-invoice-jobs", e.jobBodyFor("UPTYPE-5", map[string]any{
		"documentUrl": "upload://" + strings.Repeat("ab", 32), "documentName": "scan"})).must(t, http.StatusNotFound)
	if f := r.errFields(); !slices.Equal(f, []string{"documentUrl"}) {
		t.Errorf("missing upload: fields %v, want [documentUrl]", f)
	}
	// A batch document too.
	g := e.do("POST", "/api/v1/ocr-job-groups", map[string]any{"name": "uptype", "documents": []map[string]any{
		{"documentUrl": pngURL, "documentName": "page"},
	}}).must(t, http.StatusCreated).data()
	l := e.do("GET", "/api/v1/ocr-invoice-jobs?"+url.Values{"filter": {`{"group":"` + g["_id"].(string) + `"}`}}.Encode(), nil).must(t, http.StatusOK).list()
	if len(l) != 1 || l[0]["documentType"] != "png" {
		t.Errorf("batch job on a PNG upload: %v", l)
	}
}
