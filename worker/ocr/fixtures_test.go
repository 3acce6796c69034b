package ocr

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata fixtures (needs qpdf)")

// TestUpdateFixtures regenerates the one fixture the tests cannot build at run time:
// testdata/encrypted.pdf, the synthetic invoice PDF encrypted with a user password by
// qpdf (apt-get install qpdf). Run: go test ./worker/ocr -run TestUpdateFixtures -update
func TestUpdateFixtures(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata")
	}
	if _, err := exec.LookPath("qpdf"); err != nil {
		t.Fatal("qpdf is needed to encrypt the fixture: apt-get install qpdf")
	}
	plain := writeFile(t, "plain.pdf", buildPDF(t, pdfPage{lines: invoiceLines}))
	out, err := filepath.Abs("testdata/encrypted.pdf")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("qpdf", "--encrypt", "secret-user", "secret-owner", "256", "--", plain, out)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("qpdf: %v", err)
	}
}
