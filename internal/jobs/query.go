package jobs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/ocrinvoice/ocrinvoice/ent/ocrtemplate"
	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/ids"
)

// Limits of the MongoDB-style filter language accepted by ParseJobFilter, ParseTemplateFilter
// and ParseGroupFilter. They bound the SQL that one request can make the database run.
const (
	// MaxFilterBytes is the largest filter document, in bytes.
	MaxFilterBytes = 16 << 10
	// MaxFilterDepth is the deepest nesting of objects and arrays in a filter document.
	MaxFilterDepth = 8
	// MaxFilterIn is the largest $in / $nin list.
	MaxFilterIn = 100
	// MaxFilterConditions is the largest number of conditions (leaf comparisons) in one filter.
	MaxFilterConditions = 100
	// maxPathSegments is the largest number of segments in a dotted JSON path after the field.
	maxPathSegments = 8
)

// fieldKind is the value domain of a filterable or sortable contract field.
type fieldKind int

const (
	kindString fieldKind = iota // free text column
	kindEnum                    // text column restricted to queryField.enum
	kindID                      // 24-hex id column (string)
	kindTime                    // timestamp column; filter values are RFC 3339 (or YYYY-MM-DD) strings
	kindFloat                   // numeric column
	kindInt                     // integer column
	kindBool                    // boolean column
	kindJSON                    // JSON column; dotted paths reach into it
)

// queryField maps one contract field name to its column.
type queryField struct {
	name     string // contract (REST) name, e.g. "jobNumber"
	column   string // SQL column, e.g. "job_number"
	kind     fieldKind
	enum     []string // allowed values of a kindEnum field
	sortable bool
	nullable bool // the column may hold SQL NULL
	// emptyIsNull: the API shows "" as null (optional text such as createdBy), so filters and
	// sorting treat NULL and "" alike.
	emptyIsNull bool
	// nfc: the column holds names stored in normalisation form C (see Canonical), so
	// filter values are compared in that form too.
	nfc bool
	// jsonCost is the filter cost of one comparison of a path in this JSON field (0:
	// FilterCostJSONPath); large documents (the extracted data) cost more to read.
	jsonCost int
	// rank, for an enum sorted by meaning rather than alphabetically, lists its values
	// from the lowest to the highest (see parseOrder).
	rank []string
	// byName, for a kindID field that refers to a template, lets an equality name the
	// template as a job's create does: a value that is not an id is the template's name.
	byName bool
}

// isNull is the predicate "the column has no value": NULL, or also "" for emptyIsNull fields.
func (f queryField) isNull(s *sql.Selector) *sql.Predicate {
	if f.emptyIsNull {
		return sql.Or(sql.IsNull(s.C(f.column)), sql.EQ(s.C(f.column), ""))
	}
	return sql.IsNull(s.C(f.column))
}

// querySchema is the set of filterable and sortable fields of one entity.
type querySchema struct {
	entity      string // for messages, e.g. "job"
	fields      map[string]queryField
	defaultSort string
}

func newQuerySchema(entity, defaultSort string, fields ...queryField) *querySchema {
	s := &querySchema{entity: entity, fields: make(map[string]queryField, len(fields)), defaultSort: defaultSort}
	for _, f := range fields {
		s.fields[f.name] = f
	}
	return s
}

