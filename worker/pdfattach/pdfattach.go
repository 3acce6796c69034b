// Package pdfattach lists and extracts the embedded files of a PDF (the XML invoice of
// ZUGFeRD, Factur-X and XRechnung hybrids) without starting a process, using the
// standard library only.
//
// It does not follow the cross-reference table: it scans the raw bytes for indirect
// objects ("N G obj"), skipping stream data, which also reads PDFs whose table is
// damaged; of an object defined more than once (incremental updates) the last
// definition counts. An embedded file is a stream whose dictionary says
// /Type /EmbeddedFile, or a stream that a file specification's /EF dictionary points to
// (a stream without /Type whose file specification sits in an object stream is not
// found). Names come from the file specifications, found among the plain objects and,
// when some embedded stream is still unnamed, inside compressed object streams. A
// stream's /Length may be direct or indirect (a plain object or one in an object
// stream); when it is missing or does not end at "endstream", the data ends at the
// next "endstream".
//
// Limits: encrypted documents are refused (ErrEncrypted); only unfiltered and
// /FlateDecode streams without predictors are decoded (ErrUnsupported otherwise); the
// Adler-32 checksum of compressed data is not verified, as in common PDF readers.
package pdfattach

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
)

// ErrEncrypted means the document is encrypted; its embedded files cannot be read
// without decrypting it first.
var ErrEncrypted = errors.New("pdfattach: PDF is encrypted")

// ErrTooLarge means a limit was hit: an embedded file decodes to more than
// Limits.MaxFileBytes (a decompression bomb, or a genuinely big attachment), or the
// document has more than Limits.MaxFiles embedded files.
var ErrTooLarge = errors.New("pdfattach: over the limit")

// ErrCorrupt means the input is not a PDF, or an embedded file's stream is truncated or
// its compressed data is damaged.
var ErrCorrupt = errors.New("pdfattach: corrupt PDF")

// ErrUnsupported means an embedded file uses an encoding this package does not decode (a
// filter other than /FlateDecode, or a predictor).
var ErrUnsupported = errors.New("pdfattach: unsupported encoding")

// Default limits, used for the zero fields of Limits.
const (
	DefaultMaxFileBytes = 20 << 20
	DefaultMaxFiles     = 16
)

// File is one embedded file.
type File struct {
	Name    string // from the file specification (/UF preferred, else /F), "" when it cannot be resolved
	Subtype string // the stream's /Subtype as a MIME type ("text/xml", "application/xml"), "" when absent
	Data    []byte // decoded content
}

// Limits bound the work done on one document. Zero fields take the defaults
// (DefaultMaxFileBytes decoded bytes per file, DefaultMaxFiles files).
type Limits struct {
	MaxFileBytes int64
	MaxFiles     int
}

// withDefaults fills the zero fields of l.
func (l Limits) withDefaults() Limits {
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	return l
}

// Files returns the embedded files of pdf in the order they appear in the document. A
// PDF without any returns (nil, nil).
//
// An embedded file that cannot be decoded (unsupported filter, damaged or truncated
// data, over MaxFileBytes) is left out; when that leaves no file at all, the error says
// why for each (wrapping ErrUnsupported, ErrCorrupt or ErrTooLarge). A document that is
// not a PDF (no header, no objects) returns ErrCorrupt, an encrypted one ErrEncrypted,
// and one with more than MaxFiles embedded files ErrTooLarge. Files is safe for
// concurrent use and never panics, whatever the input; its work is linear in the size
// of pdf plus the decoded bytes.
func Files(pdf []byte, lim Limits) ([]File, error) {
	lim = lim.withDefaults()
	if !hasHeader(pdf) {
		return nil, fmt.Errorf("%w: no %%PDF- header in the first 1024 bytes", ErrCorrupt)
	}
	d := newDoc(pdf, lim)
	d.scan()
	if len(d.headers) == 0 {
		return nil, fmt.Errorf("%w: no indirect objects (N G obj) found", ErrCorrupt)
	}
	if d.encrypted {
		return nil, ErrEncrypted
	}
	d.resolveNames()
	streams := d.embedded()
	if len(streams) == 0 {
		return nil, nil
	}
	if len(streams) > lim.MaxFiles {
		return nil, fmt.Errorf("%w: %d embedded files, at most %d are read", ErrTooLarge, len(streams), lim.MaxFiles)
	}
	var files []File
	var errs []error
	for _, s := range streams {
		data, err := d.decodeStream(s, lim.MaxFileBytes)
		if err != nil {
			errs = append(errs, fmt.Errorf("embedded file %q (object %d): %w", d.names[s.num], s.num, err))
			continue
		}
		subtype := ""
		if v, ok := dictLookup(pdf, s.dict, "Subtype"); ok {
			subtype, _ = readName(pdf, v)
		}
		files = append(files, File{Name: d.names[s.num], Subtype: subtype, Data: data})
	}
	if len(files) == 0 {
		return nil, errors.Join(errs...)
	}
	return files, nil
}

