package pdfattach

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fixture is one hand-made document and what Files must say about it.
type fixture struct {
	name    string
	pdf     func() []byte
	lim     Limits
	want    []File // compared in order: Name, Subtype, Data
	wantErr error  // nil: success expected
	errText string // a part of the error message
	poppler bool   // also check that pdfdetach reads the same files (the fixture is a valid PDF)
}

// fixtures lists the hand-made documents.
func fixtures() []fixture {
	xml := func(name string) File { return File{Name: name, Subtype: "text/xml", Data: invoiceXML} }
	return []fixture{
		{name: "simple", pdf: simplePDF, want: []File{xml("factur-x.xml")}, poppler: true},
		{name: "indirect length", pdf: indirectLengthPDF, poppler: true,
			want: []File{{Name: "data.txt", Data: indirectLengthData}}},
		{name: "object stream filespec", pdf: objStmPDF, poppler: true,
			want: []File{{Name: "Rechnung-Ü€.xml", Subtype: "application/xml", Data: indirectLengthData}}},
		{name: "no attachment", pdf: noAttachmentPDF, poppler: true},
		{name: "spelling", pdf: spellingPDF, poppler: true,
			want: []File{{Name: "a(b)\\c d\u2022é.xml", Subtype: "text/xml", Data: invoiceXML}}},
		{name: "name as hex string", pdf: hexNamePDF, poppler: true, want: []File{xml("zugferd-invoice.xml")}},
		{name: "incremental update replaces the file", pdf: incrementalPDF, poppler: true,
			want: []File{{Name: "factur-x.xml", Subtype: "text/xml", Data: []byte("<new/>")}}},
		{name: "uncompressed PDF inside", pdf: nestedPDF, poppler: true,
			want: []File{{Name: "inner.pdf", Subtype: "application/pdf", Data: nestedInner()}}},
		{name: "stream without /Type", pdf: untypedPDF, poppler: true, want: []File{{Name: "factur-x.xml", Data: invoiceXML}}},
		{name: "orphan stream", pdf: orphanPDF, want: []File{{Name: "", Subtype: "text/xml", Data: invoiceXML}}},
		{name: "wrong direct length", pdf: wrongLengthPDF, want: []File{xml("factur-x.xml")}},
		{name: "unsupported filter, other file kept", pdf: mixedFiltersPDF,
			want: []File{xml("factur-x.xml")}},
		{name: "encrypted trailer", pdf: encryptedPDF, wantErr: ErrEncrypted},
		{name: "encrypted xref stream", pdf: encryptedXRefStmPDF, wantErr: ErrEncrypted},
		{name: "deflate bomb", pdf: bombPDF, wantErr: ErrTooLarge, errText: "more than 20971520 bytes"},
		{name: "over a custom size limit", pdf: simplePDF, lim: Limits{MaxFileBytes: 100}, wantErr: ErrTooLarge},
		{name: "too many files", pdf: manyFilesPDF, lim: Limits{MaxFiles: 3}, wantErr: ErrTooLarge, errText: "4 embedded files"},
		{name: "truncated stream", pdf: truncatedPDF, wantErr: ErrCorrupt, errText: "past the end"},
		{name: "truncated compressed data", pdf: truncatedFlatePDF, wantErr: ErrCorrupt, errText: "truncated"},
		{name: "damaged compressed data", pdf: damagedFlatePDF, wantErr: ErrCorrupt},
		{name: "garbage", pdf: garbage, wantErr: ErrCorrupt, errText: "%PDF-"},
		{name: "zero bytes", pdf: func() []byte { return nil }, wantErr: ErrCorrupt},
		{name: "header only", pdf: func() []byte { return []byte("%PDF-1.7\n") }, wantErr: ErrCorrupt, errText: "no indirect objects"},
		{name: "unsupported filter", pdf: dctPDF, wantErr: ErrUnsupported, errText: "DCTDecode"},
		{name: "predictor", pdf: predictorPDF, wantErr: ErrUnsupported, errText: "Predictor"},
	}
}

