package jobs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// filterFixture is four jobs that differ in every filterable way; ids[i] belongs to "Q-i+1".
type filterFixture struct {
	ids     []string
	groupID string
}

func seedFilterJobs(t *testing.T, c *ent.Client) filterFixture {
	t.Helper()
	ctx := context.Background()
	tpl, err := c.OcrTemplate.Create().SetName("filter-test").Save(ctx)
	if err != nil {
		t.Fatalf("create template: %v", err)
	}
	grp, err := c.OcrJobGroup.Create().SetName("batch").Save(ctx)
	if err != nil {
		t.Fatalf("create group: %v", err)
	}
	base := time.Date(2023, 1, 10, 0, 0, 0, 0, time.UTC)
	at := func(days int) *time.Time { tm := base.AddDate(0, 0, days); return &tm }
	data := func(total *float64, supplier, date string) *invoice.ExtractedData {
		return &invoice.ExtractedData{
			Invoice: invoice.Invoice{Number: "INV-" + supplier, Date: date,
				Supplier: invoice.Supplier{Name: supplier}, Amounts: invoice.Amounts{Total: total, Currency: "EUR"}},
			LineItems: []invoice.LineItem{{Description: "Widget " + supplier, Amount: total}},
		}
	}
	type row struct {
		number, name string
		status       ocrinvoicejob.Status
		priority     ocrinvoicejob.Priority
		started      *time.Time
		procTime     *float64
		retries      int
		createdBy    string
		data         *invoice.ExtractedData
		meta         map[string]any
		group        bool
	}
	rows := []row{
		{"Q-1", "alpha.pdf", ocrinvoicejob.StatusCompleted, ocrinvoicejob.PriorityHigh, at(5), invoice.Float(45.6), 0, "u1",
			data(invoice.Float(150.5), "ACME GmbH", "2023-01-15"), map[string]any{"source": "scanner", "pages": 3, "flag": true}, false},
		{"Q-2", "beta.png", ocrinvoicejob.StatusFailed, ocrinvoicejob.PriorityUrgent, at(22), nil, 2, "",
			data(invoice.Float(99), "Beta Ltd", "2022-12-31"), map[string]any{"source": "email", "pages": "three"}, false},
		{"Q-3", "gamma.jpg", ocrinvoicejob.StatusCreated, ocrinvoicejob.PriorityLow, nil, nil, 0, "",
			nil, nil, true},
		{"Q-4", "delta.tiff", ocrinvoicejob.StatusQueued, ocrinvoicejob.PriorityMedium, nil, nil, 0, "u1",
			data(nil, "Delta SA", ""), map[string]any{"source": nil}, false},
	}
	var fx filterFixture
	fx.groupID = grp.ID
	for i, r := range rows {
		cr := c.OcrInvoiceJob.Create().
			SetJobNumber(r.number).SetDocumentName(r.name).SetDocumentURL("https://example.com/" + r.name).
			SetTemplateID(tpl.ID).SetStatus(r.status).SetPriority(r.priority).
			SetNillableStartedAt(r.started).SetNillableProcessingTime(r.procTime).
			SetRetryCount(r.retries).SetCreatedAt(base.Add(time.Duration(i) * time.Hour))
		if r.number != "Q-3" { // Q-3 leaves created_by NULL, Q-2 stores "": the API shows both as null
			cr.SetCreatedBy(r.createdBy)
		}
		if r.data != nil {
			cr.SetExtractedData(r.data)
		}
		if r.meta != nil {
			cr.SetMetadata(r.meta)
		}
		if r.group {
			cr.SetGroupID(grp.ID)
		}
		j, err := cr.Save(ctx)
		if err != nil {
			t.Fatalf("create job %s: %v", r.number, err)
		}
		fx.ids = append(fx.ids, j.ID)
	}
	return fx
}

func jobNumbers(t *testing.T, c *ent.Client, filter string) ([]string, error) {
	t.Helper()
	preds, err := ParseJobFilter(filter)
	if err != nil {
		return nil, err
	}
	order, err := JobOrder("jobNumber", "asc")
	if err != nil {
		t.Fatalf("JobOrder: %v", err)
	}
	js, err := c.OcrInvoiceJob.Query().Where(preds...).Order(order...).All(context.Background())
	if err != nil {
		t.Fatalf("query with filter %s: %v", filter, err)
	}
	out := []string{}
	for _, j := range js {
		out = append(out, j.JobNumber)
	}
	return out, nil
}

