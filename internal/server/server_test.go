package server

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
)

// named answers with its name, so a test can tell which mounted handler got the request.
func named(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Handler", name)
		io.WriteString(w, name+" "+r.URL.Path)
	})
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestServer(t *testing.T, opts Options) (*Server, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	if opts.GraphQL == nil {
		opts.GraphQL = named("graphql")
	}
	if opts.REST == nil {
		opts.REST = named("rest")
	}
	opts.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, logs
}

func do(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestProbeOnlyServer(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for target, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/graphql": 404, "/playground": 404, "/": 404, "/api/v1/ocr-invoice-jobs": 404, "/openapi.json": 404} {
		if rec := do(t, s.Handler(), "GET", target); rec.Code != want {
			t.Errorf("GET %s = %d, want %d", target, rec.Code, want)
		}
	}
}

func TestRoutes(t *testing.T) {
	s, _ := newTestServer(t, Options{Extra: map[string]http.Handler{"/monitor/": named("monitor")}})
	h := s.Handler()
	tests := []struct {
		method, target string
		wantCode       int
		wantHandler    string // X-Handler of a mounted handler, or ""
		wantBody       string // substring
		wantHeader     [2]string
	}{
		{"POST", "/graphql", 200, "graphql", "", [2]string{}},
		{"GET", "/graphql?query={__typename}", 200, "graphql", "", [2]string{}},
		{"GET", "/api/v1/ocr-invoice-jobs", 200, "rest", "/api/v1/ocr-invoice-jobs", [2]string{}},
		{"POST", "/api/v1/ocr-templates", 200, "rest", "", [2]string{}},
		{"GET", "/openapi.json", 200, "rest", "", [2]string{}},
		{"GET", "/monitor/", 200, "monitor", "", [2]string{}},
		{"GET", "/monitor/queues/ocr:urgent", 200, "monitor", "", [2]string{}},
		{"GET", "/playground", 200, "", "graphiql", [2]string{"Content-Type", "text/html"}},
		{"GET", "/", 302, "", "", [2]string{"Location", "/playground"}},
		{"GET", "/healthz", 200, "", `"status":"ok"`, [2]string{"Content-Type", "application/json"}},
		{"GET", "/readyz", 200, "", `"status":"ready"`, [2]string{}},
		{"GET", "/metrics", 200, "", "go_goroutines", [2]string{}},
		{"GET", "/nowhere", 404, "", "", [2]string{}},
		{"POST", "/healthz", 405, "", "", [2]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			rec := do(t, h, tc.method, tc.target)
			if rec.Code != tc.wantCode {
				t.Fatalf("code %d, want %d; body %q", rec.Code, tc.wantCode, rec.Body.String())
			}
			if got := rec.Header().Get("X-Handler"); got != tc.wantHandler {
				t.Errorf("handler %q, want %q", got, tc.wantHandler)
			}
			if !strings.Contains(strings.ToLower(rec.Body.String()), strings.ToLower(tc.wantBody)) {
				t.Errorf("body %q lacks %q", rec.Body.String(), tc.wantBody)
			}
			if k := tc.wantHeader[0]; k != "" && !strings.HasPrefix(rec.Header().Get(k), tc.wantHeader[1]) {
				t.Errorf("header %s=%q, want prefix %q", k, rec.Header().Get(k), tc.wantHeader[1])
			}
		})
	}
}

func TestMetricsByRoutePattern(t *testing.T) {
	// The REST handler routes with its own mux; the pattern it matched must be the label.
	inner := http.NewServeMux()
	inner.Handle("GET /api/v1/ocr-invoice-jobs/{id}", named("rest"))
	s, _ := newTestServer(t, Options{REST: inner})
	h := s.Handler()
	for _, id := range []string{"a", "b", "c"} {
		do(t, h, "GET", "/api/v1/ocr-invoice-jobs/"+id)
	}
	do(t, h, "GET", "/nowhere/1")
	do(t, h, "GET", "/healthz")
	body := do(t, h, "GET", "/metrics").Body.String()
	for _, want := range []string{
		`ocrinvoice_http_requests_total{code="200",method="GET",route="GET /api/v1/ocr-invoice-jobs/{id}"} 3`,
		`ocrinvoice_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`ocrinvoice_http_requests_total{code="200",method="GET",route="GET /healthz"} 1`,
		`ocrinvoice_http_request_duration_seconds_count{code="200",method="GET",route="GET /api/v1/ocr-invoice-jobs/{id}"} 3`,
		`process_cpu_seconds_total`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, `/api/v1/ocr-invoice-jobs/a"`) {
		t.Error("raw path used as a label")
	}
}

