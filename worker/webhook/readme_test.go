package webhook

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readmeSnippet returns the fenced block of README.md in lang that contains marker.
func readmeSnippet(t *testing.T, lang, marker string) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Skipf("no README next to the module: %v", err)
	}
	for _, block := range strings.Split(string(readme), "```"+lang+"\n")[1:] {
		code, _, ok := strings.Cut(block, "```")
		if ok && strings.Contains(code, marker) {
			return code
		}
	}
	t.Fatalf("README has no %s block containing %q", lang, marker)
	return ""
}

// TestREADMEPythonVerify runs the README's Python verification snippet on deliveries
// signed by Sign and wants the answers of Verify: a timestamp beyond the tolerance
// either way (an old one, and one from the future) is refused, as are a wrong secret
// and a changed body. (The snippet compares with hmac.compare_digest; this test checks
// what it accepts, not its timing.)
func TestREADMEPythonVerify(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	snippet := readmeSnippet(t, "python", "def verify(")
	const secret = "s3cret"
	body := `{"_id":"0123456789abcdef01234567","status":"completed"}`
	now := time.Now()
	sig := func(at time.Time) string { return Sign(secret, at, []byte(body)) }
	h := sig(now)
	hexSig := h[len(h)-64:]
	type check struct {
		Name   string `json:"name"`
		Secret string `json:"secret"`
		Header string `json:"header"`
		Body   string `json:"body"`
		want   bool
	}
	checks := []check{
		{"fresh", secret, h, body, true},
		{"four minutes old", secret, sig(now.Add(-4 * time.Minute)), body, true},
		{"four minutes ahead", secret, sig(now.Add(4 * time.Minute)), body, true},
		{"ten minutes old", secret, sig(now.Add(-10 * time.Minute)), body, false},
		{"ten minutes ahead", secret, sig(now.Add(10 * time.Minute)), body, false},
		{"a day ahead", secret, sig(now.Add(24 * time.Hour)), body, false},
		{"wrong secret", "other", h, body, false},
		{"changed body", secret, h, strings.Replace(body, "completed", "failed", 1), false},
		{"rotation", secret, Sign("old", now, []byte(body)) + ",v1=" + hexSig, body, true},
		{"upper-case hex", secret, h[:len(h)-64] + strings.ToUpper(hexSig), body, true},
		{"no signature", secret, strings.Split(h, ",")[0], body, false},
		{"two timestamps", secret, "t=1," + h, body, false},
		{"garbage", secret, "garbage", body, false},
	}
	in, err := json.Marshal(checks)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(t.TempDir(), "verify.py")
	driver := snippet + `
import json, sys
cases = json.load(sys.stdin)
print(json.dumps([verify(c["secret"].encode(), c["header"], c["body"].encode()) for c in cases]))
`
	if err := os.WriteFile(script, []byte(driver), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, script)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("run the README snippet: %v\n%s", err, out)
	}
	var got []bool
	if err := json.Unmarshal(out, &got); err != nil || len(got) != len(checks) {
		t.Fatalf("snippet answered %q (%v)", out, err)
	}
	for i, c := range checks {
		goOK := Verify(c.Secret, c.Header, []byte(c.Body), now, DefaultTolerance) == nil
		if goOK != c.want {
			t.Errorf("%s: Verify accepts %v, want %v", c.Name, goOK, c.want)
		}
		if got[i] != c.want {
			t.Errorf("%s: the README's Python verify answers %v, want %v", c.Name, got[i], c.want)
		}
	}
}