// names returns the field names (sorted), for error messages.
func (s *querySchema) names(onlySortable bool) []string {
	out := make([]string, 0, len(s.fields))
	for n, f := range s.fields {
		if onlySortable && !f.sortable {
			continue
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// selPred is a compiled filter node: given the selector of the query it returns the SQL predicate,
// with columns qualified by the selector's table.
type selPred func(s *sql.Selector) *sql.Predicate

// filterError is a 400 that names the offending part of the filter.
func filterError(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return apperr.Invalid("invalid filter: "+msg, apperr.Detail{Field: "filter", Message: msg})
}

// parseFilter turns a MongoDB-style filter document into one selector predicate.
// An empty (or all-blank) raw string means "no filter" and returns nil.
func (s *querySchema) parseFilter(raw string) (func(*sql.Selector), error) {
	p, _, err := s.parseFilterCost(raw)
	return p, err
}

// parseFilterCost is parseFilter that also returns the filter's cost (see FilterCost).
func (s *querySchema) parseFilterCost(raw string) (func(*sql.Selector), int, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, 0, nil
	}
	p, c, err := s.compileFilter(raw)
	if err != nil {
		return nil, 0, err
	}
	return p, c.cost, nil
}

func (s *querySchema) compileFilter(raw string) (func(*sql.Selector), *filterCompiler, error) {
	if len(raw) > MaxFilterBytes {
		return nil, nil, filterError("filter is %d bytes, the limit is %d", len(raw), MaxFilterBytes)
	}
	// encoding/json would quietly turn invalid bytes into U+FFFD, and PostgreSQL refuses
	// invalid UTF-8 and NUL in text with a driver error: refuse both here, by name.
	if !utf8.ValidString(raw) {
		return nil, nil, filterError("not valid UTF-8 (invalid byte at offset %d)", invalidUTF8Offset(raw))
	}
	if err := checkDepth(raw); err != nil {
		return nil, nil, err
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, nil, filterError("not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, filterError("not valid JSON: unexpected data after the filter object")
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, nil, filterError("the filter must be a JSON object, got %s", jsonTypeName(doc))
	}
	if err := checkText(doc); err != nil {
		return nil, nil, err
	}
	c := &filterCompiler{schema: s}
	p, err := c.object(obj)
	if err != nil {
		return nil, nil, err
	}
	if p == nil {
		return nil, c, nil
	}
	return func(sel *sql.Selector) { sel.Where(p(sel)) }, c, nil
}

// checkDepth rejects documents nested deeper than MaxFilterDepth before they are decoded.
func checkDepth(raw string) error {
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber() // a number is checked where it is used, not refused here as a float64
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return filterError("not valid JSON: %v", err)
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			if depth > MaxFilterDepth {
				return filterError("nested deeper than %d levels", MaxFilterDepth)
			}
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

// invalidUTF8Offset returns the offset of the first byte of s that is not valid UTF-8.
func invalidUTF8Offset(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n <= 1 {
				return i
			}
		}
	}
	return len(s)
}

// checkText refuses NUL characters (written \u0000 in JSON) in any key or string value
// of a decoded filter: no stored text holds one, and PostgreSQL cannot take one as a
// parameter.
func checkText(v any) error {
	switch v := v.(type) {
	case string:
		if strings.ContainsRune(v, 0) {
			return filterError("strings must not contain NUL characters (\\u0000), found in %s", jsonText(v))
		}
	case []any:
		for _, e := range v {
			if err := checkText(e); err != nil {
				return err
			}
		}
	case map[string]any:
		for k, e := range v {
			if strings.ContainsRune(k, 0) {
				return filterError("keys must not contain NUL characters (\\u0000), found in %s", jsonText(k))
			}
			if err := checkText(e); err != nil {
				return err
			}
		}
	}
	return nil
}

type filterCompiler struct {
	schema     *querySchema
	conditions int
	cost       int // see FilterCost
}

// charge adds the cost of one comparison op on t with operand v (see FilterCost).
func (c *filterCompiler) charge(t target, op string, v any) {
	values := 1
	if arr, ok := v.([]any); ok && (op == "$in" || op == "$nin") {
		values = max(1, len(arr))
	}
	if t.path != nil {
		per := t.f.jsonCost
		if per == 0 {
			per = FilterCostJSONPath
		}
		c.cost += per * values // each value of a $in is one more read of the path
		return
	}
	c.cost += FilterCostColumn + (values-1)/FilterColumnValuesPerCost
}

func (c *filterCompiler) count() error {
	c.conditions++
	if c.conditions > MaxFilterConditions {
		return filterError("more than %d conditions", MaxFilterConditions)
	}
	return nil
}

// object compiles a filter object: every key is a condition, all must hold (implicit $and).
// It returns nil for an empty object.
func (c *filterCompiler) object(obj map[string]any) (selPred, error) {
	keys := sortedKeys(obj)
	var preds []selPred
	for _, k := range keys {
		v := obj[k]
		var (
			p   selPred
			err error
		)
		switch {
		case k == "$and" || k == "$or" || k == "$nor":
			p, err = c.logical(k, v)
		case strings.HasPrefix(k, "$"):
			return nil, filterError("unknown operator %q at the top level (use $and, $or, $nor, or a field name)", k)
		default:
			p, err = c.field(k, v)
		}
		if err != nil {
			return nil, err
		}
		if p != nil {
			preds = append(preds, p)
		}
	}
	return andSel(preds), nil
}

func (c *filterCompiler) logical(op string, v any) (selPred, error) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil, filterError("%s needs a non-empty array of filter objects", op)
	}
	preds := make([]selPred, 0, len(arr))
	for i, e := range arr {
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, filterError("%s[%d] must be an object, got %s", op, i, jsonTypeName(e))
		}
		p, err := c.object(obj)
		if err != nil {
			return nil, err
		}
		if p == nil {
			// {} always holds; it still counts, or {"$or":[{},{},...]} would build
			// thousands of terms without reaching MaxFilterConditions.
			if err := c.count(); err != nil {
				return nil, err
			}
			c.cost += FilterCostColumn
			p = truePred
		}
		preds = append(preds, p)
	}
	switch op {
	case "$and":
		return andSel(preds), nil
	case "$or":
		return orSel(preds), nil
	default: // $nor
		return notSel(orSel(preds)), nil
	}
}

