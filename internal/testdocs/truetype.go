package testdocs

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// TrueTypePDF builds PDFs whose text is drawn with an embedded TrueType font addressed by
// glyph id (a Type 0 font, Identity-H encoding), the way most PDF producers embed
// fonts. Without ToUnicode the font carries no ToUnicode map and no cmap table, so a
// text extractor cannot tell which characters the glyphs are: the page renders
// correctly and its text layer is garbage. With ToUnicode the same page has a correct
// text layer.
//
// The embedded font is subset: every glyph the page does not draw keeps its metrics
// and loses its outline, and the tables a renderer does not need are dropped, so a
// fixture stays a few kilobytes.
type TrueTypePDF struct {
	TTF       []byte // the TrueType font file
	ToUnicode bool
	// FirstCode, when set, numbers the characters by first use from this code (CIDs
	// firstCode, firstCode+1, ...) through a CIDToGIDMap, as producers that subset fonts
	// on the fly do; without a ToUnicode map a text extractor then reads these codes as
	// characters. Zero: the code is the glyph id (CIDToGIDMap /Identity).
	FirstCode int
	// RTL tells runes of right-to-left scripts: a run of them is drawn in visual order
	// (reversed), as producers lay out Hebrew and Arabic.
	RTL func(rune) bool
}

// Build writes one page per entry of pages, each a list of lines drawn at 11 pt from
// the top left, 14 pt apart. Runs of two or more spaces advance to the column their
// position in the line implies (6.2 pt per character), so tables keep their columns.
func (g TrueTypePDF) Build(pages ...[]string) ([]byte, error) {
	f, err := sfnt.Parse(g.TTF)
	if err != nil {
		return nil, fmt.Errorf("parse font: %w", err)
	}
	var buf sfnt.Buffer
	upem := int(f.UnitsPerEm())
	gidOf := map[rune]sfnt.GlyphIndex{}
	codeOf := map[rune]int{}
	width := map[int]int{} // by code
	used := map[sfnt.GlyphIndex]bool{0: true}
	lookup := func(r rune) (int, error) {
		if c, ok := codeOf[r]; ok {
			return c, nil
		}
		gi, err := f.GlyphIndex(&buf, r)
		if err != nil || gi == 0 {
			return 0, fmt.Errorf("font has no glyph for %q", r)
		}
		adv, err := f.GlyphAdvance(&buf, gi, fixed.Int26_6(upem<<6), font.HintingNone)
		if err != nil {
			return 0, fmt.Errorf("advance of %q: %w", r, err)
		}
		c := int(gi)
		if g.FirstCode > 0 {
			c = g.FirstCode + len(codeOf)
		}
		gidOf[r], codeOf[r] = gi, c
		width[c] = int(adv>>6) * 1000 / upem
		used[gi] = true
		return c, nil
	}

	var objs []string
	add := func(body string) int { objs = append(objs, body); return len(objs) }
	catalog := add("")
	pagesObj := add("")
	type0 := add("")
	cidFont := add("")
	var contents []string
	for _, lines := range pages {
		var sb strings.Builder
		sb.WriteString("BT /F1 11 Tf\n")
		for i, l := range lines {
			y := 740 - 14*i
			for _, c := range cells(l) {
				fmt.Fprintf(&sb, "1 0 0 1 %.1f %d Tm <", 56+6.2*float64(c.col), y)
				for _, r := range g.visual([]rune(c.text)) {
					code, err := lookup(r)
					if err != nil {
						return nil, err
					}
					fmt.Fprintf(&sb, "%04X", uint16(code))
				}
				sb.WriteString("> Tj\n")
			}
		}
		sb.WriteString("ET")
		contents = append(contents, sb.String())
	}
	sub, err := subsetTTF(g.TTF, used)
	if err != nil {
		return nil, fmt.Errorf("subset font: %w", err)
	}
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write(sub)
	zw.Close()
	file := add(fmt.Sprintf("<< /Length %d /Length1 %d /Filter /FlateDecode >>\nstream\n%s\nendstream", z.Len(), len(sub), z.String()))
	const name = "/AAAAAA+Embedded"
	desc := add(fmt.Sprintf("<< /Type /FontDescriptor /FontName %s /Flags 32 /FontBBox [-200 -300 1200 1000] /ItalicAngle 0 /Ascent 900 /Descent -250 /CapHeight 700 /StemV 80 /FontFile2 %d 0 R >>", name, file))
	codes := make([]int, 0, len(width))
	for c := range width {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var w strings.Builder
	for _, c := range codes {
		fmt.Fprintf(&w, "%d [%d] ", c, width[c])
	}
	cidToGID := "/Identity"
	if g.FirstCode > 0 {
		m := make([]byte, 2*(codes[len(codes)-1]+1))
		for r, c := range codeOf {
			binary.BigEndian.PutUint16(m[2*c:], uint16(gidOf[r]))
		}
		cidToGID = fmt.Sprintf("%d 0 R", add(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(m), m)))
	}
	objs[cidFont-1] = fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont %s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /CIDToGIDMap %s /DW 500 /W [%s] >>", name, desc, cidToGID, w.String())
	t0 := fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont %s /Encoding /Identity-H /DescendantFonts [%d 0 R]", name, cidFont)
	if g.ToUnicode {
		t0 += fmt.Sprintf(" /ToUnicode %d 0 R", add(toUnicodeCMap(codeOf)))
	}
	objs[type0-1] = t0 + " >>"
	var kids []string
	for _, c := range contents {
		co := add(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(c), c))
		pg := add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>", pagesObj, type0, co))
		kids = append(kids, fmt.Sprintf("%d 0 R", pg))
	}
	objs[catalog-1] = fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pagesObj)
	objs[pagesObj-1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids))
	return RawPDF(catalog, objs), nil
}

