package graph

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

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
	}),
	ast.Mutation: withIntrospection(map[string]auth.Role{
		"createOcrInvoiceJob":    auth.RoleSubmitter,
		"updateOcrInvoiceJob":    auth.RoleSubmitter,
		"cancelOcrInvoiceJob":    auth.RoleSubmitter,
		"retryOcrInvoiceJob":     auth.RoleSubmitter,
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