var pathSegment = regexp.MustCompile(`^(?:[A-Za-z_][A-Za-z0-9_-]{0,63}|[0-9]{1,4})$`)

// field compiles the condition on one field name (which may be a dotted JSON path).
func (c *filterCompiler) field(name string, v any) (selPred, error) {
	head, rest, dotted := strings.Cut(name, ".")
	f, ok := c.schema.fields[head]
	if !ok {
		return nil, filterError("unknown field %q (known: %s)", name, strings.Join(c.schema.names(false), ", "))
	}
	var path []string
	if dotted {
		if f.kind != kindJSON {
			return nil, filterError("field %q has no sub-fields, %q is not a valid path", head, name)
		}
		path = strings.Split(rest, ".")
		if len(path) > maxPathSegments {
			return nil, filterError("path %q is deeper than %d segments", name, maxPathSegments)
		}
		for _, seg := range path {
			// Segments are written into the SQL text (JSON path literals), so only safe
			// characters are accepted: identifiers and array indexes.
			if !pathSegment.MatchString(seg) {
				return nil, filterError("path %q: segment %q must be a name of letters, digits, '_' or '-', or an array index", name, seg)
			}
		}
	}
	t := target{f: f, path: path, name: name}
	if ops, ok := v.(map[string]any); ok && len(ops) > 0 && hasOperatorKey(ops) {
		return c.operators(t, ops)
	}
	if _, ok := v.(map[string]any); ok {
		return nil, filterError("field %q: compare with operators ($eq, $gt, ...) or a dotted path, not an object", name)
	}
	if err := c.count(); err != nil {
		return nil, err
	}
	c.charge(t, "$eq", v)
	return t.compare("$eq", v)
}

func hasOperatorKey(m map[string]any) bool {
	for k := range m {
		if strings.HasPrefix(k, "$") {
			return true
		}
	}
	return false
}

var comparisonOps = []string{"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$not", "$regex", "$options"}

// operators compiles {"$op": value, ...} for one field; all must hold.
func (c *filterCompiler) operators(t target, ops map[string]any) (selPred, error) {
	var preds []selPred
	for _, op := range sortedKeys(ops) {
		v := ops[op]
		if !strings.HasPrefix(op, "$") {
			return nil, filterError("field %q: %q mixes operators and field names", t.name, op)
		}
		if !slices.Contains(comparisonOps, op) {
			return nil, filterError("unknown operator %q on field %q (known: %s)", op, t.name, strings.Join(comparisonOps, " "))
		}
		if op == "$options" {
			if _, ok := ops["$regex"]; !ok {
				return nil, filterError("field %q: $options applies to $regex, which is missing", t.name)
			}
			continue // read with $regex
		}
		if op == "$regex" {
			if err := c.count(); err != nil {
				return nil, err
			}
			p, err := t.regex(c, v, ops["$options"])
			if err != nil {
				return nil, err
			}
			preds = append(preds, p)
			continue
		}
		if op == "$not" {
			inner, ok := v.(map[string]any)
			if !ok || len(inner) == 0 || !hasOperatorKey(inner) {
				return nil, filterError("field %q: $not needs an operator object such as {\"$gt\": 1}", t.name)
			}
			p, err := c.operators(t, inner)
			if err != nil {
				return nil, err
			}
			preds = append(preds, notSel(p))
			continue
		}
		if err := c.count(); err != nil {
			return nil, err
		}
		c.charge(t, op, v)
		p, err := t.compare(op, v)
		if err != nil {
			return nil, err
		}
		preds = append(preds, p)
	}
	return andSel(preds), nil
}

