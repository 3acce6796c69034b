package jobs

import (
	"context"
	"fmt"
	"slices"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
)

// GraphQL's job orderBy offers PRIORITY and STATUS, which mean ranks (Priorities,
// Statuses), not the alphabetical order of the stored names that entgql's pager would
// sort and compare its cursors by. A connection ordered by either is paged here instead,
// with the same Relay rules, cursors of the same shape (the order values, then the id) and
// the rank expression of the REST sort in both the ORDER BY and the cursor comparisons.

// rankedOrderFields are the GraphQL order fields of jobs, by name, with their column and,
// for those sorted by meaning, their rank.
var rankedOrderFields = map[string]struct {
	column string
	rank   []string
}{
	"CREATED_AT":      {column: ocrinvoicejob.FieldCreatedAt},
	"UPDATED_AT":      {column: ocrinvoicejob.FieldUpdatedAt},
	"JOB_NUMBER":      {column: ocrinvoicejob.FieldJobNumber},
	"DOCUMENT_NAME":   {column: ocrinvoicejob.FieldDocumentName},
	"DOCUMENT_TYPE":   {column: ocrinvoicejob.FieldDocumentType},
	"STATUS":          {column: ocrinvoicejob.FieldStatus, rank: Statuses},
	"PRIORITY":        {column: ocrinvoicejob.FieldPriority, rank: Priorities},
	"STARTED_AT":      {column: ocrinvoicejob.FieldStartedAt},
	"COMPLETED_AT":    {column: ocrinvoicejob.FieldCompletedAt},
	"PROCESSING_TIME": {column: ocrinvoicejob.FieldProcessingTime},
	"COST":            {column: ocrinvoicejob.FieldCost},
	"RETRY_COUNT":     {column: ocrinvoicejob.FieldRetryCount},
}

// hasRankedOrder reports whether orderBy sorts by a field that has a rank.
func hasRankedOrder(orderBy []*ent.OcrInvoiceJobOrder) bool {
	for _, o := range orderBy {
		if o != nil && o.Field != nil && rankedOrderFields[o.Field.String()].rank != nil {
			return true
		}
	}
	return false
}

// rankTerm is one term of a ranked order: the expression and its direction as queried.
type rankTerm struct {
	field  *ent.OcrInvoiceJobOrderField
	column string
	rank   []string
	desc   bool
}

// expr writes the term's expression: the column, or the CASE giving its rank.
func (t rankTerm) expr(b *sql.Builder, s *sql.Selector) {
	if t.rank == nil {
		b.Ident(s.C(t.column))
		return
	}
	writeRankCase(b, s.C(t.column), t.rank)
}

// value is the cursor value v of the term as the expression compares it.
func (t rankTerm) value(v any) (any, error) {
	if t.rank == nil {
		return v, nil
	}
	i := slices.Index(t.rank, fmt.Sprint(v)) // a string, or the enum type before encoding
	if i < 0 {
		return nil, fmt.Errorf("%v is not one of %v", v, t.rank)
	}
	return i, nil
}

// writeRankCase writes CASE col WHEN rank[0] THEN 0 ... ELSE len(rank) END. The values are
// the schema's own enum, written as literals (ORDER BY expressions cannot carry arguments).
func writeRankCase(b *sql.Builder, col string, rank []string) {
	b.WriteString("CASE ").Ident(col)
	for i, v := range rank {
		b.WriteString(fmt.Sprintf(" WHEN '%s' THEN %d", v, i))
	}
	b.WriteString(fmt.Sprintf(" ELSE %d END", len(rank)))
}

