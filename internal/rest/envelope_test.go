package rest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/reqid"
)

// TestErrorRequestID: every error body, of a route, of an unknown route or method, names
// the request's id; a request without one gets no requestId key.
func TestErrorRequestID(t *testing.T) {
	e := newEnv(t, databasetest.Open(t), nil)
	cases := []struct{ method, path string }{
		{"GET", "/api/v1/ocr-invoice-jobs/nothex"},
		{"GET", "/api/v1/ocr-invoice-jobs/0123456789abcdef01234567"},
		{"DELETE", "/api/v1/ocr-invoice-jobs"},
		{"GET", "/api/v1/nowhere"},
	}
	for _, tc := range cases {
		r := e.do(tc.method, tc.path, nil, reqid.Header, "client-req.42")
		if r.status < 400 || r.errRequestID() != "client-req.42" {
			t.Errorf("%s %s: %d, requestId %q, want client-req.42", tc.method, tc.path, r.status, r.errRequestID())
		}
		if !bytes.Contains(r.raw, []byte(`"requestId":"client-req.42"`)) {
			t.Errorf("%s %s: body %s", tc.method, tc.path, r.raw)
		}
	}
	// A made-up id that is not sane is replaced by a fresh one, which the body names.
	r := e.do("GET", "/api/v1/ocr-invoice-jobs/nothex", nil, reqid.Header, "bad id\x01")
	if id := r.errRequestID(); !reqid.Valid(id) || id != r.header.Get(reqid.Header) {
		t.Errorf("requestId %q, header %q", id, r.header.Get(reqid.Header))
	}

	// Without a request id in the context (no middleware set one), the key is absent.
	h := contractHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.raw.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), testAdmin)))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/ocr-invoice-jobs/nothex", nil))
	if rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), "requestId") {
		t.Errorf("without a request id: %d %s", rec.Code, rec.Body)
	}
}

// leaks are what no 5xx body may contain: SQL, driver and network messages, Go stacks.
var leaks = []string{"SELECT", "select", "INSERT", "sqlite", "SQLSTATE", "pq:", "pgx", "sql:", "ocr_invoice_jobs", "database", "dial tcp", "connection refused", "goroutine", ".go:", "panic", "secret"}

func checkNoLeak(t *testing.T, body []byte) {
	t.Helper()
	for _, l := range leaks {
		if bytes.Contains(body, []byte(l)) {
			t.Errorf("the body leaks %q: %s", l, body)
		}
	}
}

// TestServerErrorsHideCause sends every shape of server-side error through writeError: the
// body says "internal error" (or the application's own unavailable message) with no details,
// matches ErrorResponse, and the cause goes to the log.
func TestServerErrorsHideCause(t *testing.T) {
	doc, _ := loadSpec(t)
	sqlErr := errors.New(`sqlite: SQL logic error: near "SELECT": syntax error in SELECT * FROM ocr_invoice_jobs WHERE secret = 1`)
	pgErr := errors.New(`pq: duplicate key value violates unique constraint "ocr_invoice_jobs_pkey" (SQLSTATE 23505)`)
	netErr := errors.New("dial tcp 10.0.0.5:5432: connect: connection refused")
	cases := []struct {
		name   string
		err    error
		status int
		code   string
		msg    string
	}{
		{"plain error", sqlErr, 500, "INTERNAL", "internal error"},
		{"wrapped plain error", fmt.Errorf("list jobs: %w", pgErr), 500, "INTERNAL", "internal error"},
		{"apperr.Internal", apperr.Internal(fmt.Errorf("count jobs: %w", sqlErr)), 500, "INTERNAL", "internal error"},
		{"Internal with a leaky message and details", &apperr.Error{Kind: apperr.KindInternal, Message: sqlErr.Error(),
			Details: []apperr.Detail{{Field: "sql", Message: pgErr.Error()}}}, 500, "INTERNAL", "internal error"},
		{"unknown kind", &apperr.Error{Kind: "WEIRD", Message: "SELECT secret FROM ocr_invoice_jobs"}, 500, "INTERNAL", "internal error"},
		{"empty kind", &apperr.Error{Message: "SELECT secret"}, 500, "INTERNAL", "internal error"},
		{"deadline", fmt.Errorf("query %s: %w", sqlErr, context.DeadlineExceeded), 503, "UNAVAILABLE", "service unavailable, try again later"},
		{"cancelled", fmt.Errorf("%v: %w", netErr, context.Canceled), 503, "UNAVAILABLE", "service unavailable, try again later"},
		{"Unavailable with a cause", apperr.Unavailable("the job queue is unavailable", netErr), 503, "UNAVAILABLE", "the job queue is unavailable"},
		{"Unavailable with details", &apperr.Error{Kind: apperr.KindUnavailable, Message: "try later", Err: netErr,
			Details: []apperr.Detail{{Message: netErr.Error()}}}, 503, "UNAVAILABLE", "try later"},
		{"Unavailable without a message", &apperr.Error{Kind: apperr.KindUnavailable, Err: sqlErr}, 503, "UNAVAILABLE", "service unavailable, try again later"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/api/v1/ocr-invoice-jobs", nil)
			req = req.WithContext(reqid.With(req.Context(), "req-1"))
			writeError(rec, req, logger, tc.err)
			r := resp{status: rec.Code, raw: rec.Body.Bytes()}
			v, err := decodeAny(r.raw)
			if err != nil {
				t.Fatal(err)
			}
			r.body, _ = v.(map[string]any)
			if r.status != tc.status || r.errCode() != tc.code || r.errMessage() != tc.msg || len(r.errFields()) != 0 {
				t.Errorf("got %d %s, want %d %s %q without details", r.status, r.raw, tc.status, tc.code, tc.msg)
			}
			if r.errRequestID() != "req-1" {
				t.Errorf("requestId %q", r.errRequestID())
			}
			checkNoLeak(t, r.raw)
			if err := doc.Components.Schemas["ErrorResponse"].Value.VisitJSON(v, schemaOpts...); err != nil {
				t.Errorf("body does not match ErrorResponse: %v", err)
			}
			if !strings.Contains(logs.String(), "REST request failed") || !strings.Contains(logs.String(), "request_id=req-1") {
				t.Errorf("the failure was not logged with its request id:\n%s", logs.String())
			}
		})
	}
}

