package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

func TestTemplates(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil)
		generic := e.do("GET", "/api/v1/ocr-templates/generic", nil).must(t, http.StatusOK).data()
		if generic["_id"] != e.generic || generic["builtin"] != true {
			t.Errorf("generic by name = %v", generic)
		}
		byID := e.do("GET", "/api/v1/ocr-templates/"+e.generic, nil).must(t, http.StatusOK).data()
		if byID["name"] != "generic" {
			t.Errorf("generic by id = %v", byID)
		}

		body := map[string]any{
			"name": "acme", "description": "Acme GmbH invoices", "languages": "eng+deu", "dpi": 400,
			"pageSegmentationMode": 6, "defaultCurrency": "EUR", "pricePerPage": 0.02, "shared": true,
			"spec": map[string]any{"issuer": "Acme GmbH", "keywords": []string{"Acme GmbH"},
				"fields":  map[string]any{"invoice_number": map[string]any{"regex": []string{`Invoice\s+(\S+)`}}},
				"options": map[string]any{"currency": "EUR", "decimalSeparator": ","}},
		}
		r := e.do("POST", "/api/v1/ocr-templates", body).must(t, http.StatusCreated)
		tpl := r.data()
		id := tpl["_id"].(string)
		if got := keysInOrder(t, rawField(t, r.raw, "data")); !slices.Equal(got, []string{"_id", "name", "description", "languages", "dpi",
			"pageSegmentationMode", "spec", "defaultCurrency", "pricePerPage", "builtin", "createdBy", "shared", "createdAt", "updatedAt"}) {
			t.Errorf("template keys %v", got)
		}
		if tpl["dpi"] != 400.0 || tpl["languages"] != "eng+deu" || tpl["builtin"] != false || tpl["defaultCurrency"] != "EUR" {
			t.Errorf("created template = %v", tpl)
		}
		if spec := tpl["spec"].(map[string]any); spec["issuer"] != "Acme GmbH" {
			t.Errorf("spec = %v", spec)
		}
		// A job can name the template.
		e.createJob("T-1", map[string]any{"template": "acme"})

		// GET-modify-PUT; defaults come back for omitted fields.
		g := e.do("GET", "/api/v1/ocr-templates/"+id, nil).must(t, http.StatusOK).data()
		g["description"] = "changed"
		g["builtin"] = true // read-only: ignored
		u := e.do("PUT", "/api/v1/ocr-templates/"+id, g).must(t, http.StatusOK).data()
		if u["description"] != "changed" || u["builtin"] != false || u["dpi"] != 400.0 {
			t.Errorf("after PUT = %v", u)
		}
		u = e.do("PUT", "/api/v1/ocr-templates/acme", map[string]any{"name": "acme2"}).must(t, http.StatusOK).data()
		if u["name"] != "acme2" || u["dpi"] != 300.0 || u["description"] != nil {
			t.Errorf("after PUT with defaults = %v", u)
		}

		l := e.do("GET", "/api/v1/ocr-templates?sort=name&order=asc", nil).must(t, http.StatusOK)
		if l.total() != 2 || l.list()[0]["name"] != "acme2" || l.list()[1]["name"] != "generic" {
			t.Errorf("templates by name = %v", numbersOf(l.list(), "name"))
		}
		l = e.do("GET", "/api/v1/ocr-templates?"+url.Values{"filter": {`{"builtin":true}`}}.Encode(), nil).must(t, http.StatusOK)
		if l.total() != 1 || l.list()[0]["name"] != "generic" {
			t.Errorf("builtin filter = %v", numbersOf(l.list(), "name"))
		}
		l = e.do("GET", "/api/v1/ocr-templates?"+url.Values{"filter": {`{"spec.options.currency":"EUR"}`}}.Encode(), nil).must(t, http.StatusOK)
		if l.total() != 0 { // the PUT above replaced the spec with an empty one
			t.Errorf("spec filter after PUT = %v", numbersOf(l.list(), "name"))
		}
		l = e.do("GET", "/api/v1/ocr-templates?search=ACME&limit=1", nil).must(t, http.StatusOK)
		if l.total() != 1 || l.list()[0]["name"] != "acme2" {
			t.Errorf("search = %v", numbersOf(l.list(), "name"))
		}
		e.do("POST", "/api/v1/ocr-templates", map[string]any{"name": "beta", "description": "b", "dpi": 200, "languages": "deu",
			"pageSegmentationMode": 4, "defaultCurrency": "CHF", "pricePerPage": 0.5}).must(t, http.StatusCreated)
		t.Run("sort", func(t *testing.T) { checkSortFields(t, e, "/api/v1/ocr-templates", jobs.TemplateSortFields()) })
	})
}