func TestParseJobFilter(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		fx := seedFilterJobs(t, c)
		cases := []struct {
			name, filter string
			want         []string
		}{
			{"empty string", "", []string{"Q-1", "Q-2", "Q-3", "Q-4"}},
			{"empty object", "{}", []string{"Q-1", "Q-2", "Q-3", "Q-4"}},
			{"implicit eq", `{"status":"completed"}`, []string{"Q-1"}},
			{"$eq", `{"status":{"$eq":"failed"}}`, []string{"Q-2"}},
			{"$ne", `{"status":{"$ne":"completed"}}`, []string{"Q-2", "Q-3", "Q-4"}},
			{"$in", `{"priority":{"$in":["high","urgent"]}}`, []string{"Q-1", "Q-2"}},
			{"$in empty", `{"priority":{"$in":[]}}`, []string{}},
			{"$nin", `{"priority":{"$nin":["high","urgent"]}}`, []string{"Q-3", "Q-4"}},
			{"two fields are and", `{"status":"completed","priority":"high"}`, []string{"Q-1"}},
			{"time $gte", `{"startedAt":{"$gte":"2023-01-20T00:00:00Z"}}`, []string{"Q-2"}},
			{"time $lt date only", `{"startedAt":{"$lt":"2023-01-20"}}`, []string{"Q-1"}},
			{"time with offset", `{"startedAt":{"$gt":"2023-01-15T10:00:00+09:00"}}`, []string{"Q-2"}},
			{"createdAt $lte", `{"createdAt":{"$lte":"2023-01-10T01:00:00Z"}}`, []string{"Q-1", "Q-2"}},
			{"$exists false on a nullable column", `{"startedAt":{"$exists":false}}`, []string{"Q-3", "Q-4"}},
			{"$exists true", `{"startedAt":{"$exists":true}}`, []string{"Q-1", "Q-2"}},
			{"null means missing", `{"startedAt":null}`, []string{"Q-3", "Q-4"}},
			{"$ne null", `{"startedAt":{"$ne":null}}`, []string{"Q-1", "Q-2"}},
			{"float $gt", `{"processingTime":{"$gt":40}}`, []string{"Q-1"}},
			{"float $lte", `{"processingTime":{"$lte":40}}`, []string{}},
			{"$not", `{"processingTime":{"$not":{"$gt":40}}}`, []string{"Q-2", "Q-3", "Q-4"}},
			{"int $gte", `{"retryCount":{"$gte":1}}`, []string{"Q-2"}},
			{"int compared with a fraction", `{"retryCount":{"$gt":1.5}}`, []string{"Q-2"}},
			{"int $lte a fraction", `{"retryCount":{"$lte":1.5}}`, []string{"Q-1", "Q-3", "Q-4"}},
			{"int $eq a fraction", `{"retryCount":0.5}`, []string{}},
			{"int $ne a fraction", `{"retryCount":{"$ne":0.5}}`, []string{"Q-1", "Q-2", "Q-3", "Q-4"}},
			{"range on one field", `{"retryCount":{"$gte":0,"$lt":1}}`, []string{"Q-1", "Q-3", "Q-4"}},
			{"id", fmt.Sprintf(`{"_id":%q}`, fx.ids[2]), []string{"Q-3"}},
			{"id $in", fmt.Sprintf(`{"_id":{"$in":[%q,%q]}}`, fx.ids[0], fx.ids[3]), []string{"Q-1", "Q-4"}},
			{"group id", fmt.Sprintf(`{"group":%q}`, fx.groupID), []string{"Q-3"}},
			{"group exists", `{"group":{"$exists":true}}`, []string{"Q-3"}},
			// A template is named by id or, as on create, by name.
			{"template name", `{"template":"filter-test"}`, []string{"Q-1", "Q-2", "Q-3", "Q-4"}},
			{"template unknown name", `{"template":"generic"}`, []string{}},
			{"template name $in", `{"template":{"$in":["nope","filter-test"]}}`, []string{"Q-1", "Q-2", "Q-3", "Q-4"}},
			{"template name $ne", `{"template":{"$ne":"filter-test"}}`, []string{}},
			{"string $in", `{"jobNumber":{"$in":["Q-1","Q-4","nope"]}}`, []string{"Q-1", "Q-4"}},
			{"string $gt", `{"documentName":{"$gt":"c"}}`, []string{"Q-3", "Q-4"}},
			// Ranked enums compare by rank, as they sort.
			{"priority $gte by rank", `{"priority":{"$gte":"high"}}`, []string{"Q-1", "Q-2"}},
			{"priority $not $gt by rank", `{"priority":{"$not":{"$gt":"medium"}}}`, []string{"Q-3", "Q-4"}},
			{"status $lt by rank", `{"status":{"$lt":"processing"}}`, []string{"Q-3", "Q-4"}},
			{"createdBy", `{"createdBy":"u1"}`, []string{"Q-1", "Q-4"}},
			{"createdBy null is NULL or empty", `{"createdBy":null}`, []string{"Q-2", "Q-3"}},
			{"createdBy empty is null", `{"createdBy":""}`, []string{"Q-2", "Q-3"}},
			{"createdBy $exists", `{"createdBy":{"$exists":true}}`, []string{"Q-1", "Q-4"}},
			{"createdBy $ne null", `{"createdBy":{"$ne":null}}`, []string{"Q-1", "Q-4"}},
			{"createdBy $nin", `{"createdBy":{"$nin":["u1"]}}`, []string{"Q-2", "Q-3"}},
			{"dotted number $gt", `{"extractedData.invoice.amounts.total":{"$gt":100}}`, []string{"Q-1"}},
			{"dotted number $lte", `{"extractedData.invoice.amounts.total":{"$lte":100}}`, []string{"Q-2"}},
			{"dotted number $eq", `{"extractedData.invoice.amounts.total":99}`, []string{"Q-2"}},
			{"dotted null matches null and missing", `{"extractedData.invoice.amounts.total":null}`, []string{"Q-3", "Q-4"}},
			{"dotted $exists", `{"extractedData.invoice.amounts.total":{"$exists":true}}`, []string{"Q-1", "Q-2", "Q-4"}},
			{"dotted $exists false", `{"extractedData.invoice.amounts.total":{"$exists":false}}`, []string{"Q-3"}},
			{"dotted string", `{"extractedData.invoice.supplier.name":"ACME GmbH"}`, []string{"Q-1"}},
			{"dotted string $in", `{"extractedData.invoice.supplier.name":{"$in":["Beta Ltd","Delta SA"]}}`, []string{"Q-2", "Q-4"}},
			{"dotted date string $gte", `{"extractedData.invoice.date":{"$gte":"2023-01-01"}}`, []string{"Q-1"}},
			{"dotted array index", `{"extractedData.lineItems.0.description":"Widget Beta Ltd"}`, []string{"Q-2"}},
			{"metadata string", `{"metadata.source":"scanner"}`, []string{"Q-1"}},
			{"metadata $ne matches missing", `{"metadata.source":{"$ne":"scanner"}}`, []string{"Q-2", "Q-3", "Q-4"}},
			{"metadata $nin", `{"metadata.source":{"$nin":["scanner","email"]}}`, []string{"Q-3", "Q-4"}},
			{"metadata number skips strings", `{"metadata.pages":{"$gte":3}}`, []string{"Q-1"}},
			{"metadata string skips numbers", `{"metadata.pages":{"$gt":"a"}}`, []string{"Q-2"}},
			{"metadata bool", `{"metadata.flag":true}`, []string{"Q-1"}},
			{"metadata bool $ne", `{"metadata.flag":{"$ne":true}}`, []string{"Q-2", "Q-3", "Q-4"}},
			{"metadata explicit null", `{"metadata.source":null}`, []string{"Q-3", "Q-4"}},
			{"metadata key with null exists", `{"metadata.source":{"$exists":true}}`, []string{"Q-1", "Q-2", "Q-4"}},
			{"metadata column exists", `{"metadata":{"$exists":false}}`, []string{"Q-3"}},
			{"$or", `{"$or":[{"status":"completed"},{"priority":"low"}]}`, []string{"Q-1", "Q-3"}},
			{"nested $and/$or", `{"$and":[{"status":{"$ne":"failed"}},{"$or":[{"priority":"low"},{"priority":"medium"}]}]}`, []string{"Q-3", "Q-4"}},
			{"$nor", `{"$nor":[{"status":"completed"},{"status":"failed"}]}`, []string{"Q-3", "Q-4"}},
			{"$or with dotted and time", `{"$or":[{"extractedData.invoice.amounts.total":{"$gt":140}},{"startedAt":{"$gt":"2023-02-05T00:00:00Z"}}]}`, []string{"Q-1"}},
			{"empty object inside $or matches all", `{"$or":[{},{"status":"failed"}]}`, []string{"Q-1", "Q-2", "Q-3", "Q-4"}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := jobNumbers(t, c, tc.filter)
				if err != nil {
					t.Fatalf("ParseJobFilter(%s): %v", tc.filter, err)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("filter %s matched %v, want %v", tc.filter, got, tc.want)
				}
			})
		}
	})
}

