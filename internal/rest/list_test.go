package rest

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

const listJobsN = 12

// seedListJobs creates listJobsN jobs through the API and varies their server-owned fields so
// that every sort field has distinct values, ties and NULLs. It returns all jobs as the API
// shows them.
func seedListJobs(t *testing.T, e *env) []map[string]any {
	t.Helper()
	ctx := context.Background()
	g1 := e.do("POST", "/api/v1/ocr-job-groups", map[string]any{"name": "list-a"}).must(t, http.StatusCreated).data()["_id"]
	g2 := e.do("POST", "/api/v1/ocr-job-groups", map[string]any{"name": "list-b"}).must(t, http.StatusCreated).data()["_id"]
	tpl := e.do("POST", "/api/v1/ocr-templates", map[string]any{"name": "list-tpl", "shared": true}).must(t, http.StatusCreated).data()["_id"]
	exts := []string{"pdf", "png", "jpg", "tiff", "bmp", "jpeg"}
	prios := []string{"low", "medium", "high", "urgent"}
	users := []string{"ann", "bob", "", "cid"}
	suppliers := []string{"Acme Supplies", "Globex Corporation", "Initech"}
	for i := 1; i <= listJobsN; i++ {
		extra := map[string]any{
			"documentName": fmt.Sprintf("doc-%02d.%s", (i*5)%listJobsN, exts[i%len(exts)]),
			"priority":     prios[i%len(prios)],
			"metadata":     map[string]any{"source": []string{"scanner", "email", "api"}[i%3], "batch": i % 4},
		}
		if u := users[i%len(users)]; u != "" {
			extra["createdBy"] = u
		}
		switch i % 3 {
		case 1:
			extra["group"] = g1
		case 2:
			extra["group"] = g2
		}
		if i%2 == 0 {
			extra["template"] = tpl
		}
		e.clock.Set(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i*37%listJobsN) * time.Hour))
		id := e.createJob(fmt.Sprintf("SORT-%02d", i), extra)["_id"].(string)
		switch i % 4 {
		case 0: // completed with results (through the domain core, which fills the search columns)
			if _, err := e.svc.StartProcessing(ctx, id); err != nil {
				t.Fatal(err)
			}
			total := float64(i * 25)
			if _, err := e.svc.Complete(ctx, id, jobs.CompleteInput{Pages: i % 3, ExtractedData: &invoice.ExtractedData{
				Invoice: invoice.Invoice{Number: fmt.Sprintf("INV-%d", 1000+i), Supplier: invoice.Supplier{Name: suppliers[i%3]},
					Customer: invoice.Customer{Name: "Customer " + suppliers[(i+1)%3]}, Amounts: invoice.Amounts{Total: &total}},
			}}); err != nil {
				t.Fatal(err)
			}
		case 1:
			if _, err := e.svc.StartProcessing(ctx, id); err != nil {
				t.Fatal(err)
			}
		case 2:
			if _, err := e.svc.CancelJob(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		// Distinct times and numbers for the sort tests (the worker's values are all "now").
		u := e.c.OcrInvoiceJob.UpdateOneID(id).SetRetryCount(i % 3)
		if i%4 <= 1 {
			u.SetStartedAt(time.Date(2023, 2, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i%5) * time.Minute))
		}
		if i%4 == 0 {
			u.SetProcessingTime(float64(i%5) + 0.5).SetCompletedAt(time.Date(2023, 2, 2, 0, 0, i, 0, time.UTC))
		}
		if _, err := u.Save(ctx); err != nil {
			t.Fatal(err)
		}
	}
	all := e.do("GET", "/api/v1/ocr-invoice-jobs?limit=100", nil).must(t, http.StatusOK)
	if all.total() != listJobsN || len(all.list()) != listJobsN {
		t.Fatalf("seeded %d jobs, list shows %d (total %d)", listJobsN, len(all.list()), all.total())
	}
	return all.list()
}

func numbers(items []map[string]any) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it["jobNumber"].(string))
	}
	return out
}

