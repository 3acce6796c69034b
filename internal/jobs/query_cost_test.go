package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// jsonConditions is a filter of n JSON-path conditions on metadata.
func jsonConditions(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`{"metadata.k%d":"v"}`, i)
	}
	return `{"$and":[` + strings.Join(parts, ",") + `]}`
}

// extractedConditions is a filter of n JSON-path conditions on extractedData.
func extractedConditions(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`{"extractedData.invoice.k%d":"v"}`, i)
	}
	return `{"$and":[` + strings.Join(parts, ",") + `]}`
}

// columnConditions is a filter of n column conditions.
func columnConditions(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `{"status":{"$ne":"failed"}}`
	}
	return `{"$and":[` + strings.Join(parts, ",") + `]}`
}

// TestFilterCost: filters are costed before they run, JSON paths ten times a column;
// over the budget a filter is a 400 on "filter" naming its cost, the budget and the
// setting; within it, it runs.
func TestFilterCost(t *testing.T) {
	c := databasetest.Open(t)
	svc := jobs.NewService(c, nil, jobs.Options{})
	if svc.FilterCostLimit() != jobs.DefaultFilterCostLimit {
		t.Fatalf("FilterCostLimit = %d, want the default %d", svc.FilterCostLimit(), jobs.DefaultFilterCostLimit)
	}
	for _, tc := range []struct {
		name, filter, search string
		cost                 int // 0: accepted
	}{
		{"13 JSON paths", jsonConditions(13), "", 0},
		{"14 JSON paths", jsonConditions(14), "", 210},
		{"100 JSON paths", jsonConditions(100), "", 1500},
		{"66 columns", columnConditions(66), "", 0},
		{"67 columns", columnConditions(67), "", 201},
		{"6 JSON paths and a search", jsonConditions(6), "acme", 0},
		{"7 JSON paths and a search", jsonConditions(7), "acme", 205},
		{"1 extractedData path", extractedConditions(1), "", 0},
		{"2 extractedData paths", extractedConditions(2), "", 300},
		{"JSON $in of 13 values", `{"metadata.k":{"$in":[` + strings.Repeat(`"a",`, 12) + `"a"]}}`, "", 0},
		{"JSON $in of 14 values", `{"metadata.k":{"$in":[` + strings.Repeat(`"a",`, 13) + `"a"]}}`, "", 210},
		{"column $in of 100 values", `{"jobNumber":{"$in":[` + strings.Repeat(`"a",`, 99) + `"a"]}}`, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			where, err := svc.JobFilter(tc.filter, tc.search)
			if tc.cost == 0 {
				if err != nil {
					t.Fatalf("JobFilter: %v", err)
				}
				if _, _, err := svc.ListJobs(context.Background(), jobs.ListJobsParams{Where: where}); err != nil {
					t.Fatalf("ListJobs: %v", err)
				}
				return
			}
			ae := apperr.As(err)
			if ae == nil || ae.Kind != apperr.KindInvalid {
				t.Fatalf("JobFilter error %v, want INVALID", err)
			}
			want := fmt.Sprintf("filter cost %d exceeds the budget of %d (OCRINVOICE_FILTER_COST_LIMIT", tc.cost, jobs.DefaultFilterCostLimit)
			if !strings.Contains(ae.Message, want) || len(ae.Details) != 1 || ae.Details[0].Field != "filter" {
				t.Fatalf("error %q %v, want it to say %q on field filter", ae.Message, ae.Details, want)
			}
		})
	}

	// Templates and groups are costed alike; the limit is configurable, negative is none.
	if _, err := svc.TemplateFilter(`{"$and":[`+strings.Repeat(`{"spec.a":1},`, 13)+`{"spec.a":1}]}`, ""); apperr.KindOf(err) != apperr.KindInvalid {
		t.Fatalf("template filter of 14 JSON paths: %v", err)
	}
	if _, err := svc.GroupFilter(`{"$and":[`+strings.Repeat(`{"status.a":1},`, 13)+`{"status.a":1}]}`, ""); apperr.KindOf(err) != apperr.KindInvalid {
		t.Fatalf("group filter of 14 JSON paths: %v", err)
	}
	small := jobs.NewService(c, nil, jobs.Options{FilterCostLimit: 30})
	if _, err := small.JobFilter(jsonConditions(3), ""); err == nil || !strings.Contains(err.Error(), "filter cost 45 exceeds the budget of 30") {
		t.Fatalf("limit 30, cost 45: %v", err)
	}
	none := jobs.NewService(c, nil, jobs.Options{FilterCostLimit: -1})
	if _, err := none.JobFilter(jsonConditions(100), ""); err != nil {
		t.Fatalf("no limit: %v", err)
	}
}
