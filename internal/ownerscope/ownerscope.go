// Package ownerscope holds the one rule of which rows an owner may see, written as SQL
// predicates over ent's tables, so that it applies in the two places rows are reached:
//
//   - the query of a type itself: internal/jobs installs ent interceptors that add For to
//     every job, group and template query of a scoped caller;
//   - every filter that reaches another type through an edge (GraphQL's hasJobsWith,
//     hasGroupWith, hasTemplateWith, hasJobs, ... at any depth, inside and/or/not): ent's
//     generated edge predicates call Neighbors (see ent/template/ownerscope.tmpl), which
//     reads the caller from the context ent gives the SQL selector.
//
// Without the second, a filter such as ocrTemplates(where: {hasJobsWith: {createdBy:
// "teamA", search: "Acme"}}) answered by a teamB key counted teamA's jobs: an oracle on
// another owner's data.
//
// The rule: a scoped caller (a key with an owner, see auth.Principal.Scope) sees the jobs,
// groups and supplier profiles whose created_by is its owner, and the templates that are
// shared, built in, or created for its owner. An unscoped caller (an admin of every owner, the worker, the
// runner) sees everything. The package is a leaf below ent's generated code: it knows the
// tables by name and imports nothing of ours but internal/auth.
package ownerscope

import (
	"context"

	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/internal/auth"
)

// Tables whose rows belong to owners, as ent names them.
const (
	JobsTable      = "ocr_invoice_jobs"
	GroupsTable    = "ocr_job_groups"
	TemplatesTable = "ocr_templates"
	ProfilesTable  = "supplier_profiles"
)

// Scoped reports whether table holds rows that ownerscope confines.
func Scoped(table string) bool {
	switch table {
	case JobsTable, GroupsTable, TemplatesTable, ProfilesTable:
		return true
	}
	return false
}

// For returns the predicate that confines rows of table to what owner may see (nil for a
// table the rule does not cover). s must select from table (its columns are qualified
// with s.C).
func For(owner, table string) func(*sql.Selector) {
	switch table {
	case JobsTable, GroupsTable, ProfilesTable:
		return func(s *sql.Selector) { s.Where(sql.EQ(s.C("created_by"), owner)) }
	case TemplatesTable:
		return func(s *sql.Selector) {
			s.Where(sql.Or(
				sql.EQ(s.C("shared"), true),
				sql.EQ(s.C("builtin"), true),
				sql.EQ(s.C("created_by"), owner),
			))
		}
	}
	return nil
}

// Neighbors is the predicate ent's generated edge predicates add to the rows reached
// through an edge into table: For with the owner of the caller in the selector's
// context, nothing for an unscoped caller. ent passes the query's context down to the
// selectors of edge predicates (sqlgraph.HasNeighborsWith); a query built without one (a
// traversal such as template.QueryJobs()) would be unscoped here, which is why the
// GraphQL edges resolve through fresh queries (see graph's jobsOf).
func Neighbors(table string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		owner, scoped := auth.ScopeOf(s.Context())
		if !scoped {
			return
		}
		if p := For(owner, table); p != nil {
			p(s)
		}
	}
}

// Of returns the owner scope of ctx (see auth.ScopeOf).
func Of(ctx context.Context) (string, bool) { return auth.ScopeOf(ctx) }
