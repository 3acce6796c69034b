package templates

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// maxTemplateSize refuses files that cannot be templates (invoice2data's are a few KiB).
const maxTemplateSize = 4 << 20

// LoadFile reads one invoice2data template (.yml, .yaml or .json) as invoice2data does and
// compiles it. The template's name is the file name without its extension. Errors name the
// file: unreadable, not YAML/JSON, no keywords, or a regex that cannot be compiled.
func LoadFile(path string, opts ...Option) (*Template, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, fmt.Errorf("load template %s: %w", path, err)
	}
	spec, order, warns, err := parseTemplate(data)
	if err != nil {
		return nil, fmt.Errorf("load template %s: %w", path, err)
	}
	name := filepath.Base(path)
	name = strings.TrimSuffix(name, filepath.Ext(name))
	t, err := newTemplate(name, spec, order, opts)
	if err != nil {
		return nil, fmt.Errorf("load template %s: %w", path, err)
	}
	t.Path = path
	t.LoadWarnings = append(warns, t.LoadWarnings...)
	return t, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, errors.New("is a directory")
	}
	if st.Size() > maxTemplateSize {
		return nil, fmt.Errorf("file is %d bytes, more than the %d a template may have", st.Size(), maxTemplateSize)
	}
	buf := make([]byte, 0, st.Size())
	b := bytes.NewBuffer(buf)
	if _, err := b.ReadFrom(f); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// IsTemplateFile reports whether a file name has an extension LoadPath reads.
func IsTemplateFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yml", ".yaml", ".json":
		return true
	}
	return false
}

// LoadPath loads a template file, or every .yml/.yaml/.json file under a folder
// (recursively, in lexical order, as invoice2data's loader walks it). Any file that fails
// to load fails the whole call, with an error naming it.
func LoadPath(path string, opts ...Option) ([]*Template, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load templates %s: %w", path, err)
	}
	if !st.IsDir() {
		t, err := LoadFile(path, opts...)
		if err != nil {
			return nil, err
		}
		return []*Template{t}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && IsTemplateFile(d.Name()) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load templates %s: %w", path, err)
	}
	sort.Strings(files)
	var out []*Template
	var errs []error
	for _, f := range files {
		t, err := LoadFile(f, opts...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, t)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// node is a YAML/JSON value with mapping order kept (invoice2data reads templates into
// OrderedDicts, and field order decides which of two same-named outputs wins).
type node struct {
	kind   yaml.Kind
	s      string // scalar text
	null   bool
	seq    []*node
	keys   []string
	fields map[string]*node
}

func (n *node) get(key string) *node {
	if n == nil || n.kind != yaml.MappingNode {
		return nil
	}
	return n.fields[key]
}

// toNode converts a yaml.Node. Duplicate keys are allowed and the last wins, as in PyYAML.
func toNode(y *yaml.Node) (*node, error) {
	switch y.Kind {
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return &node{kind: yaml.ScalarNode, null: true}, nil
		}
		return toNode(y.Content[0])
	case yaml.AliasNode:
		return toNode(y.Alias)
	case yaml.ScalarNode:
		return &node{kind: yaml.ScalarNode, s: y.Value, null: y.Tag == "!!null"}, nil
	case yaml.SequenceNode:
		n := &node{kind: yaml.SequenceNode}
		for _, c := range y.Content {
			cn, err := toNode(c)
			if err != nil {
				return nil, err
			}
			n.seq = append(n.seq, cn)
		}
		return n, nil
	case yaml.MappingNode:
		n := &node{kind: yaml.MappingNode, fields: map[string]*node{}}
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Value == "<<" { // merge key
				mv, err := toNode(v)
				if err != nil {
					return nil, err
				}
				for _, mk := range mv.keys {
					if _, ok := n.fields[mk]; !ok {
						n.keys = append(n.keys, mk)
					}
					n.fields[mk] = mv.fields[mk]
				}
				continue
			}
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: mapping key is not a scalar", k.Line)
			}
			vn, err := toNode(v)
			if err != nil {
				return nil, err
			}
			if _, ok := n.fields[k.Value]; !ok {
				n.keys = append(n.keys, k.Value)
			}
			n.fields[k.Value] = vn
		}
		return n, nil
	}
	return nil, fmt.Errorf("unsupported YAML node kind %d", y.Kind)
}

