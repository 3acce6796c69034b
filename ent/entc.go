//go:build ignore

// This program generates the ent client and the GraphQL schema (graph/ent.graphqls)
// from ent/schema. Run it through `go generate` in the module root (see generate.go).
package main

import (
	"fmt"
	"log"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	"github.com/vektah/gqlparser/v2/ast"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithConfigPath("./gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("./graph/ent.graphqls"),
		entgql.WithWhereInputs(true),
		entgql.WithRelaySpec(true),
		entgql.WithSchemaHook(contractNames),
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

// contractName is a GraphQL field that entgql names after the Go field (documentURL,
// templateID) but the REST API and the contract name otherwise (documentUrl, template).
type contractName struct{ old, new, goField string }

// contractInputs are the input fields renamed to the contract's words. The old name stays
// for one release as a deprecated alias (resolved by graph, which refuses both at once).
var contractInputs = map[string][]contractName{
	"CreateOcrInvoiceJobInput": {
		{"documentURL", "documentUrl", "DocumentURL"}, {"callbackURL", "callbackUrl", "CallbackURL"},
		{"templateID", "template", "TemplateID"}, {"groupID", "group", "GroupID"},
	},
	"UpdateOcrInvoiceJobInput": {
		{"documentURL", "documentUrl", "DocumentURL"}, {"callbackURL", "callbackUrl", "CallbackURL"},
		{"clearCallbackURL", "clearCallbackUrl", "ClearCallbackURL"},
		{"templateID", "template", "TemplateID"}, {"groupID", "group", "GroupID"},
	},
	"CreateOcrJobGroupInput": {{"callbackURL", "callbackUrl", "CallbackURL"}},
	"UpdateOcrJobGroupInput": {
		{"callbackURL", "callbackUrl", "CallbackURL"}, {"clearCallbackURL", "clearCallbackUrl", "ClearCallbackURL"},
	},
}

// contractOutputs are the object fields shown under the contract's words too; the old
// name stays, deprecated. (A job's templateID and groupID keep their names: template and
// group are the objects themselves.)
var contractOutputs = map[string][]contractName{
	"OcrInvoiceJob":   {{"documentURL", "documentUrl", "DocumentURL"}, {"callbackURL", "callbackUrl", "CallbackURL"}},
	"OcrJobGroup":     {{"callbackURL", "callbackUrl", "CallbackURL"}},
	"SupplierProfile": {{"taxID", "taxId", "TaxID"}, {"lastJobID", "lastJobId", "LastJobID"}},
}

// contractNames renames the fields of contractInputs and contractOutputs, keeping each
// old name as a deprecated alias. An input field whose old name was required becomes
// optional under both names (graph checks that one is given).
func contractNames(_ *gen.Graph, s *ast.Schema) error {
	for typ, names := range contractInputs {
		def := s.Types[typ]
		if def == nil {
			return fmt.Errorf("contract names: no type %s", typ)
		}
		for _, n := range names {
			i := fieldIndex(def, n.old)
			if i < 0 {
				return fmt.Errorf("contract names: no field %s.%s", typ, n.old)
			}
			old := def.Fields[i]
			t := *old.Type
			t.NonNull = false
			neu := &ast.FieldDefinition{Name: n.new, Type: &t, Description: old.Description}
			if !strings.EqualFold(n.new, n.goField) {
				neu.Directives = ast.DirectiveList{goField(n.goField, false)}
			}
			old.Type = &t
			old.Directives = ast.DirectiveList{deprecated(n.new), goField(n.goField, true)}
			def.Fields = append(def.Fields[:i], append(ast.FieldList{neu}, def.Fields[i:]...)...)
		}
	}
	for typ, names := range contractOutputs {
		def := s.Types[typ]
		if def == nil {
			return fmt.Errorf("contract names: no type %s", typ)
		}
		for _, n := range names {
			i := fieldIndex(def, n.old)
			if i < 0 {
				return fmt.Errorf("contract names: no field %s.%s", typ, n.old)
			}
			old := def.Fields[i]
			neu := &ast.FieldDefinition{Name: n.new, Type: old.Type, Description: old.Description}
			old.Directives = append(old.Directives, deprecated(n.new))
			def.Fields = append(def.Fields[:i], append(ast.FieldList{neu}, def.Fields[i:]...)...)
		}
	}
	return nil
}

func fieldIndex(def *ast.Definition, name string) int {
	for i, f := range def.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

func deprecated(use string) *ast.Directive {
	return &ast.Directive{Name: "deprecated", Arguments: ast.ArgumentList{
		{Name: "reason", Value: &ast.Value{Kind: ast.StringValue, Raw: "Use " + use + "."}},
	}}
}

// goField binds a GraphQL field to the Go field name (with a resolver when resolver).
func goField(name string, resolver bool) *ast.Directive {
	args := ast.ArgumentList{{Name: "name", Value: &ast.Value{Kind: ast.StringValue, Raw: name}}}
	if resolver {
		args = append(args, &ast.Argument{Name: "forceResolver", Value: &ast.Value{Kind: ast.BooleanValue, Raw: "true"}})
	}
	return &ast.Directive{Name: "goField", Arguments: args}
}
