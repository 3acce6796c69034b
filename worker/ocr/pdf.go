package ocr

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/ocrinvoice/ocrinvoice/worker/layout"
)

// Output limits for poppler tools. A page of text is a few KB; the limits only stop a
// hostile document from filling memory.
const (
	maxInfoOutput = 4 << 20
	maxTextOutput = 64 << 20
)

// pdfInfo is what pdfinfo tells about a PDF.
type pdfInfo struct {
	Pages int
	// Sizes holds each page's size in points (after its /Rotate is applied).
	Sizes [][2]float64
}

// classifyPopplerError turns a failed poppler run into a document error when the
// message says the document is at fault, and leaves other failures (timeouts, missing
// binaries) as they are.
func classifyPopplerError(action string, err error) error {
	var te *toolError
	if !errors.As(err, &te) {
		return fmt.Errorf("%s: %w", action, err)
	}
	msg := strings.ToLower(te.Stderr)
	switch {
	case strings.Contains(msg, "incorrect password"), strings.Contains(msg, "encrypt"):
		return fmt.Errorf("%s: %w: the PDF needs a password (%s)", action, ErrEncrypted, firstLine(te.Stderr))
	case te.Code == 1 || te.Code == 99 || strings.Contains(msg, "syntax error") ||
		strings.Contains(msg, "couldn't") || strings.Contains(msg, "may not be a pdf"):
		return fmt.Errorf("%s: %w: %s", action, ErrCorrupt, firstLine(te.Stderr))
	}
	return fmt.Errorf("%s: %w", action, err)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// readPDFInfo runs pdfinfo for the page count, page sizes and encryption.
func readPDFInfo(ctx context.Context, path string, opts Options) (*pdfInfo, error) {
	out, err := runTool(ctx, opts.Timeout, maxInfoOutput, opts.MemoryLimit, "pdfinfo", "-f", "1", "-l", strconv.Itoa(opts.MaxPages+1), path)
	if err != nil {
		return nil, classifyPopplerError("inspect PDF", err)
	}
	info := &pdfInfo{}
	rot := map[int]int{}
	sizes := map[int][2]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch {
		case key == "Pages":
			info.Pages, _ = strconv.Atoi(val)
		case strings.HasPrefix(key, "Page ") && strings.HasSuffix(key, " size"):
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(key, "Page "), " size")))
			if err != nil {
				continue
			}
			var w, h float64
			if _, err := fmt.Sscanf(val, "%g x %g", &w, &h); err == nil {
				sizes[n] = [2]float64{w, h}
			}
		case strings.HasPrefix(key, "Page ") && strings.HasSuffix(key, " rot"):
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(key, "Page "), " rot")))
			if err != nil {
				continue
			}
			rot[n], _ = strconv.Atoi(val)
		}
	}
	if info.Pages <= 0 {
		return nil, fmt.Errorf("inspect PDF: %w: the PDF has no pages", ErrEmpty)
	}
	if info.Pages > opts.MaxPages {
		return nil, fmt.Errorf("inspect PDF: %w: %d pages, the limit is %d", ErrTooLarge, info.Pages, opts.MaxPages)
	}
	info.Sizes = make([][2]float64, info.Pages)
	for i := range info.Pages {
		s := sizes[i+1]
		if r := ((rot[i+1] % 360) + 360) % 360; r == 90 || r == 270 {
			s[0], s[1] = s[1], s[0]
		}
		info.Sizes[i] = s
	}
	return info, nil
}

// textPage is one page of a PDF text layer.
type textPage struct {
	Width, Height float64
	Lines         []layout.Line
	Text          string // pdftotext -layout
	Usable        bool
	// Garbage says why the text layer is not real text (garbageText); empty when it is
	// or when the page has too little text to tell.
	Garbage string
}

// readTextLayer runs pdftotext twice: -bbox-layout for words and lines with boxes, and
// -layout for the page text templates match against (unless opts.NoPageText). The first run asks for one page
// more than opts.MaxPages, so that its pages give the page count and sizes without a
// pdfinfo run (see pdfFromText); a longer document is refused before the second run.
func readTextLayer(ctx context.Context, path string, opts Options) ([]textPage, error) {
	out, err := runTool(ctx, opts.Timeout, maxTextOutput, opts.MemoryLimit, "pdftotext", "-enc", "UTF-8", "-bbox-layout", "-f", "1", "-l", strconv.Itoa(opts.MaxPages+1), path, "-")
	if err != nil {
		return nil, textLayerError("read PDF text layer", err)
	}
	pages, err := parseBBoxLayout(bytes.NewReader(xmlSafe(out)))
	if err != nil {
		return nil, fmt.Errorf("read PDF text layer: %w: %w", ErrCorrupt, err)
	}
	switch {
	case len(pages) == 0:
		return nil, fmt.Errorf("inspect PDF: %w: the PDF has no pages", ErrEmpty)
	case len(pages) > opts.MaxPages:
		// pdfinfo tells the whole count for the message.
		if _, err := readPDFInfo(ctx, path, opts); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("inspect PDF: %w: more than %d pages, the limit is %d", ErrTooLarge, opts.MaxPages, opts.MaxPages)
	}
	var texts []string
	if !opts.NoPageText {
		txt, err := runTool(ctx, opts.Timeout, maxTextOutput, opts.MemoryLimit, "pdftotext", "-enc", "UTF-8", "-layout", "-f", "1", "-l", strconv.Itoa(len(pages)), path, "-")
		if err != nil {
			return nil, textLayerError("read PDF page text", err)
		}
		texts = strings.Split(string(txt), "\f")
	}
	for i := range pages {
		if i < len(texts) {
			pages[i].Text = cleanLayoutText(texts[i])
		}
		pages[i].Usable = usableText(pages[i].Lines)
		if why, bad := garbageText(pages[i].Lines); bad {
			pages[i].Usable, pages[i].Garbage = false, why
		}
	}
	return pages, nil
}

