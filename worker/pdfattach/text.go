package pdfattach

import (
	"unicode/utf16"
	"unicode/utf8"
)

// textString converts a PDF text string to UTF-8: UTF-16BE (or, as some writers do,
// UTF-16LE) after a byte order mark, UTF-8 after its mark, else PDFDocEncoding.
func textString(s []byte) string {
	switch {
	case len(s) >= 2 && s[0] == 0xFE && s[1] == 0xFF:
		return utf16String(s[2:], true)
	case len(s) >= 2 && s[0] == 0xFF && s[1] == 0xFE:
		return utf16String(s[2:], false)
	case len(s) >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF:
		return string(s[3:])
	}
	out := make([]byte, 0, len(s))
	for _, c := range s {
		out = utf8.AppendRune(out, pdfDocRune(c))
	}
	return string(out)
}

// utf16String decodes UTF-16 code units; an odd final byte is dropped.
func utf16String(s []byte, bigEndian bool) string {
	units := make([]uint16, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		if bigEndian {
			units = append(units, uint16(s[i])<<8|uint16(s[i+1]))
		} else {
			units = append(units, uint16(s[i+1])<<8|uint16(s[i]))
		}
	}
	return string(utf16.Decode(units))
}

// pdfDocHigh maps PDFDocEncoding 0x80–0xA0 to Unicode (0 where the code is undefined).
var pdfDocHigh = [...]rune{
	0x2022, 0x2020, 0x2021, 0x2026, 0x2014, 0x2013, 0x0192, 0x2044,
	0x2039, 0x203A, 0x2212, 0x2030, 0x201E, 0x201C, 0x201D, 0x2018,
	0x2019, 0x201A, 0x2122, 0xFB01, 0xFB02, 0x0141, 0x0152, 0x0160,
	0x0178, 0x017D, 0x0131, 0x0142, 0x0153, 0x0161, 0x017E, 0,
	0x20AC,
}

// pdfDocLow maps PDFDocEncoding 0x18–0x1F (spacing accents) to Unicode.
var pdfDocLow = [...]rune{0x02D8, 0x02C7, 0x02C6, 0x02D9, 0x02DD, 0x02DB, 0x02DA, 0x02DC}

// pdfDocRune maps one PDFDocEncoding byte to Unicode; undefined codes become U+FFFD.
func pdfDocRune(c byte) rune {
	switch {
	case c >= 0x18 && c <= 0x1F:
		return pdfDocLow[c-0x18]
	case c >= 0x80 && c <= 0xA0:
		if r := pdfDocHigh[c-0x80]; r != 0 {
			return r
		}
		return utf8.RuneError
	case c == 0x7F || c == 0xAD:
		return utf8.RuneError
	}
	return rune(c)
}
