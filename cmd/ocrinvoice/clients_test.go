package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// npmTools is the folder of the pinned npm tools (tools/npm), from this package's folder.
const npmTools = "../../tools/npm"

// graphqlClientModes are the optional checks of tools/npm/graphql-clients.mjs that
// TestGraphQLClientsContract runs: "--batch" (graphql-request's batchRequests, which the
// server answers since batches are supported); "--single-connection" (graphql-sse's single
// connection mode) belongs here if the server ever supports it (it answers NOT_SUPPORTED).
var graphqlClientModes = []string{"--batch"}

// TestGraphQLClientsContract runs the GraphQL clients users take from npm (graphql-ws,
// graphql-sse in its distinct connections mode, graphql-request; pinned in
// tools/npm/package-lock.json) against the server: both streams follow one job from
// processing to completed, graphql-request reads the job and gets a GraphQL error, not a
// transport failure, for a bad id, and urql reads the job too. It skips when the tools are not installed
// (`make npm-install`), except under CI=true: .ci/run installs them.
func TestGraphQLClientsContract(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server and node")
	}
	// CI installs the tools (.ci/run: make npm-install), so there a missing one fails.
	skip := t.Skipf
	if os.Getenv("CI") == "true" {
		skip = t.Fatalf
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node is not on PATH: the GraphQL client contract test needs Node.js >= 20.19 (see .ci/deps --tests)")
	}
	for _, pkg := range []string{"graphql-request", "graphql-ws", "graphql-sse", "ws", "@urql/core"} {
		if _, err := os.Stat(filepath.Join(npmTools, "node_modules", pkg, "package.json")); err != nil {
			skip("npm package %s is not installed in tools/npm: run 'make npm-install' to run this test", pkg)
		}
	}

	docs := newGatedDocs(t)
	p := start(t, testEnv(t, map[string]string{"OCRINVOICE_FETCH_ALLOW_CIDRS": "127.0.0.0/8"}), "all")
	code, b := p.request(t, "POST", "/api/v1/ocr-invoice-jobs", fmt.Sprintf(`{
		"jobNumber": "CLIENTS-1", "documentName": "invoice.pdf", "documentType": "pdf",
		"documentUrl": %q, "template": "generic"}`, docs.URL+"/invoice.pdf"))
	if code != http.StatusCreated {
		t.Fatalf("create job: %d %s", code, b)
	}
	var created struct {
		Data struct {
			ID string `json:"_id"`
		} `json:"data"`
	}
	decode(t, b, &created)
	docs.waitHeld(t) // the job is processing, held in its fetch step

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := append([]string{filepath.Join(npmTools, "graphql-clients.mjs")}, graphqlClientModes...)
	args = append(args, "http://"+p.addr+"/graphql", created.Data.ID)
	cmd := exec.CommandContext(ctx, node, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if sc.Text() == `{"subscribed":true}` {
			docs.open() // both clients have the processing state: let the job finish
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node graphql-clients.mjs: %v\nstdout:\n%s\nstderr:\n%s\nserver log:\n%s", err, strings.Join(lines, "\n"), stderr.String(), p.stderr)
	}
	if len(lines) != 2 || lines[0] != `{"subscribed":true}` {
		t.Fatalf("script printed:\n%s\nstderr:\n%s", strings.Join(lines, "\n"), stderr.String())
	}

	type event struct {
		JobID    string `json:"jobId"`
		Status   string `json:"status"`
		Progress struct {
			Percentage  int    `json:"percentage"`
			CurrentStep string `json:"currentStep"`
		} `json:"progress"`
		At time.Time `json:"at"`
	}
	var res struct {
		WS, SSE   []event
		SSESingle []event `json:"sseSingle"`
		Batch     []struct {
			Data   map[string]any
			Errors []any
		}
		Request, URQL struct {
			Node struct {
				ID, JobNumber, Status string
			}
		}
		RequestError *struct {
			Status int
			Errors []struct {
				Message    string
				Extensions map[string]any
			}
		}
	}
	t.Logf("clients saw: %s", lines[1])
	decode(t, []byte(lines[1]), &res)
	streams := map[string][]event{"graphql-ws": res.WS, "graphql-sse": res.SSE}
	if slices.Contains(graphqlClientModes, "--single-connection") {
		streams["graphql-sse single connection"] = res.SSESingle
	}
	if slices.Contains(graphqlClientModes, "--batch") {
		if len(res.Batch) != 2 || res.Batch[0].Data["node"] == nil || res.Batch[1].Data["ocrInvoiceJobs"] == nil {
			t.Errorf("graphql-request batchRequests: %+v; want both answers with data", res.Batch)
		}
	}
	if res.URQL.Node.ID != created.Data.ID || res.URQL.Node.Status != "completed" {
		t.Errorf("urql read %+v, want the completed job %s", res.URQL.Node, created.Data.ID)
	}
	for name, evs := range streams {
		if len(evs) == 0 {
			t.Errorf("%s: no events", name)
			continue
		}
		first, last := evs[0], evs[len(evs)-1]
		if first.Status != "processing" || last.Status != "completed" || last.Progress.Percentage != 100 {
			t.Errorf("%s: first %+v, last %+v; want processing first and completed at 100%% last", name, first, last)
		}
		for i, ev := range evs {
			if ev.JobID != created.Data.ID {
				t.Errorf("%s: event %d is of job %q", name, i, ev.JobID)
			}
			if i > 0 && ev.At.Before(evs[i-1].At) {
				t.Errorf("%s: event %d (%s) is older than the one before (%s)", name, i, ev.At, evs[i-1].At)
			}
		}
	}
	if n := res.Request.Node; n.ID != created.Data.ID || n.JobNumber != "CLIENTS-1" || n.Status != "completed" {
		t.Errorf("graphql-request read %+v", n)
	}
	if e := res.RequestError; e == nil || e.Status != http.StatusOK || len(e.Errors) != 1 || e.Errors[0].Extensions["code"] == nil {
		t.Errorf("graphql-request with a bad id: %+v; want one GraphQL error with a code in a 200 answer", e)
	}
}
