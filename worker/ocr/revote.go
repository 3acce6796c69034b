package ocr

import (
	"image"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/otiai10/gosseract/v2"

	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// Numbers read again. Faint or unevenly printed receipts lose digits to binarisation:
// a 0 read as "o" or 6, a 1 as 7, an amount as "Yo.00". One binarisation of the whole
// page cannot suit every line, so after the page is read, the words that look like
// numbers (amounts, dates, postcodes) and were read with little confidence are cut out
// of the page, each binarised on its own (Otsu's threshold over the word's own pixels,
// at a uniform text height), stacked into one small image and read once more; where the
// two readings of a word disagree, the word is voted character by character with the
// second reading's per-character confidences (see vote). Pages read confidently
// (ordinary invoices) have few or no such words, so the second reading costs them
// little or nothing; it never reads a whole page twice.

const (
	// Words of the first reading below this confidence are read again.
	revoteBelowConf = 0.85
	// At most this many words per page are read again (the least confident first), so
	// that a page of numbers costs a bounded second reading.
	revoteMaxWords = 48
	// Blank space between stacked crops, in pixels.
	revoteLineHeight = 32.0
	// Words less high than this are enlarged to it.
	revoteMinHeight = 20.0
	// The second reading's character beats the first reading's at a position where
	// they differ when its confidence is above the first word's by this margin.
	revoteMargin = 0.10
)

var (
	reAmountShape = regexp.MustCompile(`^-?\d{1,3}(?:[,.]?\d{3})*[.,]\d{2}-?$`)
	reDateShape   = regexp.MustCompile(`^\d{1,2}[/.-]\d{1,2}[/.-](?:\d{2}|\d{4})$|^\d{4}-\d{2}-\d{2}$|^\d{1,2}:\d{2}(?::\d{2})?$`)
)

// revoteTarget is a word of the first reading to read again, and where its crop sits
// in the stacked image.
type revoteTarget struct {
	idx int // index into ocrResult.boxes
	// crowded: another word of the line starts or ends close by, so a reading of
	// another length may have taken in part of it; only characters are voted.
	crowded bool
	crop    image.Rectangle // the crop in the page image
	scale   float64         // crop pixels -> stacked image pixels
	at      image.Point     // top-left of the scaled crop in the stacked image
	size    image.Point     // size of the scaled crop
}

// numberLike reports whether a word reads as an amount, date or time, perhaps with
// misread characters: at most 16 characters, at least one digit, a decimal mark or a
// date or time separator (.,:/), and digits with number punctuation (.,:/-) making up
// at least 40% of it ("12.50", "25/12/2018", "o.00", "Yo.00", "RM9.00"). Words that
// are mostly letters are left alone, and so are runs of digits alone (postcodes,
// phone numbers, article numbers): nothing on the page can confirm a changed digit
// of theirs, and a re-reading changes their right digits about as often as their
// wrong ones.
func numberLike(w string) bool {
	n := utf8.RuneCountInString(w)
	if n == 0 || n > 16 || !strings.ContainsAny(w, ".,:/") {
		return false
	}
	digits, punct := 0, 0
	for _, r := range w {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune(".,:/-", r):
			punct++
		}
	}
	return digits > 0 && float64(digits+punct) >= 0.4*float64(n)
}

