package einvoice

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Sentinel errors of Sniff and Parse. They are wrapped with detail; test with errors.Is.
var (
	// ErrNotEInvoice: the input is XML, but its root element is not a CII or UBL invoice
	// in the right namespace.
	ErrNotEInvoice = errors.New("not an EN 16931 e-invoice (CII or UBL)")
	// ErrDTD: the input declares a document type (<!DOCTYPE ...> or any other <!...>
	// declaration). E-invoices never need one, and refusing it rules out entity expansion
	// and external entities.
	ErrDTD = errors.New("XML document type declarations are not accepted")
	// ErrTooLarge: the input exceeds Limits (bytes, nesting depth or element count).
	ErrTooLarge = errors.New("XML document too large")
	// ErrMalformed: the input is not well-formed XML, or a value (amount, date) cannot
	// be read.
	ErrMalformed = errors.New("malformed e-invoice XML")
)

// Syntax is the XML syntax of an e-invoice.
type Syntax string

// Syntaxes an e-invoice is written in.
const (
	SyntaxCII Syntax = "cii" // UN/CEFACT Cross Industry Invoice (and ZUGFeRD 1.0 CrossIndustryDocument)
	SyntaxUBL Syntax = "ubl" // OASIS UBL 2.x Invoice or CreditNote
)

// Namespaces of the supported root elements.
const (
	nsCII       = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
	nsZUGFeRD1  = "urn:ferd:CrossIndustryDocument:invoice:1p0"
	nsZUGFeRDRC = "urn:un:unece:uncefact:data:standard:CBFBUY:5" // ZUGFeRD 1.0 release candidate (2013)
	nsUBLInv    = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
	nsUBLCredit = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
)

// rootSyntax tells the syntax of a root element, or "" when it is not an e-invoice root.
func rootSyntax(name xml.Name) Syntax {
	switch {
	case name.Space == nsCII && name.Local == "CrossIndustryInvoice",
		name.Space == nsZUGFeRD1 && name.Local == "CrossIndustryDocument",
		name.Space == nsZUGFeRDRC && name.Local == "Invoice":
		return SyntaxCII
	case name.Space == nsUBLInv && name.Local == "Invoice",
		name.Space == nsUBLCredit && name.Local == "CreditNote":
		return SyntaxUBL
	}
	return ""
}

// Limits cap what Parse reads. A zero field takes its default.
type Limits struct {
	// MaxBytes is the largest input accepted; default 20 MiB.
	MaxBytes int64
	// MaxDepth is the deepest element nesting accepted (the root is depth 1); default 64.
	MaxDepth int
	// MaxElements is the most elements accepted; default 1,000,000.
	MaxElements int
}

// Default limits.
const (
	DefaultMaxBytes    = 20 << 20
	DefaultMaxDepth    = 64
	DefaultMaxElements = 1_000_000
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxElements <= 0 {
		l.MaxElements = DefaultMaxElements
	}
	return l
}

// node is one element of the decoded document. Names are compared by local name below
// the root: the root's namespace identifies the syntax, and the child vocabularies differ
// in namespace versions (ZUGFeRD 1.0 uses the :12 and :15 modules of CII D16B's :100).
type node struct {
	local string
	attrs []xml.Attr
	text  string
	kids  []*node
}

// newDecoder returns a strict decoder without an entity map: only the five predefined
// XML entities and character references are accepted.
func newDecoder(data []byte) *xml.Decoder {
	dec := xml.NewDecoder(bytes.NewReader(trimBOM(data)))
	dec.Strict = true
	dec.CharsetReader = charsetReader
	return dec
}

// trimBOM drops a UTF-8 byte order mark, which some PDF attachments carry.
func trimBOM(data []byte) []byte {
	return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
}

// charsetReader accepts the Latin-1 declarations some older ZUGFeRD files carry, besides
// UTF-8 (which encoding/xml reads itself).
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		b, err := io.ReadAll(in)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b)+len(b)/8)
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("encoding %q is not supported (use UTF-8)", label)
}

// malformed wraps a decoder error as ErrMalformed.
func malformed(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: the document ends before its root element is closed", ErrMalformed)
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

// readRoot reads the prolog up to and including the root element's start tag. Any
// declaration (<!DOCTYPE, <!ENTITY, ...) is ErrDTD; text before the root or no root at
// all is ErrMalformed.
func readRoot(dec *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			if err == io.EOF {
				return xml.StartElement{}, fmt.Errorf("%w: no root element", ErrMalformed)
			}
			return xml.StartElement{}, malformed(err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return xml.StartElement{}, fmt.Errorf("%w: found <!%s> before the root element", ErrDTD, clip(string(t), 40))
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return xml.StartElement{}, fmt.Errorf("%w: text %q before the root element", ErrMalformed, clip(string(bytes.TrimSpace(t)), 40))
			}
		case xml.StartElement:
			return t, nil
		case xml.EndElement:
			return xml.StartElement{}, fmt.Errorf("%w: end tag </%s> before any start tag", ErrMalformed, t.Name.Local)
		}
	}
}

