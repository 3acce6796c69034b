package invoice

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A field path names one value of ExtractedData by its JSON names, list elements by a
// 0-based index: "invoice.number", "invoice.amounts.total", "invoice.taxBreakdown[0].rate",
// "lineItems[3].amount". Evidence, confidence, corrections and supplier profiles are keyed
// by field paths.

// Field is one scalar leaf of ExtractedData: its path and its value as encoding/json
// decodes it into an any (string, float64, bool, or nil for an unknown number).
type Field struct {
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// Change is one leaf that differs between two versions of ExtractedData. Old is nil for
// a leaf that did not exist (a line added), New is nil for one that no longer does.
type Change struct {
	Path string `json:"path"`
	Old  any    `json:"old"`
	New  any    `json:"new"`
}

// PathError reports a field path that does not exist or a value that does not fit it.
type PathError struct {
	Path   string
	Reason string
}

func (e *PathError) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

// Kind is what a leaf holds, for readers and checks that treat values by meaning.
type Kind int

// Kinds of FieldKind.
const (
	KindText   Kind = iota // free text: names, addresses, descriptions, numbers of documents
	KindAmount             // a money amount
	KindNumber             // another number: a quantity, a rate in percent, a count of days
	KindDate               // a date, YYYY-MM-DD
	KindCode               // a code from a list: a currency, a country, a document type, an IBAN
	KindBool               // true or false
)

// FieldKind returns the kind of the leaf at path (KindText for a path it does not know).
func FieldKind(path string) Kind {
	steps, err := parsePath(path)
	if err != nil || len(steps) == 0 {
		return KindText
	}
	leaf := steps[len(steps)-1].name
	parent := ""
	if len(steps) > 1 {
		parent = steps[len(steps)-2].name
	}
	switch leaf {
	case "subtotal", "tax", "total", "discount", "amountDue", "unitPrice", "base":
		return KindAmount
	case "amount":
		return KindAmount
	case "quantity", "rate", "taxRate", "percent", "dueDays", "pages":
		return KindNumber
	case "date", "dueDate":
		return KindDate
	case "from", "to":
		if parent == "servicePeriod" {
			return KindDate
		}
	case "currency", "country", "documentType", "category", "unitCode", "kind", "iban", "bic", "taxId", "reasonCode":
		return KindCode
	case "charge":
		return KindBool
	}
	return KindText
}

type step struct {
	name  string
	index int // -1: no index
}

func parsePath(p string) ([]step, error) {
	if p == "" {
		return nil, &PathError{Path: p, Reason: "empty path"}
	}
	if len(p) > 256 {
		return nil, &PathError{Path: p[:64] + "…", Reason: "path too long"}
	}
	var steps []step
	for _, part := range strings.Split(p, ".") {
		s := step{name: part, index: -1}
		if i := strings.IndexByte(part, '['); i >= 0 {
			if !strings.HasSuffix(part, "]") {
				return nil, &PathError{Path: p, Reason: "malformed index"}
			}
			n, err := strconv.Atoi(part[i+1 : len(part)-1])
			if err != nil || n < 0 || n > 1<<20 {
				return nil, &PathError{Path: p, Reason: "malformed index"}
			}
			s.name, s.index = part[:i], n
		}
		if s.name == "" {
			return nil, &PathError{Path: p, Reason: "empty name in path"}
		}
		steps = append(steps, s)
	}
	return steps, nil
}

// jsonName returns the JSON name of a struct field and whether it is in the JSON shape.
func jsonName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, true
}

// fieldByJSON returns the field of struct value v with JSON name name.
func fieldByJSON(v reflect.Value, name string) (reflect.Value, bool) {
	t := v.Type()
	for i := range t.NumField() {
		if n, ok := jsonName(t.Field(i)); ok && n == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// walk returns the value at steps below root (a struct value).
func walk(root reflect.Value, path string, steps []step) (reflect.Value, error) {
	v := root
	for _, s := range steps {
		if v.Kind() != reflect.Struct {
			return reflect.Value{}, &PathError{Path: path, Reason: "no such field"}
		}
		f, ok := fieldByJSON(v, s.name)
		if !ok {
			return reflect.Value{}, &PathError{Path: path, Reason: "no such field"}
		}
		v = f
		if s.index >= 0 {
			if v.Kind() != reflect.Slice {
				return reflect.Value{}, &PathError{Path: path, Reason: s.name + " is not a list"}
			}
			if s.index >= v.Len() {
				return reflect.Value{}, &PathError{Path: path, Reason: fmt.Sprintf("index %d past the end (%d elements)", s.index, v.Len())}
			}
			v = v.Index(s.index)
		}
	}
	return v, nil
}

// Fields returns every scalar leaf of d in document order, empty strings and unknown
// numbers included: the form a person reviews.
func Fields(d ExtractedData) []Field {
	var out []Field
	collect(reflect.ValueOf(d), "", &out)
	return out
}

func collect(v reflect.Value, prefix string, out *[]Field) {
	switch v.Kind() {
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			name, ok := jsonName(t.Field(i))
			if !ok {
				continue
			}
			p := name
			if prefix != "" {
				p = prefix + "." + name
			}
			collect(v.Field(i), p, out)
		}
	case reflect.Slice:
		for i := range v.Len() {
			collect(v.Index(i), prefix+"["+strconv.Itoa(i)+"]", out)
		}
	default:
		*out = append(*out, Field{Path: prefix, Value: scalar(v)})
	}
}

// scalar returns a leaf as encoding/json would decode it into an any.
func scalar(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return scalar(v.Elem())
	case reflect.String:
		return v.String()
	case reflect.Bool:
		return v.Bool()
	case reflect.Float32, reflect.Float64:
		return v.Float()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int())
	}
	return nil
}

