package graph

import (
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestOutage: a response is an outage (HTTP 503) only when one of its errors is
// UNAVAILABLE and it has no data; partial data keeps HTTP 200.
func TestOutage(t *testing.T) {
	coded := func(codes ...string) gqlerror.List {
		var l gqlerror.List
		for _, c := range codes {
			l = append(l, &gqlerror.Error{Message: c, Extensions: map[string]any{"code": c}})
		}
		return l
	}
	tests := []struct {
		name string
		resp graphql.Response
		want bool
	}{
		{"unavailable, data null", graphql.Response{Data: json.RawMessage(`null`), Errors: coded("UNAVAILABLE")}, true},
		{"unavailable, no data", graphql.Response{Errors: coded("UNAVAILABLE")}, true},
		{"unavailable, every field null", graphql.Response{Data: json.RawMessage(`{"a":null,"b":null}`), Errors: coded("NOT_FOUND", "UNAVAILABLE")}, true},
		{"unavailable, partial data", graphql.Response{Data: json.RawMessage(`{"a":null,"b":{"id":"x"}}`), Errors: coded("UNAVAILABLE")}, false},
		{"internal, data null", graphql.Response{Data: json.RawMessage(`null`), Errors: coded("INTERNAL")}, false},
		{"data, no error", graphql.Response{Data: json.RawMessage(`{"a":1}`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := outage(&tt.resp); got != tt.want {
				t.Errorf("outage = %v, want %v", got, tt.want)
			}
		})
	}
}
