package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/httpjson"
	"github.com/ocrinvoice/ocrinvoice/internal/reqid"
)

// The error bodies the middleware answers with, in the shape of the surface a request
// addressed, so that a client's own error handling reads them: the REST envelope under
// /api/v1/ (apperr.Envelope, as internal/rest writes it), GraphQL errors at /graphql, and
// a plain error object elsewhere. Every one carries the request id; status, code, message
// and details are apperr.PublicOf's, as on every other surface.
type (
	graphQLErrorBody struct {
		Errors []graphQLError `json:"errors"`
	}
	graphQLError struct {
		Message    string            `json:"message"`
		Extensions graphQLExtensions `json:"extensions"`
	}
	graphQLExtensions struct {
		Code      string `json:"code"`
		RequestID string `json:"requestId"`
	}
	plainErrorBody struct {
		Error plainErrorInfo `json:"error"`
	}
	plainErrorInfo struct {
		Code      string `json:"code"`
		Message   string `json:"message"`
		RequestID string `json:"requestId"`
	}
)

// isREST reports whether path is under the REST API.
func isREST(path string) bool { return strings.HasPrefix(path, "/api/v1/") }

// writeError answers err (an *apperr.Error, e.g. apperr.Unauthenticated(msg)) with the
// error body of r's surface. A 429 or 503 carries Retry-After (apperr's figure unless
// the caller set one); a 401's challenge is the caller's to set.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := apperr.PublicOf(err)
	h := w.Header()
	h.Del("Content-Length")
	if p.RetryAfter > 0 && h.Get("Retry-After") == "" {
		h.Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	_ = httpjson.Write(w, p.Status, errorBody(r, p)) // plain structs of strings: cannot fail
}

// errorBody is the error body of p in the shape of r's surface.
func errorBody(r *http.Request, p apperr.Public) any {
	id := reqid.From(r.Context())
	switch {
	case isREST(r.URL.Path):
		return p.Envelope(id)
	case r.URL.Path == "/graphql":
		return graphQLErrorBody{Errors: []graphQLError{{Message: p.Message, Extensions: graphQLExtensions{Code: p.GraphQLCode(), RequestID: id}}}}
	default:
		return plainErrorBody{Error: plainErrorInfo{Code: string(p.Code), Message: p.Message, RequestID: id}}
	}
}
