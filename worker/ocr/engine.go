package ocr

import (
	"fmt"
	"image"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/otiai10/gosseract/v2"

	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// initMu serialises Tesseract model loading. gosseract's Init redirects the process's
// stderr while it runs, which two concurrent Inits would garble; loading is rare (once
// per slot and language set), so a global lock costs nothing.
var initMu sync.Mutex

// slot is one OCR engine of the pool: a gosseract client and, loaded on first need,
// an orientation detector. A slot is used by one goroutine at a time: whoever took it
// from the pool's channel.
type slot struct {
	client *gosseract.Client
	langs  string // languages the client is initialised with; "" before the first use
	// spare is the client of the language set used before langs (spareLangs), kept
	// loaded: a document read again in its own language, then the next one in English,
	// switch between two models, and loading one costs 70..170 ms, a third to a half of
	// reading a page.
	spare      *gosseract.Client
	spareLangs string
	osd        *osdEngine
	osdErr     error
	log        *slog.Logger
	// readings counts recognitions (Tesseract runs over a page image) for the Reader.
	readings *atomic.Int64
}

func newSlot(log *slog.Logger, readings *atomic.Int64) *slot {
	return &slot{client: newClient(), log: log, readings: readings}
}

func newClient() *gosseract.Client {
	c := gosseract.NewClient()
	// Tesseract's debug output ("Estimating resolution as ...") would go to stderr.
	_ = c.SetVariable("debug_file", "/dev/null")
	return c
}

func (s *slot) close() {
	s.osd.close()
	for _, c := range []**gosseract.Client{&s.client, &s.spare} {
		if *c != nil {
			_ = (*c).Close()
			*c = nil
		}
	}
}

// blankPGM is an 8x8 white page used to load a model without recognising anything real.
var blankPGM = func() []byte {
	g := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range g.Pix {
		g.Pix[i] = 255
	}
	return encodePGM(g)
}()

// useLanguages makes the client read langs: the spare client when it has them loaded
// (the two swap), else the spare client (or a new one) loaded with them, the current one
// becoming the spare. Loading happens under initMu (see there).
func (s *slot) useLanguages(langs string) error {
	if s.langs == langs {
		return nil
	}
	if s.langs != "" {
		if s.spare == nil {
			s.spare = newClient()
			s.spareLangs = ""
		}
		s.client, s.spare = s.spare, s.client
		s.langs, s.spareLangs = s.spareLangs, s.langs
		if s.langs == langs {
			return nil
		}
	}
	if err := s.client.SetLanguage(strings.Split(langs, "+")...); err != nil {
		return fmt.Errorf("set OCR languages %q: %w", langs, err)
	}
	if err := s.client.SetImageFromBytes(blankPGM); err != nil {
		return fmt.Errorf("load OCR model %q: %w", langs, err)
	}
	initMu.Lock()
	_, err := s.client.Text()
	initMu.Unlock()
	if err != nil {
		s.langs = ""
		return fmt.Errorf("load OCR model %q: %w", langs, err)
	}
	s.langs = langs
	return nil
}

// ocrResult is one recognition of one page image.
type ocrResult struct {
	img   *image.Gray
	boxes []gosseract.BoundingBox
	score float64 // sum over words of confidence x letters and digits
	conf  float64 // mean word confidence weighted by length, 0..1
	// medianH is the median word height in pixels (0 without words).
	medianH float64
	// tall is the share of multi-letter words whose box is taller than wide: high when
	// the page is sideways and Tesseract read it as vertical text.
	tall float64
	// opts and dpi are what the reading was made with: reading img again with other
	// languages repeats them.
	opts Options
	dpi  int
}

// recognize runs Tesseract over img and keeps word boxes with their block, paragraph
// and line numbers.
func (s *slot) recognize(img *image.Gray, opts Options, dpi int) (*ocrResult, error) {
	if err := s.useLanguages(opts.Languages); err != nil {
		return nil, err
	}
	psm := opts.PSM
	if psm == 0 {
		psm = defaultPSM
	}
	_ = s.client.SetPageSegMode(gosseract.PageSegMode(psm))
	_ = s.client.SetVariable("user_defined_dpi", strconv.Itoa(dpi))
	// Sauvola's local thresholding keeps text on shaded or coloured table rows and on
	// unevenly lit photos that one global (Otsu) threshold loses: with Otsu first the
	// OCR path of the shared ZUGFeRD invoices scored 0.800 instead of 0.816 (tax ids,
	// amounts, line items). It loses some faint receipts entirely, which readImage
	// catches by reading poor pages again with Otsu.
	method := "2"
	if opts.otsu {
		method = "0"
	}
	_ = s.client.SetVariable("thresholding_method", method)
	if err := s.client.SetImageFromBytes(encodePGM(img)); err != nil {
		return nil, fmt.Errorf("hand page image to OCR engine: %w", err)
	}
	boxes, err := s.client.GetBoundingBoxesVerbose()
	if s.readings != nil {
		s.readings.Add(1)
	}
	if err != nil {
		return nil, fmt.Errorf("recognise page: %w", err)
	}
	res := &ocrResult{img: img, opts: opts, dpi: dpi}
	var weight float64
	var heights []float64
	tall, multi := 0, 0
	kept := boxes[:0]
	for _, b := range boxes {
		b.Word = strings.TrimSpace(b.Word)
		if b.Word == "" {
			continue
		}
		kept = append(kept, b)
		n := 0
		for _, r := range b.Word {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				n++
			}
		}
		c := layout.Clamp01(b.Confidence / 100)
		res.score += c * float64(n)
		weight += float64(n)
		res.conf += c * float64(n)
		heights = append(heights, float64(b.Box.Dy()))
		if n >= 3 {
			multi++
			if b.Box.Dy() > b.Box.Dx() {
				tall++
			}
		}
	}
	res.boxes = kept
	if weight > 0 {
		res.conf /= weight
	}
	if multi > 0 {
		res.tall = float64(tall) / float64(multi)
	}
	if len(heights) > 0 {
		sort.Float64s(heights)
		res.medianH = heights[len(heights)/2]
	}
	return res, nil
}

