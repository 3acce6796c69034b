package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/contract"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
	"github.com/ocrinvoice/ocrinvoice/worker/fetch"
)

// received is one request seen by a receiver.
type received struct {
	header http.Header
	body   []byte
	path   string
}

// receiver is a loopback webhook endpoint answering with the status codes of answers in
// turn (the last one repeats); it records every request.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	answers []int
	got     []received
}

func newReceiver(t *testing.T, answers ...int) *receiver {
	t.Helper()
	r := &receiver{answers: answers}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: b, path: req.URL.Path})
		code := r.answers[min(len(r.got), len(r.answers))-1]
		r.mu.Unlock()
		if code >= 300 && code <= 399 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// stubResolver maps names to addresses without DNS.
type stubResolver map[string][]netip.Addr

func (s stubResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := s[host]; ok {
		return a, nil
	}
	return nil, errors.New("no such host " + host)
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

type fixture struct {
	svc  *jobs.Service
	logs *logBuffer
	now  time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	c := databasetest.Open(t)
	svc := jobs.NewService(c, nil, jobs.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := svc.EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, logs: &logBuffer{}, now: time.Now()}
}

func (f *fixture) handler(guard fetch.Guard) *Handler {
	return NewHandler(Config{Jobs: f.svc, Secret: "s3cret", Guard: guard, Now: func() time.Time { return f.now },
		Logger: slog.New(slog.NewTextHandler(f.logs, nil)), Timeout: 5 * time.Second})
}

// completedJob stores a job with the given callback URL (and group) and completes it.
func (f *fixture) completedJob(t *testing.T, number, callback, group string) *ent.OcrInvoiceJob {
	t.Helper()
	ctx := context.Background()
	j, err := f.svc.CreateJob(ctx, jobs.JobInput{JobNumber: number, DocumentName: "a.pdf", DocumentURL: "https://docs.example.com/a.pdf",
		Template: jobs.BuiltinTemplateName, CallbackURL: callback, Group: group})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.StartProcessing(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if j, err = f.svc.Complete(ctx, j.ID, jobs.CompleteInput{Pages: 1}); err != nil {
		t.Fatal(err)
	}
	return j
}

func task(t *testing.T, j *ent.OcrInvoiceJob) *asynq.Task {
	t.Helper()
	tk, _, err := tasks.NewWebhookTask(j.ID, string(j.Status), j.RetryCount, 0)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestDeliver: a 2xx delivery is one POST with the contract's job as body, the headers
// of the contract and a signature that verifies.
func TestDeliver(t *testing.T) {
	f := newFixture(t)
	rcv := newReceiver(t, 204)
	j := f.completedJob(t, "D-1", rcv.URL+"/hook?token=abc", "")
	if err := f.handler(fetch.Guard{Allow: loopback}).ProcessTask(context.Background(), task(t, j)); err != nil {
		t.Fatalf("ProcessTask = %v\n%s", err, f.logs)
	}
	got := rcv.requests()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	r := got[0]
	for k, want := range map[string]string{
		"Content-Type": "application/json", "User-Agent": UserAgent, HeaderEvent: "job.completed",
		HeaderDelivery: "webhook:" + j.ID + ":completed:0",
	} {
		if v := r.header.Get(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	if err := Verify("s3cret", r.header.Get(HeaderSignature), r.body, f.now, time.Minute); err != nil {
		t.Errorf("signature does not verify: %v", err)
	}
	want, _ := json.Marshal(contract.NewJob(j))
	if !bytes.Equal(r.body, want) {
		t.Errorf("body\n%s\nwant the contract's job\n%s", r.body, want)
	}
	if !strings.Contains(f.logs.String(), "Webhook delivered") || strings.Contains(f.logs.String(), "token=abc") {
		t.Errorf("log should say delivered and never show the query:\n%s", f.logs)
	}
}

// TestDeliverAnswers: how each answer of the receiver is classified.
func TestDeliverAnswers(t *testing.T) {
	tests := []struct {
		code      int
		retry     bool // a plain error: asynq retries
		permanent bool // SkipRetry
	}{
		{200, false, false},
		{202, false, false},
		{302, false, true}, // redirects are not followed
		{400, false, true},
		{404, false, true},
		{410, false, true},
		{408, true, false},
		{429, true, false},
		{500, true, false},
		{503, true, false},
	}
	f := newFixture(t)
	h := f.handler(fetch.Guard{Allow: loopback})
	for _, tt := range tests {
		t.Run(http.StatusText(tt.code), func(t *testing.T) {
			rcv := newReceiver(t, tt.code)
			j := f.completedJob(t, "A-"+http.StatusText(tt.code), rcv.URL+"/hook", "")
			err := h.ProcessTask(context.Background(), task(t, j))
			switch {
			case !tt.retry && !tt.permanent && err != nil:
				t.Errorf("HTTP %d: %v, want nil", tt.code, err)
			case tt.permanent && !errors.Is(err, asynq.SkipRetry):
				t.Errorf("HTTP %d: %v, want SkipRetry", tt.code, err)
			case tt.retry && (err == nil || errors.Is(err, asynq.SkipRetry)):
				t.Errorf("HTTP %d: %v, want a retryable error", tt.code, err)
			}
			got := rcv.requests()
			if len(got) != 1 || got[0].path != "/hook" {
				t.Errorf("requests %+v, want one to /hook (no redirect followed)", got)
			}
		})
	}
}

// TestDeliverRefused: callbacks to addresses the guard refuses are never sent — loopback
// without the allow-list, and a name that resolves to a private address — and the
// refusal is logged and permanent.
func TestDeliverRefused(t *testing.T) {
	f := newFixture(t)
	rcv := newReceiver(t, 200)
	tests := []struct {
		name     string
		guard    fetch.Guard
		callback string
		reason   string
	}{
		{"loopback without the allow-list", fetch.Guard{}, rcv.URL + "/hook", "loopback"},
		{"name resolving to 10.x", fetch.Guard{Allow: loopback, Resolver: stubResolver{"hooks.internal.example": {netip.MustParseAddr("10.0.0.5")}}},
			"http://hooks.internal.example/hook", "private"},
		// A literal 169.254.x callback is refused when the job is created; a name resolving
		// to it must meet the guard.
		{"name resolving to the metadata address", fetch.Guard{Allow: loopback, Resolver: stubResolver{"meta.internal.example": {netip.MustParseAddr("169.254.169.254")}}},
			"http://meta.internal.example/latest", "link-local"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := f.completedJob(t, "R-"+string(rune('a'+i)), tt.callback, "")
			err := f.handler(tt.guard).ProcessTask(context.Background(), task(t, j))
			if !errors.Is(err, asynq.SkipRetry) || !errors.Is(err, fetch.ErrRefused) || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("ProcessTask = %v, want SkipRetry and ErrRefused naming %q", err, tt.reason)
			}
		})
	}
	if n := len(rcv.requests()); n != 0 {
		t.Errorf("the receiver got %d requests, want none", n)
	}
	if c := strings.Count(f.logs.String(), "Webhook refused by the address guard"); c != len(tests) {
		t.Errorf("%d refusals logged, want %d:\n%s", c, len(tests), f.logs)
	}
}

// TestDeliverGroupAndCurrency: a job without a callback URL of its own uses its group's;
// a delivery superseded by a later run, or whose job lost its callback URL, is dropped
// without a request; a job that is gone is permanent.
func TestDeliverGroupAndCurrency(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	h := f.handler(fetch.Guard{Allow: loopback})
	group := newReceiver(t, 200)
	g, err := f.svc.CreateGroup(ctx, jobs.GroupInput{Name: "batch", CallbackURL: group.URL + "/group"})
	if err != nil {
		t.Fatal(err)
	}
	member := f.completedJob(t, "G-1", "", g.ID)
	if err := h.ProcessTask(ctx, task(t, member)); err != nil {
		t.Fatal(err)
	}
	if got := group.requests(); len(got) != 1 || got[0].path != "/group" {
		t.Fatalf("group receiver got %+v, want one request", got)
	}

	own := newReceiver(t, 200)
	j := f.completedJob(t, "G-2", own.URL+"/own", g.ID)
	if err := h.ProcessTask(ctx, task(t, j)); err != nil {
		t.Fatal(err)
	}
	if len(own.requests()) != 1 || len(group.requests()) != 1 {
		t.Errorf("a job with its own callback URL: own %d, group %d requests; want 1 and still 1", len(own.requests()), len(group.requests()))
	}

	// Superseded: the job was re-run (completed -> created) after the webhook was queued.
	stale := task(t, j)
	if _, err := f.svc.UpdateJob(ctx, j.ID, jobs.JobInput{JobNumber: "G-2", DocumentName: "a.pdf", DocumentURL: "https://docs.example.com/b.pdf",
		Template: jobs.BuiltinTemplateName, CallbackURL: own.URL + "/own", Group: g.ID}); err != nil {
		t.Fatal(err)
	}
	if err := h.ProcessTask(ctx, stale); err != nil {
		t.Errorf("superseded delivery: %v, want nil", err)
	}
	// No callback URL any more.
	gone := f.completedJob(t, "G-3", own.URL+"/own", "")
	tk := task(t, gone)
	if _, err := f.svc.UpdateJob(ctx, gone.ID, jobs.JobInput{JobNumber: "G-3", DocumentName: "a.pdf", DocumentURL: "https://docs.example.com/a.pdf",
		Template: jobs.BuiltinTemplateName}); err != nil {
		t.Fatal(err)
	}
	if err := h.ProcessTask(ctx, tk); err != nil {
		t.Errorf("delivery without a callback URL: %v, want nil", err)
	}
	if n := len(own.requests()); n != 1 {
		t.Errorf("own receiver got %d requests, want still 1", n)
	}
	missing, _, _ := tasks.NewWebhookTask("0123456789abcdef01234567", "completed", 0, 0)
	if err := h.ProcessTask(ctx, missing); !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("job that does not exist: %v, want SkipRetry", err)
	}
	if err := h.ProcessTask(ctx, asynq.NewTask(tasks.TypeWebhookDeliver, []byte("{"))); !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("bad payload: %v, want SkipRetry", err)
	}
}

// TestDeliverUnsignedAndTimeout: without a secret there is no signature header; a
// receiver slower than the timeout is a retryable failure.
func TestDeliverUnsignedAndTimeout(t *testing.T) {
	f := newFixture(t)
	rcv := newReceiver(t, 200)
	h := NewHandler(Config{Jobs: f.svc, Guard: fetch.Guard{Allow: loopback}, Logger: slog.New(slog.NewTextHandler(f.logs, nil))})
	j := f.completedJob(t, "U-1", rcv.URL+"/hook", "")
	if err := h.ProcessTask(context.Background(), task(t, j)); err != nil {
		t.Fatal(err)
	}
	if got := rcv.requests(); len(got) != 1 || got[0].header.Get(HeaderSignature) != "" {
		t.Errorf("unsigned delivery: %+v", got)
	}

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	h = NewHandler(Config{Jobs: f.svc, Guard: fetch.Guard{Allow: loopback}, Timeout: 200 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(f.logs, nil))})
	j = f.completedJob(t, "U-2", slow.URL+"/hook", "")
	start := time.Now()
	err := h.ProcessTask(context.Background(), task(t, j))
	if err == nil || errors.Is(err, asynq.SkipRetry) || time.Since(start) > 5*time.Second {
		t.Errorf("slow receiver: %v after %v, want a retryable error after about 200ms", err, time.Since(start))
	}
}