// clip shortens s for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// Sniff reads only the prolog and the root element of data and tells whether it is a CII
// (CrossIndustryInvoice; ZUGFeRD 1.0 CrossIndustryDocument) or a UBL 2.x Invoice or
// CreditNote. Errors: ErrDTD for a document type declaration, ErrMalformed when data is
// not XML, ErrNotEInvoice for any other root element or namespace.
func Sniff(data []byte) (Syntax, error) {
	root, err := readRoot(newDecoder(data))
	if err != nil {
		return "", err
	}
	return syntaxOf(root.Name)
}

// syntaxOf is rootSyntax with the error for a foreign root.
func syntaxOf(name xml.Name) (Syntax, error) {
	if s := rootSyntax(name); s != "" {
		return s, nil
	}
	ns := name.Space
	if ns == "" {
		ns = "no namespace"
	}
	return "", fmt.Errorf("%w: root element is %s in %s", ErrNotEInvoice, name.Local, ns)
}

// decode checks the prolog and the root, then builds the element tree within lim.
func decode(data []byte, lim Limits) (*node, Syntax, error) {
	if int64(len(data)) > lim.MaxBytes {
		return nil, "", fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), lim.MaxBytes)
	}
	dec := newDecoder(data)
	start, err := readRoot(dec)
	if err != nil {
		return nil, "", err
	}
	syn, err := syntaxOf(start.Name)
	if err != nil {
		return nil, "", err
	}
	root := &node{local: start.Name.Local, attrs: start.Attr}
	stack := []*node{root}
	texts := make([][]byte, 1, 16)
	elements := 1
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) > 0 {
				return nil, "", malformed(io.ErrUnexpectedEOF)
			}
			return root, syn, nil
		}
		if err != nil {
			return nil, "", malformed(err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, "", fmt.Errorf("%w: found <!%s> inside the document", ErrDTD, clip(string(t), 40))
		case xml.StartElement:
			if len(stack) == 0 {
				return nil, "", fmt.Errorf("%w: a second root element <%s>", ErrMalformed, t.Name.Local)
			}
			elements++
			if elements > lim.MaxElements {
				return nil, "", fmt.Errorf("%w: more than %d elements", ErrTooLarge, lim.MaxElements)
			}
			if len(stack) >= lim.MaxDepth {
				return nil, "", fmt.Errorf("%w: elements nested deeper than %d", ErrTooLarge, lim.MaxDepth)
			}
			n := &node{local: t.Name.Local, attrs: t.Attr}
			parent := stack[len(stack)-1]
			parent.kids = append(parent.kids, n)
			stack = append(stack, n)
			texts = append(texts, nil)
		case xml.EndElement:
			// The strict decoder has already matched the end tag to its start tag.
			n := stack[len(stack)-1]
			n.text = string(texts[len(texts)-1])
			stack = stack[:len(stack)-1]
			texts = texts[:len(texts)-1]
		case xml.CharData:
			if len(stack) > 0 {
				texts[len(texts)-1] = append(texts[len(texts)-1], t...)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, "", fmt.Errorf("%w: text after the root element", ErrMalformed)
			}
		}
	}
}

// matches tells whether local is one of the alternatives of a path step ("A|B").
func matches(step, local string) bool {
	for step != "" {
		alt, rest, _ := strings.Cut(step, "|")
		if alt == local {
			return true
		}
		step = rest
	}
	return false
}

// child follows a path of local names from n; each step may list alternatives ("A|B").
// It returns the first match of each step, or nil.
func (n *node) child(path ...string) *node {
	for _, step := range path {
		if n == nil {
			return nil
		}
		var next *node
		for _, k := range n.kids {
			if matches(step, k.local) {
				next = k
				break
			}
		}
		n = next
	}
	return n
}

// all returns every element matching the last step of path below the first match of the
// steps before it.
func (n *node) all(path ...string) []*node {
	if len(path) == 0 {
		return nil
	}
	parent := n.child(path[:len(path)-1]...)
	if parent == nil {
		return nil
	}
	var out []*node
	for _, k := range parent.kids {
		if matches(path[len(path)-1], k.local) {
			out = append(out, k)
		}
	}
	return out
}

// str is the trimmed text of the element at path, "" when absent.
func (n *node) str(path ...string) string {
	return n.child(path...).value()
}

// value is the trimmed text of n, "" when n is nil.
func (n *node) value() string {
	if n == nil {
		return ""
	}
	return strings.TrimSpace(n.text)
}

// attr is the trimmed value of the attribute with the local name, "" when absent.
func (n *node) attr(local string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.attrs {
		if a.Name.Local == local {
			return strings.TrimSpace(a.Value)
		}
	}
	return ""
}