// compareJSON orders two JSON values of one field: null lowest, then numbers, strings (times
// parsed as times).
func compareJSON(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch av := a.(type) {
	case bool:
		bv := b.(bool)
		switch {
		case av == bv:
			return 0
		case !av:
			return -1
		}
		return 1
	case float64:
		return cmp.Compare(av, b.(float64))
	case string:
		ta, ea := time.Parse(time.RFC3339Nano, av)
		tb, eb := time.Parse(time.RFC3339Nano, b.(string))
		if ea == nil && eb == nil {
			return ta.Compare(tb)
		}
		return strings.Compare(av, b.(string))
	}
	panic(fmt.Sprintf("cannot compare %T", a))
}

func TestListJobs(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil)
		all := seedListJobs(t, e)
		byCreated := slices.Clone(all)
		slices.SortFunc(byCreated, func(a, b map[string]any) int {
			return cmp.Or(-compareJSON(a["createdAt"], b["createdAt"]), -strings.Compare(a["_id"].(string), b["_id"].(string)))
		})

		t.Run("default order is createdAt desc", func(t *testing.T) {
			r := e.do("GET", "/api/v1/ocr-invoice-jobs", nil).must(t, http.StatusOK)
			if got, want := numbers(r.list()), numbers(byCreated); !slices.Equal(got, want) {
				t.Errorf("order %v, want %v", got, want)
			}
		})

		t.Run("pagination", func(t *testing.T) {
			for _, tc := range []struct {
				query      string
				start, end int
			}{
				{"limit=5", 0, 5},
				{"limit=5&offset=5", 5, 10},
				{"limit=5&offset=10", 10, 12},
				{"limit=5&offset=12", 12, 12},
				{"limit=5&offset=1000", 12, 12},
				{"limit=1", 0, 1},
				{"limit=1&offset=11", 11, 12},
				{"limit=100", 0, 12},
				{"offset=0", 0, 12},
				{"limit=%2012%20", 0, 12},
			} {
				t.Run(tc.query, func(t *testing.T) {
					r := e.do("GET", "/api/v1/ocr-invoice-jobs?"+tc.query, nil).must(t, http.StatusOK)
					if r.total() != listJobsN {
						t.Errorf("total %d, want %d", r.total(), listJobsN)
					}
					if got, want := numbers(r.list()), numbers(byCreated[tc.start:tc.end]); !slices.Equal(got, want) {
						t.Errorf("page %v, want %v", got, want)
					}
				})
			}
		})

		t.Run("sort", func(t *testing.T) {
			for _, field := range jobs.JobSortFields() {
				for _, order := range []string{"asc", "desc"} {
					t.Run(field+"_"+order, func(t *testing.T) {
						want := slices.Clone(all)
						slices.SortStableFunc(want, func(a, b map[string]any) int {
							c := compareJSON(rankOf(field, a[field]), rankOf(field, b[field]))
							if order == "desc" {
								c = -c
							}
							// Ties: the newest id first, whatever the direction.
							return cmp.Or(c, -strings.Compare(a["_id"].(string), b["_id"].(string)))
						})
						r := e.do("GET", "/api/v1/ocr-invoice-jobs?limit=100&sort="+field+"&order="+order, nil).must(t, http.StatusOK)
						if got, w := numbers(r.list()), numbers(want); !slices.Equal(got, w) {
							t.Errorf("sort=%s order=%s: %v, want %v", field, order, got, w)
						}
					})
				}
			}
		})

		t.Run("filter and search", func(t *testing.T) {
			amount := func(j map[string]any) any {
				d, _ := j["extractedData"].(map[string]any)
				if d == nil {
					return nil
				}
				return d["invoice"].(map[string]any)["amounts"].(map[string]any)["total"]
			}
			meta := func(j map[string]any, k string) any { return j["metadata"].(map[string]any)[k] }
			in := func(v any, set ...any) bool { return slices.Contains(set, v) }
			g1 := all[0]["group"]
			listTpl := e.do("GET", "/api/v1/ocr-templates/list-tpl", nil).must(t, http.StatusOK).data()["_id"]
			for _, tc := range []struct {
				name, filter, search string
				match                func(j map[string]any) bool
			}{
				{"implicit $eq", `{"status":"completed"}`, "", func(j map[string]any) bool { return j["status"] == "completed" }},
				{"$ne", `{"status":{"$ne":"completed"}}`, "", func(j map[string]any) bool { return j["status"] != "completed" }},
				{"$in", `{"priority":{"$in":["high","urgent"]}}`, "", func(j map[string]any) bool { return in(j["priority"], "high", "urgent") }},
				{"$nin", `{"priority":{"$nin":["high","urgent"]}}`, "", func(j map[string]any) bool { return !in(j["priority"], "high", "urgent") }},
				{"$gt", `{"retryCount":{"$gt":1}}`, "", func(j map[string]any) bool { return j["retryCount"].(float64) > 1 }},
				{"$gte", `{"retryCount":{"$gte":1}}`, "", func(j map[string]any) bool { return j["retryCount"].(float64) >= 1 }},
				{"$lt time", `{"createdAt":{"$lt":"2023-01-01T05:00:00Z"}}`, "", func(j map[string]any) bool {
					return compareJSON(j["createdAt"], "2023-01-01T05:00:00Z") < 0
				}},
				{"$lte time", `{"createdAt":{"$lte":"2023-01-01T05:00:00Z"}}`, "", func(j map[string]any) bool {
					return compareJSON(j["createdAt"], "2023-01-01T05:00:00Z") <= 0
				}},
				{"$exists", `{"startedAt":{"$exists":true}}`, "", func(j map[string]any) bool { return j["startedAt"] != nil }},
				{"null", `{"group":null}`, "", func(j map[string]any) bool { return j["group"] == nil }},
				{"id", fmt.Sprintf(`{"group":%q}`, g1), "", func(j map[string]any) bool { return j["group"] == g1 }},
				// A template by name, as create takes it.
				{"template by name", `{"template":"list-tpl"}`, "", func(j map[string]any) bool { return j["template"] == listTpl }},
				{"built-in template by name", `{"template":"generic"}`, "", func(j map[string]any) bool { return j["template"] != listTpl }},
				{"template by id", fmt.Sprintf(`{"template":%q}`, listTpl), "", func(j map[string]any) bool { return j["template"] == listTpl }},
				{"template by unknown name", `{"template":"no-such-template"}`, "", func(j map[string]any) bool { return false }},
				{"dotted path", `{"extractedData.invoice.amounts.total":{"$gt":100}}`, "", func(j map[string]any) bool {
					a, ok := amount(j).(float64)
					return ok && a > 100
				}},
				{"metadata", `{"metadata.source":"scanner"}`, "", func(j map[string]any) bool { return meta(j, "source") == "scanner" }},
				{"metadata number", `{"metadata.batch":{"$in":[1,3]}}`, "", func(j map[string]any) bool { return in(meta(j, "batch"), 1.0, 3.0) }},
				{"$or", `{"$or":[{"status":"cancelled"},{"priority":"urgent"}]}`, "", func(j map[string]any) bool {
					return j["status"] == "cancelled" || j["priority"] == "urgent"
				}},
				{"$and nested", `{"$and":[{"$or":[{"status":"completed"},{"status":"processing"}]},{"metadata.source":{"$ne":"api"}}]}`, "", func(j map[string]any) bool {
					return in(j["status"], "completed", "processing") && meta(j, "source") != "api"
				}},
				{"$not", `{"retryCount":{"$not":{"$lt":1}}}`, "", func(j map[string]any) bool { return j["retryCount"].(float64) >= 1 }},
				{"$regex", `{"jobNumber":{"$regex":"^sort-0[1-3]$","$options":"i"}}`, "", func(j map[string]any) bool {
					return in(j["jobNumber"], "SORT-01", "SORT-02", "SORT-03")
				}},
				{"$regex on a path", `{"metadata.source":{"$regex":"^(scan|e)"}}`, "", func(j map[string]any) bool { return in(meta(j, "source"), "scanner", "email") }},
				{"search jobNumber, any case", "", "sort-0", func(j map[string]any) bool { return strings.HasPrefix(j["jobNumber"].(string), "SORT-0") }},
				{"search documentName", "", "DOC-1", func(j map[string]any) bool { return strings.HasPrefix(j["documentName"].(string), "doc-1") }},
				{"search invoice number", "", "inv-1008", func(j map[string]any) bool { return j["jobNumber"] == "SORT-08" }},
				{"search supplier and customer", "", "globex", func(j map[string]any) bool {
					d, _ := j["extractedData"].(map[string]any)
					if d == nil {
						return false
					}
					inv := d["invoice"].(map[string]any)
					return inv["supplier"].(map[string]any)["name"] == "Globex Corporation" ||
						strings.Contains(inv["customer"].(map[string]any)["name"].(string), "Globex")
				}},
				{"search customer", "", "customer initech", func(j map[string]any) bool {
					d, _ := j["extractedData"].(map[string]any)
					return d != nil && d["invoice"].(map[string]any)["customer"].(map[string]any)["name"] == "Customer Initech"
				}},
				{"search with filter", `{"status":"completed"}`, "sort-1", func(j map[string]any) bool {
					return j["status"] == "completed" && strings.HasPrefix(j["jobNumber"].(string), "SORT-1")
				}},
				{"search matches nothing", "", "no such thing", func(map[string]any) bool { return false }},
			} {
				t.Run(tc.name, func(t *testing.T) {
					var want []map[string]any
					for _, j := range byCreated {
						if tc.match(j) {
							want = append(want, j)
						}
					}
					q := url.Values{}
					if tc.filter != "" {
						q.Set("filter", tc.filter)
					}
					if tc.search != "" {
						q.Set("search", tc.search)
					}
					r := e.do("GET", "/api/v1/ocr-invoice-jobs?"+q.Encode(), nil).must(t, http.StatusOK)
					if got, w := numbers(r.list()), numbers(want); !slices.Equal(got, w) {
						t.Errorf("matched %v, want %v", got, w)
					}
					if r.total() != len(want) {
						t.Errorf("total %d, want %d", r.total(), len(want))
					}
					if len(want) > 1 {
						// total counts all matches, not the page.
						q.Set("limit", "1")
						p := e.do("GET", "/api/v1/ocr-invoice-jobs?"+q.Encode(), nil).must(t, http.StatusOK)
						if p.total() != len(want) || len(p.list()) != 1 {
							t.Errorf("limit=1: total %d with %d items, want %d with 1", p.total(), len(p.list()), len(want))
						}
					}
				})
			}
		})
	})
}

