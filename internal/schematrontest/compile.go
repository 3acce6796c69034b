// Package schematrontest validates XML documents against an ISO Schematron schema in
// tests. It compiles the schema (queryBinding xslt2) to an XSLT 2.0 stylesheet in Go
// and runs the stylesheet with Saxon-HE on Java; it is test support only and skips the
// test when Java, Saxon-HE or the schema is missing.
//
// The compiler covers the ISO semantics that EN 16931 Schematron files use: sch:ns
// namespaces, sch:let at schema, pattern and rule level, one processing mode per
// pattern in which a node is handled by the first rule (in document order) whose
// context matches it, sch:assert (fires when its test is false) and sch:report (fires
// when its test is true) with @id and @flag, and sch:value-of and sch:name in
// messages. Anything else (sch:include, abstract rules and sch:extends, phases,
// diagnostics) is refused with an error rather than silently ignored.
package schematrontest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// SchematronNS is the namespace of ISO Schematron.
const SchematronNS = "http://purl.oclc.org/dsdl/schematron"

// resultNS is the namespace of the compiled stylesheet's report and of its helper
// functions.
const resultNS = "urn:ocrinvoice:schematrontest"

// node is one element of a parsed schema: its name, attributes and children, where
// text children are nodes with an empty name.
type node struct {
	name     xml.Name
	attrs    []xml.Attr
	children []*node
	text     string
}

func (n *node) attr(local string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// elements returns the element children of n.
func (n *node) elements() []*node {
	var out []*node
	for _, c := range n.children {
		if c.name.Local != "" {
			out = append(out, c)
		}
	}
	return out
}

// parse reads an XML document into a tree of nodes, skipping comments and processing
// instructions.
func parse(r io.Reader) (*node, error) {
	dec := xml.NewDecoder(r)
	root := &node{}
	stack := []*node{root}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse schema: %w", err)
		}
		top := stack[len(stack)-1]
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{name: tok.Name, attrs: tok.Attr}
			top.children = append(top.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top.children = append(top.children, &node{text: string(tok)})
		}
	}
	for _, c := range root.children {
		if c.name.Local != "" {
			return c, nil
		}
	}
	return nil, errors.New("parse schema: the document has no root element")
}

// Compile turns an ISO Schematron schema into an XSLT 2.0 stylesheet. baseURI is the
// URI the stylesheet resolves relative URIs against (the schema's own location, so that
// document('codes.xml') finds the schema's code lists).
//
// The stylesheet's source document lists the documents to validate,
// <documents><document href="URI"/>...</documents>, and its output is
// <results><document href="URI"><failure id="" flag="" kind="assert|report"
// location="XPath">message</failure>...</document>...</results>.
func Compile(schema []byte, baseURI string) ([]byte, error) {
	root, err := parse(bytes.NewReader(schema))
	if err != nil {
		return nil, err
	}
	if root.name.Space != SchematronNS || root.name.Local != "schema" {
		return nil, fmt.Errorf("compile schema: the root element is {%s}%s, not an ISO Schematron schema", root.name.Space, root.name.Local)
	}
	if qb, ok := root.attr("queryBinding"); ok && qb != "xslt2" && qb != "xslt3" {
		return nil, fmt.Errorf("compile schema: queryBinding %q is not supported (only xslt2)", qb)
	}
	c := &compiler{ns: map[string]string{}}
	if err := c.schema(root); err != nil {
		return nil, fmt.Errorf("compile schema: %w", err)
	}
	return c.write(baseURI), nil
}

// compiler holds what the schema declares while its parts are written.
type compiler struct {
	ns       map[string]string // prefix → URI, in declaration order in nsOrder
	nsOrder  []string
	globals  []let
	patterns []pattern
}

type let struct{ name, value string }

type pattern struct {
	lets  []let
	rules []rule
}

type rule struct {
	context string
	lets    []let
	checks  []check
}

type check struct {
	report  bool // sch:report: fires when test is true
	test    string
	id      string
	flag    string
	message []*node
}

func (c *compiler) schema(root *node) error {
	for _, e := range root.elements() {
		if e.name.Space != SchematronNS {
			continue // foreign elements carry documentation only
		}
		switch e.name.Local {
		case "title", "p":
		case "ns":
			prefix, _ := e.attr("prefix")
			uri, _ := e.attr("uri")
			if prefix == "" || uri == "" {
				return errors.New("sch:ns needs both prefix and uri")
			}
			if prefix == "xsl" || prefix == "xs" || prefix == "schtest" {
				if prefix != "xs" || uri != "http://www.w3.org/2001/XMLSchema" {
					return fmt.Errorf("sch:ns prefix %q is reserved by the compiled stylesheet", prefix)
				}
				continue
			}
			if _, dup := c.ns[prefix]; !dup {
				c.nsOrder = append(c.nsOrder, prefix)
			}
			c.ns[prefix] = uri
		case "let":
			l, err := parseLet(e)
			if err != nil {
				return err
			}
			c.globals = append(c.globals, l)
		case "pattern":
			p, err := parsePattern(e)
			if err != nil {
				return err
			}
			c.patterns = append(c.patterns, p)
		default:
			return fmt.Errorf("sch:%s is not supported", e.name.Local)
		}
	}
	return nil
}

