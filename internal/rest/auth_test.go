package rest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
	"github.com/ocrinvoice/ocrinvoice/internal/progress"
	"github.com/ocrinvoice/ocrinvoice/internal/redisproc/redistest"
	"github.com/ocrinvoice/ocrinvoice/internal/reqid"
	"github.com/ocrinvoice/ocrinvoice/internal/testdocs"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// The principals of the tests. testAdmin is the caller of every test that does not say
// otherwise (the tests that predate authorization).
var (
	testAdmin  = auth.Principal{KeyID: "key-admin", Name: "test admin", Role: auth.RoleAdmin}
	viewerAll  = auth.Principal{KeyID: "key-viewer", Name: "viewer", Role: auth.RoleViewer}
	viewerA    = auth.Principal{KeyID: "key-viewer-a", Name: "viewer of A", Role: auth.RoleViewer, Owner: "team-a"}
	submitterA = auth.Principal{KeyID: "key-sub-a", Name: "submitter A", Role: auth.RoleSubmitter, Owner: "team-a"}
	submitterB = auth.Principal{KeyID: "key-sub-b", Name: "submitter B", Role: auth.RoleSubmitter, Owner: "team-b"}
)

// authenticated does for the tests what the server's authentication middleware does: it
// adopts the request's X-Request-Id (or makes one), echoes it, and puts p in the request
// context; p nil is an anonymous request (no principal).
func authenticated(h http.Handler, p *auth.Principal) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := reqid.FromRequest(r)
		w.Header().Set(reqid.Header, id)
		ctx := reqid.With(r.Context(), id)
		if p != nil {
			ctx = auth.WithPrincipal(ctx, *p)
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// newAuthEnv is the REST API with every option on (job events over a private Redis,
// uploads into a temporary directory), so that every route can answer successfully.
func newAuthEnv(t *testing.T) *env {
	t.Helper()
	rs := redistest.Start(t)
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { _ = rc.Close() })
	pub := progress.NewPublisher(rc, progress.PublisherOptions{})
	quiet := slog.New(slog.DiscardHandler)
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	c := databasetest.Open(t)
	svc := jobs.NewService(c, queueAll{}, jobs.Options{Logger: quiet, Events: pub})
	ctx := context.Background()
	if err := svc.EnsureBuiltins(ctx); err != nil {
		t.Fatal(err)
	}
	hub := progress.NewHub(rc, progress.HubOptions{Logger: quiet})
	t.Cleanup(func() { _ = hub.Close() })
	<-hub.Ready()
	w := live.New(svc, hub, live.Options{Logger: quiet})
	t.Cleanup(w.Close)
	store, err := uploads.New(filepath.Join(t.TempDir(), "uploads"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := svc.GetTemplate(ctx, jobs.BuiltinTemplateName)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, c: c, svc: svc, generic: g.ID, logs: logs, clock: &testClock{}}
	e.serve(NewHandler(svc, logger, WithEvents(w), WithUploads(store, 0)))
	return e
}

// authFixtures are the objects one role-table case works on, all owned by team-a and
// created by the process itself (no principal), so that each case starts afresh.
type authFixtures struct {
	job, jobNumber string // a queued job
	cancelled      string // a cancelled job (retry-able, its event stream ends at once)
	group, gName   string
	tpl, tplName   string
	profile        string // a supplier profile
	n              int    // unique per case, for new names
}

func newAuthFixtures(t *testing.T, e *env, n int) authFixtures {
	t.Helper()
	ctx := context.Background()
	f := authFixtures{n: n, jobNumber: fmt.Sprintf("FX-%03d", n), gName: fmt.Sprintf("fx-group-%03d", n), tplName: fmt.Sprintf("fx-tpl-%03d", n)}
	mk := func(number string) string {
		j, err := e.svc.CreateJob(ctx, jobs.JobInput{JobNumber: number, DocumentName: "fx.pdf", DocumentURL: "https://invoices.example.com/fx.pdf", Template: e.generic, CreatedBy: "team-a"})
		if err != nil {
			t.Fatalf("create fixture job: %v", err)
		}
		return j.ID
	}
	f.job = mk(f.jobNumber)
	f.cancelled = mk(f.jobNumber + "-C")
	if _, err := e.svc.CancelJob(ctx, f.cancelled); err != nil {
		t.Fatal(err)
	}
	g, err := e.svc.CreateGroup(ctx, jobs.GroupInput{Name: f.gName, CreatedBy: "team-a"})
	if err != nil {
		t.Fatal(err)
	}
	f.group = g.ID
	shared := true // visible to every role of every owner
	tpl, err := e.svc.CreateTemplate(ctx, jobs.TemplateInput{Name: f.tplName, Shared: &shared})
	if err != nil {
		t.Fatal(err)
	}
	f.tpl = tpl.ID
	sp, err := e.c.SupplierProfile.Create().SetCreatedBy("team-a").SetTaxID(fmt.Sprintf("DE%09d", n)).SetDisplayName("Fixture GmbH").Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.profile = sp.ID
	return f
}

// authRequest is one request of the role table.
type authRequest struct {
	path string
	body any
	hdr  []string
}

// roleNames are the callers of the role table, in the order of roleCase.want.
var roleNames = []string{"anonymous", "viewer", "submitter", "admin"}

var rolePrincipals = []*auth.Principal{nil, &viewerAll, &submitterA, &testAdmin}

type roleCase struct {
	req  func(t *testing.T, f authFixtures) authRequest
	want [4]int // anonymous, viewer, submitter, admin
}

// roleTable gives every route of the routes slice its request and the status each role
// gets. A route missing here fails TestRouteRoles.
func roleTable(e *env) map[string]roleCase {
	get := func(p string) func(*testing.T, authFixtures) authRequest {
		return func(*testing.T, authFixtures) authRequest { return authRequest{path: p} }
	}
	jobPath := func(suffix string, cancelled bool) func(*testing.T, authFixtures) authRequest {
		return func(_ *testing.T, f authFixtures) authRequest {
			id := f.job
			if cancelled {
				id = f.cancelled
			}
			return authRequest{path: "/api/v1/ocr-invoice-jobs/" + id + suffix}
		}
	}
	groupPath := func(suffix string) func(*testing.T, authFixtures) authRequest {
		return func(_ *testing.T, f authFixtures) authRequest {
			return authRequest{path: "/api/v1/ocr-job-groups/" + f.group + suffix}
		}
	}
	pdf := testdocs.PDF(testdocs.Page{Lines: testdocs.InvoiceLines})
	const (
		ok, created, unauth, forbidden = http.StatusOK, http.StatusCreated, http.StatusUnauthorized, http.StatusForbidden
	)
	read := [4]int{unauth, ok, ok, ok}
	submit := func(st int) [4]int { return [4]int{unauth, forbidden, st, st} }
	adminOnly := func(st int) [4]int { return [4]int{unauth, forbidden, forbidden, st} }
	return map[string]roleCase{
		"GET /api/v1/ocr-invoice-jobs": {get("/api/v1/ocr-invoice-jobs"), read},
		"POST /api/v1/ocr-invoice-jobs": {func(_ *testing.T, f authFixtures) authRequest {
			return authRequest{path: "/api/v1/ocr-invoice-jobs", body: e.jobBodyFor(fmt.Sprintf("NEW-%03d", f.n), nil)}
		}, submit(created)},
		"GET /api/v1/ocr-invoice-jobs/{id}": {jobPath("", false), read},
		"PUT /api/v1/ocr-invoice-jobs/{id}": {func(_ *testing.T, f authFixtures) authRequest {
			return authRequest{path: "/api/v1/ocr-invoice-jobs/" + f.job, body: e.jobBodyFor(f.jobNumber, map[string]any{"priority": "high"})}
		}, submit(ok)},
		"GET /api/v1/ocr-invoice-jobs/{id}/results": {jobPath("/results", false), read},
		// The fixture's job is not completed: every role that may read it gets the 422 that says so.
		"GET /api/v1/ocr-invoice-jobs/{id}/einvoice": {jobPath("/einvoice", false), [4]int{unauth, http.StatusUnprocessableEntity, http.StatusUnprocessableEntity, http.StatusUnprocessableEntity}},
		// This API has no page renderer (WithPages): every role that may read the job gets its 503.
		"GET /api/v1/ocr-invoice-jobs/{id}/pages/{n}": {jobPath("/pages/1", false), [4]int{unauth, http.StatusServiceUnavailable, http.StatusServiceUnavailable, http.StatusServiceUnavailable}},
		"POST /api/v1/ocr-invoice-jobs/{id}/cancel":   {jobPath("/cancel", false), submit(ok)},
		"POST /api/v1/ocr-invoice-jobs/{id}/retry":    {jobPath("/retry", true), submit(ok)},
		"GET /api/v1/ocr-invoice-jobs/{id}/events":    {jobPath("/events", true), read},
		// The fixture's job is not completed: every role that may review it gets the 422 that says so.
		"PATCH /api/v1/ocr-invoice-jobs/{id}/extracted-data": {func(_ *testing.T, f authFixtures) authRequest {
			return authRequest{path: "/api/v1/ocr-invoice-jobs/" + f.job + "/extracted-data", body: map[string]any{"invoice": map[string]any{"number": "X-1"}}}
		}, submit(http.StatusUnprocessableEntity)},
		"POST /api/v1/ocr-invoice-jobs/{id}/approve": {jobPath("/approve", false), submit(http.StatusUnprocessableEntity)},

		"POST /api/v1/uploads": {func(t *testing.T, _ authFixtures) authRequest {
			body, ct := multipartBody(t, part{"file", "invoice.pdf", "application/pdf", pdf})
			return authRequest{path: uploadsPath, body: body, hdr: []string{"Content-Type", ct}}
		}, submit(created)},

		"GET /api/v1/ocr-templates": {get("/api/v1/ocr-templates"), read},
		"POST /api/v1/ocr-templates": {func(_ *testing.T, f authFixtures) authRequest {
			return authRequest{path: "/api/v1/ocr-templates", body: map[string]any{"name": fmt.Sprintf("new-tpl-%03d", f.n)}}
		}, adminOnly(created)},
		"GET /api/v1/ocr-templates/{id}": {func(_ *testing.T, f authFixtures) authRequest {
			return authRequest{path: "/api/v1/ocr-templates/" + f.tpl}
		}, read},
		"PUT /api/v1/ocr-templates/{id}": {func(_ *testing.T, f authFixtures) authRequest {
			return authRequest{path: "/api/v1/ocr-templates/" + f.tpl, body: map[string]any{"name": f.tplName, "description": "changed"}}
		}, adminOnly(ok)},

		"GET /api/v1/ocr-job-groups": {get("/api/v1/ocr-job-groups"), read},
		"POST /api/v1/ocr-job-groups": {func(_ *testing.T, f authFixtures) authRequest {
			return authRequest{path: "/api/v1/ocr-job-groups", body: map[string]any{"name": fmt.Sprintf("new-group-%03d", f.n)}}
		}, submit(created)},
		"GET /api/v1/ocr-job-groups/{id}": {groupPath(""), read},
		"PUT /api/v1/ocr-job-groups/{id}": {func(_ *testing.T, f authFixtures) authRequest {
			return authRequest{path: "/api/v1/ocr-job-groups/" + f.group, body: map[string]any{"name": f.gName, "description": "changed"}}
		}, submit(ok)},
		"POST /api/v1/ocr-job-groups/{id}/suspend":      {groupPath("/suspend"), submit(ok)},
		"POST /api/v1/ocr-job-groups/{id}/resume":       {groupPath("/resume"), submit(ok)},
		"POST /api/v1/ocr-job-groups/{id}/cancel":       {groupPath("/cancel"), submit(ok)},
		"POST /api/v1/ocr-job-groups/{id}/retry-failed": {groupPath("/retry-failed"), submit(ok)},

		"GET /api/v1/supplier-profiles": {get("/api/v1/supplier-profiles"), read},
		"GET /api/v1/supplier-profiles/{id}": {func(_ *testing.T, f authFixtures) authRequest {
			return authRequest{path: "/api/v1/supplier-profiles/" + f.profile}
		}, read},
		"DELETE /api/v1/supplier-profiles/{id}": {func(_ *testing.T, f authFixtures) authRequest {
			return authRequest{path: "/api/v1/supplier-profiles/" + f.profile}
		}, submit(ok)},

		"GET /openapi.json": {get("/openapi.json"), [4]int{ok, ok, ok, ok}},
	}
}

// TestRouteRoles is the table of role x REST route x expected status. Refused requests are
// 401 (with WWW-Authenticate) or 403, carry the request id, and change nothing; allowed
// ones get the route's success status.
func TestRouteRoles(t *testing.T) {
	e := newAuthEnv(t)
	table := roleTable(e)
	seen := map[string]bool{}
	n := 0
	for _, rt := range routes {
		key := rt.method + " " + rt.path
		seen[key] = true
		tc, ok := table[key]
		if !ok {
			t.Errorf("route %s has no expected outcome in roleTable", key)
			continue
		}
		if (rt.role == public) != (tc.want[0] != http.StatusUnauthorized) {
			t.Errorf("route %s: role %q but anonymous expected %d", key, rt.role, tc.want[0])
		}
		for i, role := range roleNames {
			n++
			t.Run(key+"/"+role, func(t *testing.T) {
				f := newAuthFixtures(t, e, n)
				req := tc.req(t, f)
				id := fmt.Sprintf("case-%03d", n)
				before := e.counts(t)
				r := e.as(t, rolePrincipals[i]).do(rt.method, req.path, req.body, append([]string{reqid.Header, id}, req.hdr...)...)
				if r.status != tc.want[i] {
					t.Fatalf("%s as %s: status %d, want %d; body %.400s", key, role, r.status, tc.want[i], r.raw)
				}
				switch r.status {
				case http.StatusUnauthorized:
					if r.errCode() != "UNAUTHENTICATED" || r.header.Get("WWW-Authenticate") != `Bearer realm="ocrinvoice"` {
						t.Errorf("401: code %q, WWW-Authenticate %q", r.errCode(), r.header.Get("WWW-Authenticate"))
					}
				case http.StatusForbidden:
					if r.errCode() != "FORBIDDEN" || !strings.Contains(r.errMessage(), string(rt.role)) {
						t.Errorf("403: code %q, message %q (want the needed role %s named)", r.errCode(), r.errMessage(), rt.role)
					}
				}
				if r.status >= 400 {
					if got := r.errRequestID(); got != id {
						t.Errorf("error.requestId %q, want %q", got, id)
					}
					if after := e.counts(t); after != before {
						t.Errorf("a refused request changed the data: %+v -> %+v", before, after)
					}
				}
			})
		}
	}
	for key := range table {
		if !seen[key] {
			t.Errorf("roleTable has %s, which is no route", key)
		}
	}
}

// TestAuthorizeBeforeInput: the role is checked before anything of the request is read, so a
// refused caller learns nothing about ids or bodies.
func TestAuthorizeBeforeInput(t *testing.T) {
	e := newEnv(t, databasetest.Open(t), nil)
	anon, viewer := e.as(t, nil), e.as(t, &viewerAll)
	anon.do("GET", "/api/v1/ocr-invoice-jobs/not-an-id", nil).must(t, http.StatusUnauthorized)
	anon.do("GET", "/api/v1/ocr-invoice-jobs?limit=0", nil).must(t, http.StatusUnauthorized)
	anon.do("POST", "/api/v1/ocr-invoice-jobs", `{"broken`).must(t, http.StatusUnauthorized)
	viewer.do("POST", "/api/v1/ocr-invoice-jobs", `{"broken`).must(t, http.StatusForbidden)
	viewer.do("PUT", "/api/v1/ocr-templates/generic", `{}`, "Content-Type", "text/plain").must(t, http.StatusForbidden)
	// A principal whose role is unknown includes nothing.
	e.as(t, &auth.Principal{KeyID: "k", Role: "superuser"}).do("POST", "/api/v1/ocr-job-groups", map[string]any{"name": "x"}).must(t, http.StatusForbidden)
}

// dataCounts is how many jobs, groups and templates exist (seen by the process).
type dataCounts struct{ jobs, groups, templates, profiles int }

func (e *env) counts(t *testing.T) dataCounts {
	t.Helper()
	ctx := context.Background()
	var d dataCounts
	var err error
	if d.jobs, err = e.c.OcrInvoiceJob.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	if d.groups, err = e.c.OcrJobGroup.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	if d.templates, err = e.c.OcrTemplate.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	if d.profiles, err = e.c.SupplierProfile.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	return d
}

func (r resp) errRequestID() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["requestId"].(string)
	return s
}

