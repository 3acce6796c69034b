// Package apperr is the one application error type of ocrinvoice. The domain core
// (internal/jobs) returns *Error values; what a client sees of one is chosen here:
// PublicOf gives the HTTP status, code, message and details that the REST adapter and
// the server's own refusals write, HTTPStatus and GraphQLCode the status and the GraphQL
// extensions.code. The cause (Err) is for logs only and is never shown to clients.
package apperr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// Kind classifies an application error.
type Kind string

// Kinds of application errors and the HTTP status each maps to.
const (
	KindInvalid              Kind = "INVALID"                // 400
	KindNotFound             Kind = "NOT_FOUND"              // 404
	KindGone                 Kind = "GONE"                   // 410
	KindConflict             Kind = "CONFLICT"               // 409
	KindFailedPrecondition   Kind = "FAILED_PRECONDITION"    // 422
	KindTooLarge             Kind = "TOO_LARGE"              // 413
	KindQuotaExceeded        Kind = "QUOTA_EXCEEDED"         // 413
	KindUnsupportedMediaType Kind = "UNSUPPORTED_MEDIA_TYPE" // 415
	KindUnavailable          Kind = "UNAVAILABLE"            // 503
	KindUnauthenticated      Kind = "UNAUTHENTICATED"        // 401
	KindForbidden            Kind = "FORBIDDEN"              // 403
	KindRateLimited          Kind = "RATE_LIMITED"           // 429
	KindInternal             Kind = "INTERNAL"               // 500
)

// Detail names one offending field (a contract name such as "jobNumber" or a path such
// as "filter.status.$foo") and says what is wrong with it.
type Detail struct {
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Error is an application error. Message and Details are safe to show to clients; Err is
// the underlying cause, for logs only.
type Error struct {
	Kind    Kind
	Message string
	Details []Detail
	Err     error
}

// Error returns the message, followed by the cause when there is one.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// PublicMessage is what a client may see: the message, or "internal error" for
// KindInternal whatever the message says.
func (e *Error) PublicMessage() string {
	if e.Kind == KindInternal || e.Kind == "" {
		return MsgInternal
	}
	return e.Message
}

// New returns an error of the given kind.
func New(kind Kind, msg string, details ...Detail) *Error {
	return &Error{Kind: kind, Message: msg, Details: details}
}

// Invalid is a client error in the input (400). Name the fields in details.
func Invalid(msg string, details ...Detail) *Error { return New(KindInvalid, msg, details...) }

// InvalidField is Invalid with one detail naming the field.
func InvalidField(field, msg string) *Error {
	return New(KindInvalid, fmt.Sprintf("invalid %s: %s", field, msg), Detail{Field: field, Message: msg})
}

// NotFound says the addressed object does not exist (404).
func NotFound(msg string, details ...Detail) *Error { return New(KindNotFound, msg, details...) }

// Gone says the addressed object existed and was deleted on purpose, e.g. a document past
// its retention period (410); asking again will not bring it back.
func Gone(msg string, details ...Detail) *Error { return New(KindGone, msg, details...) }

// Conflict says the change collides with existing data, e.g. a duplicate jobNumber (409).
func Conflict(msg string, details ...Detail) *Error { return New(KindConflict, msg, details...) }

// FailedPrecondition says the object's state forbids the change (422).
func FailedPrecondition(msg string, details ...Detail) *Error {
	return New(KindFailedPrecondition, msg, details...)
}

// TooLarge says the request body or document is over a limit (413).
func TooLarge(msg string) *Error { return New(KindTooLarge, msg) }

// QuotaExceeded says that what the caller's owner keeps would go over one of its quotas
// (e.g. the bytes or the number of its uploads) if the request were carried out (413,
// code QUOTA_EXCEEDED: unlike TOO_LARGE, the request alone is within the limits). Name
// the quota and the usage in msg.
func QuotaExceeded(msg string, details ...Detail) *Error {
	return New(KindQuotaExceeded, msg, details...)
}

// UnsupportedMediaType says the request's content type is not accepted (415).
func UnsupportedMediaType(msg string) *Error { return New(KindUnsupportedMediaType, msg) }

// Unavailable says a dependency is down; the client may retry later (503).
func Unavailable(msg string, err error) *Error {
	return &Error{Kind: KindUnavailable, Message: msg, Err: err}
}

// Unauthenticated is a request without a valid API key (401).
func Unauthenticated(msg string) *Error { return New(KindUnauthenticated, msg) }

// Forbidden is a request whose API key's role may not do what it asks (403). A
// resource the caller may not see at all is NotFound instead, so that its existence
// is not revealed.
func Forbidden(msg string) *Error { return New(KindForbidden, msg) }

// RateLimited is a request over its API key's rate or concurrency limit (429).
func RateLimited(msg string) *Error { return New(KindRateLimited, msg) }

// Internal wraps an unexpected error (500). Clients see "internal error" only. An error
// that says a dependency is down (DependencyDown) is not unexpected: it becomes
// Unavailable (503) instead, so that every place that wraps database or Redis errors
// answers an outage honestly; so does a query stopped by its deadline (QueryTimedOut),
// answered with MsgQueryTimeout.
func Internal(err error) *Error {
	if QueryTimedOut(err) {
		return QueryTimeout(err)
	}
	if DependencyDown(err) {
		return Unavailable(msgDependencyDown, err)
	}
	return &Error{Kind: KindInternal, Message: MsgInternal, Err: err}
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// KindOf returns the kind of err: the kind of the *Error in its chain, KindUnavailable
// for context cancellation and deadlines and for a dependency that is down
// (DependencyDown), and KindInternal for anything else. It
// returns "" for a nil error.
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	if e := As(err); e != nil && e.Kind != "" {
		return e.Kind
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || DependencyDown(err) {
		return KindUnavailable
	}
	return KindInternal
}

// HTTPStatus maps err to an HTTP status code (200 for nil).
func HTTPStatus(err error) int {
	switch KindOf(err) {
	case "":
		return http.StatusOK
	case KindInvalid:
		return http.StatusBadRequest
	case KindNotFound:
		return http.StatusNotFound
	case KindConflict:
		return http.StatusConflict
	case KindGone:
		return http.StatusGone
	case KindFailedPrecondition:
		return http.StatusUnprocessableEntity
	case KindTooLarge, KindQuotaExceeded:
		return http.StatusRequestEntityTooLarge
	case KindUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case KindUnavailable:
		return http.StatusServiceUnavailable
	case KindUnauthenticated:
		return http.StatusUnauthorized
	case KindForbidden:
		return http.StatusForbidden
	case KindRateLimited:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}

// GraphQLCode maps err to the GraphQL extensions.code: BAD_USER_INPUT for invalid input
// (the code GraphQL clients know), otherwise the kind's name.
func GraphQLCode(err error) string {
	return graphQLCode(KindOf(err))
}