// hasHeader reports whether the PDF header is within the first 1024 bytes, where readers
// look for it.
func hasHeader(b []byte) bool {
	return bytes.Contains(b[:min(len(b), 1024)], []byte("%PDF-"))
}

// header is one "N G obj" found in the document: at is where N starts, pos is just
// after "obj". A trailer keyword is kept as a header with num -1.
type header struct{ num, gen, at, pos int }

// stream is a stream object: its dictionary and the extent of its raw data.
type stream struct {
	num        int
	dict       int   // position of "<<", where the object's value starts
	start, end int   // raw data
	after      int   // just after "endstream"
	err        error // set when the data's extent could not be found
	lengthRef  int   // object number of an indirect /Length that could not be resolved, else -1
}

// doc holds what one scan learnt about a document.
type doc struct {
	b         []byte
	lim       Limits
	headers   []header      // "N G obj" in document order
	events    []header      // headers and trailer keywords in document order
	byNum     map[int][]int // object number → indices into headers (every occurrence)
	objs      map[int]int   // object number → value position of its last accepted definition
	embeds    []stream      // streams typed /EmbeddedFile, in document order
	objStms   []stream      // object streams
	specObjs  []int         // value positions of plain objects that may hold a file specification
	encrypted bool
	names     map[int]string // embedded stream object number → file name
	referred  []int          // stream object numbers that file specifications point to
	comp      map[int]loc    // compressed object number → location, once object streams are read
	compRead  bool
}

// loc is where an object's value starts: in the document or in a decoded object stream.
type loc struct {
	buf []byte
	pos int
}

// newDoc prepares a scan of b.
func newDoc(b []byte, lim Limits) *doc {
	return &doc{b: b, lim: lim, objs: make(map[int]int), names: make(map[int]string)}
}

// findHeaders lists every "N G obj" and every "trailer" keyword in b, in order. Some may
// lie inside stream data; scan discards those.
func (d *doc) findHeaders() {
	b := d.b
	d.byNum = make(map[int][]int)
	for p := 0; p < len(b); {
		i := bytes.Index(b[p:], []byte("obj"))
		if i < 0 {
			break
		}
		i += p
		p = i + 3
		if p < len(b) && isRegular(b[p]) {
			continue
		}
		if num, gen, at, ok := headerBefore(b, i); ok {
			d.byNum[num] = append(d.byNum[num], len(d.headers))
			d.headers = append(d.headers, header{num: num, gen: gen, at: at, pos: p})
		}
	}
	var trailers []header
	for p := 0; p < len(b); {
		i := bytes.Index(b[p:], []byte("trailer"))
		if i < 0 {
			break
		}
		i += p
		p = i + 7
		if (i == 0 || !isRegular(b[i-1])) && (p == len(b) || !isRegular(b[p])) {
			trailers = append(trailers, header{num: -1, at: i, pos: p})
		}
	}
	if len(trailers) > 0 {
		d.events = mergeEvents(d.headers, trailers)
	} else {
		d.events = d.headers
	}
}