// target is the left-hand side of a comparison: a column, or a path inside a JSON column.
type target struct {
	f    queryField
	path []string // nil: the column itself
	name string   // as written by the client, for messages
}

func (t target) compare(op string, v any) (selPred, error) {
	switch op {
	case "$exists":
		b, ok := v.(bool)
		if !ok {
			return nil, filterError("field %q: $exists needs true or false", t.name)
		}
		p := t.exists()
		if !b {
			p = notSel(p)
		}
		return p, nil
	case "$in", "$nin":
		arr, ok := v.([]any)
		if !ok {
			return nil, filterError("field %q: %s needs an array", t.name, op)
		}
		if len(arr) > MaxFilterIn {
			return nil, filterError("field %q: %s has %d values, the limit is %d", t.name, op, len(arr), MaxFilterIn)
		}
		preds := make([]selPred, 0, len(arr))
		for _, e := range arr {
			p, err := t.eq(e)
			if err != nil {
				return nil, err
			}
			preds = append(preds, p)
		}
		var p selPred = falsePred
		if len(preds) > 0 {
			p = orSel(preds)
		}
		if op == "$nin" {
			p = notSel(p)
		}
		return p, nil
	case "$eq":
		return t.eq(v)
	case "$ne":
		p, err := t.eq(v)
		if err != nil {
			return nil, err
		}
		return notSel(p), nil
	default: // $gt $gte $lt $lte
		if v == nil {
			return nil, filterError("field %q: %s needs a value, not null", t.name, op)
		}
		return t.order(op, v)
	}
}

// regex: the text value matches a $regex pattern (see compileRegex); options is the
// $options value (nil when absent). Only text holds: a number, a missing value, null and,
// for fields that show "" as null, "" never match.
func (t target) regex(c *filterCompiler, pattern, options any) (selPred, error) {
	if t.path == nil {
		switch t.f.kind {
		case kindString, kindEnum, kindID:
		case kindJSON:
			return nil, filterError("field %q is an object: match one of its paths, e.g. %q", t.name, t.name+".key")
		default:
			return nil, filterError("field %q is not text: $regex does not apply", t.name)
		}
	}
	rx, err := compileRegex(t.name, pattern, options)
	if err != nil {
		return nil, err
	}
	if t.path == nil {
		c.cost += FilterCostRegex
		col, emptyIsNull := t.f.column, t.f.emptyIsNull
		return func(s *sql.Selector) *sql.Predicate {
			p := rx.predicate(func(b *sql.Builder) { b.Ident(s.C(col)) })
			if emptyIsNull {
				return sql.And(sql.NEQ(s.C(col), ""), p)
			}
			return p
		}, nil
	}
	per := t.f.jsonCost
	if per == 0 {
		per = FilterCostJSONPath
	}
	c.cost += per + FilterCostRegex
	j := t.jsonRef()
	return func(s *sql.Selector) *sql.Predicate {
		return sql.P(func(b *sql.Builder) {
			if b.Dialect() == dialect.Postgres {
				b.Join(rx.predicate(func(b *sql.Builder) { j.typed(b, s, "string") }))
				return
			}
			b.WriteString("(").Join(rx.predicate(func(b *sql.Builder) {
				b.WriteString("JSON_EXTRACT(").Ident(s.C(j.column)).WriteString(", ")
				j.sqlitePath(b)
				b.WriteString(")")
			})).WriteString(" AND ")
			j.typeOf(b, s)
			b.WriteString(" = 'text')")
		})
	}, nil
}

// exists: the value is present. For a column that is "not NULL"; for a JSON path "the key exists"
// (even when its value is JSON null, as in MongoDB).
func (t target) exists() selPred {
	if t.path == nil {
		if !t.f.nullable && t.f.kind != kindJSON {
			return truePred
		}
		return notSel(t.f.isNull)
	}
	j := t.jsonRef()
	return func(s *sql.Selector) *sql.Predicate {
		return sql.P(func(b *sql.Builder) {
			j.typeOf(b, s)
			b.WriteString(" IS NOT NULL")
		})
	}
}