func TestReadyz(t *testing.T) {
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { rdb.Close() })
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "t.db")+"?_fk=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dbCheck := Check{Name: "database", Func: db.PingContext}
	redisCheck := Check{Name: "redis", Func: func(ctx context.Context) error { return rdb.Ping(ctx).Err() }}
	slow := Check{Name: "slow", Func: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}

	tests := []struct {
		name     string
		checks   []Check
		before   func(t *testing.T)
		wantCode int
		want     map[string]string
	}{
		{"all up", []Check{dbCheck, redisCheck}, nil, 200, map[string]string{"database": "ok", "redis": "ok"}},
		{"check that hangs times out", []Check{dbCheck, slow}, nil, 503, map[string]string{"database": "ok", "slow": "failed"}},
		{"redis down", []Check{dbCheck, redisCheck}, func(t *testing.T) { _ = rs.Stop() }, 503, map[string]string{"database": "ok", "redis": "failed"}},
		{"database closed", []Check{dbCheck}, func(t *testing.T) { db.Close() }, 503, map[string]string{"database": "failed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before(t)
			}
			s, logs := newTestServer(t, Options{Checks: tc.checks})
			start := time.Now()
			rec := do(t, s.Handler(), "GET", "/readyz")
			if time.Since(start) > checkTimeout+time.Second {
				t.Errorf("readyz took %s", time.Since(start))
			}
			if rec.Code != tc.wantCode {
				t.Fatalf("code %d, want %d: %s", rec.Code, tc.wantCode, rec.Body.String())
			}
			var got readyResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("decode %q: %v", rec.Body.String(), err)
			}
			if len(got.Checks) != len(tc.want) {
				t.Errorf("checks %v, want %v", got.Checks, tc.want)
			}
			for k, v := range tc.want {
				if got.Checks[k] != v {
					t.Errorf("check %s = %q, want %q", k, got.Checks[k], v)
				}
			}
			var failed []string
			for k, v := range tc.want {
				if v == "failed" {
					failed = append(failed, k)
				}
			}
			slices.Sort(failed)
			if !slices.Equal(got.Failed, failed) {
				t.Errorf("failed %q, want %q", got.Failed, failed)
			}
			if ra := rec.Header().Get("Retry-After"); (tc.wantCode == 503) != (ra != "") {
				t.Errorf("Retry-After %q with code %d", ra, rec.Code)
			}
			if tc.wantCode == 503 && !strings.Contains(logs.String(), "Readiness check failed") {
				t.Error("failure cause not logged")
			}
		})
	}
}

func TestPanicIsA500WithoutDetails(t *testing.T) {
	s, logs := newTestServer(t, Options{GraphQL: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("secret internal detail")
	})})
	rec := do(t, s.Handler(), "POST", "/graphql")
	if rec.Code != 500 {
		t.Fatalf("code %d", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("panic value leaked: %s", rec.Body.String())
	}
	if !strings.Contains(logs.String(), "secret internal detail") {
		t.Error("panic not logged")
	}
}

func TestRequestLog(t *testing.T) {
	s, logs := newTestServer(t, Options{})
	do(t, s.Handler(), "GET", "/api/v1/ocr-invoice-jobs?limit=5")
	var entry map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, `"msg":"HTTP request"`) {
			if err := json.Unmarshal([]byte(line), &entry); err != nil {
				t.Fatal(err)
			}
		}
	}
	if entry == nil {
		t.Fatalf("no request log in %s", logs.String())
	}
	for k, want := range map[string]any{"method": "GET", "path": "/api/v1/ocr-invoice-jobs", "route": "/api/v1/", "status": float64(200), "level": "INFO"} {
		if entry[k] != want {
			t.Errorf("log %s = %v, want %v", k, entry[k], want)
		}
	}
}

