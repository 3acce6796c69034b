package jobs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
	"github.com/ocrinvoice/ocrinvoice/internal/database/databasetest"
)

// searchRow is one job of the search fixtures: the five searched texts ("" = unset).
type searchRow struct{ number, name, invoice, supplier, customer string }

var searchRows = []searchRow{
	{"J-0001", "invoice-0001.pdf", "INV-2024-001", "Müller GmbH", "ACME Corp"},
	{"J-0002", "Rechnung März.PDF", "RE/77", "Straße & Söhne KG", ""},
	{"J-0003", "100%_off.pdf", "", "", ""},
	{"J-0004", `back\slash "quoted".pdf`, "X_1", "o'brien ltd", "Ωmega"},
	{"J-0005", "scan...tif", "...", "---", "%%%"},
	{"AB-9", "a.pdf", "b", "ab", "abc"},
	{"J-0007", "no extracted data.png", "", "", ""},
}

// searchTerms are searched on every database: short (below the trigram length), long,
// wildcards, punctuation, quotes, non-ASCII letters in another case, across the column
// boundary (which must never match), and absent.
var searchTerms = []string{
	"a", "b", "é", "Ω", "ω", "ab", "AB", "0", "00", "j-", ".", "..", "...", "....", "%", "%%", "%%%", "_", "%_", `\`, `"`, `"quoted"`,
	"'", "o'b", "-", "---", "&", "invoice", "INVOICE-0001", "müller", "MÜLLER", "straße", "STRASSE", "märz", "OMEGA",
	"inv-2024", "acme corp", "gmbh", "pdf", "J-0001invoice", "0001\ninvoice", "nothing-here", "re/7", "x_1", "scan...", "bc",
	strings.Repeat("x", 256),
}

