package apperr

import (
	"context"
	"errors"
	"strings"
)

// MsgQueryTimeout is the message of a request whose database work ran past its
// deadline (OCRINVOICE_DB_STATEMENT_TIMEOUT for API requests). It is an UNAVAILABLE
// answer (HTTP 503 with Retry-After): the server refused to spend more time on it, the
// request itself may be fine. A client should narrow its filter (or page) or try later.
const MsgQueryTimeout = "the database query ran past its deadline (OCRINVOICE_DB_STATEMENT_TIMEOUT) and was cancelled: narrow the filter or try again later"

// QueryTimedOut reports whether err says a database statement was stopped by a deadline:
// the context's deadline, PostgreSQL's query_canceled (SQLSTATE 57014: statement_timeout,
// or the cancel request lib/pq sends when the context ends) or SQLite's "interrupted"
// (sqlite3_interrupt, which mattn/go-sqlite3 calls when the context ends).
func QueryTimedOut(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var st sqlStater
	if errors.As(err, &st) && st.SQLState() == "57014" {
		return true
	}
	msg := err.Error()
	return msg == "interrupted" || strings.HasSuffix(msg, ": interrupted")
}

// QueryTimeout is the UNAVAILABLE error of a query stopped by its deadline (err).
func QueryTimeout(err error) *Error {
	return &Error{Kind: KindUnavailable, Message: MsgQueryTimeout, Err: err}
}
