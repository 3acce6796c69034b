package graph

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/ocrinvoice/ocrinvoice/graph/generated"
)

// TestOperationPolicyCoversSchema walks the root fields of the executable schema and
// fails for one without an entry in operationPolicy (it would be admin-only by
// default), and for an entry naming a field the schema does not have.
func TestOperationPolicyCoversSchema(t *testing.T) {
	s := generated.NewExecutableSchema(generated.Config{}).Schema()
	roots := map[ast.Operation]*ast.Definition{ast.Query: s.Query, ast.Mutation: s.Mutation, ast.Subscription: s.Subscription}
	for op, def := range roots {
		if def == nil {
			t.Fatalf("schema has no %s type", op)
		}
		fields := map[string]bool{"__typename": true}
		for _, f := range def.Fields {
			fields[f.Name] = true
			if _, listed := requiredRole(op, f.Name); !listed {
				t.Errorf("%s.%s has no entry in operationPolicy: say which role it needs", def.Name, f.Name)
			}
		}
		for name := range operationPolicy[op] {
			if !fields[name] {
				t.Errorf("operationPolicy lists %s %s, which the schema does not have", op, name)
			}
		}
	}
	if role, listed := requiredRole(ast.Mutation, "noSuchMutation"); listed || role != "admin" {
		t.Errorf("an unlisted field needs %q (listed %v), want admin", role, listed)
	}
}