// TestFixtures runs Files on every hand-made document.
func TestFixtures(t *testing.T) {
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			pdf := fx.pdf()
			got, err := Files(pdf, fx.lim)
			if fx.wantErr != nil {
				if !errors.Is(err, fx.wantErr) || !strings.Contains(fmt.Sprint(err), fx.errText) {
					t.Fatalf("error %v, want %v containing %q", err, fx.wantErr, fx.errText)
				}
				if got != nil {
					t.Errorf("files %v along with the error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Files: %v", err)
			}
			checkFiles(t, got, fx.want)
			if fx.poppler {
				checkPoppler(t, pdf, got)
			}
		})
	}
}

// checkFiles compares files with want, in order.
func checkFiles(t *testing.T, got, want []File) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d files %v, want %d", len(got), names(got), len(want))
	}
	if want == nil && got != nil {
		t.Errorf("files %#v, want nil", got)
	}
	for i := range want {
		if got[i].Name != want[i].Name || got[i].Subtype != want[i].Subtype {
			t.Errorf("file %d: name %q subtype %q, want %q %q", i, got[i].Name, got[i].Subtype, want[i].Name, want[i].Subtype)
		}
		if !bytes.Equal(got[i].Data, want[i].Data) {
			t.Errorf("file %d: data %q, want %q", i, trim(got[i].Data), trim(want[i].Data))
		}
	}
}

// names lists the files' names.
func names(files []File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Name)
	}
	return out
}

// trim shortens data for a message.
func trim(b []byte) []byte { return b[:min(len(b), 80)] }

// checkPoppler checks that pdfdetach reads the fixture as Files did, which shows that
// the fixture is a PDF a real reader accepts.
func checkPoppler(t *testing.T, pdf []byte, got []File) {
	t.Helper()
	tool, err := exec.LookPath("pdfdetach")
	if err != nil {
		t.Logf("pdfdetach not installed, fixture not checked against it: %v", err)
		return
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "fixture.pdf")
	if err := os.WriteFile(file, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	want := popplerList(t, tool, file)
	if strings.Join(want, "\n") != strings.Join(names(got), "\n") {
		t.Fatalf("pdfdetach lists %q, Files %q", want, names(got))
	}
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o755)
	if msg, err := exec.Command(tool, "-saveall", "-o", out, file).CombinedOutput(); err != nil {
		t.Fatalf("pdfdetach -saveall: %v: %s", err, msg)
	}
	for _, f := range got {
		saved, err := os.ReadFile(filepath.Join(out, f.Name))
		if err != nil {
			t.Fatalf("read what pdfdetach saved: %v", err)
		}
		if !bytes.Equal(saved, f.Data) {
			t.Errorf("%s: pdfdetach saved %q, Files %q", f.Name, trim(saved), trim(f.Data))
		}
	}
}

// indirectLengthData holds "endstream", so only the real /Length finds its end.
var indirectLengthData = []byte("line one\nthis line says endstream\nendobj\n7 0 obj\n<< /Type /EmbeddedFile >>\nlast line")

// indirectLengthPDF has an unfiltered embedded file whose /Length is an indirect object
// written after the stream.
func indirectLengthPDF() []byte {
	w := newPDF()
	w.obj(1, catalogWith("(data.txt)", "4 0 R"))
	w.pageTree()
	w.obj(4, "<< /Type /Filespec /F (data.txt) /EF << /F 5 0 R >> >>")
	w.stream(5, "/Type /EmbeddedFile /Length 6 0 R", indirectLengthData)
	w.obj(6, fmt.Sprint(len(indirectLengthData)))
	return w.xrefTable("")
}

// objStmPDF keeps the catalog, the file specification (a UTF-16BE name) and the
// stream's indirect /Length in a compressed object stream.
func objStmPDF() []byte {
	w := newPDF()
	w.stream(5, "/Type/EmbeddedFile/Subtype/application#2Fxml/Length 6 0 R", indirectLengthData)
	w.obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	w.obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>")
	w.objStm(7, map[int]string{
		1: catalogWith("(x)", "4 0 R"),
		4: "<</Type/Filespec/F(Rechnung.xml)/UF<FEFF0052006500630068006E0075006E0067002D00DC20AC002E0078006D006C>/EF<</F 5 0 R>>>>",
		6: fmt.Sprint(len(indirectLengthData)),
	})
	return w.xrefStream(8, "")
}

