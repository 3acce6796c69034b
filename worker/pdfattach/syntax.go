package pdfattach

import (
	"bytes"
	"errors"
)

// This file reads PDF object syntax in place: every function takes the buffer and a
// position and returns a position, so walking a document allocates nothing until a
// value (a name, a string) is actually wanted.

// errSyntax marks bytes that are not a PDF object where one was expected.
var errSyntax = errors.New("malformed PDF object")

// maxDepth bounds the nesting of dictionaries and arrays, so hostile input cannot
// exhaust the stack.
const maxDepth = 64

// Character classes of PDF syntax, looked up rather than compared: the scanner asks for
// every byte of every object.
const (
	classRegular = iota
	classWhite
	classDelim
)

// charClass maps each byte to its class.
var charClass = func() (t [256]uint8) {
	for _, c := range []byte(" \n\r\t\f\x00") {
		t[c] = classWhite
	}
	for _, c := range []byte("()<>[]{}/%") {
		t[c] = classDelim
	}
	return t
}()

// isWhite reports whether c is PDF white space.
func isWhite(c byte) bool { return charClass[c] == classWhite }

// isRegular reports whether c belongs to a token (neither white space nor delimiter).
func isRegular(c byte) bool { return charClass[c] == classRegular }

// skipWS skips white space and comments.
func skipWS(b []byte, p int) int {
	for p < len(b) {
		c := b[p]
		if isWhite(c) {
			p++
			continue
		}
		if c == '%' {
			for p < len(b) && b[p] != '\n' && b[p] != '\r' {
				p++
			}
			continue
		}
		break
	}
	return p
}

// tokenEnd returns the end of the regular token starting at p.
func tokenEnd(b []byte, p int) int {
	for p < len(b) && isRegular(b[p]) {
		p++
	}
	return p
}

// parseUint parses b as a non-negative decimal integer of at most 15 digits.
func parseUint(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// readInt reads an integer (optionally signed) at p.
func readInt(b []byte, p int) (int64, bool) {
	p = skipWS(b, p)
	e := tokenEnd(b, p)
	tok := b[p:e]
	neg := false
	if len(tok) > 0 && (tok[0] == '+' || tok[0] == '-') {
		neg = tok[0] == '-'
		tok = tok[1:]
	}
	n, ok := parseUint(tok)
	if neg {
		n = -n
	}
	return n, ok
}

// readRef reads an indirect reference "N G R" at p and returns the position after it.
func readRef(b []byte, p int) (num, gen int, end int, ok bool) {
	p = skipWS(b, p)
	e1 := tokenEnd(b, p)
	n, ok1 := parseUint(b[p:e1])
	q := skipWS(b, e1)
	e2 := tokenEnd(b, q)
	g, ok2 := parseUint(b[q:e2])
	r := skipWS(b, e2)
	if !ok1 || !ok2 || e1 == p || q == e1 || r >= len(b) || b[r] != 'R' ||
		(r+1 < len(b) && isRegular(b[r+1])) || n > 1<<31 || g > 65535 {
		return 0, 0, 0, false
	}
	return int(n), int(g), r + 1, true
}

// skipValue returns the end of the object that starts at (or after white space at) p.
func skipValue(b []byte, p, depth int) (int, error) {
	if depth > maxDepth {
		return 0, errSyntax
	}
	p = skipWS(b, p)
	if p >= len(b) {
		return 0, errSyntax
	}
	c := b[p]
	switch {
	case c == '<' && p+1 < len(b) && b[p+1] == '<':
		p += 2
		for {
			p = skipWS(b, p)
			if p >= len(b) {
				return 0, errSyntax
			}
			if b[p] == '>' {
				if p+1 < len(b) && b[p+1] == '>' {
					return p + 2, nil
				}
				return 0, errSyntax
			}
			if b[p] != '/' {
				return 0, errSyntax
			}
			p = tokenEnd(b, p+1)
			var err error
			if p, err = skipValue(b, p, depth+1); err != nil {
				return 0, err
			}
		}
	case c == '[':
		p++
		for {
			p = skipWS(b, p)
			if p >= len(b) {
				return 0, errSyntax
			}
			if b[p] == ']' {
				return p + 1, nil
			}
			var err error
			if p, err = skipValue(b, p, depth+1); err != nil {
				return 0, err
			}
		}
	case c == '(':
		return skipLiteral(b, p)
	case c == '<':
		i := bytes.IndexByte(b[p:], '>')
		if i < 0 {
			return 0, errSyntax
		}
		return p + i + 1, nil
	case c == '/':
		return tokenEnd(b, p+1), nil
	case isRegular(c):
		if _, _, end, ok := readRef(b, p); ok {
			return end, nil
		}
		return tokenEnd(b, p), nil
	}
	return 0, errSyntax
}

// skipLiteral returns the end of the literal string starting with '(' at p.
func skipLiteral(b []byte, p int) (int, error) {
	depth := 0
	for i := p; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		}
	}
	return 0, errSyntax
}

