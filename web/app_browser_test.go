package web_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ocrinvoice/ocrinvoice/internal/browsertest"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// shot saves a screenshot of the screen and checks it with axe-core.
func shot(b *browsertest.Browser, name string) {
	b.Helper()
	b.Screenshot(name)
	b.CheckAxe(name)
}

// invoice returns a real invoice from ../shared/data/invoices-dev, or a synthetic PDF (logged).
func invoice(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("OCRINVOICE_SHARED_DATA")
	if dir == "" {
		dir = "../../shared/data"
	}
	p := filepath.Join(dir, "invoices-dev", "invoice2data-compare", "files", "AmazonWebServices.pdf")
	if _, err := os.Stat(p); err == nil {
		abs, err := filepath.Abs(p) // the browser resolves paths against its own directory
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	t.Logf("shared data not found at %s (set OCRINVOICE_SHARED_DATA): uploading a synthetic invoice instead of a real one", dir)
	return writeFile(t, "synthetic.pdf", testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines}))
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startServer runs API and worker (real SQLite, real Redis, real Tesseract) and creates
// a submitter's key (the clerk's); it returns the server, the key and its id.
func startServer(t *testing.T) (*browsertest.Server, string, string) {
	t.Helper()
	browsertest.Require(t)
	srv := browsertest.StartServer(t, map[string]string{"OCRINVOICE_RATE_LIMIT": "0", "OCRINVOICE_QUERY_BUDGET": "0"})
	srv.StartWorker()
	key, id := srv.CreateKey("clerk", "submitter")
	return srv, key, id
}