// noAttachmentPDF is a plain one-page document.
func noAttachmentPDF() []byte {
	w := newPDF()
	w.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	w.pageTree()
	return w.xrefTable("")
}

// spellingPDF writes the objects with comments, no spaces between tokens and a literal
// name with escapes and a PDFDocEncoding byte.
func spellingPDF() []byte {
	w := newPDF()
	w.obj(1, catalogWith("(k)", "4 0 R"))
	w.pageTree()
	w.obj(4, "<</Type/Filespec % a comment\n/F(a\\(b\\)\\\\c\\040d\\200\\351.xml)/EF<</F 5 0 R>>>>")
	data := zlibBytes(invoiceXML)
	w.stream(5, fmt.Sprintf("/Type%% comment\r\n/EmbeddedFile/Subtype/text#2fxml/Filter[/FlateDecode]/DecodeParms null/Length %d", len(data)), data)
	return w.xrefTable("")
}

// hexNamePDF gives the name as a hexadecimal string in /F only, and the file
// specification directly in the name tree.
func hexNamePDF() []byte {
	w := newPDF()
	w.obj(1, catalogWith("(k)", "<< /Type /Filespec /F <7A75676665 72642D696E766F6963652E786D6C> /EF << /F 5 0 R >> >>"))
	w.pageTree()
	data := zlibBytes(invoiceXML)
	w.stream(5, fmt.Sprintf("/Type /EmbeddedFile /Subtype /text#2Fxml /Filter /FlateDecode /Length %d", len(data)), data)
	return w.xrefTable("")
}

// incrementalPDF is simplePDF with an incremental update that redefines the stream.
func incrementalPDF() []byte {
	base := simplePDF()
	prev := bytes.LastIndex(base, []byte("startxref\n"))
	var prevOff int
	fmt.Sscanf(string(base[prev+len("startxref\n"):]), "%d", &prevOff)
	w := &pdfWriter{offsets: map[int]int{}, inStm: map[int][2]int{}}
	w.buf.Write(base)
	newData := []byte("<new/>")
	w.stream(5, fmt.Sprintf("/Type /EmbeddedFile /Subtype /text#2Fxml /Length %d", len(newData)), newData)
	start := w.buf.Len()
	fmt.Fprintf(&w.buf, "xref\n0 1\n0000000000 65535 f\r\n5 1\n%010d 00000 n\r\n", w.offsets[5])
	fmt.Fprintf(&w.buf, "trailer\n<< /Size 6 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n", prevOff, start)
	return w.buf.Bytes()
}

// nestedInner is an uncompressed PDF with its own embedded file, numbered like the outer
// document's objects.
func nestedInner() []byte {
	w := newPDF()
	w.obj(1, catalogWith("(evil.xml)", "4 0 R"))
	w.pageTree()
	w.obj(4, "<< /Type /Filespec /F (evil.xml) /EF << /F 9 0 R >> >>")
	w.stream(9, "/Type /EmbeddedFile /Length 5", []byte("<x/>\n"))
	return w.xrefTable("/Encrypt 4 0 R")
}

// nestedPDF embeds nestedInner unfiltered: nothing inside it may count as the outer
// document's.
func nestedPDF() []byte {
	inner := nestedInner()
	w := newPDF()
	w.obj(1, catalogWith("(inner.pdf)", "4 0 R"))
	w.pageTree()
	w.obj(4, "<< /Type /Filespec /F (inner.pdf) /EF << /F 5 0 R >> >>")
	w.stream(5, fmt.Sprintf("/Type /EmbeddedFile /Subtype /application#2Fpdf /Length %d", len(inner)), inner)
	return w.xrefTable("")
}

// untypedPDF's embedded stream has no /Type; only the file specification points to it.
func untypedPDF() []byte {
	w := newPDF()
	w.obj(1, catalogWith("(factur-x.xml)", "4 0 R"))
	w.pageTree()
	w.obj(4, "<< /Type /Filespec /F (factur-x.xml) /EF << /F 5 0 R >> >>")
	data := zlibBytes(invoiceXML)
	w.stream(5, fmt.Sprintf("/Filter /FlateDecode /Length %d", len(data)), data)
	return w.xrefTable("")
}

