package graph_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// containsFold is a where input or-ing n case-insensitive substring conditions (60 each).
func containsFold(n int) map[string]any {
	or := make([]any, n)
	for i := range or {
		or[i] = map[string]any{"jobNumberContainsFold": "q"}
	}
	return map[string]any{"or": or}
}

// TestWhereOverBudget: a GraphQL where input whose cost is over the filter budget is
// BAD_USER_INPUT naming the cost, the budget and its setting, with a detail on "where",
// on root lists, on a template's jobs and on the subscription; within it, it runs.
func TestWhereOverBudget(t *testing.T) {
	e := newEnv(t, databasetest.Open(t), nil, graph.Config{})
	const list = `query($w: OcrInvoiceJobWhereInput) { ocrInvoiceJobs(where: $w) { totalCount } }`
	r := e.fails(list, map[string]any{"w": containsFold(4)}, "BAD_USER_INPUT")
	if !strings.Contains(r.Errors[0].Message, "filter cost 240 exceeds the budget of 200 (OCRINVOICE_FILTER_COST_LIMIT") {
		t.Fatalf("message %q", r.Errors[0].Message)
	}
	if d, _ := r.Errors[0].Extensions["details"].([]any); len(d) != 1 || d[0].(map[string]any)["field"] != "where" {
		t.Fatalf("details %v, want one on where", r.Errors[0].Extensions["details"])
	}
	e.ok(list, map[string]any{"w": containsFold(3)}, nil)

	// A search term (100), edges (5 and their own conditions) and columns (3) count.
	w := map[string]any{"search": "acme", "hasTemplate": true, "and": []any{map[string]any{"status": "completed"}}} // 108
	e.ok(list, map[string]any{"w": w}, nil)
	w["hasTemplateWith"] = []any{map[string]any{"nameContainsFold": "g"}, map[string]any{"nameContainsFold": "h"}} // 233
	e.fails(list, map[string]any{"w": w}, "BAD_USER_INPUT")
	delete(w, "hasTemplateWith")
	w["or"] = []any{map[string]any{"jobNumberContainsFold": "q"}, map[string]any{"documentNameHasPrefix": "d"}} // 228
	e.fails(list, map[string]any{"w": w}, "BAD_USER_INPUT")

	// A template's jobs connection and the other root lists are costed too.
	const nested = `query($w: OcrInvoiceJobWhereInput) { ocrTemplates { edges { node { jobs(where: $w) { totalCount } } } } }`
	e.fails(nested, map[string]any{"w": containsFold(4)}, "BAD_USER_INPUT")
	tw := map[string]any{"or": []any{}}
	for range 4 {
		tw["or"] = append(tw["or"].([]any), map[string]any{"nameContainsFold": "g"})
	}
	e.fails(`query($w: OcrTemplateWhereInput) { ocrTemplates(where: $w) { totalCount } }`, map[string]any{"w": tw}, "BAD_USER_INPUT")
}

// TestQueryDeadlineIsUnavailable: a list whose statement runs past the request's
// database deadline (a tiny one here, as OCRINVOICE_DB_STATEMENT_TIMEOUT=1ns would set)
// is UNAVAILABLE with the documented message and HTTP 503, not INTERNAL, on SQLite and
// PostgreSQL.
func TestQueryDeadlineIsUnavailable(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil, graph.Config{})
		h := e.h
		e.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(database.WithStatementTimeout(r.Context(), time.Nanosecond)))
		})
		r := e.fails(`{ ocrInvoiceJobs(where: {jobNumberContainsFold: "x"}) { totalCount } }`, nil, "UNAVAILABLE")
		if r.Errors[0].Message != apperr.MsgQueryTimeout || r.Status != http.StatusServiceUnavailable {
			t.Fatalf("HTTP %d, message %q, want 503 with the query timeout message", r.Status, r.Errors[0].Message)
		}
	})
}