// rankedJobConnection is JobConnection for an orderBy with a ranked field.
func (s *Service) rankedJobConnection(ctx context.Context, of JobsOf, p Page, orderBy []*ent.OcrInvoiceJobOrder, where *ent.OcrInvoiceJobWhereInput) (*ent.OcrInvoiceJobConnection, error) {
	switch {
	case p.First != nil && p.Last != nil:
		return nil, apperr.Invalid("passing both `first` and `last` to paginate a connection is not supported")
	case p.First != nil && *p.First < 0:
		return nil, apperr.InvalidField("first", "cannot be less than zero")
	case p.Last != nil && *p.Last < 0:
		return nil, apperr.InvalidField("last", "cannot be less than zero")
	}
	reverse := p.Last != nil
	var terms []rankTerm
	for _, o := range orderBy {
		if o == nil || o.Field == nil {
			continue
		}
		f, ok := rankedOrderFields[o.Field.String()]
		if !ok {
			return nil, apperr.InvalidField("orderBy", fmt.Sprintf("unknown field %s", o.Field.String()))
		}
		desc := o.Direction == entgql.OrderDirectionDesc
		if reverse {
			desc = !desc
		}
		terms = append(terms, rankTerm{field: o.Field, column: f.column, rank: f.rank, desc: desc})
	}
	q, err := where.Filter(s.client.OcrInvoiceJob.Query().Where(of.predicates()...))
	if err != nil {
		return nil, err
	}
	conn := &ent.OcrInvoiceJobConnection{Edges: []*ent.OcrInvoiceJobEdge{}}
	if conn.TotalCount, err = q.Clone().Count(ctx); err != nil {
		return nil, internal("count jobs", err)
	}
	if (p.First != nil && *p.First == 0) || (p.Last != nil && *p.Last == 0) {
		conn.PageInfo.HasNextPage = p.First != nil && conn.TotalCount > 0
		conn.PageInfo.HasPreviousPage = p.Last != nil && conn.TotalCount > 0
		return conn, nil
	}
	for _, c := range []struct {
		cur   *entgql.Cursor[string]
		after bool
	}{{p.After, true}, {p.Before, false}} {
		if c.cur == nil {
			continue
		}
		pred, err := rankCursorPredicate(terms, c.cur, c.after != reverse, reverse)
		if err != nil {
			return nil, err
		}
		q.Where(pred)
	}
	limit := 0
	if p.First != nil {
		limit = *p.First + 1
	} else if p.Last != nil {
		limit = *p.Last + 1
	}
	if limit > 0 {
		q.Limit(limit)
	}
	idDesc := reverse
	q.Order(func(sel *sql.Selector) {
		for _, t := range terms {
			sel.OrderExprFunc(func(b *sql.Builder) {
				t.expr(b, sel)
				if t.desc {
					b.WriteString(" DESC")
				}
			})
		}
		sel.OrderExprFunc(func(b *sql.Builder) {
			b.Ident(sel.C(ocrinvoicejob.FieldID))
			if idDesc {
				b.WriteString(" DESC")
			}
		})
	})
	// The ids first, then the rows, as ListJobs does: the CASE sort orders narrow rows.
	ids, err := q.Unique(false).IDs(ctx)
	if err != nil {
		return nil, internal("list jobs", err)
	}
	nodes, err := jobsInOrder(ctx, s.client, ids)
	if err != nil {
		return nil, err
	}
	buildRankedConnection(conn, nodes, terms, p)
	return conn, nil
}

// rankCursorPredicate selects the rows past cur in the queried order (forward: after it;
// otherwise before it). The queried order is terms, then the id ascending, or descending
// when reverse.
func rankCursorPredicate(terms []rankTerm, cur *entgql.Cursor[string], forward, reverse bool) (func(*sql.Selector), error) {
	vals, ok := cur.Value.([]any)
	if !ok || len(vals) != len(terms) {
		return nil, apperr.Invalid("invalid cursor: it was made for another orderBy")
	}
	args := make([]any, len(terms))
	for i, t := range terms {
		v, err := t.value(vals[i])
		if err != nil {
			return nil, apperr.Invalid(fmt.Sprintf("invalid cursor: %v", err))
		}
		args[i] = v
	}
	// past reports whether "greater" is the way forward for a term sorted desc.
	past := func(desc bool) string {
		if desc == forward {
			return " < "
		}
		return " > "
	}
	return func(s *sql.Selector) {
		var ors []*sql.Predicate
		for k := 0; k <= len(terms); k++ {
			k := k
			ors = append(ors, sql.P(func(b *sql.Builder) {
				b.WriteString("(")
				for i := 0; i < k; i++ {
					terms[i].expr(b, s)
					b.WriteString(" = ").Arg(args[i]).WriteString(" AND ")
				}
				if k < len(terms) {
					terms[k].expr(b, s)
					b.WriteString(past(terms[k].desc)).Arg(args[k])
				} else {
					b.Ident(s.C(ocrinvoicejob.FieldID)).WriteString(past(reverse)).Arg(cur.ID)
				}
				b.WriteString(")")
			}))
		}
		s.Where(sql.Or(ors...))
	}, nil
}

// buildRankedConnection fills conn with nodes (one more than asked when there is another
// page) as entgql's pager does.
func buildRankedConnection(conn *ent.OcrInvoiceJobConnection, nodes []*ent.OcrInvoiceJob, terms []rankTerm, p Page) {
	conn.PageInfo.HasNextPage = p.Before != nil
	conn.PageInfo.HasPreviousPage = p.After != nil
	if p.First != nil && *p.First+1 == len(nodes) {
		conn.PageInfo.HasNextPage = true
		nodes = nodes[:len(nodes)-1]
	} else if p.Last != nil && *p.Last+1 == len(nodes) {
		conn.PageInfo.HasPreviousPage = true
		nodes = nodes[:len(nodes)-1]
	}
	if p.Last != nil {
		slices.Reverse(nodes)
	}
	conn.Edges = make([]*ent.OcrInvoiceJobEdge, len(nodes))
	for i, n := range nodes {
		vals := make([]any, len(terms))
		for j, t := range terms {
			vals[j], _ = t.field.Value(n)
		}
		conn.Edges[i] = &ent.OcrInvoiceJobEdge{Node: n, Cursor: ent.Cursor{ID: n.ID, Value: vals}}
	}
	if l := len(conn.Edges); l > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[l-1].Cursor
	}
}