// TestSearchIndexMatchesLike: SearchJobs, read from the trigram indexes (SQLite FTS5,
// PostgreSQL pg_trgm) or their short-term paths, finds exactly the jobs whose five
// texts contain the term ignoring case, as the former LIKE search does, on SQLite and
// PostgreSQL alike; and stays right after the texts change and jobs are deleted (the
// triggers keep the index in step).
func TestSearchIndexMatchesLike(t *testing.T) {
	results := map[string]map[string][]string{} // database -> term -> job numbers
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		tpl := c.OcrTemplate.Create().SetName("search-index").SaveX(ctx)
		for _, r := range searchRows {
			q := c.OcrInvoiceJob.Create().SetJobNumber(r.number).SetDocumentName(r.name).
				SetDocumentURL("https://example.com/doc").SetTemplateID(tpl.ID)
			if r.invoice != "" {
				q.SetInvoiceNumber(r.invoice)
			}
			if r.supplier != "" {
				q.SetSupplierName(r.supplier)
			}
			if r.customer != "" {
				q.SetCustomerName(r.customer)
			}
			q.SaveX(ctx)
		}
		numbers := func(where ...predicate.OcrInvoiceJob) []string {
			out := c.OcrInvoiceJob.Query().Where(where...).Select(ocrinvoicejob.FieldJobNumber).StringsX(ctx)
			slices.Sort(out)
			return out
		}
		if strings.HasSuffix(t.Name(), "sqlite") {
			// The Kelvin sign lowers to an ASCII k (strings.ToLower, SQLite's lower here):
			// an ASCII term finds it through the text's non-ASCII fallback. (PostgreSQL's
			// ILIKE folds by its locale, so this job is not compared across databases.)
			c.OcrInvoiceJob.Create().SetJobNumber("K-1").SetDocumentName("\u212Aelvin.pdf").
				SetDocumentURL("https://example.com/doc").SetTemplateID(tpl.ID).SaveX(ctx)
			for term, want := range map[string][]string{"ke": {"K-1"}, "k": {"J-0002", "J-0004", "K-1"}, "kelvin": {"K-1"}} {
				got := numbers(SearchJobs(term))
				if !slices.Equal(got, want) {
					t.Errorf("search %q = %q, want %q", term, got, want)
				}
			}
			c.OcrInvoiceJob.Delete().Where(ocrinvoicejob.JobNumber("K-1")).ExecX(ctx)
		}
		// Changes after creation: the index follows them.
		c.OcrInvoiceJob.Update().Where(ocrinvoicejob.JobNumber("J-0007")).SetSupplierName("Late Supplier SA").ExecX(ctx)
		c.OcrInvoiceJob.Update().Where(ocrinvoicejob.JobNumber("J-0003")).SetDocumentName("renamed 50%.pdf").ExecX(ctx)
		c.OcrInvoiceJob.Create().SetJobNumber("GONE-1").SetDocumentName("deleted invoice.pdf").
			SetDocumentURL("https://example.com/doc").SetTemplateID(tpl.ID).SaveX(ctx)
		c.OcrInvoiceJob.Delete().Where(ocrinvoicejob.JobNumber("GONE-1")).ExecX(ctx)

		db := t.Name()[strings.LastIndexByte(t.Name(), '/')+1:]
		results[db] = map[string][]string{}
		for _, term := range searchTerms {
			got := numbers(SearchJobs(term))
			// The former search: LIKE (ILIKE) on each column.
			f := Canonical(term)
			want := numbers(ocrinvoicejob.Or(
				ocrinvoicejob.JobNumberContainsFold(f), ocrinvoicejob.DocumentNameContainsFold(f),
				ocrinvoicejob.InvoiceNumberContainsFold(f), ocrinvoicejob.SupplierNameContainsFold(f),
				ocrinvoicejob.CustomerNameContainsFold(f)))
			if !slices.Equal(got, want) {
				t.Errorf("search %q = %q, the LIKE search finds %q", term, got, want)
			}
			results[db][term] = got
		}
		// A few answers written out, so that both searches being wrong alike fails too.
		for term, want := range map[string][]string{
			"ab": {"AB-9"}, "%%%": {"J-0005"}, "MÜLLER": {"J-0001"}, "..": {"J-0005"}, "ω": {"J-0004"},
			"late supp": {"J-0007"}, "50%": {"J-0003"}, "100%": nil, "deleted": nil, "J-0001invoice": nil,
			"pdf": {"AB-9", "J-0001", "J-0002", "J-0003", "J-0004"},
		} {
			if got := numbers(SearchJobs(term)); !slices.Equal(got, want) {
				t.Errorf("search %q = %q, want %q", term, got, want)
			}
		}
	})
	if a, b := results["sqlite"], results["postgres"]; a != nil && b != nil {
		for _, term := range searchTerms {
			if !slices.Equal(a[term], b[term]) {
				t.Errorf("search %q: SQLite finds %q, PostgreSQL %q", term, a[term], b[term])
			}
		}
	}
}

// TestSearchUsesIndexSQLite: the query plan of a search reads the FTS5 index (a term of
// 3 or more characters) or the narrow search table (a shorter one), never a scan of
// the jobs table.
func TestSearchUsesIndexSQLite(t *testing.T) {
	if !database.FTS5() {
		t.Fatal("this build's SQLite has no FTS5: build and test with -tags sqlite_fts5 (the Makefile sets it)")
	}
	c := databasetest.Open(t)
	ctx := context.Background()
	for _, term := range []string{"invoice", "ab", "a", "%%%", "...", "%"} {
		var plan []string
		_, err := c.OcrInvoiceJob.Query().Where(SearchJobs(term)).Modify(func(s *sql.Selector) {
			q, args := s.Query()
			rows, err := c.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
			if err != nil {
				t.Fatalf("explain: %v", err)
			}
			defer rows.Close()
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			s.Where(sql.False())
		}).All(ctx)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(plan, "; ")
		if strings.Contains(text, "SCAN ocr_invoice_jobs") {
			t.Errorf("search %q scans the jobs table: %s", term, text)
		}
		if len([]rune(term)) >= 3 && !strings.Contains(text, "VIRTUAL TABLE INDEX") {
			t.Errorf("search %q does not read the FTS5 index: %s", term, text)
		}
	}
}

