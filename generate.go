// Package ocrinvoice is the module root. It holds the ordered code generation steps:
// ent (and the GraphQL schema entgql derives from it) first, then gqlgen.
package ocrinvoice

//go:generate go run -mod=mod ./ent/entc.go
//go:generate go tool gqlgen generate --config gqlgen.yml
