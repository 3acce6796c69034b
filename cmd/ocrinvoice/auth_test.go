package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/live/livetest"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

var keyRE = regexp.MustCompile(`oik_[0-9a-f]{24}[A-Za-z0-9_-]{43}`)

// apikeyCmd runs `ocrinvoice apikey args...` against dataDir's SQLite database, which
// `ocrinvoice migrate` creates first when it does not exist (apikey never creates one).
func apikeyCmd(t *testing.T, dataDir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{"OCRINVOICE_DATA_DIR": dataDir}
	for i, a := range args[:max(len(args)-1, 0)] {
		if a == "--database-url" {
			env["DATABASE_URL"] = args[i+1]
		}
	}
	migrateData(t, func(k string) string { return env[k] })
	delete(env, "DATABASE_URL") // the command gets it from its flag
	err = run(context.Background(), append([]string{"apikey"}, args...), func(k string) string { return env[k] }, &out, &errb)
	return out.String(), errb.String(), err
}

// createKey makes a key with the command line and returns it.
func createKey(t *testing.T, dataDir string, args ...string) string {
	t.Helper()
	out, errOut, err := apikeyCmd(t, dataDir, append([]string{"create"}, args...)...)
	if err != nil {
		t.Fatalf("apikey create %v: %v\n%s", args, err, errOut)
	}
	key := strings.TrimSpace(out)
	if !keyRE.MatchString(key) || len(key) != auth.KeyLen {
		t.Fatalf("apikey create printed %q, not a key", out)
	}
	if strings.Contains(errOut, key) {
		t.Fatalf("the key was also written to stderr: %s", errOut)
	}
	return key
}

func TestAPIKeyCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	admin := createKey(t, dir, "--name", "ops", "--role", "admin")
	sub := createKey(t, dir, "--name", "team-a", "--role", "submitter", "--rate-limit", "5")
	if admin == sub {
		t.Fatal("two keys are equal")
	}

	out, _, err := apikeyCmd(t, dir, "list")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "ops") || !strings.Contains(out, "team-a") || strings.Contains(out, "oik_") {
		t.Fatalf("list shows the keys without their secrets:\n%s", out)
	}
	// A submitter's owner defaults to its name.
	out, _, err = apikeyCmd(t, dir, "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var keys []map[string]any
	if err := json.Unmarshal([]byte(out), &keys); err != nil || len(keys) != 2 {
		t.Fatalf("list --json: %v\n%s", err, out)
	}
	var subID string
	for _, k := range keys {
		if k["name"] == "team-a" {
			subID, _ = k["id"].(string)
			if k["owner"] != "team-a" || k["role"] != "submitter" {
				t.Fatalf("submitter key: %v", k)
			}
		}
	}
	if !strings.HasPrefix(sub, "oik_"+subID) {
		t.Fatalf("the key %q does not start with its id %s", sub, subID)
	}

	out, _, err = apikeyCmd(t, dir, "revoke", subID)
	if err != nil || !strings.Contains(out, "Revoked") {
		t.Fatalf("revoke: %v %s", err, out)
	}
	out, _, _ = apikeyCmd(t, dir, "list")
	if strings.Contains(out, "team-a") {
		t.Fatalf("a revoked key is listed without --all:\n%s", out)
	}
	out, _, _ = apikeyCmd(t, dir, "list", "--all")
	if !strings.Contains(out, "team-a") || !strings.Contains(out, "revoked") {
		t.Fatalf("list --all:\n%s", out)
	}

	for _, bad := range [][]string{
		{"create", "--name", "x", "--role", "root"},
		{"create", "--role", "viewer"},
		{"create", "--name", "x", "--role", "viewer", "--rate-limit", "-1"},
		{"revoke", "0123456789abcdef01234567"},
		{"revoke", "../../etc"},
		{"rotate"},
		{"create", "--name", "x", "--role", "viewer", "extra"},
	} {
		if _, _, err := apikeyCmd(t, dir, bad...); err == nil {
			t.Errorf("apikey %v: no error", bad)
		}
	}
}

