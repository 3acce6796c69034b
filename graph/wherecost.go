package graph

import (
	"reflect"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
)

// whereCost is the cost of an ent where input (*ent.OcrInvoiceJobWhereInput, ...) with
// the weights of the REST filter (jobs.FilterCost*): a column comparison costs
// jobs.FilterCostColumn (an In / NotIn list one more per jobs.FilterColumnValuesPerCost
// values beyond the first), a substring or case-insensitive one jobs.FilterCostText, a
// search term jobs.FilterCostSearch, a condition on an edge (hasTemplate,
// hasGroupWith: [...]) jobs.FilterCostEdge plus the cost of its own conditions; not,
// and, or add up their parts. The walk follows the generated struct by reflection, so
// that fields added to the schema are costed without a change here. nil costs 0.
func whereCost(where any) int {
	return structCost(reflect.ValueOf(where))
}

func structCost(v reflect.Value) int {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return 0
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return 0
	}
	cost := 0
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		if !f.IsExported() || fv.IsZero() {
			continue
		}
		edge := strings.HasPrefix(f.Name, "Has") && !strings.HasSuffix(f.Name, "Prefix") && !strings.HasSuffix(f.Name, "Suffix")
		switch {
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Func:
			// Predicates: added by the search input (the only one that adds them).
			cost += jobs.FilterCostSearch * fv.Len()
		case fv.Kind() == reflect.Pointer && fv.Elem().Kind() == reflect.Struct:
			cost += structCost(fv) // not
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Pointer:
			if edge {
				cost += jobs.FilterCostEdge // hasXWith: one subquery over its conditions
			}
			for j := range fv.Len() {
				cost += structCost(fv.Index(j)) // and, or, hasXWith
			}
		case fv.Kind() == reflect.Pointer && edge:
			cost += jobs.FilterCostEdge // hasX: true or false
		case fv.Kind() == reflect.Slice:
			cost += jobs.FilterCostColumn + max(0, fv.Len()-1)/jobs.FilterColumnValuesPerCost // In, NotIn
		case textPredicate(f.Name):
			cost += jobs.FilterCostText
		default:
			cost += jobs.FilterCostColumn
		}
	}
	return cost
}

// textPredicate reports a where field that compares text by substring or ignoring case.
func textPredicate(name string) bool {
	for _, s := range []string{"Contains", "HasPrefix", "HasSuffix", "EqualFold", "ContainsFold"} {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}
