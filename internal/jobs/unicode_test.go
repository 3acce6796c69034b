package jobs_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/migrate"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// TestTextLimitsAreInCharacters: jobNumber, documentName and createdBy are limited in
// characters, and the database takes whatever the API takes: a job number of
// MaxJobNumberLen CJK characters (3 bytes each) or emoji (4 bytes each) is stored on
// every database, one more character is a 400 naming the field.
func TestTextLimitsAreInCharacters(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, nil)
		ctx := context.Background()
		for _, tc := range []struct {
			name  string
			field string
			char  string
			max   int
			edit  func(in *jobs.JobInput, v string)
		}{
			{"CJK jobNumber", "jobNumber", "請", jobs.MaxJobNumberLen, func(in *jobs.JobInput, v string) { in.JobNumber = v }},
			{"emoji jobNumber", "jobNumber", "🧾", jobs.MaxJobNumberLen, func(in *jobs.JobInput, v string) { in.JobNumber = v }},
			{"CJK documentName", "documentName", "書", jobs.MaxDocumentNameLen, func(in *jobs.JobInput, v string) { in.DocumentName = v[:len(v)-len("書")*4] + ".pdf" }},
			{"emoji createdBy", "createdBy", "👤", jobs.MaxCreatedByLen, func(in *jobs.JobInput, v string) { in.CreatedBy = v }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				in := validInput("L-" + strings.ReplaceAll(tc.name, " ", "-"))
				tc.edit(&in, strings.Repeat(tc.char, tc.max))
				j, err := s.CreateJob(ctx, in)
				if err != nil {
					t.Fatalf("%d characters: %v", tc.max, err)
				}
				got := map[string]string{"jobNumber": j.JobNumber, "documentName": j.DocumentName, "createdBy": j.CreatedBy}[tc.field]
				if n := len([]rune(got)); n != tc.max {
					t.Errorf("stored %s has %d characters, want %d", tc.field, n, tc.max)
				}
				in = validInput("L2-" + strings.ReplaceAll(tc.name, " ", "-"))
				tc.edit(&in, strings.Repeat(tc.char, tc.max+1))
				_, err = s.CreateJob(ctx, in)
				wantKind(t, err, apperr.KindInvalid, tc.field)
			})
		}
	})
}

// TestSchemaSizesMatchAPILimits: the columns are sized to the API's limits (varchar(n)
// on PostgreSQL counts characters), so no stored value the API accepts is refused.
func TestSchemaSizesMatchAPILimits(t *testing.T) {
	want := map[string]map[string]int64{
		migrate.OcrInvoiceJobsTable.Name: {"job_number": jobs.MaxJobNumberLen, "document_name": jobs.MaxDocumentNameLen, "created_by": jobs.MaxCreatedByLen},
		migrate.OcrJobGroupsTable.Name:   {"name": jobs.MaxGroupNameLen, "description": jobs.MaxDescriptionLen, "created_by": jobs.MaxCreatedByLen},
		migrate.OcrTemplatesTable.Name:   {"name": jobs.MaxNameLen, "description": jobs.MaxDescriptionLen, "created_by": jobs.MaxCreatedByLen},
	}
	for _, tbl := range migrate.Tables {
		for _, col := range tbl.Columns {
			if n, ok := want[tbl.Name][col.Name]; ok {
				if col.Size != n {
					t.Errorf("%s.%s has size %d, the API limit is %d characters", tbl.Name, col.Name, col.Size, n)
				}
				delete(want[tbl.Name], col.Name)
			}
		}
	}
	for tbl, cols := range want {
		for col := range cols {
			t.Errorf("column %s.%s not found", tbl, col)
		}
	}
}

