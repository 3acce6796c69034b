package export

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// schemaDir returns the folder of the EN 16931 schemas in the shared data, or skips.
func schemaDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("OCRINVOICE_SHARED_DATA")
	if dir == "" {
		dir = "../../../../shared/data"
	}
	dir = filepath.Join(dir, "einvoices", "schemas")
	if _, err := os.Stat(filepath.Join(dir, "cii-facturx-en16931", "FACTUR-X_EN16931.xsd")); err != nil {
		t.Skipf("EN 16931 schemas not found at %s (set OCRINVOICE_SHARED_DATA): %v", dir, err)
	}
	return dir
}

// validateXSD checks out against the schema of its syntax (the UBL CreditNote schema for
// a CreditNote root) with xmllint, and fails the test with xmllint's report.
func validateXSD(t *testing.T, out []byte, syntax Syntax) {
	t.Helper()
	dir := schemaDir(t)
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Skipf("xmllint not installed (install libxml2-utils): %v", err)
	}
	xsd := filepath.Join(dir, "cii-facturx-en16931", "FACTUR-X_EN16931.xsd")
	if syntax == UBL {
		xsd = filepath.Join(dir, "ubl-2.1", "maindoc", "UBL-Invoice-2.1.xsd")
		if parse(t, out).Name == "CreditNote" {
			xsd = filepath.Join(dir, "ubl-2.1", "maindoc", "UBL-CreditNote-2.1.xsd")
		}
	}
	file := filepath.Join(t.TempDir(), "invoice.xml")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("xmllint", "--noout", "--nonet", "--schema", xsd, file)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s output does not validate against %s: %v\n%s\n--- output:\n%s", syntax, filepath.Base(xsd), err, msg, out)
	}
}

// node is an XML element read back from the output: its local name, attributes by
// local name, text and children.
type node struct {
	Name     string
	Attrs    map[string]string
	Text     string
	Children []*node
}

// parse reads out into a tree of nodes, failing the test when it is not well-formed.
func parse(t testing.TB, out []byte) *node {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(out))
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("output is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{Name: tok.Name.Local, Attrs: map[string]string{}}
			for _, a := range tok.Attr {
				n.Attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(tok)
			}
		}
	}
	if root == nil {
		t.Fatal("output has no root element")
	}
	return root
}

// all returns the elements at the slash-separated path of local names below n.
func (n *node) all(path string) []*node {
	cur := []*node{n}
	for _, name := range strings.Split(path, "/") {
		var next []*node
		for _, c := range cur {
			for _, ch := range c.Children {
				if ch.Name == name {
					next = append(next, ch)
				}
			}
		}
		cur = next
	}
	return cur
}

// text returns the trimmed text of the first element at path, "" when there is none.
func (n *node) text(path string) string {
	if m := n.all(path); len(m) > 0 {
		return strings.TrimSpace(m[0].Text)
	}
	return ""
}
