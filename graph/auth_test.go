package graph_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/graph/generated"
	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/live/livetest"
)

// sse runs a subscription over Server-Sent Events on e's handler and returns what the
// stream sent (on a handler without live.Watcher, one response).
func (e *env) sse(query string, vars map[string]any) *gqlResponse {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	if e.who != nil {
		req = req.WithContext(auth.WithPrincipal(req.Context(), *e.who))
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req)
	got, err := livetest.CollectSSE(bytes.NewReader(w.Body.Bytes()), nil)
	if err != nil || len(got) == 0 {
		e.t.Fatalf("SSE stream %q: %v", w.Body.String(), err)
	}
	r := &gqlResponse{Status: w.Code, Data: got[0].Data}
	for _, ge := range got[0].Errors {
		r.Errors = append(r.Errors, gqlError{Message: ge.Message, Extensions: ge.Extensions})
	}
	return r
}

var (
	viewer    = auth.Principal{KeyID: "v", Name: "viewer", Role: auth.RoleViewer}
	submitter = auth.Principal{KeyID: "s", Name: "team-a", Role: auth.RoleSubmitter, Owner: "team-a"}
	admin     = auth.Principal{KeyID: "a", Name: "admin", Role: auth.RoleAdmin}
)

// TestRoleOperationTable runs every root field of Query, Mutation and Subscription as
// anonymous, viewer, submitter and admin: a caller below the field's role is refused
// (UNAUTHENTICATED without a principal, FORBIDDEN with a weaker role) before anything
// runs; one with the role gets past the policy (the operation may still fail for its
// own reasons, such as NOT_FOUND for another owner's job or UNAVAILABLE for a server
// without subscriptions).
func TestRoleOperationTable(t *testing.T) {
	c := databasetest.Open(t)
	keys := apikeys.New(c, quiet())
	e := newEnv(t, c, acceptAll{}, graph.Config{Introspection: true, APIKeys: keys})
	ctx := context.Background()
	job, err := e.svc.CreateJob(ctx, jobs.JobInput{JobNumber: "T-1", DocumentName: "a.pdf", DocumentURL: "https://example.com/a.pdf", Template: jobs.BuiltinTemplateName})
	if err != nil {
		t.Fatal(err)
	}
	group, err := e.svc.CreateGroup(ctx, jobs.GroupInput{Name: "batch"})
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := e.svc.GetTemplate(ctx, jobs.BuiltinTemplateName)
	if err != nil {
		t.Fatal(err)
	}
	key, err := keys.Create(ctx, apikeys.CreateInput{Name: "fixture", Role: auth.RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	jobID := map[string]any{"id": job.ID}
	groupID := map[string]any{"id": group.ID}
	profileID := map[string]any{"id": storeProfile(t, c, "team-a", 1)}

	type op struct {
		root, field string
		min         auth.Role // "" : any principal
		query       string
		vars        map[string]any
		multipart   bool
	}
	ops := []op{
		{"Query", "node", auth.RoleViewer, `query($id: ID!) { node(id: $id) { id } }`, jobID, false},
		{"Query", "nodes", auth.RoleViewer, `query($id: ID!) { nodes(ids: [$id]) { id } }`, jobID, false},
		{"Query", "ocrInvoiceJobs", auth.RoleViewer, `{ ocrInvoiceJobs { totalCount } }`, nil, false},
		{"Query", "ocrJobGroups", auth.RoleViewer, `{ ocrJobGroups { totalCount } }`, nil, false},
		{"Query", "ocrTemplates", auth.RoleViewer, `{ ocrTemplates { totalCount } }`, nil, false},
		{"Query", "ocrInvoiceJob", auth.RoleViewer, `query($id: ID!) { ocrInvoiceJob(id: $id) { id } }`, jobID, false},
		{"Query", "ocrInvoiceJobResults", auth.RoleViewer, `query($id: ID!) { ocrInvoiceJobResults(id: $id) { processingTime } }`, jobID, false},
		{"Query", "ocrTemplate", auth.RoleViewer, `{ ocrTemplate(id: "generic") { id } }`, nil, false},
		{"Query", "ocrJobGroup", auth.RoleViewer, `query($id: ID!) { ocrJobGroup(id: $id) { id } }`, groupID, false},
		{"Query", "apiKeys", auth.RoleAdmin, `{ apiKeys(includeRevoked: true) { id name role } }`, nil, false},
		{"Query", "supplierProfiles", auth.RoleViewer, `{ supplierProfiles { totalCount } }`, nil, false},
		{"Query", "supplierProfile", auth.RoleViewer, `query($id: ID!) { supplierProfile(id: $id) { id } }`, profileID, false},
		{"Query", "__schema", "", `{ __schema { queryType { name } } }`, nil, false},
		{"Query", "__type", "", `{ __type(name: "Query") { name } }`, nil, false},
		{"Query", "__typename", "", `{ __typename }`, nil, false},
		{"Mutation", "createOcrInvoiceJob", auth.RoleSubmitter, createJob, nil, false},
		{"Mutation", "updateOcrInvoiceJob", auth.RoleSubmitter, `mutation($id: ID!) { updateOcrInvoiceJob(id: $id, input: {priority: high}) { id } }`, jobID, false},
		{"Mutation", "cancelOcrInvoiceJob", auth.RoleSubmitter, `mutation($id: ID!) { cancelOcrInvoiceJob(id: $id) { id } }`, jobID, false},
		{"Mutation", "retryOcrInvoiceJob", auth.RoleSubmitter, `mutation($id: ID!) { retryOcrInvoiceJob(id: $id) { id } }`, jobID, false},
		{"Mutation", "correctOcrInvoiceJob", auth.RoleSubmitter, `mutation($id: ID!) { correctOcrInvoiceJob(id: $id, fields: [{path: "invoice.number", value: "X"}]) { id } }`, jobID, false},
		{"Mutation", "approveOcrInvoiceJob", auth.RoleSubmitter, `mutation($id: ID!) { approveOcrInvoiceJob(id: $id) { id } }`, jobID, false},
		{"Mutation", "createOcrTemplate", auth.RoleAdmin, `mutation { createOcrTemplate(input: {name: "policy"}) { id } }`, nil, false},
		{"Mutation", "updateOcrTemplate", auth.RoleAdmin, `mutation($id: ID!) { updateOcrTemplate(id: $id, input: {description: "d"}) { id } }`, map[string]any{"id": tpl.ID}, false},
		{"Mutation", "createOcrJobGroup", auth.RoleSubmitter, `mutation { createOcrJobGroup(input: {name: "g"}) { id } }`, nil, false},
		{"Mutation", "updateOcrJobGroup", auth.RoleSubmitter, `mutation($id: ID!) { updateOcrJobGroup(id: $id, input: {description: "d"}) { id } }`, groupID, false},
		{"Mutation", "suspendOcrJobGroup", auth.RoleSubmitter, `mutation($id: ID!) { suspendOcrJobGroup(id: $id) { id } }`, groupID, false},
		{"Mutation", "resumeOcrJobGroup", auth.RoleSubmitter, `mutation($id: ID!) { resumeOcrJobGroup(id: $id) { id } }`, groupID, false},
		{"Mutation", "cancelOcrJobGroup", auth.RoleSubmitter, `mutation($id: ID!) { cancelOcrJobGroup(id: $id) { id } }`, groupID, false},
		{"Mutation", "retryFailedOcrJobGroup", auth.RoleSubmitter, `mutation($id: ID!) { retryFailedOcrJobGroup(id: $id) { id } }`, groupID, false},
		{"Mutation", "uploadDocument", auth.RoleSubmitter, uploadDocument, nil, true},
		{"Mutation", "createApiKey", auth.RoleAdmin, `mutation { createApiKey(input: {name: "k", role: viewer}) { key apiKey { id } } }`, nil, false},
		{"Mutation", "revokeApiKey", auth.RoleAdmin, `mutation($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }`, map[string]any{"id": key.APIKey.ID}, false},
		{"Mutation", "deleteSupplierProfile", auth.RoleSubmitter, `mutation($id: ID!) { deleteSupplierProfile(id: $id) }`, profileID, false},
		{"Mutation", "__typename", "", `mutation { __typename }`, nil, false},
		{"Subscription", "ocrInvoiceJobProgress", auth.RoleViewer, progressSub, jobID, false},
		{"Subscription", "ocrInvoiceJobUpdated", auth.RoleViewer, `subscription { ocrInvoiceJobUpdated { id } }`, nil, false},
		{"Subscription", "ocrJobGroupProgress", auth.RoleViewer, `subscription($id: ID!) { ocrJobGroupProgress(id: $id) { phase } }`, groupID, false},
	}

	// The table must name every root field of the schema.
	s := generated.NewExecutableSchema(generated.Config{}).Schema()
	for _, def := range []string{s.Query.Name, s.Mutation.Name, s.Subscription.Name} {
		for _, f := range s.Types[def].Fields {
			if !slices.ContainsFunc(ops, func(o op) bool { return o.root == def && o.field == f.Name }) {
				t.Errorf("the role table has no row for %s.%s", def, f.Name)
			}
		}
	}

	principals := []struct {
		name string
		p    *auth.Principal
	}{{"anonymous", nil}, {"viewer", &viewer}, {"submitter", &submitter}, {"admin", &admin}}
	for _, o := range ops {
		for _, who := range principals {
			t.Run(fmt.Sprintf("%s.%s as %s", o.root, o.field, who.name), func(t *testing.T) {
				as := e.as(who.p)
				var r *gqlResponse
				switch {
				case o.multipart:
					r = as.serve(multipartRequest(t, o.query, fileVar("a.pdf", []byte("%PDF-1.4\nhello"))))
				case o.root == "Subscription":
					r = as.sse(o.query, o.vars)
				default:
					vars := o.vars
					if o.field == "createOcrInvoiceJob" {
						vars = jobVars("T-"+who.name, nil)
					}
					r = as.do(o.query, vars)
				}
				want := ""
				switch {
				case who.p == nil:
					want = "UNAUTHENTICATED"
				case o.min != "" && !who.p.Role.Includes(o.min):
					want = "FORBIDDEN"
				}
				if want != "" {
					if r.code(0) != want || len(r.Errors) != 1 || string(r.Data) != "null" && len(r.Data) > 0 {
						t.Fatalf("got data %s, errors %+v; want only %s", r.Data, r.Errors, want)
					}
					if want == "FORBIDDEN" && !strings.Contains(r.Errors[0].Message, o.field) {
						t.Errorf("message %q does not name %s", r.Errors[0].Message, o.field)
					}
					return
				}
				for i := range r.Errors {
					if c := r.code(i); c == "UNAUTHENTICATED" || c == "FORBIDDEN" {
						t.Fatalf("refused: %+v", r.Errors)
					}
				}
			})
		}
	}
}

// TestPolicyCoversWholeOperation: a field the caller may not use refuses the whole
// operation, also when hidden behind a fragment, an inline fragment or an alias.
func TestPolicyCoversWholeOperation(t *testing.T) {
	c := databasetest.Open(t)
	e := newEnv(t, c, nil, graph.Config{APIKeys: apikeys.New(c, quiet())}).as(&submitter)
	for name, q := range map[string]string{
		"next to an allowed field": `{ ocrTemplates { totalCount } apiKeys { id } }`,
		"aliased":                  `{ k: apiKeys { id } }`,
		"in a fragment":            `query { ...F } fragment F on Query { apiKeys { id } }`,
		"in an inline fragment":    `query { ... on Query { apiKeys { id } } }`,
		"mutation in a fragment":   `mutation { ...M } fragment M on Mutation { createOcrTemplate(input: {name: "x"}) { id } }`,
	} {
		t.Run(name, func(t *testing.T) {
			r := e.fails(q, nil, "FORBIDDEN")
			if string(r.Data) != "null" && len(r.Data) > 0 {
				t.Errorf("data %s, want none", r.Data)
			}
		})
	}
	// Nothing was created by the refused mutation.
	if n := e.c.OcrTemplate.Query().CountX(context.Background()); n != 1 {
		t.Errorf("%d templates, want only the builtin", n)
	}
}