func parseLet(e *node) (let, error) {
	name, _ := e.attr("name")
	value, ok := e.attr("value")
	if name == "" || !ok {
		return let{}, fmt.Errorf("sch:let %q needs a name and a value attribute (element content is not supported)", name)
	}
	return let{name, value}, nil
}

func parsePattern(e *node) (pattern, error) {
	var p pattern
	if v, _ := e.attr("abstract"); v == "true" {
		return p, errors.New("abstract patterns are not supported")
	}
	if _, ok := e.attr("is-a"); ok {
		return p, errors.New("pattern @is-a is not supported")
	}
	for _, c := range e.elements() {
		if c.name.Space != SchematronNS {
			continue
		}
		switch c.name.Local {
		case "title", "p":
		case "let":
			l, err := parseLet(c)
			if err != nil {
				return p, err
			}
			p.lets = append(p.lets, l)
		case "rule":
			r, err := parseRule(c)
			if err != nil {
				return p, err
			}
			p.rules = append(p.rules, r)
		default:
			return p, fmt.Errorf("sch:%s in a pattern is not supported", c.name.Local)
		}
	}
	return p, nil
}

func parseRule(e *node) (rule, error) {
	var r rule
	if v, _ := e.attr("abstract"); v == "true" {
		return r, errors.New("abstract rules are not supported")
	}
	ctx, _ := e.attr("context")
	if strings.TrimSpace(ctx) == "" {
		return r, errors.New("sch:rule needs a context")
	}
	r.context = ctx
	for _, c := range e.elements() {
		if c.name.Space != SchematronNS {
			continue
		}
		switch c.name.Local {
		case "let":
			l, err := parseLet(c)
			if err != nil {
				return r, err
			}
			r.lets = append(r.lets, l)
		case "assert", "report":
			test, ok := c.attr("test")
			if !ok {
				return r, fmt.Errorf("sch:%s in rule %q has no test", c.name.Local, ctx)
			}
			if _, ok := c.attr("diagnostics"); ok {
				return r, errors.New("diagnostics are not supported")
			}
			id, _ := c.attr("id")
			flag, _ := c.attr("flag")
			r.checks = append(r.checks, check{report: c.name.Local == "report", test: test, id: id, flag: flag, message: c.children})
		default:
			return r, fmt.Errorf("sch:%s in a rule is not supported", c.name.Local)
		}
	}
	return r, nil
}

// write prints the stylesheet.
//
// Each pattern gets mode "p<N>". Its rules become templates in that mode with
// descending priorities in document order, so a node is handled by the first rule that
// matches it; every template, and a default template of lowest priority, goes on to
// the node's attributes and child elements. Lets become xsl:variable: rule lets inside
// the rule's template, pattern and schema lets as tunnel parameters set on each
// document's root.
func (c *compiler) write(baseURI string) []byte {
	var b bytes.Buffer
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	w("<xsl:stylesheet version=\"2.0\" xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\"")
	w(" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:schtest=%s", attr(resultNS))
	for _, p := range c.nsOrder {
		w(" xmlns:%s=%s", p, attr(c.ns[p]))
	}
	w(" exclude-result-prefixes=\"#all\" xml:base=%s>\n", attr(baseURI))
	w("<xsl:output method=\"xml\" indent=\"yes\"/>\n")
	w(`<xsl:function name="schtest:location" as="xs:string">
  <xsl:param name="n" as="node()"/>
  <xsl:variable name="steps" as="xs:string*">
    <xsl:for-each select="$n/ancestor-or-self::*">
      <xsl:variable name="name" select="name()"/>
      <xsl:sequence select="concat('/', $name, '[', count(preceding-sibling::*[name() = $name]) + 1, ']')"/>
    </xsl:for-each>
    <xsl:if test="$n instance of attribute()"><xsl:sequence select="concat('/@', name($n))"/></xsl:if>
  </xsl:variable>
  <xsl:sequence select="if (empty($steps)) then '/' else string-join($steps, '')"/>
</xsl:function>
<xsl:template match="/">
  <results>
    <xsl:for-each select="/documents/document">
      <document href="{@href}">
        <xsl:for-each select="doc(@href)">
`)
	for _, l := range c.globals {
		w("          <xsl:variable name=%s select=%s/>\n", attr(l.name), attr(l.value))
	}
	for i := range c.patterns {
		w("          <xsl:call-template name=\"schtest:pattern-%d\">", i)
		for _, l := range c.globals {
			w("<xsl:with-param name=%s select=%s tunnel=\"yes\"/>", attr(l.name), attr("$"+l.name))
		}
		w("</xsl:call-template>\n")
	}
	w(`        </xsl:for-each>
      </document>
    </xsl:for-each>
  </results>
</xsl:template>
`)
	for i, p := range c.patterns {
		c.writePattern(&b, i, p)
	}
	w("</xsl:stylesheet>\n")
	return b.Bytes()
}