func TestParseJobFilterErrors(t *testing.T) {
	deep := `{"status":"created"}`
	for range MaxFilterDepth {
		deep = `{"$and":[` + deep + `]}`
	}
	bigIn := `{"jobNumber":{"$in":[` + strings.Repeat(`"x",`, MaxFilterIn) + `"y"]}}`
	huge := `{"jobNumber":"` + strings.Repeat("x", MaxFilterBytes) + `"}`
	many := `{"$or":[` + strings.TrimSuffix(strings.Repeat(`{"jobNumber":"x"},`, MaxFilterConditions+1), ",") + `]}`
	cases := []struct {
		name, filter, wantMsg string
	}{
		{"not JSON", `{"status":`, "not valid JSON"},
		{"trailing data", `{"status":"created"} {}`, "not valid JSON"},
		{"not an object", `[1]`, "must be a JSON object"},
		{"unknown field", `{"bogus":1}`, `unknown field "bogus"`},
		{"unknown operator", `{"status":{"$where":"x"}}`, `unknown operator "$where" on field "status"`},
		{"unknown top-level operator", `{"$where":"1"}`, `unknown operator "$where"`},
		{"operator mixed with field names", `{"status":{"$eq":"created","x":1}}`, `mixes operators`},
		{"invalid enum", `{"status":"nope"}`, `"nope" is not one of`},
		{"enum in $in", `{"priority":{"$in":["high","top"]}}`, `"top" is not one of`},
		{"bad time", `{"createdAt":{"$gt":"yesterday"}}`, `not an RFC 3339 time`},
		{"time as number", `{"createdAt":{"$gt":5}}`, `needs an RFC 3339 time string`},
		{"number as string", `{"retryCount":"x"}`, `needs an integer`},
		{"float as bool", `{"cost":true}`, `needs a number`},
		{"bad id", `{"_id":"xyz"}`, `is not an id`},
		{"template empty", `{"template":""}`, `neither a template id nor a name`},
		{"template number", `{"template":5}`, `is not an id`},
		{"$in not array", `{"priority":{"$in":"high"}}`, `$in needs an array`},
		{"$exists not bool", `{"startedAt":{"$exists":1}}`, `$exists needs true or false`},
		{"$gt null", `{"cost":{"$gt":null}}`, `needs a value, not null`},
		{"$or empty", `{"$or":[]}`, `non-empty array`},
		{"$and not array", `{"$and":{"status":"created"}}`, `non-empty array`},
		{"$or element not object", `{"$or":[1]}`, `must be an object`},
		{"$not not an operator object", `{"cost":{"$not":5}}`, `$not needs an operator object`},
		{"path on a plain field", `{"jobNumber.x":1}`, `has no sub-fields`},
		{"unsafe path segment", `{"metadata.a'b":1}`, `segment "a'b"`},
		{"empty path segment", `{"metadata..a":1}`, `segment ""`},
		{"object compared", `{"metadata":{"a":1}}`, `not an object`},
		{"json column compared to a value", `{"metadata":"x"}`, `is an object`},
		{"array compared in path", `{"metadata.a":[1]}`, `not an array`},
		{"gt on a bool path", `{"metadata.flag":{"$gt":true}}`, `needs a string or a number`},
		{"too deep", deep, "nested deeper than"},
		{"$in too long", bigIn, "the limit is 100"},
		{"too large", huge, "bytes, the limit is"},
		{"too many conditions", many, "more than 100 conditions"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJobFilter(tc.filter)
			if err == nil {
				t.Fatalf("ParseJobFilter(%.80s) = nil error, want one containing %q", tc.filter, tc.wantMsg)
			}
			if apperr.KindOf(err) != apperr.KindInvalid {
				t.Errorf("kind = %s, want INVALID", apperr.KindOf(err))
			}
			e := apperr.As(err)
			if e == nil || len(e.Details) != 1 || e.Details[0].Field != "filter" {
				t.Errorf("details = %+v, want one on field filter", e)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
		})
	}
}