// TestNamesAreNormalised: a job number, template name or group name is stored in
// Unicode normalisation form C, so its decomposed spelling (NFD) is the same name: a
// duplicate job number is a Conflict, a template is found by it, and a filter or a
// search in either spelling finds the job.
func TestNamesAreNormalised(t *testing.T) {
	const nfc = "FACTURE-\u00e9t\u00e9-1" // "été" composed
	nfd := norm.NFD.String(nfc)
	if nfd == nfc {
		t.Fatal("test strings are equal")
	}
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, nil)
		ctx := context.Background()
		j, err := s.CreateJob(ctx, validInput(nfc))
		if err != nil {
			t.Fatalf("CreateJob NFC: %v", err)
		}
		_, err = s.CreateJob(ctx, validInput(nfd))
		wantKind(t, err, apperr.KindConflict, "jobNumber")

		in := validInput(nfd)
		in.JobNumber = "other"
		in.DocumentName = nfd + ".pdf"
		d, err := s.CreateJob(ctx, in)
		if err != nil {
			t.Fatalf("CreateJob NFD documentName: %v", err)
		}
		if d.DocumentName != nfc+".pdf" {
			t.Errorf("documentName stored as %+q, want the NFC %+q", d.DocumentName, nfc+".pdf")
		}

		g, err := s.CreateGroup(ctx, jobs.GroupInput{Name: nfd, Documents: []jobs.GroupDocument{
			{DocumentURL: "https://files.example.com/g.pdf", DocumentName: "g.pdf", JobNumber: nfd},
		}})
		wantKind(t, err, apperr.KindConflict, "documents[0].jobNumber")
		if g != nil {
			t.Errorf("group created: %+v", g)
		}

		tpl, err := s.CreateTemplate(ctx, jobs.TemplateInput{Name: "mod\u00e8le"})
		if err != nil {
			t.Fatalf("CreateTemplate: %v", err)
		}
		in = validInput("T-1")
		in.Template = norm.NFD.String("mod\u00e8le")
		tj, err := s.CreateJob(ctx, in)
		if err != nil {
			t.Fatalf("CreateJob with the template named in NFD: %v", err)
		}
		if tj.TemplateID != tpl.ID {
			t.Errorf("template %s, want %s", tj.TemplateID, tpl.ID)
		}
		_, err = s.CreateTemplate(ctx, jobs.TemplateInput{Name: norm.NFD.String("mod\u00e8le")})
		wantKind(t, err, apperr.KindConflict, "")

		filter, err := json.Marshal(map[string]string{"jobNumber": nfd})
		if err != nil {
			t.Fatal(err)
		}
		where, err := jobs.ParseJobFilter(string(filter))
		if err != nil {
			t.Fatalf("ParseJobFilter: %v", err)
		}
		if got := c.OcrInvoiceJob.Query().Where(where...).IDsX(ctx); len(got) != 1 || got[0] != j.ID {
			t.Errorf("filter %s found %v, want [%s]", filter, got, j.ID)
		}
		for _, term := range []string{nfc, nfd} {
			got := c.OcrInvoiceJob.Query().Where(jobs.SearchJobs(term)).IDsX(ctx)
			if len(got) != 2 || !containsID(got, j.ID) || !containsID(got, d.ID) {
				t.Errorf("search %+q found %v, want %s and %s", term, got, j.ID, d.ID)
			}
		}
	})
}

