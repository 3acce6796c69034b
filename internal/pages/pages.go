// Package pages renders the pages of a job's document as PNG images of a chosen width,
// for viewers that draw evidence boxes (page-relative coordinates) over them.
//
// A PDF page is rasterised by poppler's pdftoppm (after pdfinfo for the page count and
// size), run as a child process with a timeout, an output limit and an address-space
// limit; an image (PNG, JPEG, TIFF, BMP) is decoded after its header passed the
// decompression-bomb guard (MaxPixels) and scaled. The aspect ratio is kept: the height
// follows from the width.
//
// Rendered pages are cached on disk, keyed by the document's SHA-256, the page number
// and the width, so jobs of the same document share them. The cache is bounded
// (Options.MaxCacheBytes: past it the least recently used files are removed), written
// to a temporary file and renamed into place, and concurrent requests for one key
// render once (singleflight).
//
// Errors are *apperr.Error values that say what to do: NotFound for a page past the end
// (naming the page count), FailedPrecondition for a document that is not readable as
// pages (corrupt, encrypted, XML, too large), Gone for an upload no longer stored,
// Unavailable when a document URL could not be fetched for now.
package pages

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/sync/singleflight"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/redact"
	"github.com/ocrinvoice/ocrinvoice/internal/toolexec"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
	"github.com/ocrinvoice/ocrinvoice/worker/fetch"
)

// Widths a page may be rendered at, in pixels.
const (
	DefaultWidth = 1000
	MinWidth     = 16
	MaxWidth     = 2000
)

// Defaults of Options.
const (
	DefaultMaxCacheBytes int64 = 256 << 20
	DefaultTimeout             = 30 * time.Second
	DefaultMemoryLimit   int64 = 1 << 30
	DefaultMaxPixels     int64 = 100_000_000
	// maxAspect bounds how many times taller than wide a rendered page may be, so that
	// the output stays bounded whatever the page size says.
	maxAspect = 20
	// renderVersion is part of every cache key: a change of how pages are drawn bumps it
	// so that old files are no longer served (they age out of the cache).
	renderVersion = "r1"
)

// Fetcher reads a document's bytes: upload://KEY from the upload store, http(s) through
// the SSRF guard. *fetch.Fetcher implements it; its errors wrapping fetch.ErrRefused
// and fetch.ErrPermanent are taken as final.
type Fetcher interface {
	Get(ctx context.Context, rawURL string) ([]byte, error)
}

// Options configure a Renderer. Zero values take the defaults.
type Options struct {
	// Dir is the cache directory (created when missing), e.g. <data dir>/pages.
	Dir string
	// MaxCacheBytes bounds the cache's files [DefaultMaxCacheBytes].
	MaxCacheBytes int64
	// Fetcher reads documents (required).
	Fetcher Fetcher
	// Timeout bounds each pdfinfo and pdftoppm run [DefaultTimeout].
	Timeout time.Duration
	// MemoryLimit bounds each poppler run's address space when prlimit is installed
	// [DefaultMemoryLimit]; negative: no limit.
	MemoryLimit int64
	// MaxPixels refuses images whose header declares more pixels [DefaultMaxPixels].
	MaxPixels int64
	// Logger receives a record per render; nil discards them.
	Logger *slog.Logger
	// Concurrency bounds the renders in progress at once (each may run poppler and hold
	// a document in memory); more wait their turn [GOMAXPROCS].
	Concurrency int
}

// Document is what a page is rendered from: a job's document.
type Document struct {
	URL    string // upload://KEY or an http(s) URL
	SHA256 string // the digest the job read, lowercase hex; "" when it has not read it yet
	Pages  int    // the page count the job found; 0 when unknown
}

// Page is one rendered page.
type Page struct {
	PNG []byte
	// Key names the image for ever (document digest, page, width, renderer version): an
	// ETag.
	Key string
	// Cached tells whether the image was read from the cache (false when it was drawn,
	// also for the callers that waited for another's drawing).
	Cached bool
}