// Page reading policy, measured on real invoices and receipts (see the package doc).
const (
	defaultPSM = 3 // fully automatic page segmentation, no OSD
	// Second reading with PSM 6 (one uniform block) when the first has fewer than
	// fallbackFewWords words or a weighted mean confidence below fallbackBelowConf,
	// or, for narrow pages (height above narrowPage times the width: receipts, which
	// are one column), below fallbackNarrowBelowConf. Ordinary invoice pages read at
	// about 0.88..0.95 and are not read twice.
	fallbackPSM             = 6
	fallbackFewWords        = 20
	fallbackBelowConf       = 0.70
	fallbackNarrowBelowConf = 0.90
	narrowPage              = 1.7
	// Below this weighted mean confidence, or with many "tall" words, a page may be
	// sideways or upside down: ask the orientation detector.
	rotateBelowConf = 0.70
	rotateTallShare = 0.4
	// Orientation confidence Tesseract must report before we turn a page.
	minOSDConf = 1.0
	// Text whose median word height is below smallText pixels is upscaled so that it
	// reaches about targetText pixels.
	smallText  = 20.0
	targetText = 34.0
	maxUpscale = 4
	// Pages whose text lines (textLineHeight) are above largeLine pixels are shrunk so
	// that they are about targetLine high, by at most minDownscale.
	largeLine    = 26.0
	targetLine   = 22.0
	minDownscale = 0.7
)