// orphanPDF has an embedded file stream that no file specification names.
func orphanPDF() []byte {
	w := newPDF()
	w.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	w.pageTree()
	data := zlibBytes(invoiceXML)
	w.stream(5, fmt.Sprintf("/Type /EmbeddedFile /Subtype /text#2Fxml /Filter /FlateDecode /Length %d", len(data)), data)
	return w.xrefTable("")
}

// wrongLengthPDF's direct /Length is too short; the data ends at "endstream".
func wrongLengthPDF() []byte {
	w := newPDF()
	w.obj(1, catalogWith("(factur-x.xml)", "4 0 R"))
	w.pageTree()
	w.obj(4, "<< /Type /Filespec /F (factur-x.xml) /EF << /F 5 0 R >> >>")
	data := zlibBytes(invoiceXML)
	w.stream(5, fmt.Sprintf("/Type /EmbeddedFile /Subtype /text#2Fxml /Filter /FlateDecode /Length %d", len(data)-7), data)
	return w.xrefTable("")
}

// embedRaw adds an embedded file stream with the given dictionary entries (besides
// /Type and /Length) and a file specification named name.
func (w *pdfWriter) embedRaw(fs, num int, name, dict string, data []byte) {
	w.obj(fs, fmt.Sprintf("<< /Type /Filespec /F (%s) /EF << /F %d 0 R >> >>", name, num))
	w.stream(num, fmt.Sprintf("/Type /EmbeddedFile %s /Length %d", dict, len(data)), data)
}

// mixedFiltersPDF has a DCT-encoded attachment and a flate one.
func mixedFiltersPDF() []byte {
	w := newPDF()
	w.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	w.pageTree()
	w.embedRaw(4, 5, "photo.jpg", "/Filter /DCTDecode", []byte("\xff\xd8\xff\xe0 not really"))
	w.embedRaw(6, 7, "factur-x.xml", "/Subtype /text#2Fxml /Filter /FlateDecode", zlibBytes(invoiceXML))
	return w.xrefTable("")
}

// dctPDF has only a DCT-encoded attachment.
func dctPDF() []byte {
	w := newPDF()
	w.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	w.pageTree()
	w.embedRaw(4, 5, "photo.jpg", "/Filter /DCTDecode", []byte("\xff\xd8\xff\xe0 not really"))
	return w.xrefTable("")
}

// predictorPDF's attachment uses a PNG predictor.
func predictorPDF() []byte {
	w := newPDF()
	w.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	w.pageTree()
	w.embedRaw(4, 5, "factur-x.xml", "/Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 4 >>", zlibBytes(invoiceXML))
	return w.xrefTable("")
}

// manyFilesPDF has four attachments.
func manyFilesPDF() []byte {
	w := newPDF()
	w.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	w.pageTree()
	for i := range 4 {
		w.embedRaw(10+2*i, 11+2*i, fmt.Sprintf("f%d.xml", i), "", invoiceXML)
	}
	return w.xrefTable("")
}

// encryptedPDF has /Encrypt in its trailer.
func encryptedPDF() []byte {
	w := newPDF()
	w.obj(1, catalogWith("(factur-x.xml)", "4 0 R"))
	w.pageTree()
	w.embedRaw(4, 5, "factur-x.xml", "", invoiceXML)
	w.obj(9, "<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>")
	return w.xrefTable("/Encrypt 9 0 R /ID [<01><01>]")
}

// encryptedXRefStmPDF has /Encrypt in its cross-reference stream.
func encryptedXRefStmPDF() []byte {
	w := newPDF()
	w.obj(1, catalogWith("(factur-x.xml)", "4 0 R"))
	w.pageTree()
	w.embedRaw(4, 5, "factur-x.xml", "", invoiceXML)
	w.obj(9, "<< /Filter /Standard /V 2 /R 3 /O <00> /U <00> /P -4 >>")
	return w.xrefStream(10, "/Encrypt 9 0 R")
}

// truncatedPDF is simplePDF cut inside the embedded file's data.
func truncatedPDF() []byte {
	pdf := simplePDF()
	i := bytes.LastIndex(pdf, []byte(">>\nstream\n")) + len(">>\n")
	return pdf[:i+len("stream\n")+20]
}

