package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Codes of the limit errors of this file.
const (
	codeAliasLimit = "ALIAS_LIMIT_EXCEEDED"
	codeFieldLimit = "FIELD_LIMIT_EXCEEDED"
	codeTooLarge   = "TOO_LARGE"
)

// selectionLimits is a gqlgen extension that rejects operations selecting more than
// MaxFields fields or using more than MaxAliases aliases (MaxAliases < 0: none at all),
// counted over the selected operation with every fragment expanded where it is spread:
// a fragment spread ten times counts ten times. Counting stops as soon as a limit is
// passed, so a document built to explode (fragments spreading fragments many times
// over) costs no more than the limits; a fragment spread inside itself (gqlparser
// refuses those already) is not followed again.
type selectionLimits struct {
	MaxAliases int
	MaxFields  int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = selectionLimits{}

func (selectionLimits) ExtensionName() string { return "SelectionLimits" }

func (l selectionLimits) Validate(graphql.ExecutableSchema) error {
	if l.MaxFields < 1 {
		return fmt.Errorf("field limit must be at least 1, got %d", l.MaxFields)
	}
	return nil
}

func (l selectionLimits) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	c := selectionCounter{maxAliases: max(l.MaxAliases, 0), maxFields: l.MaxFields, doc: oc.Doc, active: map[string]bool{}}
	c.walk(oc.Operation.SelectionSet)
	switch {
	case c.aliases > c.maxAliases && l.MaxAliases < 0:
		return limitError(codeAliasLimit, "aliases are not allowed")
	case c.aliases > c.maxAliases:
		return limitError(codeAliasLimit, fmt.Sprintf("operation uses more than %d aliases", l.MaxAliases))
	case c.fields > c.maxFields:
		return limitError(codeFieldLimit, fmt.Sprintf("operation selects more than %d fields (fragments count each time they are spread)", l.MaxFields))
	}
	return nil
}

func limitError(code, msg string) *gqlerror.Error {
	err := gqlerror.Errorf("%s", msg)
	err.Extensions = map[string]any{"code": code}
	return err
}

// selectionCounter counts fields and aliases until either passes its limit.
type selectionCounter struct {
	maxAliases, maxFields int
	aliases, fields       int
	doc                   *ast.QueryDocument
	active                map[string]bool // fragments being expanded on the current path
}

func (c *selectionCounter) over() bool { return c.aliases > c.maxAliases || c.fields > c.maxFields }

func (c *selectionCounter) walk(set ast.SelectionSet) {
	for _, sel := range set {
		if c.over() {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			c.fields++
			if s.Alias != "" && s.Alias != s.Name {
				c.aliases++
			}
			c.walk(s.SelectionSet)
		case *ast.InlineFragment:
			c.walk(s.SelectionSet)
		case *ast.FragmentSpread:
			def := s.Definition
			if def == nil && c.doc != nil {
				def = c.doc.Fragments.ForName(s.Name)
			}
			if def == nil || c.active[s.Name] {
				continue
			}
			c.active[s.Name] = true
			c.walk(def.SelectionSet)
			delete(c.active, s.Name)
		}
	}
}

// persistedQueries is gqlgen's automatic persisted queries with a bound on the query
// text: a query longer than maxBytes is refused (TOO_LARGE) before it is hashed or
// stored, and so is one that a hash resolves to (a cache shared with a server of a
// larger limit may hold one).
type persistedQueries struct {
	apq      extension.AutomaticPersistedQuery
	maxBytes int
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = persistedQueries{}

func (persistedQueries) ExtensionName() string { return "AutomaticPersistedQuery" }

func (p persistedQueries) Validate(s graphql.ExecutableSchema) error {
	if p.maxBytes < 1 {
		return fmt.Errorf("query size limit must be at least 1, got %d", p.maxBytes)
	}
	return p.apq.Validate(s)
}

func (p persistedQueries) MutateOperationParameters(ctx context.Context, raw *graphql.RawParams) *gqlerror.Error {
	if err := p.checkSize(raw); err != nil {
		return err
	}
	if err := p.apq.MutateOperationParameters(ctx, raw); err != nil {
		return err
	}
	return p.checkSize(raw)
}

func (p persistedQueries) checkSize(raw *graphql.RawParams) *gqlerror.Error {
	if len(raw.Query) > p.maxBytes {
		return limitError(codeTooLarge, fmt.Sprintf("query is %d bytes long, more than the limit of %d", len(raw.Query), p.maxBytes))
	}
	return nil
}
