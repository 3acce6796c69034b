package templates

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadFileShapes(t *testing.T) {
	tests := []struct {
		file     string
		name     string
		issuer   string
		keywords []string
		exclude  []string
		priority int
		check    func(t *testing.T, tpl *Template)
	}{
		{
			file: "legacy.yml", name: "legacy", issuer: "Acme Legacy GmbH",
			keywords: []string{"ACME-LEGACY"}, priority: DefaultPriority,
			check: func(t *testing.T, tpl *Template) {
				f := tpl.Spec.Fields
				if f["date"].Type != "date" || f["amount"].Type != "float" || f["amount_untaxed"].Type != "float" {
					t.Errorf("legacy name typing not applied: date=%q amount=%q", f["date"].Type, f["amount"].Type)
				}
				if r := f["amount_tax"]; r.Group != "sum" || r.Type != "float" || len(r.Regex) != 2 {
					t.Errorf("sum_amount_tax = %+v, want a float sum of 2 regexes under amount_tax", r)
				}
				if r := f["vat"]; r.Parser != "static" || r.Value != "DE123456789" {
					t.Errorf("static_vat = %+v", r)
				}
				if len(f["amount_untaxed"].Regex) != 2 {
					t.Errorf("list of regexes not kept: %+v", f["amount_untaxed"])
				}
				if tpl.Spec.Lines == nil || tpl.Spec.Lines.FirstLine == "" || tpl.Spec.Lines.Types["qty"] != "int" {
					t.Errorf("top-level lines not loaded: %+v", tpl.Spec.Lines)
				}
				if tpl.Spec.Options.DecimalSeparator != "," || !reflect.DeepEqual(tpl.Spec.Options.Languages, []string{"de"}) {
					t.Errorf("options = %+v", tpl.Spec.Options)
				}
				wantOrder := []string{"invoice_number", "date", "amount", "amount_untaxed", "amount_tax", "vat", "partner_website"}
				if !reflect.DeepEqual(tpl.order, wantOrder) {
					t.Errorf("field order %v, want %v", tpl.order, wantOrder)
				}
			},
		},
		{
			file: "modern.yaml", name: "modern", issuer: "Modern Parser Ltd",
			keywords: []string{"Modern Parser Ltd", `GB\s?999`}, exclude: []string{"CREDIT NOTE"}, priority: 7,
			check: func(t *testing.T, tpl *Template) {
				f := tpl.Spec.Fields
				if f["amount"].Parser != "regex" || f["amount"].Type != "float" {
					t.Errorf("amount = %+v", f["amount"])
				}
				if f["partner_name"].Parser != "static" || f["partner_name"].Value != "Modern Parser Ltd" {
					t.Errorf("partner_name = %+v", f["partner_name"])
				}
				l := f["lines"]
				if l.Parser != "lines" || l.Lines == nil || l.Lines.Line == "" || len(l.Lines.SkipLine) != 1 {
					t.Errorf("fields.lines = %+v", l)
				}
				if !reflect.DeepEqual(tpl.Spec.Options.RequiredFields, []string{"invoice_number", "amount"}) {
					t.Errorf("top-level required_fields = %v", tpl.Spec.Options.RequiredFields)
				}
			},
		},
		{
			file: "shop.json", name: "shop", issuer: "JSON Shop BV",
			keywords: []string{"JSON Shop", "KVK 12345678"}, priority: DefaultPriority,
			check: func(t *testing.T, tpl *Template) {
				if len(tpl.Spec.Tables) != 2 || tpl.Spec.Tables[0].Body == "" || tpl.Spec.Tables[1].Types["points"] != "int" {
					t.Errorf("tables = %+v", tpl.Spec.Tables)
				}
				if tpl.Spec.Fields["date"].Type != "date" {
					t.Errorf("JSON legacy date not typed")
				}
			},
		},
		{
			file: "latin1.yml", name: "latin1", issuer: "Café Latin", keywords: []string{"Café"}, priority: DefaultPriority,
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			tpl, err := LoadFile(filepath.Join("testdata", "shapes", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if tpl.Name != tc.name || tpl.Spec.Issuer != tc.issuer || tpl.Priority() != tc.priority {
				t.Errorf("name %q issuer %q priority %d, want %q %q %d", tpl.Name, tpl.Spec.Issuer, tpl.Priority(), tc.name, tc.issuer, tc.priority)
			}
			if !reflect.DeepEqual(tpl.Spec.Keywords, tc.keywords) || !reflect.DeepEqual(tpl.Spec.ExcludeKeywords, tc.exclude) {
				t.Errorf("keywords %q exclude %q, want %q %q", tpl.Spec.Keywords, tpl.Spec.ExcludeKeywords, tc.keywords, tc.exclude)
			}
			if tc.check != nil {
				tc.check(t, tpl)
			}
			// The spec alone (as stored in the database) compiles to an equivalent template.
			again, err := FromSpec(tpl.Name, tpl.Spec)
			if err != nil {
				t.Fatalf("FromSpec of a loaded spec: %v", err)
			}
			if len(again.fields) != len(tpl.fields) {
				t.Errorf("FromSpec compiled %d fields, LoadFile %d", len(again.fields), len(tpl.fields))
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		file string
		want []string // substrings of the error
	}{
		{"malformed.yml", []string{"malformed.yml", "parse YAML"}},
		{"nokeywords.yml", []string{"nokeywords.yml", "no keywords"}},
		{"badparser.yml", []string{"badparser.yml", `unknown parser "xpath"`}},
		{"badkeyword.yml", []string{"badkeyword.yml", "keywords", "(unclosed"}},
		{"missing.yml", []string{"missing.yml", "no such file"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tc.file)
			_, err := LoadFile(path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	t.Run("folder with a bad file", func(t *testing.T) {
		_, err := LoadPath(filepath.Join("testdata", "bad"))
		if err == nil || !strings.Contains(err.Error(), "malformed.yml") || !strings.Contains(err.Error(), "nokeywords.yml") {
			t.Errorf("LoadPath error %v should name every bad file", err)
		}
	})
}

func TestLoadPath(t *testing.T) {
	tests := []struct {
		path  string
		names []string
	}{
		{filepath.Join("testdata", "folder"), []string{"a", "b"}},
		{filepath.Join("testdata", "folder", "sub", "b.json"), []string{"b"}},
		{filepath.Join("testdata", "shapes"), []string{"latin1", "legacy", "modern", "shop"}},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			ts, err := LoadPath(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, x := range ts {
				names = append(names, x.Name)
			}
			if !reflect.DeepEqual(names, tc.names) {
				t.Errorf("loaded %v, want %v", names, tc.names)
			}
		})
	}
	if ts, err := LoadPath(filepath.Join("testdata", "folder")); err == nil && ts[1].Spec.Issuer != "Beta" {
		t.Errorf("issuer defaults to the first keyword: got %q", ts[1].Spec.Issuer)
	}
}
