// Package web serves the review app: a single-page app built from the TypeScript in src/ by
// `make web` into dist/, committed, and embedded here so the binary needs no Node.js and no
// asset from elsewhere. `make check-web` fails when dist/ differs from a fresh build.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed dist
var dist embed.FS

// CSP is the Content-Security-Policy of the app's page and assets: everything from this
// origin only (scripts, styles, the API and its WebSocket), page images as blob: URLs
// (they are fetched with the API key), no inline script or style, no framing.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

type asset struct {
	body  []byte
	ctype string
	etag  string
}

// Handler serves the app: GET / answers index.html and GET /app/NAME the bundle's files
// (app.js, app.css). Every answer carries CSP, an ETag (a hash of the content) and
// Cache-Control: no-cache, so a browser revalidates and gets a new build at once; unknown
// paths are 404.
func Handler() http.Handler {
	files := map[string]asset{}
	_ = fs.WalkDir(dist, "dist", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := dist.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8"}[path.Ext(p)]
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		files[path.Base(p)] = asset{body: b, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
		return nil
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := "index.html"
		if r.URL.Path != "/" {
			dir, base := path.Split(r.URL.Path)
			if dir != "/app/" || base == "index.html" {
				http.NotFound(w, r)
				return
			}
			name = base
		}
		a, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("Content-Type", a.ctype)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
	})
}
