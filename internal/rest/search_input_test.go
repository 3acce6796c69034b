package rest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// TestListSearchBadInput: search terms of one character, only wildcards or only
// punctuation answer 200 with exactly the matching jobs (none when none match); a term
// of 10,000 characters is a 400 INVALID naming search; and the totals of unfiltered and
// status-filtered lists (read from the job counters) are exact, on every database.
func TestListSearchBadInput(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil)
		for n, name := range map[string]string{"A-1": "scan A-1.pdf", "B-2": "scan B-2.pdf", "C-3": "scan C-3.pdf", "D-4": "scan 100%_off.pdf"} {
			e.createJob(n, map[string]any{"documentName": name})
		}
		for _, tc := range []struct {
			search string
			want   []string
		}{
			{"a", []string{"A-1", "B-2", "C-3", "D-4"}}, // "scan"
			{"1", []string{"A-1", "D-4"}},
			{"%", []string{"D-4"}},
			{"%%", nil},
			{"_", []string{"D-4"}},
			{"%_", []string{"D-4"}},
			{"*", nil},
			{"...", nil},
			{"-", []string{"A-1", "B-2", "C-3", "D-4"}},
			{".", []string{"A-1", "B-2", "C-3", "D-4"}},
			{"!?#", nil},
		} {
			r := e.do("GET", "/api/v1/ocr-invoice-jobs?limit=1&search="+url.QueryEscape(tc.search), nil).must(t, http.StatusOK)
			all := e.do("GET", "/api/v1/ocr-invoice-jobs?search="+url.QueryEscape(tc.search), nil).must(t, http.StatusOK)
			var got []string
			for _, j := range all.list() {
				got = append(got, j["jobNumber"].(string))
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) || r.total() != len(tc.want) {
				t.Errorf("search %q: %q (total %d), want %q", tc.search, got, r.total(), tc.want)
			}
		}
		r := e.do("GET", "/api/v1/ocr-invoice-jobs?search="+strings.Repeat("x", 10000), nil).must(t, http.StatusBadRequest)
		if r.errCode() != "INVALID" || !slices.Contains(r.errFields(), "search") || !strings.Contains(r.errMessage(), "10000 bytes long, the limit is 256") {
			t.Errorf("10,000 characters: %s %q %v, want INVALID on search naming the limit", r.errCode(), r.errMessage(), r.errFields())
		}
		// Counted totals, with a page shorter than the list so that they are counted.
		for filter, want := range map[string]int{"": 4, `{"status":"created"}`: 4, `{"status":"failed"}`: 0} {
			if r := e.do("GET", "/api/v1/ocr-invoice-jobs?limit=1&filter="+url.QueryEscape(filter), nil).must(t, http.StatusOK); r.total() != want {
				t.Errorf("filter %s: total %d, want %d", filter, r.total(), want)
			}
		}
	})
}
