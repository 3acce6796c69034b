package graph

import (
	"context"

	"entgo.io/contrib/entgql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// jobsOf resolves the jobs connection of a template or a group (of: the jobs of that
// parent). The edges are unbound from ent's eager loading (entgql.Unbind in ent/schema)
// and resolved here for two reasons:
//   - a page size always applies (jobs.PageSize: 50 when neither first nor last is
//     given), where eager loading read every job of every parent listed;
//   - the query is a fresh one built with ctx, so the caller's owner scope reaches every
//     edge filter of where (internal/ownerscope reads it from the SQL selector's
//     context, which a traversal such as template.QueryJobs() does not carry).
//
// It costs one query per parent, which the operation's cost limit bounds.
func (r *Resolver) jobsOf(ctx context.Context, of jobs.JobsOf, after *entgql.Cursor[string], first *int, before *entgql.Cursor[string], last *int, orderBy []*ent.OcrInvoiceJobOrder, where *ent.OcrInvoiceJobWhereInput) (*ent.OcrInvoiceJobConnection, error) {
	first, last, err := jobs.PageSize(first, last)
	if err != nil {
		return nil, err
	}
	if err := r.svc.CheckFilterCost(whereCost(where), "where"); err != nil {
		return nil, err
	}
	return r.svc.JobConnection(ctx, of, jobs.Page{After: after, First: first, Before: before, Last: last}, orderBy, where)
}
