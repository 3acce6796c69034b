package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/tasks"
)

// env is one REST API over a fresh database, seen through the contract validator.
type env struct {
	t        *testing.T
	c        *ent.Client
	svc      *jobs.Service
	h        http.Handler // raw, called as testAdmin, through the contract validator
	raw      http.Handler // the REST handler itself
	generic  string       // id of the built-in "generic" template
	logs     *bytes.Buffer
	enqueuer jobs.Enqueuer
	clock    *testClock
}

// testClock is the service's clock: the real time unless a test sets one.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.now.IsZero() {
		return time.Now()
	}
	return c.now
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// newEnv builds the API over c. enq may be nil (jobs stay "created").
func newEnv(t *testing.T, c *ent.Client, enq jobs.Enqueuer) *env {
	t.Helper()
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	clock := &testClock{}
	svc := jobs.NewService(c, enq, jobs.Options{Logger: logger, Now: clock.Now})
	if err := svc.EnsureBuiltins(context.Background()); err != nil {
		t.Fatalf("EnsureBuiltins: %v", err)
	}
	g, err := svc.GetTemplate(context.Background(), jobs.BuiltinTemplateName)
	if err != nil {
		t.Fatalf("get generic template: %v", err)
	}
	e := &env{t: t, c: c, svc: svc, generic: g.ID, logs: logs, enqueuer: enq, clock: clock}
	e.serve(NewHandler(svc, logger))
	return e
}

// serve makes raw the env's REST handler, called as testAdmin.
func (e *env) serve(raw http.Handler) {
	e.raw = raw
	e.h = contractHandler(e.t, authenticated(raw, &testAdmin))
}

// as returns a view of e whose requests run as p (nil: anonymous), reporting to t.
func (e *env) as(t *testing.T, p *auth.Principal) *env {
	v := *e
	v.t = t
	v.h = contractHandler(t, authenticated(e.raw, p))
	return &v
}

// redisEnqueuer returns a tasks.Client on a private redis-server.
func redisEnqueuer(t *testing.T) (*tasks.Client, asynq.RedisClientOpt) {
	t.Helper()
	srv := redistest.Start(t)
	opt := asynq.RedisClientOpt{Addr: srv.Addr}
	cl := tasks.NewClient(opt)
	t.Cleanup(func() { _ = cl.Close() })
	return cl, opt
}

// resp is a decoded response.
type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r resp) data() map[string]any {
	d, _ := r.body["data"].(map[string]any)
	return d
}

func (r resp) list() []map[string]any {
	arr, _ := r.body["data"].([]any)
	out := make([]map[string]any, 0, len(arr))
	for _, e := range arr {
		m, _ := e.(map[string]any)
		out = append(out, m)
	}
	return out
}

func (r resp) total() int {
	f, _ := r.body["total"].(float64)
	return int(f)
}

func (r resp) errCode() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (r resp) errMessage() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// errFields returns the fields named in error.details.
func (r resp) errFields() []string {
	e, _ := r.body["error"].(map[string]any)
	ds, _ := e["details"].([]any)
	var out []string
	for _, d := range ds {
		m, _ := d.(map[string]any)
		f, _ := m["field"].(string)
		out = append(out, f)
	}
	return out
}

// do sends a request; body may be nil, a string/[]byte (sent as is) or a value (JSON-encoded).
// Bodies are sent as application/json unless a Content-Type header is given in hdr.
func (e *env) do(method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("encode request body: %v", err)
		}
		rd = bytes.NewReader(buf)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	r := resp{status: rec.Code, header: rec.Header(), raw: rec.Body.Bytes()}
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(r.raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: response is not a JSON object: %v\n%s", method, path, err, r.raw)
		}
	}
	return r
}

// must fails the test unless the response has the given status.
func (r resp) must(t *testing.T, status int) resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %.800s", r.status, status, r.raw)
	}
	return r
}

// jobBodyFor is a valid create body.
func (e *env) jobBodyFor(number string, extra map[string]any) map[string]any {
	b := map[string]any{
		"jobNumber":    number,
		"documentName": strings.ToLower(number) + ".pdf",
		"documentUrl":  "https://invoices.example.com/" + strings.ToLower(number) + ".pdf",
		"template":     e.generic,
	}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func (e *env) createJob(number string, extra map[string]any) map[string]any {
	e.t.Helper()
	return e.do("POST", "/api/v1/ocr-invoice-jobs", e.jobBodyFor(number, extra)).must(e.t, http.StatusCreated).data()
}

func (e *env) countJobs() int {
	e.t.Helper()
	n, err := e.c.OcrInvoiceJob.Query().Count(context.Background())
	if err != nil {
		e.t.Fatalf("count jobs: %v", err)
	}
	return n
}

func decodeAny(b []byte) (any, error) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("body is not JSON: %w", err)
	}
	return v, nil
}

// keysInOrder returns the keys of the JSON object raw in document order.
func keysInOrder(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %.200s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("read key: %v", err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("skip value: %v", err)
		}
	}
	return keys
}

// rawField returns the raw JSON of one key of the object raw.
func rawField(t *testing.T, raw []byte, key string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not a JSON object: %v", err)
	}
	return m[key]
}

// redistestAddrStopped returns the options of a Redis address where nothing listens any more
// (a private redis-server that was started and stopped).
func redistestAddrStopped(t *testing.T) asynq.RedisClientOpt {
	t.Helper()
	srv := redistest.Start(t)
	addr := srv.Addr
	if err := srv.Stop(); err != nil {
		t.Fatalf("stop redis-server: %v", err)
	}
	return asynq.RedisClientOpt{Addr: addr, DialTimeout: 200 * time.Millisecond}
}