// TestCountedTotals: the totals of unfiltered and status-filtered lists come from the
// counters the database keeps per owner and status, and stay exact through creates,
// status changes, owner changes and deletes, for scoped and unscoped callers alike.
func TestCountedTotals(t *testing.T) {
	databasetest.Each(t, func(t *testing.T, c *ent.Client) {
		ctx := context.Background()
		svc := NewService(c, nil, Options{})
		tpl := c.OcrTemplate.Create().SetName("counted").SaveX(ctx)
		for i := range 30 {
			c.OcrInvoiceJob.Create().SetJobNumber(fmt.Sprintf("C-%d", i)).SetDocumentName("d.pdf").
				SetDocumentURL("https://example.com/d").SetTemplateID(tpl.ID).
				SetCreatedBy([]string{"team-a", "team-b", ""}[i%3]).
				SetStatus(ocrinvoicejob.Status(Statuses[i%len(Statuses)])).SaveX(ctx)
		}
		c.OcrInvoiceJob.Update().Where(ocrinvoicejob.JobNumberIn("C-0", "C-3")).SetStatus("failed").ExecX(ctx)
		c.OcrInvoiceJob.Update().Where(ocrinvoicejob.JobNumber("C-1")).SetCreatedBy("team-a").ExecX(ctx)
		c.OcrInvoiceJob.Delete().Where(ocrinvoicejob.JobNumberIn("C-6", "C-7")).ExecX(ctx)

		scoped := func(owner string) context.Context {
			return auth.WithPrincipal(ctx, auth.Principal{Role: auth.RoleSubmitter, Owner: owner})
		}
		for _, tc := range []struct {
			name   string
			ctx    context.Context
			filter string
		}{
			{"all", ctx, ""},
			{"all failed", ctx, `{"status":"failed"}`},
			{"team-a", scoped("team-a"), ""},
			{"team-a failed", scoped("team-a"), `{"status":{"$eq":"failed"}}`},
			{"team-b created or queued", scoped("team-b"), `{"status":{"$in":["created","queued"]}}`},
			{"nobody's team", scoped("team-z"), `{}`},
		} {
			statuses, counted := CountedFilter(tc.filter, "")
			if !counted {
				t.Fatalf("%s: CountedFilter(%s) = not counted", tc.name, tc.filter)
			}
			where, err := svc.JobFilter(tc.filter, "")
			if err != nil {
				t.Fatal(err)
			}
			want := c.OcrInvoiceJob.Query().Where(where...).CountX(tc.ctx)
			// limit 1 so that the total is not known from a short page.
			page, err := svc.ListJobPage(tc.ctx, ListJobsParams{Limit: 1, Where: where, Counted: true, Statuses: statuses})
			if err != nil {
				t.Fatal(err)
			}
			if page.Total != want {
				t.Errorf("%s: counted total %d, the rows number %d", tc.name, page.Total, want)
			}
		}
	})
}

func TestCountedFilter(t *testing.T) {
	for _, tc := range []struct {
		filter, search string
		want           []string
		ok             bool
	}{
		{"", "", nil, true},
		{" {} ", "", nil, true},
		{`{"status":"failed"}`, "", []string{"failed"}, true},
		{`{"status":{"$eq":"queued"}}`, "", []string{"queued"}, true},
		{`{"status":{"$in":["queued","failed"]}}`, "", []string{"queued", "failed"}, true},
		{"", "acme", nil, false},
		{`{"status":"nope"}`, "", nil, false},
		{`{"status":{"$in":[]}}`, "", nil, false},
		{`{"status":{"$ne":"failed"}}`, "", nil, false},
		{`{"status":"failed","priority":"high"}`, "", nil, false},
		{`{"priority":"high"}`, "", nil, false},
		{`{"status":{"$in":["queued"],"$eq":"queued"}}`, "", nil, false},
		{`not json`, "", nil, false},
	} {
		got, ok := CountedFilter(tc.filter, tc.search)
		if ok != tc.ok || (ok && !slices.Equal(got, tc.want)) {
			t.Errorf("CountedFilter(%q, %q) = %q, %v; want %q, %v", tc.filter, tc.search, got, ok, tc.want, tc.ok)
		}
	}
}
