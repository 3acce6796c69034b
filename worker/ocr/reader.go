// Package ocr reads invoice documents (PDF, PNG, JPEG, TIFF, BMP) into positioned text
// (layout.Document): PDF pages with a usable text layer through pdftotext, every other
// page rasterised (pdftoppm -gray) or decoded and recognised by Tesseract through a
// pool of gosseract clients.
//
// Contracts:
//   - The format comes from the file's magic bytes (DetectFormat); names and declared
//     types are never trusted.
//   - A permanent problem with the document (empty, corrupt, truncated, encrypted,
//     unsupported, too many pixels or pages) is an error wrapping ErrBadDocument, with a
//     message naming the problem; anything else (timeouts, cancelled contexts, a tool
//     that cannot run) is transient.
//   - External tools run with a timeout (Options.Timeout) and output limits; images are
//     checked against Options.MaxPixels from their headers before any pixel is decoded.
//   - Pages of one document are recognised in parallel, one page per pool slot. Tesseract
//     itself should run single-threaded: start the process with OMP_THREAD_LIMIT=1.
//   - OCR pages are turned upright when the first reading looks sideways or upside down
//     (Tesseract's orientation detection), and small text is upscaled before a second
//     reading; the better reading is kept. Pages whose text lines are far taller than
//     Tesseract needs are shrunk first (a quarter less work at 300 DPI, read as well).
//   - A PDF text layer that is not text (a font without a Unicode map makes pdftotext
//     print glyph ids, private codes or letter soup: garbageText) is not used: in auto
//     mode the page is read by OCR, and layout.Document.Warnings names the page and the
//     reason. Right-to-left words (Hebrew, Arabic) come in reading order.
//   - With the default languages, a document whose first OCR page reads clearly as
//     German, French, Spanish, Italian, Dutch or Portuguese (detectLanguage, over the
//     English reading's words) is read with that language's model alone: that page
//     again, the others directly. English pages are read once, as before.
//   - After a page is read, its words that look like numbers and were read with little
//     confidence are cut out, binarised anew (each crop with its own Otsu threshold, and
//     gray for Tesseract's Sauvola), read once more as one stacked image per
//     binarisation, and voted character by character (revote.go). Confident pages
//     (most invoices) have few such words; no page is read whole twice.
package ocr

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otiai10/gosseract/v2"
	"golang.org/x/sync/errgroup"

	"github.com/ocrinvoice/ocrinvoice/internal/imagefile"
	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// Mode chooses how pages are read.
type Mode string

// Reading modes.
const (
	// ModeAuto (the default) reads each PDF page from its text layer when the layer is
	// usable and by OCR otherwise; images are always OCR'd. A layer is usable when it
	// has enough letters and digits and reads as text: one whose words are not words,
	// numbers or codes (a font without a Unicode map) is replaced by OCR, and
	// layout.Document.Warnings says so.
	ModeAuto Mode = "auto"
	// ModeText reads only text layers. A PDF page without a usable one comes back as an
	// empty page (Source "text", no lines); a document where no page has one, and every
	// image, fails with ErrNoTextLayer.
	ModeText Mode = "text"
	// ModeOCR rasterises every PDF page and OCRs it, even where a text layer exists.
	ModeOCR Mode = "ocr"
)

