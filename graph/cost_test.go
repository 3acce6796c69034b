package graph_test

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
	"testing"

	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// millionNodes nests three pages of 100 jobs through their template: a million jobs
// at the bottom, though the query is a few lines long.
const millionNodes = `a%d: ocrInvoiceJobs(first: 100) { edges { node { template { jobs(first: 100) { edges { node { template { jobs(first: 100) { edges { node { id } } } } } } } } } } }`

// aliased repeats one root selection (with %d for its alias) n times in one operation
// with the given variable definitions.
func aliased(varDefs, sel string, n int) string {
	var b strings.Builder
	b.WriteString("query" + varDefs + " {")
	for i := range n {
		b.WriteString(" " + fmt.Sprintf(sel, i))
	}
	b.WriteString(" }")
	return b.String()
}

// unknownIDs are n well-formed ids of no object.
func unknownIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%024x", i+1)
	}
	return ids
}

// in returns a copy of e that reports to t (a subtest's), so that a failure stops the
// subtest only.
func (e *env) in(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// costly are the operations of the issue that gqlgen's fixed complexity let through:
// the cost of each was a few dozen, whatever its pages and lists.
func costly() []struct {
	name  string
	query string
	vars  map[string]any
} {
	return []struct {
		name  string
		query string
		vars  map[string]any
	}{
		{"a million nodes", aliased("", millionNodes, 1), nil},
		{"a million nodes under 30 aliases", aliased("", millionNodes, 30), nil},
		{"30 aliases of nodes with 10,000 ids in variables", aliased("($ids: [ID!]!)", `a%d: nodes(ids: $ids) { id }`, 30), map[string]any{"ids": unknownIDs(10_000)}},
	}
}

func TestCostLimit(t *testing.T) {
	c := databasetest.Open(t)
	e := newEnv(t, c, nil, graph.Config{})
	for _, tc := range costly() {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			r := e.in(t).fails(tc.query, tc.vars, "COMPLEXITY_LIMIT_EXCEEDED")
			if r.Data != nil && string(r.Data) != "null" {
				t.Errorf("data %s alongside the refusal", r.Data)
			}
		})
	}
	t.Run("the message names the estimate and the limit", func(t *testing.T) {
		small := newEnv(t, c, nil, graph.Config{ComplexityLimit: 100, MaxNodes: 50})
		small.in(t).ok(`{ ocrInvoiceJobs(first: 10) { edges { node { id jobNumber } } } }`, nil, nil) // 1 + 10×4
		r := small.in(t).fails(`{ ocrInvoiceJobs(first: 30) { edges { node { id jobNumber } } } }`, nil, "COMPLEXITY_LIMIT_EXCEEDED")
		if msg := r.Errors[0].Message; !strings.Contains(msg, "cost of 121") || !strings.Contains(msg, "limit of 100") {
			t.Errorf("message %q does not name the cost 121 and the limit 100", msg)
		}
		r = small.in(t).fails(`{ ocrInvoiceJobs(first: 30) { edges { node { id } } } }`, nil, "COMPLEXITY_LIMIT_EXCEEDED") // cost 91
		if msg := r.Errors[0].Message; !strings.Contains(msg, "61 objects") || !strings.Contains(msg, "limit of 50") {
			t.Errorf("message %q does not name the 61 objects and the limit 50", msg)
		}
	})
	t.Run("nodes counts its ids, from variables too", func(t *testing.T) {
		job := e.in(t).createJob("COST-1", nil)
		q := `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`
		e.in(t).ok(q, map[string]any{"ids": []string{job.ID, job.ID, job.ID}}, nil)
		e.in(t).fails(q, map[string]any{"ids": unknownIDs(graph.DefaultMaxNodes + 1)}, "COMPLEXITY_LIMIT_EXCEEDED")
	})
	t.Run("page sizes come from variables", func(t *testing.T) {
		q := `query($n: Int) { ocrInvoiceJobs(first: $n) { edges { node { template { jobs(first: $n) { edges { node { id } } } } } } } }`
		e.in(t).ok(q, map[string]any{"n": 10}, nil)
		e.in(t).fails(q, map[string]any{"n": 100}, "COMPLEXITY_LIMIT_EXCEEDED") // 2×100×100 edges and nodes
	})
	t.Run("a connection given neither first nor last counts at the default page", func(t *testing.T) {
		q := `{ ocrTemplates(first: %d) { edges { node { jobs { edges { node { id } } } } } } }`
		e.in(t).ok(fmt.Sprintf(q, jobs.DefaultLimit), nil, nil)              // 1 + 3×50 + 2×50×50 objects
		e.in(t).fails(fmt.Sprintf(q, 100), nil, "COMPLEXITY_LIMIT_EXCEEDED") // 1 + 3×100 + 2×100×50
	})
	t.Run("what @skip leaves out is not counted", func(t *testing.T) {
		big := strings.Replace(fmt.Sprintf(millionNodes, 0), "(first: 100) {", "(first: 100) @include(if: $big) {", 1)
		q := `query($big: Boolean!) { ocrTemplates { totalCount } ` + big + ` }`
		e.in(t).ok(q, map[string]any{"big": false}, nil)
		e.in(t).fails(q, map[string]any{"big": true}, "COMPLEXITY_LIMIT_EXCEEDED")
	})
	t.Run("ordinary pages pass the defaults", func(t *testing.T) {
		e.in(t).ok(`{ ocrInvoiceJobs(first: 100) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {
		  id createdAt updatedAt jobNumber documentName documentURL documentType templateID groupID status priority
		  progress { percentage currentStep totalSteps } startedAt completedAt processingTime documentSha256 cost currency
		  errorLog retryCount createdBy callbackURL metadata template { id name } group { id name }
		  extractedData { invoice { number date dueDate supplier { name } amounts { total currency } } lineItems { description amount } }
		} } } }`, nil, nil)
		e.in(t).ok(`{ ocrJobGroups(first: 20) { edges { node { id status { phase total conditions { type status } } jobs(first: 100) { edges { node { id status } } } } } } }`, nil, nil)
	})
}