// eq: equality with MongoDB's meaning; null matches a missing or null value.
func (t target) eq(v any) (selPred, error) {
	if t.path != nil {
		return t.jsonEq(v)
	}
	col := t.f.column
	if v == nil {
		if t.f.kind == kindJSON {
			return func(s *sql.Selector) *sql.Predicate { return sql.IsNull(s.C(col)) }, nil
		}
		if !t.f.nullable {
			return falsePred, nil
		}
		return t.f.isNull, nil
	}
	if v == "" && t.f.emptyIsNull {
		return t.f.isNull, nil
	}
	if t.f.kind == kindJSON {
		return nil, filterError("field %q is an object: compare one of its paths, e.g. %q", t.name, t.name+".key")
	}
	if s, ok := v.(string); ok && t.f.byName && !ids.Valid(s) {
		return t.templateNamed(s)
	}
	arg, err := t.columnValue(v)
	if err != nil {
		return nil, err
	}
	if _, frac := arg.(float64); frac && t.f.kind == kindInt {
		return falsePred, nil // an integer column never equals 1.5
	}
	return func(s *sql.Selector) *sql.Predicate { return sql.EQ(s.C(col), arg) }, nil
}

func (t target) order(op string, v any) (selPred, error) {
	if t.path != nil {
		return t.jsonOrder(op, v)
	}
	switch t.f.kind {
	case kindJSON:
		return nil, filterError("field %q is an object: compare one of its paths, e.g. %q", t.name, t.name+".key")
	case kindBool:
		return nil, filterError("field %q is a boolean: %s does not apply", t.name, op)
	}
	arg, err := t.columnValue(v)
	if err != nil {
		return nil, err
	}
	if t.f.rank != nil {
		// A ranked enum compares by rank, as it sorts: priority >= "high" is high or urgent.
		i, f, op := slices.Index(t.f.rank, arg.(string)), t.f, sqlOps[op]
		return func(s *sql.Selector) *sql.Predicate {
			return sql.P(func(b *sql.Builder) {
				writeRankCase(b, s.C(f.column), f.rank)
				b.WriteString(op).Arg(i)
			})
		}, nil
	}
	if f, frac := arg.(float64); frac && t.f.kind == kindInt {
		// PostgreSQL will not bind 1.5 to an integer column: compare with the integer that
		// gives the same answer (x > 1.5 is x > 1, x >= 1.5 is x >= 2, ...).
		switch op {
		case "$gt", "$lte":
			arg = int64(math.Floor(f))
		default:
			arg = int64(math.Ceil(f))
		}
	}
	col := t.f.column
	return func(s *sql.Selector) *sql.Predicate {
		switch op {
		case "$gt":
			return sql.GT(s.C(col), arg)
		case "$gte":
			return sql.GTE(s.C(col), arg)
		case "$lt":
			return sql.LT(s.C(col), arg)
		default:
			return sql.LTE(s.C(col), arg)
		}
	}, nil
}

// templateNamed: the column holds the id of the template named name (names are stored
// canonical, see Canonical). A name no template has matches nothing.
func (t target) templateNamed(name string) (selPred, error) {
	if strings.TrimSpace(name) == "" {
		return nil, filterError("field %q: \"\" is neither a template id nor a name", t.name)
	}
	if !searchable(name) {
		return falsePred, nil // no stored name holds such bytes
	}
	col, name := t.f.column, Canonical(name)
	return func(s *sql.Selector) *sql.Predicate {
		names := sql.Dialect(s.Dialect()).Select(ocrtemplate.FieldID).From(sql.Table(ocrtemplate.Table)).
			Where(sql.EQ(ocrtemplate.FieldName, name))
		return sql.In(s.C(col), names)
	}, nil
}

