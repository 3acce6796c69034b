package jobs

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrjobgroup"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrtemplate"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
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
