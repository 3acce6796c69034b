package jobs

import (
	"fmt"

	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
)

// Weights of the filter cost. A filter is costed before it runs, from its shape alone:
// the REST filter parameter (ParseJobFilter's language) with the search parameter, and
// the GraphQL where inputs. The weights are the relative costs of the conditions on the
// rows an index does not skip, measured at 100,000 jobs on SQLite (the slower of the two;
// BenchmarkWorstAcceptedFilter) in their dearest form ($ne, which holds for every row and
// so reads every condition of every row): a path in the metadata or another small JSON
// document costs some five column comparisons, a path in the extracted data (about
// 1.5 KB of JSON parsed per row) about twenty metadata paths, a case-insensitive
// substring match a function call per row and column. The search term is priced below
// its measured cost (about that of an extracted data path), so that two search terms, or
// one with a few conditions, stay within the default budget; the statement deadline
// bounds them anyway.
const (
	// FilterCostColumn is the cost of one comparison of a column (status, createdAt, ...).
	FilterCostColumn = 3
	// FilterColumnValuesPerCost: a $in / $nin list on a column costs one more per this
	// many values beyond the first.
	FilterColumnValuesPerCost = 10
	// FilterCostJSONPath is the cost of one comparison of a path inside a small JSON
	// field (metadata.source, progress.percentage, ...), for each value of a $in / $nin.
	FilterCostJSONPath = 15
	// FilterCostJSONLarge is FilterCostJSONPath for the large JSON fields of a job
	// (extractedData, validationResults).
	FilterCostJSONLarge = 150
	// FilterCostText is the cost of a substring or case-insensitive comparison of a
	// column (GraphQL ...Contains, ...HasPrefix, ...EqualFold, ...ContainsFold).
	FilterCostText = 60
	// FilterCostSearch is the cost of a free-text search term (REST search, GraphQL
	// where.search): a case-insensitive substring match on five columns.
	FilterCostSearch = 100
	// FilterCostEdge is the cost of a condition on a related object (GraphQL
	// hasTemplate, hasGroupWith, ...), to which the cost of its own conditions is added.
	FilterCostEdge = 5
)

// DefaultFilterCostLimit is the largest filter cost a request may ask for
// (OCRINVOICE_FILTER_COST_LIMIT's default): 13 conditions on metadata paths, one on an
// extracted data path and 16 column conditions, two search terms, a search term and six
// metadata conditions, or 66 column conditions. At 100,000 jobs on PostgreSQL the worst
// filters it accepts take about 1.2 s, within the API's 2 s statement deadline; on
// SQLite they may run past it on a busy machine (see BenchmarkWorstAcceptedFilter), and
// the deadline answers them 503.
const DefaultFilterCostLimit = 200

// EnvFilterCostLimit names the setting of the filter cost limit, for messages.
const EnvFilterCostLimit = "OCRINVOICE_FILTER_COST_LIMIT"

// FilterCostLimit returns the service's filter cost limit (0: no limit).
func (s *Service) FilterCostLimit() int { return s.filterCostLimit }

// CheckFilterCost refuses a filter whose cost is over the service's limit: an
// apperr.Invalid (400, BAD_USER_INPUT in GraphQL) with a detail on field (the request
// parameter, "filter" or "where") that names the cost, the budget and its setting.
func (s *Service) CheckFilterCost(cost int, field string) error {
	if s.filterCostLimit <= 0 || cost <= s.filterCostLimit {
		return nil
	}
	msg := fmt.Sprintf("filter cost %d exceeds the budget of %d (%s; a column condition costs %d, a JSON-path condition %d, on extractedData %d, a text match %d, a search %d): use fewer conditions",
		cost, s.filterCostLimit, EnvFilterCostLimit, FilterCostColumn, FilterCostJSONPath, FilterCostJSONLarge, FilterCostText, FilterCostSearch)
	return apperr.Invalid(msg, apperr.Detail{Field: field, Message: msg})
}

// searchCost is the cost of the REST search parameter term ("" costs nothing).
func searchCost(term string) int {
	if Canonical(term) == "" {
		return 0
	}
	return FilterCostSearch
}

// JobFilter parses the REST filter and search parameters of a job list (see
// ParseJobFilter, SearchJobs) into predicates, and refuses them when their cost is over
// the service's budget (CheckFilterCost).
func (s *Service) JobFilter(filter, search string) ([]predicate.OcrInvoiceJob, error) {
	p, cost, err := jobQuery.parseFilterCost(filter)
	if err != nil {
		return nil, err
	}
	if err := s.CheckFilterCost(cost+searchCost(search), "filter"); err != nil {
		return nil, err
	}
	var where []predicate.OcrInvoiceJob
	if p != nil {
		where = append(where, p)
	}
	if search != "" {
		where = append(where, SearchJobs(search))
	}
	return where, nil
}

// TemplateFilter is JobFilter for templates.
func (s *Service) TemplateFilter(filter, search string) ([]predicate.OcrTemplate, error) {
	p, cost, err := templateQuery.parseFilterCost(filter)
	if err != nil {
		return nil, err
	}
	if err := s.CheckFilterCost(cost+searchCost(search), "filter"); err != nil {
		return nil, err
	}
	var where []predicate.OcrTemplate
	if p != nil {
		where = append(where, p)
	}
	if search != "" {
		where = append(where, SearchTemplates(search))
	}
	return where, nil
}

// GroupFilter is JobFilter for job groups.
func (s *Service) GroupFilter(filter, search string) ([]predicate.OcrJobGroup, error) {
	p, cost, err := groupQuery.parseFilterCost(filter)
	if err != nil {
		return nil, err
	}
	if err := s.CheckFilterCost(cost+searchCost(search), "filter"); err != nil {
		return nil, err
	}
	var where []predicate.OcrJobGroup
	if p != nil {
		where = append(where, p)
	}
	if search != "" {
		where = append(where, SearchGroups(search))
	}
	return where, nil
}