// Options tune one Read. The zero value is valid and means the defaults.
type Options struct {
	Mode      Mode   // default ModeAuto
	Languages string // Tesseract languages joined by '+', e.g. "eng+deu"; default "eng" (see KeepLanguages)
	DPI       int    // rasterisation DPI for PDF pages, 50..1200, default 300
	PSM       int    // Tesseract page segmentation mode; 0 = default (3, automatic)
	MaxPixels int64  // refuse any page image above this many pixels; default 100e6
	MaxPages  int    // refuse documents with more pages; default 200
	// Timeout bounds each external tool call (pdfinfo, pdftotext, pdftoppm); default 60s.
	Timeout time.Duration
	// MemoryLimit bounds the address space of each external tool call, in bytes; a call
	// that runs out of it fails with ErrMemoryLimit. 0: the Reader's
	// (Config.ToolMemoryLimit); negative: no limit.
	MemoryLimit int64
	// Progress, when set, is called after each page is read with the number of pages
	// done so far and the total. Calls are serialised but may come from any goroutine.
	Progress func(page, pages int)
	// NoAutoRotate skips orientation detection for pages whose first reading looks
	// sideways or upside down.
	NoAutoRotate bool
	// KeepLanguages reads every page with Languages. Without it, and with the default
	// Languages (empty or "eng"), the document's language is detected from the reading
	// of its first OCR page, and when that is clearly one of the other installed
	// languages the pages are read with that language's model instead (see detectLanguage);
	// layout.Document.Language says which languages were used.
	KeepLanguages bool
	// NoPageText leaves layout.Page.Text empty on pages read from a PDF text layer:
	// that text (pdftotext -layout, a second poppler run) is what regex templates match,
	// so a caller that applies no template skips the run and keeps the words and lines.
	NoPageText bool

	// otsu makes Tesseract binarise with its global Otsu threshold instead of
	// Sauvola's local one (set by readImage for a second reading).
	otsu bool
	// noRevote skips reading uncertain numbers again (see revote.go); benchmarks set
	// it to measure what that costs.
	noRevote bool
}

// Defaults applied by Read.
const (
	DefaultDPI       = 300
	DefaultMaxPixels = 100_000_000
	DefaultMaxPages  = 200
	DefaultTimeout   = 60 * time.Second
	DefaultLanguages = "eng"
	// maxImageFile bounds how many bytes of an image file are read into memory.
	maxImageFile = 512 << 20
)

// Config sizes a Reader.
type Config struct {
	// Slots is the number of OCR engines, hence of pages recognised at once across all
	// Reads; default runtime.NumCPU().
	Slots int
	// TessdataDir overrides where Tesseract's *.traineddata files are looked up for
	// language validation; default: Tesseract's own data path.
	TessdataDir string
	// Logger receives Debug records about each page's readings (confidence, second
	// readings, rotation) and an Info record for each PDF page whose text layer is not
	// text; nil discards them.
	Logger *slog.Logger
	// ToolMemoryLimit bounds the address space (RLIMIT_AS) of each run of pdfinfo,
	// pdftotext and pdftoppm, in bytes, applied through util-linux's prlimit before the
	// tool starts (see MemoryLimitSupported); default DefaultToolMemoryLimit, negative:
	// no limit. Tesseract runs inside this process and is bounded by Options.MaxPixels
	// instead: a limit on the address space of the process would bound the Go runtime
	// and every other page with it.
	ToolMemoryLimit int64
}

// DefaultToolMemoryLimit is the address space an external tool may use unless
// Config.ToolMemoryLimit says otherwise: 1 GiB, several times what pdftoppm needs for
// the largest page Options.MaxPixels allows.
const DefaultToolMemoryLimit int64 = 1 << 30

// Reader reads documents. It is safe for concurrent use; Close it when done.
type Reader struct {
	memLimit int64 // Config.ToolMemoryLimit; <= 0: none
	slots    chan *slot
	all      []*slot
	langs    map[string]bool
	done     chan struct{}
	once     sync.Once
	log      *slog.Logger
	// readings counts Tesseract recognitions over page images (first readings, second
	// readings and retries), across all Reads.
	readings atomic.Int64
	// cropReadings counts recognitions of stacked crops of uncertain numbers
	// (revote.go), two per page that has any.
	cropReadings atomic.Int64
}

// NewReader creates a Reader with cfg.Slots OCR engines. Engines load their language
// model on first use, so creating a Reader is cheap.
func NewReader(cfg Config) (*Reader, error) {
	n := cfg.Slots
	if n <= 0 {
		n = runtime.NumCPU()
	}
	quietLeptonica()
	langs, err := installedLanguages(cfg.TessdataDir)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Reader{slots: make(chan *slot, n), langs: langs, done: make(chan struct{}), memLimit: cfg.ToolMemoryLimit, log: log}
	if r.memLimit == 0 {
		r.memLimit = DefaultToolMemoryLimit
	}
	for range n {
		s := newSlot(log, &r.readings)
		r.all = append(r.all, s)
		r.slots <- s
	}
	return r, nil
}

// defaultLanguages lists the traineddata files of Tesseract's own data directory, once
// per process: gosseract finds that directory by initialising a static TessBaseAPI in C,
// which corrupts the heap when two goroutines do it at once (seen as munmap_chunk():
// invalid pointer with readers built in parallel).
var defaultLanguages = sync.OnceValues(gosseract.GetAvailableLanguages)

