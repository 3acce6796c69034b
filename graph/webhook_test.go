package graph_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// TestCallbackURL: callbackURL is accepted by the create and update inputs of jobs and
// groups, returned on both types, patched and cleared like other optional fields, and a
// bad value is BAD_USER_INPUT naming callbackUrl and changes nothing.
func TestCallbackURL(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil, graph.Config{})
		const hook = "https://hooks.example.com/ocr?token=abc"
		const create = `mutation($in: CreateOcrInvoiceJobInput!) { createOcrInvoiceJob(input: $in) { id callbackURL } }`
		const update = `mutation($id: ID!, $in: UpdateOcrInvoiceJobInput!) { updateOcrInvoiceJob(id: $id, input: $in) { id callbackURL documentName } }`
		type job struct {
			ID           string  `json:"id"`
			CallbackURL  *string `json:"callbackURL"`
			DocumentName string  `json:"documentName"`
		}
		var cr struct{ CreateOcrInvoiceJob job }
		e.ok(create, jobVars("CB-1", map[string]any{"callbackUrl": hook}), &cr)
		j := cr.CreateOcrInvoiceJob
		if j.CallbackURL == nil || *j.CallbackURL != hook {
			t.Fatalf("created callbackURL = %v", j.CallbackURL)
		}
		var up struct{ UpdateOcrInvoiceJob job }
		e.ok(update, map[string]any{"id": j.ID, "in": map[string]any{"documentName": "other.pdf"}}, &up)
		if up.UpdateOcrInvoiceJob.CallbackURL == nil || *up.UpdateOcrInvoiceJob.CallbackURL != hook {
			t.Errorf("a patch without callbackURL changed it to %v", up.UpdateOcrInvoiceJob.CallbackURL)
		}
		e.ok(update, map[string]any{"id": j.ID, "in": map[string]any{"callbackUrl": "http://hooks.example.com/2"}}, &up)
		if up.UpdateOcrInvoiceJob.CallbackURL == nil || *up.UpdateOcrInvoiceJob.CallbackURL != "http://hooks.example.com/2" {
			t.Errorf("patched callbackURL = %v", up.UpdateOcrInvoiceJob.CallbackURL)
		}
		before, err := c.OcrInvoiceJob.Get(context.Background(), j.ID)
		if err != nil {
			t.Fatal(err)
		}
		for name, bad := range map[string]string{"ftp": "ftp://hooks.example.com/x", "relative": "/hooks/x", "too long": "https://h.example/" + strings.Repeat("a", 2048)} {
			t.Run(name, func(t *testing.T) {
				for _, r := range []*gqlResponse{
					e.fails(create, jobVars("CB-BAD", map[string]any{"callbackUrl": bad}), "BAD_USER_INPUT"),
					e.fails(update, map[string]any{"id": j.ID, "in": map[string]any{"callbackUrl": bad}}, "BAD_USER_INPUT"),
					e.fails(`mutation($n: String!, $u: String) { createOcrJobGroup(input: {name: $n, callbackUrl: $u}) { id } }`, map[string]any{"n": "g-bad", "u": bad}, "BAD_USER_INPUT"),
				} {
					details, _ := json.Marshal(r.Errors[0].Extensions["details"])
					if !strings.Contains(string(details), `"field":"callbackUrl"`) {
						t.Errorf("details %s do not name callbackUrl", details)
					}
				}
			})
		}
		after, err := c.OcrInvoiceJob.Get(context.Background(), j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.CallbackURL != before.CallbackURL || !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("refused updates changed the job: %q -> %q", before.CallbackURL, after.CallbackURL)
		}
		if n := c.OcrInvoiceJob.Query().CountX(context.Background()); n != 1 {
			t.Errorf("%d jobs stored, want 1", n)
		}
		if n := c.OcrJobGroup.Query().CountX(context.Background()); n != 0 {
			t.Errorf("%d groups stored, want 0", n)
		}
		e.ok(update, map[string]any{"id": j.ID, "in": map[string]any{"clearCallbackURL": true}}, &up)
		// Like createdBy, an unset optional string reads as "" in GraphQL.
		if up.UpdateOcrInvoiceJob.CallbackURL != nil && *up.UpdateOcrInvoiceJob.CallbackURL != "" {
			t.Errorf("cleared callbackURL = %q", *up.UpdateOcrInvoiceJob.CallbackURL)
		}

		type group struct {
			ID          string  `json:"id"`
			CallbackURL *string `json:"callbackURL"`
		}
		var g struct{ CreateOcrJobGroup group }
		e.ok(`mutation($u: String) { createOcrJobGroup(input: {name: "hooked", callbackUrl: $u}) { id callbackURL } }`, map[string]any{"u": hook}, &g)
		if g.CreateOcrJobGroup.CallbackURL == nil || *g.CreateOcrJobGroup.CallbackURL != hook {
			t.Fatalf("group callbackURL = %v", g.CreateOcrJobGroup.CallbackURL)
		}
		var gu struct{ UpdateOcrJobGroup group }
		e.ok(`mutation($id: ID!) { updateOcrJobGroup(id: $id, input: {clearCallbackURL: true}) { id callbackURL } }`, map[string]any{"id": g.CreateOcrJobGroup.ID}, &gu)
		if gu.UpdateOcrJobGroup.CallbackURL != nil && *gu.UpdateOcrJobGroup.CallbackURL != "" {
			t.Errorf("cleared group callbackURL = %q", *gu.UpdateOcrJobGroup.CallbackURL)
		}
	})
}
