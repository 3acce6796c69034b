package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"regexp"
	"strconv"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/invoice"
)

// RulesFormat is the format version of Rules; Apply and Learn refuse others.
const RulesFormat = 1

// MaxRules bounds the size of encoded rules that Apply and Learn accept.
const MaxRules = 1 << 20

// Confidences of rules.
const (
	// LearnedConfidence is the confidence of a rule learned from one document.
	LearnedConfidence = 0.8
	// ConfirmStep is what a rule gains each time a later truth agrees with it (up to
	// MaxConfidence).
	ConfirmStep = 0.05
	// MaxConfidence caps a rule's confidence: a learned rule is never certain.
	MaxConfidence = 0.98
	// Decay multiplies the confidence of a rule whose value a truth contradicts.
	Decay = 0.5
	// Floor is the confidence below which a rule is dropped (until a truth relearns it).
	Floor = 0.35
)

// Rules are what a supplier profile learned: per field path, how to find the field on
// the supplier's documents. They are stored as their JSON (encoding/json), opaque to
// storage.
type Rules struct {
	// Format is RulesFormat.
	Format int `json:"format"`
	// Fields holds the rules of party fields (invoice.supplier.name, ...), which hold
	// whatever the layout.
	Fields map[string]*Rule `json:"fields"`
	// Layouts hold the rules of document fields (invoice.number, invoice.amounts.total,
	// ...) per layout of the supplier's documents, the most recently learned first, at
	// most MaxLayouts.
	Layouts []*Layout `json:"layouts,omitempty"`
}

// Layout is one layout of a supplier's documents and where its fields are printed.
type Layout struct {
	// Fingerprint is the layout's Fingerprint (16 hex digits).
	Fingerprint string `json:"fingerprint"`
	// Fields holds one rule per document field path.
	Fields map[string]*Rule `json:"fields"`

	fp uint64
}

// MaxLayouts bounds the layouts one profile keeps; learning another drops the least
// recently learned.
const MaxLayouts = 8

// SameLayout is the largest number of differing fingerprint bits of two documents of
// one layout. Measured on the dev documents: invoices drawn by one program differ in at
// most 16 bits (text layers), those of different programs in 20 or more; receipts of
// one shop read by OCR differ in 8 to 22.
const SameLayout = 18

// layoutFor returns the learned layout nearest to fingerprint fp within SameLayout
// bits, or nil.
func (r *Rules) layoutFor(fp string) *Layout {
	v, err := strconv.ParseUint(fp, 16, 64)
	if err != nil || fp == "" {
		return nil
	}
	var best *Layout
	bestD := SameLayout + 1
	for _, l := range r.Layouts {
		if d := bits.OnesCount64(l.fp ^ v); d < bestD {
			best, bestD = l, d
		}
	}
	return best
}

// Rule says how to find one field.
type Rule struct {
	// Kind is how the value is printed: amount, date, code or text.
	Kind string `json:"kind"`
	// Value is a party field's value (the supplier's name, tax id, IBAN, ...), used on a
	// later document when it is printed there. Empty for document fields.
	Value string `json:"value,omitempty"`
	// Label is the folded words printed before the value: on its line, or on a line
	// above it when Below. Empty when the value had no label.
	Label []string `json:"label,omitempty"`
	// Below tells that the label is above the value (a column heading) rather than
	// before it on its line.
	Below bool `json:"below,omitempty"`
	// Skip is how many words stood between the label and the value (a currency, a colon).
	Skip int `json:"skip,omitempty"`
	// Page is the 1-based page the value was printed on, Box its page-relative box.
	Page int         `json:"page,omitempty"`
	Box  invoice.Box `json:"box,omitzero"`
	// Last tells that Page was the document's last page: totals move to the last page
	// of a longer document.
	Last bool `json:"last,omitempty"`
	// Shape is a regular expression a code's printed value matches (its letters and
	// punctuation kept, digit runs generalised).
	Shape string `json:"shape,omitempty"`
	// Decimals tells that the learned amount was printed with a decimal part; a later
	// one without is a misreading (OCR drops separators: "46,25" read "4625").
	Decimals bool `json:"decimals,omitempty"`
	// Form is a numeric date's printed form, each digit '9' ("99/99/9999"), to repair
	// OCR noise in later dates by.
	Form string `json:"form,omitempty"`
	// DateOrder is "mdy" when the learned date was printed month first.
	DateOrder string `json:"dateOrder,omitempty"`
	// Confidence is the rule's confidence in 0..1.
	Confidence float64 `json:"confidence"`
	// Seen counts the truths that taught or confirmed the rule; Contradicted those that
	// corrected a value it supplied.
	Seen         int `json:"seen"`
	Contradicted int `json:"contradicted,omitempty"`

	shape *regexp.Regexp // Shape compiled by decodeRules
}

// ErrRules is wrapped by the errors of rules that cannot be used.
var ErrRules = errors.New("bad profile rules")

