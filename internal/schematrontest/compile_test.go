package schematrontest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestSemantics runs the compiled testdata/semantics.sch: lets at every level, the
// first matching rule of a pattern only, assert and report, @id and @flag, value-of and
// name in messages, locations.
func TestSemantics(t *testing.T) {
	got := RunAll(t, "testdata/semantics.sch", []string{"testdata/order.xml", "testdata/empty-order.xml"})
	want := map[string][]Failure{
		"testdata/order.xml": {
			{ID: "T-PRICE", Flag: "fatal", Location: "/order[1]/item[2]", Message: "Price 150 of item is over the limit 100 EUR."},
			{ID: "T-NO-PRICE", Location: "/order[1]/item[3]", Message: "Item without a price."},
			{Location: "/order[1]", Message: "Draft orders are not allowed."},
			{ID: "T-FREE", Flag: "warning", Location: "/order[1]/item[4]", Message: "Item 4 is free."},
		},
		"testdata/empty-order.xml": {
			{ID: "T-ITEMS", Location: "/order[1]", Message: "An order needs an item."},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("failures:\n got %+v\nwant %+v", got, want)
	}
}

func TestFatal(t *testing.T) {
	for flag, fatal := range map[string]bool{"": true, "fatal": true, "error": true, "warning": false, "information": false} {
		if got := (Failure{Flag: flag}).Fatal(); got != fatal {
			t.Errorf("Failure{Flag: %q}.Fatal() = %v, want %v", flag, got, fatal)
		}
	}
}

// TestCompileRefuses checks that schemas the compiler cannot honour are refused with a
// message naming what is wrong, not compiled with a construct silently dropped.
func TestCompileRefuses(t *testing.T) {
	const head = `<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xslt2">`
	cases := []struct{ name, schema, want string }{
		{"not xml", `<schema`, "parse schema"},
		{"empty", ``, "no root element"},
		{"not schematron", `<schema/>`, "not an ISO Schematron schema"},
		{"xslt1 binding", `<schema xmlns="http://purl.oclc.org/dsdl/schematron" queryBinding="xpath"/>`, `queryBinding "xpath"`},
		{"include", head + `<include href="x.sch"/></schema>`, "sch:include is not supported"},
		{"abstract rule", head + `<pattern><rule abstract="true" id="a"><assert test="1">x</assert></rule></pattern></schema>`, "abstract rules"},
		{"extends", head + `<pattern><rule context="a"><extends rule="b"/></rule></pattern></schema>`, "sch:extends in a rule is not supported"},
		{"phase", head + `<phase id="p"/></schema>`, "sch:phase is not supported"},
		{"rule without context", head + `<pattern><rule><assert test="1">x</assert></rule></pattern></schema>`, "needs a context"},
		{"assert without test", head + `<pattern><rule context="a"><assert>x</assert></rule></pattern></schema>`, "has no test"},
		{"let without value", head + `<let name="x">1</let></schema>`, "needs a name and a value"},
		{"ns without uri", head + `<ns prefix="a"/></schema>`, "prefix and uri"},
		{"reserved prefix", head + `<ns prefix="xsl" uri="urn:x"/></schema>`, "reserved"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compile([]byte(c.schema), "file:///tmp/")
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Compile error = %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestCompileEscapes checks that tests, ids and messages with XML and attribute value
// template specials come through unchanged.
func TestCompileEscapes(t *testing.T) {
	const sch = "testdata/escape.sch"
	doc := filepath.Join(t.TempDir(), "doc.xml")
	write(t, doc, `<a>&gt;</a>`)
	got := Run(t, sch, doc)
	want := []Failure{{ID: "{X}&", Location: "/a[1]", Message: "less < & {brace}"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("failures = %+v, want %+v", got, want)
	}
	write(t, doc, `<a>&lt;</a>`)
	if got := Run(t, sch, doc); len(got) != 0 {
		t.Errorf("failures on a valid document: %+v", got)
	}
}

// TestRunErrors checks that a document Saxon cannot read, and one that does not exist,
// are errors that name the problem.
func TestRunErrors(t *testing.T) {
	java, jar := tools(t)
	xsl, err := compiled("testdata/semantics.sch")
	if err != nil {
		t.Fatal(err)
	}
	_, err = runSaxon(java, jar, xsl, []string{"testdata/broken.xml"}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "broken.xml") {
		t.Errorf("malformed document: error = %v, want one naming broken.xml", err)
	}
	_, err = runSaxon(java, jar, xsl, []string{"testdata/missing.xml"}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "missing.xml") {
		t.Errorf("missing document: error = %v, want one naming missing.xml", err)
	}
	if _, err := compiled("testdata/missing.sch"); !os.IsNotExist(err) {
		t.Errorf("missing schema: error = %v, want not-exist", err)
	}
}

func write(t *testing.T, name, content string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
