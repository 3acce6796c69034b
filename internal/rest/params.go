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
}

// parseListParams reads limit (1..100, default 50), offset (>= 0, default 0), sort, order
// (asc|desc, default desc), search and filter. Every bad parameter is named in the details of one
// apperr.Invalid. A parameter given twice is an error (which value was meant is unclear).
// Parameters the contract does not know are ignored, as HTTP caches and proxies add some.
func parseListParams(q url.Values) (listParams, error) {
	p := listParams{Limit: defaultLimit}
	var details []apperr.Detail
	bad := func(field, format string, args ...any) {
		details = append(details, apperr.Detail{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	one := func(name string) (string, bool) {
		vs, ok := q[name]
		if !ok {
			return "", false
		}
		if len(vs) > 1 {
			bad(name, "given %d times, give it once", len(vs))
			return "", false
		}
		return vs[0], true
	}
	if v, ok := one("limit"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		switch {
		case err != nil:
			bad("limit", "must be an integer from 1 to %d, got %q", maxLimit, v)
		case n < 1 || n > maxLimit:
			bad("limit", "must be from 1 to %d, got %d", maxLimit, n)
		default:
			p.Limit = n
		}
	}
	if v, ok := one("offset"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		switch {
		case err != nil:
			bad("offset", "must be an integer >= 0, got %q", v)
		case n < 0:
			bad("offset", "must be >= 0, got %d", n)
		default:
			p.Offset = n
		}
	}
	if v, ok := one("sort"); ok {
		p.Sort = strings.TrimSpace(v)
	}
	if v, ok := one("order"); ok {
		v = strings.ToLower(strings.TrimSpace(v))
		if v != "" && v != "asc" && v != "desc" {
			bad("order", "must be asc or desc, got %q", v)
		}
		p.Order = v
	}
	if v, ok := one("search"); ok {
		v = strings.TrimSpace(v)
		if len(v) > maxSearchLen {
			bad("search", "is %d bytes long, the limit is %d", len(v), maxSearchLen)
		} else if err := jobs.CheckSearch(v); err != nil {
			for _, d := range apperr.As(err).Details {
				bad("search", "%s", d.Message)
			}
		}
		p.Search = v
	}
	if v, ok := one("filter"); ok {
		p.Filter = v
	}
	if len(details) > 0 {
		msgs := make([]string, len(details))
		for i, d := range details {
			msgs[i] = d.Field + " " + d.Message
		}
		return p, apperr.Invalid("invalid query parameters: "+strings.Join(msgs, "; "), details...)
	}
	return p, nil
}
