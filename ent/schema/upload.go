package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Upload records that an owner uploaded a document to the content-addressed store
// (internal/uploads): one row per (owner, key). The stored file is shared by every owner
// that uploaded the same bytes; a job may name upload://KEY only when its owner has a row
// for KEY, and the file is deleted when the last row goes. It is not part of the GraphQL
// schema.
type Upload struct {
	ent.Schema
}

// Mixin of the Upload.
func (Upload) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, TimeMixin{}}
}

// Fields of the Upload.
func (Upload) Fields() []ent.Field {
	return []ent.Field{
		// The owner (createdBy) of the API key that uploaded it; empty without auth.
		field.String("owner").
			Default("").
			MaxLen(256),
		// Hex SHA-256 of the bytes: the store's key.
		field.String("key").
			NotEmpty().
			MaxLen(64),
		field.Int64("size").
			NonNegative(),
		field.String("content_type").
			MaxLen(64),
		// When a job of the owner last named the upload; unused uploads are deleted after
		// OCRINVOICE_UPLOAD_UNUSED_TTL.
		field.Time("used_at").
			Optional().
			Nillable(),
	}
}

// Indexes of the Upload.
func (Upload) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("owner", "key").Unique(),
		index.Fields("key"),
		index.Fields("created_at"),
	}
}

// Annotations of the Upload.
func (Upload) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
