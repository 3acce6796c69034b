package web_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/web"
)

func TestHandler(t *testing.T) {
	h := web.Handler()
	for _, tc := range []struct {
		path, ctype, body string
		code              int
	}{
		{"/", "text/html; charset=utf-8", `<script defer src="/app/app.js"></script>`, 200},
		{"/app/app.js", "text/javascript; charset=utf-8", "", 200},
		{"/app/app.css", "text/css; charset=utf-8", "", 200},
		{"/app/index.html", "", "", 404},
		{"/app/missing.js", "", "", 404},
		{"/app/x/app.js", "", "", 404},
		{"/other", "", "", 404},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d", rec.Code, tc.code)
			}
			if tc.code != 200 {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if got := rec.Header().Get("Content-Security-Policy"); got != web.CSP {
				t.Errorf("CSP %q", got)
			}
			if !strings.Contains(rec.Body.String(), tc.body) || rec.Body.Len() == 0 {
				t.Errorf("body lacks %q", tc.body)
			}
			etag := rec.Header().Get("ETag")
			req := httptest.NewRequest("GET", tc.path, nil)
			req.Header.Set("If-None-Match", etag)
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if etag == "" || rec.Code != http.StatusNotModified {
				t.Errorf("If-None-Match %s: %d, want 304", etag, rec.Code)
			}
		})
	}
}

// TestBundleSize keeps the app within its budget: 300 KB gzipped for everything in dist.
func TestBundleSize(t *testing.T) {
	files, err := os.ReadDir("dist")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join("dist", f.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		n += buf.Len()
	}
	t.Logf("web/dist: %d bytes gzipped", n)
	if n > 300_000 {
		t.Errorf("web/dist is %d bytes gzipped, over the 300 KB budget", n)
	}
}
