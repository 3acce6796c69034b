package server

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/ocrinvoice/ocrinvoice/internal/apperr"
	"github.com/ocrinvoice/ocrinvoice/internal/reqid"
)

// The error bodies the middleware answers with, in the shape of the surface a request
// addressed, so that a client's own error handling reads them: the REST envelope under
// /api/v1/ (as internal/rest writes it), GraphQL errors at /graphql, and a plain error
// object elsewhere. Every one carries the request id.
type (
	restErrorBody struct {
		Success bool          `json:"success"`
		Error   restErrorInfo `json:"error"`
	}
	restErrorInfo struct {
		Code      string     `json:"code"`
		Message   string     `json:"message"`
		Details   []struct{} `json:"details"` // always empty here, never null
		RequestID string     `json:"requestId"`
	}
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

// writeError answers status with an error body of code (an apperr kind, e.g.
// "UNAUTHENTICATED") and a message safe to show. A 503 carries Retry-After
// (apperr.RetryAfterUnavailable unless the caller set one).
func writeError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	id := reqid.From(r.Context())
	var body any
	switch {
	case isREST(r.URL.Path):
		body = restErrorBody{Error: restErrorInfo{Code: code, Message: message, Details: []struct{}{}, RequestID: id}}
	case r.URL.Path == "/graphql":
		body = graphQLErrorBody{Errors: []graphQLError{{Message: message, Extensions: graphQLExtensions{Code: code, RequestID: id}}}}
	default:
		body = plainErrorBody{Error: plainErrorInfo{Code: code, Message: message, RequestID: id}}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body) // plain structs of strings: cannot fail
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	if status == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
		h.Set("Retry-After", strconv.Itoa(apperr.RetryAfterUnavailable))
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
