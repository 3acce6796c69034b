package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Codes of the errors of this file.
const (
	codeComplexityLimit  = "COMPLEXITY_LIMIT_EXCEEDED"
	codeResponseTooLarge = "RESPONSE_TOO_LARGE"
)

// costLimit is a gqlgen extension that estimates, before anything runs, how much an
// operation will resolve and return, with the values its arguments have in this request
// (variables included), and refuses it (COMPLEXITY_LIMIT_EXCEEDED, naming the estimate
// and the limit) when either figure is over its limit:
//
//   - the cost: every field counts once for each object it is resolved on. The edges
//     (and nodes) of a connection count once per element of its page: first or last
//     when given (the larger when both are), else DefaultPage, the page size every
//     connection takes when given neither (root lists and nested ones alike: a
//     template's or group's jobs resolve through jobsOf, which applies it); a field
//     returning a list whose size an argument sets
//     (nodes(ids:)) counts its selections once per element of the longest list
//     argument. In other words a field costs 1 + multiplier × the cost of its children.
//   - the objects: every value of an object, interface or union type in the answer
//     (connections, edges, nodes, nested objects), counted the same way: the sum, over
//     every such field, of the product of the multipliers along its path.
//
// Fragments count where they are spread, once per spread, all of their type conditions
// included (an estimate from above); what @skip / @include leave out is not counted.
// Lists without a size argument (lineItems, conditions) count as one element: their size
// is bounded by the data, not by the client. The walk visits every field once, so it
// must run after selectionLimits, which bounds the fields a document expands to.
type costLimit struct {
	MaxCost     int
	MaxNodes    int
	DefaultPage int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = costLimit{}

func (costLimit) ExtensionName() string { return "CostLimit" }

func (l costLimit) Validate(graphql.ExecutableSchema) error {
	switch {
	case l.MaxCost < 1:
		return fmt.Errorf("complexity limit must be at least 1, got %d", l.MaxCost)
	case l.MaxNodes < 1:
		return fmt.Errorf("node limit must be at least 1, got %d", l.MaxNodes)
	case l.DefaultPage < 0:
		return fmt.Errorf("default page size must not be negative, got %d", l.DefaultPage)
	}
	return nil
}

func (l costLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	e := estimateCost(oc.Doc, oc.Operation.SelectionSet, oc.Variables, l.DefaultPage)
	switch {
	case e.cost > int64(l.MaxCost):
		return limitError(codeComplexityLimit, fmt.Sprintf("operation has an estimated cost of %s (fields resolved, counted per object and per element of each page), more than the limit of %d", figure(e.cost), l.MaxCost))
	case e.nodes > int64(l.MaxNodes):
		return limitError(codeComplexityLimit, fmt.Sprintf("operation would return an estimated %s objects, more than the limit of %d", figure(e.nodes), l.MaxNodes))
	}
	return nil
}

// figure prints an estimate; one that saturated is only "enormous".
func figure(n int64) string {
	if n == math.MaxInt64 {
		return "more than 9223372036854775807"
	}
	return fmt.Sprint(n)
}

// costEstimate is the result of estimateCost.
type costEstimate struct {
	cost, nodes int64
}

// estimateCost walks set as costLimit describes. The figures saturate at math.MaxInt64.
func estimateCost(doc *ast.QueryDocument, set ast.SelectionSet, vars map[string]any, defaultPage int) costEstimate {
	w := costWalker{doc: doc, vars: vars, defaultPage: int64(defaultPage), active: map[string]bool{}}
	w.walk(set, 1, -1)
	return costEstimate{cost: w.cost, nodes: w.nodes}
}

type costWalker struct {
	doc         *ast.QueryDocument
	vars        map[string]any
	defaultPage int64
	cost, nodes int64
	active      map[string]bool // fragments being expanded on the current path
}

// walk counts the fields of set, resolved on each of times objects. page is the page
// size of the connection whose selections set holds, or -1 when set is not a
// connection's.
func (w *costWalker) walk(set ast.SelectionSet, times, page int64) {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if !w.included(s.Directives) {
				continue
			}
			n := times
			switch {
			case page >= 0 && (s.Name == "edges" || s.Name == "nodes"):
				n = mulSat(times, page)
			case s.Definition != nil && s.Definition.Type.Elem != nil:
				if size, ok := w.longestListArgument(s); ok {
					n = mulSat(times, size)
				}
			}
			w.cost = addSat(w.cost, n)
			if len(s.SelectionSet) == 0 {
				continue
			}
			w.nodes = addSat(w.nodes, n)
			w.walk(s.SelectionSet, n, w.pageSize(s))
		case *ast.InlineFragment:
			if w.included(s.Directives) {
				w.walk(s.SelectionSet, times, page)
			}
		case *ast.FragmentSpread:
			def := s.Definition
			if def == nil && w.doc != nil {
				def = w.doc.Fragments.ForName(s.Name)
			}
			if def == nil || w.active[s.Name] || !w.included(s.Directives) {
				continue
			}
			w.active[s.Name] = true
			w.walk(def.SelectionSet, times, page)
			delete(w.active, s.Name)
		}
	}
}

