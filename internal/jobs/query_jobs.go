package jobs

import (
	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrjobgroup"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrtemplate"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
)

// jobQuery lists the contract fields of a job that the REST filter and sort accept, under their
// contract names. JSON fields (extractedData, metadata, ...) are reached with dotted paths.
var jobQuery = newQuerySchema("job", "createdAt",
	queryField{name: "_id", column: ocrinvoicejob.FieldID, kind: kindID, sortable: true},
	queryField{name: "jobNumber", column: ocrinvoicejob.FieldJobNumber, kind: kindString, sortable: true, nfc: true},
	queryField{name: "documentName", column: ocrinvoicejob.FieldDocumentName, kind: kindString, sortable: true, nfc: true},
	queryField{name: "documentUrl", column: ocrinvoicejob.FieldDocumentURL, kind: kindString, sortable: true},
	queryField{name: "documentType", column: ocrinvoicejob.FieldDocumentType, kind: kindEnum, sortable: true, nullable: true, emptyIsNull: true,
		enum: []string{"pdf", "png", "jpg", "jpeg", "tiff", "bmp", "xml"}},
	queryField{name: "template", column: ocrinvoicejob.FieldTemplateID, kind: kindID, sortable: true, byName: true},
	queryField{name: "group", column: ocrinvoicejob.FieldGroupID, kind: kindID, sortable: true, nullable: true},
	queryField{name: "status", column: ocrinvoicejob.FieldStatus, kind: kindEnum, sortable: true,
		enum: Statuses, rank: Statuses},
	queryField{name: "priority", column: ocrinvoicejob.FieldPriority, kind: kindEnum, sortable: true,
		enum: Priorities, rank: Priorities},
	queryField{name: "progress", column: ocrinvoicejob.FieldProgress, kind: kindJSON},
	queryField{name: "startedAt", column: ocrinvoicejob.FieldStartedAt, kind: kindTime, sortable: true, nullable: true},
	queryField{name: "completedAt", column: ocrinvoicejob.FieldCompletedAt, kind: kindTime, sortable: true, nullable: true},
	queryField{name: "processingTime", column: ocrinvoicejob.FieldProcessingTime, kind: kindFloat, sortable: true, nullable: true},
	queryField{name: "documentInfo", column: ocrinvoicejob.FieldDocumentInfo, kind: kindJSON},
	queryField{name: "extractedData", column: ocrinvoicejob.FieldExtractedData, kind: kindJSON, jsonCost: FilterCostJSONLarge},
	queryField{name: "confidence", column: ocrinvoicejob.FieldConfidence, kind: kindJSON},
	queryField{name: "validationResults", column: ocrinvoicejob.FieldValidationResults, kind: kindJSON, jsonCost: FilterCostJSONLarge},
	queryField{name: "cost", column: ocrinvoicejob.FieldCost, kind: kindFloat, sortable: true},
	queryField{name: "currency", column: ocrinvoicejob.FieldCurrency, kind: kindString, sortable: true},
	queryField{name: "errorLog", column: ocrinvoicejob.FieldErrorLog, kind: kindString, nullable: true, emptyIsNull: true},
	queryField{name: "retryCount", column: ocrinvoicejob.FieldRetryCount, kind: kindInt, sortable: true},
	queryField{name: "createdBy", column: ocrinvoicejob.FieldCreatedBy, kind: kindString, sortable: true, nullable: true, emptyIsNull: true},
	queryField{name: "metadata", column: ocrinvoicejob.FieldMetadata, kind: kindJSON},
	queryField{name: "createdAt", column: ocrinvoicejob.FieldCreatedAt, kind: kindTime, sortable: true},
	queryField{name: "updatedAt", column: ocrinvoicejob.FieldUpdatedAt, kind: kindTime, sortable: true},
)

// templateQuery lists the filterable and sortable fields of a template (REST names).
var templateQuery = newQuerySchema("template", "createdAt",
	queryField{name: "_id", column: ocrtemplate.FieldID, kind: kindID, sortable: true},
	queryField{name: "name", column: ocrtemplate.FieldName, kind: kindString, sortable: true, nfc: true},
	queryField{name: "description", column: ocrtemplate.FieldDescription, kind: kindString, sortable: true, nullable: true, emptyIsNull: true},
	queryField{name: "languages", column: ocrtemplate.FieldLanguages, kind: kindString, sortable: true},
	queryField{name: "dpi", column: ocrtemplate.FieldDpi, kind: kindInt, sortable: true},
	queryField{name: "pageSegmentationMode", column: ocrtemplate.FieldPageSegmentationMode, kind: kindInt, sortable: true},
	queryField{name: "spec", column: ocrtemplate.FieldSpec, kind: kindJSON},
	queryField{name: "defaultCurrency", column: ocrtemplate.FieldDefaultCurrency, kind: kindString, sortable: true},
	queryField{name: "pricePerPage", column: ocrtemplate.FieldPricePerPage, kind: kindFloat, sortable: true},
	queryField{name: "builtin", column: ocrtemplate.FieldBuiltin, kind: kindBool, sortable: true},
	queryField{name: "createdAt", column: ocrtemplate.FieldCreatedAt, kind: kindTime, sortable: true},
	queryField{name: "updatedAt", column: ocrtemplate.FieldUpdatedAt, kind: kindTime, sortable: true},
)

