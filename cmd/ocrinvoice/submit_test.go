package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
)

// submitRun runs `ocrinvoice submit args...` and returns its output and error.
func submitRun(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut syncBuffer
	err = run(ctx, append([]string{"submit"}, args...), func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

func exitCode(err error) int {
	var ec exitCoder
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ec):
		return ec.ExitCode()
	}
	return 1
}

func TestSubmit(t *testing.T) {
	api := start(t, testEnv(t, map[string]string{"OCRINVOICE_FETCH_ALLOW_CIDRS": "127.0.0.0/8"}), "all", "--concurrency", "1")
	server := "http://" + api.addr
	file := filepath.Join(t.TempDir(), "invoice.pdf")
	if err := os.WriteFile(file, testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines}), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("a local file, waited for: progress lines, then the extracted data", func(t *testing.T) {
		stdout, stderr, err := submitRun(t, nil, "--wait", "--server", server, file)
		if err != nil {
			t.Fatalf("submit: %v\n%s", err, stderr)
		}
		var res struct {
			ExtractedData struct {
				Invoice struct {
					Number  string `json:"number"`
					Amounts struct {
						Total *float64 `json:"total"`
					} `json:"amounts"`
				} `json:"invoice"`
			} `json:"extractedData"`
			Confidence map[string]any `json:"confidence"`
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatalf("stdout is not the results JSON: %v\n%s", err, stdout)
		}
		if inv := res.ExtractedData.Invoice; inv.Number != "INV-2024-0042" || inv.Amounts.Total == nil || *inv.Amounts.Total != 238 || res.Confidence == nil {
			t.Errorf("results %s", stdout)
		}
		// Not a terminal: one line per event, no carriage returns.
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if strings.Contains(stderr, "\r") || len(lines) < 3 {
			t.Fatalf("stderr %q, want a line per event", stderr)
		}
		if !strings.HasPrefix(lines[0], "Job ") || !strings.Contains(lines[0], "invoice-") {
			t.Errorf("first line %q, want the created job with its generated number", lines[0])
		}
		if last := lines[len(lines)-1]; !strings.Contains(last, "completed") || !strings.Contains(last, "100%") {
			t.Errorf("last line %q, want completed 100%%", last)
		}
		if !strings.Contains(stderr, " processing ") {
			t.Errorf("no processing line in %q", stderr)
		}
	})

	t.Run("a URL that is not found: the job fails, exit code 3", func(t *testing.T) {
		missing := httptest.NewServer(http.NotFoundHandler())
		defer missing.Close()
		stdout, stderr, err := submitRun(t, map[string]string{"OCRINVOICE_SERVER": server},
			missing.URL+"/gone.pdf", "--wait", "--template", "generic", "--priority", "high")
		if exitCode(err) != 3 || !strings.Contains(err.Error(), "failed") || !strings.Contains(err.Error(), "404") {
			t.Fatalf("submit: %v (exit %d), want a failed job with the reason and exit code 3\n%s", err, exitCode(err), stderr)
		}
		if stdout != "" {
			t.Errorf("stdout %q, want nothing for a failed job", stdout)
		}
		if !strings.Contains(stderr, " failed ") {
			t.Errorf("stderr %q, want the failed event", stderr)
		}
	})

	t.Run("without --wait: the created job", func(t *testing.T) {
		stdout, _, err := submitRun(t, nil, "--server", server, "--job-number", "SUBMIT-NOWAIT", file)
		if err != nil || !strings.HasPrefix(stdout, "Created job ") || !strings.Contains(stdout, "(SUBMIT-NOWAIT)") {
			t.Fatalf("submit: %q, %v", stdout, err)
		}
		stdout, _, err = submitRun(t, nil, "--server", server, "--json", "--job-number", "SUBMIT-JSON", file)
		var job map[string]any
		if err != nil || json.Unmarshal([]byte(stdout), &job) != nil || job["jobNumber"] != "SUBMIT-JSON" {
			t.Fatalf("submit --json: %q, %v", stdout, err)
		}
	})

	t.Run("--json --wait: every line on stderr is JSON, the created job first, then one per event", func(t *testing.T) {
		_, stderr, err := submitRun(t, nil, "--server", server, "--json", "--wait", "--job-number", "SUBMIT-JSON-WAIT", file)
		if err != nil {
			t.Fatal(err)
		}
		lines := jsonLines(t, stderr)
		if first := lines[0]; first["jobNumber"] != "SUBMIT-JSON-WAIT" || first["jobId"] == "" || first["message"] != "created; waiting for it" {
			t.Errorf("first line %v, want the created job", first)
		}
		if last := lines[len(lines)-1]; last["status"] != "completed" {
			t.Errorf("last event %v", last)
		}
	})

	t.Run("--json --wait of a job that fails: the error is a JSON line too, exit code 3", func(t *testing.T) {
		missing := httptest.NewServer(http.NotFoundHandler())
		defer missing.Close()
		stdout, stderr, err := submitRun(t, nil, "--server", server, "--json", "--wait", missing.URL+"/gone.pdf")
		if exitCode(err) != 3 || !errors.Is(err, errSilent) {
			t.Fatalf("submit: %v (exit %d), want exit code 3 and nothing more for main to print\n%s", err, exitCode(err), stderr)
		}
		if stdout != "" {
			t.Errorf("stdout %q, want nothing for a failed job", stdout)
		}
		lines := jsonLines(t, stderr)
		last := lines[len(lines)-1]
		if msg, _ := last["error"].(string); !strings.Contains(msg, "404") || last["exitCode"] != float64(3) {
			t.Errorf("last line %v, want the error with exitCode 3", last)
		}
	})

	t.Run("--json: a connection error is a JSON line, exit code 1", func(t *testing.T) {
		_, stderr, err := submitRun(t, nil, "--server", "http://127.0.0.1:1", "--json", "--wait", file)
		if exitCode(err) != 1 || !errors.Is(err, errSilent) {
			t.Fatalf("submit: %v (exit %d), want exit code 1", err, exitCode(err))
		}
		if lines := jsonLines(t, stderr); len(lines) != 1 || lines[0]["error"] == nil || lines[0]["exitCode"] != float64(1) {
			t.Errorf("stderr %q, want one JSON error line", stderr)
		}
	})

	t.Run("connection and API errors: exit code 1", func(t *testing.T) {
		for name, args := range map[string][]string{
			"bad server":       {"--server", "ftp://x", file},
			"missing file":     {"--server", server, filepath.Join(t.TempDir(), "none.pdf")},
			"nobody listening": {"--server", "http://127.0.0.1:1", file},
			"unknown template": {"--server", server, "--template", "no-such-template", file},
		} {
			_, _, err := submitRun(t, nil, args...)
			if err == nil || exitCode(err) != 1 {
				t.Errorf("%s: %v (exit %d), want an error with exit code 1", name, err, exitCode(err))
			}
		}
	})

	t.Run("usage errors: exit code 2 and a hint, before any request", func(t *testing.T) {
		for name, args := range map[string][]string{
			"no document":            {"--server", server},
			"two documents":          {"--server", server, file, file},
			"unknown flag":           {"--nope", file},
			"bad priority":           {"--server", server, "--priority", "asap", file},
			"bad timeout":            {"--server", server, "--timeout", "soon", file},
			"negative timeout":       {"--server", server, "--timeout", "-1s", file},
			"flag without its value": {file, "--server"},
		} {
			_, stderr, err := submitRun(t, nil, args...)
			if exitCode(err) != 2 || !strings.Contains(err.Error(), "ocrinvoice submit --help") {
				t.Errorf("%s: %v (exit %d), want a usage error with exit code 2 and the hint", name, err, exitCode(err))
			}
			if stderr != "" {
				t.Errorf("%s: stderr %q, want nothing but the error main prints", name, stderr)
			}
		}
	})
}

// jsonLines parses every line of s as a JSON object and fails the test if one is not.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not a JSON object: %v\n%s", line, err, s)
		}
		out = append(out, m)
	}
	return out
}
