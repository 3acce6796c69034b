package graph

import (
	"errors"

	"github.com/ocrinvoice/ocrinvoice/ent"
	"github.com/ocrinvoice/ocrinvoice/ent/predicate"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
)

// errNoLive is what subscriptions answer on a server built without a live.Watcher.
var errNoLive = apperr.Unavailable("subscriptions are not available on this server", nil)

// errNoAPIKeys is what the API key operations answer on a server built without an
// apikeys.Store.
var errNoAPIKeys = apperr.Unavailable("API key management is not available on this server", nil)

// jobPredicate is the filter of an ocrInvoiceJobUpdated subscription: nil (every job)
// for an absent or empty where. Errors: Invalid for a where ent cannot turn into a
// predicate.
func jobPredicate(where *ent.OcrInvoiceJobWhereInput) (predicate.OcrInvoiceJob, error) {
	if where == nil {
		return nil, nil
	}
	p, err := where.P()
	switch {
	case errors.Is(err, ent.ErrEmptyOcrInvoiceJobWhereInput):
		return nil, nil
	case err != nil:
		return nil, apperr.Invalid("where: " + err.Error())
	}
	return p, nil
}