// decodeRules reads and checks encoded rules; nil or empty bytes are no rules.
func decodeRules(b []byte) (*Rules, error) {
	r := &Rules{Format: RulesFormat, Fields: map[string]*Rule{}}
	if len(b) == 0 {
		return r, nil
	}
	if len(b) > MaxRules {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrRules, len(b), MaxRules)
	}
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRules, err)
	}
	if r.Format != RulesFormat {
		return nil, fmt.Errorf("%w: format %d, want %d", ErrRules, r.Format, RulesFormat)
	}
	if r.Fields == nil {
		r.Fields = map[string]*Rule{}
	}
	if len(r.Layouts) > MaxLayouts {
		return nil, fmt.Errorf("%w: %d layouts, more than %d", ErrRules, len(r.Layouts), MaxLayouts)
	}
	if err := checkFields(r.Fields, true); err != nil {
		return nil, err
	}
	for i, l := range r.Layouts {
		if l == nil {
			return nil, fmt.Errorf("%w: layout %d is null", ErrRules, i)
		}
		v, err := strconv.ParseUint(l.Fingerprint, 16, 64)
		if err != nil || len(l.Fingerprint) != 16 {
			return nil, fmt.Errorf("%w: layout %d: fingerprint %q is not 16 hex digits", ErrRules, i, l.Fingerprint)
		}
		l.fp = v
		if l.Fields == nil {
			l.Fields = map[string]*Rule{}
		}
		if err := checkFields(l.Fields, false); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// checkFields checks the rules of party fields (party) or of document fields, and
// compiles their shapes.
func checkFields(fs map[string]*Rule, party bool) error {
	for path, ru := range fs {
		f, ok := fieldByPath(path)
		switch {
		case !ok:
			return fmt.Errorf("%w: %s: not a field profiles learn", ErrRules, path)
		case f.party != party:
			return fmt.Errorf("%w: %s: in the wrong part of the rules", ErrRules, path)
		case ru == nil:
			return fmt.Errorf("%w: %s: no rule", ErrRules, path)
		case ru.Kind != string(f.kind):
			return fmt.Errorf("%w: %s: kind %q, want %q", ErrRules, path, ru.Kind, f.kind)
		case math.IsNaN(ru.Confidence) || ru.Confidence < 0 || ru.Confidence > 1:
			return fmt.Errorf("%w: %s: confidence %v outside 0..1", ErrRules, path, ru.Confidence)
		case ru.Skip < 0 || ru.Skip > maxSkip || ru.Page < 0 || len(ru.Label) > maxLabel:
			return fmt.Errorf("%w: %s: skip, page or label out of range", ErrRules, path)
		case len(ru.Form) > 16 || strings.Trim(ru.Form, "9/.-") != "":
			return fmt.Errorf("%w: %s: bad date form %q", ErrRules, path, ru.Form)
		case f.kind == kindCode && !party && ru.Shape == "":
			return fmt.Errorf("%w: %s: a code without a shape", ErrRules, path)
		}
		if ru.Shape != "" {
			re, err := regexp.Compile(ru.Shape)
			if err != nil {
				return fmt.Errorf("%w: %s: shape: %v", ErrRules, path, err)
			}
			ru.shape = re
		}
	}
	return nil
}

// encode writes the rules as JSON.
func (r *Rules) encode() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode profile rules: %w", err)
	}
	return b, nil
}

// Limits of a rule.
const (
	maxSkip  = 3 // words between a label and its value
	maxLabel = 4 // words of a label
)

var (
	reDigits   = regexp.MustCompile(`\d+`)
	reDecimals = regexp.MustCompile(`\d[.,]\d{1,4}\D*$`)
)

// hasDecimals tells whether a printed amount has a decimal part.
func hasDecimals(text string) bool { return reDecimals.MatchString(strings.TrimSpace(text)) }

// shapeOf generalises a code as printed into a regular expression: its letters and
// punctuation are kept (case-insensitively), each run of n digits becomes \d{n-2,n+2}
// (at least one) so that later numbers of the same series match, and spaces become
// optional.
func shapeOf(code string) string {
	var b []byte
	b = append(b, "(?i)^"...)
	last := 0
	for _, m := range reDigits.FindAllStringIndex(code, -1) {
		b = append(b, literal(code[last:m[0]])...)
		n := m[1] - m[0]
		b = fmt.Appendf(b, `\d{%d,%d}`, max(1, n-2), n+2)
		last = m[1]
	}
	b = append(b, literal(code[last:])...)
	b = append(b, '$')
	return string(b)
}

// literal quotes s for a regular expression, with its spaces optional.
func literal(s string) string {
	var b []byte
	for _, r := range s {
		if r == ' ' {
			b = append(b, `\s?`...)
			continue
		}
		b = append(b, regexp.QuoteMeta(string(r))...)
	}
	return string(b)
}