func numbersOf(items []map[string]any, key string) []any {
	var out []any
	for _, it := range items {
		out = append(out, it[key])
	}
	return out
}

func TestGroups(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil)
		r := e.do("POST", "/api/v1/ocr-job-groups", map[string]any{
			"name": "january", "description": "January batch", "createdBy": "ann",
			"spec": map[string]any{"parallelism": 2, "backoffLimit": 1, "activeDeadlineSeconds": 3600, "template": "generic", "priority": "high"},
		}).must(t, http.StatusCreated)
		g := r.data()
		id := g["_id"].(string)
		if got := keysInOrder(t, rawField(t, r.raw, "data")); !slices.Equal(got, []string{"_id", "name", "description", "spec", "status", "createdBy", "callbackUrl", "createdAt", "updatedAt"}) {
			t.Errorf("group keys %v", got)
		}
		spec := g["spec"].(map[string]any)
		if spec["parallelism"] != 2.0 || spec["template"] != e.generic || spec["priority"] != "high" {
			t.Errorf("spec = %v (template is stored as the id)", spec)
		}
		if st := g["status"].(map[string]any); st["phase"] != "Pending" {
			t.Errorf("status = %v", st)
		}
		e.createJob("G-1", map[string]any{"group": id})

		got := e.do("GET", "/api/v1/ocr-job-groups/"+id, nil).must(t, http.StatusOK).data()
		got["name"] = "january-2"
		got["status"] = map[string]any{"phase": "Succeeded"} // read-only: ignored
		u := e.do("PUT", "/api/v1/ocr-job-groups/"+id, got).must(t, http.StatusOK).data()
		if u["name"] != "january-2" || u["status"].(map[string]any)["phase"] != "Pending" || u["createdBy"] != "ann" {
			t.Errorf("after PUT = %v", u)
		}
		e.do("POST", "/api/v1/ocr-job-groups", map[string]any{"name": "february"}).must(t, http.StatusCreated)

		l := e.do("GET", "/api/v1/ocr-job-groups?sort=name&order=desc", nil).must(t, http.StatusOK)
		if names := numbersOf(l.list(), "name"); l.total() != 2 || !slices.Equal(names, []any{"january-2", "february"}) {
			t.Errorf("groups = %v", names)
		}
		l = e.do("GET", "/api/v1/ocr-job-groups?"+url.Values{"filter": {`{"spec.parallelism":{"$gte":2}}`}}.Encode(), nil).must(t, http.StatusOK)
		if l.total() != 1 || l.list()[0]["_id"] != id {
			t.Errorf("spec filter = %v", numbersOf(l.list(), "name"))
		}
		l = e.do("GET", "/api/v1/ocr-job-groups?"+url.Values{"filter": {`{"status.phase":"Pending"}`}, "search": {"JAN"}}.Encode(), nil).must(t, http.StatusOK)
		if l.total() != 1 {
			t.Errorf("status filter with search = %v", numbersOf(l.list(), "name"))
		}
		e.do("POST", "/api/v1/ocr-job-groups", map[string]any{"name": "march", "description": "spring", "createdBy": "bob"}).must(t, http.StatusCreated)
		t.Run("sort", func(t *testing.T) { checkSortFields(t, e, "/api/v1/ocr-job-groups", jobs.GroupSortFields()) })
		jl := e.do("GET", "/api/v1/ocr-invoice-jobs?"+url.Values{"filter": {`{"group":"` + id + `"}`}}.Encode(), nil).must(t, http.StatusOK)
		if jl.total() != 1 {
			t.Errorf("jobs of the group: %d", jl.total())
		}
	})
}

// TestOpenAPIDocument: the served document is the embedded one, a valid OpenAPI 3 document,
// and it describes every route of routes.go.
func TestOpenAPIDocument(t *testing.T) {
	e := newEnv(t, databasetest.Open(t), nil)
	r := e.do("GET", "/openapi.json", nil).must(t, http.StatusOK)
	if !bytes.Equal(r.raw, openAPIDocument) {
		t.Errorf("served document differs from the embedded one")
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("invalid OpenAPI document: %v", err)
	}
	for _, rt := range routes {
		item := doc.Paths.Value(rt.path)
		if item == nil || item.GetOperation(rt.method) == nil {
			t.Errorf("route %s %s is not in openapi.json", rt.method, rt.path)
		}
	}
	n := 0
	for _, item := range doc.Paths.Map() {
		n += len(item.Operations())
	}
	if n != len(routes) {
		t.Errorf("openapi.json has %d operations, routes.go %d", n, len(routes))
	}
	var v map[string]any
	if err := json.Unmarshal(OpenAPIDocument(), &v); err != nil || v["openapi"] != "3.0.3" {
		t.Errorf("OpenAPIDocument() = %v, %v", v["openapi"], err)
	}
}
