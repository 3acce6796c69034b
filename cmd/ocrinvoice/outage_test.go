package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
)

// pgCluster is a PostgreSQL cluster of one test: its own data directory and port.
type pgCluster struct {
	bin  string // directory of initdb and pg_ctl
	dir  string // owned by the cluster's OS user
	port int
	asPG bool // run the tools as the postgres user (initdb refuses root)
}

// startPostgres initialises and starts a cluster of the test's own on a free port, with
// trust authentication for the role "ocr", and stops it in t.Cleanup. It skips the test
// when the PostgreSQL binaries are missing.
func startPostgres(t *testing.T) *pgCluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		t.Skip("PostgreSQL binaries (/usr/lib/postgresql/*/bin/pg_ctl) not found: outage test skipped")
	}
	slices.Sort(bins)
	c := &pgCluster{bin: filepath.Dir(bins[len(bins)-1]), asPG: os.Geteuid() == 0}
	dir, err := os.MkdirTemp("", "ocrinvoice-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir = dir
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if c.asPG {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("running as root without a postgres user (initdb refuses root): %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	c.run(t, "initdb", "-D", c.data(), "-U", "ocr", "--auth=trust", "--no-sync", "-E", "UTF8")
	c.start(t)
	t.Cleanup(func() { _ = c.pgctl("stop", "-m", "immediate", "-w") })
	return c
}

func (c *pgCluster) data() string { return filepath.Join(c.dir, "data") }

// URL is the DATABASE_URL of the cluster's postgres database.
func (c *pgCluster) URL() string {
	return fmt.Sprintf("postgres://ocr@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=3", c.port)
}

// output runs one of the cluster's tools, bounded by 30 s, and returns its output.
func (c *pgCluster) output(tool string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path := filepath.Join(c.bin, tool)
	if c.asPG {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", "postgres", "--", path}, args...)...).CombinedOutput()
	}
	return exec.CommandContext(ctx, path, args...).CombinedOutput()
}

func (c *pgCluster) run(t *testing.T, tool string, args ...string) {
	t.Helper()
	if out, err := c.output(tool, args...); err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
}

func (c *pgCluster) pgctl(args ...string) error {
	args = append([]string{"-D", c.data()}, args...)
	if out, err := c.output("pg_ctl", args...); err != nil {
		return fmt.Errorf("pg_ctl %v: %w\n%s", args, err, out)
	}
	return nil
}

func (c *pgCluster) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", c.port, c.dir)
	if err := c.pgctl("start", "-w", "-t", "20", "-l", filepath.Join(c.dir, "log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		t.Fatalf("%v\n%s", err, log)
	}
}

// outageAnswer is one HTTP answer of the outage test.
type outageAnswer struct {
	code       int
	retryAfter string
	body       []byte
}

func outageRequest(t *testing.T, p *process, method, path, body string) outageAnswer {
	t.Helper()
	resp, b := p.send(t, "", method, path, body)
	return outageAnswer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: b}
}

func createJobBody(number string) string {
	return fmt.Sprintf(`{"jobNumber": %q, "documentName": "invoice.pdf",
		"documentUrl": "http://127.0.0.1:9/invoice.pdf", "template": "generic"}`, number)
}

func gqlBody(query string, vars map[string]any) string {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return string(b)
}

const (
	outageListQuery  = `{ ocrInvoiceJobs(first: 5) { totalCount edges { node { id } } } }`
	outageCreateJob  = `mutation($in: CreateOcrInvoiceJobInput!) { createOcrInvoiceJob(input: $in) { id } }`
	outageCreateTmpl = `mutation { createOcrTemplate(input: {name: "outage"}) { id } }`
)

func gqlJobInput(number string) map[string]any {
	return map[string]any{"in": map[string]any{"jobNumber": number, "documentName": "a.pdf",
		"documentURL": "http://127.0.0.1:9/a.pdf", "templateID": "generic"}}
}

// TestDatabaseOutageAnswersUnavailable runs serve on a PostgreSQL cluster of its own and
// stops the cluster (immediate shutdown): the very first REST and GraphQL requests after
// it answer 503 UNAVAILABLE with Retry-After (GraphQL too, with extensions.code
// UNAVAILABLE), mutations included, and /readyz names the database. After a restart the
// same requests succeed, and no job that was refused during the outage exists.
func TestDatabaseOutageAnswersUnavailable(t *testing.T) {
	pg := startPostgres(t)
	rs := redistest.Start(t)
	p := start(t, testEnv(t, map[string]string{"DATABASE_URL": pg.URL(), "REDIS_URL": rs.URL(),
		"OCRINVOICE_FETCH_ALLOW_CIDRS": "127.0.0.0/8"}), "serve")

	// Up: both surfaces answer, and the pool holds connections that the stop kills.
	if a := outageRequest(t, p, "POST", "/api/v1/ocr-invoice-jobs", createJobBody("OUT-BEFORE")); a.code != http.StatusCreated {
		t.Fatalf("create before the outage: %d %s", a.code, a.body)
	}
	if a := outageRequest(t, p, "POST", "/graphql", gqlBody(outageListQuery, nil)); a.code != 200 || strings.Contains(string(a.body), `"errors"`) {
		t.Fatalf("GraphQL before the outage: %d %s", a.code, a.body)
	}

	if err := pg.pgctl("stop", "-m", "immediate", "-w"); err != nil {
		t.Fatal(err)
	}

	wantREST := func(name string, a outageAnswer) {
		t.Helper()
		var env struct {
			Success bool `json:"success"`
			Error   struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(a.body, &env); err != nil {
			t.Errorf("%s: %d %q: %v", name, a.code, a.body, err)
			return
		}
		if a.code != http.StatusServiceUnavailable || env.Error.Code != "UNAVAILABLE" || a.retryAfter == "" {
			t.Errorf("%s during the outage: %d Retry-After %q %s, want 503 UNAVAILABLE with Retry-After", name, a.code, a.retryAfter, a.body)
		}
		if strings.Contains(string(a.body), "dial") || strings.Contains(string(a.body), "127.0.0.1") {
			t.Errorf("%s: the body shows the cause: %s", name, a.body)
		}
	}
	wantGraphQL := func(name string, a outageAnswer) {
		t.Helper()
		var out struct {
			Data   json.RawMessage `json:"data"`
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(a.body, &out); err != nil {
			t.Errorf("%s: %d %q: %v", name, a.code, a.body, err)
			return
		}
		if a.code != http.StatusServiceUnavailable || a.retryAfter == "" || len(out.Errors) == 0 ||
			out.Errors[0].Extensions["code"] != "UNAVAILABLE" {
			t.Errorf("%s during the outage: %d Retry-After %q %s, want HTTP 503 with Retry-After and code UNAVAILABLE", name, a.code, a.retryAfter, a.body)
		}
		if strings.Contains(string(a.body), "dial") || strings.Contains(string(a.body), "127.0.0.1") {
			t.Errorf("%s: the body shows the cause: %s", name, a.body)
		}
	}
	// The first request of each surface after the stop is the one that matters: it meets
	// the pool's dead connections.
	wantREST("REST list (first)", outageRequest(t, p, "GET", "/api/v1/ocr-invoice-jobs", ""))
	wantGraphQL("GraphQL list (first)", outageRequest(t, p, "POST", "/graphql", gqlBody(outageListQuery, nil)))
	wantREST("REST create", outageRequest(t, p, "POST", "/api/v1/ocr-invoice-jobs", createJobBody("OUT-DURING-REST")))
	wantGraphQL("GraphQL create job", outageRequest(t, p, "POST", "/graphql", gqlBody(outageCreateJob, gqlJobInput("OUT-DURING-GQL"))))
	wantGraphQL("GraphQL mutation in a transaction", outageRequest(t, p, "POST", "/graphql", gqlBody(outageCreateTmpl, nil)))

	a := outageRequest(t, p, "GET", "/readyz", "")
	var ready struct {
		Checks map[string]string `json:"checks"`
		Failed []string          `json:"failed"`
	}
	decode(t, a.body, &ready)
	if a.code != http.StatusServiceUnavailable || ready.Checks["database"] != "failed" || !slices.Equal(ready.Failed, []string{"database"}) {
		t.Errorf("readyz during the outage: %d %s, want 503 naming the database", a.code, a.body)
	}

	pg.start(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		a := outageRequest(t, p, "GET", "/readyz", "")
		if a.code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz after the restart: %d %s", a.code, a.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if a := outageRequest(t, p, "GET", "/api/v1/ocr-invoice-jobs", ""); a.code != 200 {
		t.Errorf("REST list after the restart: %d %s", a.code, a.body)
	}
	if a := outageRequest(t, p, "POST", "/graphql", gqlBody(outageListQuery, nil)); a.code != 200 || strings.Contains(string(a.body), `"errors"`) {
		t.Errorf("GraphQL list after the restart: %d %s", a.code, a.body)
	}
	if a := outageRequest(t, p, "POST", "/api/v1/ocr-invoice-jobs", createJobBody("OUT-AFTER")); a.code != http.StatusCreated {
		t.Errorf("create after the restart: %d %s", a.code, a.body)
	}

	// Nothing half-written: exactly the jobs whose creation was answered 201 exist, and
	// nothing of the refused template.
	db, err := sql.Open("postgres", pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT job_number FROM ocr_invoice_jobs WHERE job_number LIKE 'OUT-%' ORDER BY job_number`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var numbers []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := []string{"OUT-AFTER", "OUT-BEFORE"}; !slices.Equal(numbers, want) {
		t.Errorf("jobs after the outage %q, want %q", numbers, want)
	}
	var templates int
	if err := db.QueryRow(`SELECT count(*) FROM ocr_templates WHERE name = 'outage'`).Scan(&templates); err != nil {
		t.Fatal(err)
	}
	if templates != 0 {
		t.Errorf("%d templates written by a mutation answered 503", templates)
	}
	if err := p.stop(t); err != nil {
		t.Errorf("serve returned %v", err)
	}
}
