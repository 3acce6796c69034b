package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// OcrJobGroup is a batch of jobs, shaped like a Kubernetes Job: a spec written by
// clients and a status written by the reconciler.
type OcrJobGroup struct {
	ent.Schema
}

// Mixin of the OcrJobGroup.
func (OcrJobGroup) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, TimeMixin{}}
}

// Fields of the OcrJobGroup.
func (OcrJobGroup) Fields() []ent.Field {
	return []ent.Field{
		chars(field.String("name").
			NotEmpty().
			Annotations(entgql.OrderField("NAME")), 256),
		chars(field.String("description").
			Optional(), 4096),
		field.JSON("spec", invoice.GroupSpec{}).
			Default(invoice.GroupSpec{}),
		field.JSON("status", invoice.GroupStatus{}).
			Default(invoice.GroupStatus{Phase: invoice.GroupPhasePending}).
			Annotations(entgql.Type("OcrJobGroupStatus"), serverOwned),
		chars(field.String("created_by").
			Optional(), 256),
		// Webhook target for the group's jobs that have no callback_url of their own.
		field.String("callback_url").
			Optional().
			MaxLen(2048).
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Edges of the OcrJobGroup.
func (OcrJobGroup) Edges() []ent.Edge {
	return []ent.Edge{
		// Unbind: see OcrTemplate's jobs edge.
		edge.To("jobs", OcrInvoiceJob.Type).
			Annotations(entgql.RelayConnection(), entgql.Unbind(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Annotations of the OcrJobGroup.
func (OcrJobGroup) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField("ocrJobGroups"),
		entgql.RelayConnection(),
		entgql.MultiOrder(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
