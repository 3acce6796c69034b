package main

import (
	"net/url"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
)

// TestDatabaseBoundsSettings runs serve with a tiny OCRINVOICE_DB_STATEMENT_TIMEOUT and
// a small OCRINVOICE_FILTER_COST_LIMIT: a list is answered 503 UNAVAILABLE with the
// query timeout message (the statement deadline reaches the API's database work), and a
// filter over the limit 400 naming it.
func TestDatabaseBoundsSettings(t *testing.T) {
	rs := redistest.Start(t)
	p := start(t, testEnv(t, map[string]string{
		"REDIS_URL":                       rs.URL(),
		"OCRINVOICE_DB_STATEMENT_TIMEOUT": "1ns",
		"OCRINVOICE_FILTER_COST_LIMIT":    "30",
	}), "serve")

	code, b := p.request(t, "GET", "/api/v1/ocr-invoice-jobs", "")
	if code != 503 || !strings.Contains(string(b), `"code":"UNAVAILABLE"`) || !strings.Contains(string(b), apperr.MsgQueryTimeout) {
		t.Errorf("list with a 1ns deadline = %d %s, want 503 UNAVAILABLE with the query timeout message", code, b)
	}
	filter := url.QueryEscape(`{"metadata.a":"x","metadata.b":"y","metadata.c":"z"}`)
	code, b = p.request(t, "GET", "/api/v1/ocr-invoice-jobs?filter="+filter, "")
	if code != 400 || !strings.Contains(string(b), "filter cost 45 exceeds the budget of 30 (OCRINVOICE_FILTER_COST_LIMIT") {
		t.Errorf("filter over the limit = %d %s, want 400 naming the budget", code, b)
	}
}