// revoteTargets picks the words of res to read again and lays their crops out in one
// stacked image; it returns nil when there are none.
func revoteTargets(res *ocrResult) ([]revoteTarget, image.Point) {
	type key struct{ block, par, line int }
	lines := map[key][2]int{} // vertical extent of each text line
	for _, b := range res.boxes {
		k := key{b.BlockNum, b.ParNum, b.LineNum}
		e, ok := lines[k]
		if !ok {
			e = [2]int{b.Box.Min.Y, b.Box.Max.Y}
		}
		lines[k] = [2]int{min(e[0], b.Box.Min.Y), max(e[1], b.Box.Max.Y)}
	}
	var picked []int
	for i, b := range res.boxes {
		if b.Confidence/100 < revoteBelowConf && numberLike(b.Word) && b.Box.Dx() > 0 && b.Box.Dy() > 0 {
			picked = append(picked, i)
		}
	}
	if len(picked) == 0 {
		return nil, image.Point{}
	}
	if len(picked) > revoteMaxWords {
		slices.SortStableFunc(picked, func(a, b int) int {
			return int(math.Copysign(1, res.boxes[a].Confidence-res.boxes[b].Confidence))
		})
		picked = picked[:revoteMaxWords]
		slices.Sort(picked)
	}
	bounds := res.img.Bounds()
	var out []revoteTarget
	y, width := 0, 0
	for _, i := range picked {
		b := res.boxes[i]
		e := lines[key{b.BlockNum, b.ParNum, b.LineNum}]
		lineH := max(e[1]-e[0], b.Box.Dy())
		// The crop spans the word's line vertically (a small margin: more would take
		// in strokes of the lines above and below, read as characters), and the word
		// horizontally with a margin that stops short of its neighbours.
		padY := max(2, lineH/8)
		padX := max(2, lineH/2)
		left, right := b.Box.Min.X-padX, b.Box.Max.X+padX
		crowded := false
		for j, o := range res.boxes {
			if j == i || o.BlockNum != b.BlockNum || o.ParNum != b.ParNum || o.LineNum != b.LineNum {
				continue
			}
			if o.Box.Max.X <= b.Box.Min.X {
				left = max(left, (o.Box.Max.X+b.Box.Min.X)/2)
				crowded = crowded || b.Box.Min.X-o.Box.Max.X < lineH
			}
			if o.Box.Min.X >= b.Box.Max.X {
				right = min(right, (o.Box.Min.X+b.Box.Max.X)/2)
				crowded = crowded || o.Box.Min.X-b.Box.Max.X < lineH
			}
		}
		crop := image.Rect(left, min(e[0], b.Box.Min.Y)-padY, right, max(e[1], b.Box.Max.Y)+padY).Intersect(bounds)
		if crop.Empty() {
			continue
		}
		// Read at the page's own scale, where the first reading was made: only the
		// binarisation differs. Words too small for Tesseract are enlarged to
		// revoteMinHeight.
		scale := max(1, min(revoteMinHeight/float64(b.Box.Dy()), 4))
		size := image.Pt(max(1, int(float64(crop.Dx())*scale+0.5)), max(1, int(float64(crop.Dy())*scale+0.5)))
		// A blank gap of a line's height keeps Tesseract from joining stacked crops.
		gap := int(revoteLineHeight)
		out = append(out, revoteTarget{idx: i, crowded: crowded, crop: crop, scale: scale, at: image.Pt(gap, y+gap), size: size})
		y += gap + size.Y
		width = max(width, size.X)
	}
	if len(out) == 0 {
		return nil, image.Point{}
	}
	gap := int(revoteLineHeight)
	return out, image.Pt(width+2*gap, y+gap)
}

// stackCrops draws every target's crop, scaled and binarised on its own, into one
// white image of size.
func stackCrops(img *image.Gray, targets []revoteTarget, size image.Point, binarise bool) *image.Gray {
	out := image.NewGray(image.Rectangle{Max: size})
	for i := range out.Pix {
		out.Pix[i] = 255
	}
	for _, t := range targets {
		c := resizeGray(img.SubImage(t.crop).(*image.Gray), t.size.X, t.size.Y)
		th := uint8(255)
		if binarise {
			th = otsuThreshold(c)
		}
		// Shrinking may round a pixel off t.size; never draw past it.
		w, h := min(c.Rect.Dx(), t.size.X), min(c.Rect.Dy(), t.size.Y)
		for y := 0; y < h; y++ {
			src := c.Pix[y*c.Stride : y*c.Stride+w]
			dst := out.Pix[(t.at.Y+y)*out.Stride+t.at.X:]
			for x, v := range src {
				switch {
				case !binarise:
					dst[x] = v
				case v <= th:
					dst[x] = 0
				}
			}
		}
	}
	return out
}

