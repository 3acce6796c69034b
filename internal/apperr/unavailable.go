package apperr

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
)

// RetryAfterUnavailable is the Retry-After (seconds) of a 503 UNAVAILABLE answer: how long
// a client should wait before it tries again when a dependency is down.
const RetryAfterUnavailable = 5

// msgDependencyDown is the public message of an error that DependencyDown recognises.
const msgDependencyDown = MsgUnavailable

// sqlStater is an error of a SQL driver that carries a SQLSTATE (lib/pq's *pq.Error,
// pgconn's *PgError).
type sqlStater interface{ SQLState() string }

// DependencyDown reports whether err says that a dependency (the database, Redis) could
// not be reached or dropped the connection, rather than that the request or the code is
// wrong:
//   - database/sql's driver.ErrBadConn and sql.ErrConnDone;
//   - network errors (*net.OpError, *net.DNSError: refused, reset, unreachable, dial and
//     read timeouts) and the errnos ECONNREFUSED, ECONNRESET, ECONNABORTED, EPIPE,
//     EHOSTUNREACH, ENETUNREACH;
//   - io.EOF and io.ErrUnexpectedEOF (a connection the peer closed while a driver read
//     from it);
//   - SQLSTATE class 08 (connection exception) and 57P01, 57P02, 57P03 (admin shutdown,
//     crash shutdown, cannot connect now);
//   - SQLite's "database is locked" (SQLITE_BUSY past the busy timeout);
//   - go-redis's "connection pool timeout" and a Redis that is still LOADING its data.
//
// It looks through the whole chain, so an *Error whose cause is such an error counts too.
func DependencyDown(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	for _, errno := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED,
		syscall.EPIPE, syscall.EHOSTUNREACH, syscall.ENETUNREACH} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var opErr *net.OpError
	var dnsErr *net.DNSError
	if errors.As(err, &opErr) || errors.As(err, &dnsErr) {
		return true
	}
	var st sqlStater
	if errors.As(err, &st) {
		switch code := st.SQLState(); {
		case strings.HasPrefix(code, "08"), code == "57P01", code == "57P02", code == "57P03":
			return true
		}
	}
	msg := err.Error()
	return strings.Contains(msg, "database is locked") ||
		strings.Contains(msg, "redis: connection pool timeout") ||
		strings.Contains(msg, "LOADING ")
}
