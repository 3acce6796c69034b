package rest

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// List query parameters of the contract: limit 1..jobs.MaxLimit (default jobs.DefaultLimit).
const (
	defaultLimit = jobs.DefaultLimit
	maxLimit     = jobs.MaxLimit
	// maxSearchLen bounds the free-text search term.
	maxSearchLen = 256
)

// listParams are the parsed query parameters of a list endpoint. Sort, Order and Filter are
// passed on as written; internal/jobs interprets and validates them.
type listParams struct {
	Limit  int
	Offset int
	Sort   string
	Order  string
	Search string
	Filter string
	// After is the cursor of a keyset page (nextCursor of the page before); "" = none.
	After string
	// offsetGiven: offset was given (even as 0), which after excludes.
	offsetGiven bool
}

// parseListParams reads limit (1..100, default 50), offset (>= 0, default 0), sort, order
// (asc|desc, default desc), search, filter and after (a cursor; not with offset). A parameter given empty (limit=) takes its
// default, as when absent. Every bad parameter is named in the details of one
// apperr.Invalid. A parameter given twice is an error (which value was meant is unclear).
// Parameters the contract does not know are ignored, as HTTP caches and proxies add some.
func parseListParams(q url.Values) (listParams, error) {
	p := listParams{Limit: defaultLimit}
	pr := &paramReader{q: q}
	pr.readLimit(&p)
	pr.readOffset(&p)
	if v, ok := pr.one("sort"); ok {
		p.Sort = strings.TrimSpace(v)
	}
	pr.readOrder(&p)
	pr.readSearch(&p)
	if v, ok := pr.one("filter"); ok {
		p.Filter = v
	}
	if v, ok := pr.one("after"); ok {
		p.After = strings.TrimSpace(v)
		if p.After != "" && p.offsetGiven {
			pr.bad("after", "cannot be given with offset: a cursor page continues where its page ended, give one of them")
		}
	}
	return p, pr.err()
}

// paramReader reads the query parameters of one request and collects their problems, so
// that a client learns all of them at once.
type paramReader struct {
	q       url.Values
	details []apperr.Detail
}

func (pr *paramReader) bad(field, format string, args ...any) {
	pr.details = append(pr.details, apperr.Detail{Field: field, Message: fmt.Sprintf(format, args...)})
}

// one returns the parameter's value and whether it was given, once; given twice it is a
// problem (which value was meant is unclear).
func (pr *paramReader) one(name string) (string, bool) {
	vs, ok := pr.q[name]
	if !ok {
		return "", false
	}
	if len(vs) > 1 {
		pr.bad(name, "given %d times, give it once", len(vs))
		return "", false
	}
	return vs[0], true
}

// readLimit reads limit; given empty (limit=) it takes its default, as when absent.
func (pr *paramReader) readLimit(p *listParams) {
	v, ok := pr.one("limit")
	if !ok || strings.TrimSpace(v) == "" {
		return
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	switch {
	case err != nil:
		pr.bad("limit", "must be an integer from 1 to %d, got %q", maxLimit, v)
	case n < 1 || n > maxLimit:
		pr.bad("limit", "must be from 1 to %d, got %d", maxLimit, n)
	default:
		p.Limit = n
	}
}

// readOffset reads offset; given empty (offset=) it takes its default, as when absent.
func (pr *paramReader) readOffset(p *listParams) {
	v, ok := pr.one("offset")
	if !ok || strings.TrimSpace(v) == "" {
		return
	}
	p.offsetGiven = true
	n, err := strconv.Atoi(strings.TrimSpace(v))
	switch {
	case err != nil:
		pr.bad("offset", "must be an integer >= 0, got %q", v)
	case n < 0:
		pr.bad("offset", "must be >= 0, got %d", n)
	default:
		p.Offset = n
	}
}

func (pr *paramReader) readOrder(p *listParams) {
	v, ok := pr.one("order")
	if !ok {
		return
	}
	v = strings.ToLower(strings.TrimSpace(v))
	if v != "" && v != "asc" && v != "desc" {
		pr.bad("order", "must be asc or desc, got %q", v)
	}
	p.Order = v
}

func (pr *paramReader) readSearch(p *listParams) {
	v, ok := pr.one("search")
	if !ok {
		return
	}
	v = strings.TrimSpace(v)
	if len(v) > maxSearchLen {
		pr.bad("search", "is %d bytes long, the limit is %d", len(v), maxSearchLen)
	} else if err := jobs.CheckSearch(v); err != nil {
		for _, d := range apperr.As(err).Details {
			pr.bad("search", "%s", d.Message)
		}
	}
	p.Search = v
}

// err returns the collected problems as one apperr.Invalid, or nil.
func (pr *paramReader) err() error {
	if len(pr.details) == 0 {
		return nil
	}
	msgs := make([]string, len(pr.details))
	for i, d := range pr.details {
		msgs[i] = d.Field + " " + d.Message
	}
	return apperr.Invalid("invalid query parameters: "+strings.Join(msgs, "; "), pr.details...)
}