// readImage OCRs one page image: recognise; if the result looks like a sideways or
// upside-down page, detect the orientation, turn the page and keep the better
// reading; if the text is small, upscale and keep the better reading.
func (s *slot) readImage(img *image.Gray, opts Options, dpi int) (*ocrResult, int, error) {
	// Text far larger than Tesseract needs costs time (layout analysis and
	// binarisation grow with the pixels) without reading better: shrink the page so
	// that its lines are about targetLine pixels high.
	if lh := textLineHeight(img); lh > largeLine {
		f := max(targetLine/lh, minDownscale)
		img = downscaleGray(img, f)
		dpi = max(1, int(float64(dpi)*f+0.5))
		s.log.Debug("OCR page shrunk", slog.Float64("line_height", lh), slog.Float64("factor", f))
	}
	res, err := s.recognize(img, opts, dpi)
	if err != nil {
		return nil, 0, err
	}
	scale := 1
	s.log.Debug("OCR reading", slog.String("pass", "first"), slog.Float64("confidence", res.conf),
		slog.Float64("tall_share", res.tall), slog.Float64("median_height", res.medianH), slog.Int("words", len(res.boxes)))
	// Sauvola's thresholding loses some faint or unevenly printed pages entirely
	// (no words at all where Otsu's global threshold reads them well), and Otsu loses
	// others: a poor first reading is repeated with Otsu and the better one kept; the
	// readings that follow use the chosen method.
	if len(res.boxes) < fallbackFewWords || res.conf < fallbackBelowConf {
		o := opts
		o.otsu = true
		if res, opts, err = s.better(res, opts, o, dpi, "otsu"); err != nil {
			return nil, 0, err
		}
	}
	if (res.conf < rotateBelowConf || res.tall > rotateTallShare) && !opts.NoAutoRotate {
		if deg, ok := s.orientation(img); ok && deg != 0 {
			rimg := rotateGray(img, deg)
			alt, err := s.recognize(rimg, opts, dpi)
			if err != nil {
				return nil, 0, err
			}
			s.log.Debug("OCR reading", slog.String("pass", "rotated"), slog.Int("degrees", deg), slog.Float64("confidence", alt.conf),
				slog.Float64("score", alt.score), slog.Float64("previous_score", res.score))
			// Tesseract sometimes reads a sideways page well as vertical text, so the
			// upright reading wins unless it is clearly worse: its lines are what
			// extraction needs.
			if alt.score > 0 && alt.score >= 0.9*res.score {
				res = alt
			}
		}
	}
	// Automatic segmentation (PSM 3) sometimes finds no text at all in a narrow
	// receipt, or breaks it into poorly read fragments; reading the page as one
	// uniform block (PSM 6) then does much better. Invoices with columns read better
	// with PSM 3, so it stays first and the better reading wins.
	b := res.img.Bounds()
	narrow := float64(b.Dy()) > narrowPage*float64(b.Dx())
	if opts.PSM == 0 && (len(res.boxes) < fallbackFewWords || res.conf < fallbackBelowConf ||
		(narrow && res.conf < fallbackNarrowBelowConf)) {
		o := opts
		o.PSM = fallbackPSM
		if res, opts, err = s.better(res, opts, o, dpi, "psm6"); err != nil {
			return nil, 0, err
		}
	}
	if res.medianH > 0 && res.medianH < smallText {
		f := int(math.Ceil(targetText / res.medianH))
		f = min(max(f, 2), maxUpscale)
		b := res.img.Bounds()
		if int64(b.Dx()*f)*int64(b.Dy()*f) <= opts.MaxPixels {
			alt, err := s.recognize(upscaleGray(res.img, f), opts, dpi*f)
			if err != nil {
				return nil, 0, err
			}
			s.log.Debug("OCR reading", slog.String("pass", "upscaled"), slog.Int("factor", f), slog.Float64("confidence", alt.conf),
				slog.Float64("score", alt.score), slog.Float64("previous_score", res.score))
			if alt.score > res.score {
				res, scale = alt, f
			}
		}
	}
	return res, scale, nil
}

// better reads res's image again with the options alt and returns the better-scoring
// of the two readings together with the options that produced it.
func (s *slot) better(res *ocrResult, cur, alt Options, dpi int, pass string) (*ocrResult, Options, error) {
	r, err := s.recognize(res.img, alt, dpi)
	if err != nil {
		return nil, cur, err
	}
	s.log.Debug("OCR reading", slog.String("pass", pass), slog.Float64("confidence", r.conf),
		slog.Float64("score", r.score), slog.Float64("previous_score", res.score))
	if r.score > res.score {
		return r, alt, nil
	}
	return res, cur, nil
}

// orientation asks the OSD model how far to turn img clockwise.
func (s *slot) orientation(img *image.Gray) (int, bool) {
	if s.osd == nil && s.osdErr == nil {
		s.osd, s.osdErr = newOSDEngine()
	}
	if s.osdErr != nil {
		return 0, false
	}
	deg, conf, ok := s.osd.detect(img)
	if !ok || conf < minOSDConf {
		return 0, false
	}
	return osdToRotation(deg), true
}

// osdToRotation converts Tesseract's orient_deg (the page's rotation measured
// counter-clockwise) into the clockwise turn that makes it upright.
func osdToRotation(deg int) int {
	return ((360-deg)%360 + 360) % 360
}

