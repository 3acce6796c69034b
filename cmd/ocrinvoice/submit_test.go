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

	t.Run("a URL that is not found: the job fails, exit code 2", func(t *testing.T) {
		missing := httptest.NewServer(http.NotFoundHandler())
		defer missing.Close()
		stdout, stderr, err := submitRun(t, map[string]string{"OCRINVOICE_SERVER": server},
			missing.URL+"/gone.pdf", "--wait", "--template", "generic", "--priority", "high")
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "failed") || !strings.Contains(err.Error(), "404") {
			t.Fatalf("submit: %v (exit %d), want a failed job with the reason and exit code 2\n%s", err, exitCode(err), stderr)
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

	t.Run("--json --wait: one JSON object per event", func(t *testing.T) {
		_, stderr, err := submitRun(t, nil, "--server", server, "--json", "--wait", file)
		if err != nil {
			t.Fatal(err)
		}
		var last map[string]any
		for _, line := range strings.Split(strings.TrimSpace(stderr), "\n")[1:] {
			if err := json.Unmarshal([]byte(line), &last); err != nil {
				t.Fatalf("line %q is not JSON: %v", line, err)
			}
		}
		if last["status"] != "completed" {
			t.Errorf("last event %v", last)
		}
	})

	t.Run("usage and connection errors: exit code 1", func(t *testing.T) {
		for name, args := range map[string][]string{
			"no document":      {"--server", server},
			"two documents":    {"--server", server, file, file},
			"bad server":       {"--server", "ftp://x", file},
			"missing file":     {"--server", server, filepath.Join(t.TempDir(), "none.pdf")},
			"nobody listening": {"--server", "http://127.0.0.1:1", file},
			"unknown template": {"--server", server, "--template", "no-such-template", file},
			"unknown flag":     {"--nope", file},
		} {
			_, _, err := submitRun(t, nil, args...)
			if err == nil || exitCode(err) != 1 {
				t.Errorf("%s: %v (exit %d), want an error with exit code 1", name, err, exitCode(err))
			}
		}
	})
}
