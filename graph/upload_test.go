package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

const uploadDocument = `mutation($file: Upload!) {
  uploadDocument(file: $file) { documentURL sha256 size documentName documentType }
}`

type uploadedOut struct {
	DocumentURL  string `json:"documentURL"`
	Sha256       string `json:"sha256"`
	Size         int    `json:"size"`
	DocumentName string `json:"documentName"`
	DocumentType string `json:"documentType"`
}

// multipartRequest builds a GraphQL multipart request (operations, map, then one file
// part per entry of files, mapped to variables.<name>), as upload clients send it.
func multipartRequest(t *testing.T, query string, files map[string]struct {
	name string
	data []byte
}) *http.Request {
	t.Helper()
	vars := map[string]any{}
	fileMap := map[string][]string{}
	i := 0
	order := []string{}
	for v := range files {
		vars[v] = nil
		key := fmt.Sprint(i)
		fileMap[key] = []string{"variables." + v}
		order = append(order, v)
		i++
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	_ = mw.WriteField("operations", string(ops))
	m, _ := json.Marshal(fileMap)
	_ = mw.WriteField("map", string(m))
	for i, v := range order {
		w, err := mw.CreateFormFile(fmt.Sprint(i), files[v].name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(files[v].data)
	}
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/graphql", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return req
}

func fileVar(name string, data []byte) map[string]struct {
	name string
	data []byte
} {
	return map[string]struct {
		name string
		data []byte
	}{"file": {name, data}}
}

func newUploadEnv(t *testing.T, maxBytes int64) (*env, *uploads.Store) {
	t.Helper()
	store, err := uploads.New(filepath.Join(t.TempDir(), "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	return newEnv(t, databasetest.Open(t), nil, graph.Config{Uploads: store, UploadMaxBytes: maxBytes}), store
}

func storeFiles(t *testing.T, s *uploads.Store) int {
	t.Helper()
	entries, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func TestUploadDocument(t *testing.T) {
	e, store := newUploadEnv(t, 0)
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})

	r := e.serve(multipartRequest(t, uploadDocument, fileVar("invoice.pdf", pdf)))
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("upload: HTTP %d %+v", r.Status, r.Errors)
	}
	var out struct{ UploadDocument uploadedOut }
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatal(err)
	}
	u := out.UploadDocument
	if u.DocumentURL != "upload://"+u.Sha256 || len(u.Sha256) != 64 || u.Size != len(pdf) || u.DocumentName != "invoice.pdf" || u.DocumentType != "pdf" {
		t.Fatalf("uploaded %+v", u)
	}
	if f, err := store.Open(u.Sha256); err != nil {
		t.Fatalf("not in the store: %v", err)
	} else {
		f.Close()
	}

	// The same bytes again: the same document, stored once.
	r = e.serve(multipartRequest(t, uploadDocument, fileVar("again.pdf", pdf)))
	var again struct{ UploadDocument uploadedOut }
	_ = json.Unmarshal(r.Data, &again)
	if again.UploadDocument.DocumentURL != u.DocumentURL || again.UploadDocument.DocumentName != "again.pdf" || storeFiles(t, store) != 1 {
		t.Fatalf("second upload %+v (%d files)", again.UploadDocument, storeFiles(t, store))
	}

	// What a job needs to name it.
	j := e.createJob("GQL-UP-1", map[string]any{"documentUrl": u.DocumentURL, "documentName": u.DocumentName})
	if j.DocumentURL != u.DocumentURL || j.DocumentType != "pdf" {
		t.Fatalf("job %+v", j)
	}
}

func TestUploadDocumentErrors(t *testing.T) {
	const limit = 4096
	e, store := newUploadEnv(t, limit)
	pdfOf := func(n int) []byte { return append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("a"), n-9)...) }
	cases := []struct {
		name string
		data []byte
		code string
		msg  string
	}{
		{"empty", nil, "BAD_USER_INPUT", "empty"},
		{"not a document", []byte("plain text"), "UNSUPPORTED_MEDIA_TYPE", "not a PDF, PNG, JPEG, TIFF or BMP"},
		{"over the limit", pdfOf(limit + 1), "TOO_LARGE", "4096 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.serve(multipartRequest(t, uploadDocument, fileVar("a.pdf", c.data)))
			if len(r.Errors) == 0 || r.code(0) != c.code || !strings.Contains(r.Errors[0].Message, c.msg) {
				t.Fatalf("HTTP %d %+v, want %s saying %q", r.Status, r.Errors, c.code, c.msg)
			}
			if n := storeFiles(t, store); n != 0 {
				t.Errorf("a refused upload left %d files", n)
			}
		})
	}
	t.Run("declared body over the limit", func(t *testing.T) {
		req := multipartRequest(t, uploadDocument, fileVar("a.pdf", pdfOf(100)))
		req.ContentLength = limit + graph.MaxRequestBytes + 1
		r := e.serve(req)
		if r.Status != http.StatusRequestEntityTooLarge || r.code(0) != "TOO_LARGE" {
			t.Fatalf("HTTP %d %+v", r.Status, r.Errors)
		}
	})
	t.Run("a multipart request runs uploads only", func(t *testing.T) {
		for _, q := range []string{
			`mutation($file: Upload!) { createOcrTemplate(input: {name: "csrf"}) { id } a: uploadDocument(file: $file) { size } }`,
			`query { ocrTemplates { totalCount } }`,
			`mutation { createOcrTemplate(input: {name: "csrf"}) { id } }`,
			`mutation($file: Upload!) { ...F } fragment F on Mutation { uploadDocument(file: $file) { size } }`,
		} {
			r := e.serve(multipartRequest(t, q, fileVar("a.pdf", pdfOf(100))))
			if len(r.Errors) == 0 || r.code(0) != "BAD_REQUEST" || len(r.Data) > 0 && string(r.Data) != "null" {
				t.Fatalf("%s\nanswered HTTP %d %s %+v", q, r.Status, r.Data, r.Errors)
			}
		}
		if n, _ := e.c.OcrTemplate.Query().Count(context.Background()); n != 1 {
			t.Errorf("%d templates, want only the built-in one", n)
		}
		if n := storeFiles(t, store); n != 0 {
			t.Errorf("refused requests stored %d files", n)
		}
	})
	t.Run("uploads not configured", func(t *testing.T) {
		off := newEnv(t, databasetest.Open(t), nil, graph.Config{})
		r := off.serve(multipartRequest(t, uploadDocument, fileVar("a.pdf", pdfOf(100))))
		if r.code(0) != "UNAVAILABLE" || !strings.Contains(r.Errors[0].Message, "uploads are not available") {
			t.Fatalf("HTTP %d %+v", r.Status, r.Errors)
		}
	})
}
