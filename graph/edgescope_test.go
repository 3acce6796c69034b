package graph_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/graph/generated"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// probeMatchers are the fields, in order of preference, by which an edge probe selects
// the rows a test creates (their values start with probePrefix). A new filterable type
// needs one of them, or an entry here: edgeProbes fails until it has.
var probeMatchers = []string{"jobNumberHasPrefix", "nameHasPrefix"}

const probePrefix = "PROBE"

// edgeProbe is one filter through an edge, asked through one field that takes it.
type edgeProbe struct {
	label string
	query string
	where map[string]any
	// depth1With marks a hasXWith probe one edge deep, which must see rows created by
	// an owner that may see them (the probes' own check that they can detect a change).
	depth1With bool
}

// edgeProbes walks the schema: for every input type named *WhereInput, every field of
// it that filters through an edge (hasX, hasXWith), one and two edges deep and under
// not, asked through every field that takes such a where (the root lists, and the
// connections of every listed type, e.g. ocrTemplates { jobs(where:) }).
func edgeProbes(t *testing.T, s *ast.Schema) []edgeProbe {
	t.Helper()
	// askers: where type -> query texts with a $w variable of that type.
	askers := map[string][]string{}
	for _, root := range s.Query.Fields {
		if a := root.Arguments.ForName("where"); a != nil {
			askers[a.Type.Name()] = append(askers[a.Type.Name()],
				fmt.Sprintf("query($w: %s) { %s(where: $w) { totalCount } }", a.Type.Name(), root.Name))
		}
		// The connections of the nodes a root list returns.
		conn := s.Types[root.Type.Name()]
		if conn == nil || !strings.HasSuffix(conn.Name, "Connection") || conn.Fields.ForName("edges") == nil {
			continue
		}
		node := s.Types[s.Types[conn.Fields.ForName("edges").Type.Name()].Fields.ForName("node").Type.Name()]
		for _, f := range node.Fields {
			if a := f.Arguments.ForName("where"); a != nil {
				askers[a.Type.Name()] = append(askers[a.Type.Name()],
					fmt.Sprintf("query($w: %s) { %s(first: 100) { edges { node { id %s(where: $w) { totalCount } } } } }", a.Type.Name(), root.Name, f.Name))
			}
		}
	}
	matcher := func(typ string) map[string]any {
		def := s.Types[typ]
		for _, m := range probeMatchers {
			if def != nil && def.Fields.ForName(m) != nil {
				return map[string]any{m: probePrefix}
			}
		}
		t.Fatalf("no probe matcher for %s: give it one of %v or extend probeMatchers", typ, probeMatchers)
		return nil
	}
	edges := func(typ string) (bools, withs []*ast.FieldDefinition) {
		for _, f := range s.Types[typ].Fields {
			switch {
			case strings.HasPrefix(f.Name, "has") && strings.HasSuffix(f.Name, "With"):
				withs = append(withs, f)
			case strings.HasPrefix(f.Name, "has") && f.Type.Name() == "Boolean":
				bools = append(bools, f)
			}
		}
		return bools, withs
	}
	var out []edgeProbe
	var walked []string
	for name, def := range s.Types {
		if def.Kind != ast.InputObject || !strings.HasSuffix(name, "WhereInput") {
			continue
		}
		bools, withs := edges(name)
		if len(bools)+len(withs) == 0 {
			continue
		}
		if len(askers[name]) == 0 {
			t.Fatalf("%s filters through edges but no query field takes it: extend edgeProbes", name)
		}
		walked = append(walked, name)
		type filter struct {
			label      string
			where      map[string]any
			depth1With bool
		}
		var filters []filter
		for _, f := range bools {
			filters = append(filters,
				filter{f.Name + ":true", map[string]any{f.Name: true}, false},
				filter{f.Name + ":false", map[string]any{f.Name: false}, false})
		}
		for _, f := range withs {
			target := f.Type.Name()
			one := map[string]any{f.Name: []any{matcher(target)}}
			filters = append(filters,
				filter{f.Name, one, true},
				filter{"not " + f.Name, map[string]any{"not": one}, false})
			_, next := edges(target)
			for _, g := range next {
				filters = append(filters, filter{f.Name + "." + g.Name,
					map[string]any{f.Name: []any{map[string]any{g.Name: []any{matcher(g.Type.Name())}}}}, false})
			}
		}
		for _, q := range askers[name] {
			for _, f := range filters {
				out = append(out, edgeProbe{label: name + " " + f.label + " via " + q, query: q, where: f.where, depth1With: f.depth1With})
			}
		}
	}
	slices.Sort(walked)
	if !slices.Equal(walked, []string{"OcrInvoiceJobWhereInput", "OcrJobGroupWhereInput", "OcrTemplateWhereInput"}) {
		t.Logf("where inputs with edge filters: %v", walked)
	}
	if len(walked) == 0 {
		t.Fatal("found no where input with edge filters")
	}
	return out
}

