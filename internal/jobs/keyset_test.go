package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// A cursor is signed with the service's CursorKey: replicas configured with the same key
// continue each other's pages, a replica with another key answers 400 naming after. The
// next page is read from the sort values the cursor carries, not from its job's row.
func TestJobCursorKeyAndValues(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		opts := func(key string) jobs.Options {
			return jobs.Options{Logger: quiet, CursorKey: []byte(key)}
		}
		a := jobs.NewService(c, nil, opts("replica key"))
		if err := a.EnsureBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		b := jobs.NewService(c, nil, opts("replica key"))
		other := jobs.NewService(c, nil, opts("another key"))
		for i := range 6 {
			if _, err := a.CreateJob(ctx, validInput(fmt.Sprintf("KEY-%d", i))); err != nil {
				t.Fatal(err)
			}
		}
		order, err := jobs.JobOrder("jobNumber", "asc")
		if err != nil {
			t.Fatal(err)
		}
		first, err := a.ListJobPage(ctx, jobs.ListJobsParams{Limit: 3, Order: order})
		if err != nil || len(first.Jobs) != 3 || !first.More {
			t.Fatalf("first page: %d jobs, more %v, %v", len(first.Jobs), first.More, err)
		}
		cur, err := a.JobCursor(ctx, "jobNumber", "asc", first.Jobs[2])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.JobsAfter(ctx, cur, "jobNumber", "asc"); !isAfterError(err) {
			t.Errorf("a cursor signed with another key: %v, want 400 naming after", err)
		}
		// The cursor's job is renamed past the end of the list: the walk goes on from the
		// value the page ended at, not from where the job is now.
		if err := c.OcrInvoiceJob.UpdateOneID(first.Jobs[2].ID).SetJobNumber("KEY-9").Exec(ctx); err != nil {
			t.Fatal(err)
		}
		after, err := b.JobsAfter(ctx, cur, "jobNumber", "asc")
		if err != nil {
			t.Fatalf("the same key on another replica: %v", err)
		}
		next, err := b.ListJobPage(ctx, jobs.ListJobsParams{Limit: 3, Order: order, After: after})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, j := range next.Jobs {
			got = append(got, j.JobNumber)
		}
		if want := []string{"KEY-3", "KEY-4", "KEY-5"}; !slices.Equal(got, want) {
			t.Errorf("page after KEY-2 (renamed KEY-9 since): %v, want %v", got, want)
		}
		// A cursor with an altered sort value but the original signature is refused.
		if _, err := a.JobsAfter(ctx, strings.Replace(cur, cur[len(cur)-6:], "AAAAAA", 1), "jobNumber", "asc"); !isAfterError(err) {
			t.Errorf("altered cursor: %v", err)
		}
	})
}

func isAfterError(err error) bool {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Kind != apperr.KindInvalid {
		return false
	}
	for _, d := range ae.Details {
		if d.Field == "after" {
			return true
		}
	}
	return false
}
