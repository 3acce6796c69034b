package rest

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

func jobIDs(items []map[string]any) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it["_id"].(string))
	}
	return out
}

// nextCursor returns the page's nextCursor and whether the field is present ("" for null).
func (r resp) nextCursor(t *testing.T) string {
	t.Helper()
	v, ok := r.body["nextCursor"]
	if !ok {
		t.Fatalf("no nextCursor in %s", r.raw)
	}
	s, _ := v.(string)
	return s
}

// walk reads the list of query q page by page with after, and returns the ids in the
// order read.
func walk(t *testing.T, e *env, q url.Values, want int) []string {
	t.Helper()
	var got []string
	after := ""
	for page := 0; ; page++ {
		if page > want+1 {
			t.Fatalf("walk of %s did not end after %d pages", q.Encode(), page)
		}
		pq := url.Values{}
		for k, v := range q {
			pq[k] = v
		}
		if after != "" {
			pq.Set("after", after)
		}
		r := e.do("GET", "/api/v1/ocr-invoice-jobs?"+pq.Encode(), nil).must(t, http.StatusOK)
		if r.total() != want {
			t.Fatalf("%s page %d: total %d, want %d (the cursor must not narrow the total)", pq.Encode(), page, r.total(), want)
		}
		got = append(got, jobIDs(r.list())...)
		after = r.nextCursor(t)
		if after == "" {
			return got
		}
	}
}

