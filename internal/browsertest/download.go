package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// Download runs trigger (a click on a download button, say), waits until the download
// it starts has completed, and returns the file name the page suggested and the file's
// content. Downloads go to a directory of the test's own; the test fails when none
// starts or none completes within StepTimeout.
func (b *Browser) Download(trigger ...chromedp.Action[chromedp.Void]) (name string, data []byte) {
	b.t.Helper()
	if b.downloads == "" {
		b.downloads = b.t.TempDir()
		// allowAndName saves each download as its GUID, so that two with one name stay apart.
		if _, err := chromedp.CallBrowser(b.Ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: b.downloads, EventsEnabled: new(true),
		}); err != nil {
			b.fail(fmt.Errorf("allow downloads: %w", err))
		}
	}
	ctx, cancel := context.WithTimeout(b.Ctx, StepTimeout)
	defer cancel()
	// Subscribe before the trigger, so that no event is lost.
	begins := chromedp.BrowserEvents(ctx, browser.DownloadWillBegin)
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	b.Do(trigger...)
	var guid string
	for e, err := range begins {
		if err != nil {
			b.fail(fmt.Errorf("no download started: %w", err))
		}
		guid, name = e.GUID, e.SuggestedFilename
		break
	}
	for e, err := range progress {
		if err != nil {
			b.fail(fmt.Errorf("download %s did not complete: %w", name, err))
		}
		if e.GUID != guid {
			continue
		}
		if e.State == browser.DownloadProgressStateCanceled {
			b.fail(fmt.Errorf("download %s was canceled", name))
		}
		if e.State == browser.DownloadProgressStateCompleted {
			break
		}
	}
	data, err := os.ReadFile(filepath.Join(b.downloads, guid))
	if err != nil {
		b.fail(fmt.Errorf("read download %s: %w", name, err))
	}
	return name, data
}
