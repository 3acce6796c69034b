package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// beleg is one invoice of a supplier whose invoice number stands at a label the generic
// rules do not know ("Beleg"), under a customer number they could take instead.
func beleg(number, date, net, tax, total string) []byte {
	return testdocs.PDF(testdocs.Page{Lines: []string{
		"ACME Werkzeuge GmbH",
		"Hauptstrasse 5, 10115 Berlin",
		"USt-IdNr. DE811907980",
		"",
		"Beispiel AG",
		"Gartenweg 3",
		"80331 Muenchen",
		"",
		"Kunden-Nr.: K-4711",
		fmt.Sprintf("Beleg              %-22s Datum: %s", number, date),
		"",
		"Pos  Beschreibung                  Betrag",
		"1    Schrauben                     " + net,
		"",
		"Netto                              " + net,
		"MwSt 19%                           " + tax,
		"Endbetrag EUR                      " + total,
	}})
}

// submitDoc uploads doc with key, creates a job for it and waits for it to end.
func submitDoc(t *testing.T, p *process, key, number, name string, doc []byte) map[string]any {
	t.Helper()
	code, b := p.uploadNamed(t, key, name, doc)
	var up struct {
		Data struct{ DocumentURL, DocumentType string }
	}
	decode(t, b, &up)
	if code != http.StatusCreated {
		t.Fatalf("upload %s: %d %s", name, code, b)
	}
	body := fmt.Sprintf(`{"jobNumber": %q, "documentName": %q, "documentUrl": %q, "documentType": %q, "template": "generic"}`, number, name, up.Data.DocumentURL, up.Data.DocumentType)
	code, b = p.authRequest(t, key, "POST", "/api/v1/ocr-invoice-jobs", body)
	var created struct{ Data map[string]any }
	decode(t, b, &created)
	if code != http.StatusCreated {
		t.Fatalf("create job %s: %d %s", number, code, b)
	}
	j := waitKeyed(t, p, key, created.Data["_id"].(string), 60*time.Second)
	if j["status"] != "completed" {
		t.Fatalf("job %s: %v (%v)", number, j["status"], j["errorLog"])
	}
	return j
}

func invoiceNumber(j map[string]any) string {
	ed, _ := j["extractedData"].(map[string]any)
	inv, _ := ed["invoice"].(map[string]any)
	s, _ := inv["number"].(string)
	return s
}

// TestLearnedSupplierEndToEnd lives what issue 15 promises, through the binary: a
// supplier's first invoice is read with the wrong number (its label is unknown to the
// generic rules); a person corrects it through the REST API; that teaches the owner's
// profile of the supplier, and the supplier's next invoice is read right, from the
// profile (source learned, the profile's id and version recorded on the job). Another
// owner's identical invoice is not helped: profiles never cross owners. The profile is
// listed, read and deleted through REST, and a viewer may not delete it.
func TestLearnedSupplierEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	keyA := createKey(t, dir, "--name", "team-a", "--role", "submitter")
	viewerA := createKey(t, dir, "--name", "team-a", "--role", "viewer")
	keyB := createKey(t, dir, "--name", "team-b", "--role", "submitter")
	p := start(t, testEnv(t, map[string]string{"OCRINVOICE_AUTH": "apikey", "OCRINVOICE_DATA_DIR": dir}), "all", "--concurrency", "1")

	first := submitDoc(t, p, keyA, "L-1", "first.pdf", beleg("BX-20417", "03.02.2024", "100,00", "19,00", "119,00"))
	if got := invoiceNumber(first); got == "BX-20417" {
		t.Fatalf("the generic rules already read the number; the test shows nothing")
	}
	id := first["_id"].(string)
	code, b := p.keyedRequest(t, keyA, "PATCH", "/api/v1/ocr-invoice-jobs/"+id+"/extracted-data", "application/merge-patch+json", "",
		[]byte(`{"invoice":{"number":"BX-20417"}}`))
	if code != http.StatusOK {
		t.Fatalf("correct: %d %s", code, b)
	}

	// The correction taught team-a's profile of the supplier.
	var profiles struct {
		Success bool
		Data    []map[string]any
		Total   int
	}
	waitFor(t, 20*time.Second, func() bool {
		code, b := p.authRequest(t, keyA, "GET", "/api/v1/supplier-profiles", "")
		decode(t, b, &profiles)
		return code == http.StatusOK && profiles.Total == 1
	})
	prof := profiles.Data[0]
	if prof["taxId"] != "DE811907980" {
		t.Errorf("profile %v: want the supplier's tax id", prof)
	}

	second := submitDoc(t, p, keyA, "L-2", "second.pdf", beleg("BX-20533", "17.03.2024", "250,00", "47,50", "297,50"))
	if got := invoiceNumber(second); got != "BX-20533" {
		t.Errorf("second invoice: number %q, want BX-20533 from the profile", got)
	}
	ev, _ := second["evidence"].(map[string]any)
	num, _ := ev["invoice.number"].(map[string]any)
	if num["source"] != "learned" || num["page"] != 1.0 {
		t.Errorf("evidence of the number: %v, want source learned on page 1", num)
	}
	use, _ := second["supplierProfile"].(map[string]any)
	if pid, _ := prof["_id"].(string); pid == "" || use["id"] != pid || use["version"] != prof["version"] {
		t.Errorf("job's supplierProfile %v, want the profile %v", use, prof)
	}

	// team-b's identical invoice is not read with team-a's profile.
	other := submitDoc(t, p, keyB, "L-3", "second.pdf", beleg("BX-20533", "17.03.2024", "250,00", "47,50", "297,50"))
	if got := invoiceNumber(other); got == "BX-20533" {
		t.Errorf("team-b's job used team-a's profile: number %q", got)
	}
	if code, b := p.authRequest(t, keyB, "GET", "/api/v1/supplier-profiles", ""); code != http.StatusOK || strings.Contains(string(b), "DE811907980") {
		t.Errorf("team-b lists team-a's profile: %d %s", code, b)
	}

	pid, _ := prof["_id"].(string)
	if code, b := p.authRequest(t, viewerA, "DELETE", "/api/v1/supplier-profiles/"+pid, ""); code != http.StatusForbidden {
		t.Errorf("viewer deletes a profile: %d %s", code, b)
	}
	if code, b := p.authRequest(t, keyB, "DELETE", "/api/v1/supplier-profiles/"+pid, ""); code != http.StatusNotFound {
		t.Errorf("team-b deletes team-a's profile: %d %s", code, b)
	}
	if code, b := p.authRequest(t, keyA, "DELETE", "/api/v1/supplier-profiles/"+pid, ""); code != http.StatusOK && code != http.StatusNoContent {
		t.Errorf("delete: %d %s", code, b)
	}
	third := submitDoc(t, p, keyA, "L-4", "third.pdf", beleg("BX-20611", "02.04.2024", "80,00", "15,20", "95,20"))
	if got := invoiceNumber(third); got == "BX-20611" {
		t.Errorf("the deleted profile still read the number %q", got)
	}
}

// waitFor polls cond until it holds or limit passes.
func waitFor(t *testing.T, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
