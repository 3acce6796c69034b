package schema

import (
	"encoding/json"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// SupplierProfile is what an owner's reviewed and e-invoice jobs taught about one
// supplier: the keys that recognise its documents (tax id, IBAN, normalised name, a
// fingerprint of the first page's layout; see invoice.SupplierKeys) and the rules that
// find its fields (opaque JSON, written by worker/profile). It belongs to the owner of
// the jobs it was learned from and is never used for another owner's jobs. It is
// written only by internal/jobs (learning, delete); GraphQL and REST read and delete it.
type SupplierProfile struct {
	ent.Schema
}

// Mixin of the SupplierProfile.
func (SupplierProfile) Mixin() []ent.Mixin {
	return []ent.Mixin{IDMixin{}, TimeMixin{}}
}

// Fields of the SupplierProfile.
func (SupplierProfile) Fields() []ent.Field {
	return []ent.Field{
		// The owner (createdBy) of the jobs the profile was learned from; empty for jobs
		// of no owner (see internal/ownerscope).
		chars(field.String("created_by").
			Default("").
			Annotations(serverOwned), 256),
		// Keys, normalised as invoice.SupplierKeys says. A tax id and an IBAN are NULL when
		// unknown, so that the unique indexes below hold the known ones only; a name and a
		// fingerprint are "" when unknown.
		field.String("tax_id").
			Optional().
			Nillable().
			MaxLen(64).
			Annotations(serverOwned),
		field.String("iban").
			Optional().
			Nillable().
			MaxLen(64).
			Annotations(serverOwned),
		field.String("name_key").
			Default("").
			MaxLen(512).
			Annotations(serverOwned),
		// 16 hex digits: a 64-bit SimHash of the first page's layout.
		field.String("fingerprint").
			Default("").
			MaxLen(16).
			Annotations(serverOwned),
		// The supplier's name as the last learned document wrote it.
		chars(field.String("display_name").
			Default("").
			Annotations(entgql.OrderField("DISPLAY_NAME"), serverOwned), 1024),
		// How the supplier's fields are found (worker/profile.Rules, JSON).
		field.JSON("rules", json.RawMessage{}).
			Optional().
			Annotations(entgql.Type("JSON"), serverOwned),
		// 1 when created, one more at every learning.
		field.Int("version").
			Default(1).
			Positive().
			Annotations(entgql.OrderField("VERSION"), serverOwned),
		// How many jobs taught the profile.
		field.Int("jobs_learned").
			Default(0).
			NonNegative().
			Annotations(entgql.OrderField("JOBS_LEARNED"), serverOwned),
		// The job the profile last learned from.
		field.String("last_job_id").
			Default("").
			MaxLen(24).
			Annotations(serverOwned),
	}
}

// Indexes of the SupplierProfile: the lookup of a document's supplier among its owner's
// profiles, by each key. A tax id and an IBAN name one supplier of an owner at most.
func (SupplierProfile) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("created_by", "tax_id").
			Unique(),
		index.Fields("created_by", "iban").
			Unique(),
		index.Fields("created_by", "name_key"),
		index.Fields("created_by", "fingerprint"),
		index.Fields("created_by", "updated_at"),
	}
}

// Annotations of the SupplierProfile.
func (SupplierProfile) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField("supplierProfiles"),
		entgql.RelayConnection(),
		entgql.MultiOrder(),
	}
}
