package graph_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/graph"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// TestJobsOrderByRank: orderBy PRIORITY and STATUS sort by rank (urgent above low;
// created before finished), not alphabetically, in both directions, and Relay paging with
// first/after and last/before walks the same order, also mixed with another field.
func TestJobsOrderByRank(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil, graph.Config{})
		ctx := context.Background()
		prios := []string{"medium", "urgent", "low", "high", "low", "urgent", "medium", "high", "high"}
		rank := map[string]int{"low": 0, "medium": 1, "high": 2, "urgent": 3, "created": 0, "processing": 2, "cancelled": 5}
		type job struct{ num, priority, status string }
		var all []job
		for i, p := range prios {
			n := fmt.Sprintf("RK-%d", i)
			j := e.createJob(n, map[string]any{"priority": p})
			st := "created"
			switch i % 3 {
			case 1:
				if _, err := e.svc.StartProcessing(ctx, j.ID); err != nil {
					t.Fatal(err)
				}
				st = "processing"
			case 2:
				if _, err := e.svc.CancelJob(ctx, j.ID); err != nil {
					t.Fatal(err)
				}
				st = "cancelled"
			}
			all = append(all, job{n, p, st})
		}
		type page struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage, HasPreviousPage bool
				StartCursor, EndCursor       *string
			}
			Edges []struct {
				Node struct{ JobNumber, Priority, Status string }
			}
		}
		query := func(t *testing.T, args string, vars map[string]any) page {
			t.Helper()
			var out struct{ OcrInvoiceJobs page }
			e.ok(`query($after: Cursor, $before: Cursor) { ocrInvoiceJobs(`+args+`) {
  totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { jobNumber priority status } } } }`, vars, &out)
			return out.OcrInvoiceJobs
		}
		nums := func(p page) []string {
			var out []string
			for _, ed := range p.Edges {
				out = append(out, ed.Node.JobNumber)
			}
			return out
		}
		for _, tc := range []struct {
			order string
			less  func(a, b job) int
		}{
			{`{field: PRIORITY, direction: DESC}`, func(a, b job) int { return rank[b.priority] - rank[a.priority] }},
			{`{field: PRIORITY, direction: ASC}`, func(a, b job) int { return rank[a.priority] - rank[b.priority] }},
			{`{field: STATUS, direction: ASC}`, func(a, b job) int { return rank[a.status] - rank[b.status] }},
			{`{field: STATUS, direction: DESC}, {field: PRIORITY, direction: DESC}`, func(a, b job) int {
				if d := rank[b.status] - rank[a.status]; d != 0 {
					return d
				}
				return rank[b.priority] - rank[a.priority]
			}},
			{`{field: STATUS, direction: ASC}, {field: CREATED_AT, direction: DESC}`, func(a, b job) int {
				if d := rank[a.status] - rank[b.status]; d != 0 {
					return d
				}
				return slices.IndexFunc(all, func(j job) bool { return j.num == b.num }) - slices.IndexFunc(all, func(j job) bool { return j.num == a.num })
			}},
			{`{field: PRIORITY, direction: DESC}, {field: JOB_NUMBER, direction: DESC}`, func(a, b job) int {
				if d := rank[b.priority] - rank[a.priority]; d != 0 {
					return d
				}
				return strings.Compare(b.num, a.num)
			}},
		} {
			t.Run(tc.order, func(t *testing.T) {
				sorted := slices.Clone(all)
				slices.SortStableFunc(sorted, tc.less) // ties: creation order, which is id order
				var want []string
				for _, j := range sorted {
					want = append(want, j.num)
				}
				whole := nums(query(t, "after: $after, before: $before, orderBy: ["+tc.order+"]", nil))
				if !rankedEqual(whole, want, all, tc.less) {
					t.Fatalf("order %v, want %v (ties in any id order)", whole, want)
				}
				// Forward in pages of 2.
				var fwd []string
				var after any
				for range 10 {
					p := query(t, "first: 2, after: $after, before: $before, orderBy: ["+tc.order+"]", map[string]any{"after": after})
					if p.TotalCount != len(all) {
						t.Fatalf("totalCount %d", p.TotalCount)
					}
					fwd = append(fwd, nums(p)...)
					if !p.PageInfo.HasNextPage {
						break
					}
					after = *p.PageInfo.EndCursor
				}
				if !slices.Equal(fwd, whole) {
					t.Errorf("first/after pages %v, whole %v", fwd, whole)
				}
				// Backward in pages of 2.
				var back []string
				var before any
				for range 10 {
					p := query(t, "last: 2, after: $after, before: $before, orderBy: ["+tc.order+"]", map[string]any{"before": before})
					back = append(nums(p), back...)
					if !p.PageInfo.HasPreviousPage {
						break
					}
					before = *p.PageInfo.StartCursor
				}
				if !slices.Equal(back, whole) {
					t.Errorf("last/before pages %v, whole %v", back, whole)
				}
			})
		}
		e.fails(`{ ocrInvoiceJobs(first: 1, after: "garbage", orderBy: [{field: PRIORITY}]) { totalCount } }`, nil, "BAD_USER_INPUT")
		e.fails(`{ ocrInvoiceJobs(first: -1, orderBy: [{field: PRIORITY}]) { totalCount } }`, nil, "BAD_USER_INPUT")
		e.fails(`{ ocrInvoiceJobs(first: 1, last: 1, orderBy: [{field: STATUS}]) { totalCount } }`, nil, "BAD_USER_INPUT")
	})
}

// rankedEqual reports whether got is want up to the order of ties (equal under less).
func rankedEqual[J any](got, want []string, all []J, less func(a, b J) int) bool {
	if len(got) != len(want) {
		return false
	}
	by := map[string]J{}
	for i, j := range all {
		by[fmt.Sprintf("RK-%d", i)] = j
	}
	for i := range got {
		if less(by[got[i]], by[want[i]]) != 0 {
			return false
		}
	}
	return true
}
