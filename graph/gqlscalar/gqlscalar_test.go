package gqlscalar

import (
	"bytes"
	"strings"
	"testing"
)

func TestTemplateSpecRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		in      any
		wantErr string
		wantOut string
	}{
		{"object", map[string]any{"issuer": "ACME", "keywords": []any{"ACME"}, "options": map[string]any{"currency": "EUR"}}, "", `"issuer":"ACME"`},
		{"json string", `{"priority":7}`, "", `"priority":7`},
		{"null", nil, "", `{"options":{}}`},
		{"unknown field", map[string]any{"keywrods": []any{"x"}}, "unknown field", ""},
		{"wrong type", 12, "must be an object", ""},
		{"bad json", "{", "TemplateSpec", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := UnmarshalTemplateSpec(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			MarshalTemplateSpec(spec).MarshalGQL(&buf)
			if !strings.Contains(buf.String(), tt.wantOut) {
				t.Errorf("marshalled %s, want it to contain %s", buf.String(), tt.wantOut)
			}
		})
	}
}