// A fresh `all` with authentication on prints one admin key, once; the key works, and a
// request without it is refused.
func TestAllPrintsOneTimeAdminKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"OCRINVOICE_AUTH": "apikey", "OCRINVOICE_DATA_DIR": dir}
	p := start(t, testEnv(t, env), "all")
	key := waitKey(t, p)

	if code, body := p.authRequest(t, "", "GET", "/api/v1/ocr-invoice-jobs", ""); code != http.StatusUnauthorized {
		t.Fatalf("no key: %d %s", code, body)
	}
	if code, body := p.authRequest(t, key, "GET", "/api/v1/ocr-invoice-jobs", ""); code != http.StatusOK {
		t.Fatalf("bootstrap key: %d %s", code, body)
	}
	if err := p.stop(t); err != nil {
		t.Fatal(err)
	}

	p2 := start(t, testEnv(t, env), "all")
	time.Sleep(200 * time.Millisecond)
	if keyRE.MatchString(p2.stdout.String()) {
		t.Fatalf("a second start printed another key:\n%s", p2.stdout)
	}
	if code, body := p2.authRequest(t, key, "GET", "/api/v1/ocr-invoice-jobs", ""); code != http.StatusOK {
		t.Fatalf("the key after a restart: %d %s", code, body)
	}
	if strings.Contains(p2.stderr.String()+p.stderr.String(), key) {
		t.Fatal("the key was logged")
	}
}

// waitKey returns the admin key p printed on stdout.
func waitKey(t *testing.T, p *process) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if k := keyRE.FindString(p.stdout.String()); k != "" {
			return k
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no key printed:\n%s", p.stdout)
	return ""
}

// authRequest is request with an API key ("" sends none).
func (p *process) authRequest(t *testing.T, key, method, path, body string) (int, []byte) {
	t.Helper()
	resp, b := p.send(t, key, method, path, body)
	return resp.StatusCode, b
}

