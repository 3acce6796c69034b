package jobs

import (
	"strings"

	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrjobgroup"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrtemplate"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
)

// SearchTemplates matches templates whose name or description contains term, ignoring case.
// An empty term matches every template.
func SearchTemplates(term string) predicate.OcrTemplate {
	term = strings.TrimSpace(term)
	if term == "" {
		return func(*sql.Selector) {}
	}
	return ocrtemplate.Or(ocrtemplate.NameContainsFold(term), ocrtemplate.DescriptionContainsFold(term))
}

// SearchGroups matches job groups whose name or description contains term, ignoring case.
// An empty term matches every group.
func SearchGroups(term string) predicate.OcrJobGroup {
	term = strings.TrimSpace(term)
	if term == "" {
		return func(*sql.Selector) {}
	}
	return ocrjobgroup.Or(ocrjobgroup.NameContainsFold(term), ocrjobgroup.DescriptionContainsFold(term))
}
