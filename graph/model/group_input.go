package model

import "github.com/ocrinvoice/ocrinvoice/internal/invoice"

// CreateOcrJobGroupInput is the GraphQL input of createOcrJobGroup: the fields entgql
// generates for a group (ent.CreateOcrJobGroupInput) plus documents, which schema.graphqls
// adds with `extend input` (gqlgen.yml binds the type here).
type CreateOcrJobGroupInput struct {
	Name        string
	Description *string
	Spec        *invoice.GroupSpec
	CreatedBy   *string
	CallbackURL *string
	Documents   []*OcrJobGroupDocumentInput
}