// installedLanguages lists the traineddata files Tesseract can load.
func installedLanguages(dir string) (map[string]bool, error) {
	var files []string
	var err error
	if dir != "" {
		files, err = filepath.Glob(filepath.Join(dir, "*.traineddata"))
	} else {
		files, err = defaultLanguages()
	}
	if err != nil {
		return nil, fmt.Errorf("list Tesseract languages: %w", err)
	}
	m := map[string]bool{}
	for _, f := range files {
		m[strings.TrimSuffix(filepath.Base(f), ".traineddata")] = true
	}
	if len(m) == 0 {
		return nil, errors.New("list Tesseract languages: no traineddata installed (install tesseract-ocr-eng)")
	}
	return m, nil
}

// Close waits for pages being recognised, then frees every engine. Reads started after
// Close fail with ErrClosed. Close is idempotent.
func (r *Reader) Close() error {
	r.once.Do(func() {
		close(r.done)
		for range r.all {
			s := <-r.slots
			s.close()
		}
	})
	return nil
}

// acquire takes a free engine, waiting for one.
func (r *Reader) acquire(ctx context.Context) (*slot, error) {
	select {
	case <-r.done:
		return nil, ErrClosed
	default:
	}
	select {
	case s := <-r.slots:
		select {
		case <-r.done:
			r.slots <- s
			return nil, ErrClosed
		default:
		}
		return s, nil
	case <-r.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for an OCR engine: %w", ctx.Err())
	}
}

func (r *Reader) release(s *slot) { r.slots <- s }

// normalize fills defaults and validates o.
func (r *Reader) normalize(o Options) (Options, error) {
	switch o.Mode {
	case "":
		o.Mode = ModeAuto
	case ModeAuto, ModeText, ModeOCR:
	default:
		return o, fmt.Errorf("%w: mode %q (want auto, text or ocr)", ErrInvalidOptions, o.Mode)
	}
	if o.Languages == "" {
		o.Languages = DefaultLanguages
	}
	for _, l := range strings.Split(o.Languages, "+") {
		if l == "" || l == "osd" || !r.langs[l] {
			return o, fmt.Errorf("%w: language %q is not installed (have %s)", ErrInvalidOptions, l, r.languageList())
		}
	}
	if o.DPI == 0 {
		o.DPI = DefaultDPI
	}
	if o.DPI < 50 || o.DPI > 1200 {
		return o, fmt.Errorf("%w: DPI %d (want 50..1200)", ErrInvalidOptions, o.DPI)
	}
	if o.PSM < 0 || o.PSM == 2 || o.PSM > 13 {
		return o, fmt.Errorf("%w: page segmentation mode %d (want 1, 3..13, or 0 for the default)", ErrInvalidOptions, o.PSM)
	}
	if o.MaxPixels == 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	if o.MaxPages == 0 {
		o.MaxPages = DefaultMaxPages
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MemoryLimit == 0 {
		o.MemoryLimit = r.memLimit
	}
	if o.MaxPixels < 0 || o.MaxPages < 0 || o.Timeout < 0 {
		return o, fmt.Errorf("%w: negative limit", ErrInvalidOptions)
	}
	return o, nil
}

func (r *Reader) languageList() string {
	var s []string
	for l := range r.langs {
		if l != "osd" {
			s = append(s, l)
		}
	}
	sortStrings(s)
	return strings.Join(s, ", ")
}

// Read reads the document at path. See the package documentation for the contract and
// Options for the defaults.
func (r *Reader) Read(ctx context.Context, path string, opts Options) (*layout.Document, error) {
	opts, err := r.normalize(opts)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open document: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open document: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("open document %s: is a directory", path)
	}
	head := make([]byte, 1024)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read document: %w", err)
	}
	format, err := DetectFormat(head[:n])
	if err != nil {
		return nil, err
	}
	if format == FormatXML {
		return nil, fmt.Errorf("read document: %w: an XML document has no pages to read (an e-invoice is read from its XML by worker.Process)", ErrUnsupported)
	}
	if format == FormatPDF {
		return r.readPDF(ctx, path, st.Size(), opts)
	}
	if st.Size() > maxImageFile {
		return nil, fmt.Errorf("read %s: %w: %d bytes, the limit is %d", format, ErrTooLarge, st.Size(), maxImageFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read document: %w", err)
	}
	return r.readImage(ctx, data, format, opts)
}