func (c *compiler) writePattern(b *bytes.Buffer, i int, p pattern) {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	mode := fmt.Sprintf("p%d", i)
	w("<xsl:template name=\"schtest:pattern-%d\">\n", i)
	for _, l := range c.globals {
		w("  <xsl:param name=%s tunnel=\"yes\"/>\n", attr(l.name))
	}
	for _, l := range p.lets {
		w("  <xsl:variable name=%s select=%s/>\n", attr(l.name), attr(l.value))
	}
	w("  <xsl:apply-templates select=\".\" mode=\"%s\">", mode)
	for _, l := range p.lets {
		w("<xsl:with-param name=%s select=%s tunnel=\"yes\"/>", attr(l.name), attr("$"+l.name))
	}
	w("</xsl:apply-templates>\n</xsl:template>\n")
	for j, r := range p.rules {
		w("<xsl:template match=%s mode=\"%s\" priority=\"%d\">\n", attr(r.context), mode, 1000+len(p.rules)-j)
		for _, l := range c.globals {
			w("  <xsl:param name=%s tunnel=\"yes\"/>\n", attr(l.name))
		}
		for _, l := range p.lets {
			w("  <xsl:param name=%s tunnel=\"yes\"/>\n", attr(l.name))
		}
		for _, l := range r.lets {
			w("  <xsl:variable name=%s select=%s/>\n", attr(l.name), attr(l.value))
		}
		for _, ch := range r.checks {
			writeCheck(b, ch)
		}
		w("  <xsl:apply-templates select=\"@*|*\" mode=\"%s\"/>\n</xsl:template>\n", mode)
	}
	w("<xsl:template match=\"text()\" mode=\"%s\" priority=\"-1\"/>\n", mode)
	w("<xsl:template match=\"/|@*|node()\" mode=\"%s\" priority=\"-2\"><xsl:apply-templates select=\"@*|*\" mode=\"%s\"/></xsl:template>\n", mode, mode)
}

func writeCheck(b *bytes.Buffer, ch check) {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	kind := "assert"
	if ch.report {
		w("  <xsl:if test=%s>", attr(ch.test))
		kind = "report"
	} else {
		w("  <xsl:if test=%s>", attr("not("+ch.test+")"))
	}
	w("<failure id=%s flag=%s kind=\"%s\" location=\"{schtest:location(.)}\">",
		attr(avtEscape(ch.id)), attr(avtEscape(ch.flag)), kind)
	writeMessage(b, ch.message)
	w("</failure></xsl:if>\n")
}

// writeMessage prints an assertion's text: its characters, sch:value-of as the value of
// its select, sch:name as the name of the context node (or of its path); other inline
// elements (sch:emph, sch:dir, sch:span) as their content.
func writeMessage(b *bytes.Buffer, msg []*node) {
	for _, n := range msg {
		switch {
		case n.name.Local == "":
			b.WriteString("<xsl:text>")
			xml.EscapeText(b, []byte(n.text))
			b.WriteString("</xsl:text>")
		case n.name.Space == SchematronNS && n.name.Local == "value-of":
			sel, _ := n.attr("select")
			fmt.Fprintf(b, "<xsl:value-of select=%s/>", attr("string-join(for $v in ("+sel+") return string($v), ' ')"))
		case n.name.Space == SchematronNS && n.name.Local == "name":
			path, ok := n.attr("path")
			if !ok {
				path = "."
			}
			fmt.Fprintf(b, "<xsl:value-of select=%s/>", attr("name("+path+")"))
		default:
			writeMessage(b, n.children)
		}
	}
}

// attr quotes v as an XML attribute value.
func attr(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	xml.EscapeText(&b, []byte(v))
	b.WriteByte('"')
	return b.String()
}

// avtEscape doubles the braces of v so that an attribute value template keeps them.
func avtEscape(v string) string {
	return strings.NewReplacer("{", "{{", "}", "}}").Replace(v)
}