// pageSize is the number of elements the connection f returns: first or last (the
// larger when both are given; a negative one counts as 0), else the default page; -1
// when f is not a connection.
func (w *costWalker) pageSize(f *ast.Field) int64 {
	if f.Definition == nil || f.Definition.Type.Elem != nil || !strings.HasSuffix(f.Definition.Type.Name(), "Connection") {
		return -1
	}
	size, given := int64(0), false
	for _, name := range []string{"first", "last"} {
		if v, ok := w.argument(f, name); ok && v != nil {
			n, isInt := intValue(v)
			if !isInt {
				continue
			}
			size, given = max(size, n), true
		}
	}
	if !given {
		return w.defaultPage
	}
	return size
}

// longestListArgument is the length of the longest list argument of f (nodes' ids).
func (w *costWalker) longestListArgument(f *ast.Field) (int64, bool) {
	var size int64
	found := false
	for _, def := range f.Definition.Arguments {
		if def.Type.Elem == nil {
			continue
		}
		v, ok := w.argument(f, def.Name)
		if !ok || v == nil {
			continue
		}
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice {
			size, found = max(size, int64(rv.Len())), true
		}
	}
	return size, found
}

// argument is the value of f's argument name in this request: its literal, its
// variable's value, or its default.
func (w *costWalker) argument(f *ast.Field, name string) (any, bool) {
	if a := f.Arguments.ForName(name); a != nil && a.Value != nil {
		if a.Value.Kind == ast.Variable {
			v, ok := w.vars[a.Value.Raw]
			return v, ok
		}
		v, err := a.Value.Value(w.vars)
		return v, err == nil
	}
	if f.Definition == nil {
		return nil, false
	}
	if def := f.Definition.Arguments.ForName(name); def != nil && def.DefaultValue != nil {
		v, err := def.DefaultValue.Value(w.vars)
		return v, err == nil
	}
	return nil, false
}

// included tells whether @skip / @include let a selection through.
func (w *costWalker) included(dirs ast.DirectiveList) bool {
	for _, d := range dirs {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		a := d.Arguments.ForName("if")
		if a == nil || a.Value == nil {
			continue
		}
		v, err := a.Value.Value(w.vars)
		b, isBool := v.(bool)
		if err != nil || !isBool {
			continue // counted: an estimate from above
		}
		if (d.Name == "skip") == b {
			return false
		}
	}
	return true
}

// intValue reads an Int argument: int64 from a literal, json.Number or a Go integer
// from variables. Negative values are 0.
func intValue(v any) (int64, bool) {
	var n int64
	switch x := v.(type) {
	case int64:
		n = x
	case int:
		n = int64(x)
	case int32:
		n = int64(x)
	case float64:
		n = int64(min(x, 1e18))
	case json.Number:
		i, err := x.Int64()
		if err != nil {
			return 0, false
		}
		n = i
	default:
		return 0, false
	}
	return max(n, 0), true
}

func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func mulSat(a, b int64) int64 {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}

// responseSizeLimit is a gqlgen extension that drops the data of an answer whose
// marshalled data is over max bytes: the answer is then one error, RESPONSE_TOO_LARGE,
// naming the limit. It sits inside the mutation transaction, so a transactional
// mutation whose answer is dropped is rolled back; mutations that commit on their own
// (see mutationsThatEnqueue) keep their effect. Every event of a subscription is
// checked on its own.
type responseSizeLimit struct {
	max int
	log *slog.Logger
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = responseSizeLimit{}

func (responseSizeLimit) ExtensionName() string { return "ResponseSizeLimit" }

func (l responseSizeLimit) Validate(graphql.ExecutableSchema) error {
	if l.max < 1 {
		return fmt.Errorf("response size limit must be at least 1, got %d", l.max)
	}
	return nil
}

func (l responseSizeLimit) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if resp == nil || len(resp.Data) <= l.max {
		return resp
	}
	l.log.InfoContext(ctx, "GraphQL response too large", slog.Int("bytes", len(resp.Data)), slog.Int("limit", l.max))
	return &graphql.Response{
		Errors: gqlerror.List{{
			Message:    fmt.Sprintf("the answer is more than %d bytes long; select fewer fields or smaller pages", l.max),
			Extensions: withRequestID(ctx, map[string]any{"code": codeResponseTooLarge}),
		}},
		Extensions: resp.Extensions,
	}
}