func TestLifecycle(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "finished")
	})
	s, logs := newTestServer(t, Options{Addr: "127.0.0.1:0", GraphQL: slow, ShutdownTimeout: 5 * time.Second})
	if err := s.Serve(context.Background()); err == nil {
		t.Fatal("Serve before Listen succeeded")
	}
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	base := "http://" + s.Addr().String()

	// A request in flight when shutdown starts is drained, not cut.
	got := make(chan string, 1)
	go func() {
		resp, err := http.Post(base+"/graphql", "application/json", nil)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		got <- string(b)
	}()
	<-started
	cancel()
	// New connections are refused once shutdown began.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr().String(), 200*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("still accepting connections after shutdown began")
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(release)
	if body := <-got; body != "finished" {
		t.Errorf("in-flight request got %q", body)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after shutdown")
	}
	if !strings.Contains(logs.String(), "HTTP server stopped") {
		t.Error("stop not logged")
	}
}

func TestShutdownTimeoutCutsStuckRequests(t *testing.T) {
	stuck := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	})
	s, _ := newTestServer(t, Options{Addr: "127.0.0.1:0", GraphQL: stuck, ShutdownTimeout: 200 * time.Millisecond})
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	go func() {
		resp, err := http.Post("http://"+s.Addr().String()+"/graphql", "", nil)
		if err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-served:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Serve returned %v, want a drain deadline error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve hung past its shutdown timeout")
	}
}

// TestOnShutdownEndsStreams: a long-lived response that OnShutdown ends does not hold the
// drain until ShutdownTimeout, and Serve returns cleanly.
func TestOnShutdownEndsStreams(t *testing.T) {
	streamsDone := make(chan struct{})
	started := make(chan struct{})
	stream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush()
		close(started)
		<-streamsDone
	})
	var once sync.Once
	s, _ := newTestServer(t, Options{
		Addr: "127.0.0.1:0", GraphQL: stream, ShutdownTimeout: 20 * time.Second,
		OnShutdown: func() { once.Do(func() { close(streamsDone) }) },
	})
	if err := s.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	resp, err := http.Get("http://" + s.Addr().String() + "/graphql")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-started
	start := time.Now()
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve returned %v, want a clean shutdown", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("shutdown took %v", d)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve waited for the stream despite OnShutdown")
	}
}

func TestListenErrorSurfaces(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, _ := newTestServer(t, Options{Addr: ln.Addr().String()})
	err = s.Listen()
	if err == nil || !strings.Contains(err.Error(), "listen on") {
		t.Fatalf("Listen on a used port = %v", err)
	}
}

// TestWebRoutes: with Options.Web, GET / and GET /app/... reach the web app without a key
// (the page asks for one), keep the CSP the app sets, and the API stays where it is.
func TestWebRoutes(t *testing.T) {
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		w.Header().Set("X-Handler", "web")
		io.WriteString(w, "web "+r.URL.Path)
	})
	s, _ := newTestServer(t, Options{Web: web, Auth: refuseAll{}})
	for _, tc := range []struct {
		method, target string
		code           int
		handler        string
	}{
		{"GET", "/", 200, "web"},
		{"GET", "/app/app.js", 200, "web"},
		{"HEAD", "/", 200, "web"},
		{"POST", "/", 405, ""},
		{"GET", "/playground", 200, ""},
		{"GET", "/api/v1/ocr-invoice-jobs", 401, ""},
		{"POST", "/graphql", 401, ""},
	} {
		rec := do(t, s.Handler(), tc.method, tc.target)
		if rec.Code != tc.code || rec.Header().Get("X-Handler") != tc.handler {
			t.Errorf("%s %s = %d (handler %q), want %d (%q)", tc.method, tc.target, rec.Code, rec.Header().Get("X-Handler"), tc.code, tc.handler)
		}
		if tc.handler == "web" && rec.Header().Get("Content-Security-Policy") != "default-src 'self'" {
			t.Errorf("%s %s: CSP %q, want the app's own", tc.method, tc.target, rec.Header().Get("Content-Security-Policy"))
		}
	}
}

// refuseAll accepts no key.
type refuseAll struct{}

func (refuseAll) Authenticate(context.Context, string) (auth.Principal, error) {
	return auth.Principal{}, apperr.Unauthenticated("unknown key")
}
