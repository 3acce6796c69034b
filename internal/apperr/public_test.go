package apperr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPublicOf(t *testing.T) {
	cause := errors.New(`pq: relation "ocr_invoice_jobs" does not exist`)
	detail := Detail{Field: "jobNumber", Message: "must not be empty"}
	tests := []struct {
		name string
		err  error
		want Public
	}{
		{"client kind shows message and details", fmt.Errorf("create: %w", Invalid("bad body", detail)),
			Public{http.StatusBadRequest, KindInvalid, "bad body", []Detail{detail}, 0}},
		{"client kind without details", NotFound("job not found"),
			Public{http.StatusNotFound, KindNotFound, "job not found", []Detail{}, 0}},
		{"unauthenticated", Unauthenticated("unknown API key"),
			Public{http.StatusUnauthorized, KindUnauthenticated, "unknown API key", []Detail{}, 0}},
		{"rate limited", RateLimited("slow down"),
			Public{http.StatusTooManyRequests, KindRateLimited, "slow down", []Detail{}, RetryAfterRateLimited}},
		{"unavailable keeps its own message, not details", &Error{Kind: KindUnavailable, Message: "queue down", Err: cause, Details: []Detail{detail}},
			Public{http.StatusServiceUnavailable, KindUnavailable, "queue down", []Detail{}, RetryAfterUnavailable}},
		{"unavailable without a message", &Error{Kind: KindUnavailable, Err: cause},
			Public{http.StatusServiceUnavailable, KindUnavailable, MsgUnavailable, []Detail{}, RetryAfterUnavailable}},
		{"deadline", fmt.Errorf("%v: %w", cause, context.DeadlineExceeded),
			Public{http.StatusServiceUnavailable, KindUnavailable, MsgUnavailable, []Detail{}, RetryAfterUnavailable}},
		{"internal hides message and details", &Error{Kind: KindInternal, Message: cause.Error(), Details: []Detail{detail}},
			Public{http.StatusInternalServerError, KindInternal, MsgInternal, []Detail{}, 0}},
		{"unknown kind is internal", &Error{Kind: "WEIRD", Message: "SELECT 1"},
			Public{http.StatusInternalServerError, KindInternal, MsgInternal, []Detail{}, 0}},
		{"plain error is internal", cause,
			Public{http.StatusInternalServerError, KindInternal, MsgInternal, []Detail{}, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PublicOf(tt.err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PublicOf = %+v, want %+v", got, tt.want)
			}
		})
	}
	if got := PublicOf(Invalid("x")).GraphQLCode(); got != "BAD_USER_INPUT" {
		t.Errorf("GraphQLCode of INVALID = %q", got)
	}
	if got := PublicOf(Forbidden("x")).GraphQLCode(); got != "FORBIDDEN" {
		t.Errorf("GraphQLCode of FORBIDDEN = %q", got)
	}
}

// TestQuoteNeverCutsCharacter: whatever the characters around byte 64, the shortened
// string is valid UTF-8, keeps every whole character before the cut and marks the cut.
func TestQuoteNeverCutsCharacter(t *testing.T) {
	for _, ch := range []string{"a", "é", "€", "𝄞"} { // 1, 2, 3 and 4 bytes
		for pad := 0; pad < 4; pad++ {
			s := strings.Repeat("x", pad) + strings.Repeat(ch, 80)
			q := Quote(s)
			var got string
			if err := json.Unmarshal([]byte(q), &got); err != nil {
				t.Fatalf("Quote(%q) = %s: not a JSON string: %v", s, q, err)
			}
			if !utf8.ValidString(got) || strings.ContainsRune(got, utf8.RuneError) {
				t.Errorf("Quote cut a character: %q", got)
			}
			kept, ok := strings.CutSuffix(got, "...")
			if !ok || !strings.HasPrefix(s, kept) || len(kept) > maxQuoted || len(kept) <= maxQuoted-utf8.UTFMax {
				t.Errorf("Quote(%d x %q after %d) kept %d bytes %q, want the whole characters of the first %d bytes and ...",
					80, ch, pad, len(kept), got, maxQuoted)
			}
		}
	}
	if got := Quote(`short "<&>"`); got != `"short \"\u003c\u0026\u003e\""` {
		t.Errorf("Quote of a short string = %s", got)
	}
	if got := Quote(strings.Repeat("b", maxQuoted)); got != `"`+strings.Repeat("b", maxQuoted)+`"` {
		t.Errorf("Quote of exactly %d bytes = %s, want it whole", maxQuoted, got)
	}
}