// revote reads the targets of res twice more, as two stacked images of their crops:
// binarised in Go with each crop's own Otsu threshold, and gray for Tesseract's own
// (Sauvola) thresholding at the crop's scale. Each word is then voted between its
// three readings (see vote). It returns how many words changed.
func (s *slot) revote(res *ocrResult, targets []revoteTarget, size image.Point) (int, error) {
	scales := make([]float64, len(targets))
	for i, t := range targets {
		scales[i] = t.scale
	}
	slices.Sort(scales)
	dpi := max(1, int(float64(res.dpi)*scales[len(scales)/2]+0.5))
	var readings [2][]gosseract.BoundingBox
	for k, binarise := range []bool{true, false} {
		syms, err := s.recognizeSymbols(stackCrops(res.img, targets, size, binarise), res.opts, dpi, binarise)
		if err != nil {
			return 0, err
		}
		readings[k] = syms
	}
	changed := 0
	for _, t := range targets {
		b := &res.boxes[t.idx]
		second := wordSymbols(readings[0], b.Box, t)
		third := wordSymbols(readings[1], b.Box, t)
		word, conf, ok := vote(b.Word, layout.Clamp01(b.Confidence/100), second, third, !t.crowded)
		s.log.Debug("OCR number read again", slog.String("first", b.Word), slog.String("second", symbolText(second)),
			slog.String("third", symbolText(third)), slog.String("voted", word), slog.Bool("changed", ok))
		if ok {
			b.Word = word
			b.Confidence = conf * 100
			changed++
		}
	}
	return changed, nil
}

// wordSymbols returns the characters of syms (a reading of the stacked image) whose
// centre falls in the word box of target t (page coordinates), left to right.
func wordSymbols(syms []gosseract.BoundingBox, box image.Rectangle, t revoteTarget) []symbol {
	x0 := float64(t.at.X) + float64(box.Min.X-t.crop.Min.X)*t.scale
	x1 := float64(t.at.X) + float64(box.Max.X-t.crop.Min.X)*t.scale
	y0 := float64(t.at.Y) + float64(box.Min.Y-t.crop.Min.Y)*t.scale
	y1 := float64(t.at.Y) + float64(box.Max.Y-t.crop.Min.Y)*t.scale
	tol := revoteLineHeight / 8
	var out []symbol
	for _, sy := range syms {
		cx := float64(sy.Box.Min.X+sy.Box.Max.X) / 2
		cy := float64(sy.Box.Min.Y+sy.Box.Max.Y) / 2
		if cy < y0-tol || cy > y1+tol || cx < x0-tol || cx > x1+tol {
			continue
		}
		for _, r := range strings.TrimSpace(sy.Word) {
			out = append(out, symbol{r: r, conf: layout.Clamp01(sy.Confidence / 100), x: cx})
		}
	}
	slices.SortStableFunc(out, func(a, b symbol) int { return int(math.Copysign(1, a.x-b.x)) })
	return out
}

// recognizeSymbols runs Tesseract over img as one uniform block of text and returns
// its characters with their boxes and confidences.
func (s *slot) recognizeSymbols(img *image.Gray, opts Options, dpi int, binarised bool) ([]gosseract.BoundingBox, error) {
	if err := s.useLanguages(opts.Languages); err != nil {
		return nil, err
	}
	_ = s.client.SetPageSegMode(gosseract.PSM_SINGLE_BLOCK)
	_ = s.client.SetVariable("user_defined_dpi", strconv.Itoa(dpi))
	// Binarised crops are read with Otsu, which keeps black and white as they are;
	// gray ones with Sauvola, as pages are.
	method := "2"
	if binarised {
		method = "0"
	}
	_ = s.client.SetVariable("thresholding_method", method)
	if err := s.client.SetImageFromBytes(encodePGM(img)); err != nil {
		return nil, err
	}
	// Not counted in s.readings: that counts readings of page images, and a reading
	// of crops is a fraction of one (Reader.cropReadings counts these).
	return s.client.GetBoundingBoxes(gosseract.RIL_SYMBOL)
}

// symbol is one character of a reading with its confidence (0..1) and horizontal
// centre.
type symbol struct {
	r    rune
	conf float64
	x    float64
}