// Get returns the value at path: a scalar for a leaf (as in Field.Value), the value as
// encoding/json decodes it into an any for an object or a list.
func Get(d ExtractedData, path string) (any, error) {
	steps, err := parsePath(path)
	if err != nil {
		return nil, err
	}
	v, err := walk(reflect.ValueOf(d), path, steps)
	if err != nil {
		return nil, err
	}
	switch v.Kind() {
	case reflect.Struct, reflect.Slice:
		b, err := json.Marshal(v.Interface())
		if err != nil {
			return nil, &PathError{Path: path, Reason: err.Error()}
		}
		var out any
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, &PathError{Path: path, Reason: err.Error()}
		}
		return out, nil
	}
	return scalar(v), nil
}

// Set sets the value at path to the JSON value: a leaf, a whole object or a whole list
// element. The value must fit the field's type (a string for text, a number or null for
// an amount, YYYY-MM-DD or "" for a date); null clears a leaf. For a list element, an
// index equal to the list's length appends and null removes the element. Errors are
// *PathError naming the path.
func Set(d *ExtractedData, path string, value json.RawMessage) error {
	steps, err := parsePath(path)
	if err != nil {
		return err
	}
	root := reflect.ValueOf(d).Elem()
	parent, err := walk(root, path, steps[:len(steps)-1])
	if err != nil {
		return err
	}
	last := steps[len(steps)-1]
	if parent.Kind() != reflect.Struct {
		return &PathError{Path: path, Reason: "no such field"}
	}
	f, ok := fieldByJSON(parent, last.name)
	if !ok {
		return &PathError{Path: path, Reason: "no such field"}
	}
	if last.index < 0 {
		return assign(f, path, value)
	}
	if f.Kind() != reflect.Slice {
		return &PathError{Path: path, Reason: last.name + " is not a list"}
	}
	n := f.Len()
	switch {
	case last.index > n:
		return &PathError{Path: path, Reason: fmt.Sprintf("index %d past the end (%d elements; %d appends)", last.index, n, n)}
	case isNull(value):
		if last.index == n {
			return &PathError{Path: path, Reason: fmt.Sprintf("index %d past the end (%d elements)", last.index, n)}
		}
		f.Set(reflect.AppendSlice(f.Slice(0, last.index), f.Slice(last.index+1, n)))
		return nil
	case last.index == n:
		elem := reflect.New(f.Type().Elem()).Elem()
		if err := assign(elem, path, value); err != nil {
			return err
		}
		f.Set(reflect.Append(f, elem))
		return nil
	}
	return assign(f.Index(last.index), path, value)
}

func isNull(b json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(b), []byte("null")) }