// columnValue converts a JSON value to the Go value of the column, or a 400 naming the field.
func (t target) columnValue(v any) (any, error) {
	switch t.f.kind {
	case kindString:
		s, ok := v.(string)
		if !ok {
			return nil, filterError("field %q needs a string, got %s", t.name, jsonTypeName(v))
		}
		if t.f.nfc {
			s = nfc(s)
		}
		return s, nil
	case kindEnum:
		s, ok := v.(string)
		if !ok || !slices.Contains(t.f.enum, s) {
			return nil, filterError("field %q: %s is not one of %s", t.name, jsonText(v), strings.Join(t.f.enum, ", "))
		}
		return s, nil
	case kindID:
		s, ok := v.(string)
		if !ok || !ids.Valid(s) {
			return nil, filterError("field %q: %s is not an id (24 lowercase hex characters)", t.name, jsonText(v))
		}
		return s, nil
	case kindTime:
		s, ok := v.(string)
		if !ok {
			return nil, filterError("field %q needs an RFC 3339 time string, got %s", t.name, jsonTypeName(v))
		}
		tm, err := ParseFilterTime(s)
		if err != nil {
			return nil, filterError("field %q: %v", t.name, err)
		}
		return tm, nil
	case kindFloat:
		n, ok := v.(json.Number)
		if !ok {
			return nil, filterError("field %q needs a number, got %s", t.name, jsonTypeName(v))
		}
		f, err := n.Float64()
		if err != nil || math.IsInf(f, 0) {
			return nil, filterError("field %q: %s is not a usable number", t.name, n)
		}
		return f, nil
	case kindInt:
		n, ok := v.(json.Number)
		if !ok {
			return nil, filterError("field %q needs an integer, got %s", t.name, jsonTypeName(v))
		}
		i, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil {
			// 2.5 compared with an integer column: compare as a float.
			f, ferr := n.Float64()
			if ferr != nil || math.Abs(f) > 1<<53 {
				return nil, filterError("field %q: %s is not a usable number", t.name, n)
			}
			return f, nil
		}
		return i, nil
	case kindBool:
		b, ok := v.(bool)
		if !ok {
			return nil, filterError("field %q needs true or false, got %s", t.name, jsonTypeName(v))
		}
		return b, nil
	}
	return nil, filterError("field %q cannot be compared", t.name)
}

// ParseFilterTime parses a time value of a filter: RFC 3339 (with or without fractional
// seconds) or a date YYYY-MM-DD (midnight UTC). The result is in UTC.
func ParseFilterTime(s string) (time.Time, error) {
	if tm, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return tm.UTC(), nil
	}
	if tm, err := time.Parse(time.DateOnly, s); err == nil {
		return tm.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time (e.g. 2023-01-15T08:00:00Z) or a date (2023-01-15)", s)
}

// jsonRef is a path inside a JSON column.
type jsonRef struct {
	column string
	path   []string
}

func (t target) jsonRef() jsonRef { return jsonRef{column: t.f.column, path: t.path} }

// typeOf writes an expression giving the JSON type of the value at the path, NULL when absent.
// SQLite: null true false integer real text array object. PostgreSQL: null boolean number string
// array object.
func (j jsonRef) typeOf(b *sql.Builder, s *sql.Selector) {
	if b.Dialect() == dialect.Postgres {
		b.WriteString("JSONB_TYPEOF(")
		j.pgValue(b, s, "#>")
		b.WriteString(")")
		return
	}
	b.WriteString("JSON_TYPE(").Ident(s.C(j.column)).WriteString(", ")
	j.sqlitePath(b)
	b.WriteString(")")
}

// pgValue writes (column::jsonb #> '{a,b}') or #>> for text. Segments were validated by pathSegment.
func (j jsonRef) pgValue(b *sql.Builder, s *sql.Selector, op string) {
	b.WriteString("(").Ident(s.C(j.column)).WriteString("::jsonb " + op + " '{" + strings.Join(j.path, ",") + "}')")
}

// sqlitePath writes '$."a"."b"[0]'. Segments were validated by pathSegment.
func (j jsonRef) sqlitePath(b *sql.Builder) {
	var sb strings.Builder
	sb.WriteString("'$")
	for _, seg := range j.path {
		if seg[0] >= '0' && seg[0] <= '9' {
			sb.WriteString("[" + seg + "]")
		} else {
			sb.WriteString(`."` + seg + `"`)
		}
	}
	sb.WriteString("'")
	b.WriteString(sb.String())
}

// typed writes, for PostgreSQL, an expression that is the value at the path when it has the
// JSON type want ("number", "string"), and NULL otherwise, so that values of another type never
// compare. CASE is used because PostgreSQL does not promise to evaluate AND operands in order,
// and a cast of a string to float8 would fail.
func (j jsonRef) typed(b *sql.Builder, s *sql.Selector, want string) {
	b.WriteString("(CASE WHEN ")
	j.typeOf(b, s)
	if want == "number" {
		b.WriteString(" = 'number' THEN ")
		j.pgValue(b, s, "#>>")
		b.WriteString("::float8")
	} else {
		b.WriteString(" = 'string' THEN ")
		j.pgValue(b, s, "#>>")
	}
	b.WriteString(" END)")
}

