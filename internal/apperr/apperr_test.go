package apperr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestMapping(t *testing.T) {
	cause := errors.New("disk on fire")
	tests := []struct {
		name       string
		err        error
		kind       Kind
		status     int
		code       string
		publicMsg  string
		wantsCause bool
	}{
		{"invalid", InvalidField("jobNumber", "must not be empty"), KindInvalid, http.StatusBadRequest, "BAD_USER_INPUT", "invalid jobNumber: must not be empty", false},
		{"wrapped not found", fmt.Errorf("get job: %w", NotFound("job not found")), KindNotFound, http.StatusNotFound, "NOT_FOUND", "job not found", false},
		{"conflict", Conflict("duplicate"), KindConflict, http.StatusConflict, "CONFLICT", "duplicate", false},
		{"precondition", FailedPrecondition("bad state"), KindFailedPrecondition, http.StatusUnprocessableEntity, "FAILED_PRECONDITION", "bad state", false},
		{"too large", TooLarge("big"), KindTooLarge, http.StatusRequestEntityTooLarge, "TOO_LARGE", "big", false},
		{"quota", QuotaExceeded("over quota"), KindQuotaExceeded, http.StatusRequestEntityTooLarge, "QUOTA_EXCEEDED", "over quota", false},
		{"media", UnsupportedMediaType("xml"), KindUnsupportedMediaType, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "xml", false},
		{"unavailable", Unavailable("redis down", cause), KindUnavailable, http.StatusServiceUnavailable, "UNAVAILABLE", "redis down", true},
		{"internal hides message", Internal(cause), KindInternal, http.StatusInternalServerError, "INTERNAL", "internal error", true},
		{"plain error is internal", cause, KindInternal, http.StatusInternalServerError, "INTERNAL", "", true},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), KindUnavailable, http.StatusServiceUnavailable, "UNAVAILABLE", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.kind {
				t.Errorf("KindOf = %q, want %q", got, tt.kind)
			}
			if got := HTTPStatus(tt.err); got != tt.status {
				t.Errorf("HTTPStatus = %d, want %d", got, tt.status)
			}
			if got := GraphQLCode(tt.err); got != tt.code {
				t.Errorf("GraphQLCode = %q, want %q", got, tt.code)
			}
			if e := As(tt.err); e != nil {
				if got := e.PublicMessage(); got != tt.publicMsg {
					t.Errorf("PublicMessage = %q, want %q", got, tt.publicMsg)
				}
			}
			if got := errors.Is(tt.err, cause); got != tt.wantsCause {
				t.Errorf("errors.Is(cause) = %v, want %v", got, tt.wantsCause)
			}
		})
	}
	if KindOf(nil) != "" || HTTPStatus(nil) != http.StatusOK {
		t.Error("nil error must have no kind and status 200")
	}
}