// Renderer renders and caches pages. It is safe for concurrent use.
type Renderer struct {
	opts    Options
	group   singleflight.Group
	renders atomic.Int64
	slots   chan struct{} // one per render in progress

	mu    sync.Mutex
	pages map[string]int // document digest -> page count, learned from renders
	size  int64          // bytes in the cache as last counted; -1: not counted yet
}

// New returns a Renderer caching in opts.Dir.
func New(opts Options) (*Renderer, error) {
	if opts.Dir == "" {
		return nil, errors.New("open page cache: no directory")
	}
	if opts.Fetcher == nil {
		return nil, errors.New("open page cache: no fetcher")
	}
	if opts.MaxCacheBytes <= 0 {
		opts.MaxCacheBytes = DefaultMaxCacheBytes
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MemoryLimit == 0 {
		opts.MemoryLimit = DefaultMemoryLimit
	}
	if opts.MaxPixels <= 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = runtime.GOMAXPROCS(0)
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("open page cache: %w", err)
	}
	return &Renderer{opts: opts, pages: map[string]int{}, size: -1, slots: make(chan struct{}, opts.Concurrency)}, nil
}

// Renders returns how many pages were rendered (not served from the cache) so far.
func (r *Renderer) Renders() int64 { return r.renders.Load() }

// CheckWidth validates a requested width: MinWidth..MaxWidth pixels.
func CheckWidth(w int) error {
	if w < MinWidth || w > MaxWidth {
		return apperr.InvalidField("width", fmt.Sprintf("must be %d to %d pixels, got %d", MinWidth, MaxWidth, w))
	}
	return nil
}

// key is the cache key (and file name) of a page.
func key(sha string, page, width int) string {
	return fmt.Sprintf("%s-p%d-w%d-%s", sha, page, width, renderVersion)
}

// Render returns page (1-based) of doc, width pixels wide. The cache answers when it
// holds the page; otherwise the document is fetched, checked against doc.SHA256 and
// rendered once however many callers ask at the same time.
func (r *Renderer) Render(ctx context.Context, doc Document, page, width int) (*Page, error) {
	if page < 1 {
		return nil, apperr.InvalidField("n", fmt.Sprintf("a page number starts at 1, got %d", page))
	}
	if err := CheckWidth(width); err != nil {
		return nil, err
	}
	sha := doc.SHA256
	if sha == "" && uploads.IsURL(doc.URL) {
		sha, _ = uploads.KeyFromURL(doc.URL) // an upload's key is its digest
	}
	if sha != "" {
		if n := r.pageCount(sha, doc.Pages); n > 0 && page > n {
			return nil, pastEnd(page, n)
		}
		if p, ok := r.cached(key(sha, page, width)); ok {
			return p, nil
		}
	}
	// Fetch and render under one flight per key: the first caller does the work, the
	// others wait for it (a caller whose context ends stops waiting; the work goes on
	// for the rest and fills the cache).
	flight := doc.URL
	if sha != "" {
		flight = key(sha, page, width)
	}
	for attempt := 0; ; attempt++ {
		ch := r.group.DoChan(flight, func() (any, error) {
			// Detached from the first caller's cancellation, bounded by the tools'
			// timeouts; a render waits for a slot only while its first caller waits.
			select {
			case r.slots <- struct{}{}:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			defer func() { <-r.slots }()
			return r.render(context.WithoutCancel(ctx), doc, sha, page, width)
		})
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case res := <-ch:
			if res.Err != nil {
				// The caller that started the flight gave up while it waited for a slot:
				// this one still waits, so it starts a flight of its own.
				if res.Shared && ctx.Err() == nil && attempt < 3 &&
					(errors.Is(res.Err, context.Canceled) || errors.Is(res.Err, context.DeadlineExceeded)) {
					continue
				}
				return nil, res.Err
			}
			return res.Val.(*Page), nil
		}
	}
}

