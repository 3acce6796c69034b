package rest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// TestUnicodeIdentifiers through the API: job numbers are limited in characters (CJK and
// emoji up to the limit are stored, one more is a 400 whose details name jobNumber, or
// documents[i].jobNumber in a group); control and bidirectional override characters are
// a 400 naming the field; a decomposed spelling of a job number is a 409; and search
// ignores the case of non-ASCII letters.
func TestUnicodeIdentifiers(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil)
		const jobsPath, groupsPath = "/api/v1/ocr-invoice-jobs", "/api/v1/ocr-job-groups"
		body := func(num string) map[string]any {
			return e.jobBodyFor("U", map[string]any{"jobNumber": num})
		}
		for _, ch := range []string{"請", "🧾"} {
			e.do("POST", jobsPath, body(strings.Repeat(ch, jobs.MaxJobNumberLen))).must(t, http.StatusCreated)
		}
		docs := documents(2, "u")
		docs[1]["jobNumber"] = strings.Repeat("🧾", jobs.MaxJobNumberLen) + "x"
		for _, tc := range []struct {
			name, method, path string
			body               any
			status             int
			field              string
		}{
			{"CJK over the limit", "POST", jobsPath, body(strings.Repeat("請", jobs.MaxJobNumberLen+1)), 400, "jobNumber"},
			{"emoji over the limit", "POST", jobsPath, body(strings.Repeat("🧾", jobs.MaxJobNumberLen+1)), 400, "jobNumber"},
			{"group document over the limit", "POST", groupsPath, map[string]any{"name": "g", "documents": docs}, 400, "documents[1].jobNumber"},
			{"tab", "POST", jobsPath, body("INV\t1"), 400, "jobNumber"},
			{"right-to-left override", "POST", jobsPath, body("INV-\u202efdp.exe"), 400, "jobNumber"},
			{"override in a document name", "POST", jobsPath, e.jobBodyFor("U-2", map[string]any{"documentName": "invoice\u202efdp.pdf"}), 400, "documentName"},
			{"decomposed duplicate", "POST", jobsPath, body(strings.Repeat("e\u0301", 3)), 409, "jobNumber"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.name == "decomposed duplicate" {
					e.do("POST", jobsPath, body(strings.Repeat("\u00e9", 3))).must(t, http.StatusCreated)
				}
				r := e.do(tc.method, tc.path, tc.body).must(t, tc.status)
				if got := r.errFields(); !slices.Contains(got, tc.field) {
					t.Errorf("details name %v, want %q (message %q)", got, tc.field, r.errMessage())
				}
			})
		}
		e.createJob("M-1", map[string]any{"documentName": "MÜLLER GmbH.pdf"})
		l := e.do("GET", jobsPath+"?"+url.Values{"search": {"müller"}}.Encode(), nil).must(t, http.StatusOK)
		if nums := numbersOf(l.list(), "jobNumber"); !slices.Equal(nums, []any{"M-1"}) {
			t.Errorf("search müller found %v, want [M-1]", nums)
		}
	})
}