func symbolText(s []symbol) string {
	var b strings.Builder
	for _, c := range s {
		b.WriteRune(c.r)
	}
	return b.String()
}

// vote combines the first reading of a word (its text and word confidence) with two
// more readings (characters with their own confidences). Readings of the same length
// are voted character by character: where the first reading disagrees with the other
// two and they agree with each other on a digit (or on number punctuation where the
// first has a character that cannot stand in a number) with more confidence than the
// first word, theirs wins; elsewhere the first reading stays. When the characters do
// not line up and the other two read the same word, that word wins only if whole is
// set (no other word close by that a longer reading may have taken in), it is an
// amount, date or time (numberShape 2) where the first is not, it is at most one
// character longer, has no fewer digits and is surer. Tesseract's character confidences are too
// poorly calibrated to let one reading overrule another alone, so a change always
// takes the agreement of both. It returns the word, its confidence and whether it
// differs from first.
func vote(first string, firstConf float64, second, third []symbol, whole bool) (string, float64, bool) {
	a := []rune(first)
	st, tt := symbolText(second), symbolText(third)
	if len(second) == 0 || st != tt || st == first {
		// Without two agreeing readings only a character-wise majority can change
		// anything, which needs all three of the same length.
		if len(second) != len(a) || len(third) != len(a) {
			return first, firstConf, false
		}
	}
	var out []rune
	conf := firstConf
	switch {
	case len(second) == len(a) && len(third) == len(a) && samePunct(a, second) && samePunct(a, third):
		out = make([]rune, len(a))
		for i := range a {
			b, c := second[i], third[i]
			out[i] = a[i]
			if b.r != c.r || b.r == a[i] || min(b.conf, c.conf) <= firstConf+revoteMargin {
				continue
			}
			if unicode.IsDigit(b.r) || !isNumberRune(a[i]) && isNumberRune(b.r) {
				// The first reading's decimal mark stays: re-readings often take a
				// dot for a comma.
				out[i] = b.r
				conf = max(conf, min(b.c(), c.c()))
			}
		}
	case st == tt && whole && numberShape(st) == 2 && numberShape(first) < 2 && len(second) <= len(a)+1:
		out = []rune(st)
		conf = 1
		for i := range second {
			conf = min(conf, max(second[i].conf, third[i].conf))
		}
		if digitCount(st) < digitCount(first) || conf <= firstConf+revoteMargin {
			return first, firstConf, false
		}
	default:
		return first, firstConf, false
	}
	word := string(out)
	// Only numbers are voted: a change must leave a word at least as number-like as
	// the first reading, and a number at all.
	if word == first || numberShape(word) == 0 || numberShape(word) < numberShape(first) {
		return first, firstConf, false
	}
	// Nor may it turn a calendar date into an impossible one (a 0 of the year read
	// as 8 in a font with slashed zeros).
	if plausibleDate(first) && reDateShape.MatchString(first) && !plausibleDate(word) {
		return first, firstConf, false
	}
	return word, conf, true
}

func (s symbol) c() float64 { return s.conf }

// plausibleDate reports whether w is a date (day, month and year in any of the orders
// reDateShape allows) with a month of 1..12, a day of 1..31 and, when written with
// four digits, a year of 1970..2099.
func plausibleDate(w string) bool {
	parts := strings.FieldsFunc(w, func(r rune) bool { return r == '/' || r == '.' || r == '-' })
	if len(parts) != 3 {
		return false
	}
	n := make([]int, 3)
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			return false
		}
		n[i] = v
	}
	day, month, year := n[0], n[1], n[2]
	if len(parts[0]) == 4 {
		year, month, day = n[0], n[1], n[2]
	} else if month > 12 && day <= 12 {
		day, month = month, day // month first
	}
	if len(parts[0]) == 4 || len(parts[2]) == 4 {
		if year < 1970 || year > 2099 {
			return false
		}
	}
	return month >= 1 && month <= 12 && day >= 1 && day <= 31
}

