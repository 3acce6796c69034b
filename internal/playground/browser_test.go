package playground_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ocrinvoice/ocrinvoice/internal/browsertest"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// GraphiQL's editors are CodeMirror 5 instances, reachable from their elements.
const (
	queryEditor    = `document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror`
	responseEditor = `document.querySelector('.graphiql-response .CodeMirror')`
	responseText   = `(` + responseEditor + ` ? ` + responseEditor + `.CodeMirror.getValue() : '')`
)

// run puts query, whose operation is named op, in the editor and presses the run button
// once GraphiQL has parsed it (its tab takes the operation's name).
func run(b *browsertest.Browser, op, query string) {
	b.Helper()
	browsertest.Eval[any](b, queryEditor+`.setValue(`+jsString(query)+`)`)
	// GraphiQL runs the operation its debounced parse of the editor named: wait for that
	// name on the editor, and for the tab that shows it.
	b.WaitFor("GraphiQL parses "+op, queryEditor+`.operationName === `+jsString(op)+
		` && document.querySelector('.graphiql-tab-active, .graphiql-tab[aria-selected="true"]')?.textContent.trim() === `+jsString(op), 10*time.Second)
	b.Do(chromedp.Click(chromedp.CSS(".graphiql-execute-button")))
}

// TestPlaygroundInBrowser drives the playground in Chromium against the real server,
// with the network cut off from anything else: the key prompt, a query, the Docs panel
// (the standard introspection query), a subscription whose events arrive over graphql-ws
// through to completed, and a change of key.
func TestPlaygroundInBrowser(t *testing.T) {
	// Introspection is off by default for serve; `all` (make run) turns it on.
	srv := browsertest.StartServer(t, map[string]string{"OCRINVOICE_GRAPHQL_INTROSPECTION": "true"})
	b := browsertest.New(t, srv.URL)
	start := time.Now()

	// The key prompt comes before any request to the API.
	b.Do(chromedp.Navigate(srv.URL+"/playground"), chromedp.WaitVisible(chromedp.CSS("#api-key")))
	b.Screenshot("1-key-prompt")
	if n := browsertest.Eval[int](b, `performance.getEntriesByType('resource').filter(e => new URL(e.name).pathname === '/graphql').length`); n != 0 {
		t.Errorf("%d requests to /graphql before a key was given", n)
	}
	b.CheckAxe("key prompt")
	// At phone width the prompt fits, and stays free of serious violations.
	b.Viewport(375, 800)
	if o := b.Overflow(); o > 0 {
		t.Errorf("at 375 px the key prompt is %d px too wide", o)
	}
	b.Screenshot("1-key-prompt-375")
	b.CheckAxe("key prompt at 375 px")
	b.Viewport(1280, 800)
	b.Do(chromedp.SendKeys(chromedp.CSS("#api-key"), srv.AdminKey), chromedp.Click(chromedp.CSS(`#key-form button[type="submit"]`)))
	b.WaitFor("GraphiQL shows", `document.querySelector('.graphiql-query-editor .CodeMirror')`, 30*time.Second)
	if got := browsertest.Eval[string](b, `sessionStorage.getItem('ocrinvoice.playground.apiKey')`); got != srv.AdminKey {
		t.Errorf("sessionStorage holds %q, want the key", got)
	}
	if browsertest.Eval[bool](b, `Object.keys(localStorage).some(k => (localStorage.getItem(k) || '').includes(`+jsString(srv.AdminKey)+`))`) {
		t.Error("the key is in localStorage")
	}

	// A query.
	run(b, "Templates", `query Templates { ocrTemplates { totalCount } }`)
	b.WaitFor("the query's answer", responseText+`.includes('"totalCount"')`, 30*time.Second)
	b.Screenshot("2-query")
	if got := browsertest.Eval[string](b, responseText); strings.Contains(got, "errors") {
		t.Errorf("query answered %s", got)
	}

	// The Docs panel lists the schema, which only the standard introspection query fetched.
	b.Do(chromedp.Click(chromedp.CSS(`button[aria-label="Show Documentation Explorer"]`)))
	b.WaitFor("the Docs panel lists the root types", `(document.querySelector('.graphiql-doc-explorer') || {}).textContent?.includes('Subscription')`, 30*time.Second)
	b.Do(chromedp.Click(chromedp.CSS(`.graphiql-doc-explorer a.graphiql-doc-explorer-type-name`)))
	b.WaitFor("the Docs panel opens the Query type", `document.querySelector('.graphiql-doc-explorer').textContent.includes('ocrInvoiceJobs')`, 10*time.Second)
	b.Screenshot("3-docs")
	checkGraphiQLAxe(t, b, "GraphiQL with Docs")
	b.Viewport(375, 800)
	b.WaitFor("GraphiQL redraws at 375 px", `window.innerWidth === 375`, 10*time.Second)
	if o := b.Overflow(); o > 0 {
		t.Errorf("at 375 px the playground is %d px too wide", o)
	}
	b.Screenshot("3-docs-375")
	checkGraphiQLAxe(t, b, "GraphiQL at 375 px")
	b.Viewport(1280, 800)

	// A subscription to a queued job, which a worker started afterwards completes: every
	// event arrives over the WebSocket, the last one completed.
	id := srv.CreateJob("invoice.pdf", testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines}))
	run(b, "Progress", `subscription Progress { ocrInvoiceJobProgress(id: "`+id+`") { jobId status progress { percentage currentStep } } }`)
	b.WaitFor("the first event (the job's current state)", responseText+`.includes('"queued"')`, 30*time.Second)
	b.Screenshot("4-subscription-queued")
	srv.StartWorker()
	seen := map[string]bool{}
	deadline := time.Now().Add(90 * time.Second)
	for !seen["completed"] {
		var ev struct {
			Data struct {
				P struct{ Status string } `json:"ocrInvoiceJobProgress"`
			}
		}
		if txt := browsertest.Eval[string](b, responseText); json.Unmarshal([]byte(txt), &ev) == nil && ev.Data.P.Status != "" {
			seen[ev.Data.P.Status] = true
		}
		if time.Now().After(deadline) {
			b.Screenshot("failure")
			t.Fatalf("no completed event within 90 s; statuses seen %v", seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Screenshot("5-subscription-completed")
	t.Logf("statuses seen over the WebSocket: %v", seen)
	if !seen["queued"] || len(seen) < 2 {
		t.Errorf("statuses seen %v: want queued, then more events through to completed", seen)
	}

	// Changing the key: the prompt comes back, the new key is used (a wrong one is
	// refused), and the schema is fetched again with it.
	b.Do(chromedp.Click(chromedp.CSS("#change-key")), chromedp.WaitVisible(chromedp.CSS("#api-key")))
	if got := browsertest.Eval[*string](b, `sessionStorage.getItem('ocrinvoice.playground.apiKey')`); got != nil {
		t.Errorf("after Change API key, sessionStorage still holds %q", *got)
	}
	introspections := `performance.getEntriesByType('resource').filter(e => new URL(e.name).pathname === '/graphql').length`
	before := browsertest.Eval[int](b, introspections)
	b.Do(chromedp.SendKeys(chromedp.CSS("#api-key"), "oik_wrong"), chromedp.Click(chromedp.CSS(`#key-form button[type="submit"]`)))
	b.WaitFor("GraphiQL shows again", `document.querySelector('.graphiql-query-editor .CodeMirror')`, 30*time.Second)
	b.WaitFor("the schema is fetched again", introspections+` > `+itoa(before), 30*time.Second)
	run(b, "Templates", `query Templates { ocrTemplates { totalCount } }`)
	b.WaitFor("the wrong key is refused", responseText+`.includes('UNAUTHENTICATED')`, 30*time.Second)
	b.Screenshot("6-wrong-key")
	t.Logf("browser steps took %s", time.Since(start).Round(time.Millisecond))
}

// checkGraphiQLAxe fails the test on axe-core's serious violations in our part of the
// page (the bar and the key prompt), and logs those inside GraphiQL (#graphiql), which
// come with GraphiQL itself.
func checkGraphiQLAxe(t *testing.T, b *browsertest.Browser, screen string) {
	t.Helper()
	ours := map[string]bool{}
	for _, v := range b.Axe("#graphiql") {
		ours[v.String()] = true
		t.Errorf("%s: axe-core: %s", screen, v)
	}
	for _, v := range b.Axe() {
		if !ours[v.String()] {
			t.Logf("%s: axe-core, inside GraphiQL: %s", screen, v)
		}
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
