package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/worker/webhook"
)

// hookReceiver is a loopback webhook endpoint. Each path answers with its list of
// status codes in turn (the last repeats; 200 for unknown paths) and every request is
// recorded with the time it arrived.
type hookReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	answers map[string][]int
	got     map[string][]hookRequest
}

type hookRequest struct {
	header http.Header
	body   []byte
	at     time.Time
}

func newHookReceiver(t *testing.T, answers map[string][]int) *hookReceiver {
	t.Helper()
	h := &hookReceiver{answers: answers, got: map[string][]hookRequest{}}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got[r.URL.Path] = append(h.got[r.URL.Path], hookRequest{header: r.Header.Clone(), body: b, at: time.Now()})
		code := http.StatusOK
		if a := h.answers[r.URL.Path]; len(a) > 0 {
			code = a[min(len(h.got[r.URL.Path]), len(a))-1]
		}
		h.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookReceiver) requests(path string) []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookRequest(nil), h.got[path]...)
}

// wait returns the requests to path once there are at least n, failing after 60 s.
func (h *hookReceiver) wait(t *testing.T, p *process, path string, n int) []hookRequest {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if got := h.requests(path); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s received %d webhooks, want %d; log:\n%s", path, len(h.requests(path)), n, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hookDocs serves the documents of the webhook tests: a text-layer invoice, a document
// whose download hangs until the client goes away (a job that stays processing until it
// is cancelled), and a 404.
func hookDocs(t *testing.T) (srv *httptest.Server, holding chan struct{}) {
	t.Helper()
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	holding = make(chan struct{}, 4)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/invoice.pdf":
			w.Header().Set("Content-Type", "application/pdf")
			_, _ = w.Write(pdf)
		case "/hold.pdf":
			holding <- struct{}{}
			<-r.Context().Done()
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, holding
}

func (p *process) createHookedJob(t *testing.T, body map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(body)
	code, out := p.request(t, "POST", "/api/v1/ocr-invoice-jobs", string(b))
	if code != http.StatusCreated {
		t.Fatalf("create job: %d %s", code, out)
	}
	var env struct {
		Data map[string]any `json:"data"`
	}
	decode(t, out, &env)
	if body["callbackUrl"] != nil && env.Data["callbackUrl"] != body["callbackUrl"] {
		t.Errorf("created job callbackUrl = %v, want %v", env.Data["callbackUrl"], body["callbackUrl"])
	}
	return fmt.Sprint(env.Data["_id"])
}

func jobBody(number, doc, callback string) map[string]any {
	b := map[string]any{"jobNumber": number, "documentName": "invoice.pdf", "documentUrl": doc, "template": "generic"}
	if callback != "" {
		b["callbackUrl"] = callback
	}
	return b
}

// restJob returns the data of GET /api/v1/ocr-invoice-jobs/{id}.
func (p *process) restJob(t *testing.T, id string) map[string]any {
	t.Helper()
	code, b := p.request(t, "GET", "/api/v1/ocr-invoice-jobs/"+id, "")
	if code != 200 {
		t.Fatalf("GET job %s: %d %s", id, code, b)
	}
	var env struct {
		Data map[string]any `json:"data"`
	}
	decode(t, b, &env)
	return env.Data
}

// checkHook checks one delivery: headers, a signature that verifies with the secret, and
// a body that is the job as GET returns it.
func checkHook(t *testing.T, p *process, r hookRequest, id, status string, attempt int) {
	t.Helper()
	for k, want := range map[string]string{
		"Content-Type": "application/json", "User-Agent": "ocrinvoice-webhook",
		"X-Ocrinvoice-Event": "job." + status, "X-Ocrinvoice-Delivery": fmt.Sprintf("webhook:%s:%s:%d", id, status, attempt),
	} {
		if v := r.header.Get(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	if err := webhook.Verify("s3cret", r.header.Get("X-Ocrinvoice-Signature"), r.body, time.Now(), time.Minute); err != nil {
		t.Errorf("signature of %s does not verify: %v", id, err)
	}
	var got map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("webhook body is not JSON: %v\n%s", err, r.body)
	}
	if want := p.restJob(t, id); !reflect.DeepEqual(got, want) {
		t.Errorf("webhook body differs from GET's data:\n got %v\nwant %v", got, want)
	}
	if got["status"] != status {
		t.Errorf("webhook body status %v, want %s", got["status"], status)
	}
}

// TestWebhooksEndToEnd runs API and worker in one process with a real Redis and SQLite,
// and a receiver on loopback (opened by the allow-list): every terminal state — completed,
// failed, cancelled — is delivered once, signed, with the job as GET returns it; a 500 is
// retried until the receiver answers 200; a 400 is not retried; a job without a callback
// URL uses its group's; a failed job retried and failed again is delivered again.
func TestWebhooksEndToEnd(t *testing.T) {
	docs, holding := hookDocs(t)
	hooks := newHookReceiver(t, map[string][]int{"/flaky": {500, 200}, "/bad": {400}})
	p := start(t, testEnv(t, map[string]string{
		"OCRINVOICE_FETCH_ALLOW_CIDRS":   "127.0.0.0/8",
		"OCRINVOICE_WEBHOOK_SECRET":      "s3cret",
		"OCRINVOICE_WEBHOOK_RETRY_DELAY": "50ms",
		"OCRINVOICE_WORKER_CONCURRENCY":  "2",
	}), "all")
	doc := docs.URL + "/invoice.pdf"

	ok := p.createHookedJob(t, jobBody("WH-OK", doc, hooks.URL+"/ok"))
	flaky := p.createHookedJob(t, jobBody("WH-FLAKY", doc, hooks.URL+"/flaky"))
	bad := p.createHookedJob(t, jobBody("WH-BAD", doc, hooks.URL+"/bad"))
	failing := p.createHookedJob(t, jobBody("WH-FAIL", docs.URL+"/missing.pdf", hooks.URL+"/fail"))
	code, b := p.request(t, "POST", "/api/v1/ocr-job-groups", fmt.Sprintf(`{"name": "hooked", "callbackUrl": %q}`, hooks.URL+"/group"))
	if code != http.StatusCreated {
		t.Fatalf("create group: %d %s", code, b)
	}
	var g struct {
		Data map[string]any `json:"data"`
	}
	decode(t, b, &g)
	if g.Data["callbackUrl"] != hooks.URL+"/group" {
		t.Errorf("group callbackUrl = %v", g.Data["callbackUrl"])
	}
	member := jobBody("WH-GROUP", doc, "")
	member["group"] = g.Data["_id"]
	grouped := p.createHookedJob(t, member)
	plain := p.createHookedJob(t, jobBody("WH-NONE", doc, ""))

	for _, id := range []string{ok, flaky, bad, grouped, plain} {
		if j := p.waitJob(t, id, 90*time.Second); j["status"] != "completed" {
			t.Fatalf("job %s ended %v (%v)", id, j["status"], j["errorLog"])
		}
	}
	checkHook(t, p, hooks.wait(t, p, "/ok", 1)[0], ok, "completed", 0)
	checkHook(t, p, hooks.wait(t, p, "/group", 1)[0], grouped, "completed", 0)

	fl := hooks.wait(t, p, "/flaky", 2)
	checkHook(t, p, fl[1], flaky, "completed", 0)
	if fl[0].header.Get("X-Ocrinvoice-Delivery") != fl[1].header.Get("X-Ocrinvoice-Delivery") {
		t.Errorf("a retried delivery changed its id: %q then %q", fl[0].header.Get("X-Ocrinvoice-Delivery"), fl[1].header.Get("X-Ocrinvoice-Delivery"))
	}
	if gap := fl[1].at.Sub(fl[0].at); gap < 40*time.Millisecond {
		t.Errorf("retry came %v after the 500, want the 50ms backoff", gap)
	}
	checkHook(t, p, hooks.wait(t, p, "/bad", 1)[0], bad, "completed", 0)

	// Failed for good (HTTP 404 is permanent), retried by the client, failed again.
	if j := p.waitJob(t, failing, 90*time.Second); j["status"] != "failed" {
		t.Fatalf("job %s ended %v, want failed", failing, j["status"])
	}
	checkHook(t, p, hooks.wait(t, p, "/fail", 1)[0], failing, "failed", 0)
	if code, b := p.request(t, "POST", "/api/v1/ocr-invoice-jobs/"+failing+"/retry", ""); code != 200 {
		t.Fatalf("retry: %d %s", code, b)
	}
	if j := p.waitJob(t, failing, 90*time.Second); j["status"] != "failed" || j["retryCount"] != 1.0 {
		t.Fatalf("retried job ended %v with retryCount %v", j["status"], j["retryCount"])
	}
	checkHook(t, p, hooks.wait(t, p, "/fail", 2)[1], failing, "failed", 1)

	// Cancelled while processing (its download hangs).
	held := p.createHookedJob(t, jobBody("WH-CANCEL", docs.URL+"/hold.pdf", hooks.URL+"/cancel"))
	select {
	case <-holding:
	case <-time.After(60 * time.Second):
		t.Fatalf("the worker did not start the job\n%s", p.stderr)
	}
	if code, b := p.request(t, "POST", "/api/v1/ocr-invoice-jobs/"+held+"/cancel", ""); code != 200 {
		t.Fatalf("cancel: %d %s", code, b)
	}
	checkHook(t, p, hooks.wait(t, p, "/cancel", 1)[0], held, "cancelled", 0)

	// Nothing more arrives: once per terminal state, no retry of the 400.
	time.Sleep(time.Second)
	for path, n := range map[string]int{"/ok": 1, "/flaky": 2, "/bad": 1, "/group": 1, "/fail": 2, "/cancel": 1} {
		if got := len(hooks.requests(path)); got != n {
			t.Errorf("%s received %d webhooks, want %d", path, got, n)
		}
	}
	if !strings.Contains(p.stderr.String(), "Webhook rejected by the receiver") {
		t.Errorf("the 400 was not logged as a rejection")
	}
	if strings.Contains(p.stderr.String(), "webhooks are sent unsigned") {
		t.Errorf("warned about unsigned webhooks although a secret is set")
	}
}

// TestWebhookToPrivateAddressRefused: without the allow-list, a callback to loopback is
// refused like a document URL: by the API when the job is created (400 naming
// callbackUrl), and by the worker's guard, logged and never sent, when an API that allows
// loopback let it through. The worker warns that webhooks are unsigned when no secret is
// set.
func TestWebhookToPrivateAddressRefused(t *testing.T) {
	docs, _ := hookDocs(t)
	hooks := newHookReceiver(t, nil)
	one := start(t, testEnv(t, nil), "all")
	b, _ := json.Marshal(jobBody("WH-PRIVATE-API", "https://files.example.com/invoice.pdf", hooks.URL+"/private"))
	if code, out := one.request(t, "POST", "/api/v1/ocr-invoice-jobs", string(b)); code != http.StatusBadRequest ||
		!strings.Contains(string(out), `"field":"callbackUrl"`) || !strings.Contains(string(out), "loopback") {
		t.Errorf("a loopback callback at creation: %d %s", code, out)
	}

	rs := startRedisOnPort(t, 0)
	dir := t.TempDir()
	p := start(t, testEnv(t, stackEnv(rs, dir, nil)), "serve")
	worker := start(t, testEnv(t, stackEnv(rs, dir, map[string]string{"OCRINVOICE_FETCH_ALLOW_CIDRS": ""})), "worker")
	// The document is on loopback too, so the job fails (refused), which is terminal.
	id := p.createHookedJob(t, jobBody("WH-PRIVATE", docs.URL+"/invoice.pdf", hooks.URL+"/private"))
	if j := p.waitJob(t, id, 90*time.Second); j["status"] != "failed" {
		t.Fatalf("job ended %v, want failed (document on loopback refused)", j["status"])
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(worker.stderr.String(), "Webhook refused by the address guard") {
		if time.Now().After(deadline) {
			t.Fatalf("no refusal logged:\n%s", worker.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(hooks.requests("/private")); n != 0 {
		t.Errorf("the private receiver got %d requests, want none", n)
	}
	log := worker.stderr.String()
	if !strings.Contains(log, "loopback") || !strings.Contains(log, id) {
		t.Errorf("the refusal should name the rule and the job")
	}
	if !strings.Contains(log, "webhooks are sent unsigned") {
		t.Errorf("no warning about unsigned webhooks")
	}
}
