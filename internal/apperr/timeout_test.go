package apperr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/lib/pq"
	"github.com/mattn/go-sqlite3"
)

// TestQueryTimedOut: a statement stopped by its deadline (the context's, PostgreSQL's
// query_canceled, SQLite's interrupt) is not an outage nor an internal error: wrapped by
// Internal it answers 503 UNAVAILABLE with MsgQueryTimeout. Other errors keep their
// kinds.
func TestQueryTimedOut(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"context deadline", fmt.Errorf("count jobs: %w", context.DeadlineExceeded), true},
		{"pq query canceled 57014", &pq.Error{Code: "57014"}, true},
		{"sqlite interrupted", sqlite3.Error{Code: sqlite3.ErrInterrupt}, true},
		{"pq unique violation 23505", &pq.Error{Code: "23505"}, false},
		{"context canceled (client gone)", context.Canceled, false},
		{"plain error", errors.New("disk on fire"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := QueryTimedOut(tc.err); got != tc.want {
				t.Fatalf("QueryTimedOut(%v) = %v, want %v", tc.err, got, tc.want)
			}
			e := Internal(fmt.Errorf("list jobs: %w", tc.err))
			if !tc.want {
				if e.PublicMessage() == MsgQueryTimeout {
					t.Fatalf("Internal(%v) says the query timed out", tc.err)
				}
				return
			}
			if HTTPStatus(e) != http.StatusServiceUnavailable || e.Kind != KindUnavailable || e.PublicMessage() != MsgQueryTimeout {
				t.Fatalf("Internal(%v) = %d %s %q, want 503 UNAVAILABLE with the query timeout message", tc.err, HTTPStatus(e), e.Kind, e.PublicMessage())
			}
		})
	}
}
