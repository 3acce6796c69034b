package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
	"github.com/ocrinvoice/ocrinvoice/internal/database"
)

// CountedFilter reports whether a job list with this REST filter and search is one
// whose total the per-owner counters answer (database.JobCounts): no search, and a
// filter that is empty or restricts the status alone ({"status": "failed"},
// {"status": {"$eq": ...}} or {"status": {"$in": [...]}}). statuses are the statuses
// the filter keeps (nil: all). Any other filter, or one that ParseJobFilter would
// refuse, is not counted this way (ok false); the filter itself is still parsed and
// checked by JobFilter.
func CountedFilter(filter, search string) (statuses []string, ok bool) {
	if Canonical(search) != "" {
		return nil, false
	}
	if strings.TrimSpace(filter) == "" {
		return nil, true
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(filter), &doc); err != nil || len(doc) > 1 {
		return nil, false
	}
	if len(doc) == 0 {
		return nil, true
	}
	raw, ok := doc["status"]
	if !ok {
		return nil, false
	}
	valid := func(ss ...string) bool {
		if len(ss) == 0 {
			return false
		}
		for _, s := range ss {
			if !slices.Contains(Statuses, s) {
				return false
			}
		}
		return true
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, valid(one)
	}
	var ops map[string]json.RawMessage
	if json.Unmarshal(raw, &ops) != nil || len(ops) != 1 {
		return nil, false
	}
	if v, found := ops["$eq"]; found && json.Unmarshal(v, &one) == nil {
		return []string{one}, valid(one)
	}
	var many []string
	if v, found := ops["$in"]; found && json.Unmarshal(v, &many) == nil && len(many) <= MaxFilterIn {
		return many, valid(many...)
	}
	return nil, false
}

// countedTotal returns the number of jobs the caller of ctx sees in statuses (all when
// empty), summed from the counters the database keeps per owner and status, without
// reading jobs. ok is false when the counters cannot answer (a caller scoped to the
// empty owner, whose jobs the counters do not tell from jobs of no owner).
func (s *Service) countedTotal(ctx context.Context, db *ent.Client, statuses []string) (total int, ok bool, err error) {
	owner, scoped := auth.ScopeOf(ctx)
	if scoped && owner == "" {
		return 0, false, nil
	}
	d := dialect.SQLite
	if s.isPostgres(ctx, db) {
		d = dialect.Postgres
	}
	t := sql.Table(database.JobCounts)
	q := sql.Dialect(d).SelectExpr(sql.Expr("COALESCE(SUM(n), 0)")).From(t)
	var preds []*sql.Predicate
	if scoped {
		preds = append(preds, sql.EQ(t.C("owner"), owner))
	}
	if len(statuses) > 0 {
		args := make([]any, len(statuses))
		for i, st := range statuses {
			args[i] = st
		}
		preds = append(preds, sql.In(t.C("status"), args...))
	}
	if len(preds) > 0 {
		q.Where(sql.And(preds...))
	}
	query, args := q.Query()
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, false, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, false, fmt.Errorf("count jobs: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return 0, false, fmt.Errorf("count jobs: %w", err)
	}
	return int(n), true, nil
}
