// Package browsertest runs browser tests: a real ocrinvoice process (API and worker
// through app.New, SQLite in a temporary directory, a private redis-server) and a
// headless Chromium driven with chromedp, whose network is cut off from everything but
// that server.
//
//	srv := browsertest.StartServer(t, nil)   // API only; StartWorker adds the worker
//	b := browsertest.New(t, srv.URL)
//	b.Do(chromedp.Navigate(srv.URL+"/playground"), chromedp.WaitVisible(chromedp.CSS("#api-key")))
//	b.Screenshot("key-prompt")
//	b.CheckAxe("key prompt")                 // axe-core: no serious violation
//	b.Viewport(375, 800)                     // phone width; b.Overflow() is 0 when nothing scrolls sideways
//	name, data := b.Download(chromedp.Click(chromedp.CSS("#download")))
//
// Waits are on conditions (WaitFor, WaitText, chromedp's WaitVisible), bounded by
// StepTimeout or the caller's timeout, and the whole test by Timeout; none sleeps a fixed
// time. The server side (Server) makes keys, jobs and uploads through the real API.
//
// Chromium is found as $CHROMIUM, else chromium, chromium-browser or google-chrome on
// PATH (Debian: apt-get install chromium; .ci/deps --tests installs it). Without one the
// test is skipped, unless CI=true, where it fails.
//
// The cut-off is twofold: Chromium's proxy is a closed port, bypassed only for the
// server's host:port (so WebSockets and requests to any other host or loopback port
// fail), and every request the page makes is intercepted: one to another origin is
// failed and recorded, and the test fails at its end listing them (a CDN script, a web
// font from the internet). Screenshots are written under
// $TMPDIR/ocrinvoice-browsertest/<test name>/, kept after the test as its artifacts.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Timeout bounds one browser test (New's context): room for OCR of a real invoice under
// -race on a loaded 2-core machine.
const Timeout = 5 * time.Minute

// Browser is one headless Chromium tab for a test.
type Browser struct {
	// Ctx is the chromedp context of the tab, ended when the test ends or after Timeout;
	// pass it to chromedp.Run, or use Run.
	Ctx       context.Context
	t         testing.TB
	dir       string
	mu        sync.Mutex
	blocked   []string // requests to another origin, failed
	console   []string // console errors and uncaught exceptions
	downloads string   // the directory Download saves to, once allowed
}

// Chromium returns the path of the Chromium binary, or "" when there is none.
func Chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Require returns Chromium's path, or skips t when there is none (fails it when
// CI=true) and in -short. Call it before starting a server that only a browser test needs.
func Require(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test: not in -short")
	}
	exe := Chromium()
	if exe == "" {
		msg := "browser test: Chromium not found (install the Debian package chromium, or set CHROMIUM to its path)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return exe
}

// New starts headless Chromium (1280x800) for t, allowed to reach serverURL's origin
// only, and closes it when t ends. It skips t as Require does.
func New(t testing.TB, serverURL string) *Browser {
	t.Helper()
	exe := Require(t)
	u, err := url.Parse(serverURL)
	if err != nil || u.Host == "" {
		t.Fatalf("browser test: server URL %q: %v", serverURL, err)
	}
	origin := u.Scheme + "://" + u.Host
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		chromedp.NoSandbox, // tests run as root in containers
		chromedp.Flag("disable-dev-shm-usage", true),
		// No proxy answers on port 1: everything not bypassed fails. "<-loopback>"
		// removes the implicit bypass of localhost, so only the server is reachable.
		chromedp.ProxyServer("http://127.0.0.1:1"),
		chromedp.Flag("proxy-bypass-list", "<-loopback>;"+u.Host),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, Timeout)
	b := &Browser{Ctx: ctx, t: t, dir: screenshotDir(t)}
	t.Cleanup(func() {
		cancelTimeout()
		cancelTab()
		cancelAlloc()
		b.mu.Lock()
		defer b.mu.Unlock()
		if len(b.blocked) > 0 {
			t.Errorf("the page tried to reach other hosts, blocked: %s", strings.Join(b.blocked, ", "))
		}
	})
	// Start the browser and the tab with ctx itself (not one with a deadline of its own,
	// which would end the browser), then take every request before the page makes one.
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{}); err != nil {
		t.Fatalf("browser test: start %s: %v", exe, err)
	}
	paused := chromedp.Events(ctx, fetch.RequestPaused)
	go func() {
		for e, err := range paused {
			if err != nil {
				return
			}
			b.decide(ctx, origin, e)
		}
	}()
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				b.note(&b.console, string(m.Type)+": "+m.Text)
			}
		}
	}()
	return b
}