// samePunct reports whether a reading has a decimal mark, date or time separator
// wherever a has one: only then do its characters line up with a's one for one.
func samePunct(a []rune, b []symbol) bool {
	for i, r := range a {
		if strings.ContainsRune(".,:/", r) != strings.ContainsRune(".,:/", b[i].r) {
			return false
		}
	}
	return true
}

func digitCount(w string) int {
	n := 0
	for _, r := range w {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// isNumberRune reports whether r may stand in a number: a digit or .,:/-
func isNumberRune(r rune) bool {
	return r >= '0' && r <= '9' || strings.ContainsRune(".,:/-", r)
}

// numberShape scores how much w looks like a printed number, ignoring what stands
// before its first digit or dot ("RM", "$", "(") and after its last digit ("%", ")"):
// 2 for an amount with two decimals, a date or a time; 1 for digits with number
// punctuation only; 0 otherwise.
func numberShape(w string) int {
	notNum := func(r rune) bool { return !unicode.IsDigit(r) && r != '.' }
	core := strings.TrimRightFunc(strings.TrimLeftFunc(w, notNum), func(r rune) bool { return !unicode.IsDigit(r) && r != '-' })
	if core == "" {
		return 0
	}
	if reAmountShape.MatchString(core) || reDateShape.MatchString(core) {
		return 2
	}
	for _, r := range core {
		if !(r >= '0' && r <= '9') && !strings.ContainsRune(".,:/-", r) {
			return 0
		}
	}
	return 1
}

// resizeGray scales img to w x h with bilinear interpolation (box-averaged when
// shrinking by more than half).
func resizeGray(img *image.Gray, w, h int) *image.Gray {
	b := img.Bounds()
	if b.Dx() == w && b.Dy() == h {
		out := image.NewGray(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			copy(out.Pix[y*out.Stride:y*out.Stride+w], img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):])
		}
		return out
	}
	if w*2 <= b.Dx() {
		return downscaleGray(img, float64(w)/float64(b.Dx()))
	}
	out := image.NewGray(image.Rect(0, 0, w, h))
	fx, fy := float64(b.Dx())/float64(w), float64(b.Dy())/float64(h)
	for y := 0; y < h; y++ {
		sy := math.Max(0, (float64(y)+0.5)*fy-0.5)
		y0 := min(int(sy), b.Dy()-1)
		y1 := min(y0+1, b.Dy()-1)
		wy := sy - float64(y0)
		r0 := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y0):]
		r1 := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y1):]
		for x := 0; x < w; x++ {
			sx := math.Max(0, (float64(x)+0.5)*fx-0.5)
			x0 := min(int(sx), b.Dx()-1)
			x1 := min(x0+1, b.Dx()-1)
			wx := sx - float64(x0)
			top := float64(r0[x0])*(1-wx) + float64(r0[x1])*wx
			bot := float64(r1[x0])*(1-wx) + float64(r1[x1])*wx
			out.Pix[y*out.Stride+x] = uint8(top*(1-wy) + bot*wy + 0.5)
		}
	}
	return out
}

// otsuThreshold returns the gray level that best separates img's pixels into ink and
// paper (Otsu's method: the largest between-class variance); pixels at or below it are
// ink.
func otsuThreshold(img *image.Gray) uint8 {
	var hist [256]int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for _, v := range img.Pix[img.PixOffset(b.Min.X, y) : img.PixOffset(b.Min.X, y)+b.Dx()] {
			hist[v]++
		}
	}
	total := b.Dx() * b.Dy()
	sum := 0.0
	for i, n := range hist {
		sum += float64(i * n)
	}
	var sumB float64
	wB := 0
	best, th := -1.0, 127
	for t := 0; t < 256; t++ {
		wB += hist[t]
		if wB == 0 {
			continue
		}
		wF := total - wB
		if wF == 0 {
			break
		}
		sumB += float64(t * hist[t])
		mB := sumB / float64(wB)
		mF := (sum - sumB) / float64(wF)
		v := float64(wB) * float64(wF) * (mB - mF) * (mB - mF)
		if v > best {
			best, th = v, t
		}
	}
	return uint8(th)
}