// mergeEvents merges two lists sorted by position.
func mergeEvents(a, b []header) []header {
	out := make([]header, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].at < b[0].at {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// headerBefore reads the "N G " that must precede the keyword "obj" at i.
func headerBefore(b []byte, i int) (num, gen, at int, ok bool) {
	j := i
	for j > 0 && isWhite(b[j-1]) {
		j--
	}
	if j == i {
		return 0, 0, 0, false
	}
	ge := j
	for j > 0 && b[j-1] >= '0' && b[j-1] <= '9' {
		j--
	}
	g, okg := parseUint(b[j:ge])
	k := j
	for j > 0 && isWhite(b[j-1]) {
		j--
	}
	if j == k {
		return 0, 0, 0, false
	}
	ne := j
	for j > 0 && b[j-1] >= '0' && b[j-1] <= '9' {
		j--
	}
	n, okn := parseUint(b[j:ne])
	if !okg || !okn || (j > 0 && isRegular(b[j-1])) || n > 1<<31 || g > 65535 {
		return 0, 0, 0, false
	}
	return int(n), int(g), j, true
}

// scan walks the objects and trailers in document order, skipping stream data so that
// nothing inside a stream (an uncompressed embedded PDF, say) is taken for the
// document's own objects.
func (d *doc) scan() {
	b := d.b
	d.findHeaders()
	skipUntil := 0
	for i, h := range d.events {
		if h.at < skipUntil {
			continue
		}
		// An object's value (a stream's dictionary) ends before the next header: bounding
		// the parse there keeps hostile input (say, thousands of unclosed strings) linear.
		bound := b
		if i+1 < len(d.events) {
			bound = b[:d.events[i+1].at]
		}
		if h.num < 0 {
			d.checkEncrypt(bound, h.pos)
			continue
		}
		p := skipWS(bound, h.pos)
		end, err := skipValue(bound, p, 0)
		if err != nil {
			continue
		}
		d.objs[h.num] = p
		s, isStream := stream{}, false
		if isDict(b, p) {
			s, isStream = d.streamAt(h.num, p, end)
		}
		if !isStream {
			if bytes.Contains(b[p:end], []byte("/EF")) {
				d.specObjs = append(d.specObjs, p)
			}
			continue
		}
		skipUntil = s.after
		v, ok := dictLookup(b, p, "Type")
		if !ok {
			continue
		}
		switch typ, _ := readName(b, v); typ {
		case "EmbeddedFile":
			d.embeds = append(d.embeds, s)
		case "ObjStm":
			d.objStms = append(d.objStms, s)
		case "XRef":
			d.checkEncrypt(b, p)
		}
	}
}

// checkEncrypt marks the document encrypted when the dictionary at p (a trailer or a
// cross-reference stream's) has a non-null /Encrypt.
func (d *doc) checkEncrypt(b []byte, p int) {
	if v, ok := dictLookup(b, p, "Encrypt"); ok && !isNull(b, v) {
		d.encrypted = true
	}
}

// streamAt reads the stream whose dictionary spans [dict, dictEnd), if the keyword
// "stream" follows it.
func (d *doc) streamAt(num, dict, dictEnd int) (stream, bool) {
	b := d.b
	q := dictEnd
	for q < len(b) && isWhite(b[q]) {
		q++
	}
	if !bytes.HasPrefix(b[q:], []byte("stream")) {
		return stream{}, false
	}
	q += len("stream")
	// The keyword is followed by CRLF or LF; a lone CR is tolerated.
	if q < len(b) && b[q] == '\r' {
		q++
	}
	if q < len(b) && b[q] == '\n' {
		q++
	}
	s := stream{num: num, dict: dict, start: q, lengthRef: -1}
	if v, ok := dictLookup(b, dict, "Length"); ok {
		if n, g, _, ok := readRef(b, v); ok {
			if d.extentFromRef(&s, n, g) {
				return s, true
			}
			s.lengthRef = n
		} else if l, ok := readInt(b, v); ok && d.setExtent(&s, l) {
			return s, true
		}
	}
	d.searchEnd(&s)
	return s, true
}

// extentFromRef resolves an indirect /Length among the plain objects: of the (at most
// four last) definitions of that number, the first giving a consistent extent wins.
func (d *doc) extentFromRef(s *stream, num, gen int) bool {
	idx := d.byNum[num]
	tried := 0
	for k := len(idx) - 1; k >= 0 && tried < 4; k-- {
		h := d.headers[idx[k]]
		if h.gen != gen {
			continue
		}
		tried++
		if l, ok := readInt(d.b, h.pos); ok && d.setExtent(s, l) {
			return true
		}
	}
	return false
}

// setExtent takes l as the data length if "endstream" follows the data where it says.
func (d *doc) setExtent(s *stream, l int64) bool {
	b := d.b
	if l < 0 || l > int64(len(b)-s.start) {
		return false
	}
	e := s.start + int(l)
	q := skipWS(b, e)
	if !bytes.HasPrefix(b[q:], []byte("endstream")) {
		return false
	}
	s.end, s.after, s.err = e, q+len("endstream"), nil
	return true
}

// searchEnd finds the data's end at the next "endstream" keyword, without the end of
// line that precedes it, for a missing or wrong /Length.
func (d *doc) searchEnd(s *stream) {
	b := d.b
	i := bytes.Index(b[s.start:], []byte("endstream"))
	if i < 0 {
		s.end, s.after = len(b), len(b)
		s.err = fmt.Errorf("%w: stream data runs past the end of the file (truncated?)", ErrCorrupt)
		return
	}
	e := s.start + i
	s.after = e + len("endstream")
	if e > s.start && b[e-1] == '\n' {
		e--
	}
	if e > s.start && b[e-1] == '\r' {
		e--
	}
	s.end = e
}

// resolveNames maps embedded streams to file names from the file specifications among
// the plain objects, and reads the object streams when some stream is still unnamed.
func (d *doc) resolveNames() {
	for _, p := range d.specObjs {
		d.specsIn(d.b, p)
	}
	if len(d.objStms) == 0 {
		return
	}
	for _, s := range d.embeds {
		if _, ok := d.names[s.num]; !ok {
			d.readObjStms()
			for _, l := range d.comp {
				if bytes.Contains(l.buf[l.pos:min(len(l.buf), l.pos+objSpan(l.buf, l.pos))], []byte("/EF")) {
					d.specsIn(l.buf, l.pos)
				}
			}
			return
		}
	}
}

// objSpan returns the length of the value at p in buf (0 when malformed).
func objSpan(buf []byte, p int) int {
	end, err := skipValue(buf, p, 0)
	if err != nil {
		return 0
	}
	return end - p
}

// specsIn records the file specifications found anywhere in the value at p of buf.
func (d *doc) specsIn(buf []byte, p int) {
	walkDicts(buf, p, 0, func(dict int) {
		ef, ok := dictLookup(buf, dict, "EF")
		if !ok {
			return
		}
		efBuf, efPos, ok := d.resolve(buf, ef)
		if !ok || !isDict(efBuf, efPos) {
			return
		}
		name := d.specName(buf, dict)
		for _, key := range [...]string{"F", "UF"} {
			v, ok := dictLookup(efBuf, efPos, key)
			if !ok {
				continue
			}
			num, _, _, ok := readRef(efBuf, v)
			if !ok {
				continue
			}
			if _, seen := d.names[num]; !seen {
				d.names[num] = name
				d.referred = append(d.referred, num)
			}
		}
	})
}

// specName returns a file specification's name: /UF, else /F, else the old platform
// keys, as UTF-8.
func (d *doc) specName(buf []byte, dict int) string {
	for _, key := range [...]string{"UF", "F", "Unix", "DOS", "Mac"} {
		v, ok := dictLookup(buf, dict, key)
		if !ok {
			continue
		}
		sb, sp, ok := d.resolve(buf, v)
		if !ok {
			continue
		}
		if s, ok := readString(sb, sp); ok {
			return textString(s)
		}
	}
	return ""
}

// resolve follows the value at p of buf when it is an indirect reference; other values
// are returned as they are.
func (d *doc) resolve(buf []byte, p int) ([]byte, int, bool) {
	num, _, _, ok := readRef(buf, p)
	if !ok {
		return buf, p, true
	}
	if v, ok := d.objs[num]; ok {
		return d.b, v, true
	}
	d.readObjStms()
	if l, ok := d.comp[num]; ok {
		return l.buf, l.pos, true
	}
	return nil, 0, false
}

// readObjStms decodes the object streams once and indexes the objects they hold.
func (d *doc) readObjStms() {
	if d.compRead {
		return
	}
	d.compRead = true
	d.comp = make(map[int]loc)
	// All object streams together decode to at most MaxFileBytes, so a document made of
	// many small bombs costs no more than one.
	budget := d.lim.MaxFileBytes
	for _, s := range d.objStms {
		if d.objs[s.num] != s.dict {
			continue // replaced by a later definition
		}
		data, err := d.decodeStream(s, budget)
		if err != nil {
			continue
		}
		budget -= int64(len(data))
		d.indexObjStm(s, data)
	}
}

// indexObjStm records the objects of one decoded object stream: /N pairs "number offset"
// and the objects themselves from /First on.
func (d *doc) indexObjStm(s stream, data []byte) {
	nv, ok1 := dictLookup(d.b, s.dict, "N")
	fv, ok2 := dictLookup(d.b, s.dict, "First")
	if !ok1 || !ok2 {
		return
	}
	n, ok1 := readInt(d.b, nv)
	first, ok2 := readInt(d.b, fv)
	if !ok1 || !ok2 || n < 0 || first < 0 || first > int64(len(data)) || n > int64(len(data)) {
		return
	}
	type entry struct{ num, off int }
	entries := make([]entry, 0, min(n, 1024))
	p := 0
	for k := int64(0); k < n; k++ {
		p = skipWS(data, p)
		e := tokenEnd(data, p)
		num, ok1 := parseUint(data[p:e])
		p = skipWS(data, e)
		e = tokenEnd(data, p)
		off, ok2 := parseUint(data[p:e])
		p = e
		if !ok1 || !ok2 || num > 1<<31 || off > int64(len(data))-first {
			break
		}
		entries = append(entries, entry{int(num), int(first + off)})
	}
	for k, en := range entries {
		// Each object ends where the next begins; bounding it there keeps a damaged
		// object from making every lookup read the rest of the stream.
		end := len(data)
		if k+1 < len(entries) && entries[k+1].off >= en.off {
			end = entries[k+1].off
		}
		if _, plain := d.objs[en.num]; !plain {
			d.comp[en.num] = loc{buf: data[:end], pos: en.off}
		}
	}
}

// embedded returns the embedded file streams: those typed /EmbeddedFile and those a file
// specification points to, each object once (its last definition), in document order.
func (d *doc) embedded() []stream {
	var out []stream
	seen := make(map[int]bool, len(d.embeds))
	for _, s := range d.embeds {
		if d.objs[s.num] != s.dict || seen[s.num] {
			continue
		}
		seen[s.num] = true
		out = append(out, d.fixLength(s))
	}
	added := false
	for _, num := range d.referred {
		v, ok := d.objs[num]
		if seen[num] || !ok || !isDict(d.b, v) {
			continue
		}
		end, err := skipValue(d.b, v, 0)
		if err != nil {
			continue
		}
		if s, ok := d.streamAt(num, v, end); ok {
			seen[num] = true
			out = append(out, d.fixLength(s))
			added = true
		}
	}
	if added {
		sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	}
	return out
}

// fixLength retries an indirect /Length that only an object stream holds.
func (d *doc) fixLength(s stream) stream {
	if s.lengthRef < 0 {
		return s
	}
	d.readObjStms()
	if l, ok := d.comp[s.lengthRef]; ok {
		if n, ok := readInt(l.buf, l.pos); ok {
			t := s
			if d.setExtent(&t, n) {
				return t
			}
		}
	}
	return s
}
