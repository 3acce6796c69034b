package graph_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// postRaw POSTs body as application/json through e's handler and returns the status
// and the body.
func (e *env) postRaw(body string) (int, string) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if e.who != nil {
		req = req.WithContext(auth.WithPrincipal(req.Context(), *e.who))
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	return w.Code, w.Body.String()
}

// TestBatchedRequests: a JSON array of operations (graphql-request's batchRequests,
// Apollo's BatchHttpLink) is answered with the array of their answers, in order, each
// operation under the same limits as alone; a batch over MaxBatchOperations and
// malformed bodies get a short BAD_REQUEST that names no Go type.
func TestBatchedRequests(t *testing.T) {
	c := databasetest.Open(t)
	var mu sync.Mutex
	used := 0
	limiter := func(_ context.Context, p auth.Principal) (bool, time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		used++
		return used <= 2, 1500 * time.Millisecond
	}
	e := newEnv(t, c, nil, graph.Config{MaxAliases: 2, OperationLimiter: limiter})

	t.Run("answers in order", func(t *testing.T) {
		status, body := e.postRaw(`[{"query":"{ ocrTemplates { totalCount } }"},
			{"query":"query Q($n: String!) { a: ocrTemplates(where: {name: $n}) { totalCount } }","variables":{"n":"generic"},"operationName":"Q"},
			{"query":"{ nope }"}]`)
		if status != http.StatusOK {
			t.Fatalf("HTTP %d: %s", status, body)
		}
		var answers []gqlResponse
		if err := json.Unmarshal([]byte(body), &answers); err != nil {
			t.Fatalf("answer is not an array: %v: %s", err, body)
		}
		if len(answers) != 3 {
			t.Fatalf("%d answers, want 3: %s", len(answers), body)
		}
		if len(answers[0].Errors) > 0 || !strings.Contains(string(answers[0].Data), `"totalCount":1`) {
			t.Errorf("answer 0: %s", body)
		}
		if len(answers[1].Errors) > 0 || !strings.Contains(string(answers[1].Data), `"a":{"totalCount":1}`) {
			t.Errorf("answer 1: %s", body)
		}
		if answers[2].code(0) != "GRAPHQL_VALIDATION_FAILED" {
			t.Errorf("answer 2: %s", body)
		}
	})
	t.Run("each operation meets the limits", func(t *testing.T) {
		_, body := e.postRaw(`[{"query":"{ a: ocrTemplates { totalCount } }"},{"query":"{ a: ocrTemplates { totalCount } b: ocrTemplates { totalCount } c: ocrTemplates { totalCount } }"}]`)
		var answers []gqlResponse
		if err := json.Unmarshal([]byte(body), &answers); err != nil || len(answers) != 2 {
			t.Fatalf("%v: %s", err, body)
		}
		if len(answers[0].Errors) > 0 || answers[1].code(0) != "ALIAS_LIMIT_EXCEEDED" {
			t.Errorf("want ok, ALIAS_LIMIT_EXCEEDED: %s", body)
		}
	})
	t.Run("malformed bodies", func(t *testing.T) {
		big := "[" + strings.TrimSuffix(strings.Repeat(`{"query":"{ ocrTemplates { totalCount } }"},`, 1000), ",") + "]"
		for _, tc := range []struct{ name, body, want string }{
			{"1,000 operations", big, "at most 20 operations; this one has 1000"},
			{"21 operations", "[" + strings.TrimSuffix(strings.Repeat(`{"query":"{ __typename }"},`, 21), ",") + "]", "at most 20 operations; this one has 21"},
			{"empty batch", `[]`, "holds no operation"},
			{"a number", `1`, "must be a JSON object"},
			{"a string", `"{ __typename }"`, "must be a JSON object"},
			{"query not a string", `{"query":5}`, "the member query must be a string"},
			{"variables not an object", `{"query":"{ __typename }","variables":[1]}`, "the member variables must be an object"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				status, body := e.postRaw(tc.body)
				if status != http.StatusBadRequest || !strings.Contains(body, tc.want) || !strings.Contains(body, "BAD_REQUEST") {
					t.Errorf("HTTP %d %s, want 400 saying %q", status, body, tc.want)
				}
				if strings.Contains(body, "Go ") || strings.Contains(body, "RawParams") || strings.Contains(body, "json:") {
					t.Errorf("the error shows Go: %s", body)
				}
			})
		}
	})
	t.Run("a malformed operation in a batch is answered in its place", func(t *testing.T) {
		status, body := e.postRaw(`[{"query":"{ __typename }"},2,{"query":"{ __typename }"}]`)
		var answers []gqlResponse
		if err := json.Unmarshal([]byte(body), &answers); err != nil || status != http.StatusOK || len(answers) != 3 {
			t.Fatalf("HTTP %d %v: %s", status, err, body)
		}
		if answers[1].code(0) != "BAD_REQUEST" || !strings.Contains(answers[1].Errors[0].Message, "operation 1 of the batch") || len(answers[2].Errors) > 0 {
			t.Errorf("answers: %s", body)
		}
	})
	t.Run("every further operation counts against the key's rate", func(t *testing.T) {
		e.who = &auth.Principal{KeyID: "k1", Name: "batcher", Role: auth.RoleViewer}
		defer func() { e.who = &auth.Local }()
		mu.Lock()
		used = 0
		mu.Unlock()
		// The server counted the request (the first operation); the limiter admits two
		// more, then refuses.
		_, body := e.postRaw("[" + strings.TrimSuffix(strings.Repeat(`{"query":"{ ocrTemplates { totalCount } }"},`, 5), ",") + "]")
		var answers []gqlResponse
		if err := json.Unmarshal([]byte(body), &answers); err != nil || len(answers) != 5 {
			t.Fatalf("%v: %s", err, body)
		}
		for i, want := range []string{"", "", "", "RATE_LIMITED", "RATE_LIMITED"} {
			if got := answers[i].code(0); got != want {
				t.Errorf("answer %d: code %q, want %q: %s", i, got, want, body)
			}
			if want != "" && answers[i].Errors[0].Extensions["retryAfter"] != float64(2) {
				t.Errorf("answer %d: no retryAfter 2: %s", i, body)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if used != 4 {
			t.Errorf("the limiter was asked %d times, want 4 (the operations after the first)", used)
		}
	})
}
