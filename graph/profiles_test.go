package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

var viewerA = auth.Principal{KeyID: "va", Name: "viewer of team-a", Role: auth.RoleViewer, Owner: "team-a"}

// storeProfile stores a supplier profile of owner as learning would leave it.
func storeProfile(t *testing.T, c *ent.Client, owner string, i int) string {
	t.Helper()
	p, err := c.SupplierProfile.Create().SetCreatedBy(owner).SetTaxID(fmt.Sprintf("DE%03d", i)).
		SetNameKey("acme").SetDisplayName(fmt.Sprintf("Acme %d", i)).SetVersion(i + 1).SetJobsLearned(i + 1).
		SetRules(json.RawMessage(`{"fields":{"invoice.number":{"label":"Invoice No","confidence":0.9}}}`)).
		Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

const profilesQuery = `query($first: Int, $after: Cursor) {
  supplierProfiles(first: $first, after: $after, orderBy: [{field: VERSION, direction: ASC}]) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id createdBy taxId nameKey displayName rules version jobsLearned } }
  }
}`

type profilesOut struct {
	SupplierProfiles struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   *string
		}
		Edges []struct {
			Node struct {
				ID, CreatedBy, TaxID, NameKey, DisplayName string
				Rules                                      json.RawMessage
				Version, JobsLearned                       int
			}
		}
	}
}

// TestSupplierProfilesGraphQL: supplierProfiles pages through the caller's profiles,
// supplierProfile reads one, deleteSupplierProfile deletes one (not a viewer); another
// owner's are NOT_FOUND; a job shows the profile it used.
func TestSupplierProfilesGraphQL(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		base := newEnv(t, c, acceptAll{}, graph.Config{})
		a, b, va := base.as(&ownerA), base.as(&ownerB), base.as(&viewerA)
		var mine []string
		for i := range 3 {
			mine = append(mine, storeProfile(t, c, "team-a", i))
		}
		theirs := storeProfile(t, c, "team-b", 7)

		var p1, p2 profilesOut
		a.ok(profilesQuery, map[string]any{"first": 2}, &p1)
		if p1.SupplierProfiles.TotalCount != 3 || len(p1.SupplierProfiles.Edges) != 2 || !p1.SupplierProfiles.PageInfo.HasNextPage {
			t.Fatalf("first page: %+v", p1.SupplierProfiles)
		}
		a.ok(profilesQuery, map[string]any{"first": 2, "after": *p1.SupplierProfiles.PageInfo.EndCursor}, &p2)
		var got []string
		for _, e := range append(p1.SupplierProfiles.Edges, p2.SupplierProfiles.Edges...) {
			got = append(got, e.Node.ID)
			if e.Node.CreatedBy != "team-a" {
				t.Errorf("team-a sees a profile of %q", e.Node.CreatedBy)
			}
		}
		if !slices.Equal(got, mine) {
			t.Errorf("pages hold %v, want %v in version order", got, mine)
		}
		n := p1.SupplierProfiles.Edges[0].Node
		if n.TaxID != "DE000" || n.NameKey != "acme" || n.Version != 1 || n.JobsLearned != 1 {
			t.Errorf("node %+v", n)
		}
		var rules map[string]map[string]map[string]any
		if err := json.Unmarshal(n.Rules, &rules); err != nil || rules["fields"]["invoice.number"]["label"] != "Invoice No" {
			t.Errorf("rules %s (%v), want the stored JSON object", n.Rules, err)
		}
		a.fails(`{ supplierProfiles(first: 101) { totalCount } }`, nil, "BAD_USER_INPUT")

		var one struct {
			SupplierProfile struct{ ID, DisplayName string }
		}
		va.ok(`query($id: ID!) { supplierProfile(id: $id) { id displayName } }`, map[string]any{"id": mine[1]}, &one)
		if one.SupplierProfile.ID != mine[1] || one.SupplierProfile.DisplayName != "Acme 1" {
			t.Errorf("supplierProfile: %+v", one.SupplierProfile)
		}
		var node struct{ Node struct{ ID, Typename string } }
		a.ok(`query($id: ID!) { node(id: $id) { id ... on SupplierProfile { displayName } } }`, map[string]any{"id": mine[1]}, &node)
		if node.Node.ID != mine[1] {
			t.Errorf("node: %+v", node)
		}
		for name, q := range map[string]string{
			"supplierProfile":       `query($id: ID!) { supplierProfile(id: $id) { id } }`,
			"node":                  `query($id: ID!) { node(id: $id) { id } }`,
			"deleteSupplierProfile": `mutation($id: ID!) { deleteSupplierProfile(id: $id) }`,
		} {
			t.Run(name+" of another owner's profile", func(t *testing.T) {
				b.fails(q, map[string]any{"id": mine[0]}, "NOT_FOUND")
			})
		}
		var bl profilesOut
		b.ok(profilesQuery, nil, &bl)
		if bl.SupplierProfiles.TotalCount != 1 || bl.SupplierProfiles.Edges[0].Node.ID != theirs {
			t.Errorf("team-b sees %+v", bl.SupplierProfiles)
		}

		va.fails(`mutation($id: ID!) { deleteSupplierProfile(id: $id) }`, map[string]any{"id": mine[0]}, "FORBIDDEN")
		a.fails(`mutation { deleteSupplierProfile(id: "nope") }`, nil, "BAD_USER_INPUT")

		// A job records the profile it used, which outlives the profile.
		job := a.createJob("GP-1", nil)
		use := &invoice.ProfileUse{ID: mine[0], Version: 1, Fields: []string{"invoice.number", "invoice.date"}}
		if err := c.OcrInvoiceJob.UpdateOneID(job.ID).SetSupplierProfile(use).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		var del struct{ DeleteSupplierProfile string }
		a.ok(`mutation($id: ID!) { deleteSupplierProfile(id: $id) }`, map[string]any{"id": mine[0]}, &del)
		if del.DeleteSupplierProfile != mine[0] {
			t.Errorf("deleteSupplierProfile answered %q", del.DeleteSupplierProfile)
		}
		a.fails(`query($id: ID!) { supplierProfile(id: $id) { id } }`, map[string]any{"id": mine[0]}, "NOT_FOUND")
		var j struct {
			OcrInvoiceJob struct {
				SupplierProfile *struct {
					ID      string
					Version int
					Fields  []string
				}
			}
		}
		a.ok(`query($id: ID!) { ocrInvoiceJob(id: $id) { supplierProfile { id version fields } } }`, map[string]any{"id": job.ID}, &j)
		if sp := j.OcrInvoiceJob.SupplierProfile; sp == nil || sp.ID != mine[0] || sp.Version != 1 || !slices.Equal(sp.Fields, use.Fields) {
			t.Errorf("job supplierProfile %+v", sp)
		}
		other := a.createJob("GP-2", nil)
		a.ok(`query($id: ID!) { ocrInvoiceJob(id: $id) { supplierProfile { id } } }`, map[string]any{"id": other.ID}, &j)
		if j.OcrInvoiceJob.SupplierProfile != nil {
			t.Errorf("a job that used no profile shows %+v", j.OcrInvoiceJob.SupplierProfile)
		}
		var after profilesOut
		b.ok(profilesQuery, nil, &after)
		if after.SupplierProfiles.TotalCount != 1 {
			t.Errorf("team-a's delete left team-b %d profiles", after.SupplierProfiles.TotalCount)
		}
	})
}
