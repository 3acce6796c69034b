package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// depthLimit is a gqlgen extension that rejects operations whose selections nest
// deeper than Max fields (fragments count by what they expand to).
//
// Inside an introspection field (__schema, __type) an ofType selection adds no depth:
// graphql-js's standard introspection query (getIntrospectionQuery, sent by GraphiQL,
// codegen and Postman) follows a type's wrappers through eight nested ofType fields,
// which would exceed any useful limit, yet costs nothing, since a type has at most a
// few wrappers and a null ofType ends the chain. Every other field counts, in
// introspection too (__Type.fields.type.fields... can cycle), and the length of an
// ofType chain is bounded by Config.MaxQueryBytes and Config.MaxFields.
type depthLimit struct{ Max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string { return "DepthLimit" }

func (d depthLimit) Validate(graphql.ExecutableSchema) error {
	if d.Max < 1 {
		return fmt.Errorf("depth limit must be at least 1, got %d", d.Max)
	}
	return nil
}

func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, d.Max+1, 0, false); depth > d.Max {
		err := gqlerror.Errorf("operation is nested %d levels deep or more, more than the limit of %d", depth, d.Max)
		err.Extensions = map[string]any{"code": "DEPTH_LIMIT_EXCEEDED"}
		return err
	}
	return nil
}

// selectionDepth returns the depth of the deepest field under set, stopping once it
// reaches stop (so cyclic or huge documents cost little). introspection is true under
// __schema or __type, where ofType adds no level (see depthLimit).
func selectionDepth(set ast.SelectionSet, stop, level int, introspection bool) int {
	if level >= stop {
		return level
	}
	deepest := level
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			in := introspection || s.Name == "__schema" || s.Name == "__type"
			next := level + 1
			if introspection && s.Name == "ofType" {
				next = level
			}
			d = selectionDepth(s.SelectionSet, stop, next, in)
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, stop, level, introspection)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				d = selectionDepth(s.Definition.SelectionSet, stop, level, introspection)
			}
		}
		deepest = max(deepest, d)
		if deepest >= stop {
			return deepest
		}
	}
	return deepest
}