// TestDeliveryErrorsCarryNoSecrets: a callback URL whose query carries a token is named,
// in the returned error (the task's last error in Redis) and in the log, with the token
// redacted and the key kept, whatever the failure.
func TestDeliveryErrorsCarryNoSecrets(t *testing.T) {
	const token = "SECRETTOKEN42"
	dropped := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, _, err := http.NewResponseController(w).Hijack(); err == nil {
			c.Close()
		}
	}))
	t.Cleanup(dropped.Close)
	f := newFixture(t)
	tests := []struct {
		name     string
		guard    fetch.Guard
		callback string
		says     string
	}{
		{"connection dropped", fetch.Guard{Allow: loopback}, dropped.URL + "/hook?token=" + token, "EOF"},
		{"HTTP 500", fetch.Guard{Allow: loopback}, newReceiver(t, 500).URL + "/hook?token=" + token, "HTTP 500"},
		{"redirect", fetch.Guard{Allow: loopback}, newReceiver(t, 302).URL + "/hook?token=" + token, "HTTP 302"},
		{"refused by the guard", fetch.Guard{}, newReceiver(t, 200).URL + "/hook?token=" + token, "loopback"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := f.completedJob(t, "S-"+string(rune('a'+i)), tt.callback, "")
			err := f.handler(tt.guard).ProcessTask(context.Background(), task(t, j))
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Fatalf("ProcessTask = %v, want an error saying %q", err, tt.says)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error carries the token: %v", err)
			}
		})
	}
	logs := f.logs.String()
	if strings.Contains(logs, token) {
		t.Errorf("log carries the token:\n%s", logs)
	}
	if n := strings.Count(logs, "/hook?token=REDACTED"); n < len(tests) {
		t.Errorf("%d log lines name the callback URL with its key, want %d:\n%s", n, len(tests), logs)
	}
}

