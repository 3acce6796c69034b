package jobs_test

import (
	"context"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

func as(role auth.Role, owner string) context.Context {
	return auth.WithPrincipal(context.Background(), auth.Principal{KeyID: "k-" + owner, Name: owner, Role: role, Owner: owner})
}

// One owner's jobs and groups do not exist for another: every read is scoped by the ent
// interceptor, every write goes through a scoped read, and createdBy comes from the key.
func TestOwnerScope(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, nil)
		a, b := as(auth.RoleSubmitter, "team-a"), as(auth.RoleSubmitter, "team-b")

		ja, err := s.CreateJob(a, validInput("A-1"))
		if err != nil {
			t.Fatal(err)
		}
		if ja.CreatedBy != "team-a" {
			t.Fatalf("createdBy %q, want the key's owner", ja.CreatedBy)
		}
		in := validInput("B-1")
		in.CreatedBy = "team-a"
		_, err = s.CreateJob(b, in)
		wantKind(t, err, apperr.KindForbidden, "")
		in.CreatedBy = "team-b"
		jb, err := s.CreateJob(b, in)
		if err != nil || jb.CreatedBy != "team-b" {
			t.Fatalf("own createdBy: %v %v", jb, err)
		}

		_, err = s.GetJob(b, ja.ID)
		wantKind(t, err, apperr.KindNotFound, "")
		_, err = s.JobResults(b, ja.ID)
		wantKind(t, err, apperr.KindNotFound, "")
		upd := validInput("A-1")
		upd.DocumentURL = "https://files.example.com/other.pdf"
		_, err = s.UpdateJob(b, ja.ID, upd)
		wantKind(t, err, apperr.KindNotFound, "")
		_, err = s.CancelJob(b, ja.ID)
		wantKind(t, err, apperr.KindNotFound, "")
		_, err = s.RetryJob(b, ja.ID)
		wantKind(t, err, apperr.KindNotFound, "")
		// A submitter cannot hand its own job to another owner either.
		mine := validInput("B-1")
		mine.CreatedBy = "team-a"
		_, err = s.UpdateJob(b, jb.ID, mine)
		wantKind(t, err, apperr.KindForbidden, "")

		list, total, err := s.ListJobs(b, jobs.ListJobsParams{Limit: 100})
		if err != nil || total != 1 || len(list) != 1 || list[0].ID != jb.ID {
			t.Fatalf("B lists %d (total %d): %v", len(list), total, err)
		}
		// Traversals are scoped too: the template's jobs seen by B are B's.
		tpl, err := s.GetTemplate(b, jobs.BuiltinTemplateName)
		if err != nil {
			t.Fatal(err)
		}
		viaEdge, err := tpl.QueryJobs().All(b)
		if err != nil || len(viaEdge) != 1 || viaEdge[0].ID != jb.ID {
			t.Fatalf("template.jobs for B: %v %v", viaEdge, err)
		}
		if n, err := c.OcrInvoiceJob.Query().Where(ocrinvoicejob.JobNumber("A-1")).Count(b); err != nil || n != 0 {
			t.Fatalf("B counts A's job: %d %v", n, err)
		}

		// Groups: B cannot see A's group nor put a job into it.
		ga, err := s.CreateGroup(a, jobs.GroupInput{Name: "a-batch"})
		if err != nil {
			t.Fatal(err)
		}
		if ga.CreatedBy != "team-a" {
			t.Fatalf("group createdBy %q", ga.CreatedBy)
		}
		_, err = s.GetGroup(b, ga.ID)
		wantKind(t, err, apperr.KindNotFound, "")
		_, err = s.GroupStatusFromJobs(b, ga.ID)
		wantKind(t, err, apperr.KindNotFound, "")
		_, _, err = s.CancelGroup(b, ga.ID)
		wantKind(t, err, apperr.KindNotFound, "")
		_, err = s.SuspendGroup(b, ga.ID)
		wantKind(t, err, apperr.KindNotFound, "")
		into := validInput("B-2")
		into.Group = ga.ID
		_, err = s.CreateJob(b, into)
		wantKind(t, err, apperr.KindInvalid, "group")
		_, err = s.CreateGroup(b, jobs.GroupInput{Name: "forged", CreatedBy: "team-a"})
		wantKind(t, err, apperr.KindForbidden, "")

		// A viewer of team-a sees team-a's; a viewer without owner, an admin and the
		// process itself see everything.
		for name, ctx := range map[string]context.Context{
			"viewer team-a": as(auth.RoleViewer, "team-a"),
		} {
			if _, total, err := s.ListJobs(ctx, jobs.ListJobsParams{Limit: 100}); err != nil || total != 1 {
				t.Errorf("%s: total %d %v", name, total, err)
			}
		}
		for name, ctx := range map[string]context.Context{
			"viewer": as(auth.RoleViewer, ""), "admin": as(auth.RoleAdmin, "ops"), "process": context.Background(),
		} {
			if _, total, err := s.ListJobs(ctx, jobs.ListJobsParams{Limit: 100}); err != nil || total != 2 {
				t.Errorf("%s: total %d %v", name, total, err)
			}
			if _, err := s.GetJob(ctx, ja.ID); err != nil {
				t.Errorf("%s: get A's job: %v", name, err)
			}
		}
		// An admin creates for anyone; without createdBy, for its own owner.
		admin := as(auth.RoleAdmin, "ops")
		onBehalf := validInput("ADM-1")
		onBehalf.CreatedBy = "team-b"
		if j, err := s.CreateJob(admin, onBehalf); err != nil || j.CreatedBy != "team-b" {
			t.Fatalf("admin on behalf of team-b: %v %v", j, err)
		}
		if j, err := s.CreateJob(admin, validInput("ADM-2")); err != nil || j.CreatedBy != "ops" {
			t.Fatalf("admin default createdBy: %v %v", j, err)
		}
	})
}
