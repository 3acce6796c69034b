package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// APIKey is one API key (see internal/auth). Only the SHA-256 of its secret is stored;
// the key itself is shown once, when it is created. It is not part of the generated
// GraphQL schema: admins manage keys through the hand-written apiKeys query and
// createApiKey / revokeApiKey mutations, which never expose the hash.
type APIKey struct {
	ent.Schema
}

// Mixin of the APIKey.
func (APIKey) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, TimeMixin{}}
}

// Fields of the APIKey.
func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		chars(field.String("name").
			NotEmpty(), 128),
		field.Enum("role").
			Values("admin", "submitter", "viewer"),
		// The createdBy of what the key creates and the scope of what a submitter sees;
		// empty for an admin or a viewer of every owner.
		// Limits in characters, as the jobs' createdBy it must equal (see chars).
		chars(field.String("owner").
			Default(""), 256),
		// Hex SHA-256 of the key's 32-byte secret.
		field.String("key_hash").
			NotEmpty().
			MaxLen(64).
			Sensitive(),
		field.Time("revoked_at").
			Optional().
			Nillable(),
		field.Time("last_used_at").
			Optional().
			Nillable(),
		// Per-key overrides of OCRINVOICE_RATE_LIMIT and OCRINVOICE_UPLOAD_CONCURRENCY.
		field.Float("rate_limit").
			Optional().
			Nillable(),
		field.Int("upload_concurrency").
			Optional().
			Nillable(),
	}
}

// Indexes of the APIKey.
func (APIKey) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("owner"),
	}
}

// Annotations of the APIKey.
func (APIKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