// TestDeliverReview: a correction's webhook is delivered as job.corrected with a
// delivery id of its own (the completion's id plus the data version) and the corrected
// job as body; once the data changed again it is dropped as superseded, and the newer
// review's webhook (job.approved) is delivered instead.
func TestDeliverReview(t *testing.T) {
	f := newFixture(t)
	rcv := newReceiver(t, 200)
	ctx := context.Background()
	j, err := f.svc.CreateJob(ctx, jobs.JobInput{JobNumber: "R-1", DocumentName: "a.pdf", DocumentURL: "https://docs.example.com/a.pdf",
		Template: jobs.BuiltinTemplateName, CallbackURL: rcv.URL + "/hook"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.StartProcessing(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Complete(ctx, j.ID, jobs.CompleteInput{Pages: 1, ExtractedData: &invoice.ExtractedData{Invoice: invoice.Invoice{Number: "INV-1"}}}); err != nil {
		t.Fatal(err)
	}
	fixed, err := f.svc.CorrectJob(ctx, j.ID, jobs.CorrectInput{Patch: []byte(`{"invoice":{"number":"INV-FIXED"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	reviewTask := func(version int) *asynq.Task {
		tk, _, err := tasks.NewWebhookTask(j.ID, "completed", 0, version)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	h := f.handler(fetch.Guard{Allow: loopback})
	if err := h.ProcessTask(ctx, reviewTask(fixed.DataVersion)); err != nil {
		t.Fatalf("ProcessTask = %v\n%s", err, f.logs)
	}
	got := rcv.requests()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	if ev, id := got[0].header.Get(HeaderEvent), got[0].header.Get(HeaderDelivery); ev != "job.corrected" || id != fmt.Sprintf("webhook:%s:completed:0:v%d", j.ID, fixed.DataVersion) {
		t.Errorf("event %q, delivery %q", ev, id)
	}
	var body map[string]any
	if err := json.Unmarshal(got[0].body, &body); err != nil || body["reviewStatus"] != "corrected" || len(body["corrections"].([]any)) != 1 {
		t.Errorf("body %s (%v): want the corrected job", got[0].body, err)
	}

	approved, err := f.svc.ApproveJob(ctx, j.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ProcessTask(ctx, reviewTask(fixed.DataVersion)); err != nil {
		t.Fatalf("superseded ProcessTask = %v", err)
	}
	if n := len(rcv.requests()); n != 1 {
		t.Errorf("a superseded review webhook was sent (%d requests)", n)
	}
	if err := h.ProcessTask(ctx, reviewTask(approved.DataVersion)); err != nil {
		t.Fatalf("ProcessTask = %v", err)
	}
	if got := rcv.requests(); len(got) != 2 || got[1].header.Get(HeaderEvent) != "job.approved" {
		t.Errorf("approval webhook: %d requests, event %q", len(got), got[len(got)-1].header.Get(HeaderEvent))
	}
}