// rankOf is the value a job list sorts field by: the rank of a priority (low to urgent)
// or a status (created, queued, processing, completed, failed, cancelled), else v.
func rankOf(field string, v any) any {
	var rank []string
	switch field {
	case "priority":
		rank = []string{"low", "medium", "high", "urgent"}
	case "status":
		rank = []string{"created", "queued", "processing", "completed", "failed", "cancelled"}
	default:
		return v
	}
	return float64(slices.Index(rank, v.(string)))
}

// TestListJobsSortByMeaning: priority and status sort by rank, not alphabetically, in
// both directions, with order= or the "-field" shorthand, and through pages.
func TestListJobsSortByMeaning(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil)
		ctx := context.Background()
		prios := []string{"medium", "urgent", "low", "high", "low", "urgent", "medium", "high"}
		for i, p := range prios {
			id := e.createJob(fmt.Sprintf("RANK-%d", i), map[string]any{"priority": p})["_id"].(string)
			switch i % 4 {
			case 1:
				if _, err := e.svc.StartProcessing(ctx, id); err != nil {
					t.Fatal(err)
				}
			case 2:
				if _, err := e.svc.CancelJob(ctx, id); err != nil {
					t.Fatal(err)
				}
			case 3:
				if _, err := e.svc.StartProcessing(ctx, id); err != nil {
					t.Fatal(err)
				}
				if _, err := e.svc.Fail(ctx, id, "broken", true); err != nil {
					t.Fatal(err)
				}
			}
		}
		values := func(r resp, field string) []string {
			var out []string
			for _, j := range r.list() {
				if v := j[field].(string); len(out) == 0 || out[len(out)-1] != v {
					out = append(out, v)
				}
			}
			return out
		}
		for _, tc := range []struct {
			query string
			field string
			want  []string
		}{
			{"sort=priority", "priority", []string{"urgent", "high", "medium", "low"}},
			{"sort=priority&order=desc", "priority", []string{"urgent", "high", "medium", "low"}},
			{"sort=-priority", "priority", []string{"urgent", "high", "medium", "low"}},
			{"sort=-priority&order=desc", "priority", []string{"urgent", "high", "medium", "low"}},
			{"sort=priority&order=asc", "priority", []string{"low", "medium", "high", "urgent"}},
			{"sort=status&order=asc", "status", []string{"created", "processing", "failed", "cancelled"}},
			{"sort=-status", "status", []string{"cancelled", "failed", "processing", "created"}},
		} {
			t.Run(tc.query, func(t *testing.T) {
				r := e.do("GET", "/api/v1/ocr-invoice-jobs?"+tc.query, nil).must(t, http.StatusOK)
				if got := values(r, tc.field); !slices.Equal(got, tc.want) {
					t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
				}
				// Pages of 3 put together give the same order.
				var paged []string
				for off := 0; off < len(prios); off += 3 {
					p := e.do("GET", fmt.Sprintf("/api/v1/ocr-invoice-jobs?%s&limit=3&offset=%d", tc.query, off), nil).must(t, http.StatusOK)
					paged = append(paged, numbers(p.list())...)
				}
				if whole := numbers(r.list()); !slices.Equal(paged, whole) {
					t.Errorf("pages %v, whole list %v", paged, whole)
				}
			})
		}
		t.Run("-field with order=asc is refused", func(t *testing.T) {
			r := e.do("GET", "/api/v1/ocr-invoice-jobs?sort=-priority&order=asc", nil).must(t, http.StatusBadRequest)
			if f := r.errFields(); !slices.Equal(f, []string{"sort"}) {
				t.Errorf("fields %v, want [sort]", f)
			}
		})
		t.Run("unknown -field is refused", func(t *testing.T) {
			e.do("GET", "/api/v1/ocr-invoice-jobs?sort=-nope", nil).must(t, http.StatusBadRequest)
			e.do("GET", "/api/v1/ocr-invoice-jobs?sort=--priority", nil).must(t, http.StatusBadRequest)
		})
	})
}