func TestJobOrder(t *testing.T) {
	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct{ sort, order, field string }{
			{"bogus", "asc", "sort"},
			{"metadata", "", "sort"},
			{"errorLog", "", "sort"},
			{"createdAt", "up", "order"},
		} {
			_, err := JobOrder(tc.sort, tc.order)
			e := apperr.As(err)
			if e == nil || e.Kind != apperr.KindInvalid || len(e.Details) != 1 || e.Details[0].Field != tc.field {
				t.Errorf("JobOrder(%q, %q) = %v, want INVALID on %s", tc.sort, tc.order, err, tc.field)
			}
		}
	})
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		seedFilterJobs(t, c)
		ctx := context.Background()
		cases := []struct {
			sort, order string
			want        []string
		}{
			{"", "", []string{"Q-4", "Q-3", "Q-2", "Q-1"}},
			{"createdAt", "asc", []string{"Q-1", "Q-2", "Q-3", "Q-4"}},
			{"jobNumber", "desc", []string{"Q-4", "Q-3", "Q-2", "Q-1"}},
			{"documentName", "asc", []string{"Q-1", "Q-2", "Q-4", "Q-3"}},
			// NULLs are the lowest values on every database; ties fall back to the id, descending.
			{"startedAt", "asc", []string{"Q-4", "Q-3", "Q-1", "Q-2"}},
			{"startedAt", "desc", []string{"Q-2", "Q-1", "Q-4", "Q-3"}},
			{"processingTime", "desc", []string{"Q-1", "Q-4", "Q-3", "Q-2"}},
			{"retryCount", "desc", []string{"Q-2", "Q-4", "Q-3", "Q-1"}},
			// priority and status by rank, not alphabetically.
			{"priority", "asc", []string{"Q-3", "Q-4", "Q-1", "Q-2"}},
			{"-priority", "", []string{"Q-2", "Q-1", "Q-4", "Q-3"}},
			{"status", "asc", []string{"Q-3", "Q-4", "Q-1", "Q-2"}},
			{"status", "desc", []string{"Q-2", "Q-1", "Q-4", "Q-3"}},
			{"createdBy", "asc", []string{"Q-3", "Q-2", "Q-4", "Q-1"}},
			{"createdBy", "desc", []string{"Q-4", "Q-1", "Q-3", "Q-2"}},
		}
		for _, tc := range cases {
			t.Run(tc.sort+"_"+tc.order, func(t *testing.T) {
				order, err := JobOrder(tc.sort, tc.order)
				if err != nil {
					t.Fatalf("JobOrder: %v", err)
				}
				// ListJobs appends the id tie-breaker; so does this query.
				js, err := c.OcrInvoiceJob.Query().Order(append(order, ocrinvoicejob.ByID(sql.OrderDesc()))...).All(ctx)
				if err != nil {
					t.Fatalf("query: %v", err)
				}
				var got []string
				for _, j := range js {
					got = append(got, j.JobNumber)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("sort %s %s = %v, want %v", tc.sort, tc.order, got, tc.want)
				}
			})
		}
	})
}
