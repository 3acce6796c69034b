package apperr

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestEnvelope: the REST error body, byte for byte: details is an array (never null), and
// requestId is there exactly when the request has an id.
func TestEnvelope(t *testing.T) {
	tests := []struct {
		name      string
		p         Public
		requestID string
		want      string
	}{
		{"client error with id", PublicOf(Invalid("bad limit", Detail{Field: "limit", Message: "must be at most 100"})), "req-1",
			`{"success":false,"error":{"code":"INVALID","message":"bad limit","details":[{"field":"limit","message":"must be at most 100"}],"requestId":"req-1"}}`},
		{"internal without id", PublicOf(errors.New("pq: connection refused")), "",
			`{"success":false,"error":{"code":"INTERNAL","message":"internal error","details":[]}}`},
		{"nil details", Public{Code: KindNotFound, Message: "no such job"}, "r",
			`{"success":false,"error":{"code":"NOT_FOUND","message":"no such job","details":[],"requestId":"r"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.p.Envelope(tt.requestID))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
}
