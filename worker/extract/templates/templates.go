// Package templates reads invoices with invoice2data templates (YAML or JSON, loaded as they
// are) and returns their fields under the contract's paths.
//
// A template is chosen with Select (all keywords found, no exclude_keyword found, highest
// priority first) and applied with Apply to the whole text of a document. Patterns are
// Python's `re` syntax, run by regexp2 after translating what differs (see translatePython),
// each match bounded by a timeout. Semantics follow invoice2data (src/invoice2data/extract):
// no regex flags by default, options applied to the text before matching, legacy field-name
// typing, the regex/static/lines parsers and the tables plugin.
package templates

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// DefaultPriority is invoice2data's priority of a template that states none.
const DefaultPriority = 5

// DefaultCurrency is the currency invoice2data reports when a template states none
// (Apply leaves the currency out instead, so a currency read from the document stands).
const DefaultCurrency = "EUR"

// Option tunes loading and compiling.
type Option func(*config)

type config struct {
	timeout time.Duration
	now     func() time.Time
}

// WithMatchTimeout bounds each regex match (default DefaultMatchTimeout).
func WithMatchTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithClock sets the clock used for dates printed without a year (default time.Now).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// Template is a compiled invoice2data template. It is safe for concurrent use.
type Template struct {
	// Name identifies the template (the file name without extension for loaded files).
	Name string
	// Spec is the template in the contract's vocabulary.
	Spec invoice.TemplateSpec
	// Path is the file it was loaded from ("" for FromSpec).
	Path string
	// LoadWarnings lists parts of the template that were read but have no effect here.
	LoadWarnings []string

	cfg      config
	order    []string // field names in template order
	keywords []*pyRegexp
	exclude  []*pyRegexp
	replace  []replaceRule
	fields   map[string]*compiledField
	lines    *compiledLines
	tables   []compiledTable
}

type replaceRule struct {
	re   *pyRegexp
	repl string
}

type compiledField struct {
	rule  invoice.FieldRule
	res   []*pyRegexp
	lines *compiledLines
}

type compiledTable struct {
	start, end, body, sep *pyRegexp
	types                 map[string]string
}

// FromSpec compiles a template given in the contract's vocabulary (as stored in an
// OcrTemplate). Fields are applied in name order. It fails when a pattern cannot be
// compiled or the spec has no keywords.
func FromSpec(name string, spec invoice.TemplateSpec, opts ...Option) (*Template, error) {
	order := make([]string, 0, len(spec.Fields))
	for k := range spec.Fields {
		order = append(order, k)
	}
	sort.Strings(order)
	t, err := newTemplate(name, spec, order, opts)
	if err != nil {
		return nil, fmt.Errorf("compile template %s: %w", name, err)
	}
	return t, nil
}