// truncatedFlatePDF's stream is complete but its compressed data stops half-way.
func truncatedFlatePDF() []byte {
	w := newPDF()
	w.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	w.pageTree()
	data := zlibBytes(bytes.Repeat(invoiceXML, 20))
	w.embedRaw(4, 5, "factur-x.xml", "/Filter /FlateDecode", data[:len(data)/2])
	return w.xrefTable("")
}

// damagedFlatePDF's compressed data is not deflate after the zlib header.
func damagedFlatePDF() []byte {
	w := newPDF()
	w.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	w.pageTree()
	w.embedRaw(4, 5, "factur-x.xml", "/Filter /FlateDecode", []byte("\x78\x9c\xff\xff\xff\xff garbage"))
	return w.xrefTable("")
}

// garbage is random-looking bytes that are not a PDF.
func garbage() []byte {
	b := make([]byte, 4096)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// bombChunks is how many MiB of zeros bombPDF's attachment decodes to (1 GiB).
const bombChunks = 1024

// bombPDF embeds a deflate stream of 1 GiB of zeros (about 1 MB compressed).
func bombPDF() []byte {
	w := newPDF()
	w.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	w.pageTree()
	data := zeroBomb(bombChunks)
	w.embedRaw(4, 5, "bomb.xml", "/Filter /FlateDecode", data)
	return w.xrefTable("")
}

// zeroBomb returns zlib data that decodes to chunks MiB of zeros. Compressing a GiB
// outright takes seconds (a minute under the race detector); but once the compressor's
// window is full of zeros, each flushed MiB compresses to the same bytes, so the
// compressor's own output for one MiB is repeated.
func zeroBomb(chunks int) []byte {
	zeros := make([]byte, 1<<20)
	var seg bytes.Buffer
	fw, _ := flate.NewWriter(&seg, flate.BestCompression)
	next := func() []byte {
		seg.Reset()
		fw.Write(zeros)
		fw.Flush()
		return bytes.Clone(seg.Bytes())
	}
	first, second, third := next(), next(), next()
	if !bytes.Equal(second, third) {
		panic("zeroBomb: flushed MiB of zeros do not compress alike")
	}
	out := bytes.NewBuffer([]byte{0x78, 0xda})
	out.Write(first)
	for range chunks - 1 {
		out.Write(second)
	}
	seg.Reset()
	fw.Close() // the final (empty) block
	out.Write(seg.Bytes())
	n := uint32(chunks) << 20
	adler := (n%65521)<<16 | 1 // Adler-32 of n zero bytes
	out.Write([]byte{byte(adler >> 24), byte(adler >> 16), byte(adler >> 8), byte(adler)})
	return out.Bytes()
}

// TestZeroBomb checks the bomb's construction on a small scale: it inflates to exactly
// the zeros it claims, checksum included.
func TestZeroBomb(t *testing.T) {
	data := zeroBomb(5)
	files, err := Files(append(append([]byte("%PDF-1.7\n1 0 obj\n<< /Type /EmbeddedFile /Filter /FlateDecode /Length "),
		fmt.Sprintf("%d >>\nstream\n", len(data))...), append(data, "\nendstream\nendobj\n"...)...), Limits{MaxFileBytes: 6 << 20})
	if err != nil || len(files) != 1 {
		t.Fatalf("Files: %v %v", files, err)
	}
	if len(files[0].Data) != 5<<20 || bytes.ContainsFunc(files[0].Data, func(r rune) bool { return r != 0 }) {
		t.Fatalf("decoded %d bytes, want %d zeros", len(files[0].Data), 5<<20)
	}
	r, err := zlibReader(data)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := io.Copy(io.Discard, r); err != nil || n != 5<<20 {
		t.Fatalf("compress/zlib: %d bytes, %v", n, err)
	}
}

// TestBombStopsEarly checks that the 1 GiB bomb is refused after inflating about the
// limit, not the whole of it.
func TestBombStopsEarly(t *testing.T) {
	pdf := bombPDF()
	if len(pdf) > 2<<20 {
		t.Fatalf("bomb is %d bytes, want about 1 MB", len(pdf))
	}
	start := time.Now()
	_, err := Files(pdf, Limits{MaxFileBytes: 1 << 20})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v: the bomb was inflated far past the limit", d)
	}
}