// send is authRequest answering the whole response (its body already read and closed).
func (p *process) send(t *testing.T, key, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+p.addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// The whole stack with keys: a submitter's upload, job, event stream and results through
// `submit --wait`; another submitter finds none of it over REST, GraphQL or SSE; a viewer
// reads but may not write; the dashboard wants an admin; a key over its rate gets 429.
func TestAuthEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	admin := createKey(t, dir, "--name", "ops", "--role", "admin")
	keyA := createKey(t, dir, "--name", "team-a", "--role", "submitter")
	keyB := createKey(t, dir, "--name", "team-b", "--role", "submitter", "--rate-limit", "1")
	viewer := createKey(t, dir, "--name", "audit", "--role", "viewer")
	p := start(t, testEnv(t, map[string]string{
		"OCRINVOICE_AUTH": "apikey", "OCRINVOICE_DATA_DIR": dir, "OCRINVOICE_FETCH_ALLOW_CIDRS": "127.0.0.0/8",
		"OCRINVOICE_RATE_BURST": "20",
	}), "all", "--concurrency", "1")
	if keyRE.MatchString(p.stdout.String()) {
		t.Fatal("all printed a key although an admin key exists")
	}

	file := filepath.Join(t.TempDir(), "invoice.pdf")
	if err := os.WriteFile(file, testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines}), 0o600); err != nil {
		t.Fatal(err)
	}
	server := "http://" + p.addr
	if _, stderr, err := submitRun(t, nil, "--server", server, file); err == nil {
		t.Fatalf("submit without a key succeeded:\n%s", stderr)
	} else if !strings.Contains(err.Error()+stderr, "UNAUTHENTICATED") {
		t.Fatalf("submit without a key: %v\n%s", err, stderr)
	}
	out, stderr, err := submitRun(t, map[string]string{"OCRINVOICE_API_KEY": keyA}, "--wait", "--json", "--server", server, file)
	if err != nil {
		t.Fatalf("submit as team-a: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "extractedData") {
		t.Fatalf("submit --wait printed no results:\n%s", out)
	}
	code, body := p.authRequest(t, keyA, "GET", "/api/v1/ocr-invoice-jobs", "")
	var list struct {
		Data []struct {
			ID        string `json:"_id"`
			CreatedBy string `json:"createdBy"`
			Status    string `json:"status"`
		} `json:"data"`
		Total int `json:"total"`
	}
	if err := json.Unmarshal(body, &list); code != http.StatusOK || err != nil || list.Total != 1 {
		t.Fatalf("team-a lists: %d %s", code, body)
	}
	job := list.Data[0]
	if job.CreatedBy != "team-a" || job.Status != "completed" {
		t.Fatalf("team-a's job: %+v", job)
	}

	// team-b: nothing of team-a's exists.
	for _, path := range []string{"/api/v1/ocr-invoice-jobs/" + job.ID, "/api/v1/ocr-invoice-jobs/" + job.ID + "/results", "/api/v1/ocr-invoice-jobs/" + job.ID + "/events"} {
		if code, body := p.authRequest(t, keyB, "GET", path, ""); code != http.StatusNotFound {
			t.Errorf("team-b GET %s: %d %s", path, code, body)
		}
	}
	if code, body := p.authRequest(t, keyB, "POST", "/api/v1/ocr-invoice-jobs/"+job.ID+"/retry", ""); code != http.StatusNotFound {
		t.Errorf("team-b retries team-a's job: %d %s", code, body)
	}
	if code, body := p.authRequest(t, keyB, "GET", "/api/v1/ocr-invoice-jobs", ""); code != http.StatusOK || !strings.Contains(string(body), `"total":0`) {
		t.Errorf("team-b lists: %d %s", code, body)
	}
	gql := func(key, query string) string {
		b, _ := json.Marshal(map[string]any{"query": query})
		_, resp := p.authRequest(t, key, "POST", "/graphql", string(b))
		return string(resp)
	}
	if got := gql(keyB, `{ ocrInvoiceJob(id: "`+job.ID+`") { id } }`); !strings.Contains(got, "NOT_FOUND") {
		t.Errorf("team-b reads team-a's job over GraphQL: %s", got)
	}
	if got := gql(keyB, `{ ocrInvoiceJobs(first: 10) { totalCount } }`); !strings.Contains(got, `"totalCount":0`) {
		t.Errorf("team-b counts over GraphQL: %s", got)
	}
	if got := gql(keyB, `mutation { createOcrInvoiceJob(input: {jobNumber: "B-1", documentName: "b.pdf", documentURL: "https://files.example.com/b.pdf", templateID: "generic", createdBy: "team-a"}) { id } }`); !strings.Contains(got, "FORBIDDEN") {
		t.Errorf("team-b forges createdBy: %s", got)
	}

	// A viewer without owner reads everything and writes nothing.
	if got := gql(viewer, `{ ocrInvoiceJobs(first: 10) { totalCount } }`); !strings.Contains(got, `"totalCount":1`) {
		t.Errorf("viewer counts: %s", got)
	}
	if code, body := p.authRequest(t, viewer, "POST", "/api/v1/ocr-invoice-jobs/"+job.ID+"/retry", ""); code != http.StatusForbidden {
		t.Errorf("viewer retries: %d %s", code, body)
	}
	// Keys through GraphQL: admins only.
	if got := gql(keyA, `{ apiKeys { id } }`); !strings.Contains(got, "FORBIDDEN") {
		t.Errorf("submitter lists keys: %s", got)
	}
	if got := gql(admin, `{ apiKeys { name role owner } }`); !strings.Contains(got, `"team-b"`) || strings.Contains(got, "oik_") {
		t.Errorf("admin lists keys: %s", got)
	}

	// The queue dashboard: a browser is asked for credentials; an admin key opens it.
	dash := func(user, pass string) *http.Response {
		req, _ := http.NewRequest("GET", server+"/monitor/", nil)
		if pass != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := dash("", ""); r.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("dashboard without a key: %d %q", r.StatusCode, r.Header.Get("WWW-Authenticate"))
	}
	if r := dash("me", keyA); r.StatusCode != http.StatusForbidden {
		t.Errorf("dashboard as a submitter: %d", r.StatusCode)
	}
	if r := dash("me", admin); r.StatusCode != http.StatusOK {
		t.Errorf("dashboard as admin: %d", r.StatusCode)
	}

	// team-b's own limit: 1 request/s, bursts of 20 (OCRINVOICE_RATE_BURST).
	limited := false
	for i := 0; i < 40 && !limited; i++ {
		req, _ := http.NewRequest("GET", server+"/api/v1/ocr-templates", nil)
		req.Header.Set("Authorization", "Bearer "+keyB)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = true
			if ra := resp.Header.Get("Retry-After"); ra == "" {
				t.Error("429 without Retry-After")
			}
		}
	}
	if !limited {
		t.Error("team-b was never rate limited")
	}
	// Others are not affected by team-b's limit.
	if code, _ := p.authRequest(t, keyA, "GET", "/api/v1/ocr-templates", ""); code != http.StatusOK {
		t.Errorf("team-a after team-b's flood: %d", code)
	}
	if strings.Contains(p.stderr.String(), keyA) || strings.Contains(p.stderr.String(), admin) {
		t.Error("a key was logged")
	}
}

