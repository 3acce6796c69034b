package jobs_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrtemplate"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

func ptr[T any](v T) *T { return &v }

func TestEnsureBuiltinsIsIdempotentUnderConcurrency(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := jobs.NewService(c, nil, jobs.Options{Logger: quiet})
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = s.EnsureBuiltins(context.Background()) }()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		n := c.OcrTemplate.Query().Where(ocrtemplate.Name(jobs.BuiltinTemplateName)).CountX(context.Background())
		if n != 1 {
			t.Fatalf("%d generic templates, want 1", n)
		}
	})
}

func TestTemplates(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, nil)
		ctx := context.Background()
		t.Run("defaults", func(t *testing.T) {
			tpl, err := s.CreateTemplate(ctx, jobs.TemplateInput{Name: "acme"})
			if err != nil {
				t.Fatal(err)
			}
			if tpl.Languages != "eng" || tpl.Dpi != 300 || tpl.PageSegmentationMode != 3 || tpl.DefaultCurrency != "USD" || tpl.Builtin {
				t.Fatalf("defaults wrong: %+v", tpl)
			}
		})
		t.Run("full spec round-trips", func(t *testing.T) {
			spec := invoice.TemplateSpec{Issuer: "Beta", Keywords: []string{"Beta AG"}, Fields: map[string]invoice.FieldRule{
				"invoice_number": {Regex: []string{`Rechnung\\s+(\\d+)`}}}, Options: invoice.TemplateOptions{Currency: "EUR", DecimalSeparator: ",", Languages: []string{"deu"}}}
			tpl, err := s.CreateTemplate(ctx, jobs.TemplateInput{Name: "beta", Languages: "deu+eng", DPI: ptr(400), PageSegmentationMode: ptr(0), Spec: spec, DefaultCurrency: "EUR", PricePerPage: ptr(0.02)})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.GetTemplate(ctx, "beta")
			if err != nil || got.ID != tpl.ID || got.Spec.Fields["invoice_number"].Regex[0] != spec.Fields["invoice_number"].Regex[0] || got.PageSegmentationMode != 0 {
				t.Fatalf("GetTemplate by name = %+v, %v", got, err)
			}
			if byID, err := s.GetTemplate(ctx, tpl.ID); err != nil || byID.Name != "beta" {
				t.Fatalf("GetTemplate by id = %+v, %v", byID, err)
			}
		})
		bad := []struct {
			name  string
			in    jobs.TemplateInput
			field string
		}{
			{"no name", jobs.TemplateInput{}, "name"},
			{"long name", jobs.TemplateInput{Name: strings.Repeat("n", 129)}, "name"},
			{"languages", jobs.TemplateInput{Name: "x", Languages: "english; rm -rf"}, "languages"},
			{"dpi", jobs.TemplateInput{Name: "x", DPI: ptr(10)}, "dpi"},
			{"psm", jobs.TemplateInput{Name: "x", PageSegmentationMode: ptr(14)}, "pageSegmentationMode"},
			{"currency", jobs.TemplateInput{Name: "x", DefaultCurrency: "euro"}, "defaultCurrency"},
			{"price", jobs.TemplateInput{Name: "x", PricePerPage: ptr(-1.0)}, "pricePerPage"},
			{"decimal separator", jobs.TemplateInput{Name: "x", Spec: invoice.TemplateSpec{Options: invoice.TemplateOptions{DecimalSeparator: ";"}}}, "spec.options.decimalSeparator"},
		}
		for _, tt := range bad {
			t.Run("invalid "+tt.name, func(t *testing.T) {
				_, err := s.CreateTemplate(ctx, tt.in)
				wantKind(t, err, apperr.KindInvalid, tt.field)
			})
		}
		t.Run("duplicate name", func(t *testing.T) {
			_, err := s.CreateTemplate(ctx, jobs.TemplateInput{Name: "acme"})
			wantKind(t, err, apperr.KindConflict, "name")
		})
		t.Run("update is a replacement", func(t *testing.T) {
			got, err := s.UpdateTemplate(ctx, "acme", jobs.TemplateInput{Name: "acme2", Description: "d", DPI: ptr(200)})
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != "acme2" || got.Dpi != 200 || got.Description != "d" {
				t.Fatalf("updated = %+v", got)
			}
			_, err = s.UpdateTemplate(ctx, got.ID, jobs.TemplateInput{Name: "beta"})
			wantKind(t, err, apperr.KindConflict, "name")
		})
		t.Run("the built-in template keeps its name", func(t *testing.T) {
			_, err := s.UpdateTemplate(ctx, jobs.BuiltinTemplateName, jobs.TemplateInput{Name: "other"})
			wantKind(t, err, apperr.KindFailedPrecondition, "name")
			if _, err := s.UpdateTemplate(ctx, jobs.BuiltinTemplateName, jobs.TemplateInput{Name: jobs.BuiltinTemplateName, Languages: "eng+deu"}); err != nil {
				t.Fatalf("updating the built-in's settings: %v", err)
			}
		})
		t.Run("not found", func(t *testing.T) {
			_, err := s.GetTemplate(ctx, "missing")
			wantKind(t, err, apperr.KindNotFound, "")
			_, err = s.UpdateTemplate(ctx, "0123456789abcdef01234567", jobs.TemplateInput{Name: "z"})
			wantKind(t, err, apperr.KindNotFound, "")
		})
		t.Run("list", func(t *testing.T) {
			list, total, err := s.ListTemplates(ctx, jobs.ListTemplatesParams{Limit: 2})
			if err != nil || total != 3 || len(list) != 2 || list[0].Name != "acme2" {
				t.Fatalf("list = %d of %d, %v", len(list), total, err)
			}
		})
	})
}

