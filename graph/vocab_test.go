package graph_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// TestContractNames: GraphQL inputs and outputs speak REST's words (documentUrl,
// callbackUrl, template, group); the old names still work for one release, deprecated,
// and giving a field under both names with different values is refused naming it.
func TestContractNames(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil, graph.Config{Introspection: true})
		var g struct {
			CreateOcrJobGroup struct{ ID, CallbackUrl string }
		}
		e.ok(`mutation { createOcrJobGroup(input: {name: "vocab", callbackUrl: "https://hooks.example.com/g"}) { id callbackUrl } }`, nil, &g)
		if g.CreateOcrJobGroup.CallbackUrl != "https://hooks.example.com/g" {
			t.Fatalf("group = %+v", g)
		}

		const create = `mutation($in: CreateOcrInvoiceJobInput!) { createOcrInvoiceJob(input: $in) { id documentUrl documentURL callbackUrl callbackURL templateID groupID template { name } } }`
		type jobNames struct {
			ID          string  `json:"id"`
			DocumentUrl string  `json:"documentUrl"`
			DocumentURL string  `json:"documentURL"`
			CallbackUrl string  `json:"callbackUrl"`
			CallbackURL string  `json:"callbackURL"`
			TemplateID  string  `json:"templateID"`
			GroupID     *string `json:"groupID"`
			Template    struct{ Name string }
		}
		t.Run("contract names", func(t *testing.T) {
			var out struct{ CreateOcrInvoiceJob jobNames }
			e.ok(create, map[string]any{"in": map[string]any{
				"jobNumber": "V-1", "documentName": "v.pdf", "documentUrl": "https://files.example.com/v1.pdf",
				"template": "generic", "group": g.CreateOcrJobGroup.ID, "callbackUrl": "https://hooks.example.com/1",
			}}, &out)
			j := out.CreateOcrInvoiceJob
			if j.DocumentUrl != "https://files.example.com/v1.pdf" || j.DocumentURL != j.DocumentUrl || j.CallbackUrl != "https://hooks.example.com/1" ||
				j.CallbackURL != j.CallbackUrl || j.Template.Name != "generic" || j.GroupID == nil || *j.GroupID != g.CreateOcrJobGroup.ID {
				t.Fatalf("job = %+v", j)
			}
			var up struct{ UpdateOcrInvoiceJob jobNames }
			e.ok(`mutation($id: ID!) { updateOcrInvoiceJob(id: $id, input: {documentUrl: "https://files.example.com/v1b.pdf", clearCallbackUrl: true}) { id documentUrl callbackUrl groupID } }`,
				map[string]any{"id": j.ID}, &up)
			if up.UpdateOcrInvoiceJob.DocumentUrl != "https://files.example.com/v1b.pdf" || up.UpdateOcrInvoiceJob.CallbackUrl != "" {
				t.Fatalf("updated = %+v", up.UpdateOcrInvoiceJob)
			}
		})
		t.Run("deprecated names still work", func(t *testing.T) {
			var out struct{ CreateOcrInvoiceJob jobNames }
			e.ok(create, map[string]any{"in": map[string]any{
				"jobNumber": "V-2", "documentName": "v.pdf", "documentURL": "https://files.example.com/v2.pdf",
				"templateID": "generic", "groupID": g.CreateOcrJobGroup.ID, "callbackURL": "https://hooks.example.com/2",
			}}, &out)
			j := out.CreateOcrInvoiceJob
			if j.DocumentUrl != "https://files.example.com/v2.pdf" || j.CallbackUrl != "https://hooks.example.com/2" || j.Template.Name != "generic" || j.GroupID == nil {
				t.Fatalf("job = %+v", j)
			}
			var up struct{ UpdateOcrInvoiceJob jobNames }
			e.ok(`mutation($id: ID!) { updateOcrInvoiceJob(id: $id, input: {documentURL: "https://files.example.com/v2b.pdf", clearCallbackURL: true}) { id documentUrl callbackUrl } }`,
				map[string]any{"id": j.ID}, &up)
			if up.UpdateOcrInvoiceJob.DocumentUrl != "https://files.example.com/v2b.pdf" || up.UpdateOcrInvoiceJob.CallbackUrl != "" {
				t.Fatalf("updated = %+v", up.UpdateOcrInvoiceJob)
			}
			// Both names with the same value are one value.
			e.ok(create, map[string]any{"in": map[string]any{
				"jobNumber": "V-3", "documentName": "v.pdf", "documentUrl": "https://files.example.com/v3.pdf",
				"documentURL": "https://files.example.com/v3.pdf", "template": "generic", "templateID": "generic",
			}}, nil)
		})
		t.Run("bad input", func(t *testing.T) {
			base := func(extra map[string]any) map[string]any {
				in := map[string]any{"jobNumber": "V-BAD", "documentName": "v.pdf", "documentUrl": "https://files.example.com/bad.pdf", "template": "generic"}
				for k, v := range extra {
					if v == nil {
						delete(in, k)
						continue
					}
					in[k] = v
				}
				return map[string]any{"in": in}
			}
			for _, tc := range []struct {
				name  string
				vars  map[string]any
				field string
			}{
				{"document under both names", base(map[string]any{"documentURL": "https://files.example.com/other.pdf"}), "documentUrl"},
				{"template under both names", base(map[string]any{"templateID": "other"}), "template"},
				{"group under both names", base(map[string]any{"group": g.CreateOcrJobGroup.ID, "groupID": "0123456789abcdef01234567"}), "group"},
				{"callback under both names", base(map[string]any{"callbackUrl": "https://a.example.com/", "callbackURL": "https://b.example.com/"}), "callbackUrl"},
				{"no document", base(map[string]any{"documentUrl": nil}), "documentUrl"},
				{"no template", base(map[string]any{"template": nil}), "template"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := e.fails(create, tc.vars, "BAD_USER_INPUT")
					if !strings.Contains(r.Errors[0].Message, tc.field) {
						t.Errorf("message %q does not name %s", r.Errors[0].Message, tc.field)
					}
					if strings.Contains(r.Errors[0].Message, "V-BAD") || c.OcrInvoiceJob.Query().CountX(t.Context()) == 0 {
						t.Errorf("unexpected: %+v", r.Errors)
					}
				})
			}
			if n := e.do(`{ ocrInvoiceJobs(where: {jobNumber: "V-BAD"}) { totalCount } }`, nil); !strings.Contains(string(n.Data), `"totalCount":0`) {
				t.Errorf("a refused job was stored: %s", n.Data)
			}
		})
		t.Run("the old names are deprecated in the schema", func(t *testing.T) {
			var out struct {
				Schema struct {
					Types []struct {
						Name        string
						InputFields []struct {
							Name              string
							IsDeprecated      bool
							DeprecationReason *string
						}
						Fields []struct {
							Name              string
							IsDeprecated      bool
							DeprecationReason *string
						}
					}
				} `json:"__schema"`
			}
			e.ok(`{ __schema { types { name inputFields(includeDeprecated: true) { name isDeprecated deprecationReason } fields(includeDeprecated: true) { name isDeprecated deprecationReason } } } }`, nil, &out)
			deprecated := map[string]string{}
			for _, ty := range out.Schema.Types {
				for _, f := range ty.InputFields {
					if f.IsDeprecated {
						deprecated[ty.Name+"."+f.Name] = *f.DeprecationReason
					}
				}
				for _, f := range ty.Fields {
					if f.IsDeprecated {
						deprecated[ty.Name+"."+f.Name] = *f.DeprecationReason
					}
				}
			}
			for name, use := range map[string]string{
				"CreateOcrInvoiceJobInput.documentURL": "documentUrl", "CreateOcrInvoiceJobInput.templateID": "template",
				"CreateOcrInvoiceJobInput.groupID": "group", "CreateOcrInvoiceJobInput.callbackURL": "callbackUrl",
				"UpdateOcrInvoiceJobInput.documentURL": "documentUrl", "UpdateOcrInvoiceJobInput.clearCallbackURL": "clearCallbackUrl",
				"CreateOcrJobGroupInput.callbackURL": "callbackUrl", "UpdateOcrJobGroupInput.callbackURL": "callbackUrl",
				"OcrJobGroupDocumentInput.documentURL": "documentUrl", "OcrInvoiceJob.documentURL": "documentUrl",
				"OcrInvoiceJob.callbackURL": "callbackUrl", "OcrJobGroup.callbackURL": "callbackUrl", "UploadedDocument.documentURL": "documentUrl",
				"SupplierProfile.taxID": "taxId", "SupplierProfile.lastJobID": "lastJobId",
			} {
				if reason, ok := deprecated[name]; !ok || !strings.Contains(reason, use) {
					t.Errorf("%s: deprecated %v (%q), want a reason naming %s", name, ok, reason, use)
				}
			}
		})
		t.Run("group documents", func(t *testing.T) {
			const batch = `mutation($docs: [OcrJobGroupDocumentInput!]) { createOcrJobGroup(input: {name: "vocab-docs", documents: $docs}) { status { total } } }`
			var b struct {
				CreateOcrJobGroup struct{ Status struct{ Total int } }
			}
			e.ok(batch, map[string]any{"docs": []map[string]any{
				{"documentUrl": "https://files.example.com/d1.pdf", "documentName": "d1.pdf"},
				{"documentURL": "https://files.example.com/d2.pdf", "documentName": "d2.pdf"},
			}}, &b)
			if b.CreateOcrJobGroup.Status.Total != 2 {
				t.Fatalf("batch = %+v", b)
			}
			r := e.fails(strings.Replace(batch, "vocab-docs", "vocab-docs-2", 1), map[string]any{"docs": []map[string]any{
				{"documentUrl": "https://files.example.com/d3.pdf", "documentURL": "https://files.example.com/d4.pdf", "documentName": "d3.pdf"},
			}}, "BAD_USER_INPUT")
			if raw, _ := json.Marshal(r.Errors); !strings.Contains(string(raw), "documents[0].documentUrl") {
				t.Errorf("errors %s do not name documents[0].documentUrl", raw)
			}
		})
	})
}
