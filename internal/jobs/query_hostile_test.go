package jobs

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// nest wraps inner n times in open ... close.
func nest(open, inner, close string, n int) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
}

// TestParseFilterHostile: filters built to exhaust the parser or the database are refused
// quickly, as a 400 on "filter" whose message names the limit or the problem.
func TestParseFilterHostile(t *testing.T) {
	leaf := `{"status":"created"}`
	wide := func(n int, elem string) string {
		return `{"$or":[` + strings.TrimSuffix(strings.Repeat(elem+",", n), ",") + `]}`
	}
	cases := []struct {
		name, filter, wantMsg string
	}{
		{"10,000 nested $or", nest(`{"$or":[`, leaf, `]}`, 10_000), "bytes, the limit is 16384"},
		{"10,000 nested $or within the size limit", nest(`{"$or":[`, `{}`, `]}`, 1500), "nested deeper than 8 levels"},
		{"deep $and", nest(`{"$and":[`, leaf, `]}`, 1000), "nested deeper than 8 levels"},
		{"deep $not", `{"cost":` + nest(`{"$not":`, `{"$gt":1}`, `}`, 1500) + `}`, "nested deeper than 8 levels"},
		{"deep arrays", `{"jobNumber":{"$in":` + nest(`[`, `"x"`, `]`, 5000) + `}}`, "nested deeper than 8 levels"},
		{"100,000-wide $or", wide(100_000, leaf), "bytes, the limit is 16384"},
		{"wide $or within the size limit", wide(1000, `{"jobNumber":"x"}`), "bytes, the limit is 16384"},
		{"5,000 empty objects in $or", wide(5000, `{}`), "more than 100 conditions"},
		{"many $not conditions", `{"cost":{"$not":{"$gt":1,"$lt":2,"$ne":3,"$in":[1]}}, "$or":` + strings.TrimPrefix(wide(99, `{"cost":1}`), `{"$or":`), "more than 100 conditions"},
		{"invalid UTF-8 in a value", "{\"jobNumber\":\"a\xff\"}", "not valid UTF-8 (invalid byte at offset 15)"},
		{"invalid UTF-8 in a key", "{\"metadata.\xc3\":1}", "not valid UTF-8"},
		{"NUL in a value", `{"jobNumber":"a\u0000"}`, "must not contain NUL characters"},
		{"NUL in a JSON path value", `{"metadata.x":{"$in":["ok","a\u0000b"]}}`, "must not contain NUL characters"},
		{"NUL in a key", `{"metadata.a\u0000":1}`, "keys must not contain NUL"},
		{"raw NUL byte", "{\"jobNumber\":\"a\x00\"}", "not valid JSON"},
		{"huge number", `{"cost":1e400}`, "not a usable number"},
		{"huge integer", `{"retryCount":{"$gt":1` + strings.Repeat("0", 400) + `}}`, "not a usable number"},
		{"SQL in a path", `{"metadata.x') OR 1=1 --":1}`, "must be a name of letters"},
		{"quote in a path", `{"metadata.a\"b":1}`, "must be a name of letters"},
		{"operator injection", `{"status":{"$where":"sleep(10)"}}`, `unknown operator "$where"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := ParseJobFilter(tc.filter)
			if d := time.Since(start); d > time.Second {
				t.Errorf("ParseJobFilter took %s", d)
			}
			if err == nil {
				t.Fatalf("ParseJobFilter(%.80q) = nil error, want one containing %q", tc.filter, tc.wantMsg)
			}
			e := apperr.As(err)
			if e == nil || e.Kind != apperr.KindInvalid || len(e.Details) != 1 || e.Details[0].Field != "filter" {
				t.Fatalf("err = %v (%+v), want INVALID with one detail on filter", err, e)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not contain %q", err, tc.wantMsg)
			}
			if len(err.Error()) > 1024 {
				t.Errorf("error message is %d bytes long", len(err.Error()))
			}
		})
	}
	// The same refusals for templates and groups (one parser).
	for name, parse := range map[string]func(string) error{
		"template": func(f string) error { _, err := ParseTemplateFilter(f); return err },
		"group":    func(f string) error { _, err := ParseGroupFilter(f); return err },
	} {
		if err := parse(nest(`{"$or":[`, `{}`, `]}`, 10_000)); apperr.KindOf(err) != apperr.KindInvalid {
			t.Errorf("%s filter with 10,000 nested $or: %v, want INVALID", name, err)
		}
		if err := parse("{\"name\":\"\xfe\"}"); apperr.KindOf(err) != apperr.KindInvalid {
			t.Errorf("%s filter with invalid UTF-8: %v, want INVALID", name, err)
		}
	}
}

// TestOrderHostile: huge or odd sort and order values are refused without echoing them whole.
func TestOrderHostile(t *testing.T) {
	for _, tc := range []struct{ name, sort, order, field string }{
		{"huge sort", strings.Repeat("x", 1<<20), "", "sort"},
		{"huge order", "createdAt", strings.Repeat("a", 1<<20), "order"},
		{"SQL in sort", "createdAt; DROP TABLE ocr_invoice_jobs; --", "", "sort"},
		{"SQL in order", "createdAt", "asc, (SELECT 1)", "order"},
		{"column name instead of contract name", "created_at", "", "sort"},
		{"invalid UTF-8 sort", "created\xffAt", "", "sort"},
		{"NUL sort", "createdAt\x00", "", "sort"},
		{"JSON path sort", "metadata.x", "", "sort"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := JobOrder(tc.sort, tc.order)
			e := apperr.As(err)
			if e == nil || e.Kind != apperr.KindInvalid || len(e.Details) != 1 || e.Details[0].Field != tc.field {
				t.Fatalf("JobOrder = %v, want INVALID on %s", err, tc.field)
			}
			if len(err.Error()) > 512 {
				t.Errorf("message is %d bytes long: %.100s...", len(err.Error()), err)
			}
		})
	}
}

// TestFilterStringsAreParameters: filter values that look like SQL are compared as data on
// every database; nothing matches, nothing changes.
func TestFilterStringsAreParameters(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		seedFilterJobs(t, c)
		ctx := context.Background()
		for _, tc := range []struct {
			filter string
			want   []string
		}{
			{`{"jobNumber":"'; DROP TABLE ocr_invoice_jobs; --"}`, nil},
			{`{"jobNumber":"Q-1' OR '1'='1"}`, nil},
			{`{"metadata.source":"scanner' OR '1'='1"}`, nil},
			// A genuine string comparison: "email" and "scanner" sort after "'".
			{`{"metadata.source":{"$gt":"') OR 1=1 --"}}`, []string{"Q-1", "Q-2"}},
			{`{"documentName":{"$in":["%","_","\\","alpha.pdf\\","%.pdf"]}}`, nil},
			{`{"documentName":{"$in":["alpha.pdf","'"]}}`, []string{"Q-1"}},
		} {
			got, err := jobNumbers(t, c, tc.filter)
			if err != nil {
				t.Fatalf("filter %s: %v", tc.filter, err)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("filter %s matched %v, want %v", tc.filter, got, tc.want)
			}
		}
		if n := c.OcrInvoiceJob.Query().CountX(ctx); n != 4 {
			t.Errorf("%d jobs after the filters, want 4", n)
		}
	})
}