// groupQuery lists the filterable and sortable fields of a job group (REST names).
var groupQuery = newQuerySchema("group", "createdAt",
	queryField{name: "_id", column: ocrjobgroup.FieldID, kind: kindID, sortable: true},
	queryField{name: "name", column: ocrjobgroup.FieldName, kind: kindString, sortable: true, nfc: true},
	queryField{name: "description", column: ocrjobgroup.FieldDescription, kind: kindString, sortable: true, nullable: true, emptyIsNull: true},
	queryField{name: "spec", column: ocrjobgroup.FieldSpec, kind: kindJSON},
	queryField{name: "status", column: ocrjobgroup.FieldStatus, kind: kindJSON},
	queryField{name: "createdBy", column: ocrjobgroup.FieldCreatedBy, kind: kindString, sortable: true, nullable: true, emptyIsNull: true},
	queryField{name: "createdAt", column: ocrjobgroup.FieldCreatedAt, kind: kindTime, sortable: true},
	queryField{name: "updatedAt", column: ocrjobgroup.FieldUpdatedAt, kind: kindTime, sortable: true},
)

// ParseJobFilter translates a MongoDB-style filter document (the REST `filter` query parameter)
// into job predicates. Field names are the contract's (`_id`, `jobNumber`, `status`,
// `createdAt`, ...); dotted paths reach into the JSON fields (`extractedData.invoice.amounts.total`,
// `metadata.source`). Operators: $eq $ne $gt $gte $lt $lte $in $nin $exists $not $regex (with
// $options; see compileRegex), and $and $or $nor at any level; a bare value means $eq. priority
// and status compare by rank ($gte "high" is high or urgent), as they sort. Comparisons follow MongoDB: $ne, $nin and $not also
// match rows where the value is missing or null, and $eq null matches missing or null. Time fields
// take RFC 3339 strings (or YYYY-MM-DD); enum fields only their values; `_id`, `template` and
// `group` only ids. Values inside JSON paths compare only with values of the same JSON type.
//
// An empty raw string means no filter (nil, nil). Any unknown field or operator, wrong type or
// limit exceeded (MaxFilterBytes, MaxFilterDepth, MaxFilterIn, MaxFilterConditions) is an
// apperr.Invalid with a detail on the field "filter" that names it.
func ParseJobFilter(raw string) ([]predicate.OcrInvoiceJob, error) {
	p, err := jobQuery.parseFilter(raw)
	if err != nil || p == nil {
		return nil, err
	}
	return []predicate.OcrInvoiceJob{p}, nil
}

// JobOrder returns the ORDER BY of a job list for a contract sort field ("" = "createdAt") and
// direction ("asc" or "desc"; "" = "desc"). A field written "-field" sorts descending (with
// order "asc" that is an apperr.Invalid). priority and status sort by meaning, not
// alphabetically, in the order of Priorities (low to urgent) and Statuses (created,
// queued, processing, then the terminal completed, failed, cancelled). It has no id tie-breaker because Service.ListJobs
// appends "id DESC" to every order, which makes the order total. Nullable fields (startedAt, completedAt, processingTime, group, ...) sort NULLs
// first ascending and last descending on every database. An unknown field or direction is an
// apperr.Invalid naming the parameter ("sort" or "order").
func JobOrder(sortField, order string) ([]ocrinvoicejob.OrderOption, error) {
	return convertOrder[ocrinvoicejob.OrderOption](jobQuery, sortField, order)
}

// JobSortFields returns the contract names a job list can be sorted by, sorted.
func JobSortFields() []string { return jobQuery.names(true) }

// JobFilterFields returns the contract names a job filter accepts (JSON fields take dotted paths), sorted.
func JobFilterFields() []string { return jobQuery.names(false) }

// ParseTemplateFilter is ParseJobFilter for templates (fields: _id name description languages dpi
// pageSegmentationMode spec.* defaultCurrency pricePerPage builtin createdAt updatedAt).
func ParseTemplateFilter(raw string) ([]predicate.OcrTemplate, error) {
	p, err := templateQuery.parseFilter(raw)
	if err != nil || p == nil {
		return nil, err
	}
	return []predicate.OcrTemplate{p}, nil
}

// TemplateOrder is JobOrder for templates.
func TemplateOrder(sortField, order string) ([]ocrtemplate.OrderOption, error) {
	return convertOrder[ocrtemplate.OrderOption](templateQuery, sortField, order)
}

// TemplateSortFields returns the contract names a template list can be sorted by, sorted.
func TemplateSortFields() []string { return templateQuery.names(true) }

// ParseGroupFilter is ParseJobFilter for job groups (fields: _id name description spec.* status.*
// createdBy createdAt updatedAt).
func ParseGroupFilter(raw string) ([]predicate.OcrJobGroup, error) {
	p, err := groupQuery.parseFilter(raw)
	if err != nil || p == nil {
		return nil, err
	}
	return []predicate.OcrJobGroup{p}, nil
}

// GroupOrder is JobOrder for job groups.
func GroupOrder(sortField, order string) ([]ocrjobgroup.OrderOption, error) {
	return convertOrder[ocrjobgroup.OrderOption](groupQuery, sortField, order)
}

// GroupSortFields returns the contract names a group list can be sorted by, sorted.
func GroupSortFields() []string { return groupQuery.names(true) }

func convertOrder[O ~func(*sql.Selector)](s *querySchema, sortField, order string) ([]O, error) {
	terms, err := s.parseOrder(sortField, order)
	if err != nil {
		return nil, err
	}
	out := make([]O, len(terms))
	for i, t := range terms {
		out[i] = O(t)
	}
	return out, nil
}
