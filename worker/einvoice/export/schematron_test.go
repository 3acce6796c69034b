package export

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// saxonJar is where Debian's libsaxonhe-java installs Saxon-HE (see .ci/deps --tests).
const saxonJar = "/usr/share/java/Saxon-HE.jar"

// The EN 16931 business rules (BR-*) are published as ISO Schematron; the shared data
// holds the Factur-X EN 16931 one for CII. It uses schema-level ns, patterns of rules
// with let, assert and report, and nothing else, so the test compiles it to an XSLT 2.0
// stylesheet itself (one mode per pattern; within a pattern the first matching rule
// wins, as Schematron says) and runs that with Saxon-HE.

type schSchema struct {
	NS       []schNS      `xml:"ns"`
	Patterns []schPattern `xml:"pattern"`
}

type schNS struct {
	Prefix string `xml:"prefix,attr"`
	URI    string `xml:"uri,attr"`
}

type schPattern struct {
	Rules []schRule `xml:"rule"`
}

type schRule struct {
	Context string     `xml:"context,attr"`
	Items   []schCheck `xml:",any"`
}

type schCheck struct {
	XMLName xml.Name
	ID      string `xml:"id,attr"`
	Flag    string `xml:"flag,attr"`
	Test    string `xml:"test,attr"`
	Name    string `xml:"name,attr"`
	Value   string `xml:"value,attr"`
	Text    string `xml:",chardata"`
}

// compileSchematron returns the XSLT that prints one line per failed assert or fired
// report: "error|warning <id> <message>".
func compileSchematron(sch []byte) (string, error) {
	var s schSchema
	if err := xml.Unmarshal(sch, &s); err != nil {
		return "", err
	}
	esc := func(v string) string {
		var b bytes.Buffer
		_ = xml.EscapeText(&b, []byte(v))
		return b.String()
	}
	var b strings.Builder
	b.WriteString(`<xsl:stylesheet version="2.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform" xmlns:xs="http://www.w3.org/2001/XMLSchema"`)
	for _, ns := range s.NS {
		fmt.Fprintf(&b, ` xmlns:%s="%s"`, ns.Prefix, esc(ns.URI))
	}
	b.WriteString(">\n<xsl:output method=\"text\"/>\n<xsl:template match=\"/\">\n")
	for i := range s.Patterns {
		fmt.Fprintf(&b, "<xsl:apply-templates select=\"(/, //node(), //@*)\" mode=\"p%d\"/>\n", i)
	}
	b.WriteString("</xsl:template>\n")
	for i, p := range s.Patterns {
		for j, r := range p.Rules {
			fmt.Fprintf(&b, "<xsl:template match=\"%s\" mode=\"p%d\" priority=\"%d\">\n", esc(r.Context), i, len(p.Rules)-j+1)
			for _, it := range r.Items {
				flag := "error"
				if it.Flag == "warning" {
					flag = "warning"
				}
				msg := esc(strings.Join(strings.Fields(it.Text), " "))
				switch it.XMLName.Local {
				case "let":
					fmt.Fprintf(&b, "<xsl:variable name=\"%s\" select=\"%s\"/>\n", it.Name, esc(it.Value))
				case "assert":
					fmt.Fprintf(&b, "<xsl:if test=\"not(%s)\">%s %s %s&#10;</xsl:if>\n", esc(it.Test), flag, it.ID, msg)
				case "report":
					fmt.Fprintf(&b, "<xsl:if test=\"%s\">%s %s %s&#10;</xsl:if>\n", esc(it.Test), flag, it.ID, msg)
				default:
					return "", fmt.Errorf("schematron element %q is not supported", it.XMLName.Local)
				}
			}
			b.WriteString("</xsl:template>\n")
		}
		fmt.Fprintf(&b, "<xsl:template match=\"node()|@*|/\" mode=\"p%d\" priority=\"-10\"/>\n", i)
	}
	b.WriteString("</xsl:stylesheet>\n")
	return b.String(), nil
}

// TestWriteSchematron checks every valid case's CII output against the EN 16931
// business rules. Warnings are logged; errors fail the case.
func TestWriteSchematron(t *testing.T) {
	dir := filepath.Join(schemaDir(t), "schematron")
	if _, err := exec.LookPath("java"); err != nil {
		t.Skipf("java not installed (install default-jre-headless): %v", err)
	}
	if _, err := os.Stat(saxonJar); err != nil {
		t.Skipf("Saxon-HE not installed at %s (install libsaxonhe-java): %v", saxonJar, err)
	}
	sch, err := os.ReadFile(filepath.Join(dir, "FACTUR-X_EN16931.sch"))
	if err != nil {
		t.Fatal(err)
	}
	xsl, err := compileSchematron(sch)
	if err != nil {
		t.Fatalf("compile Schematron: %v", err)
	}
	work := t.TempDir()
	in, out := filepath.Join(work, "in"), filepath.Join(work, "out")
	for _, d := range []string{in, out} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// document('FACTUR-X_EN16931_codedb.xml') resolves beside the stylesheet.
	codedb, err := os.ReadFile(filepath.Join(dir, "FACTUR-X_EN16931_codedb.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "FACTUR-X_EN16931_codedb.xml"), codedb, 0o600); err != nil {
		t.Fatal(err)
	}
	xslFile := filepath.Join(work, "en16931.xsl")
	if err := os.WriteFile(xslFile, []byte(xsl), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := append(validCases(), validCase{name: "hostile", data: hostileInvoice()})
	for _, tc := range cases {
		x, err := Write(tc.data, CII)
		if err != nil {
			t.Fatalf("%s: Write: %v", tc.name, err)
		}
		if err := os.WriteFile(filepath.Join(in, sanitiseFileNamePart(tc.name)+".xml"), x, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// One Java run transforms the whole folder: Saxon's start-up dominates.
	start := time.Now()
	cmd := exec.Command("java", "-jar", saxonJar, "-s:"+in, "-o:"+out, "-xsl:"+xslFile)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("Saxon: %v\n%s", err, msg)
	}
	t.Logf("Schematron over %d invoices took %v", len(cases), time.Since(start).Round(time.Millisecond))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			report, err := os.ReadFile(filepath.Join(out, sanitiseFileNamePart(tc.name)+".xml"))
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(strings.TrimSpace(string(report)), "\n") {
				switch {
				case strings.HasPrefix(line, "error ") && slices.Contains(tc.knownRules, strings.Fields(line)[1]):
					t.Logf("EN 16931 (known, the model cannot satisfy it): %s", line)
				case strings.HasPrefix(line, "error "):
					t.Errorf("EN 16931: %s", line)
				case strings.HasPrefix(line, "warning "):
					t.Logf("EN 16931: %s", line)
				}
			}
		})
	}
}
