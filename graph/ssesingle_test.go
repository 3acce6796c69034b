package graph_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// TestSSESingleConnectionRefused: graphql-sse's single connection mode (a PUT reserving
// a stream, then a GET and POSTs with its token) gets a clear NOT_SUPPORTED naming the
// mode that works; the distinct connections mode and ordinary GETs are unaffected.
func TestSSESingleConnectionRefused(t *testing.T) {
	e := newEnv(t, databasetest.Open(t), nil, graph.Config{})
	send := func(method, target, body string, header map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		req = req.WithContext(auth.WithPrincipal(req.Context(), auth.Local))
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, req)
		return w
	}
	for _, tc := range []struct {
		name, method, target, body string
		header                     map[string]string
		status                     int
	}{
		{"reservation", http.MethodPut, "/graphql", "", nil, http.StatusMethodNotAllowed},
		{"stream with a token header", http.MethodGet, "/graphql", "", map[string]string{"X-GraphQL-Event-Stream-Token": "abc", "Accept": "text/event-stream"}, http.StatusBadRequest},
		{"stream with a token parameter", http.MethodGet, "/graphql?token=abc", "", map[string]string{"Accept": "text/event-stream"}, http.StatusBadRequest},
		{"operation with a token", http.MethodPost, "/graphql", `{"query":"{ __typename }","extensions":{"operationId":"1"}}`,
			map[string]string{"X-GraphQL-Event-Stream-Token": "abc", "Content-Type": "application/json"}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := send(tc.method, tc.target, tc.body, tc.header)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), "NOT_SUPPORTED") || !strings.Contains(w.Body.String(), "distinct connections mode") {
				t.Errorf("HTTP %d %s, want %d NOT_SUPPORTED naming the distinct connections mode", w.Code, w.Body.String(), tc.status)
			}
		})
	}
	t.Run("ordinary requests still work", func(t *testing.T) {
		if w := send(http.MethodGet, "/graphql?query=%7B__typename%7D", "", nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Query") {
			t.Errorf("GET: HTTP %d %s", w.Code, w.Body.String())
		}
		w := send(http.MethodPost, "/graphql", `{"query":"subscription { ocrJobGroupProgress(id: \"nope\") { phase } }"}`,
			map[string]string{"Content-Type": "application/json", "Accept": "text/event-stream"})
		if !strings.Contains(w.Header().Get("Content-Type"), "text/event-stream") || strings.Contains(w.Body.String(), "NOT_SUPPORTED") {
			t.Errorf("SSE (distinct connections): HTTP %d %q %s", w.Code, w.Header().Get("Content-Type"), w.Body.String())
		}
	})
}