// visual reorders a cell's runes for drawing, as a left-to-right paragraph shows them:
// each run of right-to-left text (from its first right-to-left letter to its last, with
// the spaces and punctuation between them) is reversed; everything else keeps its order.
func (g TrueTypePDF) visual(rs []rune) []rune {
	if g.RTL == nil {
		return rs
	}
	out := slices.Clone(rs)
	for i := 0; i < len(out); {
		if !g.RTL(out[i]) {
			i++
			continue
		}
		j, end := i, i+1
		for ; j < len(out) && (g.RTL(out[j]) || !unicode.IsLetter(out[j]) && !unicode.IsDigit(out[j])); j++ {
			if g.RTL(out[j]) {
				end = j + 1
			}
		}
		slices.Reverse(out[i:end])
		i = end
	}
	return out
}

// toUnicodeCMap writes a ToUnicode CMap stream mapping each code to its rune.
func toUnicodeCMap(codeOf map[rune]int) string {
	rs := make([]rune, 0, len(codeOf))
	for r := range codeOf {
		rs = append(rs, r)
	}
	slices.Sort(rs)
	var b strings.Builder
	b.WriteString("/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n1 begincodespacerange <0000> <FFFF> endcodespacerange\n")
	for len(rs) > 0 {
		n := min(len(rs), 100)
		fmt.Fprintf(&b, "%d beginbfchar\n", n)
		for _, r := range rs[:n] {
			fmt.Fprintf(&b, "<%04X> <%04X>\n", uint16(codeOf[r]), r)
		}
		b.WriteString("endbfchar\n")
		rs = rs[n:]
	}
	b.WriteString("endcmap CMapName currentdict /CMap defineresource pop end end")
	s := b.String()
	return fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(s), s)
}