// TestDatabaseDownHidden: with the database gone, every kind of route answers a 5xx that
// names no SQL or driver message.
func TestDatabaseDownHidden(t *testing.T) {
	c := databasetest.Open(t)
	e := newEnv(t, c, nil)
	id := e.createJob("DOWN-1", nil)["_id"].(string)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/ocr-invoice-jobs?search=x&filter=" + `{"status":"created"}`, nil},
		{"GET", "/api/v1/ocr-invoice-jobs/" + id, nil},
		{"POST", "/api/v1/ocr-invoice-jobs", e.jobBodyFor("DOWN-2", nil)},
		{"PUT", "/api/v1/ocr-invoice-jobs/" + id, e.jobBodyFor("DOWN-1", nil)},
		{"POST", "/api/v1/ocr-invoice-jobs/" + id + "/cancel", nil},
		{"GET", "/api/v1/ocr-templates", nil},
		{"POST", "/api/v1/ocr-job-groups", map[string]any{"name": "g"}},
	} {
		r := e.do(tc.method, tc.path, tc.body)
		if r.status < 500 || r.errRequestID() == "" {
			t.Errorf("%s %s: %d %s, want a 5xx with a request id", tc.method, tc.path, r.status, r.raw)
		}
		checkNoLeak(t, r.raw)
	}
}

// TestPanicHidden: a panicking handler is a 500 "internal error" without the panic value or a
// stack, both of which go to the log; a panic after the answer started aborts the response.
func TestPanicHidden(t *testing.T) {
	var logs bytes.Buffer
	a := &api{log: slog.New(slog.NewTextHandler(&logs, nil))}
	rt := newRouter(a, []route{
		{"GET", "/api/v1/boom", auth.RoleViewer, func(*api, http.ResponseWriter, *http.Request) {
			panic("secret: SELECT * FROM ocr_invoice_jobs")
		}},
		{"GET", "/api/v1/half", auth.RoleViewer, func(_ *api, w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusOK)
			panic(errors.New("late"))
		}},
	})
	h := authenticated(rt, &viewerAll)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/boom", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), `"message":"internal error"`) {
		t.Errorf("panic answered %d %s", rec.Code, rec.Body)
	}
	checkNoLeak(t, rec.Body.Bytes())
	if !strings.Contains(logs.String(), "REST handler panicked") || !strings.Contains(logs.String(), "goroutine") {
		t.Errorf("the panic and its stack were not logged:\n%s", logs.String())
	}

	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Errorf("a panic after the header recovered as %v, want http.ErrAbortHandler", v)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/half", nil))
	}()
}

// TestEdgeAnswers: the 401 and 429 that the server's middleware gives with WriteError match
// openapi.json on every route (WWW-Authenticate, Retry-After, the error envelope).
func TestEdgeAnswers(t *testing.T) {
	e := newEnv(t, databasetest.Open(t), nil)
	edge := func(err error, retryAfter string) http.Handler {
		return contractHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r = r.WithContext(reqid.With(r.Context(), "edge-1"))
			if retryAfter != "" {
				w.Header().Set("Retry-After", retryAfter)
			}
			WriteError(w, r, nil, err)
		}))
	}
	cases := []struct {
		name       string
		h          http.Handler
		status     int
		header     string
		headerWant string
	}{
		{"rate limited", edge(apperr.RateLimited("too many requests for this API key"), ""), 429, "Retry-After", DefaultRetryAfter},
		{"rate limited, Retry-After set", edge(apperr.RateLimited("too many uploads at once"), "7"), 429, "Retry-After", "7"},
		{"unauthenticated", edge(apperr.Unauthenticated("unknown API key"), ""), 401, "WWW-Authenticate", RealmHeader},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, rt := range routes {
				if rt.role == public {
					continue
				}
				path := strings.ReplaceAll(rt.path, "{id}", "0123456789abcdef01234567")
				v := *e
				v.t, v.h = t, tc.h
				r := v.do(rt.method, path, nil)
				if r.status != tc.status || r.header.Get(tc.header) != tc.headerWant || r.errRequestID() != "edge-1" {
					t.Errorf("%s %s: %d %s=%q %s", rt.method, path, r.status, tc.header, r.header.Get(tc.header), r.raw)
				}
			}
		})
	}
}