// Two API replicas share one budget per key through Redis: a key with a burst of 6
// gets 6 requests in all, not 6 from each.
func TestRateLimitAcrossReplicas(t *testing.T) {
	rs := startRedisOnPort(t, 0)
	dir := t.TempDir()
	env := stackEnv(rs, dir, map[string]string{"OCRINVOICE_AUTH": "apikey", "OCRINVOICE_RATE_LIMIT": "0.2", "OCRINVOICE_RATE_BURST": "6"})
	key := createKey(t, dir, "--database-url", env["DATABASE_URL"], "--name", "team-a", "--role", "viewer")
	one := start(t, testEnv(t, env), "serve")
	two := start(t, testEnv(t, env), "serve")
	allowed := 0
	var retry string
	for i := 0; i < 12; i++ {
		p := one
		if i%2 == 1 {
			p = two
		}
		req, _ := http.NewRequest("GET", "http://"+p.addr+"/api/v1/ocr-templates", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			allowed++
		case http.StatusTooManyRequests:
			retry = resp.Header.Get("Retry-After")
		default:
			t.Fatalf("request %d: HTTP %d", i, resp.StatusCode)
		}
	}
	if allowed != 6 || retry == "" {
		t.Fatalf("%d of 12 requests allowed across two replicas (Retry-After %q), want the burst of 6", allowed, retry)
	}
}

