package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// OcrTemplate says how to read a family of invoices: OCR settings and extraction rules.
type OcrTemplate struct {
	ent.Schema
}

// Mixin of the OcrTemplate.
func (OcrTemplate) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, TimeMixin{}}
}

// Fields of the OcrTemplate.
func (OcrTemplate) Fields() []ent.Field {
	return []ent.Field{
		chars(field.String("name").
			Unique().
			NotEmpty().
			Annotations(entgql.OrderField("NAME")), 128),
		chars(field.String("description").
			Optional(), 4096),
		// Tesseract language codes joined by "+", e.g. "eng+deu".
		field.String("languages").
			Default("eng").
			MaxLen(256),
		field.Int("dpi").
			Default(300).
			Range(50, 1200),
		// Tesseract page segmentation mode (0..13).
		field.Int("page_segmentation_mode").
			Default(3).
			Range(0, 13),
		field.JSON("spec", invoice.TemplateSpec{}).
			Default(invoice.TemplateSpec{}).
			Annotations(entgql.Type("TemplateSpec")),
		field.String("default_currency").
			Default("USD").
			MaxLen(3),
		// Price of one page read with this template, in default_currency; 0 = the
		// service's configured price.
		field.Float("price_per_page").
			Default(0).
			Min(0),
		// Built-in templates (e.g. "generic") are created by the service at start.
		field.Bool("builtin").
			Default(false).
			Annotations(serverOwned),
		// The owner whose jobs may use the template (see internal/ownerscope); empty for
		// a template of no owner, which only unscoped callers (admins of every owner) see
		// unless it is shared.
		chars(field.String("created_by").
			Optional(), 256),
		// A shared template is visible to, and usable by, every owner; only admins set it.
		field.Bool("shared").
			Default(false),
	}
}

// Edges of the OcrTemplate.
func (OcrTemplate) Edges() []ent.Edge {
	return []ent.Edge{
		// Unbind: the jobs connection is resolved by graph (jobsOf), never eager-loaded,
		// so that it always gets a page size and a query that carries the caller's scope.
		edge.To("jobs", OcrInvoiceJob.Type).
			Annotations(entgql.RelayConnection(), entgql.Unbind(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Annotations of the OcrTemplate.
func (OcrTemplate) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField("ocrTemplates"),
		entgql.RelayConnection(),
		entgql.MultiOrder(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
