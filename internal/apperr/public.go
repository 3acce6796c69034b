package apperr

import (
	"encoding/json"
	"net/http"
	"unicode/utf8"
)

// Public messages of the 5xx answers that do not carry an application message of their own.
const (
	MsgInternal    = "internal error"
	MsgUnavailable = "service unavailable, try again later"
)

// RetryAfterRateLimited is the Retry-After (seconds) of a 429 RATE_LIMITED answer whose
// writer did not compute one.
const RetryAfterRateLimited = 1

// Public is what a client is told about an error, the same on every surface that answers
// over HTTP (the REST envelope, the server's own refusals, GraphQL errors the server
// writes before gqlgen runs). It is chosen once, here: the message and details of an
// *Error of a client kind (4xx); for a 5xx answer never a cause: INTERNAL (and anything
// that is not an *Error) says MsgInternal, UNAVAILABLE the application's own short
// message or MsgUnavailable, and neither has details, so no SQL, driver message or stack
// can reach a body. The cause stays in err, for the log.
type Public struct {
	Status  int      // the HTTP status (HTTPStatus)
	Code    Kind     // the kind; KindInternal for every 5xx answer but UNAVAILABLE
	Message string   // safe to show
	Details []Detail // never nil: an empty array in JSON, always empty for 5xx
	// RetryAfter is the seconds a client should wait before trying again when the
	// writer has no better figure: RetryAfterUnavailable for 503, RetryAfterRateLimited
	// for 429, 0 for every other status.
	RetryAfter int
}

// PublicOf maps a non-nil err to what a client may see of it.
func PublicOf(err error) Public {
	p := Public{Status: HTTPStatus(err), Code: KindOf(err), Message: MsgInternal, Details: []Detail{}}
	e := As(err)
	switch {
	case p.Status < http.StatusInternalServerError && e != nil:
		p.Message = e.PublicMessage()
		if len(e.Details) > 0 {
			p.Details = e.Details
		}
	case p.Code == KindUnavailable && e != nil && e.Message != "":
		// Written by the application (e.g. "uploads are not available on this
		// server"); the cause (Err) stays in the log.
		p.Message = e.Message
	case p.Code == KindUnavailable:
		p.Message = MsgUnavailable
	default:
		p.Code = KindInternal
	}
	switch p.Status {
	case http.StatusServiceUnavailable:
		p.RetryAfter = RetryAfterUnavailable
	case http.StatusTooManyRequests:
		p.RetryAfter = RetryAfterRateLimited
	}
	return p
}

// GraphQLCode is the GraphQL extensions.code of p: BAD_USER_INPUT for invalid input (the
// code GraphQL clients know), otherwise the kind's name.
func (p Public) GraphQLCode() string { return graphQLCode(p.Code) }

func graphQLCode(k Kind) string {
	if k == KindInvalid {
		return "BAD_USER_INPUT"
	}
	return string(k)
}

// maxQuoted is the most bytes of a client-given string that Quote echoes.
const maxQuoted = 64

// Quote quotes a client-given string for an error message, as a JSON string: cut to its
// first 64 bytes (never inside a UTF-8 character) with "..." appended inside the quotes
// when it is longer, so that a huge parameter is not echoed back whole.
func Quote(s string) string {
	if len(s) > maxQuoted {
		cut := maxQuoted
		// A character is at most utf8.UTFMax bytes long: back up to its first byte
		// (not further, whatever invalid bytes s holds).
		for n := 1; n < utf8.UTFMax && !utf8.RuneStart(s[cut]); n++ {
			cut--
		}
		s = s[:cut] + "..."
	}
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}