func TestListJobsKeyset(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil)
		all := seedListJobs(t, e)

		for _, field := range jobs.JobSortFields() {
			for _, order := range []string{"asc", "desc"} {
				t.Run(field+" "+order, func(t *testing.T) {
					q := url.Values{"sort": {field}, "order": {order}}
					ref := e.do("GET", "/api/v1/ocr-invoice-jobs?limit=100&"+q.Encode(), nil).must(t, http.StatusOK)
					want := jobIDs(ref.list())
					if len(want) != len(all) {
						t.Fatalf("reference lists %d of %d", len(want), len(all))
					}
					for _, limit := range []string{"1", "3", "5"} {
						q.Set("limit", limit)
						if got := walk(t, e, q, len(all)); !slices.Equal(got, want) {
							t.Errorf("limit %s: walk %v\nwant        %v", limit, got, want)
						}
					}
				})
			}
		}
		t.Run("-field, default sort and a filter", func(t *testing.T) {
			ref := jobIDs(e.do("GET", "/api/v1/ocr-invoice-jobs?limit=100&sort=-priority", nil).must(t, http.StatusOK).list())
			if got := walk(t, e, url.Values{"sort": {"-priority"}, "limit": {"2"}}, len(all)); !slices.Equal(got, ref) {
				t.Errorf("walk %v, want %v", got, ref)
			}
			ref = jobIDs(e.do("GET", "/api/v1/ocr-invoice-jobs?limit=100", nil).must(t, http.StatusOK).list())
			if got := walk(t, e, url.Values{"limit": {"4"}}, len(all)); !slices.Equal(got, ref) {
				t.Errorf("walk %v, want %v", got, ref)
			}
			f := url.Values{"filter": {`{"status":{"$in":["created","cancelled"]}}`}, "sort": {"status"}, "order": {"asc"}}
			fr := e.do("GET", "/api/v1/ocr-invoice-jobs?limit=100&"+f.Encode(), nil).must(t, http.StatusOK)
			f.Set("limit", "2")
			if got := walk(t, e, f, fr.total()); !slices.Equal(got, jobIDs(fr.list())) || len(got) == 0 {
				t.Errorf("filtered walk %v, want %v", got, jobIDs(fr.list()))
			}
		})
		t.Run("last page has nextCursor null; offset pages too", func(t *testing.T) {
			r := e.do("GET", "/api/v1/ocr-invoice-jobs?limit=100", nil).must(t, http.StatusOK)
			if !strings.Contains(string(r.raw), `"nextCursor":null`) {
				t.Errorf("last page: %s", r.raw)
			}
			r = e.do("GET", "/api/v1/ocr-invoice-jobs?limit=5&offset=5", nil).must(t, http.StatusOK)
			if r.nextCursor(t) == "" {
				t.Errorf("a full offset page has no nextCursor")
			}
		})

		first := e.do("GET", "/api/v1/ocr-invoice-jobs?limit=3&sort=createdAt&order=asc", nil).must(t, http.StatusOK)
		cur := first.nextCursor(t)
		bad := func(t *testing.T, path, wantMsg string) {
			t.Helper()
			r := e.do("GET", path, nil).must(t, http.StatusBadRequest)
			if !slices.Contains(r.errFields(), "after") || !strings.Contains(r.errMessage(), wantMsg) {
				t.Errorf("%s: fields %v message %q, want after and %q", path, r.errFields(), r.errMessage(), wantMsg)
			}
		}
		t.Run("tampered cursors are 400", func(t *testing.T) {
			flip := []byte(cur)
			i := len(flip) - 3
			if flip[i] == 'A' {
				flip[i] = 'B'
			} else {
				flip[i] = 'A'
			}
			for _, c := range []string{string(flip), cur[1:], cur + "AA", "not-a-cursor", "%00", "eyJpIjoiMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwIn0", strings.Repeat("A", 600)} {
				bad(t, "/api/v1/ocr-invoice-jobs?sort=createdAt&order=asc&after="+url.QueryEscape(c), "after")
			}
		})
		t.Run("a cursor of another sort order is 400", func(t *testing.T) {
			bad(t, "/api/v1/ocr-invoice-jobs?sort=createdAt&order=desc&after="+cur, "keep the sort of the first page")
			bad(t, "/api/v1/ocr-invoice-jobs?sort=priority&order=asc&after="+cur, "keep the sort of the first page")
			bad(t, "/api/v1/ocr-invoice-jobs?after="+cur, "keep the sort of the first page")
			e.do("GET", "/api/v1/ocr-invoice-jobs?sort=createdAt&order=asc&after="+cur, nil).must(t, http.StatusOK)
		})
		t.Run("a cursor of another owner is 400", func(t *testing.T) {
			// An unscoped viewer lists the rows the admin does: the cursor is good for it.
			e.as(t, &viewerAll).do("GET", "/api/v1/ocr-invoice-jobs?sort=createdAt&order=asc&after="+cur, nil).must(t, http.StatusOK)
			for _, p := range []*struct{ e *env }{{e.as(t, &submitterA)}, {e.as(t, &viewerA)}} {
				r := p.e.do("GET", "/api/v1/ocr-invoice-jobs?sort=createdAt&order=asc&after="+cur, nil).must(t, http.StatusBadRequest)
				if !slices.Contains(r.errFields(), "after") || !strings.Contains(r.errMessage(), "another caller") {
					t.Errorf("fields %v message %q", r.errFields(), r.errMessage())
				}
			}
			ea, eb := e.as(t, &submitterA), e.as(t, &submitterB)
			ea.createJob("KS-A1", nil)
			ea.createJob("KS-A2", nil)
			ra := ea.do("GET", "/api/v1/ocr-invoice-jobs?limit=1", nil).must(t, http.StatusOK)
			ca := ra.nextCursor(t)
			if ra.total() != 2 || ca == "" {
				t.Fatalf("owner A: total %d cursor %q", ra.total(), ca)
			}
			rb := eb.do("GET", "/api/v1/ocr-invoice-jobs?limit=1&after="+ca, nil).must(t, http.StatusBadRequest)
			if !strings.Contains(rb.errMessage(), "another caller") {
				t.Errorf("owner B with A's cursor: %s", rb.raw)
			}
			r2 := ea.do("GET", "/api/v1/ocr-invoice-jobs?limit=1&after="+ca, nil).must(t, http.StatusOK)
			if got := numbers(r2.list()); len(got) != 1 || !strings.HasPrefix(got[0], "KS-A") || r2.nextCursor(t) != "" {
				t.Errorf("owner A page 2: %v next %q", got, r2.nextCursor(t))
			}
		})
		t.Run("a cursor of a deleted job continues the walk", func(t *testing.T) {
			// The cursor carries the sort values of its job: the next page is read from
			// them, not from the job, which may be gone.
			q := "/api/v1/ocr-invoice-jobs?limit=1&sort=jobNumber&order=desc"
			ref := numbers(e.do("GET", "/api/v1/ocr-invoice-jobs?limit=3&sort=jobNumber&order=desc", nil).must(t, http.StatusOK).list())
			first := e.do("GET", q, nil).must(t, http.StatusOK)
			if numbers(first.list())[0] != ref[0] || first.nextCursor(t) == "" {
				t.Fatalf("first page %v, want %v", numbers(first.list()), ref[:1])
			}
			if err := e.c.OcrInvoiceJob.DeleteOneID(first.list()[0]["_id"].(string)).Exec(context.Background()); err != nil {
				t.Fatal(err)
			}
			next := e.do("GET", q+"&after="+first.nextCursor(t), nil).must(t, http.StatusOK)
			if got := numbers(next.list()); len(got) != 1 || got[0] != ref[1] {
				t.Errorf("page after the deleted job %v, want %v", got, ref[1:2])
			}
		})
		t.Run("after with offset is 400", func(t *testing.T) {
			for _, off := range []string{"0", "3"} {
				r := e.do("GET", "/api/v1/ocr-invoice-jobs?sort=createdAt&order=asc&offset="+off+"&after="+cur, nil).must(t, http.StatusBadRequest)
				if !slices.Contains(r.errFields(), "after") || !strings.Contains(r.errMessage(), "offset") {
					t.Errorf("offset %s: %s", off, r.raw)
				}
			}
		})
		t.Run("offset past 10000 answers with a hint", func(t *testing.T) {
			r := e.do("GET", "/api/v1/ocr-invoice-jobs?offset=10001", nil).must(t, http.StatusOK)
			if w := r.header.Get("Warning"); !strings.Contains(w, "after") || len(r.list()) != 0 {
				t.Errorf("Warning %q, %d rows", w, len(r.list()))
			}
			if r.total() < len(all) {
				t.Errorf("total %d", r.total())
			}
			r = e.do("GET", "/api/v1/ocr-invoice-jobs?offset=10000", nil).must(t, http.StatusOK)
			if w := r.header.Get("Warning"); w != "" {
				t.Errorf("offset 10000: Warning %q", w)
			}
		})
	})
}
