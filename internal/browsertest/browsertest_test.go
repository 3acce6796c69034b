package browsertest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ocrinvoice/ocrinvoice/internal/browsertest"
)

// TestNetworkCutOff: a page of the server reaches the server, but neither another
// loopback server (by fetch or WebSocket) nor the internet; the blocked fetches are
// recorded.
func TestNetworkCutOff(t *testing.T) {
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<!DOCTYPE html><title>cut-off</title><p id="ok">server page</p>`)
	}))
	defer page.Close()
	var outside atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outside.Add(1)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		io.WriteString(w, "reached")
	}))
	defer other.Close()

	b := browsertest.New(t, page.URL)
	b.Do(chromedp.Navigate(page.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#ok")))
	try := `fetch(%q).then(r => r.text(), e => 'failed: ' + e)`
	if got := browsertest.Eval[string](b, strings.Replace(try, "%q", `'`+page.URL+`/again'`, 1)); strings.HasPrefix(got, "failed") {
		t.Errorf("the server itself: %s", got)
	}
	for _, u := range []string{other.URL + "/x", "http://example.com/", "https://cdn.jsdelivr.net/npm/graphiql"} {
		if got := browsertest.Eval[string](b, strings.Replace(try, "%q", `'`+u+`'`, 1)); !strings.HasPrefix(got, "failed") {
			t.Errorf("fetch %s: %s, want failed", u, got)
		}
	}
	ws := `new Promise(res => { const s = new WebSocket('ws://` + strings.TrimPrefix(other.URL, "http://") + `/'); s.onopen = () => res('open'); s.onerror = () => res('error'); })`
	if got := browsertest.Eval[string](b, ws); got != "error" {
		t.Errorf("WebSocket to another loopback port: %s", got)
	}
	if n := outside.Load(); n != 0 {
		t.Errorf("the other server got %d requests", n)
	}
	blocked := b.TakeBlocked()
	for _, want := range []string{other.URL + "/x", "http://example.com/"} {
		if !slices.Contains(blocked, want) {
			t.Errorf("blocked %v lacks %s", blocked, want)
		}
	}
	b.Screenshot("page")
}

// TestDownloadAxeViewport: Download returns a blob download's name and content, Axe finds
// an unlabelled input (and not when it is excluded), Overflow sees a page too wide for
// the phone width Viewport sets.
func TestDownloadAxeViewport(t *testing.T) {
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<!DOCTYPE html><html lang="en"><title>tools</title><main>
<button id="dl" onclick="const a = document.createElement('a'); a.href = window.URL.createObjectURL(new Blob(['a,b\r\n1,2\r\n'])); a.download = 'x.csv'; a.click()">Download</button>
<div id="bad"><input type="text"></div><div style="width:600px">wide</div></main>`)
	}))
	defer page.Close()
	b := browsertest.New(t, page.URL)
	b.Do(chromedp.Navigate(page.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#dl")))

	name, data := b.Download(chromedp.Click(chromedp.CSS("#dl")))
	if name != "x.csv" || string(data) != "a,b\r\n1,2\r\n" {
		t.Errorf("download %q: %q", name, data)
	}
	if vs := b.Axe(); !slices.ContainsFunc(vs, func(v browsertest.Violation) bool { return v.ID == "label" }) {
		t.Errorf("axe-core finds %v, want the unlabelled input", vs)
	}
	if vs := b.Axe("#bad"); len(vs) != 0 {
		t.Errorf("axe-core without #bad finds %v", vs)
	}
	if o := b.Overflow(); o != 0 {
		t.Errorf("at 1280 px the page overflows by %d", o)
	}
	b.Viewport(375, 800)
	if o := b.Overflow(); o <= 0 {
		t.Errorf("at 375 px a 600 px block overflows by %d", o)
	}
}