// nameIs reports whether the name token raw (without '/') equals key, decoding #xx escapes.
func nameIs(raw []byte, key string) bool {
	if bytes.IndexByte(raw, '#') < 0 {
		return string(raw) == key
	}
	return string(decodeName(raw)) == key
}

// decodeName resolves the #xx escapes of a name token (without '/').
func decodeName(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] == '#' && i+2 < len(raw) {
			if h, ok := unhex(raw[i+1]); ok {
				if l, ok := unhex(raw[i+2]); ok {
					out = append(out, h<<4|l)
					i += 2
					continue
				}
			}
		}
		out = append(out, raw[i])
	}
	return out
}

// unhex returns the value of the hexadecimal digit c.
func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// dictLookup finds key in the dictionary starting at p ("<<") and returns the start of
// its value. A malformed dictionary yields the keys read before the damage.
func dictLookup(b []byte, p int, key string) (int, bool) {
	p = skipWS(b, p)
	if p+1 >= len(b) || b[p] != '<' || b[p+1] != '<' {
		return 0, false
	}
	p += 2
	for {
		p = skipWS(b, p)
		if p >= len(b) || b[p] != '/' {
			return 0, false
		}
		e := tokenEnd(b, p+1)
		v := skipWS(b, e)
		if nameIs(b[p+1:e], key) {
			return v, true
		}
		var err error
		if p, err = skipValue(b, v, 1); err != nil {
			return 0, false
		}
	}
}

// isDict reports whether a dictionary starts at p.
func isDict(b []byte, p int) bool {
	p = skipWS(b, p)
	return p+1 < len(b) && b[p] == '<' && b[p+1] == '<'
}

// readName reads the name at p, decoded, or reports false.
func readName(b []byte, p int) (string, bool) {
	p = skipWS(b, p)
	if p >= len(b) || b[p] != '/' {
		return "", false
	}
	return string(decodeName(b[p+1 : tokenEnd(b, p+1)])), true
}

// isNull reports whether the value at p is the null object.
func isNull(b []byte, p int) bool {
	p = skipWS(b, p)
	return string(b[p:tokenEnd(b, p)]) == "null"
}

// readString reads the literal or hexadecimal string at p and returns its bytes.
func readString(b []byte, p int) ([]byte, bool) {
	p = skipWS(b, p)
	if p >= len(b) {
		return nil, false
	}
	switch {
	case b[p] == '(':
		end, err := skipLiteral(b, p)
		if err != nil {
			return nil, false
		}
		return unescapeLiteral(b[p+1 : end-1]), true
	case b[p] == '<' && (p+1 >= len(b) || b[p+1] != '<'):
		i := bytes.IndexByte(b[p:], '>')
		if i < 0 {
			return nil, false
		}
		return decodeHex(b[p+1 : p+i])
	}
	return nil, false
}

// unescapeLiteral resolves the escapes and end-of-line rules of a literal string body.
func unescapeLiteral(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\r':
			// An unescaped end of line, whatever its form, stands for one line feed.
			out = append(out, '\n')
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
		case c != '\\':
			out = append(out, c)
		case i+1 < len(s):
			i++
			switch e := s[i]; e {
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case '\r':
				// A backslash before an end of line continues the string.
				if i+1 < len(s) && s[i+1] == '\n' {
					i++
				}
			case '\n':
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; k++ {
						i++
						v = v*8 + int(s[i]-'0')
					}
					out = append(out, byte(v))
				} else {
					out = append(out, e)
				}
			}
		}
	}
	return out
}

// decodeHex decodes the body of a hexadecimal string; white space is ignored and an odd
// final digit counts as if followed by 0.
func decodeHex(s []byte) ([]byte, bool) {
	out := make([]byte, 0, len(s)/2)
	var hi byte
	half := false
	for _, c := range s {
		if isWhite(c) {
			continue
		}
		v, ok := unhex(c)
		if !ok {
			return nil, false
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	return out, true
}

// walkDicts calls fn with the position of every dictionary in the value at p, the value
// itself included, outermost first.
func walkDicts(b []byte, p, depth int, fn func(dict int)) {
	if depth > maxDepth {
		return
	}
	p = skipWS(b, p)
	if p >= len(b) {
		return
	}
	switch {
	case b[p] == '<' && p+1 < len(b) && b[p+1] == '<':
		fn(p)
		q := p + 2
		for {
			q = skipWS(b, q)
			if q >= len(b) || b[q] != '/' {
				return
			}
			q = tokenEnd(b, q+1)
			walkDicts(b, q, depth+1, fn)
			var err error
			if q, err = skipValue(b, q, depth+1); err != nil {
				return
			}
		}
	case b[p] == '[':
		q := p + 1
		for {
			q = skipWS(b, q)
			if q >= len(b) || b[q] == ']' {
				return
			}
			walkDicts(b, q, depth+1, fn)
			var err error
			if q, err = skipValue(b, q, depth+1); err != nil {
				return
			}
		}
	}
}