// containment returns the JSON document {"a":{"b":v}} for the path a.b, which a document
// contains (@>) exactly when its value at the path equals v, or "" when the path has an
// array index (containment cannot name a position).
func (j jsonRef) containment(v any) string {
	var doc any = v
	for i := len(j.path) - 1; i >= 0; i-- {
		if seg := j.path[i]; seg[0] >= '0' && seg[0] <= '9' {
			return ""
		}
		doc = map[string]any{j.path[i]: doc}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return ""
	}
	return string(out)
}

func (t target) jsonEq(v any) (selPred, error) {
	j := t.jsonRef()
	switch v := v.(type) {
	case nil:
		return func(s *sql.Selector) *sql.Predicate {
			return sql.P(func(b *sql.Builder) {
				b.WriteString("COALESCE(")
				j.typeOf(b, s)
				b.WriteString(", 'null') = 'null'")
			})
		}, nil
	case bool:
		return func(s *sql.Selector) *sql.Predicate {
			return sql.P(func(b *sql.Builder) {
				if b.Dialect() == dialect.Postgres {
					j.pgValue(b, s, "#>")
					b.WriteString(" = '" + strconv.FormatBool(v) + "'::jsonb")
					return
				}
				j.typeOf(b, s)
				b.WriteString(" = '" + strconv.FormatBool(v) + "'")
			})
		}, nil
	case json.Number, string:
		return t.jsonOrder("$eq", v)
	default:
		return nil, filterError("field %q: compare with a string, number, boolean or null, not %s", t.name, jsonTypeName(v))
	}
}

var sqlOps = map[string]string{"$eq": " = ", "$gt": " > ", "$gte": " >= ", "$lt": " < ", "$lte": " <= "}

func (t target) jsonOrder(op string, v any) (selPred, error) {
	j := t.jsonRef()
	var (
		arg  any
		want string
	)
	switch v := v.(type) {
	case json.Number:
		f, err := v.Float64()
		if err != nil || math.IsInf(f, 0) {
			return nil, filterError("field %q: %s is not a usable number", t.name, v)
		}
		arg, want = f, "number"
	case string:
		arg, want = v, "string"
	default:
		return nil, filterError("field %q: %s needs a string or a number, not %s", t.name, op, jsonTypeName(v))
	}
	sqlOp := sqlOps[op]
	contains := ""
	if op == "$eq" && t.f.column == "extracted_data" {
		contains = j.containment(v)
	}
	return func(s *sql.Selector) *sql.Predicate {
		return sql.P(func(b *sql.Builder) {
			if b.Dialect() == dialect.Postgres {
				if contains != "" {
					// The same test by containment, which the GIN index of extracted_data
					// (database.JobExtractedDataIndex) answers; the typed comparison that
					// follows keeps the meaning exact.
					b.WriteString("(").Ident(s.C(j.column)).WriteString("::jsonb @> ").Arg(contains).WriteString("::jsonb AND ")
					j.typed(b, s, want)
					b.WriteString(sqlOp).Arg(arg).WriteString(")")
					return
				}
				j.typed(b, s, want)
				b.WriteString(sqlOp).Arg(arg)
				return
			}
			// SQLite evaluates AND from the left and stops at false, so the type check runs
			// only on the few rows that pass the comparison (about half the cost of a CASE).
			b.WriteString("(JSON_EXTRACT(").Ident(s.C(j.column)).WriteString(", ")
			j.sqlitePath(b)
			b.WriteString(")" + sqlOp).Arg(arg).WriteString(" AND ")
			j.typeOf(b, s)
			if want == "number" {
				b.WriteString(" IN ('integer', 'real'))")
			} else {
				b.WriteString(" = 'text')")
			}
		})
	}, nil
}

func truePred(*sql.Selector) *sql.Predicate  { return sql.ExprP("1 = 1") }
func falsePred(*sql.Selector) *sql.Predicate { return sql.False() }

func andSel(ps []selPred) selPred {
	switch len(ps) {
	case 0:
		return nil
	case 1:
		return ps[0]
	}
	return func(s *sql.Selector) *sql.Predicate {
		out := make([]*sql.Predicate, len(ps))
		for i, p := range ps {
			out[i] = p(s)
		}
		return sql.And(out...)
	}
}