func newTemplate(name string, spec invoice.TemplateSpec, order []string, opts []Option) (*Template, error) {
	t := &Template{Name: name, Spec: spec, order: order, fields: map[string]*compiledField{}}
	t.cfg = config{timeout: DefaultMatchTimeout, now: time.Now}
	for _, o := range opts {
		o(&t.cfg)
	}
	if len(spec.Keywords) == 0 {
		return nil, errors.New("no keywords: a template needs at least one to be selected")
	}
	if t.Spec.Issuer == "" {
		t.Spec.Issuer = spec.Keywords[0]
	}
	for _, l := range spec.Options.Languages {
		if len(l) < 2 {
			return nil, fmt.Errorf("options.languages: %q is not a language code", l)
		}
	}
	var err error
	if t.keywords, err = t.compileAll(spec.Keywords); err != nil {
		return nil, fmt.Errorf("keywords: %w", err)
	}
	if t.exclude, err = t.compileAll(spec.ExcludeKeywords); err != nil {
		return nil, fmt.Errorf("exclude_keywords: %w", err)
	}
	for i, r := range spec.Options.Replace {
		re, err := compilePython(r[0], t.cfg.timeout)
		if err != nil {
			return nil, fmt.Errorf("options.replace[%d]: %w", i, err)
		}
		t.replace = append(t.replace, replaceRule{re: re, repl: r[1]})
	}
	for _, f := range spec.Options.DateFormats {
		if _, err := compileStrftime(f); err != nil {
			return nil, fmt.Errorf("options.date_formats: %w", err)
		}
	}
	for _, name := range order {
		rule := spec.Fields[name]
		cf := &compiledField{rule: rule}
		switch rule.Parser {
		case "", "regex":
			if len(rule.Regex) == 0 {
				return nil, fmt.Errorf("field %q: no regex", name)
			}
			cf.res = t.compileSome(rule.Regex, fmt.Sprintf("field %q", name))
			if len(cf.res) == 0 {
				continue // every pattern is invalid: warned, field disabled
			}
		case "static":
		case "lines":
			if rule.Lines == nil {
				return nil, fmt.Errorf("field %q: parser lines without start/end/line", name)
			}
			if cf.lines, err = t.compileLines(*rule.Lines, nil); err != nil {
				t.warnf("field %q disabled: %v", name, err)
				continue
			}
		default:
			return nil, fmt.Errorf("field %q: unknown parser %q", name, rule.Parser)
		}
		switch rule.Group {
		case "", "first", "last", "sum", "min", "max", "join":
		default:
			return nil, fmt.Errorf("field %q: unknown group %q (want first, last, sum, min, max or join)", name, rule.Group)
		}
		t.fields[name] = cf
	}
	if spec.Lines != nil {
		if t.lines, err = t.compileLines(*spec.Lines, nil); err != nil {
			t.warnf("lines disabled: %v", err)
			t.lines = nil
		}
	}
	for i, tb := range spec.Tables {
		ct := compiledTable{types: tb.Types}
		for _, p := range []struct {
			dst **pyRegexp
			src string
		}{{&ct.start, tb.Start}, {&ct.end, tb.End}, {&ct.body, tb.Body}, {&ct.sep, orDefault(tb.LineSeparator, `\n`)}} {
			if *p.dst, err = compilePython(p.src, t.cfg.timeout); err != nil {
				break
			}
		}
		if err != nil {
			t.warnf("tables[%d] disabled: %v", i, err)
			continue
		}
		t.tables = append(t.tables, ct)
	}
	return t, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// warnf records a load warning: a part of the template that cannot work and is disabled.
// invoice2data compiles patterns only when it uses them, so a template with one broken
// pattern still loads there and fails only where that pattern is needed; here the part is
// disabled at load time and the rest of the template works.
func (t *Template) warnf(format string, args ...any) {
	t.LoadWarnings = append(t.LoadWarnings, fmt.Sprintf(format, args...))
}

// compileSome compiles the patterns that are valid and warns about the others.
func (t *Template) compileSome(patterns []string, where string) []*pyRegexp {
	out := make([]*pyRegexp, 0, len(patterns))
	for _, p := range patterns {
		re, err := compilePython(p, t.cfg.timeout)
		if err != nil {
			t.warnf("%s: pattern ignored: %v", where, err)
			continue
		}
		out = append(out, re)
	}
	return out
}

func (t *Template) compileAll(patterns []string) ([]*pyRegexp, error) {
	out := make([]*pyRegexp, 0, len(patterns))
	for _, p := range patterns {
		re, err := compilePython(p, t.cfg.timeout)
		if err != nil {
			return nil, err
		}
		out = append(out, re)
	}
	return out, nil
}

// Priority is the template's priority (DefaultPriority when it states none).
func (t *Template) Priority() int {
	if t.Spec.Priority == 0 {
		return DefaultPriority
	}
	return t.Spec.Priority
}

// Prepare applies the template's options to a document's text as invoice2data does before
// matching: remove_whitespace (runs of spaces), remove_accents, lowercase, then each
// replace (a regex substitution with Python's replacement syntax), in that order.
func (t *Template) Prepare(text string) (string, error) {
	o := t.Spec.Options
	if o.RemoveWhitespace {
		text = removeSpaces(text)
	}
	if o.RemoveAccents {
		text = removeAccents(text)
	}
	if o.Lowercase {
		text = strings.ToLower(text)
	}
	for _, r := range t.replace {
		var err error
		if text, err = r.re.sub(text, r.repl); err != nil {
			return text, fmt.Errorf("template %s: options.replace: %w", t.Name, err)
		}
	}
	return text, nil
}

func removeSpaces(s string) string {
	return strings.ReplaceAll(s, " ", "")
}

// removeAccents folds accented letters to their ASCII base ("é" -> "e", "ß" -> "ss"), as
// unidecode does for Latin text.
func removeAccents(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case 'ß':
			b.WriteString("ss")
		case 'æ':
			b.WriteString("ae")
		case 'Æ':
			b.WriteString("AE")
		case 'œ':
			b.WriteString("oe")
		case 'Œ':
			b.WriteString("OE")
		case 'ø':
			b.WriteByte('o')
		case 'Ø':
			b.WriteByte('O')
		case 'ł':
			b.WriteByte('l')
		case 'Ł':
			b.WriteByte('L')
		case 'đ':
			b.WriteByte('d')
		case 'Đ':
			b.WriteByte('D')
		default:
			if r < 0x80 {
				b.WriteRune(r)
				continue
			}
			b.WriteString(stripMarks(string(r)))
		}
	}
	return b.String()
}

// Matches reports whether the template applies to text: every keyword is found and no
// exclude_keyword is, after Prepare. A match timeout is an error.
func (t *Template) Matches(text string) (bool, error) {
	prepared, err := t.Prepare(text)
	if err != nil {
		return false, err
	}
	return t.matchesPrepared(prepared)
}

func (t *Template) matchesPrepared(prepared string) (bool, error) {
	for _, k := range t.keywords {
		ok, err := k.matches(prepared)
		if err != nil {
			return false, fmt.Errorf("template %s: keyword: %w", t.Name, err)
		}
		if !ok {
			return false, nil
		}
	}
	for _, k := range t.exclude {
		ok, err := k.matches(prepared)
		if err != nil {
			return false, fmt.Errorf("template %s: exclude_keyword: %w", t.Name, err)
		}
		if ok {
			return false, nil
		}
	}
	return true, nil
}

// Select returns the template that applies to text, as invoice2data picks it: templates are
// tried by priority (higher first; equal priorities keep the order of ts) and the first whose
// keywords all match and whose exclude_keywords do not is chosen. It returns nil when none
// matches. A template whose keyword match fails (timeout) is skipped.
func Select(ts []*Template, text string) *Template {
	sorted := slices.Clone(ts)
	sorted = slices.DeleteFunc(sorted, func(t *Template) bool { return t == nil })
	slices.SortStableFunc(sorted, func(a, b *Template) int { return b.Priority() - a.Priority() })
	for _, t := range sorted {
		if ok, err := t.Matches(text); err == nil && ok {
			return t
		}
	}
	return nil
}
