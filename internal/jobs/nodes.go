package jobs

import (
	"context"
	"fmt"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrinvoicejob"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrjobgroup"
	"github.com/ocrinvoice/ocrinvoice/ent/ocrtemplate"
	"github.com/ocrinvoice/ocrinvoice/ent/supplierprofile"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
)

// NodeType returns the table that holds the object with the given id (jobs are looked
// up first, as they are by far the most common). Ids are unique across tables because
// every id comes from internal/ids. Errors: Invalid (not an id), NotFound.
func (s *Service) NodeType(ctx context.Context, id string) (string, error) {
	if err := checkID("id", id); err != nil {
		return "", err
	}
	db := s.db(ctx)
	checks := []struct {
		table string
		exist func() (bool, error)
	}{
		{ocrinvoicejob.Table, func() (bool, error) { return db.OcrInvoiceJob.Query().Where(ocrinvoicejob.ID(id)).Exist(ctx) }},
		{ocrtemplate.Table, func() (bool, error) { return db.OcrTemplate.Query().Where(ocrtemplate.ID(id)).Exist(ctx) }},
		{ocrjobgroup.Table, func() (bool, error) { return db.OcrJobGroup.Query().Where(ocrjobgroup.ID(id)).Exist(ctx) }},
		{supplierprofile.Table, func() (bool, error) {
			return db.SupplierProfile.Query().Where(supplierprofile.ID(id)).Exist(ctx)
		}},
	}
	for _, c := range checks {
		ok, err := c.exist()
		if err != nil {
			return "", internal("resolve node type", err)
		}
		if ok {
			return c.table, nil
		}
	}
	return "", apperr.NotFound(fmt.Sprintf("no object with id %s", id))
}

// PageSize applies the page size rules of Relay connections: when neither first nor
// last is given, first is DefaultLimit; each must be between 0 and MaxLimit.
// Errors: Invalid naming the argument.
func PageSize(first, last *int) (*int, *int, error) {
	if first == nil && last == nil {
		n := DefaultLimit
		return &n, nil, nil
	}
	for _, a := range []struct {
		name string
		v    *int
	}{{"first", first}, {"last", last}} {
		if a.v != nil && (*a.v < 0 || *a.v > MaxLimit) {
			return nil, nil, apperr.InvalidField(a.name, fmt.Sprintf("must be between 0 and %d", MaxLimit))
		}
	}
	return first, last, nil
}