func TestResponseSizeLimit(t *testing.T) {
	c := databasetest.Open(t)
	e := newEnv(t, c, nil, graph.Config{})
	for i := range 5 {
		e.createJob(fmt.Sprintf("SIZE-%d", i), nil)
	}
	const q = `{ ocrInvoiceJobs { edges { node { id jobNumber documentName documentURL } } } }`
	full := e.do(q, nil)
	if len(full.Errors) > 0 {
		t.Fatalf("errors %+v", full.Errors)
	}
	size := len(full.Data)

	t.Run("an answer of the cap passes", func(t *testing.T) {
		at := newEnv(t, c, nil, graph.Config{MaxResponseBytes: size})
		if r := at.in(t).do(q, nil); len(r.Errors) > 0 || string(r.Data) != string(full.Data) {
			t.Fatalf("cap %d: errors %+v, data %s", size, r.Errors, r.Data)
		}
	})
	t.Run("one byte over the cap drops the data", func(t *testing.T) {
		under := newEnv(t, c, nil, graph.Config{MaxResponseBytes: size - 1})
		r := under.in(t).fails(q, nil, "RESPONSE_TOO_LARGE")
		if len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Message, fmt.Sprint(size-1)) {
			t.Errorf("errors %+v, want one naming the cap %d", r.Errors, size-1)
		}
		if r.Data != nil && string(r.Data) != "null" {
			t.Errorf("data %s sent over the cap", r.Data)
		}
	})
	t.Run("a mutation whose answer is dropped is rolled back", func(t *testing.T) {
		tiny := newEnv(t, c, nil, graph.Config{MaxResponseBytes: 40})
		tiny.in(t).fails(`mutation { createOcrTemplate(input: {name: "oversized", description: "`+strings.Repeat("d", 100)+`"}) { id name description } }`, nil, "RESPONSE_TOO_LARGE")
		e.in(t).fails(`{ ocrTemplate(id: "oversized") { id } }`, nil, "NOT_FOUND")
	})
}

