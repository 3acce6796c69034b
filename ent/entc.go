//go:build ignore

// This program generates the ent client and the GraphQL schema (graph/ent.graphqls)
// from ent/schema. Run it through `go generate` in the module root (see generate.go).
package main

import (
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithConfigPath("./gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("./graph/ent.graphqls"),
		entgql.WithWhereInputs(true),
		entgql.WithRelaySpec(true),
	)
	if err != nil {
		log.Fatalf("create entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Target:   "./ent",
		Package:  "github.com/ocrinvoice/ocrinvoice/ent",
		Features: []gen.Feature{gen.FeatureModifier, gen.FeatureExecQuery},
	},
		entc.Extensions(ex),
		// Owner scope on edge predicates (internal/ownerscope).
		entc.TemplateDir("./ent/template"),
	)
	if err != nil {
		log.Fatalf("run ent codegen: %v", err)
	}
}
