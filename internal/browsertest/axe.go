package browsertest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chromedp/chromedp"
)

// Violation is one axe-core rule that the page breaks, serious or critical.
type Violation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"` // CSS selectors of the elements, at most 5
}

func (v Violation) String() string {
	return fmt.Sprintf("%s (%s: %s) at %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "))
}

// axeSource is axe-core's script from the review app's npm packages (web/package-lock.json
// pins it; make web-install installs it), read once.
var axeSource = sync.OnceValues(func() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			b, err := os.ReadFile(filepath.Join(dir, "web", "node_modules", "axe-core", "axe.min.js"))
			return string(b), err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the test's directory")
		}
		dir = parent
	}
})

// Axe runs axe-core on the page, injecting it first, and returns its serious and
// critical violations, leaving out the elements inside the selectors of exclude. Without
// axe-core installed (make web-install) it logs so and returns none, or fails the test
// when CI=true.
func (b *Browser) Axe(exclude ...string) []Violation {
	b.t.Helper()
	src, err := axeSource()
	if err != nil {
		if os.Getenv("CI") == "true" {
			b.t.Fatalf("axe-core is not installed (make web-install): %v", err)
		}
		b.t.Logf("axe-core is not installed (make web-install), no accessibility check: %v", err)
		return nil
	}
	if !Eval[bool](b, `typeof axe !== "undefined"`) {
		if _, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](src+";true")); err != nil {
			b.fail(fmt.Errorf("inject axe-core: %w", err))
		}
	}
	context := "document"
	if len(exclude) > 0 {
		ex, _ := json.Marshal(exclude)
		context = `{exclude: ` + string(ex) + `.map(s => [s])}`
	}
	out := Eval[string](b, `axe.run(`+context+`, {resultTypes: ["violations"]}).then(r => JSON.stringify(
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
		 .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}))))`)
	var vs []Violation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		b.fail(fmt.Errorf("axe-core's answer %s: %w", out, err))
	}
	return vs
}

// CheckAxe fails the test, naming the screen, for each serious or critical violation
// that Axe finds.
func (b *Browser) CheckAxe(screen string, exclude ...string) {
	b.t.Helper()
	for _, v := range b.Axe(exclude...) {
		b.t.Errorf("%s: axe-core: %s", screen, v)
	}
}