// TestListEmptyNumbers: limit= and offset= given empty take their defaults.
func TestListEmptyNumbers(t *testing.T) {
	c := databasetest.Open(t)
	e := newEnv(t, c, nil)
	for i := range 3 {
		e.createJob(fmt.Sprintf("EMPTY-%d", i), nil)
	}
	for _, path := range []string{"/api/v1/ocr-invoice-jobs", "/api/v1/ocr-templates", "/api/v1/ocr-job-groups"} {
		for _, q := range []string{"limit=", "offset=", "limit=&offset=", "limit=%20"} {
			r := e.do("GET", path+"?"+q, nil).must(t, http.StatusOK)
			if path == "/api/v1/ocr-invoice-jobs" && (len(r.list()) != 3 || r.total() != 3) {
				t.Errorf("%s?%s: %d items, total %d; want 3, 3", path, q, len(r.list()), r.total())
			}
		}
	}
	// Still refused: a value that is not a number.
	e.do("GET", "/api/v1/ocr-invoice-jobs?limit=x", nil).must(t, http.StatusBadRequest)
	e.do("GET", "/api/v1/ocr-invoice-jobs?offset=-1", nil).must(t, http.StatusBadRequest)
}

// TestListJobsDefaultLimit: without limit a page holds 50 jobs.
func TestListJobsDefaultLimit(t *testing.T) {
	c := databasetest.Open(t)
	e := newEnv(t, c, nil)
	builders := make([]*ent.OcrInvoiceJobCreate, 60)
	for i := range builders {
		builders[i] = c.OcrInvoiceJob.Create().SetJobNumber(fmt.Sprintf("D-%03d", i)).SetDocumentName("d.pdf").
			SetDocumentURL("https://invoices.example.com/d.pdf").SetDocumentType("pdf").SetTemplateID(e.generic)
	}
	if _, err := c.OcrInvoiceJob.CreateBulk(builders...).Save(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", "/api/v1/ocr-invoice-jobs", nil).must(t, http.StatusOK)
	if len(r.list()) != 50 || r.total() != 60 {
		t.Errorf("default page: %d items, total %d; want 50, 60", len(r.list()), r.total())
	}
	r = e.do("GET", "/api/v1/ocr-invoice-jobs?offset=50", nil).must(t, http.StatusOK)
	if len(r.list()) != 10 {
		t.Errorf("second page: %d items, want 10", len(r.list()))
	}
}

// checkSortFields lists path with every sort field in both directions and compares the order
// with the same sort done in Go over all items (nulls lowest, ties by _id descending).
func checkSortFields(t *testing.T, e *env, path string, fields []string) {
	t.Helper()
	all := e.do("GET", path+"?limit=100", nil).must(t, http.StatusOK).list()
	for _, field := range fields {
		for _, order := range []string{"asc", "desc"} {
			t.Run(field+"_"+order, func(t *testing.T) {
				want := slices.Clone(all)
				slices.SortStableFunc(want, func(a, b map[string]any) int {
					c := compareJSON(a[field], b[field])
					if order == "desc" {
						c = -c
					}
					return cmp.Or(c, -strings.Compare(a["_id"].(string), b["_id"].(string)))
				})
				r := e.do("GET", path+"?limit=100&sort="+field+"&order="+order, nil).must(t, http.StatusOK)
				if got, w := numbersOf(r.list(), "_id"), numbersOf(want, "_id"); !slices.Equal(got, w) {
					t.Errorf("sort=%s order=%s: %v, want %v", field, order, got, w)
				}
			})
		}
	}
}

// TestListJobsRegexCatastrophic: patterns that make a backtracking engine take
// exponential time answer at once over REST on a 10,000 character value, on SQLite and
// PostgreSQL; an over-long pattern is a 400 naming the limit.
func TestListJobsRegexCatastrophic(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		e := newEnv(t, c, nil)
		long := strings.Repeat("a", 10_000) + "!"
		e.createJob("EVIL-1", map[string]any{"metadata": map[string]any{"t": long}})
		e.createJob("EVIL-2", map[string]any{"metadata": map[string]any{"t": "aaa"}})
		for _, f := range []string{
			`{"metadata.t":{"$regex":"(a+)+$"}}`,
			`{"metadata.t":{"$regex":"^(a|a)*$","$options":"i"}}`,
			`{"metadata.t":{"$regex":"^(a*)*(a*)*(a*)*$"}}`,
		} {
			path := "/api/v1/ocr-invoice-jobs?" + url.Values{"filter": {f}}.Encode()
			e.do("GET", path, nil).must(t, http.StatusOK) // warm up
			start := time.Now()
			r := e.do("GET", path, nil).must(t, http.StatusOK)
			took := time.Since(start)
			if got := numbers(r.list()); !slices.Equal(got, []string{"EVIL-2"}) {
				t.Errorf("%s matched %v, want [EVIL-2]", f, got)
			}
			// A backtracking engine would take longer than the universe's age here; a linear one
			// answers in milliseconds (about 0.3–3 ms here). The bound leaves room for a loaded CI
			// machine under -race: timing figures are for benchmarks, this checks the kind of engine.
			if took > 2*time.Second {
				t.Errorf("%s took %v: the pattern ran in a backtracking engine", f, took)
			}
		}
		r := e.do("GET", "/api/v1/ocr-invoice-jobs?"+url.Values{"filter": {`{"jobNumber":{"$regex":"` + strings.Repeat("(a+)+", 60) + `"}}`}}.Encode(), nil).
			must(t, http.StatusBadRequest)
		if !strings.Contains(r.errMessage(), "the limit is 256") {
			t.Errorf("over-long pattern: %s", r.raw)
		}
	})
}