func TestReviewApp(t *testing.T) {
	srv, key, keyID := startServer(t)
	b := browsertest.New(t, srv.URL)
	start := time.Now()

	// The first screen asks for a key; a wrong one is refused with the server's word.
	b.Do(chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#apikey")))
	// The sign-in form is drawn by the deferred script, before DOMContentLoaded ends; a
	// second load measures the page alone (not the browser's start).
	b.Do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#apikey")))
	ready := browsertest.Eval[float64](b, `performance.getEntriesByType("navigation")[0].domContentLoadedEventEnd`)
	t.Logf("sign-in screen interactive %.0f ms after navigation start (loopback)", ready)
	shot(b, "01-signin")
	b.Do(chromedp.SendKeys(chromedp.CSS("#apikey"), "oik_wrong"+kb.Enter))
	if msg := b.WaitText("#signin-msg", "not accepted"); !strings.Contains(msg, "not accepted") {
		t.Fatalf("a wrong key: %q", msg)
	}
	browsertest.Eval[bool](b, `document.querySelector("#apikey").value = "", true`)
	b.Do(chromedp.SendKeys(chromedp.CSS("#apikey"), key+kb.Enter), chromedp.WaitVisible(chromedp.CSS("#dropzone")))
	if got := browsertest.Eval[string](b, `sessionStorage.getItem("ocrinvoice.apiKey")`); got != key {
		t.Fatalf("the key is not kept in sessionStorage: %q", got)
	}
	if got := browsertest.Eval[int](b, `localStorage.length`); got != 0 {
		t.Fatalf("localStorage holds %d items", got)
	}
	shot(b, "02-jobs-empty")
	// Sign out forgets the key; sign in again.
	b.Do(chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#apikey")))
	if browsertest.Eval[bool](b, `sessionStorage.getItem("ocrinvoice.apiKey") !== null`) {
		t.Errorf("the key is still in sessionStorage after sign-out")
	}
	b.Do(chromedp.SendKeys(chromedp.CSS("#apikey"), key+kb.Enter), chromedp.WaitVisible(chromedp.CSS("#dropzone")))

	// Bad uploads: the server's error stands next to each file, and no job is made.
	empty := writeFile(t, "empty.pdf", nil)
	text := writeFile(t, "notes.txt", []byte("just some notes, not an invoice"))
	b.Do(chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{empty, text}),
		chromedp.WaitVisible(chromedp.CSS(`li[data-file="notes.txt"] .note.error`)),
		chromedp.WaitVisible(chromedp.CSS(`li[data-file="empty.pdf"] .note.error`)))
	if s := b.Text(`li[data-file="empty.pdf"] .note`); !strings.Contains(s, "empty (0 bytes)") {
		t.Errorf("0-byte upload shows %q, want the server's error", s)
	}
	if s := b.Text(`li[data-file="notes.txt"] .note`); !strings.Contains(s, "not a PDF, PNG, JPEG") {
		t.Errorf("unsupported upload shows %q, want the server's error", s)
	}
	shot(b, "03-upload-errors")

	// Dropping a file on the upload panel sends it the same way (here an empty one, refused).
	browsertest.Eval[bool](b, `(() => {
		const dt = new DataTransfer();
		dt.items.add(new File([], "dropped.pdf", {type: "application/pdf"}));
		const zone = document.querySelector("#dropzone");
		zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: dt, bubbles: true, cancelable: true}));
		zone.dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
		return true;
	})()`)
	b.Do(chromedp.WaitVisible(chromedp.CSS(`li[data-file="dropped.pdf"] .note.error`)))
	if s := b.Text(`li[data-file="dropped.pdf"] .note`); !strings.Contains(s, "empty (0 bytes)") {
		t.Errorf("dropped 0-byte file shows %q, want the server's error", s)
	}

	// A real invoice: upload, the job appears in the list and completes live.
	doc := invoice(t)
	b.Do(chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{doc}), chromedp.WaitVisible(chromedp.CSS("#new-job")))
	if v := browsertest.Eval[int](b, `document.querySelector("progress[id^=upload-progress]").value`); v != 100 {
		t.Errorf("upload progress ends at %d, want 100", v)
	}
	jobID := strings.TrimPrefix(browsertest.Eval[string](b, `document.querySelector("#new-job").getAttribute("href")`), "#/jobs/")
	row := fmt.Sprintf(`#job-list [data-id="%s"]`, jobID)
	b.Do(chromedp.WaitVisible(chromedp.CSS(row)))
	b.WaitFor("the job completes live", `document.querySelector(`+jsString(row+" .s-completed")+`)`, browsertest.StepTimeout)
	if n := browsertest.Eval[int](b, `new Set([...document.querySelectorAll("#job-list .row")].map(e => e.offsetTop)).size`); n != browsertest.Eval[int](b, `document.querySelectorAll("#job-list .row").length`) {
		t.Errorf("list rows overlap: %d distinct positions", n)
	}
	shot(b, "04-jobs-completed")

	// The review page: boxes over the page image, fields coloured by confidence.
	b.Do(chromedp.Click(chromedp.CSS(row+" a")), chromedp.WaitVisible(chromedp.CSS("#fields")),
		chromedp.WaitVisible(chromedp.CSS(".sheet img[src^=blob]")))
	if n := browsertest.Eval[int](b, `document.querySelectorAll(".overlay .box").length`); n == 0 {
		t.Errorf("no evidence box drawn over the page")
	}
	// The boxes stand where the evidence is (the page's CSP must not drop their position).
	if n := browsertest.Eval[int](b, `[...document.querySelectorAll(".overlay .box")].filter(e => e.offsetLeft > 0 && e.offsetTop > 0 && e.offsetWidth > 2).length`); n == 0 {
		t.Errorf("the evidence boxes are not placed over the page")
	}
	if n := browsertest.Eval[int](b, `document.querySelectorAll(".fieldrow.c-high, .fieldrow.c-medium, .fieldrow.c-low").length`); n == 0 {
		t.Errorf("no field coloured by confidence")
	}
	shot(b, "05-job")

	// Keyboard only: Tab reaches the approve button; Enter in a field saves the correction.
	browsertest.Eval[bool](b, `document.querySelector("#fields input").focus(), true`)
	seen := map[string]bool{}
	for range 80 {
		b.Do(chromedp.KeyEvent(kb.Tab))
		seen[browsertest.Eval[string](b, `document.activeElement.id`)] = true
	}
	for _, id := range []string{"save", "approve", "approve-next", "download-results", "download-einvoice"} {
		if !seen[id] {
			t.Errorf("Tab never reaches #%s (reached %v)", id, seen)
		}
	}
	const number = "CORRECTED-42"
	b.Do(chromedp.Focus(chromedp.CSS("#f-invoice_number")))
	browsertest.Eval[bool](b, `document.querySelector("#f-invoice_number").select(), true`)
	b.Do(chromedp.KeyEvent(number + kb.Enter))
	if msg := b.WaitText("#review-msg", "Saved"); !strings.Contains(msg, "Saved 1 correction") {
		t.Fatalf("after Enter: %q", msg)
	}
	b.Do(chromedp.Focus(chromedp.CSS("#approve")), chromedp.KeyEvent(kb.Enter))
	b.WaitText("#job-review", "approved")
	var results struct {
		ExtractedData struct {
			Invoice struct{ Number string }
		}
	}
	srv.REST("GET", "/api/v1/ocr-invoice-jobs/"+jobID+"/results", nil, &results)
	if results.ExtractedData.Invoice.Number != number {
		t.Errorf("REST results say number %q, want the correction %q", results.ExtractedData.Invoice.Number, number)
	}
	var job struct{ ReviewStatus, JobNumber string }
	srv.REST("GET", "/api/v1/ocr-invoice-jobs/"+jobID, nil, &job)
	if job.ReviewStatus != "approved" {
		t.Errorf("reviewStatus %q, want approved", job.ReviewStatus)
	}
	shot(b, "06-job-approved")

	// Downloads: the results JSON is the REST results (with the correction), the
	// e-invoice XML the REST e-invoice.
	name, got := b.Download(chromedp.Click(chromedp.CSS("#download-results")))
	_, want := srv.Do("GET", "/api/v1/ocr-invoice-jobs/"+jobID+"/results", "", nil)
	if name != job.JobNumber+"-results.json" {
		t.Errorf("results download named %q, want %q", name, job.JobNumber+"-results.json")
	}
	if !jsonEqual(t, got, want) {
		t.Errorf("results download differs from GET .../results:\n%s\nwant\n%s", got, want)
	}
	if !bytes.Contains(got, []byte(number)) {
		t.Errorf("results download lacks the correction %s", number)
	}
	// The OCR'd data lacks what EN 16931 requires: the server's refusal stands on the page.
	b.Do(chromedp.Click(chromedp.CSS("#download-einvoice")))
	if msg := b.WaitText("#review-msg", "EN 16931"); !strings.Contains(msg, "correct the job's data first") {
		t.Errorf("e-invoice of incomplete data: the page says %q", msg)
	}
	patchInvoice(srv, jobID, map[string]any{
		"invoice": map[string]any{
			"supplier":     map[string]any{"country": "DE", "taxId": "DE123456789"},
			"customer":     map[string]any{"country": "DE"},
			"amounts":      map[string]any{"subtotal": 100, "tax": 19, "total": 119, "currency": "EUR"},
			"taxBreakdown": []any{map[string]any{"rate": 19, "base": 100, "amount": 19, "category": "S"}},
		},
		"lineItems": []any{map[string]any{"description": "Widget", "quantity": 2, "unitPrice": 50, "amount": 100}},
	})
	code, want := srv.Do("GET", "/api/v1/ocr-invoice-jobs/"+jobID+"/einvoice?syntax=cii", "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET .../einvoice after completing the data: %d %s", code, want)
	}
	b.Do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#download-einvoice")))
	name, got = b.Download(chromedp.Click(chromedp.CSS("#download-einvoice")))
	if name != job.JobNumber+"-cii.xml" {
		t.Errorf("e-invoice download named %q, want %q", name, job.JobNumber+"-cii.xml")
	}
	if !bytes.Equal(got, want) || !bytes.Contains(got, []byte("CrossIndustryInvoice")) || !bytes.Contains(got, []byte(number)) {
		t.Errorf("e-invoice download (%d bytes) is not the server's CII XML with number %s:\n%.400s", len(got), number, got)
	}

	// Markup in a value renders as text, in the form and in the list.
	const evil = `<img src=x onerror="window.__xss=1">ACME`
	patchInvoice(srv, jobID, map[string]any{"invoice": map[string]any{"supplier": map[string]any{"name": evil}}})
	b.Do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#f-invoice_supplier_name")))
	if v := browsertest.Eval[string](b, `document.querySelector("#f-invoice_supplier_name").value`); v != evil {
		t.Errorf("supplier field shows %q, want the text %q", v, evil)
	}
	b.Do(chromedp.Navigate(srv.URL+"/#/jobs"), chromedp.WaitVisible(chromedp.CSS(row+" .supplier")))
	if s := b.Text(row + " .supplier"); s != evil {
		t.Errorf("the list shows supplier %q, want the text %q", s, evil)
	}
	if browsertest.Eval[bool](b, `window.__xss === 1 || document.querySelector("img[src=x]") !== null`) {
		t.Errorf("a supplier name's markup was rendered as HTML")
	}

	// Several files make a job group; its page shows status and controls.
	p1 := writeFile(t, "a.pdf", testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines}))
	p2 := writeFile(t, "b.pdf", testdocs.PDF(testdocs.Page{Lines: append([]string{"Second copy"}, testdocs.InvoiceLines...)}))
	b.Do(chromedp.SetUploadFiles(chromedp.CSS("#files"), []string{p1, p2}), chromedp.WaitVisible(chromedp.CSS("#new-group")))
	groupID := strings.TrimPrefix(browsertest.Eval[string](b, `document.querySelector("#new-group").getAttribute("href")`), "#/groups/")
	b.Do(chromedp.Click(chromedp.CSS("#new-group")), chromedp.WaitVisible(chromedp.CSS("#group-phase")))
	b.WaitText("#group-phase", "Complete")
	shot(b, "07-group")
	b.Do(chromedp.Click(chromedp.CSS("#suspend")), chromedp.WaitVisible(chromedp.CSS("#resume")),
		chromedp.Click(chromedp.CSS("#resume")), chromedp.WaitVisible(chromedp.CSS("#suspend")))
	if s := b.Text("#group-msg"); !strings.Contains(s, "Resume: done") {
		t.Errorf("after resume the group page says %q", s)
	}

	// Ctrl+Enter approves and opens the next unreviewed job (the group's other one).
	var groupJobs []struct {
		ID           string `json:"_id"`
		ReviewStatus string
	}
	srv.REST("GET", "/api/v1/ocr-invoice-jobs?filter="+url.QueryEscape(`{"group":"`+groupID+`"}`), nil, &groupJobs)
	if len(groupJobs) != 2 {
		t.Fatalf("the group has %d jobs, want 2", len(groupJobs))
	}
	first, second := groupJobs[0].ID, groupJobs[1].ID
	b.Do(chromedp.Navigate(srv.URL+"/#/jobs/"+first), chromedp.WaitVisible(chromedp.CSS("#fields input")),
		chromedp.Focus(chromedp.CSS("#fields input")), chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	b.WaitFor("Ctrl+Enter opens the next unreviewed job "+second, `location.hash === `+jsString("#/jobs/"+second), 30*time.Second)
	var approved struct{ ReviewStatus string }
	srv.REST("GET", "/api/v1/ocr-invoice-jobs/"+first, nil, &approved)
	if approved.ReviewStatus != "approved" {
		t.Errorf("after Ctrl+Enter the job is %s, want approved", approved.ReviewStatus)
	}

	// The list as CSV: a cell that a spreadsheet would take for a formula is text (a
	// leading '), a negative total stays a number, markup stays as it is.
	const formula = `=HYPERLINK("http://example.com/x","click")`
	patchInvoice(srv, second, map[string]any{"invoice": map[string]any{"supplier": map[string]any{"name": formula}, "amounts": map[string]any{"total": -12.5}}})
	b.Do(chromedp.Navigate(srv.URL+"/#/jobs"), chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#job-list [data-id="`+second+`"] .supplier`)))
	b.WaitText(`#job-list [data-id="`+second+`"] .supplier`, formula)
	name, got = b.Download(chromedp.Click(chromedp.CSS("#download-csv")))
	if name != "jobs.csv" {
		t.Errorf("CSV download named %q", name)
	}
	rows, err := csv.NewReader(bytes.NewReader(got)).ReadAll()
	if err != nil {
		t.Fatalf("CSV download: %v\n%s", err, got)
	}
	cells := map[string][]string{}
	for _, r := range rows[1:] {
		cells[r[0]] = r
	}
	if h := strings.Join(rows[0], ","); h != "id,jobNumber,documentName,status,reviewStatus,supplier,total,currency,createdAt,group" {
		t.Errorf("CSV header %s", h)
	}
	if len(rows) != 4 || cells[jobID] == nil || cells[first] == nil || cells[second] == nil {
		t.Fatalf("CSV rows: want the 3 jobs, got\n%s", got)
	}
	if c := cells[second]; c[5] != "'"+formula || c[6] != "-12.5" || c[9] != groupID {
		t.Errorf("CSV row %v: want supplier %q, total -12.5, group %s", c, "'"+formula, groupID)
	}
	// Corrected after its approval, the job is "corrected" again.
	if c := cells[jobID]; c[5] != evil || c[4] != "corrected" || c[6] != "119" || c[7] != "EUR" {
		t.Errorf("CSV row %v: want supplier %q, corrected, 119 EUR", c, evil)
	}

	// Phone width: nothing overflows sideways.
	b.Viewport(375, 800)
	b.Do(chromedp.Navigate(srv.URL+"/#/jobs/"+jobID), chromedp.WaitVisible(chromedp.CSS("#fields")))
	if o := b.Overflow(); o > 0 {
		t.Errorf("at 375 px the job page is %d px too wide", o)
	}
	shot(b, "08-job-375")
	b.Do(chromedp.Navigate(srv.URL+"/#/jobs"), chromedp.WaitVisible(chromedp.CSS(row)))
	if o := b.Overflow(); o > 0 {
		t.Errorf("at 375 px the job list is %d px too wide", o)
	}
	shot(b, "09-jobs-375")
	b.Viewport(1280, 800)

	// The key is revoked mid-session: the next request returns the user to sign-in.
	srv.RevokeKey(keyID)
	if code, _ := srv.DoAs(key, "GET", "/api/v1/ocr-invoice-jobs?limit=1", nil); code != http.StatusUnauthorized {
		t.Fatalf("the server answers the revoked key with %d", code)
	}
	b.Do(chromedp.Navigate(srv.URL+"/#/jobs/"+jobID), chromedp.WaitVisible(chromedp.CSS("#apikey")))
	if msg := b.Text("#signin-msg"); !strings.Contains(msg, "no longer accepted") {
		t.Errorf("after revocation the sign-in screen says %q", msg)
	}
	if got := browsertest.Eval[bool](b, `sessionStorage.getItem("ocrinvoice.apiKey") === null`); !got {
		t.Errorf("the revoked key is still in sessionStorage")
	}
	shot(b, "10-revoked")
	t.Logf("browser test took %v", time.Since(start).Round(time.Millisecond))
}

// patchInvoice applies patch to the extracted data of job id through REST (a JSON merge
// patch at the job's current version).
func patchInvoice(srv *browsertest.Server, id string, patch map[string]any) {
	var cur struct{ DataVersion int }
	srv.REST("GET", "/api/v1/ocr-invoice-jobs/"+id, nil, &cur)
	body, _ := json.Marshal(patch)
	srv.REST("PATCH", "/api/v1/ocr-invoice-jobs/"+id+"/extracted-data", body, nil,
		"If-Match", fmt.Sprintf(`"%d"`, cur.DataVersion), "Content-Type", "application/merge-patch+json")
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Errorf("not JSON: %v\n%s", err, a)
		return false
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return reflect.DeepEqual(x, y)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestJobListTenThousand loads 10,000 jobs (a suspended group, so none runs) into the list
// and scrolls it: the list stays virtualised (a bounded number of rows in the DOM) and the
// frame times while scrolling are logged.
func TestJobListTenThousand(t *testing.T) {
	browsertest.Require(t)
	srv := browsertest.StartServer(t, map[string]string{"OCRINVOICE_RATE_LIMIT": "0", "OCRINVOICE_QUERY_BUDGET": "0"})
	docURL := srv.Upload("a.pdf", testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines}))
	docs := make([]string, 10_000)
	for i := range docs {
		docs[i] = fmt.Sprintf(`{"documentUrl":%q,"documentName":"doc-%05d.pdf"}`, docURL, i)
	}
	srv.REST("POST", "/api/v1/ocr-job-groups", []byte(`{"name":"ten-thousand","spec":{"suspend":true},"documents":[`+strings.Join(docs, ",")+`]}`), nil)

	b := browsertest.New(t, srv.URL)
	eval0 := time.Now()
	b.Do(chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#apikey")),
		chromedp.SendKeys(chromedp.CSS("#apikey"), srv.AdminKey+kb.Enter), chromedp.WaitVisible(chromedp.CSS("#job-list .row")))
	b.WaitText("#job-count", "10000 of 10000 jobs")
	t.Logf("10,000 jobs listed %v after sign-in", time.Since(eval0).Round(time.Millisecond))
	// Frame times of the same page idle (the baseline, measured in this run on this machine),
	// then while the list scrolls 700 px a frame.
	out := browsertest.Eval[string](b, `new Promise(res => {
		const el = document.querySelector("#job-list"); const idle = [], times = []; let last = 0, n = 0, most = 0;
		function step(ts) {
			if (last) (n <= 120 ? idle : times).push(ts - last);
			last = ts;
			most = Math.max(most, el.querySelectorAll(".row").length);
			if (n >= 120) el.scrollTop += 700;
			if (++n < 360) requestAnimationFrame(step); else res(JSON.stringify({idle, times, most, top: el.scrollTop}));
		}
		requestAnimationFrame(step);
	})`)
	var r struct {
		Idle, Times []float64
		Most        int
		Top         float64
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Most > 100 {
		t.Errorf("the list holds up to %d rows in the DOM while scrolling: not virtualised", r.Most)
	}
	if r.Top < 100_000 {
		t.Errorf("the list scrolled to only %.0f px", r.Top)
	}
	slices.Sort(r.Idle)
	slices.Sort(r.Times)
	q := func(a []float64, f float64) float64 { return a[int(float64(len(a)-1)*f)] }
	t.Logf("scrolling 10,000 rows, frame times against the idle page (baseline, same run): median %.1f ms (%.2fx), p95 %.1f ms (%.2fx), max %.1f ms (%.2fx); at most %d rows in the DOM",
		q(r.Times, .5), q(r.Times, .5)/q(r.Idle, .5), q(r.Times, .95), q(r.Times, .95)/q(r.Idle, .95), q(r.Times, 1), q(r.Times, 1)/q(r.Idle, 1), r.Most)
	shot(b, "ten-thousand")
}
