package pdfattach

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"sort"
	"strings"
)

// pdfWriter writes small PDFs by hand for the tests: numbered objects, then a
// cross-reference table or stream, so that poppler reads them too.
type pdfWriter struct {
	buf     bytes.Buffer
	offsets map[int]int    // plain objects
	inStm   map[int][2]int // compressed objects: object stream number, index
}

// newPDF starts a document with the header and a binary comment.
func newPDF() *pdfWriter {
	w := &pdfWriter{offsets: map[int]int{}, inStm: map[int][2]int{}}
	w.buf.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	return w
}

// obj writes a plain object.
func (w *pdfWriter) obj(num int, body string) {
	w.offsets[num] = w.buf.Len()
	fmt.Fprintf(&w.buf, "%d 0 obj\n%s\nendobj\n", num, body)
}

// stream writes a stream object; dict is the dictionary's inside, /Length included by
// the caller so that tests can make it indirect or wrong.
func (w *pdfWriter) stream(num int, dict string, data []byte) {
	w.offsets[num] = w.buf.Len()
	fmt.Fprintf(&w.buf, "%d 0 obj\n<<%s>>\nstream\n", num, dict)
	w.buf.Write(data)
	w.buf.WriteString("\nendstream\nendobj\n")
}

// objStm writes a compressed object stream holding objs (number → body).
func (w *pdfWriter) objStm(num int, objs map[int]string) {
	nums := make([]int, 0, len(objs))
	for n := range objs {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	var head, body strings.Builder
	for i, n := range nums {
		fmt.Fprintf(&head, "%d %d ", n, body.Len())
		body.WriteString(objs[n])
		body.WriteString("\n")
		w.inStm[n] = [2]int{num, i}
	}
	data := zlibBytes([]byte(head.String() + body.String()))
	w.stream(num, fmt.Sprintf("/Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d", len(nums), head.Len(), len(data)), data)
}

// size is one more than the highest object number.
func (w *pdfWriter) size() int {
	n := 0
	for k := range w.offsets {
		n = max(n, k+1)
	}
	for k := range w.inStm {
		n = max(n, k+1)
	}
	return n
}

// xrefTable ends the document with a classic cross-reference table and a trailer whose
// dictionary also holds extra.
func (w *pdfWriter) xrefTable(extra string) []byte {
	start := w.buf.Len()
	n := w.size()
	fmt.Fprintf(&w.buf, "xref\n0 %d\n0000000000 65535 f\r\n", n)
	for i := 1; i < n; i++ {
		if off, ok := w.offsets[i]; ok {
			fmt.Fprintf(&w.buf, "%010d 00000 n\r\n", off)
		} else {
			w.buf.WriteString("0000000000 00000 f\r\n")
		}
	}
	fmt.Fprintf(&w.buf, "trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n", n, extra, start)
	return w.buf.Bytes()
}

// xrefStream ends the document with an (unfiltered) cross-reference stream as object
// num, which object streams need.
func (w *pdfWriter) xrefStream(num int, extra string) []byte {
	start := w.buf.Len()
	w.offsets[num] = start
	n := w.size()
	var data []byte
	entry := func(typ byte, a, b int) {
		data = append(data, typ, byte(a>>24), byte(a>>16), byte(a>>8), byte(a), byte(b>>8), byte(b))
	}
	entry(0, 0, 65535)
	for i := 1; i < n; i++ {
		if off, ok := w.offsets[i]; ok {
			entry(1, off, 0)
		} else if c, ok := w.inStm[i]; ok {
			entry(2, c[0], c[1])
		} else {
			entry(0, 0, 0)
		}
	}
	w.stream(num, fmt.Sprintf("/Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d %s", n, len(data), extra), data)
	fmt.Fprintf(&w.buf, "startxref\n%d\n%%%%EOF\n", start)
	return w.buf.Bytes()
}

// zlibReader opens zlib data with the standard library's reader.
func zlibReader(data []byte) (io.Reader, error) { return zlib.NewReader(bytes.NewReader(data)) }

// zlibBytes compresses data as /FlateDecode does.
func zlibBytes(data []byte) []byte {
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

// pageTree writes objects 2 (pages) and 3 (one empty page), which every fixture shares.
func (w *pdfWriter) pageTree() {
	w.obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	w.obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>")
}

// catalogWith returns a catalog dictionary whose EmbeddedFiles name tree maps key to
// the file specification fsRef.
func catalogWith(key, fsRef string) string {
	return fmt.Sprintf("<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [%s %s] >> >> >>", key, fsRef)
}

// invoiceXML is the content the fixtures embed.
var invoiceXML = []byte(`<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100">
  <rsm:ExchangedDocument><ram:ID xmlns:ram="x">471102</ram:ID></rsm:ExchangedDocument>
</rsm:CrossIndustryInvoice>
`)

// simplePDF is a valid PDF embedding invoiceXML as factur-x.xml (flate-compressed).
func simplePDF() []byte {
	w := newPDF()
	w.obj(1, catalogWith("(factur-x.xml)", "4 0 R"))
	w.pageTree()
	w.obj(4, "<< /Type /Filespec /F (factur-x.xml) /UF (factur-x.xml) /AFRelationship /Data /EF << /F 5 0 R /UF 5 0 R >> >>")
	data := zlibBytes(invoiceXML)
	w.stream(5, fmt.Sprintf("/Type /EmbeddedFile /Subtype /text#2Fxml /Filter /FlateDecode /Params << /Size %d >> /Length %d", len(invoiceXML), len(data)), data)
	return w.xrefTable("")
}
