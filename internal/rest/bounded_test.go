package rest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// metadataFilter is a REST filter of n JSON-path conditions on metadata.
func metadataFilter(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`{"metadata.k%d":{"$ne":"v"}}`, i)
	}
	return `{"$and":[` + strings.Join(parts, ",") + `]}`
}

// TestListFilterOverBudget: a list filter whose cost is over the budget is a 400 naming
// the cost, the budget and its setting, on the field "filter", for jobs, templates and
// groups; one within it is answered.
func TestListFilterOverBudget(t *testing.T) {
	e := newEnv(t, databasetest.Open(t), nil)
	for _, path := range []string{"/api/v1/ocr-invoice-jobs", "/api/v1/ocr-templates", "/api/v1/ocr-job-groups"} {
		field := "metadata"
		switch path {
		case "/api/v1/ocr-templates", "/api/v1/ocr-job-groups":
			field = "spec"
		}
		over := strings.ReplaceAll(metadataFilter(14), "metadata.", field+".")
		r := e.do("GET", path+"?filter="+url.QueryEscape(over), nil).must(t, http.StatusBadRequest)
		if r.errCode() != "INVALID" || !strings.Contains(r.errMessage(), "filter cost 210 exceeds the budget of 200 (OCRINVOICE_FILTER_COST_LIMIT") ||
			!slices.Contains(r.errFields(), "filter") {
			t.Errorf("%s: %s %q %v, want INVALID naming the cost, budget and setting on filter", path, r.errCode(), r.errMessage(), r.errFields())
		}
		within := strings.ReplaceAll(metadataFilter(13), "metadata.", field+".")
		e.do("GET", path+"?filter="+url.QueryEscape(within), nil).must(t, http.StatusOK)
	}
	// The search term counts: 7 JSON paths (105) and a search (100).
	r := e.do("GET", "/api/v1/ocr-invoice-jobs?search=acme&filter="+url.QueryEscape(metadataFilter(7)), nil).must(t, http.StatusBadRequest)
	if !strings.Contains(r.errMessage(), "filter cost 205") {
		t.Errorf("search and filter: %q", r.errMessage())
	}
}

// TestQueryDeadlineAnswers503: a list whose database work runs past the request's
// statement deadline (a tiny one here, as OCRINVOICE_DB_STATEMENT_TIMEOUT=1ns would set)
// is answered 503 UNAVAILABLE with Retry-After and the documented message, not 500.
func TestQueryDeadlineAnswers503(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil)
		raw := e.raw
		e.serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw.ServeHTTP(w, r.WithContext(database.WithStatementTimeout(r.Context(), time.Nanosecond)))
		}))
		r := e.do("GET", "/api/v1/ocr-invoice-jobs?filter="+url.QueryEscape(metadataFilter(5)), nil).must(t, http.StatusServiceUnavailable)
		if r.errCode() != "UNAVAILABLE" || r.errMessage() != apperr.MsgQueryTimeout || r.header.Get("Retry-After") == "" {
			t.Fatalf("answer %s %q Retry-After %q, want UNAVAILABLE with the query timeout message", r.errCode(), r.errMessage(), r.header.Get("Retry-After"))
		}
	})
}
