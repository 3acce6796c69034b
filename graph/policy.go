package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/auth"
)

// anyPrincipal is the policy of fields that any authenticated caller may ask for,
// whatever its role (the introspection fields).
const anyPrincipal auth.Role = ""

// introspection is the policy of the meta fields of every root type.
var introspection = map[string]auth.Role{"__typename": anyPrincipal}

// operationPolicy is the least role each root field of the schema needs, by operation
// type. A root field that is not listed is admin-only (fail closed);
// TestOperationPolicyCoversSchema fails when one is missing. Which rows a role sees
// (a submitter its owner's jobs only) is decided by internal/jobs, not here.
var operationPolicy = map[ast.Operation]map[string]auth.Role{
	ast.Query: withIntrospection(map[string]auth.Role{
		"__schema":             anyPrincipal,
		"__type":               anyPrincipal,
		"node":                 auth.RoleViewer,
		"nodes":                auth.RoleViewer,
		"ocrInvoiceJobs":       auth.RoleViewer,
		"ocrJobGroups":         auth.RoleViewer,
		"ocrTemplates":         auth.RoleViewer,
		"ocrInvoiceJob":        auth.RoleViewer,
		"ocrInvoiceJobResults": auth.RoleViewer,
		"ocrTemplate":          auth.RoleViewer,
		"ocrJobGroup":          auth.RoleViewer,
		"apiKeys":              auth.RoleAdmin,
		"supplierProfiles":     auth.RoleViewer,
		"supplierProfile":      auth.RoleViewer,
	}),
	ast.Mutation: withIntrospection(map[string]auth.Role{
		"createOcrInvoiceJob":    auth.RoleSubmitter,
		"updateOcrInvoiceJob":    auth.RoleSubmitter,
		"cancelOcrInvoiceJob":    auth.RoleSubmitter,
		"retryOcrInvoiceJob":     auth.RoleSubmitter,
		"correctOcrInvoiceJob":   auth.RoleSubmitter,
		"approveOcrInvoiceJob":   auth.RoleSubmitter,
		"createOcrJobGroup":      auth.RoleSubmitter,
		"updateOcrJobGroup":      auth.RoleSubmitter,
		"suspendOcrJobGroup":     auth.RoleSubmitter,
		"resumeOcrJobGroup":      auth.RoleSubmitter,
		"cancelOcrJobGroup":      auth.RoleSubmitter,
		"retryFailedOcrJobGroup": auth.RoleSubmitter,
		"uploadDocument":         auth.RoleSubmitter,
		"createOcrTemplate":      auth.RoleAdmin,
		"updateOcrTemplate":      auth.RoleAdmin,
		"createApiKey":           auth.RoleAdmin,
		"revokeApiKey":           auth.RoleAdmin,
		"deleteSupplierProfile":  auth.RoleSubmitter,
	}),
	ast.Subscription: withIntrospection(map[string]auth.Role{
		"ocrInvoiceJobProgress": auth.RoleViewer,
		"ocrInvoiceJobUpdated":  auth.RoleViewer,
		"ocrJobGroupProgress":   auth.RoleViewer,
	}),
}

func withIntrospection(m map[string]auth.Role) map[string]auth.Role {
	for k, v := range introspection {
		m[k] = v
	}
	return m
}

// requiredRole returns the least role the root field name of an operation of type op
// needs: its policy entry, or admin when it has none.
func requiredRole(op ast.Operation, name string) (role auth.Role, listed bool) {
	role, listed = operationPolicy[op][name]
	if !listed {
		return auth.RoleAdmin, false
	}
	return role, true
}

// authorize is the handler extension that enforces operationPolicy: before anything of
// an operation runs, every root field it selects (through fragments too, skipping what
// @skip / @include leave out) must be allowed to the context's principal (see
// auth.Require). Otherwise the whole operation is refused with UNAUTHENTICATED (no
// principal) or FORBIDDEN (a role too weak), naming the field. It covers queries,
// mutations and subscriptions alike, over every transport: a WebSocket's context is
// the one its connection_init produced.
type authorize struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = authorize{}

func (authorize) ExtensionName() string                   { return "OperationPolicy" }
func (authorize) Validate(graphql.ExecutableSchema) error { return nil }

func (authorize) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, nil) {
		role, _ := requiredRole(oc.Operation.Operation, f.Name)
		var err error
		if role == anyPrincipal {
			if _, ok := auth.FromContext(ctx); !ok {
				err = auth.Require(ctx, auth.RoleViewer) // Unauthenticated
			}
		} else {
			err = auth.Require(ctx, role)
		}
		if err == nil {
			continue
		}
		if ae := apperr.As(err); ae != nil && ae.Kind == apperr.KindForbidden {
			err = apperr.Forbidden(fmt.Sprintf("%s %s: %s", oc.Operation.Operation, f.Name, ae.Message))
		}
		return &gqlerror.Error{Message: err.Error(), Err: err, Path: ast.Path{ast.PathName(f.Alias)}}
	}
	return nil
}

// codeIntrospectionDisabled is the code of an introspection query to a server that has
// introspection off.
const codeIntrospectionDisabled = "INTROSPECTION_DISABLED"

// noIntrospection is the handler extension of a server with introspection off: an
// operation that selects __schema or __type (through fragments too, skipping what @skip /
// @include leave out) is refused before anything runs with INTROSPECTION_DISABLED. It
// is the client's doing, so nothing is logged (gqlgen's own refusal is an internal
// error, logged as one). __typename stays allowed.
type noIntrospection struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = noIntrospection{}

func (noIntrospection) ExtensionName() string                   { return "NoIntrospection" }
func (noIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

func (noIntrospection) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return nil // __schema and __type are fields of the query type only
	}
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, nil) {
		if f.Name == "__schema" || f.Name == "__type" {
			err := limitError(codeIntrospectionDisabled, "introspection is disabled on this server")
			err.Path = ast.Path{ast.PathName(f.Alias)}
			return err
		}
	}
	return nil
}

// rulesWithoutSuggestions are gqlparser's validation rules with every rule that
// suggests names ("Did you mean ...?": fields, arguments, types, enum values and input
// fields close to what was typed) replaced by its variant that does not, so that a
// server with introspection off does not reveal its schema through its validation
// errors. gqlgen swaps the field and leaf rules itself when suggestions are disabled
// (handler.Server.SetDisableSuggestion), which must be set too.
func rulesWithoutSuggestions() *rules.Rules {
	r := rules.NewDefaultRules()
	for _, swap := range []struct {
		name    string
		without core.Rule
	}{
		{rules.FieldsOnCorrectTypeRule.Name, rules.FieldsOnCorrectTypeRuleWithoutSuggestions},
		{rules.ScalarLeafsRule.Name, rules.ScalarLeafsRuleWithoutSuggestions},
		{rules.KnownArgumentNamesRule.Name, rules.KnownArgumentNamesRuleWithoutSuggestions},
		{rules.KnownTypeNamesRule.Name, rules.KnownTypeNamesRuleWithoutSuggestions},
		{rules.ValuesOfCorrectTypeRule.Name, rules.ValuesOfCorrectTypeRuleWithoutSuggestions},
	} {
		r.RemoveRule(swap.name)
		r.AddRule(swap.without.Name, swap.without.RuleFunc)
	}
	return r
}
