package graph

import (
	"context"
	"fmt"
	"reflect"
	"slices"

	"github.com/99designs/gqlgen/graphql"
)

// aliasOf implements @aliasOf(field), which ent/entc.go puts on the deprecated names of
// the where inputs' fields (documentURLIn is documentUrlIn's). Both names set the same Go
// field, so without it the one later in the schema would silently win: it decodes the
// deprecated field (next) and, when the raw input object obj gives field as well with
// another value, refuses both with an Invalid error naming field. null under either name
// is no value, and a single value equals the list of it (GraphQL's list coercion).
func aliasOf(ctx context.Context, obj any, next graphql.Resolver, field string) (any, error) {
	v, err := next(ctx)
	if err != nil {
		return nil, err
	}
	raw, _ := obj.(map[string]any)
	pc := graphql.GetPathContext(ctx) // the deprecated field's own, set by its decoder
	if pc == nil || pc.Field == nil || raw[field] == nil || raw[*pc.Field] == nil {
		return v, nil
	}
	if !slices.Equal(inputWords(raw[field]), inputWords(raw[*pc.Field])) {
		return nil, aliasConflict(field, *pc.Field)
	}
	return v, nil
}

// inputWords is a raw input value (a query literal or a decoded JSON variable) as text,
// a list element by element: an ID given as 5 in the query and "5" in a variable is one
// value.
func inputWords(v any) []string {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice {
		return []string{fmt.Sprint(v)}
	}
	out := make([]string, rv.Len())
	for i := range out {
		out[i] = fmt.Sprint(rv.Index(i).Interface())
	}
	return out
}