// ids returns the _id of every item of a list response.
func (r resp) ids() []string {
	var out []string
	for _, m := range r.list() {
		out = append(out, fmt.Sprint(m["_id"]))
	}
	slices.Sort(out)
	return out
}

func sortedIDs(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// TestCrossOwner: two submitters of different owners share a server. Neither can read,
// change, cancel, retry, stream or list the other's jobs and groups (404, never 403, and
// absent from lists and totals, whatever the filter), nor act as the other's owner.
func TestCrossOwner(t *testing.T) {
	e := newAuthEnv(t)
	a, b := e.as(t, &submitterA), e.as(t, &submitterB)
	const jobsPath, groupsPath = "/api/v1/ocr-invoice-jobs", "/api/v1/ocr-job-groups"

	gA := a.do("POST", groupsPath, map[string]any{"name": "secret-group-a", "description": "team a"}).must(t, http.StatusCreated).data()
	gAID := gA["_id"].(string)
	jA := a.do("POST", jobsPath, e.jobBodyFor("SECRET-A1", map[string]any{"documentName": "secret-a.pdf"})).must(t, http.StatusCreated).data()
	jAID := jA["_id"].(string)
	jA2ID := a.do("POST", jobsPath, e.jobBodyFor("SECRET-A2", map[string]any{"group": gAID})).must(t, http.StatusCreated).data()["_id"].(string)
	// A cancelled job of A's, so that retry would succeed for A.
	jA3ID := a.do("POST", jobsPath, e.jobBodyFor("SECRET-A3", nil)).must(t, http.StatusCreated).data()["_id"].(string)
	a.do("POST", jobsPath+"/"+jA3ID+"/cancel", nil).must(t, http.StatusOK)
	for _, d := range []map[string]any{jA, gA} {
		if d["createdBy"] != "team-a" {
			t.Fatalf("A's createdBy = %v, want team-a (from the key's owner)", d["createdBy"])
		}
	}

	jB := b.do("POST", jobsPath, e.jobBodyFor("B-1", nil)).must(t, http.StatusCreated).data()
	jBID := jB["_id"].(string)
	gBID := b.do("POST", groupsPath, map[string]any{"name": "group-b"}).must(t, http.StatusCreated).data()["_id"].(string)
	if jB["createdBy"] != "team-b" {
		t.Errorf("B's createdBy = %v, want team-b when omitted", jB["createdBy"])
	}
	b.do("POST", jobsPath, e.jobBodyFor("B-2", map[string]any{"createdBy": "team-b"})).must(t, http.StatusCreated)

	aJobsBefore := a.do("GET", jobsPath+"/"+jAID, nil).must(t, http.StatusOK).raw
	aGroupBefore := a.do("GET", groupsPath+"/"+gAID, nil).must(t, http.StatusOK).raw
	before := e.counts(t)

	t.Run("B gets 404 on A's job and group", func(t *testing.T) {
		b := e.as(t, &submitterB)
		cases := []struct {
			method, path string
			body         any
		}{
			{"GET", jobsPath + "/" + jAID, nil},
			{"GET", jobsPath + "/" + jAID + "/results", nil},
			{"GET", jobsPath + "/" + jAID + "/einvoice", nil},
			{"GET", jobsPath + "/" + jAID + "/pages/1", nil},
			{"PUT", jobsPath + "/" + jAID, e.jobBodyFor("SECRET-A1", nil)},
			{"PUT", jobsPath + "/" + jAID, e.jobBodyFor("SECRET-A1", map[string]any{"createdBy": "team-b"})},
			{"POST", jobsPath + "/" + jAID + "/cancel", nil},
			{"POST", jobsPath + "/" + jA3ID + "/retry", nil},
			{"GET", jobsPath + "/" + jAID + "/events", nil},
			{"GET", jobsPath + "/" + jA3ID + "/events", nil},
			{"GET", groupsPath + "/" + gAID, nil},
			{"PUT", groupsPath + "/" + gAID, map[string]any{"name": "stolen"}},
			{"POST", groupsPath + "/" + gAID + "/suspend", nil},
			{"POST", groupsPath + "/" + gAID + "/resume", nil},
			{"POST", groupsPath + "/" + gAID + "/cancel", nil},
			{"POST", groupsPath + "/" + gAID + "/retry-failed", nil},
		}
		for _, tc := range cases {
			r := b.do(tc.method, tc.path, tc.body)
			if r.status != http.StatusNotFound || r.errCode() != "NOT_FOUND" {
				t.Errorf("%s %s as B: %d %s, want 404 NOT_FOUND", tc.method, tc.path, r.status, r.raw)
			}
		}
	})

	t.Run("B's lists leave A's items out, totals too", func(t *testing.T) {
		b := e.as(t, &submitterB)
		q := func(base string, kv ...string) string {
			v := url.Values{}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Set(kv[i], kv[i+1])
			}
			return base + "?" + v.Encode()
		}
		cases := []struct {
			path  string
			total int
		}{
			{jobsPath, 2},
			{q(jobsPath, "limit", "1"), 2},
			{q(jobsPath, "filter", `{"createdBy":"team-a"}`), 0},
			{q(jobsPath, "filter", `{"_id":"`+jAID+`"}`), 0},
			{q(jobsPath, "filter", `{"group":"`+gAID+`"}`), 0},
			{q(jobsPath, "filter", `{"$or":[{"createdBy":"team-a"},{"createdBy":"team-b"}]}`), 2},
			{q(jobsPath, "filter", `{"jobNumber":{"$in":["SECRET-A1","SECRET-A2","B-1"]}}`), 1},
			{q(jobsPath, "search", "secret"), 0},
			{q(jobsPath, "search", "SECRET-A1"), 0},
			{q(jobsPath, "sort", "createdBy", "order", "asc"), 2},
			{groupsPath, 1},
			{q(groupsPath, "search", "secret"), 0},
			{q(groupsPath, "filter", `{"_id":"`+gAID+`"}`), 0},
			{q(groupsPath, "filter", `{"name":"secret-group-a"}`), 0},
		}
		for _, tc := range cases {
			r := b.do("GET", tc.path, nil).must(t, http.StatusOK)
			if r.total() != tc.total {
				t.Errorf("GET %s as B: total %d, want %d", tc.path, r.total(), tc.total)
			}
			for _, it := range r.list() {
				if it["createdBy"] != "team-b" {
					t.Errorf("GET %s as B lists %v of %v", tc.path, it["_id"], it["createdBy"])
				}
			}
		}
	})

	t.Run("B cannot act as A's owner nor use A's group", func(t *testing.T) {
		b := e.as(t, &submitterB)
		r := b.do("POST", jobsPath, e.jobBodyFor("FORGED-1", map[string]any{"createdBy": "team-a"})).must(t, http.StatusForbidden)
		if r.errCode() != "FORBIDDEN" {
			t.Errorf("code %s", r.errCode())
		}
		b.do("POST", groupsPath, map[string]any{"name": "forged", "createdBy": "team-a"}).must(t, http.StatusForbidden)
		b.do("PUT", jobsPath+"/"+jBID, e.jobBodyFor("B-1", map[string]any{"createdBy": "team-a"})).must(t, http.StatusForbidden)
		b.do("PUT", groupsPath+"/"+gBID, map[string]any{"name": "group-b", "createdBy": "team-a"}).must(t, http.StatusForbidden)
		r = b.do("POST", jobsPath, e.jobBodyFor("INTRUDE-1", map[string]any{"group": gAID})).must(t, http.StatusBadRequest)
		if !slices.Contains(r.errFields(), "group") {
			t.Errorf("creating in A's group: details %v, want group named", r.errFields())
		}
		b.do("PUT", jobsPath+"/"+jBID, e.jobBodyFor("B-1", map[string]any{"group": gAID})).must(t, http.StatusBadRequest)
	})

	t.Run("nothing of A's changed", func(t *testing.T) {
		a := e.as(t, &submitterA)
		if after := e.counts(t); after != before {
			t.Errorf("counts %+v -> %+v", before, after)
		}
		if got := a.do("GET", jobsPath+"/"+jAID, nil).must(t, http.StatusOK).raw; !bytes.Equal(got, aJobsBefore) {
			t.Errorf("A's job changed:\n%s\n%s", aJobsBefore, got)
		}
		if got := a.do("GET", groupsPath+"/"+gAID, nil).must(t, http.StatusOK).raw; !bytes.Equal(got, aGroupBefore) {
			t.Errorf("A's group changed:\n%s\n%s", aGroupBefore, got)
		}
		// A itself can still do what B could not.
		a.do("GET", jobsPath+"/"+jA3ID+"/events", nil).must(t, http.StatusOK)
		a.do("POST", jobsPath+"/"+jA3ID+"/retry", nil).must(t, http.StatusOK)
		a.do("POST", groupsPath+"/"+gAID+"/suspend", nil).must(t, http.StatusOK)
	})

	t.Run("who sees what", func(t *testing.T) {
		allJobs := sortedIDs(jAID, jA2ID, jA3ID, jBID)
		aJobs := sortedIDs(jAID, jA2ID, jA3ID)
		cases := []struct {
			name         string
			p            *auth.Principal
			jobs, groups int
			sees         []string // ids among the jobs listed (all of them)
		}{
			{"viewer of A", &viewerA, 3, 1, aJobs},
			{"submitter A", &submitterA, 3, 1, aJobs},
			{"viewer without owner", &viewerAll, 5, 2, nil},
			{"admin", &testAdmin, 5, 2, nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				c := e.as(t, tc.p)
				r := c.do("GET", jobsPath, nil).must(t, http.StatusOK)
				if r.total() != tc.jobs || len(r.list()) != tc.jobs {
					t.Errorf("jobs: total %d, listed %d, want %d", r.total(), len(r.list()), tc.jobs)
				}
				if tc.sees != nil && !slices.Equal(r.ids(), tc.sees) {
					t.Errorf("jobs listed %v, want %v", r.ids(), tc.sees)
				}
				if tc.sees == nil {
					for _, id := range allJobs {
						if !slices.Contains(r.ids(), id) {
							t.Errorf("job %s missing from %v", id, r.ids())
						}
					}
				}
				if g := c.do("GET", groupsPath, nil).must(t, http.StatusOK); g.total() != tc.groups {
					t.Errorf("groups: total %d, want %d", g.total(), tc.groups)
				}
				wantB := http.StatusOK
				if tc.sees != nil {
					wantB = http.StatusNotFound
				}
				c.do("GET", jobsPath+"/"+jBID, nil).must(t, wantB)
				c.do("GET", groupsPath+"/"+gBID, nil).must(t, wantB)
				c.do("GET", jobsPath+"/"+jAID+"/results", nil).must(t, http.StatusOK)
			})
		}
	})

	t.Run("admin may set createdBy to anything", func(t *testing.T) {
		adm := e.as(t, &testAdmin)
		j := adm.do("POST", jobsPath, e.jobBodyFor("ADMIN-1", map[string]any{"createdBy": "team-z"})).must(t, http.StatusCreated).data()
		if j["createdBy"] != "team-z" {
			t.Errorf("createdBy %v, want team-z", j["createdBy"])
		}
		j = adm.do("PUT", jobsPath+"/"+jAID, e.jobBodyFor("SECRET-A1", map[string]any{"createdBy": "team-b"})).must(t, http.StatusOK).data()
		if j["createdBy"] != "team-b" {
			t.Errorf("createdBy %v, want team-b", j["createdBy"])
		}
		g := adm.do("POST", groupsPath, map[string]any{"name": "admin-group", "createdBy": "team-y"}).must(t, http.StatusCreated).data()
		if g["createdBy"] != "team-y" {
			t.Errorf("group createdBy %v, want team-y", g["createdBy"])
		}
		// The job moved to B's owner: now B sees it and A does not.
		e.as(t, &submitterB).do("GET", jobsPath+"/"+jAID, nil).must(t, http.StatusOK)
		e.as(t, &submitterA).do("GET", jobsPath+"/"+jAID, nil).must(t, http.StatusNotFound)
	})
}