func orSel(ps []selPred) selPred {
	if len(ps) == 1 {
		return ps[0]
	}
	return func(s *sql.Selector) *sql.Predicate {
		out := make([]*sql.Predicate, len(ps))
		for i, p := range ps {
			out[i] = p(s)
		}
		return sql.Or(out...)
	}
}

// notSel negates with MongoDB's meaning: where p is unknown (SQL NULL, e.g. a NULL column),
// NOT p holds. Hence NOT COALESCE(p, FALSE) rather than NOT p.
func notSel(p selPred) selPred {
	return func(s *sql.Selector) *sql.Predicate {
		inner := p(s)
		return sql.P(func(b *sql.Builder) {
			b.WriteString("NOT COALESCE((").Join(inner).WriteString("), FALSE)")
		})
	}
}

// parseOrder returns the ORDER BY terms for the contract sort field and direction. sort "" means
// the schema's default, order "" means "desc". NULLs sort as the lowest values (first ascending, last descending) on every database.
func (s *querySchema) parseOrder(sortField, order string) ([]func(*sql.Selector), error) {
	if sortField == "" {
		sortField = s.defaultSort
	}
	var desc bool
	switch order {
	case "", "desc":
		desc = true
	case "asc":
	default:
		return nil, apperr.Invalid(fmt.Sprintf("invalid order %s: must be asc or desc", apperr.Quote(order)),
			apperr.Detail{Field: "order", Message: "must be asc or desc"})
	}
	if name, ok := strings.CutPrefix(sortField, "-"); ok {
		// "-field" is the usual shorthand for a descending sort.
		if order == "asc" {
			msg := fmt.Sprintf("sort %s asks for descending order and order=asc for ascending: give one", apperr.Quote(sortField))
			return nil, apperr.Invalid("invalid sort: "+msg, apperr.Detail{Field: "sort", Message: msg})
		}
		sortField, desc = name, true
	}
	f, ok := s.fields[sortField]
	if !ok || !f.sortable {
		msg := fmt.Sprintf("unknown sort field %s (sortable: %s)", apperr.Quote(sortField), strings.Join(s.names(true), ", "))
		return nil, apperr.Invalid("invalid sort: "+msg, apperr.Detail{Field: "sort", Message: msg})
	}
	dir := sql.OrderAsc()
	if desc {
		dir = sql.OrderDesc()
	}
	var terms []func(*sql.Selector)
	if f.nullable {
		// The CASE is 0 for values the API shows as null: ascending puts them first,
		// descending last.
		terms = append(terms, func(sel *sql.Selector) {
			sel.OrderExprFunc(func(b *sql.Builder) {
				// Literal SQL: ORDER BY expressions cannot carry arguments.
				b.WriteString("CASE WHEN ").Ident(sel.C(f.column)).WriteString(" IS NULL")
				if f.emptyIsNull {
					b.WriteString(" OR ").Ident(sel.C(f.column)).WriteString(" = ''")
				}
				b.WriteString(" THEN 0 ELSE 1 END")
				if desc {
					b.WriteString(" DESC")
				}
			})
		})
	}
	if f.emptyIsNull {
		// NULL and "" are one group; NULL would sort apart from "" (and differently on
		// SQLite and PostgreSQL) without the COALESCE.
		col := f.column
		terms = append(terms, func(sel *sql.Selector) {
			sel.OrderExprFunc(func(b *sql.Builder) {
				b.WriteString("COALESCE(").Ident(sel.C(col)).WriteString(", '')")
				if desc {
					b.WriteString(" DESC")
				}
			})
		})
		return terms, nil
	}
	if len(f.rank) > 0 {
		// Sorted by meaning: the CASE gives each value its rank.
		col := f.column
		terms = append(terms, func(sel *sql.Selector) {
			sel.OrderExprFunc(func(b *sql.Builder) {
				writeRankCase(b, sel.C(col), f.rank)
				if desc {
					b.WriteString(" DESC")
				}
			})
		})
		return terms, nil
	}
	// No id tie-breaker here: Service.List* append "id DESC" to every order, and a second id
	// term would stop SQLite from reading the sort column's index (a 100,000-row sort instead
	// of a 50-row index scan).
	terms = append(terms, sql.OrderByField(f.column, dir).ToFunc())
	return terms, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func jsonText(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	s := strings.TrimSpace(buf.String())
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}