// parseTemplate decodes template bytes (YAML or JSON, which is YAML) into a TemplateSpec,
// the order of its fields and load warnings (parts of the template that are read but have
// no effect here, such as `area`).
func parseTemplate(data []byte) (invoice.TemplateSpec, []string, []string, error) {
	var spec invoice.TemplateSpec
	if !utf8.Valid(data) {
		// invoice2data guesses the encoding (chardet); non-UTF-8 templates are Latin-1/CP1252.
		data = []byte(latin1ToUTF8(data))
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var y yaml.Node
	if err := yaml.Unmarshal(data, &y); err != nil {
		return spec, nil, nil, fmt.Errorf("parse YAML/JSON: %w", err)
	}
	root, err := toNode(&y)
	if err != nil {
		return spec, nil, nil, fmt.Errorf("parse YAML/JSON: %w", err)
	}
	if root.kind == yaml.SequenceNode && len(root.seq) == 1 {
		root = root.seq[0] // a one-template list
	}
	if root.kind != yaml.MappingNode {
		return spec, nil, nil, errors.New("template is not a mapping (expected keys issuer, keywords, fields, options)")
	}
	var warns []string
	spec.Keywords = stringList(root.get("keywords"))
	if len(spec.Keywords) == 0 {
		return spec, nil, nil, errors.New("template has no keywords (invoice2data requires at least one)")
	}
	spec.ExcludeKeywords = stringList(root.get("exclude_keywords"))
	if is := root.get("issuer"); is != nil && !is.null {
		spec.Issuer = is.s
	} else {
		spec.Issuer = spec.Keywords[0]
	}
	opts := root.get("options")
	if p := firstNonNil(root.get("priority"), opts.get("priority")); p != nil {
		v, err := strconv.Atoi(strings.TrimSpace(p.s))
		if err != nil {
			return spec, nil, nil, fmt.Errorf("priority %q is not an integer", p.s)
		}
		spec.Priority = v
	}
	if opts != nil && opts.kind == yaml.MappingNode {
		o := &spec.Options
		if v := opts.get("currency"); v != nil {
			o.Currency = strings.TrimSpace(v.s)
		}
		if v := opts.get("decimal_separator"); v != nil && !v.null {
			o.DecimalSeparator = v.s
		}
		o.DateFormats = stringList(opts.get("date_formats"))
		o.Languages = stringList(opts.get("languages"))
		o.RemoveWhitespace = truthy(opts.get("remove_whitespace"))
		o.RemoveAccents = truthy(opts.get("remove_accents"))
		o.Lowercase = truthy(opts.get("lowercase"))
		if r := opts.get("replace"); r != nil && r.kind == yaml.SequenceNode {
			for i, pair := range r.seq {
				if pair.kind != yaml.SequenceNode || len(pair.seq) != 2 {
					return spec, nil, nil, fmt.Errorf("options.replace[%d] must be a list of exactly 2 strings", i)
				}
				o.Replace = append(o.Replace, [2]string{pair.seq[0].s, pair.seq[1].s})
			}
		}
		o.RequiredFields = stringList(opts.get("required_fields"))
	}
	if rf := root.get("required_fields"); rf != nil {
		spec.Options.RequiredFields = stringList(rf)
	}

	var order []string
	spec.Fields = map[string]invoice.FieldRule{}
	if fl := root.get("fields"); fl != nil && fl.kind == yaml.MappingNode {
		for _, k := range fl.keys {
			name, rule, ok, w, err := parseField(k, fl.fields[k])
			if err != nil {
				return spec, nil, nil, fmt.Errorf("field %q: %w", k, err)
			}
			warns = append(warns, w...)
			if !ok {
				continue
			}
			if _, dup := spec.Fields[name]; !dup {
				order = append(order, name)
			}
			spec.Fields[name] = rule
		}
	} else if fl != nil && !fl.null {
		return spec, nil, nil, errors.New("fields must be a mapping")
	}
	if ln := root.get("lines"); ln != nil && !ln.null {
		lr, err := parseLines(ln)
		if err != nil {
			return spec, nil, nil, fmt.Errorf("lines: %w", err)
		}
		spec.Lines = lr
	}
	if tb := root.get("tables"); tb != nil && !tb.null {
		items := tb.seq
		if tb.kind == yaml.MappingNode {
			items = []*node{tb}
		}
		for i, it := range items {
			if it.kind != yaml.MappingNode {
				return spec, nil, nil, fmt.Errorf("tables[%d] is not a mapping", i)
			}
			tr := invoice.TableRule{
				Start: it.get("start").str(), End: it.get("end").str(), Body: it.get("body").str(),
				LineSeparator: it.get("line_separator").str(),
			}
			if ty := it.get("types"); ty != nil && ty.kind == yaml.MappingNode {
				tr.Types = map[string]string{}
				for _, k := range ty.keys {
					tr.Types[k] = ty.fields[k].str()
				}
			}
			if tr.Start == "" || tr.End == "" || tr.Body == "" {
				return spec, nil, nil, fmt.Errorf("tables[%d] needs start, end and body", i)
			}
			spec.Tables = append(spec.Tables, tr)
		}
	}
	return spec, order, warns, nil
}

func (n *node) str() string {
	if n == nil || n.null {
		return ""
	}
	return n.s
}

func firstNonNil(ns ...*node) *node {
	for _, n := range ns {
		if n != nil && !n.null {
			return n
		}
	}
	return nil
}

// stringList reads "x" or ["x", "y"] (invoice2data accepts both for keywords and lists).
func stringList(n *node) []string {
	if n == nil || n.null {
		return nil
	}
	if n.kind == yaml.ScalarNode {
		return []string{n.s}
	}
	var out []string
	for _, c := range n.seq {
		if c.kind == yaml.ScalarNode && !c.null {
			out = append(out, c.s)
		}
	}
	return out
}

// truthy reads a YAML 1.1 boolean as PyYAML does (true/yes/on), and treats any other
// non-empty value (a list, say) as Python's truthiness would.
func truthy(n *node) bool {
	if n == nil || n.null {
		return false
	}
	if n.kind != yaml.ScalarNode {
		return len(n.seq) > 0 || len(n.keys) > 0
	}
	switch strings.ToLower(strings.TrimSpace(n.s)) {
	case "true", "yes", "on", "y", "1":
		return true
	}
	return false
}

// parseField turns one entry of `fields` into its rule, applying invoice2data's legacy
// conventions: static_X is the constant X; sum_amount_X with a list sums the matches;
// a plain regex (or list) for a name that starts or ends with "date" is a date, one that
// starts with "amount" is a float. ok is false for an entry with no value.
func parseField(key string, v *node) (string, invoice.FieldRule, bool, []string, error) {
	var r invoice.FieldRule
	if v == nil || v.null {
		return "", r, false, []string{fmt.Sprintf("field %q has no value and is ignored", key)}, nil
	}
	switch v.kind {
	case yaml.MappingNode:
		return parseFieldDict(key, v)
	case yaml.ScalarNode:
		if strings.HasPrefix(key, "static_") {
			return strings.TrimPrefix(key, "static_"), invoice.FieldRule{Parser: "static", Value: v.s}, true, nil, nil
		}
		r = invoice.FieldRule{Parser: "regex", Regex: []string{v.s}}
	case yaml.SequenceNode:
		if strings.HasPrefix(key, "static_") {
			return strings.TrimPrefix(key, "static_"), invoice.FieldRule{Parser: "static", Value: strings.Join(stringList(v), " ")}, true, nil, nil
		}
		r = invoice.FieldRule{Parser: "regex", Regex: stringList(v)}
	}
	name := key
	switch {
	case strings.HasPrefix(key, "sum_amount"):
		name = key[len("sum_"):]
		r.Type, r.Group = "float", "sum"
	case strings.HasPrefix(key, "date") || strings.HasSuffix(key, "date"):
		r.Type = "date"
	case strings.HasPrefix(key, "amount"):
		r.Type = "float"
	}
	return name, r, true, nil, nil
}

func parseFieldDict(key string, v *node) (string, invoice.FieldRule, bool, []string, error) {
	var warns []string
	r := invoice.FieldRule{
		Parser: strings.TrimSpace(v.get("parser").str()),
		Type:   strings.TrimSpace(v.get("type").str()),
		Group:  strings.TrimSpace(v.get("group").str()),
	}
	if v.get("area") != nil {
		warns = append(warns, fmt.Sprintf("field %q: area (a page region) is not supported; the whole text is searched", key))
	}
	if r.Parser == "" {
		// invoice2data skips such a field; infer the parser instead of losing it.
		switch {
		case v.get("regex") != nil:
			r.Parser = "regex"
		case v.get("value") != nil:
			r.Parser = "static"
		case v.get("start") != nil:
			r.Parser = "lines"
		default:
			return "", r, false, append(warns, fmt.Sprintf("field %q has no parser and is ignored", key)), nil
		}
	}
	switch r.Parser {
	case "regex":
		r.Regex = stringList(v.get("regex"))
		if len(r.Regex) == 0 {
			return "", r, false, nil, errors.New("parser regex without a regex")
		}
	case "static":
		val := v.get("value")
		if val == nil {
			return "", r, false, nil, errors.New("parser static without a value")
		}
		if val.kind == yaml.SequenceNode {
			r.Value = strings.Join(stringList(val), " ")
		} else {
			r.Value = val.s
		}
	case "lines":
		lr, err := parseLines(v)
		if err != nil {
			return "", r, false, nil, err
		}
		r.Lines = lr
	default:
		return "", r, false, nil, fmt.Errorf("unknown parser %q (want regex, static or lines)", r.Parser)
	}
	switch r.Type {
	case "", "int", "float", "date", "string", "str":
	default:
		return "", r, false, nil, fmt.Errorf("unknown type %q (want int, float or date)", r.Type)
	}
	return key, r, true, warns, nil
}

// parseLines reads a `lines` block: start, end, line, first_line, last_line (each a regex
// or a list of them), skip_line, types, line_separator, or a `rules` list of such blocks.
func parseLines(v *node) (*invoice.LinesRule, error) {
	if v.kind == yaml.SequenceNode { // a bare list of rules
		lr := &invoice.LinesRule{}
		for i, it := range v.seq {
			sub, err := parseLines(it)
			if err != nil {
				return nil, fmt.Errorf("rule %d: %w", i, err)
			}
			lr.Rules = append(lr.Rules, *sub)
		}
		return lr, nil
	}
	if v.kind != yaml.MappingNode {
		return nil, errors.New("lines must be a mapping")
	}
	lr := &invoice.LinesRule{
		Start:         v.get("start").str(),
		End:           v.get("end").str(),
		LineSeparator: v.get("line_separator").str(),
		SkipLine:      stringList(v.get("skip_line")),
	}
	one := func(n *node) (string, []string) {
		l := stringList(n)
		if len(l) == 0 {
			return "", nil
		}
		return l[0], l[1:]
	}
	lr.Line, lr.LineMore = one(v.get("line"))
	lr.FirstLine, lr.FirstLineMore = one(v.get("first_line"))
	lr.LastLine, lr.LastLineMore = one(v.get("last_line"))
	if ty := v.get("types"); ty != nil && ty.kind == yaml.MappingNode {
		lr.Types = map[string]string{}
		for _, k := range ty.keys {
			lr.Types[k] = ty.fields[k].str()
		}
	}
	if rules := v.get("rules"); rules != nil && rules.kind == yaml.SequenceNode {
		for i, it := range rules.seq {
			sub, err := parseLines(it)
			if err != nil {
				return nil, fmt.Errorf("rule %d: %w", i, err)
			}
			lr.Rules = append(lr.Rules, *sub)
		}
	}
	if len(lr.Rules) == 0 {
		if lr.Start == "" || lr.End == "" {
			return nil, errors.New("lines need start and end")
		}
		if lr.Line == "" && lr.FirstLine == "" {
			return nil, errors.New("lines need a line (or first_line) regex")
		}
	}
	return lr, nil
}

func latin1ToUTF8(b []byte) string {
	// CP1252's 0x80..0x9F differ from Latin-1; map the printable ones invoice text uses.
	cp := map[byte]rune{0x80: '€', 0x82: '‚', 0x84: '„', 0x85: '…', 0x91: '‘', 0x92: '’', 0x93: '“', 0x94: '”', 0x96: '–', 0x97: '—'}
	var sb strings.Builder
	for _, c := range b {
		if r, ok := cp[c]; ok {
			sb.WriteRune(r)
		} else {
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}