func containsID(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// TestNamesRefuseControlAndBidiCharacters: tab, newline and the bidirectional override
// and isolate characters are refused in names with a 400 naming the field (in a group,
// documents[i].jobNumber), and nothing is stored.
func TestNamesRefuseControlAndBidiCharacters(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, nil)
		ctx := context.Background()
		for _, bad := range []struct{ name, s string }{
			{"tab", "\t"}, {"newline", "\n"}, {"escape", "\x1b"}, {"C1 control", "\u0085"},
			{"RLO", "\u202e"}, {"LRE", "\u202a"}, {"RLI", "\u2067"}, {"PDI", "\u2069"}, {"RLM", "\u200f"}, {"ALM", "\u061c"},
		} {
			v := "INV" + bad.s + "fdp.exe"
			t.Run(bad.name, func(t *testing.T) {
				for _, tc := range []struct {
					field string
					edit  func(*jobs.JobInput)
				}{
					{"jobNumber", func(in *jobs.JobInput) { in.JobNumber = v }},
					{"documentName", func(in *jobs.JobInput) { in.DocumentName = v + ".pdf" }},
					{"createdBy", func(in *jobs.JobInput) { in.CreatedBy = v }},
				} {
					in := validInput("B-1")
					tc.edit(&in)
					_, err := s.CreateJob(ctx, in)
					wantKind(t, err, apperr.KindInvalid, tc.field)
				}
				_, err := s.CreateGroup(ctx, jobs.GroupInput{Name: "g", Documents: []jobs.GroupDocument{
					{DocumentURL: "https://files.example.com/a.pdf", DocumentName: "a.pdf", JobNumber: "G-1"},
					{DocumentURL: "https://files.example.com/b.pdf", DocumentName: "b.pdf", JobNumber: v},
				}})
				wantKind(t, err, apperr.KindInvalid, "documents[1].jobNumber")
				_, err = s.CreateGroup(ctx, jobs.GroupInput{Name: v})
				wantKind(t, err, apperr.KindInvalid, "name")
				_, err = s.CreateTemplate(ctx, jobs.TemplateInput{Name: v})
				wantKind(t, err, apperr.KindInvalid, "name")
			})
		}
		if n := c.OcrInvoiceJob.Query().CountX(ctx); n != 0 {
			t.Errorf("%d jobs stored, want none", n)
		}
		if n := c.OcrJobGroup.Query().CountX(ctx); n != 0 {
			t.Errorf("%d groups stored, want none", n)
		}
		// Right-to-left text itself is fine.
		if _, err := s.CreateJob(ctx, validInput("فاتورة-١")); err != nil {
			t.Errorf("Arabic job number: %v", err)
		}
	})
}

// TestSearchFoldsUnicodeCase: search ignores the case of every letter, not only ASCII
// ones, on SQLite as on PostgreSQL, for jobs, groups and templates.
func TestSearchFoldsUnicodeCase(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		s := newService(t, c, nil)
		ctx := context.Background()
		in := validInput("M-1")
		in.DocumentName = "MÜLLER GmbH.pdf"
		j, err := s.CreateJob(ctx, in)
		if err != nil {
			t.Fatalf("CreateJob: %v", err)
		}
		if _, err := s.CreateJob(ctx, validInput("other")); err != nil {
			t.Fatalf("CreateJob: %v", err)
		}
		g, err := s.CreateGroup(ctx, jobs.GroupInput{Name: "ÉTÉ 2026", Description: "ΣΟΦΊΑ"})
		if err != nil {
			t.Fatalf("CreateGroup: %v", err)
		}
		tpl, err := s.CreateTemplate(ctx, jobs.TemplateInput{Name: "ДОГОВОР"})
		if err != nil {
			t.Fatalf("CreateTemplate: %v", err)
		}
		for _, term := range []string{"müller", "MÜLLER", "Müller gmbh"} {
			got := c.OcrInvoiceJob.Query().Where(jobs.SearchJobs(term)).IDsX(ctx)
			if len(got) != 1 || got[0] != j.ID {
				t.Errorf("jobs search %q found %v, want [%s]", term, got, j.ID)
			}
		}
		for _, term := range []string{"été", "σοφία"} {
			got := c.OcrJobGroup.Query().Where(jobs.SearchGroups(term)).IDsX(ctx)
			if len(got) != 1 || got[0] != g.ID {
				t.Errorf("groups search %q found %v, want [%s]", term, got, g.ID)
			}
		}
		got := c.OcrTemplate.Query().Where(jobs.SearchTemplates("договор")).IDsX(ctx)
		if len(got) != 1 || got[0] != tpl.ID {
			t.Errorf("templates search found %v, want [%s]", got, tpl.ID)
		}
	})
}