func TestGroups(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, nil)
		ctx := context.Background()
		g, err := s.CreateGroup(ctx, jobs.GroupInput{Name: "March batch", Spec: invoice.GroupSpec{Parallelism: 2, Template: jobs.BuiltinTemplateName, Priority: "high", ActiveDeadlineSeconds: ptr(int64(3600))}})
		if err != nil {
			t.Fatal(err)
		}
		generic, _ := s.GetTemplate(ctx, jobs.BuiltinTemplateName)
		if g.Spec.Template != generic.ID || g.Status.Phase != invoice.GroupPhasePending || *g.Spec.ActiveDeadlineSeconds != 3600 {
			t.Fatalf("group = %+v", g)
		}
		// Jobs may join the group.
		in := validInput("G-1")
		in.Group = g.ID
		j, err := s.CreateJob(ctx, in)
		if err != nil || j.GroupID == nil || *j.GroupID != g.ID {
			t.Fatalf("job in group = %+v, %v", j, err)
		}
		bad := []struct {
			name  string
			in    jobs.GroupInput
			field string
		}{
			{"no name", jobs.GroupInput{}, "name"},
			{"parallelism", jobs.GroupInput{Name: "x", Spec: invoice.GroupSpec{Parallelism: -1}}, "spec.parallelism"},
			{"backoff", jobs.GroupInput{Name: "x", Spec: invoice.GroupSpec{BackoffLimit: -1}}, "spec.backoffLimit"},
			{"deadline", jobs.GroupInput{Name: "x", Spec: invoice.GroupSpec{ActiveDeadlineSeconds: ptr(int64(0))}}, "spec.activeDeadlineSeconds"},
			{"ttl", jobs.GroupInput{Name: "x", Spec: invoice.GroupSpec{TTLSecondsAfterFinished: ptr(int64(-5))}}, "spec.ttlSecondsAfterFinished"},
			{"priority", jobs.GroupInput{Name: "x", Spec: invoice.GroupSpec{Priority: "now"}}, "spec.priority"},
			{"template", jobs.GroupInput{Name: "x", Spec: invoice.GroupSpec{Template: "ghost"}}, "spec.template"},
		}
		for _, tt := range bad {
			t.Run("invalid "+tt.name, func(t *testing.T) {
				_, err := s.CreateGroup(ctx, tt.in)
				wantKind(t, err, apperr.KindInvalid, tt.field)
			})
		}
		up, err := s.UpdateGroup(ctx, g.ID, jobs.GroupInput{Name: "renamed", Spec: invoice.GroupSpec{Suspend: true}})
		if err != nil || up.Name != "renamed" || !up.Spec.Suspend || up.Spec.Parallelism != 0 || up.Status.Phase != invoice.GroupPhasePending {
			t.Fatalf("update = %+v, %v", up, err)
		}
		st := invoice.GroupStatus{Phase: invoice.GroupPhaseRunning, Total: 1, Active: 1}
		if got, err := s.SetGroupStatus(ctx, g.ID, st); err != nil || got.Status.Phase != invoice.GroupPhaseRunning {
			t.Fatalf("SetGroupStatus = %+v, %v", got, err)
		}
		_, err = s.GetGroup(ctx, "0123456789abcdef01234567")
		wantKind(t, err, apperr.KindNotFound, "")
		_, err = s.GetGroup(ctx, "xyz")
		wantKind(t, err, apperr.KindInvalid, "id")
		list, total, err := s.ListGroups(ctx, jobs.ListGroupsParams{})
		if err != nil || total != 1 || list[0].ID != g.ID {
			t.Fatalf("ListGroups = %v, %d, %v", list, total, err)
		}
		if typ, err := s.NodeType(ctx, g.ID); err != nil || typ != "ocr_job_groups" {
			t.Fatalf("NodeType(group) = %q, %v", typ, err)
		}
		if typ, err := s.NodeType(ctx, j.ID); err != nil || typ != "ocr_invoice_jobs" {
			t.Fatalf("NodeType(job) = %q, %v", typ, err)
		}
		_, err = s.NodeType(ctx, "0123456789abcdef01234567")
		wantKind(t, err, apperr.KindNotFound, "")
	})
}

