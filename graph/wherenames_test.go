package graph_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// whereRenamed are the where inputs' fields under the contract's words, by input type,
// each with entgql's name (deprecated now).
var whereRenamed = map[string]map[string]string{
	"OcrInvoiceJobWhereInput":   {"documentUrl": "documentURL", "templateId": "templateID", "groupId": "groupID"},
	"SupplierProfileWhereInput": {"taxId": "taxID", "lastJobId": "lastJobID"},
}

// TestWhereContractNames: the where inputs filter under the contract's words
// (documentUrl..., templateId..., groupId..., taxId..., lastJobId...) as under entgql's,
// which still work, deprecated; both names of one predicate with different values are
// BAD_USER_INPUT naming the new one, at any depth, from literals and variables alike.
func TestWhereContractNames(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil, graph.Config{Introspection: true})
		var tpl struct{ CreateOcrTemplate struct{ ID string } }
		e.ok(`mutation { createOcrTemplate(input: {name: "where-names"}) { id } }`, nil, &tpl)
		var grp struct{ CreateOcrJobGroup struct{ ID string } }
		e.ok(`mutation { createOcrJobGroup(input: {name: "where-names"}) { id } }`, nil, &grp)
		gid := grp.CreateOcrJobGroup.ID
		j1 := e.createJob("W-1", nil)
		j2 := e.createJob("W-2", map[string]any{"group": gid, "template": tpl.CreateOcrTemplate.ID})
		j3 := e.createJob("W-3", map[string]any{"group": gid})
		profile := func(name string, set func(*ent.SupplierProfileCreate)) string {
			b := c.SupplierProfile.Create().SetCreatedBy("").SetNameKey(name).SetDisplayName(name).
				SetRules(json.RawMessage(`{}`))
			set(b)
			return b.SaveX(t.Context()).ID
		}
		p1 := profile("one", func(b *ent.SupplierProfileCreate) { b.SetTaxID("DE001").SetLastJobID(j1.ID) })
		p2 := profile("two", func(b *ent.SupplierProfileCreate) { b.SetTaxID("FR002").SetLastJobID(j2.ID) })
		p3 := profile("three", func(*ent.SupplierProfileCreate) {})

		// list runs the jobs' or the profiles' list with where $w and returns the ids, sorted.
		list := func(typ string, w map[string]any) []string {
			t.Helper()
			q := `query($w: OcrInvoiceJobWhereInput) { ocrInvoiceJobs(first: 100, where: $w) { edges { node { id } } } }`
			if typ == "SupplierProfileWhereInput" {
				q = `query($w: SupplierProfileWhereInput) { supplierProfiles(first: 100, where: $w) { edges { node { id } } } }`
			}
			var out map[string]struct {
				Edges []struct{ Node struct{ ID string } }
			}
			e.ok(q, map[string]any{"w": w}, &out)
			var ids []string
			for _, conn := range out {
				for _, ed := range conn.Edges {
					ids = append(ids, ed.Node.ID)
				}
			}
			slices.Sort(ids)
			return ids
		}
		sorted := func(ids ...string) []string { slices.Sort(ids); return ids }

		t.Run("new names filter", func(t *testing.T) {
			for _, tc := range []struct {
				typ  string
				w    map[string]any
				want []string
			}{
				{"OcrInvoiceJobWhereInput", map[string]any{"documentUrl": j2.DocumentURL}, sorted(j2.ID)},
				{"OcrInvoiceJobWhereInput", map[string]any{"documentUrlIn": []string{j1.DocumentURL, j3.DocumentURL}}, sorted(j1.ID, j3.ID)},
				{"OcrInvoiceJobWhereInput", map[string]any{"documentUrlHasSuffix": "W-3.pdf"}, sorted(j3.ID)},
				{"OcrInvoiceJobWhereInput", map[string]any{"templateId": tpl.CreateOcrTemplate.ID}, sorted(j2.ID)},
				{"OcrInvoiceJobWhereInput", map[string]any{"templateIdNEQ": tpl.CreateOcrTemplate.ID}, sorted(j1.ID, j3.ID)},
				{"OcrInvoiceJobWhereInput", map[string]any{"groupId": gid}, sorted(j2.ID, j3.ID)},
				{"OcrInvoiceJobWhereInput", map[string]any{"groupIdIsNil": true}, sorted(j1.ID)},
				{"OcrInvoiceJobWhereInput", map[string]any{"not": map[string]any{"groupIdNotNil": true}}, sorted(j1.ID)},
				{"SupplierProfileWhereInput", map[string]any{"taxId": "DE001"}, sorted(p1)},
				{"SupplierProfileWhereInput", map[string]any{"taxIdIsNil": true}, sorted(p3)},
				{"SupplierProfileWhereInput", map[string]any{"taxIdHasPrefix": "FR"}, sorted(p2)},
				{"SupplierProfileWhereInput", map[string]any{"lastJobId": j2.ID}, sorted(p2)},
				{"SupplierProfileWhereInput", map[string]any{"lastJobIdIn": []string{j1.ID, j2.ID}}, sorted(p1, p2)},
			} {
				if got := list(tc.typ, tc.w); !slices.Equal(got, tc.want) {
					t.Errorf("%s %v: %v, want %v", tc.typ, tc.w, got, tc.want)
				}
			}
		})

		// deprecated maps each deprecated input field of the renamed where inputs to its
		// reason, from introspection.
		var schema struct {
			Schema struct {
				Types []struct {
					Name        string
					InputFields []struct {
						Name              string
						IsDeprecated      bool
						DeprecationReason *string
					}
				}
			} `json:"__schema"`
		}
		e.ok(`{ __schema { types { name inputFields(includeDeprecated: true) { name isDeprecated deprecationReason } } } }`, nil, &schema)
		deprecated := map[string]map[string]string{}
		current := map[string]map[string]bool{}
		for _, ty := range schema.Schema.Types {
			if whereRenamed[ty.Name] == nil {
				continue
			}
			deprecated[ty.Name], current[ty.Name] = map[string]string{}, map[string]bool{}
			for _, f := range ty.InputFields {
				if f.IsDeprecated {
					deprecated[ty.Name][f.Name] = *f.DeprecationReason
				} else {
					current[ty.Name][f.Name] = true
				}
			}
		}

		t.Run("old names are deprecated", func(t *testing.T) {
			for typ, names := range whereRenamed {
				for neu, old := range names {
					n := 0
					for _, p := range []string{"", "NEQ", "In", "NotIn", "GT", "GTE", "LT", "LTE", "Contains", "HasPrefix", "HasSuffix", "IsNil", "NotNil", "EqualFold", "ContainsFold"} {
						reason, isOld := deprecated[typ][old+p]
						if !isOld {
							if current[typ][old+p] {
								t.Errorf("%s.%s is not deprecated", typ, old+p)
							}
							continue
						}
						n++
						if want := "Use " + neu + p + "."; reason != want || !current[typ][neu+p] {
							t.Errorf("%s.%s: reason %q, want %q with %s a current field", typ, old+p, reason, want, neu+p)
						}
					}
					if n < 13 {
						t.Errorf("%s: %d deprecated predicates of %s, want 13 or more", typ, n, old)
					}
				}
			}
		})

		t.Run("old names filter as the new ones", func(t *testing.T) {
			sample := map[string]string{
				"documentUrl": j2.DocumentURL, "templateId": tpl.CreateOcrTemplate.ID, "groupId": gid,
				"taxId": "DE001", "lastJobId": j2.ID,
			}
			for typ, fields := range deprecated {
				for old, reason := range fields {
					neu := strings.TrimSuffix(strings.TrimPrefix(reason, "Use "), ".")
					var v any
					for prefix, s := range sample {
						if strings.HasPrefix(neu, prefix) {
							v = s
						}
					}
					switch {
					case strings.HasSuffix(neu, "Nil"):
						v = true
					case strings.HasSuffix(neu, "In"):
						v = []any{v}
					}
					want := list(typ, map[string]any{neu: v})
					if got := list(typ, map[string]any{old: v}); !slices.Equal(got, want) {
						t.Errorf("%s %s: %v, %s: %v", typ, old, got, neu, want)
					}
					// Both names with one value are that value.
					if got := list(typ, map[string]any{old: v, neu: v}); !slices.Equal(got, want) {
						t.Errorf("%s %s and %s: %v, want %v", typ, old, neu, got, want)
					}
				}
			}
			// A single value is the list of it; null under one name is no value.
			if got := list("OcrInvoiceJobWhereInput", map[string]any{"documentUrlIn": j1.DocumentURL, "documentURLIn": []string{j1.DocumentURL}}); !slices.Equal(got, sorted(j1.ID)) {
				t.Errorf("documentUrlIn as one value: %v", got)
			}
			if got := list("OcrInvoiceJobWhereInput", map[string]any{"groupId": nil, "groupID": gid}); !slices.Equal(got, sorted(j2.ID, j3.ID)) {
				t.Errorf("groupId null, groupID: %v", got)
			}
		})

		t.Run("both names with different values", func(t *testing.T) {
			const jobs = `query($w: OcrInvoiceJobWhereInput) { ocrInvoiceJobs(where: $w) { totalCount } }`
			for _, tc := range []struct {
				name, query string
				vars        map[string]any
				field       string
			}{
				{"variable", jobs, map[string]any{"w": map[string]any{"documentUrl": j1.DocumentURL, "documentURL": j2.DocumentURL}}, "documentUrl"},
				{"list", jobs, map[string]any{"w": map[string]any{"templateIdIn": []string{tpl.CreateOcrTemplate.ID}, "templateIDIn": []string{tpl.CreateOcrTemplate.ID, "x"}}}, "templateIdIn"},
				{"boolean under and", jobs, map[string]any{"w": map[string]any{"and": []any{map[string]any{"groupIdIsNil": true, "groupIDIsNil": false}}}}, "groupIdIsNil"},
				{"literal under not", `{ ocrInvoiceJobs(where: {not: {groupId: "` + gid + `", groupID: "other"}}) { totalCount } }`, nil, "groupId"},
				{"literal and variable", `query($g: ID) { ocrInvoiceJobs(where: {groupIdNEQ: $g, groupIDNEQ: "other"}) { totalCount } }`, map[string]any{"g": gid}, "groupIdNEQ"},
				{"a template's jobs", `{ ocrTemplates(where: {hasJobsWith: [{documentUrlContains: "W-1", documentURLContains: "W-2"}]}) { totalCount } }`, nil, "documentUrlContains"},
				{"supplier profiles", `query($w: SupplierProfileWhereInput) { supplierProfiles(where: $w) { totalCount } }`,
					map[string]any{"w": map[string]any{"or": []any{map[string]any{"taxId": "DE001", "taxID": "FR002"}}}}, "taxId"},
				{"supplier profiles' last job", `{ supplierProfiles(where: {lastJobIdIn: ["a"], lastJobIDIn: ["a", "b"]}) { totalCount } }`, nil, "lastJobIdIn"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := e.fails(tc.query, tc.vars, "BAD_USER_INPUT")
					msg := r.Errors[0].Message
					if !strings.Contains(msg, tc.field+" and as ") || !strings.Contains(msg, "give "+tc.field+" only") {
						t.Errorf("message %q does not name %s", msg, tc.field)
					}
					if d, _ := r.Errors[0].Extensions["details"].([]any); len(d) != 1 || d[0].(map[string]any)["field"] != tc.field {
						t.Errorf("details %v, want one on %s", r.Errors[0].Extensions["details"], tc.field)
					}
					if strings.Contains(string(r.Data), "totalCount") {
						t.Errorf("data %s beside the error", r.Data)
					}
				})
			}
		})

		t.Run("filter cost", func(t *testing.T) {
			// The new names cost what the old ones do: four substring conditions are over the budget.
			or := make([]any, 4)
			for i := range or {
				or[i] = map[string]any{fmt.Sprintf("documentUrl%s", []string{"ContainsFold", "Contains", "HasPrefix", "HasSuffix"}[i]): "q"}
			}
			r := e.fails(`query($w: OcrInvoiceJobWhereInput) { ocrInvoiceJobs(where: $w) { totalCount } }`, map[string]any{"w": map[string]any{"or": or}}, "BAD_USER_INPUT")
			if !strings.Contains(r.Errors[0].Message, "filter cost 240 exceeds the budget") {
				t.Errorf("message %q", r.Errors[0].Message)
			}
		})
	})
}