// suggestive are validation errors whose message, with suggestions on, names a field,
// argument, type, enum value or input field of the schema close to what was typed.
var suggestive = []struct{ name, query, reveals string }{
	{"a field", `{ apiKey { id } }`, "apiKeys"},
	{"a root field", `{ ocrInvoiceJobz { totalCount } }`, "ocrInvoiceJobs"},
	{"a mutation", `mutation { createApiKy(input: {name: "x", role: admin}) { key } }`, "createApiKey"},
	{"an argument", `{ ocrInvoiceJobs(firs: 1) { totalCount } }`, `"first"`},
	{"a type", `query { ...F } fragment F on OcrInvoiceJb { id }`, "OcrInvoiceJob"},
	{"an input field", `{ ocrInvoiceJobs(where: {statu: completed}) { totalCount } }`, `"status"`},
	{"an enum value", `{ ocrInvoiceJobs(where: {status: complete}) { totalCount } }`, "completed"},
}

func TestIntrospectionDisabled(t *testing.T) {
	c := databasetest.Open(t)
	off := newEnv(t, c, nil, graph.Config{})
	on := newEnv(t, c, nil, graph.Config{Introspection: true})
	introspection := map[string]string{
		"__schema":              `{ __schema { types { name } } }`,
		"__type":                `{ __type(name: "Query") { name } }`,
		"__schema in fragments": `query { ocrTemplates { totalCount } ...F } fragment F on Query { ... on Query { __schema { queryType { name } } } }`,
	}
	for name, q := range introspection {
		t.Run(name+" off: INTROSPECTION_DISABLED, nothing logged", func(t *testing.T) {
			for _, who := range []auth.Principal{auth.Local, submitter} {
				r := off.as(&who).in(t).fails(q, nil, "INTROSPECTION_DISABLED")
				if len(r.Errors) != 1 || r.Errors[0].Message != "introspection is disabled on this server" {
					t.Errorf("errors %+v", r.Errors)
				}
			}
			if l := off.log.String(); strings.Contains(l, "level=ERROR") || strings.Contains(l, "level=WARN") {
				t.Errorf("logged:\n%s", l)
			}
		})
		t.Run(name+" on", func(t *testing.T) {
			on.in(t).ok(q, nil, nil)
		})
	}
	t.Run("__typename off", func(t *testing.T) {
		off.in(t).ok(`{ __typename ocrTemplates { __typename } }`, nil, nil)
	})
	for _, tc := range suggestive {
		t.Run(tc.name+" off: no suggestion", func(t *testing.T) {
			r := off.in(t).fails(tc.query, nil, "GRAPHQL_VALIDATION_FAILED")
			for _, e := range r.Errors {
				if strings.Contains(e.Message, "Did you mean") || strings.Contains(e.Message, tc.reveals) {
					t.Errorf("message %q reveals %s", e.Message, tc.reveals)
				}
			}
		})
		t.Run(tc.name+" on: suggested", func(t *testing.T) {
			r := on.in(t).fails(tc.query, nil, "GRAPHQL_VALIDATION_FAILED")
			var all strings.Builder
			for _, e := range r.Errors {
				all.WriteString(e.Message + "\n")
			}
			if !strings.Contains(all.String(), "Did you mean") || !strings.Contains(all.String(), tc.reveals) {
				t.Errorf("messages %q suggest no %s", all.String(), tc.reveals)
			}
		})
	}
}

// BenchmarkRefuseCostly measures how long the handler takes to refuse each of the
// costly operations: decoding the request, parsing (cached after the first time),
// validating, coercing the variables and estimating the cost.
func BenchmarkRefuseCostly(b *testing.B) {
	c := databasetest.Open(b)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := graph.NewHandler(jobs.NewService(c, nil, jobs.Options{Logger: logger}), graph.Config{Logger: logger})
	for _, tc := range costly() {
		body, _ := json.Marshal(map[string]any{"query": tc.query, "variables": tc.vars})
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req = req.WithContext(auth.WithPrincipal(context.Background(), auth.Local))
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if !bytes.Contains(w.Body.Bytes(), []byte(`"COMPLEXITY_LIMIT_EXCEEDED"`)) {
					b.Fatalf("HTTP %d: %.300s", w.Code, w.Body.String())
				}
			}
		})
	}
}
