package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// newProfile stores a supplier profile of owner, as learning would leave it.
func newProfile(t *testing.T, c *ent.Client, owner, taxID string) *ent.SupplierProfile {
	t.Helper()
	p, err := c.SupplierProfile.Create().SetCreatedBy(owner).SetTaxID(taxID).SetIban("DE8937040044053201" + taxID[len(taxID)-4:]).
		SetNameKey("acme supplies").SetFingerprint("0123456789abcdef").SetDisplayName("Acme Supplies GmbH").
		SetRules(json.RawMessage(`{"fields":{"invoice.number":{"label":"Invoice No"}}}`)).SetVersion(3).SetJobsLearned(3).
		SetLastJobID("60f7b1b3e4b0e8b3f8b3f8b6").Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSupplierProfilesREST lists, reads and deletes profiles through REST, each owner
// seeing its own only; a viewer may not delete; jobs keep their record of a deleted profile.
func TestSupplierProfilesREST(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil)
		var mine []string
		for i := range 3 {
			mine = append(mine, newProfile(t, c, "team-a", fmt.Sprintf("DE%09d", i)).ID)
		}
		theirs := newProfile(t, c, "team-b", "DE000000000").ID // same tax id, another owner
		a, b, va := e.as(t, &submitterA), e.as(t, &submitterB), e.as(t, &viewerA)

		l := a.do("GET", "/api/v1/supplier-profiles?limit=2", nil).must(t, http.StatusOK)
		if l.total() != 3 || len(l.list()) != 2 {
			t.Fatalf("team-a list: total %d, %d items; want 3, 2", l.total(), len(l.list()))
		}
		l2 := a.do("GET", "/api/v1/supplier-profiles?limit=2&offset=2", nil).must(t, http.StatusOK)
		got := append(l.ids(), l2.ids()...)
		slices.Sort(got)
		if !slices.Equal(got, mine) {
			t.Errorf("team-a pages hold %v, want %v", got, mine)
		}
		if ids := b.do("GET", "/api/v1/supplier-profiles", nil).must(t, http.StatusOK).ids(); !slices.Equal(ids, []string{theirs}) {
			t.Errorf("team-b sees %v, want only %s", ids, theirs)
		}
		if n := e.do("GET", "/api/v1/supplier-profiles", nil).must(t, http.StatusOK).total(); n != 4 {
			t.Errorf("an admin of every owner sees %d profiles, want 4", n)
		}

		d := va.do("GET", "/api/v1/supplier-profiles/"+mine[0], nil).must(t, http.StatusOK).data()
		for k, v := range map[string]any{"_id": mine[0], "taxId": "DE000000000", "iban": "DE89370400440532010000",
			"nameKey": "acme supplies", "fingerprint": "0123456789abcdef", "displayName": "Acme Supplies GmbH",
			"version": 3.0, "jobsLearned": 3.0, "lastJobId": "60f7b1b3e4b0e8b3f8b3f8b6", "createdBy": "team-a"} {
			if !jsonEqual(d[k], v) {
				t.Errorf("data.%s = %#v, want %#v", k, d[k], v)
			}
		}
		if r, _ := d["rules"].(map[string]any); r["fields"] == nil {
			t.Errorf("rules = %#v, want the stored JSON object", d["rules"])
		}

		// Another owner's profile is not found, to read or to delete.
		b.do("GET", "/api/v1/supplier-profiles/"+mine[0], nil).must(t, http.StatusNotFound)
		b.do("DELETE", "/api/v1/supplier-profiles/"+mine[0], nil).must(t, http.StatusNotFound)
		// A viewer may read but not delete.
		if r := va.do("DELETE", "/api/v1/supplier-profiles/"+mine[0], nil).must(t, http.StatusForbidden); r.errCode() != "FORBIDDEN" {
			t.Errorf("viewer delete: code %q", r.errCode())
		}
		a.do("GET", "/api/v1/supplier-profiles/not-an-id", nil).must(t, http.StatusBadRequest)
		if r := a.do("GET", "/api/v1/supplier-profiles?sort=version", nil).must(t, http.StatusBadRequest); !slices.Equal(r.errFields(), []string{"sort"}) {
			t.Errorf("sort: fields %v, want [sort]", r.errFields())
		}
		a.do("GET", "/api/v1/supplier-profiles?limit=101", nil).must(t, http.StatusBadRequest)

		// A job that used the profile keeps its record of it after the delete.
		job := a.createJob("SP-1", nil)
		id := job["_id"].(string)
		if job["supplierProfile"] != nil {
			t.Errorf("new job: supplierProfile = %#v, want null", job["supplierProfile"])
		}
		use := &invoice.ProfileUse{ID: mine[0], Version: 3, Fields: []string{"invoice.number"}}
		if err := c.OcrInvoiceJob.UpdateOneID(id).SetSupplierProfile(use).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		del := a.do("DELETE", "/api/v1/supplier-profiles/"+mine[0], nil).must(t, http.StatusOK)
		if del.data()["_id"] != mine[0] {
			t.Errorf("delete answered %v, want the deleted profile", del.data()["_id"])
		}
		a.do("GET", "/api/v1/supplier-profiles/"+mine[0], nil).must(t, http.StatusNotFound)
		a.do("DELETE", "/api/v1/supplier-profiles/"+mine[0], nil).must(t, http.StatusNotFound)
		sp := a.do("GET", "/api/v1/ocr-invoice-jobs/"+id, nil).must(t, http.StatusOK).data()["supplierProfile"]
		if !jsonEqual(sp, map[string]any{"id": mine[0], "version": 3.0, "fields": []any{"invoice.number"}}) {
			t.Errorf("job supplierProfile = %#v after the profile's delete", sp)
		}
		if n := b.do("GET", "/api/v1/supplier-profiles", nil).must(t, http.StatusOK).total(); n != 1 {
			t.Errorf("team-a's delete changed team-b's profiles: %d left", n)
		}
	})
}