// pdfFromText is the page count and sizes that the text layer's pages carry: pdftotext
// emits a page element, with the page's size, for every page, text or not.
func pdfFromText(pages []textPage) *pdfInfo {
	info := &pdfInfo{Pages: len(pages), Sizes: make([][2]float64, len(pages))}
	for i, p := range pages {
		info.Sizes[i] = [2]float64{p.Width, p.Height}
	}
	return info
}

// textLayerError maps pdftotext failures; exit code 3 (copying not permitted) means
// the text layer is off limits, which the caller treats as "no text layer".
func textLayerError(action string, err error) error {
	var te *toolError
	if errors.As(err, &te) && te.Code == 3 {
		return fmt.Errorf("%s: %w", action, errNoTextPermission)
	}
	return classifyPopplerError(action, err)
}

var errNoTextPermission = errors.New("the PDF forbids copying its text")

// parseBBoxLayout parses pdftotext -bbox-layout XHTML into pages of lines. Words
// that are only white space are dropped, and so are lines left without words;
// right-to-left words are put in reading order (logicalWord).
func parseBBoxLayout(r io.Reader) ([]textPage, error) {
	dec := xml.NewDecoder(r)
	dec.Strict = false
	dec.AutoClose = xml.HTMLAutoClose
	dec.Entity = xml.HTMLEntity
	var (
		pages  []textPage
		line   *layout.Line
		inWord bool
		word   layout.Word
		text   strings.Builder
	)
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse pdftotext output: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "page":
				p := textPage{}
				p.Width, _ = strconv.ParseFloat(attr(t, "width"), 64)
				p.Height, _ = strconv.ParseFloat(attr(t, "height"), 64)
				pages = append(pages, p)
			case "line":
				line = &layout.Line{Box: boxAttrs(t)}
			case "word":
				inWord = true
				text.Reset()
				word = layout.Word{Box: boxAttrs(t), Confidence: 1}
			}
		case xml.CharData:
			if inWord {
				text.Write(t)
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "word":
				inWord = false
				word.Text = logicalWord(dropBidiMarks(strings.TrimSpace(text.String())))
				if word.Text != "" && line != nil {
					line.Words = append(line.Words, word)
				}
			case "line":
				if line != nil && len(line.Words) > 0 && len(pages) > 0 {
					p := &pages[len(pages)-1]
					p.Lines = append(p.Lines, *line)
				}
				line = nil
			}
		}
	}
	return pages, nil
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func boxAttrs(e xml.StartElement) layout.Box {
	f := func(n string) float64 { v, _ := strconv.ParseFloat(attr(e, n), 64); return v }
	return layout.Box{X0: f("xMin"), Y0: f("yMin"), X1: f("xMax"), Y1: f("yMax")}
}

// minUsableRunes is how many letters and digits a page's text layer needs before we
// trust it over OCR. Scanned pages often carry a stamp or a page number as text; a
// real invoice page has hundreds of characters.
const minUsableRunes = 24

// usableText decides whether a text layer is worth using: enough letters and digits,
// and few characters that betray a font without a Unicode map (replacement
// characters, private use area, control characters).
func usableText(lines []layout.Line) bool {
	good, bad, total := 0, 0, 0
	for _, l := range lines {
		for _, w := range l.Words {
			for _, r := range w.Text {
				total++
				switch {
				case r == unicode.ReplacementChar, unicode.Is(unicode.Co, r), unicode.IsControl(r):
					bad++
				case unicode.IsLetter(r), unicode.IsDigit(r):
					good++
				}
			}
		}
	}
	return good >= minUsableRunes && float64(bad) <= 0.05*float64(total)
}

// cleanLayoutText trims trailing white space from every line of pdftotext -layout
// output (lines of only tabs and spaces become empty), drops trailing empty lines and
// the bidi marks around right-to-left text.
func cleanLayoutText(s string) string {
	lines := strings.Split(dropBidiMarks(s), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " \t\r")
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n")
}