// pageCount is the page count known for a document: learned from an earlier render, or
// the job's.
func (r *Renderer) pageCount(sha string, hint int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, ok := r.pages[sha]; ok {
		return n
	}
	return hint
}

func (r *Renderer) learnPages(sha string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.pages) >= 10_000 {
		clear(r.pages) // only a shortcut: forgetting costs a fetch
	}
	r.pages[sha] = n
}

func pastEnd(page, n int) error {
	unit := "pages"
	if n == 1 {
		unit = "page"
	}
	return apperr.NotFound(fmt.Sprintf("page %d is past the end: the document has %d %s", page, n, unit),
		apperr.Detail{Field: "n", Message: fmt.Sprintf("must be 1 to %d", n)})
}

// cached reads a cached page and marks it used.
func (r *Renderer) cached(k string) (*Page, bool) {
	path := filepath.Join(r.opts.Dir, k+".png")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	now := time.Now()
	_ = os.Chtimes(path, now, now) // least recently used goes first
	return &Page{PNG: b, Key: k, Cached: true}, true
}

// render fetches the document and renders the page into the cache.
func (r *Renderer) render(ctx context.Context, doc Document, sha string, page, width int) (*Page, error) {
	if sha != "" {
		// A flight that finished just before this one started has filled the cache.
		if p, ok := r.cached(key(sha, page, width)); ok {
			return p, nil
		}
	}
	data, err := r.opts.Fetcher.Get(ctx, doc.URL)
	if err != nil {
		return nil, fetchError(doc.URL, err)
	}
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	if sha != "" && got != sha {
		return nil, apperr.FailedPrecondition("the document at the job's documentUrl changed since the job read it (its SHA-256 differs): " +
			"its pages would not match the job's evidence; run the job again to read the new document")
	}
	sha = got
	k := key(sha, page, width)
	if p, ok := r.cached(k); ok {
		return p, nil
	}
	start := time.Now()
	img, n, err := r.draw(ctx, data, page, width)
	if n > 0 {
		r.learnPages(sha, n)
	}
	if err != nil {
		return nil, err
	}
	r.renders.Add(1)
	if err := r.store(k, img); err != nil {
		r.opts.Logger.Warn("Page not cached", slog.String("key", k), slog.Any("error", err))
	}
	r.opts.Logger.Debug("Page rendered", slog.String("key", k), slog.Int("bytes", len(img)),
		slog.Duration("took", time.Since(start)))
	return &Page{PNG: img, Key: k}, nil
}