// ReadBytes reads a document held in memory; name is only used in messages and for
// the temporary file a PDF needs (poppler reads files).
func (r *Reader) ReadBytes(ctx context.Context, data []byte, name string, opts Options) (*layout.Document, error) {
	opts, err := r.normalize(opts)
	if err != nil {
		return nil, err
	}
	format, err := DetectFormat(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if format == FormatXML {
		return nil, fmt.Errorf("%s: %w: an XML document has no pages to read (an e-invoice is read from its XML by worker.Process)", name, ErrUnsupported)
	}
	if format != FormatPDF {
		doc, err := r.readImage(ctx, data, format, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return doc, nil
	}
	tmp, err := os.CreateTemp("", "ocrinvoice-*.pdf")
	if err != nil {
		return nil, fmt.Errorf("stage PDF for reading: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("stage PDF for reading: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("stage PDF for reading: %w", err)
	}
	doc, err := r.readPDF(ctx, tmp.Name(), int64(len(data)), opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return doc, nil
}

// progress serialises Options.Progress calls and counts pages.
type progress struct {
	mu    sync.Mutex
	done  int
	total int
	fn    func(int, int)
}

func (p *progress) page() {
	if p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.fn(p.done, p.total)
}

// inspectPDF returns the page count and sizes and, unless opts.Mode is ModeOCR, the text
// layer. The text layer's pages give the count and sizes, which saves a pdfinfo run on
// every text PDF; pdfinfo runs when the text layer is not read (OCR mode, or a PDF that
// forbids copying its text).
func inspectPDF(ctx context.Context, path string, opts Options) (*pdfInfo, []textPage, error) {
	if opts.Mode != ModeOCR {
		text, err := readTextLayer(ctx, path, opts)
		switch {
		case err == nil:
			return pdfFromText(text), text, nil
		case !errors.Is(err, errNoTextPermission):
			return nil, nil, err
		}
	}
	info, err := readPDFInfo(ctx, path, opts)
	return info, nil, err
}

// readPDF reads a PDF page by page: text layer where usable (unless ModeOCR), OCR of
// the rasterised page elsewhere (unless ModeText).
func (r *Reader) readPDF(ctx context.Context, path string, size int64, opts Options) (*layout.Document, error) {
	if size == 0 {
		return nil, fmt.Errorf("read PDF: %w: 0 bytes", ErrEmpty)
	}
	if size > maxImageFile {
		return nil, fmt.Errorf("read PDF: %w: %d bytes, the limit is %d", ErrTooLarge, size, maxImageFile)
	}
	// Decompression bombs are refused before poppler spends minutes on them.
	if err := checkPDFFile(ctx, path, opts.MaxPixels); err != nil {
		return nil, err
	}
	info, text, err := inspectPDF(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	doc := &layout.Document{Format: FormatPDF, Size: size, Language: opts.Languages, Pages: make([]layout.Page, info.Pages)}
	prog := &progress{total: info.Pages, fn: opts.Progress}
	var toOCR []int
	usable := 0
	for i := range doc.Pages {
		p := layout.Page{Number: i + 1, Width: info.Sizes[i][0], Height: info.Sizes[i][1], Source: layout.SourceTextLayer}
		switch {
		case text != nil && text[i].Usable && opts.Mode != ModeOCR:
			usable++
			t := text[i]
			if t.Width > 0 {
				p.Width, p.Height = t.Width, t.Height
			}
			p.Lines, p.Text = t.Lines, t.Text
			prog.page()
		case opts.Mode == ModeText:
			prog.page()
		default:
			toOCR = append(toOCR, i)
		}
		if text != nil && text[i].Garbage != "" {
			doc.Warnings = append(doc.Warnings, garbageWarning(i+1, text[i].Garbage, opts.Mode))
			r.log.Info("PDF text layer is not text", slog.Int("page", i+1), slog.String("reason", text[i].Garbage))
		}
		doc.Pages[i] = p
	}
	if opts.Mode == ModeText && usable == 0 {
		return nil, fmt.Errorf("read PDF text layer: %w: none of %d pages has one (try OCR)", ErrNoTextLayer, info.Pages)
	}
	if len(toOCR) == 0 {
		return doc, nil
	}
	// Check the pixel budget of every page before rasterising any.
	scale := float64(opts.DPI) / 72
	for _, i := range toOCR {
		w, h := info.Sizes[i][0]*scale, info.Sizes[i][1]*scale
		if w*h > float64(opts.MaxPixels) {
			return nil, fmt.Errorf("rasterise PDF page %d: %w: %.0fx%.0f pixels at %d DPI, the limit is %d",
				i+1, ErrTooLarge, w, h, opts.DPI, opts.MaxPixels)
		}
	}
	doc.DPI = opts.DPI
	lc := r.newLangChoice(opts, toOCR[0])
	if lc.auto && usable > 0 {
		// Pages read from their text layer tell the language for free: the pages to
		// OCR are read with it at once.
		var words []string
		for _, p := range doc.Pages {
			for _, l := range p.Lines {
				for _, w := range l.Words {
					words = append(words, w.Text)
				}
			}
		}
		lc.first = -1
		lc.decide(r.chooseLanguages(words, opts))
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(len(r.all))
	for _, i := range toOCR {
		g.Go(func() error {
			w, h := info.Sizes[i][0]*scale, info.Sizes[i][1]*scale
			budget := int64(w*h*1.1) + 4096
			if w*h == 0 { // pdfinfo gave no size: the pixel limit is the only bound
				budget = opts.MaxPixels + 4096
			}
			img, err := rasterise(gctx, path, i+1, budget, opts)
			if err != nil {
				return err
			}
			page, err := r.ocr(gctx, img, i, opts.DPI, opts, lc)
			if err != nil {
				return fmt.Errorf("OCR PDF page %d: %w", i+1, err)
			}
			doc.Pages[i] = page
			prog.page()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	doc.Language = lc.langs
	return doc, nil
}

// rasterise renders one PDF page to gray pixels with pdftoppm (gray is about ten times
// faster than colour and is all Tesseract uses).
func rasterise(ctx context.Context, path string, page int, maxBytes int64, opts Options) (*image.Gray, error) {
	p := fmt.Sprint(page)
	out, err := runTool(ctx, opts.Timeout, int(maxBytes), opts.MemoryLimit, "pdftoppm", "-gray", "-r", fmt.Sprint(opts.DPI), "-f", p, "-l", p, path)
	if err != nil {
		return nil, classifyPopplerError(fmt.Sprintf("rasterise PDF page %d", page), err)
	}
	img, err := decodePGM(out)
	if err != nil {
		return nil, fmt.Errorf("rasterise PDF page %d: %w: %w", page, ErrCorrupt, err)
	}
	return img, nil
}

// ocr recognises the page image of page index idx (0-based) on pool slots, in the
// languages lc decides: a page that starts before the decision is read with
// opts.Languages and, when the decision differs, read again.
func (r *Reader) ocr(ctx context.Context, img *image.Gray, idx, dpi int, opts Options, lc *langChoice) (layout.Page, error) {
	o := opts
	decided := !lc.auto
	if lc.auto && idx != lc.first {
		select {
		case <-lc.done:
			o.Languages, decided = lc.langs, true
		default:
		}
	}
	res, err := r.recognize(ctx, func(s *slot) (*ocrResult, error) {
		res, _, err := s.readImage(img, o, dpi)
		return res, err
	})
	if err != nil {
		return layout.Page{}, err
	}
	if lc.auto && idx == lc.first {
		words := make([]string, len(res.boxes))
		for i, b := range res.boxes {
			words[i] = b.Word
		}
		lc.decide(r.chooseLanguages(words, o))
		decided = true
	}
	if !decided {
		select {
		case <-lc.done:
		case <-ctx.Done():
			return layout.Page{}, ctx.Err()
		}
	}
	if lc.langs != o.Languages {
		o = res.opts
		o.Languages = lc.langs
		first := res
		res, err = r.recognize(ctx, func(s *slot) (*ocrResult, error) {
			return s.recognize(first.img, o, first.dpi)
		})
		if err != nil {
			return layout.Page{}, err
		}
	}
	if !opts.noRevote {
		if targets, size := revoteTargets(res); len(targets) > 0 {
			_, err = r.recognize(ctx, func(s *slot) (*ocrResult, error) {
				_, err := s.revote(res, targets, size)
				return res, err
			})
			if err != nil {
				return layout.Page{}, err
			}
			r.cropReadings.Add(2)
		}
	}
	return ocrPage(res, idx+1), nil
}

// recognize runs fn on a free pool slot.
func (r *Reader) recognize(ctx context.Context, fn func(*slot) (*ocrResult, error)) (*ocrResult, error) {
	s, err := r.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer r.release(s)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return fn(s)
}

// langChoice holds the OCR languages of one document, decided once from the reading
// of its first OCR page.
type langChoice struct {
	auto  bool          // detect the language; false: opts.Languages throughout
	first int           // index of the page whose reading decides; -1: decided before OCR
	done  chan struct{} // closed once langs is decided
	langs string
}

func (r *Reader) newLangChoice(opts Options, first int) *langChoice {
	lc := &langChoice{auto: !opts.KeepLanguages && opts.Languages == DefaultLanguages, first: first,
		done: make(chan struct{}), langs: opts.Languages}
	if !lc.auto {
		close(lc.done)
	}
	return lc
}

// decide sets the document's languages; called once, by the first page's reader.
func (lc *langChoice) decide(langs string) {
	lc.langs = langs
	close(lc.done)
}

// chooseLanguages returns the languages to read a document with, given words read from
// it with opts: the language's model alone when detectLanguage finds them clearly in
// another language whose model is installed, else opts.Languages. The model alone, not
// "<language>+eng": with English beside it, Tesseract still takes the English reading of
// many words with diacritics ("Munchen" for "München"); the other models read English
// words and Latin letters well enough for invoices.
func (r *Reader) chooseLanguages(words []string, opts Options) string {
	lang, ok := detectLanguage(words)
	if !ok || !r.langs[lang] {
		return opts.Languages
	}
	r.log.Debug("OCR language detected", slog.String("language", lang), slog.Int("words", len(words)))
	return lang
}

// readImage OCRs every page of an image file.
func (r *Reader) readImage(ctx context.Context, data []byte, format string, opts Options) (*layout.Document, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("read image: %w: 0 bytes", ErrEmpty)
	}
	if opts.Mode == ModeText {
		return nil, fmt.Errorf("read %s: %w: an image has no text layer (use OCR)", format, ErrNoTextLayer)
	}
	// Every page is checked against the pixel limit from its header before any is decoded.
	var pages []io.Reader
	if format == FormatTIFF {
		offs, err := tiffPageOffsets(data, opts.MaxPages)
		if err != nil {
			return nil, err
		}
		for k, off := range offs {
			pr := imagefile.TIFFPage(data, off)
			if _, err := decodeConfigReader(pr, format, opts.MaxPixels); err != nil {
				return nil, fmt.Errorf("TIFF page %d: %w", k+1, err)
			}
			pages = append(pages, imagefile.TIFFPage(data, off))
		}
	} else {
		if _, err := decodeConfig(data, format, opts.MaxPixels); err != nil {
			return nil, err
		}
		pages = []io.Reader{bytesReader(data)}
	}
	dpi := imageDPI(data, format)
	doc := &layout.Document{Format: format, Size: int64(len(data)), DPI: dpi, Language: opts.Languages, Pages: make([]layout.Page, len(pages))}
	orientation := 1
	if format == FormatJPEG {
		orientation = imagefile.JPEGOrientation(data)
	}
	prog := &progress{total: len(pages), fn: opts.Progress}
	lc := r.newLangChoice(opts, 0)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(len(r.all))
	for k, pr := range pages {
		g.Go(func() error {
			img, err := decodeImageReader(pr, format)
			if err != nil {
				if len(pages) > 1 {
					return fmt.Errorf("page %d: %w", k+1, err)
				}
				return err
			}
			gray := applyEXIFOrientation(toGray(img), orientation)
			page, err := r.ocr(gctx, gray, k, dpi, opts, lc)
			if err != nil {
				return fmt.Errorf("OCR %s page %d: %w", format, k+1, err)
			}
			doc.Pages[k] = page
			prog.page()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	doc.Language = lc.langs
	return doc, nil
}

func sortStrings(s []string) { slices.Sort(s) }
