package graph

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/ocrinvoice/ocrinvoice/graph/generated"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// estimate parses and validates query against the executable schema, coerces vars
// (given as JSON, as a client sends them) the way gqlgen does, and estimates it.
func estimate(t *testing.T, query, vars string) costEstimate {
	t.Helper()
	s := generated.NewExecutableSchema(generated.Config{}).Schema()
	doc, errs := gqlparser.LoadQueryWithRules(s, query, nil)
	if len(errs) > 0 {
		t.Fatalf("invalid query %s: %v", query, errs)
	}
	raw := map[string]any{}
	if vars != "" {
		dec := json.NewDecoder(strings.NewReader(vars))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil {
			t.Fatal(err)
		}
	}
	op := doc.Operations[0]
	coerced, err := validator.VariableValues(s, op, raw)
	if err != nil {
		t.Fatalf("variables %s: %v", vars, err)
	}
	return estimateCost(doc, op.SelectionSet, coerced, jobs.DefaultLimit)
}

func TestEstimateCost(t *testing.T) {
	million := `{ ocrInvoiceJobs(first: 100) { edges { node { template { jobs(first: 100) { edges { node { template { jobs(first: 100) { edges { node { id } } } } } } } } } } } }`
	for _, tc := range []struct {
		name, query, vars string
		cost, nodes       int64
	}{
		{"a count", `{ ocrTemplates { totalCount } }`, "", 2, 1},
		{"totalCount and pageInfo once, edges per element of the page",
			`{ ocrInvoiceJobs(first: 10) { totalCount pageInfo { hasNextPage } edges { cursor node { id jobNumber } } } }`, "",
			1 + 1 + 1 + 1 + 10*5, 1 + 1 + 10 + 10},
		{"neither first nor last: the default page", `{ ocrInvoiceJobs { edges { node { id } } } }`, "",
			1 + 3*int64(jobs.DefaultLimit), 1 + 2*int64(jobs.DefaultLimit)},
		{"last", `{ ocrInvoiceJobs(last: 5) { edges { node { id } } } }`, "", 16, 11},
		{"first and last: the larger", `{ ocrInvoiceJobs(first: 3, last: 5) { edges { node { id } } } }`, "", 16, 11},
		{"first: 0", `{ ocrInvoiceJobs(first: 0) { totalCount edges { node { id } } } }`, "", 2, 1},
		{"first from a variable", `query($n: Int) { ocrInvoiceJobs(first: $n) { edges { node { id } } } }`, `{"n": 7}`, 22, 15},
		{"a null variable: the default page", `query($n: Int) { ocrInvoiceJobs(first: $n) { edges { node { id } } } }`, `{"n": null}`,
			1 + 3*int64(jobs.DefaultLimit), 1 + 2*int64(jobs.DefaultLimit)},
		{"nested pages multiply", million, "",
			1 + 4*100 + 4*10_000 + 3*1_000_000, 1 + 4*100 + 4*10_000 + 2*1_000_000},
		{"nodes: its number of ids", `{ nodes(ids: ["a", "b", "c"]) { id } }`, "", 6, 3},
		{"nodes: ids from a variable", `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on OcrInvoiceJob { jobNumber } } }`,
			`{"ids": [` + strings.TrimSuffix(strings.Repeat(`"x",`, 10_000), ",") + `]}`, 30_000, 10_000},
		{"fragments count where they are spread",
			`query { a: ocrTemplates(first: 2) { ...E } b: ocrTemplates(first: 2) { ...E } } fragment E on OcrTemplateConnection { edges { node { id } } }`, "",
			2 * 7, 2 * 5},
		{"@skip leaves out", `query($s: Boolean!) { ocrTemplates(first: 2) { totalCount edges @skip(if: $s) { node { id } } } }`, `{"s": true}`, 2, 1},
		{"@skip false counts", `query($s: Boolean!) { ocrTemplates(first: 2) { totalCount edges @skip(if: $s) { node { id } } } }`, `{"s": false}`, 8, 5},
		{"@include false on a fragment", `{ ocrTemplates(first: 2) { totalCount ... @include(if: false) { edges { node { id } } } } }`, "", 2, 1},
		{"a list without a size argument is one element", `{ ocrInvoiceJob(id: "x") { extractedData { lineItems { amount } } } }`, "", 4, 3},
		{"__typename", `{ __typename }`, "", 1, 0},
		{"saturates", strings.ReplaceAll(million, "100", "2147483647"), "", math.MaxInt64, math.MaxInt64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := estimate(t, tc.query, tc.vars)
			if got.cost != tc.cost || got.nodes != tc.nodes {
				t.Errorf("cost %d, objects %d; want %d, %d", got.cost, got.nodes, tc.cost, tc.nodes)
			}
		})
	}
}

// everyField selects every field of def and, depth levels down, of the objects it
// holds; connections (which would repeat the job) are left out.
func everyField(s *ast.Schema, def *ast.Definition, depth int) string {
	var b strings.Builder
	for _, f := range def.Fields {
		if strings.HasPrefix(f.Name, "__") || strings.HasSuffix(f.Type.Name(), "Connection") {
			continue
		}
		t := s.Types[f.Type.Name()]
		if t.Kind == ast.Object {
			if depth == 0 {
				continue
			}
			b.WriteString(" " + f.Name + " {" + everyField(s, t, depth-1) + " }")
			continue
		}
		b.WriteString(" " + f.Name)
	}
	return b.String()
}

// The defaults admit a page of 100 jobs with every field of the job and of what it
// holds, its template's and group's included, and the estimate of that page is what
// DefaultComplexityLimit's comment says.
func TestDefaultsAdmitAFullPage(t *testing.T) {
	s := generated.NewExecutableSchema(generated.Config{}).Schema()
	query := `{ ocrInvoiceJobs(first: 100) { totalCount edges { node {` + everyField(s, s.Types["OcrInvoiceJob"], 4) + ` } } } }`
	got := estimate(t, query, "")
	t.Logf("a page of 100 full jobs: cost %d, %d objects; %d bytes of query", got.cost, got.nodes, len(query))
	if got.cost > DefaultComplexityLimit || got.nodes > DefaultMaxNodes {
		t.Errorf("cost %d, objects %d: over the defaults %d, %d", got.cost, got.nodes, DefaultComplexityLimit, DefaultMaxNodes)
	}
	if got.cost < 18_000 || got.cost > 19_999 {
		t.Errorf("cost %d: DefaultComplexityLimit's comment says about 19,200", got.cost)
	}
}
