// Package gqlscalar holds the GraphQL scalars that map to Go types of other packages
// (gqlgen finds MarshalX/UnmarshalX functions here).
package gqlscalar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// MarshalTemplateSpec writes a template spec as a JSON object with the field names of
// invoice.TemplateSpec.
func MarshalTemplateSpec(v invoice.TemplateSpec) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		b, err := json.Marshal(v)
		if err != nil {
			// A TemplateSpec holds only strings, numbers and maps of them.
			_, _ = io.WriteString(w, "null")
			return
		}
		_, _ = w.Write(b)
	})
}

// UnmarshalTemplateSpec reads a template spec from a GraphQL input object (or a JSON
// string holding one). Unknown fields are an error naming them, so that a misspelt
// rule is never silently ignored.
func UnmarshalTemplateSpec(v any) (invoice.TemplateSpec, error) {
	var spec invoice.TemplateSpec
	var raw []byte
	switch t := v.(type) {
	case nil:
		return spec, nil
	case string:
		raw = []byte(t)
	case map[string]any:
		b, err := json.Marshal(t)
		if err != nil {
			return spec, fmt.Errorf("TemplateSpec: %w", err)
		}
		raw = b
	default:
		return spec, fmt.Errorf("TemplateSpec must be an object, got %T", v)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return spec, fmt.Errorf("TemplateSpec: %w", err)
	}
	return spec, nil
}

// MarshalJSONValue writes any JSON value (the JSON scalar): what encoding/json makes of
// v. A value it cannot encode (none of the field values can be such) is written as null.
func MarshalJSONValue(v any) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		b, err := json.Marshal(v)
		if err != nil {
			_, _ = io.WriteString(w, "null")
			return
		}
		_, _ = w.Write(b)
	})
}

// UnmarshalJSONValue reads a JSON scalar: a GraphQL literal or a variable's value, as
// is (strings, numbers, booleans, null, lists and objects of them). A value that cannot
// be encoded as JSON again is an error.
func UnmarshalJSONValue(v any) (any, error) {
	if _, err := json.Marshal(v); err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	return v, nil
}
