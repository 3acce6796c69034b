package schematrontest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultSaxonJar is where Debian's libsaxonhe-java installs Saxon-HE; the environment
// variable OCRINVOICE_SAXON_JAR overrides it.
const DefaultSaxonJar = "/usr/share/java/Saxon-HE.jar"

// saxonTimeout bounds one Saxon run (Java start-up, compiling the stylesheet and
// validating every document of the run).
const saxonTimeout = 3 * time.Minute

// Failure is one assertion that fired: an sch:assert whose test was false or an
// sch:report whose test was true. ID and Flag are the assertion's @id and @flag
// (empty when it has none); Location is the XPath of the context node, e.g.
// "/rsm:CrossIndustryInvoice[1]/rsm:ExchangedDocument[1]"; Message is the
// assertion's text with white space collapsed.
type Failure struct{ ID, Flag, Location, Message string }

// Fatal reports whether the failure makes the document invalid: every failure except
// those flagged "warning" or "information" (the flags EN 16931 Schematron files use
// for advice).
func (f Failure) Fatal() bool {
	switch strings.ToLower(f.Flag) {
	case "warning", "information", "info":
		return false
	}
	return true
}

// Run validates the XML file against the Schematron file and returns the failures in
// document order. It skips the test when java, Saxon-HE or the schema is missing, and
// fails it when the schema does not compile or Saxon cannot run.
func Run(t testing.TB, sch, xmlFile string) []Failure {
	t.Helper()
	return RunAll(t, sch, []string{xmlFile})[xmlFile]
}

// RunAll is Run over several files in one Saxon run (Java starts once); the result maps
// each of xmlFiles, as given, to its failures.
func RunAll(t testing.TB, sch string, xmlFiles []string) map[string][]Failure {
	t.Helper()
	java, jar := tools(t)
	xsl, err := compiled(sch)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("Schematron file %s not found: %v", sch, err)
	}
	if err != nil {
		t.Fatalf("compile Schematron %s: %v", sch, err)
	}
	out, err := runSaxon(java, jar, xsl, xmlFiles, t.TempDir())
	if err != nil {
		t.Fatalf("validate %d files against %s: %v", len(xmlFiles), sch, err)
	}
	return out
}

// tools finds java and the Saxon-HE jar, or skips the test.
func tools(t testing.TB) (java, jar string) {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skipf("java not found (install default-jre-headless, see .ci/deps --tests): %v", err)
	}
	jar = os.Getenv("OCRINVOICE_SAXON_JAR")
	if jar == "" {
		jar = DefaultSaxonJar
	}
	if _, err := os.Stat(jar); err != nil {
		t.Skipf("Saxon-HE not found at %s (install libsaxonhe-java or set OCRINVOICE_SAXON_JAR): %v", jar, err)
	}
	return java, jar
}

var (
	cacheMu sync.Mutex
	cache   = map[string]string{} // absolute schema path → compiled stylesheet path
)

// compiled returns the path of the stylesheet compiled from the schema at sch. The
// stylesheet is compiled once per process and kept in the temporary directory under a
// name derived from its content, so later test binaries reuse the file.
func compiled(sch string) (string, error) {
	abs, err := filepath.Abs(sch)
	if err != nil {
		return "", err
	}
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if p, ok := cache[abs]; ok {
		return p, nil
	}
	src, err := os.ReadFile(abs)
	if err != nil {
		return "", err
	}
	// The name derives from the stylesheet itself, so that a changed compiler or schema
	// never reuses a stale file.
	xsl, err := Compile(src, fileURI(filepath.Dir(abs))+"/")
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(xsl)
	dir := filepath.Join(os.TempDir(), "ocrinvoice-schematrontest")
	p := filepath.Join(dir, hex.EncodeToString(sum[:12])+".xsl")
	if _, err := os.Stat(p); err == nil {
		cache[abs] = p
		return p, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create stylesheet cache: %w", err)
	}
	// Write and rename, so that a test binary running at the same time never reads half
	// a stylesheet.
	tmp, err := os.CreateTemp(dir, "*.tmp")
	if err != nil {
		return "", fmt.Errorf("create stylesheet cache: %w", err)
	}
	_, werr := tmp.Write(xsl)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("write stylesheet: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("write stylesheet: %w", err)
	}
	cache[abs] = p
	return p, nil
}

// fileURI returns the file: URI of the absolute path p.
func fileURI(p string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
}

// results is the output of the compiled stylesheet.
type results struct {
	Documents []struct {
		Href     string `xml:"href,attr"`
		Failures []struct {
			ID       string `xml:"id,attr"`
			Flag     string `xml:"flag,attr"`
			Location string `xml:"location,attr"`
			Text     string `xml:",chardata"`
		} `xml:"failure"`
	} `xml:"document"`
}

// runSaxon runs the stylesheet xsl over files (their list is written to tmp) and
// returns each file's failures.
func runSaxon(java, jar, xsl string, files []string, tmp string) (map[string][]Failure, error) {
	var list bytes.Buffer
	list.WriteString("<documents>\n")
	hrefs := map[string]string{}
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, fmt.Errorf("document to validate: %w", err)
		}
		href := fileURI(abs)
		hrefs[href] = f
		fmt.Fprintf(&list, "<document href=%s/>\n", attr(href))
	}
	list.WriteString("</documents>\n")
	listFile := filepath.Join(tmp, "documents.xml")
	if err := os.WriteFile(listFile, list.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("write document list: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), saxonTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, java, "-cp", jar, "net.sf.saxon.Transform", "-s:"+listFile, "-xsl:"+xsl)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("saxon: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var res results
	if err := xml.Unmarshal(stdout.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("read saxon output: %w", err)
	}
	out := map[string][]Failure{}
	for _, f := range files {
		out[f] = []Failure{}
	}
	for _, d := range res.Documents {
		f, ok := hrefs[d.Href]
		if !ok {
			return nil, fmt.Errorf("saxon reported on %s, a document it was not given", d.Href)
		}
		for _, x := range d.Failures {
			out[f] = append(out[f], Failure{ID: x.ID, Flag: x.Flag, Location: x.Location, Message: strings.Join(strings.Fields(x.Text), " ")})
		}
	}
	return out, nil
}
