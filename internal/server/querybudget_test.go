package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// slowHandler runs, with the request's context, a SQLite query that would take minutes,
// and answers 503 when the query was stopped by its deadline, 200 when it finished.
func slowHandler(t *testing.T) http.Handler {
	c := databasetest.Open(t)
	if err := jobs.NewService(c, nil, jobs.Options{}).EnsureBuiltins(context.Background()); err != nil {
		t.Fatal(err)
	}
	slow := func(s *entsql.Selector) {
		s.Where(entsql.ExprP("(WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 1000000000) SELECT count(*) FROM r) > 0"))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := c.OcrTemplate.Query().Where(slow).Count(r.Context())
		switch {
		case apperr.QueryTimedOut(err):
			w.WriteHeader(http.StatusServiceUnavailable)
		case err != nil:
			t.Errorf("slow query: %v", err)
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
}

// TestQueryTimeoutAndBudget: an API request's statements run under QueryTimeout; a key
// that has spent its budget of database time is answered 429 with Retry-After naming
// the setting, while another key is still served.
func TestQueryTimeoutAndBudget(t *testing.T) {
	h := slowHandler(t)
	s, k, _ := newAuthServer(t, Options{REST: h, QueryTimeout: 300 * time.Millisecond, QueryBudget: 0.1, QueryBudgetBurst: 500 * time.Millisecond})

	for i := range 2 { // 0.5 s of budget: two requests of 0.3 s start, the second leaves it owed
		start := time.Now()
		rec := doH(t, s.Handler(), "GET", "/api/v1/ocr-invoice-jobs", bearer(k.viewer))
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("request %d = %d %s, want the handler's 503 of a query stopped at its deadline", i, rec.Code, rec.Body)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("request %d took %v, want its statement stopped near the 300ms QueryTimeout", i, took)
		}
	}
	rec := doH(t, s.Handler(), "GET", "/api/v1/ocr-invoice-jobs", bearer(k.viewer))
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("third request = %d %s, want 429", rec.Code, rec.Body)
	}
	retry, err := strconv.Atoi(rec.Header().Get("Retry-After"))
	if err != nil || retry < 1 || retry > 3 {
		t.Errorf("Retry-After %q, want 1..3 s (0.1 s owed at 0.1 s a second)", rec.Header().Get("Retry-After"))
	}
	if code, _, _ := errorCode(t, rec.Body.Bytes()); code != "RATE_LIMITED" || !strings.Contains(rec.Body.String(), "OCRINVOICE_QUERY_BUDGET") {
		t.Errorf("429 body %s", rec.Body)
	}
	// GraphQL draws on the same budget.
	if rec := doH(t, s.Handler(), "POST", "/graphql", bearer(k.viewer)); rec.Code != http.StatusTooManyRequests {
		t.Errorf("GraphQL request of the spent key = %d", rec.Code)
	}
	// Another key is served.
	if rec := doH(t, s.Handler(), "GET", "/api/v1/ocr-invoice-jobs", bearer(k.submitter)); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("other key = %d %s, want it served (the handler's 503)", rec.Code, rec.Body)
	}
}

// TestQueryBudgetByAddress: without authentication the budget is per client address.
func TestQueryBudgetByAddress(t *testing.T) {
	s, err := New(Options{REST: slowHandler(t), QueryTimeout: 200 * time.Millisecond, QueryBudget: 0.1, QueryBudgetBurst: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	from := func(addr string) int {
		req, _ := http.NewRequest("GET", "/api/v1/ocr-invoice-jobs", nil)
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	if got := from("192.0.2.1:1000"); got != http.StatusServiceUnavailable {
		t.Fatalf("first request = %d", got)
	}
	if got := from("192.0.2.1:1001"); got != http.StatusTooManyRequests {
		t.Fatalf("second request of the address = %d, want 429", got)
	}
	if got := from("192.0.2.2:1000"); got != http.StatusServiceUnavailable {
		t.Fatalf("another address = %d, want it served", got)
	}
}
