package rest

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// snapshot is everything a refused request must leave as it was.
type snapshot struct {
	jobs, templates, groups int
	ref, tpl, grp           []byte
}

func (e *env) snapshot(t *testing.T, refID, tplID, grpID string) snapshot {
	t.Helper()
	ctx := context.Background()
	var s snapshot
	var err error
	if s.jobs, err = e.c.OcrInvoiceJob.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	if s.templates, err = e.c.OcrTemplate.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	if s.groups, err = e.c.OcrJobGroup.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	s.ref = e.do("GET", "/api/v1/ocr-invoice-jobs/"+refID, nil).must(t, http.StatusOK).raw
	s.tpl = e.do("GET", "/api/v1/ocr-templates/"+tplID, nil).must(t, http.StatusOK).raw
	s.grp = e.do("GET", "/api/v1/ocr-job-groups/"+grpID, nil).must(t, http.StatusOK).raw
	return s
}

// TestBadInput sends every kind of bad request and checks each gets a clear 4xx with the
// error envelope, naming the offending parameter or field, and changes nothing.
func TestBadInput(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil)
		ref := e.createJob("REF-1", map[string]any{"metadata": map[string]any{"k": "v"}})
		refID := ref["_id"].(string)
		e.createJob("REF-2", nil)
		tplID := e.do("POST", "/api/v1/ocr-templates", map[string]any{"name": "custom"}).must(t, http.StatusCreated).data()["_id"].(string)
		grpID := e.do("POST", "/api/v1/ocr-job-groups", map[string]any{"name": "g"}).must(t, http.StatusCreated).data()["_id"].(string)
		missingID := "0123456789abcdef01234567"
		jobs := "/api/v1/ocr-invoice-jobs"
		refPath := jobs + "/" + refID
		valid := func(extra map[string]any) map[string]any { return e.jobBodyFor("NEW-1", extra) }
		without := func(k string) map[string]any { b := valid(nil); delete(b, k); return b }
		huge := `{"jobNumber":"` + strings.Repeat("x", 10<<20) + `"}`
		q := func(k, v string) string { return jobs + "?" + url.Values{k: {v}}.Encode() }

		cases := []struct {
			name         string
			method, path string
			body         any
			hdr          []string
			status       int
			code         string
			fields       []string // expected error.details fields (nil: not checked)
			msg          string   // substring of error.message
		}{
			// Bodies.
			{"malformed JSON", "POST", jobs, `{"jobNumber":`, nil, 400, "INVALID", nil, "malformed JSON"},
			{"trailing garbage", "POST", jobs, `{"jobNumber":"a"} x`, nil, 400, "INVALID", nil, "malformed JSON"},
			{"array body", "POST", jobs, `[]`, nil, 400, "INVALID", nil, "must be a JSON object"},
			{"null body", "POST", jobs, `null`, nil, 400, "INVALID", nil, "must be a JSON object"},
			{"empty body", "POST", jobs, ``, []string{"Content-Type", "application/json"}, 400, "INVALID", nil, "empty"},
			{"wrong type string", "POST", jobs, valid(map[string]any{"jobNumber": 5}), nil, 400, "INVALID", []string{"jobNumber"}, "must be a string"},
			{"wrong type object", "POST", jobs, valid(map[string]any{"metadata": "x"}), nil, 400, "INVALID", []string{"metadata"}, "must be an object"},
			{"wrong type enum", "POST", jobs, valid(map[string]any{"priority": 1}), nil, 400, "INVALID", []string{"priority"}, ""},
			{"wrong type id", "POST", jobs, valid(map[string]any{"group": true}), nil, 400, "INVALID", []string{"group"}, ""},
			{"unknown field", "POST", jobs, valid(map[string]any{"colour": "red"}), nil, 400, "INVALID", []string{"colour"}, "unknown field"},
			{"every problem at once", "POST", jobs, valid(map[string]any{"zzz": 1, "aaa": 2, "jobNumber": []int{1}}), nil, 400, "INVALID", []string{"aaa", "zzz", "jobNumber"}, ""},
			{"missing jobNumber", "POST", jobs, without("jobNumber"), nil, 400, "INVALID", []string{"jobNumber"}, ""},
			{"missing documentUrl", "POST", jobs, without("documentUrl"), nil, 400, "INVALID", []string{"documentUrl"}, ""},
			{"missing template", "POST", jobs, without("template"), nil, 400, "INVALID", []string{"template"}, ""},
			{"invalid documentUrl scheme", "POST", jobs, valid(map[string]any{"documentUrl": "ftp://example.com/a.pdf"}), nil, 400, "INVALID", []string{"documentUrl"}, ""},
			{"invalid documentUrl text", "POST", jobs, valid(map[string]any{"documentUrl": "not a url"}), nil, 400, "INVALID", []string{"documentUrl"}, ""},
			{"callbackUrl ftp", "POST", jobs, valid(map[string]any{"callbackUrl": "ftp://hooks.example.com/x"}), nil, 400, "INVALID", []string{"callbackUrl"}, "callbackUrl"},
			{"callbackUrl relative", "POST", jobs, valid(map[string]any{"callbackUrl": "/hooks/x"}), nil, 400, "INVALID", []string{"callbackUrl"}, "callbackUrl"},
			{"callbackUrl too long", "POST", jobs, valid(map[string]any{"callbackUrl": "https://hooks.example.com/" + strings.Repeat("a", 2048)}), nil, 400, "INVALID", []string{"callbackUrl"}, "2048"},
			{"callbackUrl not a string", "POST", jobs, valid(map[string]any{"callbackUrl": 1}), nil, 400, "INVALID", []string{"callbackUrl"}, ""},
			{"PUT callbackUrl ftp", "PUT", refPath, valid(map[string]any{"jobNumber": "REF-1", "callbackUrl": "ftp://hooks.example.com/x"}), nil, 400, "INVALID", []string{"callbackUrl"}, "callbackUrl"},
			{"invalid priority", "POST", jobs, valid(map[string]any{"priority": "top"}), nil, 400, "INVALID", []string{"priority"}, ""},
			{"invalid documentType", "POST", jobs, valid(map[string]any{"documentType": "docx"}), nil, 400, "INVALID", []string{"documentType"}, ""},
			{"unknown template", "POST", jobs, valid(map[string]any{"template": missingID}), nil, 400, "INVALID", []string{"template"}, ""},
			{"unknown group", "POST", jobs, valid(map[string]any{"group": missingID}), nil, 400, "INVALID", []string{"group"}, ""},
			{"duplicate jobNumber", "POST", jobs, valid(map[string]any{"jobNumber": "REF-1"}), nil, 409, "CONFLICT", []string{"jobNumber"}, ""},
			{"10 MiB body", "POST", jobs, huge, nil, 413, "TOO_LARGE", nil, "limit"},
			{"text/plain", "POST", jobs, `{}`, []string{"Content-Type", "text/plain"}, 415, "UNSUPPORTED_MEDIA_TYPE", nil, "application/json"},
			{"form", "POST", jobs, `a=b`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "UNSUPPORTED_MEDIA_TYPE", nil, ""},
			{"no content type", "POST", jobs, `{}`, []string{"Content-Type", ""}, 415, "UNSUPPORTED_MEDIA_TYPE", nil, ""},
			{"PUT duplicate jobNumber", "PUT", refPath, valid(map[string]any{"jobNumber": "REF-2"}), nil, 409, "CONFLICT", []string{"jobNumber"}, ""},
			{"PUT unknown field", "PUT", refPath, valid(map[string]any{"jobNumber": "REF-1", "owner": "x"}), nil, 400, "INVALID", []string{"owner"}, ""},
			{"PUT wrong type", "PUT", refPath, valid(map[string]any{"jobNumber": "REF-1", "createdBy": 7}), nil, 400, "INVALID", []string{"createdBy"}, ""},
			{"PUT invalid enum", "PUT", refPath, valid(map[string]any{"jobNumber": "REF-1", "priority": "asap"}), nil, 400, "INVALID", []string{"priority"}, ""},
			{"PUT 10 MiB", "PUT", refPath, huge, nil, 413, "TOO_LARGE", nil, ""},
			{"PUT 415", "PUT", refPath, `{}`, []string{"Content-Type", "text/xml"}, 415, "UNSUPPORTED_MEDIA_TYPE", nil, ""},
			{"PUT missing id", "PUT", jobs + "/" + missingID, valid(nil), nil, 404, "NOT_FOUND", nil, ""},

			// Ids.
			{"GET non-hex id", "GET", jobs + "/xyz", nil, nil, 400, "INVALID", []string{"id"}, "24 lowercase hexadecimal"},
			{"GET upper-case id", "GET", jobs + "/" + strings.ToUpper(refID), nil, nil, 400, "INVALID", []string{"id"}, ""},
			{"GET short id", "GET", jobs + "/" + refID[:23], nil, nil, 400, "INVALID", []string{"id"}, ""},
			{"GET missing id", "GET", jobs + "/" + missingID, nil, nil, 404, "NOT_FOUND", nil, ""},
			{"PUT non-hex id", "PUT", jobs + "/nothex", valid(nil), nil, 400, "INVALID", []string{"id"}, ""},
			{"results non-hex id", "GET", jobs + "/nothex/results", nil, nil, 400, "INVALID", []string{"id"}, ""},
			{"results missing id", "GET", jobs + "/" + missingID + "/results", nil, nil, 404, "NOT_FOUND", nil, ""},
			{"cancel non-hex id", "POST", jobs + "/nothex/cancel", nil, nil, 400, "INVALID", []string{"id"}, ""},
			{"cancel missing id", "POST", jobs + "/" + missingID + "/cancel", nil, nil, 404, "NOT_FOUND", nil, ""},
			{"retry non-hex id", "POST", jobs + "/nothex/retry", nil, nil, 400, "INVALID", []string{"id"}, ""},
			{"retry a created job", "POST", refPath + "/retry", nil, nil, 422, "FAILED_PRECONDITION", nil, ""},

			// Query parameters.
			{"limit=0", "GET", jobs + "?limit=0", nil, nil, 400, "INVALID", []string{"limit"}, "limit"},
			{"limit=101", "GET", jobs + "?limit=101", nil, nil, 400, "INVALID", []string{"limit"}, "limit"},
			{"limit=abc", "GET", jobs + "?limit=abc", nil, nil, 400, "INVALID", []string{"limit"}, ""},
			{"limit=-5", "GET", jobs + "?limit=-5", nil, nil, 400, "INVALID", []string{"limit"}, ""},
			{"limit twice", "GET", jobs + "?limit=1&limit=2", nil, nil, 400, "INVALID", []string{"limit"}, ""},
			{"offset=-1", "GET", jobs + "?offset=-1", nil, nil, 400, "INVALID", []string{"offset"}, "offset"},
			{"offset=x", "GET", jobs + "?offset=x", nil, nil, 400, "INVALID", []string{"offset"}, ""},
			{"bad limit and offset", "GET", jobs + "?limit=0&offset=-1", nil, nil, 400, "INVALID", []string{"limit", "offset"}, ""},
			{"order=up", "GET", jobs + "?order=up", nil, nil, 400, "INVALID", []string{"order"}, ""},
			{"unknown sort field", "GET", jobs + "?sort=colour", nil, nil, 400, "INVALID", []string{"sort"}, `"colour"`},
			{"sort on an object", "GET", jobs + "?sort=metadata", nil, nil, 400, "INVALID", []string{"sort"}, ""},
			{"filter not JSON", "GET", q("filter", "{status:1}"), nil, nil, 400, "INVALID", []string{"filter"}, ""},
			{"unknown filter operator", "GET", q("filter", `{"status":{"$where":"^c"}}`), nil, nil, 400, "INVALID", []string{"filter"}, `"$where"`},
			{"bad $regex", "GET", q("filter", `{"status":{"$regex":"("}}`), nil, nil, 400, "INVALID", []string{"filter"}, "invalid $regex pattern"},
			{"long $regex", "GET", q("filter", `{"status":{"$regex":"`+strings.Repeat("a", 300)+`"}}`), nil, nil, 400, "INVALID", []string{"filter"}, "the limit is 256"},
			{"$options alone", "GET", q("filter", `{"status":{"$options":"i"}}`), nil, nil, 400, "INVALID", []string{"filter"}, "$options"},
			{"unknown filter field", "GET", q("filter", `{"colour":"red"}`), nil, nil, 400, "INVALID", []string{"filter"}, `"colour"`},
			{"filter invalid enum", "GET", q("filter", `{"status":"done"}`), nil, nil, 400, "INVALID", []string{"filter"}, `"done"`},
			{"filter wrong type", "GET", q("filter", `{"retryCount":"1"}`), nil, nil, 400, "INVALID", []string{"filter"}, ""},
			{"filter bad time", "GET", q("filter", `{"createdAt":{"$gt":"last week"}}`), nil, nil, 400, "INVALID", []string{"filter"}, ""},
			{"filter non-hex id", "GET", q("filter", `{"_id":"abc"}`), nil, nil, 400, "INVALID", []string{"filter"}, ""},
			{"search too long", "GET", q("search", strings.Repeat("a", 300)), nil, nil, 400, "INVALID", []string{"search"}, ""},

			// Routes and methods.
			{"DELETE a job", "DELETE", refPath, nil, nil, 405, "METHOD_NOT_ALLOWED", nil, "GET, PUT"},
			{"PATCH a job", "PATCH", refPath, `{}`, nil, 405, "METHOD_NOT_ALLOWED", nil, ""},
			{"GET cancel", "GET", refPath + "/cancel", nil, nil, 405, "METHOD_NOT_ALLOWED", nil, ""},
			{"unknown route", "GET", "/api/v1/invoices", nil, nil, 404, "NOT_FOUND", nil, "no route"},
			{"unknown sub-route", "GET", refPath + "/pages", nil, nil, 404, "NOT_FOUND", nil, ""},

			// Templates.
			{"template wrong type", "POST", "/api/v1/ocr-templates", map[string]any{"name": "t2", "dpi": "high"}, nil, 400, "INVALID", []string{"dpi"}, ""},
			{"template nested wrong type", "POST", "/api/v1/ocr-templates", map[string]any{"name": "t2", "spec": map[string]any{"keywords": "x"}}, nil, 400, "INVALID", []string{"spec.keywords"}, ""},
			{"template nested unknown field", "POST", "/api/v1/ocr-templates", map[string]any{"name": "t2", "spec": map[string]any{"colour": 1}}, nil, 400, "INVALID", []string{"spec.colour"}, ""},
			{"template out of range", "POST", "/api/v1/ocr-templates", map[string]any{"name": "t2", "dpi": 5}, nil, 400, "INVALID", []string{"dpi"}, ""},
			{"template duplicate name", "POST", "/api/v1/ocr-templates", map[string]any{"name": "generic"}, nil, 409, "CONFLICT", nil, ""},
			{"template missing name", "POST", "/api/v1/ocr-templates", map[string]any{"languages": "eng"}, nil, 400, "INVALID", []string{"name"}, ""},
			{"template unknown field", "POST", "/api/v1/ocr-templates", map[string]any{"name": "t2", "owner": "x"}, nil, 400, "INVALID", []string{"owner"}, ""},
			{"rename built-in template", "PUT", "/api/v1/ocr-templates/generic", map[string]any{"name": "other"}, nil, 422, "FAILED_PRECONDITION", nil, ""},
			{"template missing", "GET", "/api/v1/ocr-templates/" + missingID, nil, nil, 404, "NOT_FOUND", nil, ""},
			{"template list bad sort", "GET", "/api/v1/ocr-templates?sort=jobNumber", nil, nil, 400, "INVALID", []string{"sort"}, ""},
			{"template list bad filter", "GET", "/api/v1/ocr-templates?filter=" + url.QueryEscape(`{"dpi":{"$near":1}}`), nil, nil, 400, "INVALID", []string{"filter"}, ""},
			{"job list template neither id nor name", "GET", "/api/v1/ocr-invoice-jobs?filter=" + url.QueryEscape(`{"template":""}`), nil, nil, 400, "INVALID", []string{"filter"}, ""},
			{"job list template not a string", "GET", "/api/v1/ocr-invoice-jobs?filter=" + url.QueryEscape(`{"template":7}`), nil, nil, 400, "INVALID", []string{"filter"}, ""},

			// Groups.
			{"group missing name", "POST", "/api/v1/ocr-job-groups", map[string]any{"description": "x"}, nil, 400, "INVALID", []string{"name"}, ""},
			{"group nested wrong type", "POST", "/api/v1/ocr-job-groups", map[string]any{"name": "g2", "spec": map[string]any{"parallelism": "two"}}, nil, 400, "INVALID", []string{"spec.parallelism"}, ""},
			{"group negative parallelism", "POST", "/api/v1/ocr-job-groups", map[string]any{"name": "g2", "spec": map[string]any{"parallelism": -1}}, nil, 400, "INVALID", []string{"spec.parallelism"}, ""},
			{"group unknown field", "POST", "/api/v1/ocr-job-groups", map[string]any{"name": "g2", "jobs": []string{}}, nil, 400, "INVALID", []string{"jobs"}, ""},
			{"group callbackUrl ftp", "POST", "/api/v1/ocr-job-groups", map[string]any{"name": "g2", "callbackUrl": "ftp://hooks.example.com/x"}, nil, 400, "INVALID", []string{"callbackUrl"}, "callbackUrl"},
			{"group callbackUrl relative", "PUT", "/api/v1/ocr-job-groups/" + grpID, map[string]any{"name": "g", "callbackUrl": "hooks/x"}, nil, 400, "INVALID", []string{"callbackUrl"}, "callbackUrl"},
			{"group callbackUrl too long", "PUT", "/api/v1/ocr-job-groups/" + grpID, map[string]any{"name": "g", "callbackUrl": "http://h.example/" + strings.Repeat("a", 2048)}, nil, 400, "INVALID", []string{"callbackUrl"}, "2048"},
			{"group non-hex id", "GET", "/api/v1/ocr-job-groups/zzz", nil, nil, 400, "INVALID", []string{"id"}, ""},
			{"group missing", "PUT", "/api/v1/ocr-job-groups/" + missingID, map[string]any{"name": "x"}, nil, 404, "NOT_FOUND", nil, ""},
			{"group list limit", "GET", "/api/v1/ocr-job-groups?limit=101", nil, nil, 400, "INVALID", []string{"limit"}, ""},
		}
		before := e.snapshot(t, refID, tplID, grpID)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do(tc.method, tc.path, tc.body, tc.hdr...)
				if r.status != tc.status {
					t.Fatalf("status %d, want %d; body %.500s", r.status, tc.status, r.raw)
				}
				if r.body["success"] != false {
					t.Errorf("success = %v, want false", r.body["success"])
				}
				if r.errCode() != tc.code {
					t.Errorf("code %q, want %q", r.errCode(), tc.code)
				}
				if tc.fields != nil {
					got := r.errFields()
					for _, f := range tc.fields {
						if !slices.Contains(got, f) {
							t.Errorf("details name %v, want %q among them (message %q)", got, f, r.errMessage())
						}
					}
				}
				if !strings.Contains(r.errMessage(), tc.msg) {
					t.Errorf("message %q does not contain %q", r.errMessage(), tc.msg)
				}
				after := e.snapshot(t, refID, tplID, grpID)
				if after.jobs != before.jobs || after.templates != before.templates || after.groups != before.groups {
					t.Errorf("counts changed: %+v -> %+v", before, after)
				}
				if !bytes.Equal(after.ref, before.ref) || !bytes.Equal(after.tpl, before.tpl) || !bytes.Equal(after.grp, before.grp) {
					t.Errorf("a refused request changed stored objects")
				}
			})
		}
		if strings.Contains(e.logs.String(), "level=ERROR") {
			t.Errorf("client errors were logged as errors:\n%s", e.logs)
		}
	})
}

// TestInternalErrorHidden: a database failure is a 500 whose body says only "internal error";
// the cause goes to the log.
func TestInternalErrorHidden(t *testing.T) {
	c := databasetest.Open(t)
	e := newEnv(t, c, nil)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", "/api/v1/ocr-invoice-jobs", nil).must(t, http.StatusInternalServerError)
	if r.errCode() != "INTERNAL" || r.errMessage() != "internal error" || len(r.errFields()) != 0 {
		t.Errorf("error = %s", r.raw)
	}
	if strings.Contains(string(r.raw), "sql") {
		t.Errorf("the body leaks the cause: %s", r.raw)
	}
	if !strings.Contains(e.logs.String(), "REST request failed") || !strings.Contains(e.logs.String(), "closed") {
		t.Errorf("the cause was not logged:\n%s", e.logs)
	}
}