// fetchError says why a document could not be read.
func fetchError(rawURL string, err error) error {
	shown := redact.URL(rawURL)
	switch {
	case uploads.IsURL(rawURL) && errors.Is(err, fetch.ErrPermanent):
		return apperr.Gone("the job's uploaded document " + shown + " is no longer stored: upload it again and create a new job")
	case errors.Is(err, fetch.ErrRefused), errors.Is(err, fetch.ErrPermanent):
		return &apperr.Error{Kind: apperr.KindFailedPrecondition, Err: err,
			Message: "the job's document cannot be fetched again: " + redact.Error(err).Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return apperr.Unavailable("the job's document "+shown+" could not be fetched for now; try again later", err)
}

// draw renders page of data width pixels wide and returns the PNG and the document's page
// count (0 when it could not be told).
func (r *Renderer) draw(ctx context.Context, data []byte, page, width int) ([]byte, int, error) {
	head := data[:min(len(data), 1024)]
	docType, _, ok := uploads.Detect(head)
	switch {
	case ok && docType == "pdf":
		return r.drawPDF(ctx, data, page, width)
	case ok:
		return r.drawImage(data, docType, page, width)
	case looksLikeXML(head):
		return nil, 0, NoPagesError()
	}
	return nil, 0, apperr.FailedPrecondition("the job's document is not a PDF, PNG, JPEG, TIFF or BMP: it has no pages to show")
}

// NoPagesError is the answer for a document without pages: an e-invoice's XML.
func NoPagesError() error {
	return apperr.FailedPrecondition("the job's document is e-invoice XML: it has no pages to show (its evidence names XML elements, not page areas)")
}

func looksLikeXML(head []byte) bool {
	head = bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	return len(head) > 1 && head[0] == '<'
}

// corrupt is the answer for a document that cannot be read as pages; why is shown.
func corrupt(what, why string, err error) error {
	return &apperr.Error{Kind: apperr.KindFailedPrecondition, Err: err,
		Message: fmt.Sprintf("the job's document cannot be shown: %s %s", what, why)}
}

// runTool runs a poppler tool under the Renderer's timeout and memory limit with at most
// maxOut bytes of standard output (toolexec.Run, whose errors toolFailure answers).
func (r *Renderer) runTool(ctx context.Context, maxOut int, name string, args ...string) ([]byte, error) {
	return toolexec.Run(ctx, toolexec.Limits{Timeout: r.opts.Timeout, MaxOutput: maxOut, Memory: r.opts.MemoryLimit}, name, args...)
}

// toolFailure turns a failed poppler run into an answer: the document's fault
// (FailedPrecondition), a timeout (Unavailable), or an internal error.
func toolFailure(what string, err error) error {
	var te *toolexec.ExitError
	switch {
	case errors.As(err, &te):
		msg := strings.ToLower(te.Stderr)
		if strings.Contains(msg, "incorrect password") || strings.Contains(msg, "encrypt") {
			return corrupt(what, "needs a password", err)
		}
		line := strings.TrimSpace(te.Stderr)
		if i := strings.IndexByte(line, '\n'); i >= 0 {
			line = line[:i]
		}
		if len(line) > 200 {
			line = line[:200]
		}
		if line == "" {
			line = "poppler could not read it"
		}
		return corrupt(what, "is damaged ("+line+")", err)
	case errors.Is(err, toolexec.ErrMemoryLimit), errors.Is(err, toolexec.ErrOutputLimit):
		return corrupt(what, "needs more memory to draw than allowed", err)
	case errors.Is(err, toolexec.ErrTimeout):
		return apperr.Unavailable("drawing the page took too long; try again later", err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return apperr.Internal(fmt.Errorf("%s: %w", what, err))
}

// drawPDF rasterises one PDF page with pdftoppm, to exactly width pixels and the height
// the page's aspect ratio gives.
func (r *Renderer) drawPDF(ctx context.Context, data []byte, page, width int) ([]byte, int, error) {
	f, err := os.CreateTemp(r.opts.Dir, ".tmp-doc-*.pdf")
	if err != nil {
		return nil, 0, apperr.Internal(fmt.Errorf("write PDF for rendering: %w", err))
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, 0, apperr.Internal(fmt.Errorf("write PDF for rendering: %w", werr))
	}
	// pdfinfo refuses a page range past the end: ask for page 1 (and the page count)
	// first, then for the page asked when it is another.
	out, err := r.runTool(ctx, 1<<20, "pdfinfo", "-f", "1", "-l", "1", f.Name())
	if err != nil {
		return nil, 0, toolFailure("the PDF", err)
	}
	n, w, h := parsePDFInfo(out, 1)
	if n <= 0 {
		return nil, 0, corrupt("the PDF", "has no pages", nil)
	}
	if page > n {
		return nil, n, pastEnd(page, n)
	}
	p := strconv.Itoa(page)
	if page != 1 {
		out, err := r.runTool(ctx, 1<<20, "pdfinfo", "-f", p, "-l", p, f.Name())
		if err != nil {
			return nil, n, toolFailure("the PDF", err)
		}
		_, w, h = parsePDFInfo(out, page)
	}
	if w <= 0 || h <= 0 {
		return nil, n, corrupt(fmt.Sprintf("page %d of the PDF", page), "has no size", nil)
	}
	height := max(1, int(float64(width)*h/w+0.5))
	if height > maxAspect*width {
		return nil, n, corrupt(fmt.Sprintf("page %d of the PDF", page),
			fmt.Sprintf("is more than %d times taller than wide (%gx%g pt)", maxAspect, w, h), nil)
	}
	// PPM out of pdftoppm and PNG made here: pdftoppm's own PNG output compresses hard and
	// takes several times as long as drawing the page.
	ppm, err := r.runTool(ctx, width*height*3+1024, "pdftoppm",
		"-f", p, "-l", p, "-scale-to-x", strconv.Itoa(width), "-scale-to-y", strconv.Itoa(height), f.Name())
	if err != nil {
		return nil, n, toolFailure(fmt.Sprintf("page %d of the PDF", page), err)
	}
	img, err := decodePPM(ppm)
	if err != nil {
		return nil, n, corrupt(fmt.Sprintf("page %d of the PDF", page), "drew nothing usable", err)
	}
	pngData, err := encodePNG(img)
	return pngData, n, err
}

// decodePPM reads the binary PPM (P6, 8 bits) pdftoppm writes.
func decodePPM(data []byte) (*image.RGBA, error) {
	var w, h, maxv int
	rest := data
	fields := make([]int, 0, 3)
	if !bytes.HasPrefix(rest, []byte("P6")) {
		return nil, errors.New("not a P6 PPM")
	}
	rest = rest[2:]
	for len(fields) < 3 {
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if len(rest) > 0 && rest[0] == '#' {
			if i := bytes.IndexByte(rest, '\n'); i >= 0 {
				rest = rest[i+1:]
				continue
			}
			return nil, errors.New("truncated PPM header")
		}
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' && i < 9 {
			i++
		}
		if i == 0 {
			return nil, errors.New("bad PPM header")
		}
		v, _ := strconv.Atoi(string(rest[:i]))
		fields = append(fields, v)
		rest = rest[i:]
	}
	w, h, maxv = fields[0], fields[1], fields[2]
	if len(rest) == 0 || maxv != 255 || w <= 0 || h <= 0 {
		return nil, fmt.Errorf("unsupported PPM %dx%d max %d", w, h, maxv)
	}
	rest = rest[1:] // the one white-space byte before the pixels
	if len(rest) < w*h*3 {
		return nil, fmt.Errorf("PPM of %dx%d pixels has %d bytes", w, h, len(rest))
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i, j := 0, 0; i < w*h*3; i, j = i+3, j+4 {
		img.Pix[j], img.Pix[j+1], img.Pix[j+2], img.Pix[j+3] = rest[i], rest[i+1], rest[i+2], 0xff
	}
	return img, nil
}

// encodePNG writes img as PNG, fast rather than small (a page compresses well anyway).
func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return nil, apperr.Internal(fmt.Errorf("encode page PNG: %w", err))
	}
	return buf.Bytes(), nil
}

// parsePDFInfo reads pdfinfo's page count and the size of page (points, its /Rotate
// applied).
func parsePDFInfo(out []byte, page int) (n int, w, h float64) {
	rot := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	pfx := "Page " + strconv.Itoa(page) + " "
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k = strings.Join(strings.Fields(k), " ")
		v = strings.TrimSpace(v)
		switch {
		case k == "Pages":
			n, _ = strconv.Atoi(v)
		case k == pfx+"size":
			_, _ = fmt.Sscanf(v, "%g x %g", &w, &h)
		case k == pfx+"rot":
			rot, _ = strconv.Atoi(v)
		}
	}
	if r := ((rot % 360) + 360) % 360; r == 90 || r == 270 {
		w, h = h, w
	}
	return n, w, h
}

// drawImage decodes an image (its header checked against MaxPixels first) and scales it
// to width pixels.
func (r *Renderer) drawImage(data []byte, docType string, page, width int) ([]byte, int, error) {
	name := strings.ToUpper(docType)
	if docType == "jpg" {
		name = "JPEG"
	}
	src, n, o, err := decodeImage(data, docType, page, r.opts.MaxPixels)
	if n > 0 && page > n {
		return nil, n, pastEnd(page, n)
	}
	if err != nil {
		return nil, n, corrupt("the "+name+" image", err.Error(), err)
	}
	b := src.Bounds()
	ow, oh := orientedSize(b.Dx(), b.Dy(), o)
	height := max(1, int(float64(width)*float64(oh)/float64(ow)+0.5))
	if height > maxAspect*width {
		return nil, n, corrupt("the "+name+" image", fmt.Sprintf("is more than %d times taller than wide (%dx%d pixels)", maxAspect, ow, oh), nil)
	}
	// Scale first, then turn the small result upright.
	sw, sh := orientedSize(width, height, o)
	dst := image.NewNRGBA(image.Rect(0, 0, sw, sh))
	scaler := xdraw.Scaler(xdraw.ApproxBiLinear)
	if b.Dx() > 2*sw {
		scaler = xdraw.CatmullRom // downscaling by much: average, do not skip pixels
	}
	scaler.Scale(dst, dst.Bounds(), src, b, xdraw.Src, nil)
	dst = orient(dst, o)
	out, err := encodePNG(dst)
	return out, n, err
}

// store writes a page to the cache (a temporary file renamed into place) and evicts
// the least recently used files past MaxCacheBytes.
func (r *Renderer) store(k string, data []byte) error {
	f, err := os.CreateTemp(r.opts.Dir, ".tmp-page-*")
	if err != nil {
		return fmt.Errorf("cache page: %w", err)
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), filepath.Join(r.opts.Dir, k+".png"))
	}
	if werr != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("cache page: %w", werr)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.size >= 0 {
		r.size += int64(len(data))
	}
	if r.size < 0 || r.size > r.opts.MaxCacheBytes {
		r.size = r.evict()
	}
	return nil
}

