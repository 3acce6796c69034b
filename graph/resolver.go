// Package graph is the GraphQL API of ocrinvoice: a gqlgen server over the schema that
// entgql generates from ent/schema (ent.graphqls) plus the hand-written schema.graphqls.
// Resolvers stay thin: they decode, call internal/jobs, and return.
package graph

import (
	"log/slog"

	"github.com/ocrinvoice/ocrinvoice/internal/apikeys"
	"github.com/ocrinvoice/ocrinvoice/internal/jobs"
	"github.com/ocrinvoice/ocrinvoice/internal/live"
	"github.com/ocrinvoice/ocrinvoice/internal/uploads"
)

// Resolver is the resolver root; it holds the dependencies of every resolver.
type Resolver struct {
	svc       *jobs.Service
	log       *slog.Logger
	uploads   *uploads.Store // nil: uploadDocument is UNAVAILABLE
	uploadMax int64
	live      *live.Watcher  // nil: subscriptions are UNAVAILABLE
	apiKeys   *apikeys.Store // nil: API key management is UNAVAILABLE
}
