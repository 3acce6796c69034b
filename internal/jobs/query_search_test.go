package jobs

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrjobgroup"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrtemplate"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// TestSearchHostileTerms: search terms that look like SQL, or hold LIKE wildcards and
// backslashes, match only the rows that contain them literally, on every database, and
// change nothing; terms that are not valid UTF-8 or hold NUL match nothing (and
// CheckSearch refuses them by name).
func TestSearchHostileTerms(t *testing.T) {
	names := []string{"plain.pdf", "100%_off.pdf", `back\slash.pdf`, "o'brien.pdf", "under_score.pdf", "percent%.pdf"}
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		tpl := c.OcrTemplate.Create().SetName("search-tpl").SaveX(ctx)
		for i, n := range names {
			c.OcrInvoiceJob.Create().SetJobNumber("S-" + string(rune('a'+i))).SetDocumentName(n).
				SetDocumentURL("https://example.com/" + n).SetTemplateID(tpl.ID).SaveX(ctx)
			c.OcrJobGroup.Create().SetName(n).SaveX(ctx)
			c.OcrTemplate.Create().SetName("t-" + n).SaveX(ctx)
		}
		jobsMatching := func(term string) []string {
			var out []string
			for _, j := range c.OcrInvoiceJob.Query().Where(SearchJobs(term)).Order(ocrinvoicejob.ByDocumentName()).AllX(ctx) {
				out = append(out, j.DocumentName)
			}
			return out
		}
		groupsMatching := func(term string) []string {
			var out []string
			for _, g := range c.OcrJobGroup.Query().Where(SearchGroups(term)).Order(ocrjobgroup.ByName()).AllX(ctx) {
				out = append(out, g.Name)
			}
			return out
		}
		templatesMatching := func(term string) []string {
			var out []string
			for _, g := range c.OcrTemplate.Query().Where(SearchTemplates(term), ocrtemplate.NameHasPrefix("t-")).Order(ocrtemplate.ByName()).AllX(ctx) {
				out = append(out, strings.TrimPrefix(g.Name, "t-"))
			}
			return out
		}
		for _, tc := range []struct {
			term string
			want []string
		}{
			{"'; DROP TABLE ocr_invoice_jobs; --", nil},
			{"%' OR '1'='1", nil},
			{"' OR 1=1 --", nil},
			{"%", []string{"100%_off.pdf", "percent%.pdf"}},
			{"_", []string{"100%_off.pdf", "under_score.pdf"}},
			{"%_", []string{"100%_off.pdf"}},
			{`\`, []string{`back\slash.pdf`}},
			{`\s`, []string{`back\slash.pdf`}},
			{`\%`, nil},
			{"o'b", []string{"o'brien.pdf"}},
			{"PLAIN", []string{"plain.pdf"}},
		} {
			if err := CheckSearch(tc.term); err != nil {
				t.Errorf("CheckSearch(%q) = %v, want nil", tc.term, err)
			}
			want := slices.Clone(tc.want)
			slices.Sort(want)
			for what, got := range map[string][]string{"jobs": jobsMatching(tc.term), "groups": groupsMatching(tc.term), "templates": templatesMatching(tc.term)} {
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s matching %q = %q, want %q", what, tc.term, got, want)
				}
			}
		}
		for _, term := range []string{"a\x00", "\xff\xfe", "plain\xc3"} {
			if got := groupsMatching(term); len(got) != 0 {
				t.Errorf("groups matching %q = %q, want none", term, got)
			}
			if got := templatesMatching(term); len(got) != 0 {
				t.Errorf("templates matching %q = %q, want none", term, got)
			}
		}
		if n := c.OcrInvoiceJob.Query().CountX(ctx); n != len(names) {
			t.Errorf("%d jobs after the searches, want %d", n, len(names))
		}
	})
}

func TestCheckSearchRefuses(t *testing.T) {
	for name, term := range map[string]string{
		"invalid UTF-8": "abc\xff",
		"NUL":           "a\x00b",
		"control":       "a\x1bb",
		"too long":      strings.Repeat("x", MaxSearchLen+1),
	} {
		err := CheckSearch(term)
		e := apperr.As(err)
		if e == nil || e.Kind != apperr.KindInvalid || len(e.Details) != 1 || e.Details[0].Field != "search" {
			t.Errorf("%s: CheckSearch = %v, want INVALID on search", name, err)
		}
	}
}
