package templates

import (
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// mustSpecTemplate builds a template whose fields are legacy-style regexes (typed by name
// as invoice2data does), with keyword "X".
func mustSpecTemplate(t *testing.T, fields map[string]string, opts ...Option) *Template {
	t.Helper()
	spec := invoice.TemplateSpec{Keywords: []string{"X"}, Fields: map[string]invoice.FieldRule{}}
	for k, v := range fields {
		_, r, _, _, err := parseField(k, &node{kind: yaml.ScalarNode, s: v})
		if err != nil {
			t.Fatal(err)
		}
		spec.Fields[k] = r
	}
	tpl, err := FromSpec("test", spec, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}
