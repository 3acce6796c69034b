package jobs

import (
	"context"
	"fmt"

	entgo "entgo.io/ent"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/ownerscope"
)

// ownerScope is the ent interceptor that confines every read of jobs, groups,
// templates and supplier profiles to what the owner of the caller's API key may see (auth.ScopeOf; the rule is
// internal/ownerscope's: its own jobs and groups; shared, built-in and its own
// templates): lists, counts, gets, GraphQL nodes, connections and edges alike, including
// the traversals of a query (a template's jobs, a group's jobs). A row of another owner is
// therefore simply not found. A context without a principal (a worker, the runner) is
// not scoped. Filters that reach rows through an edge (hasJobsWith, ...) are scoped by
// ent's generated edge predicates, with the same rule (see internal/ownerscope).
//
// Writes are not intercepted by ent; every write of the service loads its row through
// a scoped read first, and CreateJob / CreateGroup set createdBy from the principal
// (see ownerFor).
var ownerScope = ent.TraverseFunc(func(ctx context.Context, q ent.Query) error {
	owner, scoped := auth.ScopeOf(ctx)
	if !scoped {
		return nil
	}
	switch q := q.(type) {
	case *ent.OcrInvoiceJobQuery:
		q.Where(ownerscope.For(owner, ownerscope.JobsTable))
	case *ent.OcrJobGroupQuery:
		q.Where(ownerscope.For(owner, ownerscope.GroupsTable))
	case *ent.OcrTemplateQuery:
		q.Where(ownerscope.For(owner, ownerscope.TemplatesTable))
	case *ent.SupplierProfileQuery:
		q.Where(ownerscope.For(owner, ownerscope.ProfilesTable))
	}
	return nil
})

// withoutLayout is the ent interceptor that leaves a job's document_layout (up to
// megabytes, read only to teach a supplier profile) out of the rows a query of whole
// jobs reads (All, Only, First: lists and gets alike). A query that selects fields itself
// (GraphQL's field collection, or readLayout) is left alone.
var withoutLayout = ent.TraverseFunc(func(ctx context.Context, q ent.Query) error {
	jq, ok := q.(*ent.OcrInvoiceJobQuery)
	if !ok {
		return nil
	}
	qc := entgo.QueryFromContext(ctx)
	if qc == nil || len(qc.Fields) > 0 {
		return nil
	}
	switch qc.Op {
	case entgo.OpQueryAll, entgo.OpQueryOnly, entgo.OpQueryFirst:
		jq.Select(jobColumnsWithoutLayout...)
	}
	return nil
})

// jobColumnsWithoutLayout are the columns of a job but document_layout.
var jobColumnsWithoutLayout = func() []string {
	var cols []string
	for _, c := range ocrinvoicejob.Columns {
		if c != ocrinvoicejob.FieldDocumentLayout {
			cols = append(cols, c)
		}
	}
	return cols
}()

// installScope adds ownerScope (and withoutLayout) to c (a nil client, in tests of pure
// rules, has none).
func installScope(c *ent.Client) {
	if c == nil {
		return
	}
	c.OcrInvoiceJob.Intercept(ownerScope, withoutLayout)
	c.OcrJobGroup.Intercept(ownerScope)
	c.OcrTemplate.Intercept(ownerScope)
	c.SupplierProfile.Intercept(ownerScope)
}

// ownerFor returns the createdBy to store for a job or group that the caller asked to
// create (or update) with createdBy asked. A caller scoped to an owner (a submitter)
// acts for that owner: asking for no createdBy or its own gives its own; asking for
// another's is Forbidden. An admin (or the process itself) stores what it asks for; an
// admin creating without createdBy gets its own owner.
func ownerFor(ctx context.Context, asked string, creating bool) (string, error) {
	p, ok := auth.FromContext(ctx)
	asked = nfc(asked) // owners are compared and stored in normalisation form C
	if !ok {
		return asked, nil
	}
	if owner, scoped := p.Scope(); scoped {
		if asked != "" && asked != nfc(owner) {
			return "", apperr.Forbidden(fmt.Sprintf("createdBy is the owner of your API key (%q); it cannot be set to another owner", owner))
		}
		return owner, nil
	}
	if asked == "" && creating {
		return p.Owner, nil
	}
	return asked, nil
}

// OwnerFilter returns the test ownerScope applies to reads, for a caller that knows a
// job's or group's createdBy without reading it (from an event, say): whether ctx's
// principal may see what createdBy owns. The scope is taken from ctx once, when
// OwnerFilter is called.
func OwnerFilter(ctx context.Context) func(createdBy string) bool {
	owner, scoped := auth.ScopeOf(ctx)
	if !scoped {
		return func(string) bool { return true }
	}
	return func(createdBy string) bool { return createdBy == owner }
}