// assign decodes value into v after checking that its JSON type fits v's type.
func assign(v reflect.Value, path string, value json.RawMessage) error {
	value = bytes.TrimSpace(value)
	if len(value) == 0 {
		return &PathError{Path: path, Reason: "no value"}
	}
	if isNull(value) {
		v.Set(reflect.Zero(v.Type()))
		return nil
	}
	switch v.Kind() {
	case reflect.Struct:
		if value[0] != '{' {
			return &PathError{Path: path, Reason: "want an object"}
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(value, &fields); err != nil {
			return &PathError{Path: path, Reason: "malformed JSON: " + err.Error()}
		}
		nv := reflect.New(v.Type()).Elem()
		for _, k := range sortedKeys(fields) {
			f, ok := fieldByJSON(nv, k)
			if !ok {
				return &PathError{Path: path + "." + k, Reason: "no such field"}
			}
			if err := assign(f, path+"."+k, fields[k]); err != nil {
				return err
			}
		}
		v.Set(nv)
		return nil
	case reflect.Slice:
		if value[0] != '[' {
			return &PathError{Path: path, Reason: "want a list"}
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(value, &elems); err != nil {
			return &PathError{Path: path, Reason: "malformed JSON: " + err.Error()}
		}
		nv := reflect.MakeSlice(v.Type(), len(elems), len(elems))
		for i, e := range elems {
			if err := assign(nv.Index(i), fmt.Sprintf("%s[%d]", path, i), e); err != nil {
				return err
			}
		}
		v.Set(nv)
		return nil
	case reflect.Pointer:
		nv := reflect.New(v.Type().Elem())
		if err := assign(nv.Elem(), path, value); err != nil {
			return err
		}
		v.Set(nv)
		return nil
	case reflect.String:
		var s string
		if err := json.Unmarshal(value, &s); err != nil {
			return &PathError{Path: path, Reason: "want a string"}
		}
		if err := checkText(path, s); err != nil {
			return err
		}
		v.SetString(s)
		return nil
	case reflect.Bool:
		var b bool
		if err := json.Unmarshal(value, &b); err != nil {
			return &PathError{Path: path, Reason: "want true or false"}
		}
		v.SetBool(b)
		return nil
	case reflect.Float64:
		var f float64
		if err := json.Unmarshal(value, &f); err != nil {
			return &PathError{Path: path, Reason: "want a number or null"}
		}
		if math.IsInf(f, 0) || math.Abs(f) > 1e15 {
			return &PathError{Path: path, Reason: "number out of range"}
		}
		v.SetFloat(f)
		return nil
	case reflect.Int:
		var n int
		if err := json.Unmarshal(value, &n); err != nil {
			return &PathError{Path: path, Reason: "want a whole number or null"}
		}
		if n < 0 || n > 100000 {
			return &PathError{Path: path, Reason: "number out of range"}
		}
		v.SetInt(int64(n))
		return nil
	}
	return &PathError{Path: path, Reason: "cannot be set"}
}

// maxText bounds one text value of a correction.
const maxText = 4096

var documentTypes = []string{DocInvoice, DocCreditNote, DocDebitNote, DocProforma, DocReceipt}

// checkText checks a string leaf against what its kind allows.
func checkText(path, s string) error {
	if len(s) > maxText {
		return &PathError{Path: path, Reason: fmt.Sprintf("longer than %d bytes", maxText)}
	}
	if s == "" {
		return nil
	}
	switch FieldKind(path) {
	case KindDate:
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return &PathError{Path: path, Reason: "want a date as YYYY-MM-DD or \"\""}
		}
	case KindCode:
		if strings.HasSuffix(path, "documentType") && !slices.Contains(documentTypes, s) {
			return &PathError{Path: path, Reason: "want one of " + strings.Join(documentTypes, ", ") + " or \"\""}
		}
		if strings.HasSuffix(path, "amounts.currency") && !isCurrencyCode(s) {
			return &PathError{Path: path, Reason: "want an ISO 4217 code such as \"EUR\" or \"\""}
		}
	}
	return nil
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// MergePatch applies an RFC 7396 JSON Merge Patch to d and returns the result: members
// of an object patch their fields (null clears one), any other value replaces the field
// whole (lists are replaced, not merged). A member that is not a field of the
// extractedData shape, or a value that does not fit its field, is a *PathError naming
// the path; d is not changed.
func MergePatch(d ExtractedData, patch []byte) (ExtractedData, error) {
	patch = bytes.TrimSpace(patch)
	if len(patch) == 0 || patch[0] != '{' {
		return d, &PathError{Reason: "a merge patch of extractedData must be a JSON object"}
	}
	if !json.Valid(patch) {
		return d, &PathError{Reason: "malformed JSON"}
	}
	out := clone(d)
	if err := merge(reflect.ValueOf(&out).Elem(), "", patch); err != nil {
		return d, err
	}
	return out, nil
}

func merge(v reflect.Value, prefix string, patch json.RawMessage) error {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(patch, &members); err != nil {
		return &PathError{Path: prefix, Reason: "malformed JSON: " + err.Error()}
	}
	for _, k := range sortedKeys(members) {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		f, ok := fieldByJSON(v, k)
		if !ok {
			return &PathError{Path: p, Reason: "no such field"}
		}
		val := bytes.TrimSpace(members[k])
		if f.Kind() == reflect.Struct && len(val) > 0 && val[0] == '{' {
			if err := merge(f, p, val); err != nil {
				return err
			}
			continue
		}
		if err := assign(f, p, val); err != nil {
			return err
		}
	}
	return nil
}

// clone returns a deep copy of d.
func clone(d ExtractedData) ExtractedData {
	b, err := json.Marshal(d)
	if err != nil {
		return d
	}
	var out ExtractedData
	if json.Unmarshal(b, &out) != nil {
		return d
	}
	return out
}

// Diff returns the leaves whose values differ between old and new, in the document
// order of new, then the leaves only old has.
func Diff(old, new ExtractedData) []Change {
	before := Fields(old)
	was := make(map[string]any, len(before))
	for _, f := range before {
		was[f.Path] = f.Value
	}
	var out []Change
	seen := make(map[string]bool, len(before))
	for _, f := range Fields(new) {
		seen[f.Path] = true
		o, ok := was[f.Path]
		if ok && o == f.Value {
			continue
		}
		out = append(out, Change{Path: f.Path, Old: o, New: f.Value})
	}
	for _, f := range before {
		if !seen[f.Path] {
			out = append(out, Change{Path: f.Path, Old: f.Value})
		}
	}
	return out
}