// TestTemplateVisibility: a template created for an owner is that owner's alone (lists,
// gets, jobs and groups of other owners do not find it; NOT_FOUND like a template that
// does not exist), a shared or built-in one is everyone's, an admin cannot give one
// owner's template to another owner's job, and a template's price applies only to the
// jobs of owners that may use it. Templates stored before owners (created_by NULL) are
// shared at start.
func TestTemplateVisibility(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, nil)
		bg := context.Background()
		a := auth.WithPrincipal(bg, auth.Principal{KeyID: "ka", Role: auth.RoleSubmitter, Owner: "team-a"})
		b := auth.WithPrincipal(bg, auth.Principal{KeyID: "kb", Role: auth.RoleSubmitter, Owner: "team-b"})
		tplA, err := s.CreateTemplate(bg, jobs.TemplateInput{Name: "acme-for-a", CreatedBy: ptr("team-a"), PricePerPage: ptr(0.5)})
		if err != nil {
			t.Fatal(err)
		}
		shared, err := s.CreateTemplate(bg, jobs.TemplateInput{Name: "shared", Shared: ptr(true), PricePerPage: ptr(0.25)})
		if err != nil {
			t.Fatal(err)
		}
		names := func(ctx context.Context) []string {
			list, _, err := s.ListTemplates(ctx, jobs.ListTemplatesParams{})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, tpl := range list {
				out = append(out, tpl.Name)
			}
			return out
		}
		if got := strings.Join(names(a), ","); got != "acme-for-a,generic,shared" {
			t.Errorf("A lists %s", got)
		}
		if got := strings.Join(names(b), ","); got != "generic,shared" {
			t.Errorf("B lists %s", got)
		}
		for _, ref := range []string{tplA.ID, tplA.Name} {
			if _, err := s.GetTemplate(b, ref); apperr.KindOf(err) != apperr.KindNotFound {
				t.Errorf("B gets A's template %s: %v, want NotFound", ref, err)
			}
		}
		in := validInput("VIS-B")
		in.Template = tplA.ID
		_, errA := s.CreateJob(b, in)
		in.Template = "no-such-template"
		_, errNone := s.CreateJob(b, in)
		if errA == nil || errNone == nil || strings.ReplaceAll(errA.Error(), tplA.ID, "X") != strings.ReplaceAll(errNone.Error(), "no-such-template", "X") {
			t.Errorf("B's job on A's template: %v; on no template: %v (want the same answer)", errA, errNone)
		}
		if _, err := s.CreateGroup(b, jobs.GroupInput{Name: "g", Spec: invoice.GroupSpec{Template: tplA.Name}}); apperr.KindOf(err) != apperr.KindInvalid {
			t.Errorf("B's group on A's template: %v", err)
		}
		// An admin may see every template but not put A's on B's job.
		in = validInput("VIS-ADMIN")
		in.Template, in.CreatedBy = tplA.Name, "team-b"
		if _, err := s.CreateJob(bg, in); err == nil || !strings.Contains(err.Error(), "neither shared nor created for owner") {
			t.Errorf("admin puts A's template on B's job: %v", err)
		}

		// Price: A's template prices A's jobs; once it is given to another owner, A's job
		// left on it pays the service's price.
		cost := func(number, template string) float64 {
			in := validInput(number)
			in.Template = template
			j, err := s.CreateJob(a, in)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.StartProcessing(bg, j.ID); err != nil {
				t.Fatal(err)
			}
			j, err = s.Complete(bg, j.ID, jobs.CompleteInput{Pages: 2})
			if err != nil {
				t.Fatal(err)
			}
			return j.Cost
		}
		if got := cost("PRICE-1", tplA.Name); got != s.Cost(2, 0.5, "medium") {
			t.Errorf("A's job on A's template costs %v, want the template's price", got)
		}
		if got := cost("PRICE-2", shared.Name); got != s.Cost(2, 0.25, "medium") {
			t.Errorf("A's job on a shared template costs %v, want the template's price", got)
		}
		in = validInput("PRICE-3")
		in.Template = tplA.Name
		j, err := s.CreateJob(a, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateTemplate(bg, tplA.ID, jobs.TemplateInput{Name: tplA.Name, PricePerPage: ptr(0.5), CreatedBy: ptr("team-c")}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.StartProcessing(bg, j.ID); err != nil {
			t.Fatal(err)
		}
		if j, err = s.Complete(bg, j.ID, jobs.CompleteInput{Pages: 2}); err != nil || j.Cost != s.Cost(2, 0, "medium") || j.Cost == s.Cost(2, 0.5, "medium") {
			t.Errorf("A's job on a template now team-c's costs %v (%v), want the service's price %v", j.Cost, err, s.Cost(2, 0, "medium"))
		}

		// A template stored before owners (no created_by) is shared at start.
		legacy := c.OcrTemplate.Create().SetName("legacy").SaveX(bg)
		if legacy.Shared {
			t.Fatal("fixture")
		}
		if err := s.EnsureBuiltins(bg); err != nil {
			t.Fatal(err)
		}
		if got, err := s.GetTemplate(b, "legacy"); err != nil || !got.Shared {
			t.Errorf("legacy template after start: %+v, %v; want shared", got, err)
		}
	})
}
