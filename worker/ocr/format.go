package ocr

import (
	"bytes"
	"fmt"
)

// Formats returned by DetectFormat and stored in layout.Document.Format.
const (
	FormatPDF  = "pdf"
	FormatPNG  = "png"
	FormatJPEG = "jpeg"
	FormatTIFF = "tiff"
	FormatBMP  = "bmp"
	// FormatXML is a structured (e-invoice) document: the page reader does not read it,
	// worker.Process reads it as an EN 16931 invoice.
	FormatXML = "xml"
)

// archiveMagics start archive and compressed files (ZIP, gzip, bzip2, xz, zstd, 7z, RAR).
var archiveMagics = [][]byte{
	[]byte("PK\x03\x04"), []byte("PK\x05\x06"), []byte("PK\x07\x08"),
	{0x1f, 0x8b}, []byte("BZh"), {0xfd, '7', 'z', 'X', 'Z', 0x00}, {0x28, 0xb5, 0x2f, 0xfd},
	{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}, []byte("Rar!\x1a\x07"),
}

// DetectFormat names the format of a file from its first bytes (16 are enough): "pdf",
// "png", "jpeg", "tiff", "bmp", or "xml" for text that starts as XML does (a byte-order
// mark and white space may come first). A declared MIME type or file extension is never
// consulted. Anything else, including an empty head, is an error wrapping ErrEmpty or
// ErrUnsupported.
func DetectFormat(head []byte) (string, error) {
	if len(head) == 0 {
		return "", fmt.Errorf("detect format: %w: no bytes", ErrEmpty)
	}
	// PDF readers accept the header anywhere in the first 1024 bytes (some generators
	// prepend garbage); so do we.
	probe := head
	if len(probe) > 1024 {
		probe = probe[:1024]
	}
	// An archive storing a PDF has "%PDF-" in its first bytes; it is still an archive (the
	// upload store refuses the same, internal/uploads.Detect).
	for _, m := range archiveMagics {
		if bytes.HasPrefix(head, m) {
			return "", fmt.Errorf("detect format: %w: an archive (first bytes %q), not a document", ErrUnsupported, head[:min(len(head), 8)])
		}
	}
	switch {
	case bytes.Contains(probe, []byte("%PDF-")):
		return FormatPDF, nil
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return FormatPNG, nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xD8, 0xFF}):
		return FormatJPEG, nil
	case bytes.HasPrefix(head, []byte("II*\x00")), bytes.HasPrefix(head, []byte("MM\x00*")):
		return FormatTIFF, nil
	case bytes.HasPrefix(head, []byte("BM")) && len(head) >= 14:
		return FormatBMP, nil
	case LooksLikeXML(head):
		return FormatXML, nil
	}
	n := len(head)
	if n > 8 {
		n = 8
	}
	return "", fmt.Errorf("detect format: %w: first bytes %q are not PDF, PNG, JPEG, TIFF, BMP or XML", ErrUnsupported, head[:n])
}

// LooksLikeXML tells whether head starts as an XML document: an optional UTF-8
// byte-order mark and white space, then "<?xml", "<!--" or an element's "<" and a name
// character. Whether it is an e-invoice is for the e-invoice reader to say.
func LooksLikeXML(head []byte) bool {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	head = bytes.TrimLeft(head, " \t\r\n")
	if len(head) < 2 || head[0] != '<' {
		return false
	}
	c := head[1]
	return c == '?' || c == '!' || c == '_' || c == ':' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}
