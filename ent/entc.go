//go:build ignore

// This program generates the ent client and the GraphQL schema (graph/ent.graphqls)
// from ent/schema. Run it through `go generate` in the module root (see generate.go).
package main

import (
	"fmt"
	"log"
	"regexp"
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

// contractWhere are the where inputs' fields filtered under the contract's words: every
// predicate of the field (documentURL, documentURLNEQ, documentURLIn, ...) gets the new
// name with the same suffix, bound to the same Go field; the old name stays, deprecated,
// with @aliasOf (graph's aliasOf refuses both names at once with different values). A
// job's template and group are filtered as templateId and groupId, not template and
// group: REST's filter takes a template by id or by name where these compare the id
// column only, and templateHasPrefix beside hasTemplate would read as a condition on
// the template itself.
var contractWhere = map[string][]contractName{
	"OcrInvoiceJobWhereInput": {
		{"documentURL", "documentUrl", "DocumentURL"}, {"templateID", "templateId", "TemplateID"}, {"groupID", "groupId", "GroupID"},
	},
	"SupplierProfileWhereInput": {{"taxID", "taxId", "TaxID"}, {"lastJobID", "lastJobId", "LastJobID"}},
}

// wherePredicates are the suffixes entgql gives the predicates of a field in a where input.
var wherePredicates = []string{
	"", "NEQ", "In", "NotIn", "GT", "GTE", "LT", "LTE", "Contains", "HasPrefix", "HasSuffix",
	"IsNil", "NotNil", "EqualFold", "ContainsFold",
}

// goInitialism matches a field named in Go's words (documentURL, taxIDIn), not the contract's.
var goInitialism = regexp.MustCompile(`(ID|URL)([A-Z]|$)`)

// contractNames renames the fields of contractInputs, contractOutputs and contractWhere,
// keeping each old name as a deprecated alias. An input field whose old name was
// required becomes optional under both names (graph checks that one is given). A where
// input field left in Go's words (a new edge's fooID) fails the generation.
func contractNames(_ *gen.Graph, s *ast.Schema) error {
	if err := contractWhereNames(s); err != nil {
		return err
	}
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

// contractWhereNames renames the where inputs' fields of contractWhere and declares
// @aliasOf.
func contractWhereNames(s *ast.Schema) error {
	s.Directives["aliasOf"] = &ast.DirectiveDefinition{
		Description: "A deprecated input field that sets what the field named field sets; both given with different values is BAD_USER_INPUT.",
		Name:        "aliasOf",
		Arguments:   ast.ArgumentDefinitionList{{Name: "field", Type: ast.NonNullNamedType("String", nil)}},
		Locations:   []ast.DirectiveLocation{ast.LocationInputFieldDefinition},
	}
	for typ, names := range contractWhere {
		def := s.Types[typ]
		if def == nil {
			return fmt.Errorf("contract names: no type %s", typ)
		}
		for _, n := range names {
			if fieldIndex(def, n.old) < 0 {
				return fmt.Errorf("contract names: no field %s.%s", typ, n.old)
			}
			for _, p := range wherePredicates {
				i := fieldIndex(def, n.old+p)
				if i < 0 {
					continue
				}
				old, name, bind := def.Fields[i], n.new+p, goField(n.goField+p, false)
				neu := &ast.FieldDefinition{Name: name, Type: old.Type, Description: old.Description, Directives: ast.DirectiveList{bind}}
				old.Description = ""
				old.Directives = ast.DirectiveList{deprecated(name), aliasOf(name), bind}
				def.Fields = append(def.Fields[:i], append(ast.FieldList{neu}, def.Fields[i:]...)...)
			}
		}
	}
	for name, def := range s.Types {
		if !strings.HasSuffix(name, "WhereInput") {
			continue
		}
		for _, f := range def.Fields {
			if goInitialism.MatchString(f.Name) && f.Directives.ForName("deprecated") == nil {
				return fmt.Errorf("contract names: %s.%s is in Go's words: add its field to contractWhere", name, f.Name)
			}
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

func aliasOf(field string) *ast.Directive {
	return &ast.Directive{Name: "aliasOf", Arguments: ast.ArgumentList{
		{Name: "field", Value: &ast.Value{Kind: ast.StringValue, Raw: field}},
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
