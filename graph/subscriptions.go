package graph

import (
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
)

// errNoLive is what subscriptions answer on a server built without a live.Watcher.
var errNoLive = apperr.Unavailable("subscriptions are not available on this server", nil)

// errNoAPIKeys is what the API key operations answer on a server built without an
// apikeys.Store.
var errNoAPIKeys = apperr.Unavailable("API key management is not available on this server", nil)