// evict removes the least recently used pages until the cache is within MaxCacheBytes
// (and temporary files older than an hour, left by a crash) and returns its size.
// Another process sharing the directory may evict too; a file gone already is skipped.
func (r *Renderer) evict() int64 {
	type entry struct {
		path string
		size int64
		used time.Time
	}
	var all []entry
	var total int64
	dirents, _ := os.ReadDir(r.opts.Dir)
	for _, d := range dirents {
		info, err := d.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		path := filepath.Join(r.opts.Dir, d.Name())
		if strings.HasPrefix(d.Name(), ".tmp-") {
			if time.Since(info.ModTime()) > time.Hour {
				_ = os.Remove(path)
			}
			continue
		}
		if !strings.HasSuffix(d.Name(), ".png") {
			continue
		}
		all = append(all, entry{path, info.Size(), info.ModTime()})
		total += info.Size()
	}
	slices.SortFunc(all, func(a, b entry) int { return a.used.Compare(b.used) })
	for _, e := range all {
		if total <= r.opts.MaxCacheBytes {
			break
		}
		if err := os.Remove(e.path); err == nil || errors.Is(err, fs.ErrNotExist) {
			total -= e.size
		}
	}
	return total
}

// RemoveDocuments removes the cached page images of the documents with the given digests
// from the cache directory dir (a document deleted after its retention period takes
// its images with it) and returns how many files went. Digests that are not 64
// lowercase hex characters are skipped. Errors: the first removal that failed; the
// rest are still tried.
func RemoveDocuments(dir string, digests []string) (int, error) {
	var n int
	var first error
	for _, d := range digests {
		if !uploads.ValidKey(d) {
			continue
		}
		files, err := filepath.Glob(filepath.Join(dir, d+"-*.png"))
		if err != nil {
			continue
		}
		for _, f := range files {
			switch err := os.Remove(f); {
			case err == nil:
				n++
			case errors.Is(err, fs.ErrNotExist):
			case first == nil:
				first = fmt.Errorf("remove cached page: %w", err)
			}
		}
	}
	return n, first
}
