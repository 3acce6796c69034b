package jobs

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrjobgroup"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrtemplate"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
)

// MaxSearchLen is the longest free-text search term, in bytes.
const MaxSearchLen = 256

// CheckSearch validates a free-text search term (the REST `search` parameter, the GraphQL
// `search` input): at most MaxSearchLen bytes of valid UTF-8 without NUL or other control
// characters, once surrounding white space is trimmed. Anything else is an apperr.Invalid with a detail on the field "search".
// The term itself is always compared as data: LIKE wildcards (% and _) and backslashes
// match themselves, and quotes never reach the SQL text.
func CheckSearch(term string) error {
	term = strings.TrimSpace(term) // as the search predicates do
	bad := func(msg string) error {
		return apperr.Invalid("invalid search: "+msg, apperr.Detail{Field: "search", Message: msg})
	}
	switch {
	case len(term) > MaxSearchLen:
		return bad(fmt.Sprintf("is %d bytes long, the limit is %d", len(term), MaxSearchLen))
	case !utf8.ValidString(term):
		return bad("must be valid UTF-8 text")
	case strings.IndexFunc(term, unicode.IsControl) >= 0:
		return bad("must not contain NUL or other control characters")
	}
	return nil
}

// searchable reports whether term can match stored text at all. Stored text is valid
// UTF-8 without NUL (validated on the way in), so a term that is not can only match
// nothing; PostgreSQL would even refuse it as a parameter.
func searchable(term string) bool {
	return utf8.ValidString(term) && !strings.ContainsRune(term, 0)
}

// SearchTemplates matches templates whose name or description contains term, ignoring case.
// An empty term matches every template; a term that is not valid UTF-8 or holds NUL
// matches none (callers refuse it first with CheckSearch).
func SearchTemplates(term string) predicate.OcrTemplate {
	term = Canonical(term) // stored names are in form C
	if term == "" {
		return func(*sql.Selector) {}
	}
	if !searchable(term) {
		return func(s *sql.Selector) { s.Where(sql.False()) }
	}
	return ocrtemplate.Or(ocrtemplate.NameContainsFold(term), ocrtemplate.DescriptionContainsFold(term))
}

// SearchGroups matches job groups whose name or description contains term, ignoring case.
// An empty term matches every group; a term that is not valid UTF-8 or holds NUL matches
// none (callers refuse it first with CheckSearch).
func SearchGroups(term string) predicate.OcrJobGroup {
	term = Canonical(term) // stored names are in form C
	if term == "" {
		return func(*sql.Selector) {}
	}
	if !searchable(term) {
		return func(s *sql.Selector) { s.Where(sql.False()) }
	}
	return ocrjobgroup.Or(ocrjobgroup.NameContainsFold(term), ocrjobgroup.DescriptionContainsFold(term))
}

// SearchJobs matches jobs whose jobNumber, documentName, invoice number, supplier name
// or customer name contains term, ignoring case (Unicode lower case, as
// strings.ToLower). An empty term matches every job; a term that is not valid UTF-8 or
// holds NUL matches none (callers refuse it first with CheckSearch).
//
// It reads an index rather than every job:
//
//   - SQLite: the FTS5 trigram index ocr_job_search (internal/database) finds the jobs
//     holding the term's trigrams; each is then checked with LIKE on its search text
//     (ocr_job_search_docs), so the result is exactly the substring match. A term of
//     fewer than 3 characters has no trigram: it is matched with LIKE over
//     ocr_job_search_docs alone, a table of one short row per job (ids and the five
//     texts, about a tenth of a job row), never over the jobs.
//   - PostgreSQL: ILIKE on the search text expression (database.JobSearchExpr), which
//     the pg_trgm GIN index ocrinvoicejob_search_trgm serves when the term has a run of
//     3 letters or digits (pg_trgm's trigrams are made of those). A shorter term, or
//     one of punctuation only, is matched by the same ILIKE without the index; the list
//     page then walks the sort index and stops at the page's end, and the total is
//     counted over the owner's rows.
//
// Terms holding a control character (CheckSearch refuses them) are matched column by
// column, as the separator of the search text is one.
func SearchJobs(term string) predicate.OcrInvoiceJob {
	term = Canonical(term) // stored names are in form C
	if term == "" {
		return func(*sql.Selector) {}
	}
	if !searchable(term) {
		return func(s *sql.Selector) { s.Where(sql.False()) }
	}
	if strings.IndexFunc(term, unicode.IsControl) >= 0 {
		return ocrinvoicejob.Or(
			ocrinvoicejob.JobNumberContainsFold(term),
			ocrinvoicejob.DocumentNameContainsFold(term),
			ocrinvoicejob.InvoiceNumberContainsFold(term),
			ocrinvoicejob.SupplierNameContainsFold(term),
			ocrinvoicejob.CustomerNameContainsFold(term),
		)
	}
	lower := strings.ToLower(term)
	like := "%" + escapeLike(lower) + "%"
	trigrams := utf8.RuneCountInString(lower) >= 3 && database.FTS5()
	return func(s *sql.Selector) {
		s.Where(sql.P(func(b *sql.Builder) {
			if b.Dialect() == dialect.Postgres {
				b.WriteString(database.JobSearchExpr(func(c string) string {
					return s.C(c) // the index's expression, with the query's table
				}))
				b.WriteString(" ILIKE ").Arg(like)
				return
			}
			b.Ident(s.C(ocrinvoicejob.FieldID)).WriteString(" IN (SELECT d.job_id FROM " + database.JobSearchDocs + " AS d WHERE ")
			if trigrams {
				b.WriteString("d.id IN (SELECT rowid FROM " + database.JobSearchFTS + " WHERE " + database.JobSearchFTS + " MATCH ").
					Arg(`"` + strings.ReplaceAll(lower, `"`, `""`) + `"`).WriteString(") AND ")
			}
			if !trigrams && isASCII(lower) {
				// SQLite's own LIKE folds ASCII letters alone, without a call into Go per
				// row; it finds exactly the matches in texts that are all ASCII. A text
				// with other characters (one may lower into ASCII: the Kelvin sign to k)
				// is also tried with LOWER, as before.
				b.WriteString("(d.body LIKE ").Arg(like).WriteString(` ESCAPE '\' OR (d.body GLOB '*[^' || char(10) || ' -~]*' AND LOWER(d.body) LIKE `).
					Arg(like).WriteString(` ESCAPE '\')))`)
				return
			}
			b.WriteString("LOWER(d.body) LIKE ").Arg(like).WriteString(` ESCAPE '\')`)
		}))
	}
}

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// escapeLike escapes LIKE's wildcards and its escape character (backslash) in s.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