// TestEdgeFiltersAreOwnerScoped: no filter through an edge tells owner B anything about
// owner A's rows. Every edge filter of every where input type of the schema (see
// edgeProbes) is asked as B, then A creates rows that every probe selects (a template of
// its own, a group, jobs on the built-in, a shared and its own template, and, through an
// admin, a job of A's inside B's group), and every answer B gets must be the same as
// before. The same probes asked by an admin must see the new rows, so that they could
// have told.
func TestEdgeFiltersAreOwnerScoped(t *testing.T) {
	probes := edgeProbes(t, generated.NewExecutableSchema(generated.Config{}).Schema())
	t.Logf("%d edge probes", len(probes))
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		base := newEnv(t, c, acceptAll{}, graph.Config{})
		a, b, adm := base.as(&ownerA), base.as(&ownerB), base.as(&admin)
		var tpl struct{ CreateOcrTemplate struct{ ID string } }
		adm.ok(`mutation { createOcrTemplate(input: {name: "shared-tpl", shared: true}) { id } }`, nil, &tpl)
		adm.ok(`mutation { createOcrTemplate(input: {name: "tpl-b", createdBy: "team-b"}) { id } }`, nil, &tpl)
		var g struct{ CreateOcrJobGroup struct{ ID string } }
		b.ok(`mutation { createOcrJobGroup(input: {name: "group-b"}) { id } }`, nil, &g)
		groupB := g.CreateOcrJobGroup.ID
		b.createJob("B-1", map[string]any{"group": groupB})
		b.createJob("B-2", map[string]any{"template": "tpl-b"})
		a.createJob("A-1", nil)

		answers := func(e *env) map[string]string {
			t.Helper()
			out := make(map[string]string, len(probes))
			for _, p := range probes {
				r := e.do(p.query, map[string]any{"w": p.where})
				if len(r.Errors) > 0 {
					t.Fatalf("%s: %+v", p.label, r.Errors)
				}
				out[p.label] = string(r.Data)
			}
			return out
		}
		beforeB, beforeAdmin := answers(b), answers(adm)

		adm.ok(`mutation { createOcrTemplate(input: {name: "PROBE-tpl-a", createdBy: "team-a"}) { id } }`, nil, &tpl)
		a.ok(`mutation { createOcrJobGroup(input: {name: "PROBE-group-a"}) { id } }`, nil, &g)
		a.createJob("PROBE-1", map[string]any{"group": g.CreateOcrJobGroup.ID})
		a.createJob("PROBE-2", map[string]any{"template": "shared-tpl"})
		a.createJob("PROBE-3", map[string]any{"template": "PROBE-tpl-a"})
		adm.createJob("PROBE-4", map[string]any{"group": groupB, "createdBy": "team-a"})

		afterB, afterAdmin := answers(b), answers(adm)
		leaks := 0
		for _, p := range probes {
			if beforeB[p.label] != afterB[p.label] {
				leaks++
				t.Errorf("B's answer changed when only A's rows did (a cross-owner signal):\n  %s\n  where %s\n  before %s\n  after  %s",
					p.label, mustJSON(p.where), beforeB[p.label], afterB[p.label])
			}
			if p.depth1With && beforeAdmin[p.label] == afterAdmin[p.label] {
				t.Errorf("the probe %s cannot see new rows even as an admin (answer %s): it proves nothing", p.label, afterAdmin[p.label])
			}
		}
		if leaks > 0 {
			t.Logf("%d of %d probes leaked", leaks, len(probes))
		}
	})
}

// TestNestedConnectionsArePaged: a template's or group's jobs given neither first nor
// last get the default page (what the cost limit estimates them at), not every row, and
// first beyond the maximum page is refused as at the root.
func TestNestedConnectionsArePaged(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, acceptAll{}, graph.Config{})
		var g struct{ CreateOcrJobGroup struct{ ID string } }
		e.ok(`mutation { createOcrJobGroup(input: {name: "paged"}) { id } }`, nil, &g)
		for i := range jobs.DefaultLimit + 5 {
			e.createJob(fmt.Sprintf("PAGE-%03d", i), map[string]any{"group": g.CreateOcrJobGroup.ID})
		}
		var out struct {
			OcrTemplate struct {
				Jobs struct {
					TotalCount int
					Edges      []struct{ Node struct{ ID string } }
				}
			}
			OcrJobGroup struct {
				Jobs struct {
					TotalCount int
					Edges      []struct{ Node struct{ ID string } }
				}
			}
		}
		e.ok(`query($g: ID!) {
  ocrTemplate(id: "generic") { jobs { totalCount edges { node { id } } } }
  ocrJobGroup(id: $g) { jobs { totalCount edges { node { id } } } }
}`, map[string]any{"g": g.CreateOcrJobGroup.ID}, &out)
		for name, conn := range map[string]struct {
			TotalCount int
			Edges      []struct{ Node struct{ ID string } }
		}{"template": out.OcrTemplate.Jobs, "group": out.OcrJobGroup.Jobs} {
			if conn.TotalCount != jobs.DefaultLimit+5 || len(conn.Edges) != jobs.DefaultLimit {
				t.Errorf("%s's jobs without first: %d of %d, want a page of %d", name, len(conn.Edges), conn.TotalCount, jobs.DefaultLimit)
			}
		}
		e.fails(fmt.Sprintf(`{ ocrTemplate(id: "generic") { jobs(first: %d) { totalCount } } }`, jobs.MaxLimit+1), nil, "BAD_USER_INPUT")
	})
}