// subsetTTF returns a TrueType font with the tables a PDF renderer needs (head, hhea,
// hmtx, maxp, loca, glyf and the hinting tables) in which only the glyphs in keep (and
// the components of composite glyphs among them) keep their outlines. Glyph ids do not
// change. The cmap is dropped: glyphs are addressed by id.
func subsetTTF(ttf []byte, keep map[sfnt.GlyphIndex]bool) ([]byte, error) {
	be := binary.BigEndian
	if len(ttf) < 12 {
		return nil, fmt.Errorf("short font")
	}
	n := int(be.Uint16(ttf[4:]))
	tables := map[string][]byte{}
	for i := range n {
		e := ttf[12+16*i:]
		off, ln := be.Uint32(e[8:]), be.Uint32(e[12:])
		if int(off+ln) > len(ttf) {
			return nil, fmt.Errorf("table %q out of range", e[:4])
		}
		tables[string(e[:4])] = ttf[off : off+ln]
	}
	head, loca, glyf, maxp := tables["head"], tables["loca"], tables["glyf"], tables["maxp"]
	if head == nil || loca == nil || glyf == nil || maxp == nil {
		return nil, fmt.Errorf("not a TrueType-outline font")
	}
	long := be.Uint16(head[50:]) == 1
	num := int(be.Uint16(maxp[4:]))
	offset := func(i int) int {
		if long {
			return int(be.Uint32(loca[4*i:]))
		}
		return 2 * int(be.Uint16(loca[2*i:]))
	}
	// Components of composite glyphs are kept too.
	queue := make([]int, 0, len(keep))
	kept := map[int]bool{}
	for gi := range keep {
		queue = append(queue, int(gi))
	}
	for len(queue) > 0 {
		gi := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if kept[gi] || gi >= num {
			continue
		}
		kept[gi] = true
		g := glyf[offset(gi):offset(gi+1)]
		if len(g) < 10 || int16(be.Uint16(g)) >= 0 {
			continue
		}
		for p := 10; p+4 <= len(g); {
			flags := be.Uint16(g[p:])
			queue = append(queue, int(be.Uint16(g[p+2:])))
			p += 4
			if flags&1 != 0 { // ARG_1_AND_2_ARE_WORDS
				p += 4
			} else {
				p += 2
			}
			switch {
			case flags&0x8 != 0: // WE_HAVE_A_SCALE
				p += 2
			case flags&0x40 != 0: // X_AND_Y_SCALE
				p += 4
			case flags&0x80 != 0: // TWO_BY_TWO
				p += 8
			}
			if flags&0x20 == 0 { // MORE_COMPONENTS
				break
			}
		}
	}
	var newGlyf []byte
	newLoca := make([]byte, 0, 4*(num+1))
	for gi := range num {
		newLoca = be.AppendUint32(newLoca, uint32(len(newGlyf)))
		if kept[gi] {
			newGlyf = append(newGlyf, glyf[offset(gi):offset(gi+1)]...)
			for len(newGlyf)%4 != 0 {
				newGlyf = append(newGlyf, 0)
			}
		}
	}
	newLoca = be.AppendUint32(newLoca, uint32(len(newGlyf)))
	newHead := slices.Clone(head)
	be.PutUint16(newHead[50:], 1) // long loca offsets
	be.PutUint32(newHead[8:], 0)  // checksum adjustment, recomputed below
	out := map[string][]byte{"head": newHead, "loca": newLoca, "glyf": newGlyf}
	for _, tag := range []string{"hhea", "hmtx", "maxp", "cvt ", "fpgm", "prep"} {
		if t, ok := tables[tag]; ok {
			out[tag] = t
		}
	}
	tags := make([]string, 0, len(out))
	for tag := range out {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	checksum := func(b []byte) uint32 {
		var s uint32
		for i := 0; i < len(b); i += 4 {
			var w [4]byte
			copy(w[:], b[i:])
			s += be.Uint32(w[:])
		}
		return s
	}
	nt := len(tags)
	sel := 0
	for 1<<(sel+1) <= nt {
		sel++
	}
	res := be.AppendUint32(nil, 0x00010000)
	res = be.AppendUint16(res, uint16(nt))
	res = be.AppendUint16(res, uint16(16<<sel))
	res = be.AppendUint16(res, uint16(sel))
	res = be.AppendUint16(res, uint16(nt*16-16<<sel))
	off := 12 + 16*nt
	var body []byte
	for _, tag := range tags {
		t := out[tag]
		res = append(res, tag...)
		res = be.AppendUint32(res, checksum(t))
		res = be.AppendUint32(res, uint32(off+len(body)))
		res = be.AppendUint32(res, uint32(len(t)))
		body = append(body, t...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
	}
	res = append(res, body...)
	// head.checkSumAdjustment makes the whole file sum to 0xB1B0AFBA.
	headOff := 12 + 16*nt
	for _, tag := range tags {
		if tag == "head" {
			break
		}
		headOff += (len(out[tag]) + 3) &^ 3
	}
	be.PutUint32(res[headOff+8:], 0xB1B0AFBA-checksum(res))
	return res, nil
}

type cell struct {
	col  int
	text string
}

// cells splits a line at runs of two or more spaces, keeping each cell's column.
func cells(l string) []cell {
	var out []cell
	rs := []rune(l)
	i := 0
	for i < len(rs) {
		for i < len(rs) && rs[i] == ' ' {
			i++
		}
		if i >= len(rs) {
			break
		}
		j := i
		for j < len(rs) && !(rs[j] == ' ' && j+1 < len(rs) && rs[j+1] == ' ') && !(rs[j] == ' ' && j+1 == len(rs)) {
			j++
		}
		out = append(out, cell{i, string(rs[i:j])})
		i = j
	}
	return out
}