// decide lets a paused request through when it goes to origin, and fails it otherwise.
func (b *Browser) decide(ctx context.Context, origin string, e fetch.EventRequestPaused) {
	u := e.Request.URL
	if u == origin || strings.HasPrefix(u, origin+"/") || strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "blob:"+origin+"/") {
		_, _ = chromedp.Call(ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
		return
	}
	b.note(&b.blocked, u)
	_, _ = chromedp.Call(ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: e.RequestID, ErrorReason: network.ErrorReasonBlockedByClient})
}

func (b *Browser) note(list *[]string, s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	*list = append(*list, s)
}

// TakeBlocked returns the requests to other origins that were failed so far and forgets
// them, for a test that expects some (the test fails at its end for those left).
func (b *Browser) TakeBlocked() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.blocked
	b.blocked = nil
	return out
}

// Console returns the console errors and uncaught exceptions of the page so far.
func (b *Browser) Console() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// Helper marks the caller as a test helper.
func (b *Browser) Helper() { b.t.Helper() }

// Do runs actions in the tab; on error it saves a screenshot named "failure" and fails
// the test with the page's console errors.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.Ctx, actions...); err != nil {
		b.fail(err)
	}
}

func (b *Browser) fail(err error) {
	b.t.Helper()
	b.Screenshot("failure")
	ctx, cancel := context.WithTimeout(b.Ctx, 5*time.Second)
	defer cancel()
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	b.t.Fatalf("browser: %v\nconsole: %s\npage text:\n%s", err, strings.Join(b.Console(), "\n"), text)
}

// Screenshot saves a PNG of the whole page as <dir>/<name>.png and returns its path;
// a failure to take it is logged, not fatal.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.Ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(b.dir, safeName.ReplaceAllString(name, "_")+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	b.t.Logf("screenshot %s", p)
	return p
}

var safeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// screenshotDir is $TMPDIR/ocrinvoice-browsertest/<test name>, emptied first.
func screenshotDir(t testing.TB) string {
	dir := filepath.Join(os.TempDir(), "ocrinvoice-browsertest", safeName.ReplaceAllString(t.Name(), "_"))
	_ = os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("browser test: %v", err)
	}
	return dir
}

// Eval evaluates the JavaScript expression js in the page, awaiting it when it is a
// promise, and returns its value; an error fails the test.
func Eval[T any](b *Browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail(fmt.Errorf("evaluate %s: %w", js, err))
	}
	return v
}

// WaitFor evaluates the JavaScript expression js every 100 ms until it is truthy, and
// fails the test, naming what, when it is not after timeout.
func (b *Browser) WaitFor(what, js string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) || b.Ctx.Err() != nil {
			b.fail(fmt.Errorf("%s: not after %s (last error: %v)", what, timeout, err))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Text waits (up to StepTimeout) for the element sel to be in the page and returns its
// text content.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	return b.WaitText(sel, "")
}

// WaitText waits until the text content of the element sel contains want, and returns
// it; it fails the test when that is not so after StepTimeout.
func (b *Browser) WaitText(sel, want string) string {
	b.t.Helper()
	js := `(document.querySelector(` + jsString(sel) + `) || {}).textContent`
	b.WaitFor(fmt.Sprintf("%s contains %q", sel, want), js+` !== undefined && `+js+`.includes(`+jsString(want)+`)`, StepTimeout)
	return Eval[string](b, js)
}

// StepTimeout is how long Text and WaitText wait: long enough for a real invoice's OCR
// on a loaded machine, as a step that waits for a condition and not a fixed time.
const StepTimeout = 90 * time.Second

// Viewport emulates a window of width x height CSS pixels (375 for a phone) until the
// next call; New starts at 1280x800.
func (b *Browser) Viewport(width, height int64) {
	b.t.Helper()
	b.Do(chromedp.EmulateViewport(width, height))
}

// Overflow returns by how many CSS pixels the page is wider than its viewport: 0 when
// nothing makes it scroll sideways.
func (b *Browser) Overflow() int {
	b.t.Helper()
	return Eval[int](b, `Math.max(0, document.documentElement.scrollWidth - window.innerWidth)`)
}

func jsString(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

// String names the browser for logs.
func (b *Browser) String() string { return fmt.Sprintf("chromium for %s", b.t.Name()) }
