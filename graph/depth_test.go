package graph_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// nest wraps inner in the fields of path, outermost first.
func nest(inner string, path ...string) string {
	q := inner
	for i := len(path) - 1; i >= 0; i-- {
		q = path[i] + " { " + q + " }"
	}
	return "{ " + q + " }"
}

// TestDepthLimitIntrospection: graphql-js's standard introspection queries (written to
// testdata by tools/playground/introspection.mjs) pass the default depth limit, while
// a normal query as deep, and an introspection query that nests deeply through
// anything but ofType, are still refused.
func TestDepthLimitIntrospection(t *testing.T) {
	c := databasetest.Open(t)
	e := newEnv(t, c, nil, graph.Config{Introspection: true})
	for _, name := range []string{"introspection-default.graphql", "introspection-all.graphql"} {
		t.Run(name, func(t *testing.T) {
			q, err := os.ReadFile("testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			var out struct {
				Schema struct {
					QueryType struct{ Name string }
					Types     []struct {
						Name   string
						Fields []struct {
							Name string
							Type json.RawMessage
						}
					}
				} `json:"__schema"`
			}
			e.ok(string(q), nil, &out)
			if out.Schema.QueryType.Name != "Query" || len(out.Schema.Types) < 20 {
				t.Fatalf("introspection answered %d types, query type %q", len(out.Schema.Types), out.Schema.QueryType.Name)
			}
			// The deep ofType chain was resolved: some field's type is wrapped (a list
			// or non-null) and names its inner type.
			wrapped := false
			for _, ty := range out.Schema.Types {
				for _, f := range ty.Fields {
					if strings.Contains(string(f.Type), `"ofType":{"kind"`) || strings.Contains(string(f.Type), `"ofType":{"name"`) {
						wrapped = true
					}
				}
			}
			if !wrapped {
				t.Error("no field type with an ofType in the answer")
			}
		})
	}
	t.Run("deep normal query is refused", func(t *testing.T) {
		// 13 levels: over the default limit of 12.
		q := nest("id", "ocrInvoiceJobs", "edges", "node", "template", "jobs", "edges", "node", "template", "jobs", "edges", "node", "template")
		e.fails(q, nil, "DEPTH_LIMIT_EXCEEDED")
	})
	t.Run("deep normal query through fields named ofType is refused", func(t *testing.T) {
		// ofType is free only inside introspection; aliases named ofType do not help.
		q := nest("id", "ocrInvoiceJobs", "edges", "node", "ofType: template", "ofType: jobs", "ofType: edges", "ofType: node",
			"ofType: template", "ofType: jobs", "ofType: edges", "ofType: node", "ofType: template")
		e.fails(q, nil, "DEPTH_LIMIT_EXCEEDED")
	})
	t.Run("deep introspection through fields is refused", func(t *testing.T) {
		// gqlparser refuses three nested fields, interfaces, possibleTypes or
		// inputFields (GRAPHQL_VALIDATION_FAILED), which keeps introspection under 12
		// levels without ofType; under a limit of 6, this 8 levels deep one that it
		// allows must meet the depth limit.
		small := newEnv(t, c, nil, graph.Config{Introspection: true, DepthLimit: 6})
		small.fails(nest("name", "__schema", "directives", "args", "type", "fields", "args", "type"), nil, "DEPTH_LIMIT_EXCEEDED")
		small.ok(nest("name", "__schema", "directives", "args", "type"), nil, nil)
	})
	t.Run("a long ofType chain under __type is allowed", func(t *testing.T) {
		q := `{ __type(name: "Query") { name ` + strings.Repeat("ofType { name ", 20) + strings.Repeat("} ", 20) + `} }`
		e.ok(q, nil, nil)
	})
}