// ocrPage turns a recognition into a layout page: words grouped into Tesseract's text
// lines in reading order, and Page.Text laid out in columns.
func ocrPage(res *ocrResult, number int) layout.Page {
	b := res.img.Bounds()
	p := layout.Page{Number: number, Width: float64(b.Dx()), Height: float64(b.Dy()), Source: layout.SourceOCR}
	type key struct{ block, par, line int }
	var cur *layout.Line
	var last key
	for _, bb := range res.boxes {
		k := key{bb.BlockNum, bb.ParNum, bb.LineNum}
		w := layout.Word{
			Text:       bb.Word,
			Box:        layout.Box{X0: float64(bb.Box.Min.X), Y0: float64(bb.Box.Min.Y), X1: float64(bb.Box.Max.X), Y1: float64(bb.Box.Max.Y)},
			Confidence: layout.Clamp01(bb.Confidence / 100),
		}
		if cur == nil || k != last {
			p.Lines = append(p.Lines, layout.Line{})
			cur = &p.Lines[len(p.Lines)-1]
			cur.Box = w.Box
			last = k
		}
		cur.Words = append(cur.Words, w)
		cur.Box = union(cur.Box, w.Box)
	}
	for i := range p.Lines {
		sort.SliceStable(p.Lines[i].Words, func(a, c int) bool { return p.Lines[i].Words[a].Box.X0 < p.Lines[i].Words[c].Box.X0 })
	}
	p.Text = layoutText(p.Lines)
	return p
}

func union(a, b layout.Box) layout.Box {
	return layout.Box{X0: math.Min(a.X0, b.X0), Y0: math.Min(a.Y0, b.Y0), X1: math.Max(a.X1, b.X1), Y1: math.Max(a.Y1, b.Y1)}
}

// layoutText lays lines out as plain text the way `pdftotext -layout` does: lines that
// share a row on the page are joined, each word starts near the column its x
// position implies (at least one space after the previous word), and a large vertical
// gap becomes an empty line. Regex templates written for pdftotext output then work on
// OCR output too.
func layoutText(lines []layout.Line) string {
	if len(lines) == 0 {
		return ""
	}
	// Character width: median of word width / rune count over words of 2+ runes.
	var cw, hs []float64
	minX := math.Inf(1)
	for _, l := range lines {
		hs = append(hs, l.Box.Y1-l.Box.Y0)
		for _, w := range l.Words {
			minX = math.Min(minX, w.Box.X0)
			if n := utf8.RuneCountInString(w.Text); n >= 2 {
				cw = append(cw, (w.Box.X1-w.Box.X0)/float64(n))
			}
		}
	}
	charW := median(cw)
	if charW <= 0 {
		charW = 1
	}
	lineH := median(hs)

	// Rows: lines sorted by vertical centre; a line joins the current row when its
	// centre lies within the row's vertical extent.
	sorted := make([]layout.Line, len(lines))
	copy(sorted, lines)
	sort.SliceStable(sorted, func(i, j int) bool {
		return sorted[i].Box.Y0+sorted[i].Box.Y1 < sorted[j].Box.Y0+sorted[j].Box.Y1
	})
	type row struct {
		box   layout.Box
		words []layout.Word
	}
	var rows []row
	for _, l := range sorted {
		c := (l.Box.Y0 + l.Box.Y1) / 2
		if n := len(rows); n > 0 {
			r := &rows[n-1]
			mid := (r.box.Y0 + r.box.Y1) / 2
			half := math.Max(r.box.Y1-r.box.Y0, l.Box.Y1-l.Box.Y0) / 2
			if math.Abs(c-mid) < half*0.7 {
				r.words = append(r.words, l.Words...)
				r.box = union(r.box, l.Box)
				continue
			}
		}
		rows = append(rows, row{box: l.Box, words: append([]layout.Word(nil), l.Words...)})
	}
	var sb strings.Builder
	for i, r := range rows {
		if i > 0 {
			sb.WriteByte('\n')
			if gap := r.box.Y0 - rows[i-1].box.Y1; lineH > 0 && gap > 1.2*lineH {
				for k := 0; k < min(int(gap/(1.5*lineH))+1, 2); k++ {
					sb.WriteByte('\n')
				}
			}
		}
		sort.SliceStable(r.words, func(a, b int) bool { return r.words[a].Box.X0 < r.words[b].Box.X0 })
		col := 0
		for j, w := range r.words {
			want := int((w.Box.X0-minX)/charW + 0.5)
			if j > 0 && want < col+1 {
				want = col + 1
			}
			for ; col < want; col++ {
				sb.WriteByte(' ')
			}
			sb.WriteString(w.Text)
			col += utf8.RuneCountInString(w.Text)
		}
	}
	return sb.String()
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}
