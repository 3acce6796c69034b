package rest

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/pages"
)

// WithPages enables GET /api/v1/ocr-invoice-jobs/{id}/pages/{n} over r. Without it the
// route answers 503.
func WithPages(r *pages.Renderer) Option {
	return func(a *api) { a.pages = r }
}

// pageNumber returns the {n} path value: a page number from 1, in decimal digits.
func pageNumber(r *http.Request) (int, error) {
	s := r.PathValue("n")
	n, err := strconv.Atoi(s)
	if err != nil || s == "" || strings.TrimLeft(s, "0123456789") != "" || n < 1 {
		return 0, apperr.Invalid("invalid page number "+apperr.Quote(s)+": pages are numbered from 1",
			apperr.Detail{Field: "n", Message: "must be a whole number from 1"})
	}
	return n, nil
}

// pageWidth returns the ?width= parameter (pages.DefaultWidth when absent), refusing
// other parameters and widths outside pages.MinWidth..pages.MaxWidth.
func pageWidth(r *http.Request) (int, error) {
	q := r.URL.Query()
	for k := range q {
		if k != "width" {
			return 0, apperr.Invalid("unknown query parameter "+apperr.Quote(k)+": the only one is width (pixels)",
				apperr.Detail{Field: k, Message: "unknown parameter"})
		}
	}
	vs := q["width"]
	switch {
	case len(vs) == 0:
		return pages.DefaultWidth, nil
	case len(vs) > 1:
		return 0, apperr.InvalidField("width", "give it once")
	}
	w, err := strconv.Atoi(vs[0])
	if err != nil || strings.TrimLeft(vs[0], "0123456789") != "" {
		return 0, apperr.InvalidField("width", "must be a whole number of pixels, got "+apperr.Quote(vs[0]))
	}
	return w, pages.CheckWidth(w)
}

// jobPage answers page n of a job's document as a PNG image ?width= pixels wide, for a
// viewer that draws the job's evidence boxes over it. The image is named for ever by its
// ETag (the document's digest, the page and the width): a client revalidating with
// If-None-Match gets 304.
func (a *api) jobPage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	n, err := pageNumber(r)
	if err != nil {
		return err
	}
	width, err := pageWidth(r)
	if err != nil {
		return err
	}
	doc, err := a.svc.JobPageDocument(r.Context(), id)
	if err != nil {
		return err
	}
	if a.pages == nil {
		return apperr.Unavailable("page images are not available on this server", nil)
	}
	p, err := a.pages.Render(r.Context(), pages.Document{URL: doc.URL, SHA256: doc.SHA256, Pages: doc.Pages}, n, width)
	if err != nil {
		return err
	}
	etag := `"` + p.Key + `"`
	h := w.Header()
	h.Set("ETag", etag)
	// The answer depends on who asks (owner scope): no shared cache may keep it.
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	if etagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", "image/png")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(len(p.PNG)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(p.PNG)
	}
	return nil
}

// etagMatch tells whether an If-None-Match header names etag (or is "*"), weak
// comparison as RFC 9110 asks for If-None-Match.
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