// Invalid keys are limited per client address, in one budget for both replicas
// (OCRINVOICE_AUTH_FAILURE_RATE, _BURST); behind a trusted proxy
// (OCRINVOICE_TRUSTED_PROXIES) the client is what X-Forwarded-For names, so another
// client of the same proxy keeps working.
func TestAuthFailuresLimitedAcrossReplicas(t *testing.T) {
	rs := startRedisOnPort(t, 0)
	dir := t.TempDir()
	env := stackEnv(rs, dir, map[string]string{"OCRINVOICE_AUTH": "apikey",
		"OCRINVOICE_AUTH_FAILURE_RATE": "0.2", "OCRINVOICE_AUTH_FAILURE_BURST": "4", "OCRINVOICE_TRUSTED_PROXIES": "127.0.0.1/32"})
	key := createKey(t, dir, "--database-url", env["DATABASE_URL"], "--name", "team-a", "--role", "viewer")
	replicas := []*process{start(t, testEnv(t, env), "serve"), start(t, testEnv(t, env), "serve")}
	send := func(p *process, key, from string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+p.addr+"/api/v1/ocr-templates", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("X-Forwarded-For", from)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	bad := key[:len(key)-4] + "AAAA"
	if bad == key {
		bad = key[:len(key)-4] + "BBBB"
	}
	var codes []int
	retry := ""
	for i := range 8 {
		resp := send(replicas[i%2], bad, "198.51.100.1")
		codes = append(codes, resp.StatusCode)
		if resp.StatusCode == http.StatusTooManyRequests && retry == "" {
			retry = resp.Header.Get("Retry-After")
		}
	}
	if want := []int{401, 401, 401, 401, 429, 429, 429, 429}; fmt.Sprint(codes) != fmt.Sprint(want) || retry != "5" {
		t.Errorf("invalid keys from one client across two replicas: %v (Retry-After %q), want %v (Retry-After 5)", codes, retry, want)
	}
	for i, p := range replicas {
		if resp := send(p, key, "198.51.100.2"); resp.StatusCode != http.StatusOK {
			t.Errorf("replica %d: another client behind the proxy = %d", i, resp.StatusCode)
		}
	}
}

// The operations of a GraphQL WebSocket draw from the key's request budget (the server
// sees only the upgrade): with a burst of 3, the upgrade and two operations pass, the
// next operations are RATE_LIMITED.
func TestWebSocketOperationsShareTheKeyBudget(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	key := createKey(t, dir, "--name", "ws", "--role", "viewer")
	p := start(t, testEnv(t, map[string]string{"OCRINVOICE_AUTH": "apikey", "OCRINVOICE_DATA_DIR": dir,
		"OCRINVOICE_RATE_LIMIT": "0.1", "OCRINVOICE_RATE_BURST": "3"}), "serve")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, _, err := livetest.DialWS(ctx, "ws://"+p.addr+"/graphql", livetest.TransportWS, http.Header{"Authorization": {"Bearer " + key}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	if err := ws.Init(ctx); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for i := range 4 {
		id := string(rune('a' + i))
		if err := ws.Subscribe(ctx, id, `{ ocrTemplates { totalCount } }`, nil); err != nil {
			t.Fatal(err)
		}
		got, err := ws.Collect(ctx, id, nil)
		if err != nil || len(got) != 1 {
			t.Fatalf("operation %d: %v %v", i, got, err)
		}
		codes = append(codes, got[0].Code())
	}
	if strings.Join(codes, ",") != ",,RATE_LIMITED,RATE_LIMITED" {
		t.Fatalf("operation codes %q, want two answered, then RATE_LIMITED", codes)
	}
}

// keyedRequest is authRequest with a Content-Type and an X-Request-Id of the caller's.
func (p *process) keyedRequest(t *testing.T, key, method, path, contentType, requestID string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+p.addr+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+key)
	if requestID != "" {
		req.Header.Set("X-Request-Id", requestID)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// uploadWithKey uploads doc through REST with key and returns its documentUrl.
func (p *process) uploadWithKey(t *testing.T, key string, doc []byte) string {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "invoice.pdf")
	fw.Write(doc)
	mw.Close()
	code, b := p.keyedRequest(t, key, "POST", "/api/v1/uploads", mw.FormDataContentType(), "", buf.Bytes())
	var up struct {
		Data struct {
			DocumentURL string `json:"documentUrl"`
		} `json:"data"`
	}
	decode(t, b, &up)
	if code != http.StatusCreated || up.Data.DocumentURL == "" {
		t.Fatalf("upload: %d %s", code, b)
	}
	return up.Data.DocumentURL
}

// TestUploadsStayWithTheirOwner runs the binary with real keys: team-b creating a job on
// team-a's upload (its documentUrl, which is only the SHA-256 of team-a's document) gets
// exactly the 404 of an upload that does not exist, over REST and GraphQL, so it never
// reads team-a's invoice through /results; the same bytes uploaded by team-b are its
// own. An upload stored before uploads had owners (a job of team-a names it, no record)
// stays team-a's after the start.
func TestUploadsStayWithTheirOwner(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	keyA := createKey(t, dir, "--name", "team-a", "--role", "submitter")
	keyB := createKey(t, dir, "--name", "team-b", "--role", "submitter")

	// An earlier deployment: a stored file and a job of team-a's naming it, no record.
	legacyDoc := testdocs.PDF(testdocs.Page{Lines: []string{"Invoice LEGACY-7", "Total 70.00"}})
	store, err := uploads.New(filepath.Join(dir, "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	legacy, err := store.Put(context.Background(), bytes.NewReader(legacyDoc), 0)
	if err != nil {
		t.Fatal(err)
	}
	db, err := database.Open(context.Background(), "sqlite:"+filepath.Join(dir, "ocrinvoice.db"))
	if err != nil {
		t.Fatal(err)
	}
	svc := jobs.NewService(db, nil, jobs.Options{})
	if err := svc.EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}
	tpl, err := svc.GetTemplate(context.Background(), jobs.BuiltinTemplateName)
	if err != nil {
		t.Fatal(err)
	}
	db.OcrInvoiceJob.Create().SetJobNumber("LEGACY-7").SetDocumentName("legacy.pdf").SetDocumentURL(legacy.URL).
		SetDocumentType(ocrinvoicejob.DocumentTypePdf).SetTemplateID(tpl.ID).SetCreatedBy("team-a").
		SetStatus(ocrinvoicejob.StatusCompleted).ExecX(context.Background())
	_ = db.Close()

	p := start(t, testEnv(t, map[string]string{"OCRINVOICE_AUTH": "apikey", "OCRINVOICE_DATA_DIR": dir}), "serve")
	secret := p.uploadWithKey(t, keyA, testdocs.PDF(testdocs.Page{Lines: []string{"Invoice SECRET-A", "Total 999.00"}}))
	random := "upload://" + strings.Repeat("a", 64)
	jobBody := func(n, url string) []byte {
		return []byte(fmt.Sprintf(`{"jobNumber": %q, "documentName": "x.pdf", "documentUrl": %q, "template": "generic"}`, n, url))
	}

	t.Run("REST", func(t *testing.T) {
		for _, url := range []string{secret, legacy.URL} {
			codeA, other := p.keyedRequest(t, keyB, "POST", "/api/v1/ocr-invoice-jobs", "application/json", "same-id", jobBody("B-1", url))
			codeR, none := p.keyedRequest(t, keyB, "POST", "/api/v1/ocr-invoice-jobs", "application/json", "same-id", jobBody("B-1", random))
			if codeA != http.StatusNotFound || !strings.Contains(string(other), `"field":"documentUrl"`) {
				t.Fatalf("team-b names team-a's upload: %d %s", codeA, other)
			}
			if codeA != codeR || !bytes.Equal(other, none) {
				t.Fatalf("team-a's upload:\n  %d %s\nan upload that does not exist:\n  %d %s", codeA, other, codeR, none)
			}
		}
	})
	t.Run("GraphQL", func(t *testing.T) {
		q := func(url string) []byte {
			b, _ := json.Marshal(map[string]any{
				"query":     `mutation($url: String!) { createOcrInvoiceJob(input: {jobNumber: "B-2", documentName: "x.pdf", documentURL: $url, templateID: "generic"}) { id } }`,
				"variables": map[string]any{"url": url},
			})
			return b
		}
		_, other := p.keyedRequest(t, keyB, "POST", "/graphql", "application/json", "same-gql", q(secret))
		_, none := p.keyedRequest(t, keyB, "POST", "/graphql", "application/json", "same-gql", q(random))
		if !strings.Contains(string(other), `"code":"NOT_FOUND"`) || !bytes.Equal(other, none) {
			t.Fatalf("team-a's upload:\n  %s\nan upload that does not exist:\n  %s", other, none)
		}
	})
	t.Run("owners use their own", func(t *testing.T) {
		for _, c := range []struct {
			key, n, url string
		}{{keyA, "A-1", secret}, {keyA, "A-LEGACY", legacy.URL}} {
			if code, b := p.keyedRequest(t, c.key, "POST", "/api/v1/ocr-invoice-jobs", "application/json", "", jobBody(c.n, c.url)); code != http.StatusCreated {
				t.Fatalf("%s on its own upload: %d %s", c.n, code, b)
			}
		}
		// team-b uploads the same bytes as team-a: then they are team-b's to use too.
		if url := p.uploadWithKey(t, keyB, legacyDoc); url != legacy.URL {
			t.Fatalf("team-b's upload of the same bytes: %s", url)
		}
		if code, b := p.keyedRequest(t, keyB, "POST", "/api/v1/ocr-invoice-jobs", "application/json", "", jobBody("B-OWN", legacy.URL)); code != http.StatusCreated {
			t.Fatalf("team-b on its own upload: %d %s", code, b)
		}
	})
	if strings.Contains(p.stderr.String(), secret[len("upload://"):]) {
		t.Error("the log names team-a's upload key in full")
	}
}
